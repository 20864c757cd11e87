/**
 * Issue 12 end to end in the local cloud, ingress on: the real ASL and handlers against the AWS
 * fake's ELBv2 / Route 53 / EC2 / ECS, the activation handshake through the fake's listener rules
 * (ingress/fake-alb.ts answers from the fake's state: DNS record → shard → rules → target group →
 * registered task → token check against the tenant's secret).
 */
import { nodeProbeTransport } from '../../functions/adapters/ingress-sdk';
import { IngressPlacementSchema, STAGING_HEADER } from '../../functions/domain/ingress';
import { names } from '../../functions/domain/naming';
import { OpenClawConfigSchema } from '../../functions/domain/openclaw-config';
import { LOCAL_INGRESS_CIDRS, LOCAL_INGRESS_DOMAIN, LOCAL_INGRESS_ZONE_ID, startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision, runWorkflow } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud({ ingress: { shards: 2, rulesPerShard: 3 } });
});
afterAll(async () => {
  await cloud.stop();
});

const host = (tenantId: string) => `${tenantId}.${LOCAL_INGRESS_DOMAIN}`;

/** Where a request for `tenantId`'s host goes, as the cell's ALB shard (the one its DNS record names) decides. */
function routeOf(tenantId: string, headers: Record<string, string> = {}) {
  const record = cloud.fake.ingress.route53.record(LOCAL_INGRESS_ZONE_ID, host(tenantId));
  const shard = cloud.ingress!.settings.shards.find((s) => record?.AliasTarget?.DNSName === `dualstack.${s.dnsName}.`);
  if (!shard) return { kind: 'no-dns' as const };
  return cloud.fake.ingress.elb.route(shard.listenerArn, host(tenantId), headers);
}

/** A request to the tenant's host through the stand-in ALB with a bearer token. */
async function ask(tenantId: string, token: string, asHost = host(tenantId)) {
  return nodeProbeTransport({
    origin: cloud.ingress!.alb!.origin,
    hostname: asHost,
    path: '/tools/invoke',
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool: 'session_status', args: {} }),
  });
}

const tokenOf = (tenantId: string) => cloud.fake.secret(names.secret({ cell: 'local', tenantId }))!.secretString!;
const targetsOf = (tgArn: string) => [...(cloud.fake.ingress.elb.targetGroups.get(tgArn)?.targets.keys() ?? [])];
const runningTaskIps = (tenantId: string) =>
  cloud.fake.ecs.tasks.filter((t) => t.serviceName === `octw-local--${tenantId}` && t.stoppedAt === undefined).map((t) => t.eni.privateIp);

