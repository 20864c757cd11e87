import { cidrsOverlap, parseCidr } from '../../functions/domain/allowlist';
import { LOCAL_CELL } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { signupFor } from './support';

/**
 * Many tenants provisioned at once, then the isolation invariants checked across all of them, read
 * back from the fake rather than from what the handlers returned.
 */
const TENANTS = Array.from({ length: 24 }, (_, i) => `iso-tenant-${String(i).padStart(2, '0')}`);
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud();
  await Promise.all(
    TENANTS.map((id, i) =>
      cloud.signup(
        signupFor(id, {
          plan: i % 2 ? 'pro' : 'standard',
          egressAllowlist: [{ cidr: `198.51.100.${i * 8}/29`, ports: [443], description: `peer ${i}` }],
        }),
      ),
    ),
  );
  await cloud.settle();
}, 120_000);
afterAll(async () => {
  await cloud.stop();
});

const records = () => Promise.all(TENANTS.map(async (id) => (await cloud.tenant(id))!));
const vpc = parseCidr(LOCAL_CELL.vpcCidr);

describe('isolation invariants over many tenants provisioned together', () => {
  it('provisions every tenant', async () => {
    expect((await records()).map((r) => r.status)).toEqual(TENANTS.map(() => 'ACTIVE'));
  });

  it('gives every tenant its own uid/gid and its own root directory', async () => {
    const rs = await records();
    expect(new Set(rs.map((r) => r.uid)).size).toBe(TENANTS.length);
    const aps = rs.map((r) => cloud.fake.accessPoint(r.resources.accessPointId!)!);
    expect(new Set(aps.map((a) => a.rootDirectory?.Path)).size).toBe(TENANTS.length);
    for (const [i, ap] of aps.entries()) {
      expect(ap.rootDirectory?.Path).toBe(`/tenants/${rs[i]!.tenantId}`);
      expect(ap.posixUser?.Uid).toBe(rs[i]!.uid);
    }
  });

  it('lets no security group reach the VPC, the whole internet, or receive traffic', async () => {
    // EFS, the VPC endpoints and the egress proxy's load balancer (issue 10): no other group, never another tenant's.
    const platformGroups = new Set([process.env.EFS_SECURITY_GROUP_ID, process.env.ENDPOINTS_SECURITY_GROUP_ID, cloud.fake.securityGroup('octw-local-egress-proxy-lb')?.groupId]);
    for (const r of await records()) {
      const sg = cloud.fake.securityGroup(r.resources.securityGroupId!)!;
      expect(sg.rules.filter((rule) => !rule.isEgress)).toEqual([]);
      for (const rule of sg.rules) {
        expect(rule.ipProtocol).not.toBe('-1');
        if (rule.referencedGroupId) expect(platformGroups.has(rule.referencedGroupId)).toBe(true);
        const cidr = rule.cidrIpv4 ?? rule.cidrIpv6;
        if (cidr) {
          const parsed = parseCidr(cidr);
          expect(parsed.ok).toBe(true);
          if (parsed.ok && vpc.ok) expect(cidrsOverlap(parsed.cidr, vpc.cidr)).toBe(false);
          expect(['0.0.0.0/0', '::/0']).not.toContain(cidr);
        }
      }
    }
  });

  it("names only the tenant's own access point and secret in each role policy, and every role has the boundary", async () => {
    const rs = await records();
    const allAccessPoints = rs.map((r) => r.resources.accessPointArn!);
    for (const r of rs) {
      const role = cloud.fake.role(`octw-local--${r.tenantId}`)!;
      expect(role.permissionsBoundary).toBe(LOCAL_CELL.permissionsBoundaryArn);
      expect(role.path).toBe('/octw/tenants/');
      const policy = role.policies.get(`octw-local--${r.tenantId}`)!;
      for (const other of allAccessPoints) expect(policy.includes(other)).toBe(other === r.resources.accessPointArn);
      const secrets = [...policy.matchAll(/secret:octw\/tenants\/local\/([a-z0-9-]+)\//g)].map((m) => m[1]);
      expect(secrets).toEqual([r.tenantId]);
    }
  });

  it('runs no task with a public IP, ECS Exec, a writable root file system or a root user in a long-running container', async () => {
    for (const r of await records()) {
      const svc = cloud.fake.ecsService(`octw-local--${r.tenantId}`)!;
      expect(svc.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('DISABLED');
      expect((svc.request as { enableExecuteCommand?: boolean }).enableExecuteCommand).toBe(false);
      const td = cloud.fake.taskDefinition(`octw-local--${r.tenantId}`)!;
      for (const c of td.input.containerDefinitions ?? []) {
        expect(c.readonlyRootFilesystem).toBe(true);
        expect(c.privileged).toBe(false);
        expect(c.linuxParameters?.capabilities?.drop).toEqual(['ALL']);
        // The gateway runs as the uid/gid its access point presents (unique per tenant, never 0).
        // The only uid-0 container is the non-essential config-init, which has only CAP_CHOWN,
        // no secret and exits before the gateway starts (it must own the task-local volumes).
        // plugin-init (install records on the state volume) runs as the tenant, with no capability.
        if (c.essential !== false || c.name === 'plugin-init') {
          expect(r.uid).toBeGreaterThan(0);
          expect(c.user).toBe(`${r.uid}:${r.gid}`);
          if (c.name === 'plugin-init') expect([c.linuxParameters?.capabilities?.add ?? [], c.secrets ?? []]).toEqual([[], []]);
        }
        else expect([c.name, c.secrets ?? []]).toEqual(['config-init', []]);
      }
    }
  });
});
