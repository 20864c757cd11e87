/**
 * The ingress invariant (issue 12) on the wired workflows: many tenants provisioned, suspended,
 * resumed and deprovisioned concurrently through the real ASL and handlers. After every phase:
 * every rule has exactly one host, is tagged for that host's tenant and forwards only to that
 * tenant's target group; priorities are unique per listener; and through the stand-in ALB a
 * tenant's token opens only its own host (another tenant's host refuses it).
 */
import { nodeProbeTransport } from '../../functions/adapters/ingress-sdk';
import { names } from '../../functions/domain/naming';
import { LOCAL_INGRESS_DOMAIN, startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision, runWorkflow } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  // Small shards (4 rules each) so that placement spills over and shards fill up under concurrency.
  cloud = await startLocalCloud({ ingress: { shards: 3, rulesPerShard: 4 } });
});
afterAll(async () => {
  await cloud.stop();
});

const TENANTS = ['inv-alpha', 'inv-bravo', 'inv-charlie', 'inv-delta', 'inv-echo', 'inv-foxtrot', 'inv-golf', 'inv-hotel', 'inv-india', 'inv-juliet'];
const host = (t: string) => `${t}.${LOCAL_INGRESS_DOMAIN}`;
const token = (t: string) => cloud.fake.secret(names.secret({ cell: 'local', tenantId: t }))?.secretString ?? 'none';
const status = async (t: string, asHost: string, bearer: string) =>
  (
    await nodeProbeTransport({
      origin: cloud.ingress!.alb!.origin,
      hostname: asHost,
      path: '/tools/invoke',
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{"tool":"session_status","args":{}}',
    })
  ).status;

function expectRulesSound(): void {
  const rules = [...cloud.fake.ingress.elb.rules.values()];
  for (const listener of new Set(rules.map((r) => r.listenerArn))) {
    const priorities = rules.filter((r) => r.listenerArn === listener).map((r) => r.priority);
    expect(new Set(priorities).size).toBe(priorities.length);
  }
  for (const r of rules) {
    const tenant = r.tags.get('octw:tenant')!;
    expect(r.conditions.filter((c) => c.Field === 'host-header').flatMap((c) => c.HostHeaderConfig?.Values ?? [])).toEqual([host(tenant)]);
    for (const a of r.actions.filter((x) => x.Type === 'forward')) {
      expect(cloud.fake.ingress.elb.targetGroups.get(a.TargetGroupArn!)?.tags.get('octw:tenant')).toBe(tenant);
    }
  }
  const hosts = rules.flatMap((r) => r.conditions.flatMap((c) => c.HostHeaderConfig?.Values ?? []));
  expect(new Set(hosts).size).toBe(hosts.length);
}

async function expectOnlyOwnHost(active: readonly string[]): Promise<void> {
  for (const t of active) expect(await status(t, host(t), token(t))).toBe(404);
  // Every other tenant's token is refused on t's host: a hostname never reaches another tenant's gateway.
  for (const [i, t] of active.entries()) {
    const other = active[(i + 1) % active.length]!;
    if (other !== t) expect(await status(t, host(t), token(other))).toBe(401);
  }
}

describe('ingress invariant under concurrent workflows', () => {
  it('concurrent provisioning: every tenant placed (spilling over shards), rules sound, each token opens only its own host', async () => {
    const records = await Promise.all(TENANTS.map((t) => provision(cloud, t)));
    expect(records.map((r) => r?.status)).toEqual(TENANTS.map(() => 'ACTIVE'));
    expect(new Set(records.map((r) => r?.ingress?.shardId)).size).toBe(3);
    expectRulesSound();
    await expectOnlyOwnHost(TENANTS);
  }, 180_000);

  it('concurrent suspend, resume and deprovision: rules stay sound; removed hosts route nowhere, suspended ones show maintenance', async () => {
    const [leaving, pausing, cycling] = [TENANTS.slice(0, 4), TENANTS.slice(4, 7), TENANTS.slice(7)];
    const runs = await Promise.all([
      ...leaving.map((t) => runWorkflow(cloud, 'DeprovisionTenant', { tenantId: t })),
      ...pausing.map((t) => runWorkflow(cloud, 'SuspendTenant', { tenantId: t })),
      ...cycling.map(async (t) => {
        const s = await runWorkflow(cloud, 'SuspendTenant', { tenantId: t });
        return s.status === 'SUCCEEDED' ? runWorkflow(cloud, 'ResumeTenant', { tenantId: t }) : s;
      }),
    ]);
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'SUCCEEDED'));
    expectRulesSound();
    for (const t of leaving) expect(await status(t, host(t), token(t))).toBe(502);
    for (const t of pausing) expect(await status(t, host(t), token(t))).toBe(503);
    await expectOnlyOwnHost(cycling);
    // Freed room is reused: new tenants are placed, with unique priorities.
    const late = await Promise.all(['inv-kilo', 'inv-lima', 'inv-mike'].map((t) => provision(cloud, t)));
    expect(late.map((r) => r?.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
    expectRulesSound();
    await expectOnlyOwnHost([...cycling, 'inv-kilo', 'inv-lima', 'inv-mike']);
  }, 180_000);
});