describe('ingress wired into the workflows (local cloud, ingress on)', () => {
  const tenantId = 'harbor-light';

  it('provision: staging route before the service, authenticated handshake through it, then live; ACTIVE with the placement recorded', async () => {
    const record = await provision(cloud, tenantId);
    expect(record?.status).toBe('ACTIVE');
    const placement = IngressPlacementSchema.parse(record?.ingress);
    expect(placement).toMatchObject({ shardId: 'alb-1', hostname: host(tenantId), mode: 'live' });
    expect(placement.stagingToken).toBeUndefined();

    // The order the issue asks for: route (staging) → service → healthy → handshake → live → ACTIVE.
    const steps = cloud.fake.calls
      .filter((c) => c.invocation?.executionName?.includes(tenantId) && ['CreateRule', 'ModifyRule', 'CreateService'].includes(c.operation))
      .map((c) => `${c.operation}:${c.invocation?.stateName}`);
    expect(steps).toEqual(['CreateRule:PrepareRoute', 'CreateService:CreateService', 'ModifyRule:OpenRoute']);
    const created = cloud.fake.calls.find((c) => c.operation === 'CreateRule' && c.invocation?.executionName?.includes(tenantId))!;
    expect(JSON.stringify(created.input)).toContain(STAGING_HEADER);

    // Live: the host alone reaches the tenant's target group, where ECS registered its running task.
    const route = routeOf(tenantId);
    expect(route).toMatchObject({ kind: 'forward', targetGroupArn: placement.targetGroupArn });
    expect(targetsOf(placement.targetGroupArn)).toEqual(runningTaskIps(tenantId));
    const service = cloud.fake.ecsService(`octw-local--${tenantId}`)!;
    expect((service.request as { loadBalancers?: unknown }).loadBalancers).toEqual([{ targetGroupArn: placement.targetGroupArn, containerName: 'gateway', containerPort: 18789 }]);
  });

  it("the tenant's token gets in through its host; a wrong token, or its token on another host, does not", async () => {
    expect((await ask(tenantId, tokenOf(tenantId))).status).toBe(404);
    expect((await ask(tenantId, 'not-the-token')).status).toBe(401);
    expect((await ask(tenantId, tokenOf(tenantId), host('nobody-here'))).status).toBe(502);
  });

  it('the tenant security group admits only the ingress tier, only on the gateway port', async () => {
    const record = await cloud.tenant(tenantId);
    const rules = cloud.fake.securityGroup(record!.resources.securityGroupId!)!.rules.filter((r) => !r.isEgress);
    expect(rules.map((r) => ({ protocol: r.ipProtocol, from: r.fromPort, to: r.toPort, source: r.referencedGroupId, cidr: r.cidrIpv4 }))).toEqual([
      { protocol: 'tcp', from: 18789, to: 18789, source: cloud.ingress!.securityGroupId, cidr: undefined },
    ]);
  });

  it("the rendered config trusts the ingress subnets as proxies, allows exactly the tenant's origin and keeps token auth", async () => {
    const record = await cloud.tenant(tenantId);
    const td = cloud.fake.ecs.families.get(`octw-local--${tenantId}`)!.at(-1)!;
    const init = (td.input.containerDefinitions ?? []).find((c) => (c.environment ?? []).some((e) => e.name === 'OPENCLAW_CONFIG_JSON'))!;
    const config = OpenClawConfigSchema.parse(JSON.parse(init.environment!.find((e) => e.name === 'OPENCLAW_CONFIG_JSON')!.value!));
    expect(config.gateway.trustedProxies).toEqual(LOCAL_INGRESS_CIDRS);
    expect(config.gateway.controlUi).toEqual({ enabled: true, allowedOrigins: [`https://${host(tenantId)}`] });
    expect(config.gateway.auth.mode).toBe('token');
    expect(record?.status).toBe('ACTIVE');
  });

  it('suspend: the host answers the maintenance page (rule and target group kept); resume: live again on the new task after the handshake', async () => {
    const before = IngressPlacementSchema.parse((await cloud.tenant(tenantId))?.ingress);
    expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId })).status).toBe('SUCCEEDED');
    const suspended = IngressPlacementSchema.parse((await cloud.tenant(tenantId))?.ingress);
    expect(suspended).toMatchObject({ mode: 'maintenance', ruleArn: before.ruleArn, targetGroupArn: before.targetGroupArn, priority: before.priority });
    expect(routeOf(tenantId)).toMatchObject({ kind: 'fixed', status: '503' });
    const page = await ask(tenantId, tokenOf(tenantId));
    expect(page.status).toBe(503);
    expect(page.body).toMatch(/paused/);
    expect(targetsOf(before.targetGroupArn)).toEqual([]);

    expect((await runWorkflow(cloud, 'ResumeTenant', { tenantId })).status).toBe('SUCCEEDED');
    const resumed = await cloud.tenant(tenantId);
    expect(resumed?.status).toBe('ACTIVE');
    expect(resumed?.ingress).toMatchObject({ mode: 'live', ruleArn: before.ruleArn });
    expect(targetsOf(before.targetGroupArn)).toEqual(runningTaskIps(tenantId));
    expect((await ask(tenantId, tokenOf(tenantId))).status).toBe(404);
  });

  it('update keeps the route: same rule, target group and live mode, the new task registered', async () => {
    const before = (await cloud.tenant(tenantId))?.ingress;
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'pro' });
    expect(done).toMatchObject({ status: 'SUCCEEDED' });
    const after = await cloud.tenant(tenantId);
    expect(after?.plan).toBe('pro');
    expect(after?.ingress).toEqual(before);
    expect(targetsOf(before!.targetGroupArn)).toEqual(runningTaskIps(tenantId));
    expect((await ask(tenantId, tokenOf(tenantId))).status).toBe(404);
  });

  it('deprovision removes the rule, the DNS record and the target group', async () => {
    const placement = IngressPlacementSchema.parse((await cloud.tenant(tenantId))?.ingress);
    expect((await runWorkflow(cloud, 'DeprovisionTenant', { tenantId })).status).toBe('SUCCEEDED');
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('DEPROVISIONED');
    expect(record?.ingress).toBeUndefined();
    expect(cloud.fake.ingress.elb.rules.has(placement.ruleArn)).toBe(false);
    expect(cloud.fake.ingress.elb.targetGroups.has(placement.targetGroupArn)).toBe(false);
    expect(cloud.fake.ingress.route53.record(LOCAL_INGRESS_ZONE_ID, host(tenantId))).toBeUndefined();
    expect(routeOf(tenantId)).toEqual({ kind: 'no-dns' });
  });
});

