import { QuotaExceededError, ResourceBusyError, ResourceConflictError } from '../../functions/domain/errors';
import { targetGroupName } from '../../functions/domain/ingress';
import { CELL, DOMAIN, tenantOfTargetGroup, world, ZONE_ID } from './support';

const OIDC = {
  issuer: 'https://idp.acme.example',
  authorizationEndpoint: 'https://idp.acme.example/authorize',
  tokenEndpoint: 'https://idp.acme.example/token',
  userInfoEndpoint: 'https://idp.acme.example/userinfo',
  clientId: 'acme-gw',
};

describe('IngressRoutes.ensureRoute', () => {
  it('creates the tagged target group, a host rule on the first shard and the alias record; the host reaches only that group', async () => {
    const w = world(2);
    const p = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    expect(p).toMatchObject({ shardId: 'alb-1', hostname: `acme.${DOMAIN}`, mode: 'live' });
    const tg = w.fake.elb.targetGroups.get(p.targetGroupArn)!;
    expect(tg.name).toBe(targetGroupName(CELL, 'acme'));
    expect(tg.settings).toMatchObject({ Port: 18789, TargetType: 'ip', HealthCheckPath: '/healthz' });
    expect(Object.fromEntries(tg.tags)).toMatchObject({ 'octw:tenant': 'acme', 'octw:cell': CELL });
    const shard = w.settings.shards[0]!;
    expect(w.fake.elb.route(shard.listenerArn, `acme.${DOMAIN}`)).toMatchObject({ kind: 'forward', targetGroupArn: p.targetGroupArn });
    expect(w.fake.elb.route(shard.listenerArn, `other.${DOMAIN}`)).toMatchObject({ kind: 'fixed', status: '404' });
    expect(w.fake.route53.record(ZONE_ID, `acme.${DOMAIN}`)?.AliasTarget?.DNSName).toBe(`dualstack.${shard.dnsName}.`);
  });

  it('is idempotent: a re-run (e.g. after a crash) adopts the same rule and creates nothing twice', async () => {
    const w = world(1);
    const a = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    const b = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    const c = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live', placement: a });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(w.fake.elb.rules.size).toBe(1);
    expect(w.fake.elb.targetGroups.size).toBe(1);
  });

  it('keeps a staging route private until it goes live: only requests with the staging header reach the gateway', async () => {
    const w = world(1);
    const token = 'stg_0123456789abcdef';
    const p = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'staging', stagingToken: token });
    const l = w.settings.shards[0]!.listenerArn;
    expect(w.fake.elb.route(l, p.hostname)).toMatchObject({ kind: 'fixed', status: '404' });
    expect(w.fake.elb.route(l, p.hostname, { 'X-Octw-Staging': token })).toMatchObject({ kind: 'forward', targetGroupArn: p.targetGroupArn });
    const live = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live', placement: p });
    expect(live.ruleArn).toBe(p.ruleArn);
    expect(w.fake.elb.route(l, p.hostname)).toMatchObject({ kind: 'forward', targetGroupArn: p.targetGroupArn });
  });

  it('answers a suspended tenant with the 503 maintenance page, keeps its rule and target group, and resumes in place', async () => {
    const w = world(1);
    const p = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    const l = w.settings.shards[0]!.listenerArn;
    const m = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'maintenance', placement: p });
    expect(w.fake.elb.route(l, p.hostname)).toMatchObject({ kind: 'fixed', status: '503' });
    expect(m.ruleArn).toBe(p.ruleArn);
    expect(w.fake.elb.targetGroups.has(p.targetGroupArn)).toBe(true);
    await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live', placement: m });
    expect(w.fake.elb.route(l, p.hostname)).toMatchObject({ kind: 'forward', targetGroupArn: p.targetGroupArn });
  });

  it('puts authenticate-oidc with the tenant secret in front of the gateway and keeps the secret out of the trace', async () => {
    const w = world(1);
    w.secrets.set('acme', 'very-secret-client-secret');
    const p = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live', oidc: OIDC });
    const rule = w.fake.elb.rules.get(p.ruleArn)!;
    expect(rule.actions[0]).toMatchObject({ Type: 'authenticate-oidc', AuthenticateOidcConfig: { ClientId: 'acme-gw', ClientSecret: 'very-secret-client-secret' } });
    expect(JSON.stringify(w.fake.calls)).not.toContain('very-secret-client-secret');
  });

  it('refuses to adopt a target group of its name that is tagged for another tenant (ResourceConflictError), creating no rule', async () => {
    const w = world(1);
    await w.fake.call('ELBv2', 'CreateTargetGroup', {
      Name: targetGroupName(CELL, 'acme'), Protocol: 'HTTP', ProtocolVersion: 'HTTP1', Port: 18789, VpcId: w.settings.vpcId, TargetType: 'ip',
      HealthCheckProtocol: 'HTTP', HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 15, HealthyThresholdCount: 2, UnhealthyThresholdCount: 3, Matcher: { HttpCode: '200' },
      Tags: [{ Key: 'octw:tenant', Value: 'mallory' }, { Key: 'octw:cell', Value: CELL }],
    });
    await expect(w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' })).rejects.toBeInstanceOf(ResourceConflictError);
    expect(w.fake.elb.rules.size).toBe(0);
  });

  it('refuses to take over a rule for its host that belongs to another tenant', async () => {
    const w = world(1);
    const p = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    w.fake.elb.rules.get(p.ruleArn)!.tags.set('octw:tenant', 'mallory');
    await expect(w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' })).rejects.toBeInstanceOf(ResourceConflictError);
  });

  it('moves to the next free priority when its preferred one is taken (PriorityInUse), keeping priorities unique', async () => {
    const w = world(1);
    const first = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    // Another rule sits on the priority "bravo" prefers: make it so by moving acme's rule there.
    const { preferredPriority } = await import('../../functions/domain/ingress');
    w.fake.elb.rules.get(first.ruleArn)!.priority = preferredPriority(CELL, 'bravo');
    w.fake.failNext('ELBv2', 'CreateRule', 'PriorityInUse');
    const b = await w.routes.ensureRoute({ tenantId: 'bravo', mode: 'live' });
    const priorities = [...w.fake.elb.rules.values()].map((r) => r.priority);
    expect(new Set(priorities).size).toBe(2);
    expect(b.priority).not.toBe(preferredPriority(CELL, 'bravo'));
  });

  it('fills a shard to 100 tenants (target groups per ALB) and places the 101st on the next shard', async () => {
    const w = world(2, { rulesPerShard: 200, elbLimits: { rulesPerLoadBalancer: 200 } });
    const ids = Array.from({ length: 101 }, (_, i) => `t${String(i).padStart(3, '0')}x`);
    const placements = [];
    for (const id of ids) placements.push(await w.routes.ensureRoute({ tenantId: id, mode: 'live' }));
    expect(placements.filter((p) => p.shardId === 'alb-1')).toHaveLength(100);
    expect(placements[100]!.shardId).toBe('alb-2');
  });

  it('moves on when a shard answers TooManyRules, and throws QuotaExceededError naming the cell when every shard is full', async () => {
    const w = world(2, { rulesPerShard: 3, elbLimits: { rulesPerLoadBalancer: 3 } });
    for (const id of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee', 'ffff']) await w.routes.ensureRoute({ tenantId: id, mode: 'live' });
    const err = await w.routes.ensureRoute({ tenantId: 'gggg', mode: 'live' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect((err as Error).message).toMatch(/cell-1 is full/);
  });

  it('turns the Region target-group quota (TooManyTargetGroups) into QuotaExceededError', async () => {
    const w = world(1, { elbLimits: { targetGroupsPerRegion: 1 } });
    await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    await expect(w.routes.ensureRoute({ tenantId: 'bravo', mode: 'live' })).rejects.toBeInstanceOf(QuotaExceededError);
  });
});

describe('IngressRoutes.removeRoute', () => {
  it('removes the rule, the record and the target group, and a re-run finds nothing left to do', async () => {
    const w = world(1);
    const p = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    await w.routes.ensureRoute({ tenantId: 'bravo', mode: 'live' });
    expect(await w.routes.removeRoute('acme', p)).toEqual({ rule: true, record: true, targetGroup: true });
    expect(await w.routes.removeRoute('acme', p)).toEqual({ rule: false, record: false, targetGroup: false });
    expect(w.fake.resources().filter((r) => r.tags['octw:tenant'] === 'acme')).toEqual([]);
    expect(w.fake.route53.record(ZONE_ID, `acme.${DOMAIN}`)).toBeUndefined();
    expect(w.fake.route53.record(ZONE_ID, `bravo.${DOMAIN}`)).toBeDefined();
  });

  it('throws ResourceBusyError (retried) while the target group is still in use', async () => {
    const w = world(1);
    await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    w.fake.failNext('ELBv2', 'DeleteTargetGroup', 'ResourceInUse');
    await expect(w.routes.removeRoute('acme')).rejects.toBeInstanceOf(ResourceBusyError);
    expect(await w.routes.removeRoute('acme')).toEqual({ rule: false, record: false, targetGroup: true });
  });

  it('refuses to delete a DNS record for the host that points somewhere else', async () => {
    const w = world(1);
    await w.fake.call('Route53', 'ChangeResourceRecordSets', {
      HostedZoneId: ZONE_ID,
      ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: `acme.${DOMAIN}`, Type: 'A', AliasTarget: { HostedZoneId: 'Z1', DNSName: 'elsewhere.example.net', EvaluateTargetHealth: false } } }] },
    });
    await expect(w.routes.removeRoute('acme')).rejects.toBeInstanceOf(ResourceConflictError);
    expect(tenantOfTargetGroup(w.fake, 'none')).toBeUndefined();
  });
});
