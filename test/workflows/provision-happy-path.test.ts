import { TAG_TENANT } from '../../functions/domain/naming';
import { OpenClawConfigSchema } from '../../functions/domain/openclaw-config';
import { LOCAL_CELL } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { executionsOf, provision } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

describe('provision workflow: one signup to an ACTIVE, isolated gateway', () => {
  const tenantId = 'acme-robotics';

  beforeAll(async () => {
    await provision(cloud, tenantId, {
      egressAllowlist: [
        { cidr: '203.0.113.0/24', ports: [443], description: 'CRM' },
        { cidr: '2001:db8:1234::/48', ports: [{ from: 8443, to: 8444 }] },
      ],
    });
  });

  it('ends ACTIVE with uid/gid, every resource id recorded and no error', async () => {
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'ACTIVE', cell: 'local', generation: 1, plan: 'standard' });
    expect(record?.uid).toBeGreaterThan(LOCAL_CELL.uidBase);
    expect(record?.gid).toBe(record?.uid);
    expect(record?.lastError).toBeUndefined();
    expect(Object.keys(record?.resources ?? {}).sort()).toEqual(
      ['accessPointArn', 'accessPointId', 'inferenceProfiles', 'logGroupName', 'proxySecretArn', 'roleArn', 'roleCreatedAt', 'roleName', 'secretArn', 'securityGroupId', 'serviceArn', 'taskDefinitionArn'].sort(),
    );
    expect(Object.keys(record?.transitions ?? {}).sort()).toEqual(['ACTIVE', 'PROVISIONING', 'REQUESTED']);
    expect(executionsOf(cloud, tenantId).map((e) => e.status)).toEqual(['SUCCEEDED']);
  });

  it('creates a security group with no ingress whose egress is exactly the platform rules plus the allowlist', async () => {
    const record = await cloud.tenant(tenantId);
    const sg = cloud.fake.securityGroup(record!.resources.securityGroupId!)!;
    expect(sg.groupName).toBe(`octw-local--${tenantId}`);
    expect(sg.vpcId).toBe(LOCAL_CELL.vpcId);
    expect(sg.tags.get(TAG_TENANT)).toBe(tenantId);
    expect(sg.rules.filter((r) => !r.isEgress)).toEqual([]);
    const egress = sg.rules
      .map((r) => `${r.ipProtocol} ${r.fromPort}-${r.toPort} ${r.cidrIpv4 ?? r.cidrIpv6 ?? r.prefixListId ?? r.referencedGroupId}`)
      .sort();
    expect(egress).toEqual(
      [
        'tcp 2049-2049 ' + process.env.EFS_SECURITY_GROUP_ID,
        'tcp 443-443 ' + process.env.ENDPOINTS_SECURITY_GROUP_ID,
        'tcp 443-443 pl-63a5400a',
        // The egress proxy's load balancer group on its port (issue 10): the only route to the internet by host name.
        'tcp 3128-3128 ' + cloud.fake.securityGroup('octw-local-egress-proxy-lb')!.groupId,
        'tcp 443-443 203.0.113.0/24',
        'tcp 8443-8444 2001:db8:1234::/48',
      ].sort(),
    );
  });

  it('creates the access point at /tenants/<id> with the tenant uid/gid and mode 0700', async () => {
    const record = await cloud.tenant(tenantId);
    const ap = cloud.fake.accessPoint(record!.resources.accessPointId!)!;
    expect(ap.fileSystemId).toBe(LOCAL_CELL.fileSystemId);
    expect(ap.rootDirectory).toEqual({
      Path: `/tenants/${tenantId}`,
      CreationInfo: { OwnerUid: record!.uid, OwnerGid: record!.gid, Permissions: '0700' },
    });
    expect(ap.posixUser).toEqual({ Uid: record!.uid, Gid: record!.gid });
  });

  it('creates a task role under /octw/tenants/ with the boundary, a conditioned trust and a policy naming only its own resources', async () => {
    const role = cloud.fake.role(`octw-local--${tenantId}`)!;
    const record = await cloud.tenant(tenantId);
    expect(role.path).toBe('/octw/tenants/');
    expect(role.permissionsBoundary).toBe(LOCAL_CELL.permissionsBoundaryArn);
    const trust = JSON.parse(role.assumeRolePolicyDocument) as { Statement: { Principal: unknown; Condition: Record<string, Record<string, string | string[]>> }[] };
    expect(trust.Statement[0]?.Principal).toEqual({ Service: 'ecs-tasks.amazonaws.com' });
    expect(trust.Statement[0]?.Condition.StringEquals?.['aws:SourceAccount']).toBe(LOCAL_CELL.account);
    // Tasks of the cell's own cluster only (issue 8, finding 8), not any ECS resource of the account.
    expect(trust.Statement[0]?.Condition.ArnLike?.['aws:SourceArn']).toEqual([
      `arn:aws:ecs:${LOCAL_CELL.region}:${LOCAL_CELL.account}:task/${LOCAL_CELL.clusterName}/*`,
      `${LOCAL_CELL.clusterArn}`,
    ]);
    const policy = role.policies.get(`octw-local--${tenantId}`)!;
    expect(policy).toContain(record!.resources.accessPointArn!);
    expect(policy).toContain(`secret:octw/tenants/local/${tenantId}/gateway-token-??????`);
    expect(policy).toContain('foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(policy).not.toMatch(/"Action":\s*"\*"|"Resource":\s*"\*"/);
  });

  it('stores a random 64-hex-character gateway token in its own secret', () => {
    const secret = cloud.fake.secret(`octw/tenants/local/${tenantId}/gateway-token`)!;
    expect(secret.secretString).toMatch(/^[0-9a-f]{64}$/);
    expect(secret.tags.get(TAG_TENANT)).toBe(tenantId);
  });

  it('registers a hardened task definition whose rendered openclaw.json is valid and has no secret in it', async () => {
    const td = cloud.fake.taskDefinition(`octw-local--${tenantId}`)!;
    const record = await cloud.tenant(tenantId);
    expect(td.arn).toBe(record!.resources.taskDefinitionArn);
    const gateway = td.input.containerDefinitions!.find((c) => c.name === 'gateway')!;
    // The access point's PosixUser, not the image's uid 1000 (OpenClaw refuses state owned by another uid).
    expect(gateway.user).toBe(`${record!.uid}:${record!.gid}`);
    expect(cloud.fake.accessPoint(record!.resources.accessPointId!)!.posixUser).toEqual({ Uid: record!.uid, Gid: record!.gid });
    expect(gateway.readonlyRootFilesystem).toBe(true);
    expect(gateway.linuxParameters?.capabilities?.drop).toEqual(['ALL']);
    expect(gateway.secrets?.[0]?.valueFrom).toBe(record!.resources.secretArn);
    const init = td.input.containerDefinitions!.find((c) => c.name === 'config-init')!;
    const rendered = init.environment!.find((e) => e.name === 'OPENCLAW_CONFIG_JSON')!.value!;
    expect(() => OpenClawConfigSchema.parse(JSON.parse(rendered))).not.toThrow();
    expect(rendered).not.toContain(cloud.fake.secret(`octw/tenants/local/${tenantId}/gateway-token`)!.secretString);
    expect(td.input.volumes?.find((v) => v.name === 'state')?.efsVolumeConfiguration?.authorizationConfig?.accessPointId).toBe(
      record!.resources.accessPointId,
    );
  });

  it('runs one task in private subnets with no public IP, the circuit breaker on and ECS Exec off', () => {
    const svc = cloud.fake.ecsService(`octw-local--${tenantId}`)!;
    expect(svc.status).toBe('ACTIVE');
    expect(svc.desiredCount).toBe(1);
    expect(svc.networkConfiguration?.awsvpcConfiguration).toMatchObject({
      assignPublicIp: 'DISABLED',
      subnets: [...LOCAL_CELL.subnetIds],
    });
    expect(svc.deploymentConfiguration.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
    expect((svc.request as { enableExecuteCommand?: boolean }).enableExecuteCommand).toBe(false);
  });

  it('appends an audit item per transition and emits TenantProvisioningStarted then TenantActive', async () => {
    const audit = await cloud.store.listAudit(tenantId);
    expect(audit.map((a) => `${a.from}->${a.to}`).reverse()).toEqual(['-->REQUESTED', 'REQUESTED->PROVISIONING', 'PROVISIONING->ACTIVE']);
    const lifecycle = cloud.bus.events
      .filter((e) => e.source === LOCAL_CELL.eventSource && (e.detail as { tenantId?: string }).tenantId === tenantId)
      .map((e) => e['detail-type']);
    expect(lifecycle).toEqual(['TenantProvisioningStarted', 'TenantActive']);
  });
});

describe('tenant census (the dashboard metric "tenants by status")', () => {
  it('counts the tenants in each status from the byStatus index', async () => {
    await provision(cloud, 'census-one');
    const { handler } = await import('../../functions/handlers/lifecycle');
    const out = (await handler({ action: 'census' }, lambdaContextFor('Lifecycle', 'census-1'))) as { counts: Record<string, number> };
    expect(out.counts.ACTIVE).toBe(2);
    expect(out.counts.FAILED).toBe(0);
    expect(Object.keys(out.counts)).toHaveLength(11);
  });
});