describe('ingress failures compensate', () => {
  const leftRoutes = (tenantId: string) => [
    ...[...cloud.fake.ingress.elb.rules.values()].filter((r) => r.tags.get('octw:tenant') === tenantId).map((r) => r.arn),
    ...[...cloud.fake.ingress.elb.targetGroups.values()].filter((t) => t.tags.get('octw:tenant') === tenantId).map((t) => t.arn),
    ...(cloud.fake.ingress.route53.record(LOCAL_INGRESS_ZONE_ID, host(tenantId)) ? [host(tenantId)] : []),
  ];

  it('a gateway that refuses the tenant token through the route: never ACTIVE, FAILED with route, target group and record removed', async () => {
    const tenantId = 'refused-here';
    cloud.ingress!.alb!.refuseEveryToken = true;
    try {
      const record = await provision(cloud, tenantId);
      expect(record?.status).toBe('FAILED');
      expect(record?.lastError).toMatchObject({ name: 'GatewayUnhealthyError' });
      expect(record?.lastError?.message).toMatch(/token was refused/);
      expect(record?.transitions.ACTIVE).toBeUndefined();
    } finally {
      cloud.ingress!.alb!.refuseEveryToken = false;
    }
    expect(leftRoutes(tenantId)).toEqual([]);
    expect(cloud.fake.resourcesByTenant(tenantId).filter((r) => r.state === undefined && r.type !== 'AWS::Logs::LogGroup')).toEqual([]);
  });

  it('a permanent ELBv2 error while opening the route: FAILED, everything removed', async () => {
    const tenantId = 'denied-open';
    cloud.fake.ingress.failNext('ELBv2', 'ModifyRule', 'AccessDenied', 403, 1);
    const record = await provision(cloud, tenantId);
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError?.message).toMatch(/AccessDenied/);
    expect(leftRoutes(tenantId)).toEqual([]);
  });

  it('every shard full: QuotaExceededError names the cell, nothing is left behind', async () => {
    // 2 shards × 3 rules; fill them.
    const ids = ['fill-one', 'fill-two', 'fill-three', 'fill-four', 'fill-five', 'fill-six'];
    const placed = await Promise.all(ids.map((id) => provision(cloud, id)));
    const active = placed.filter((r) => r?.status === 'ACTIVE').length;
    expect(active).toBe(6);
    const record = await provision(cloud, 'one-too-many');
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError).toMatchObject({ name: 'QuotaExceededError' });
    expect(record?.lastError?.message).toMatch(/every ingress shard of cell local is full/);
    expect(leftRoutes('one-too-many')).toEqual([]);
    // Two tenants never share a host, a rule or a target group, and priorities are unique per listener.
    const rules = [...cloud.fake.ingress.elb.rules.values()];
    for (const listener of new Set(rules.map((r) => r.listenerArn))) {
      const priorities = rules.filter((r) => r.listenerArn === listener).map((r) => r.priority);
      expect(new Set(priorities).size).toBe(priorities.length);
    }
    for (const r of rules) {
      const tenant = r.tags.get('octw:tenant');
      const hosts = r.conditions.filter((c) => c.Field === 'host-header').flatMap((c) => c.HostHeaderConfig?.Values ?? []);
      expect(hosts).toEqual([host(tenant!)]);
      const tg = r.actions.find((a) => a.Type === 'forward')?.TargetGroupArn;
      if (tg) expect(cloud.fake.ingress.elb.targetGroups.get(tg)?.tags.get('octw:tenant')).toBe(tenant);
    }
  });
});
