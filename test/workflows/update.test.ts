import type { AuthorizeSecurityGroupEgressCommandInput, RevokeSecurityGroupEgressCommandInput } from '@aws-sdk/client-ec2';
import { LOCAL_CELL } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { causeMessage, egressRulesOf, lifecycleEventsOf, provision, runWorkflow, serviceState } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

const NEW_IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'fedcba9876543210'.repeat(4)}`;
const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const PARTNER = { cidr: '203.0.113.0/24', ports: [443], description: 'partner API' };
const BILLING = { cidr: '192.0.2.0/28', ports: [443], description: 'billing API' };
const RELAY = { cidr: '198.51.100.0/24', ports: [8443], description: 'relay' };

const platformRules = () => [
  `tcp 2049-2049 ${process.env.EFS_SECURITY_GROUP_ID}`,
  `tcp 443-443 ${process.env.ENDPOINTS_SECURITY_GROUP_ID}`,
  'tcp 443-443 pl-63a5400a',
  `tcp 3128-3128 ${cloud.fake.securityGroup('octw-local-egress-proxy-lb')!.groupId}`,
];
const rolePolicy = (tenantId: string) => cloud.fake.role(`octw-local--${tenantId}`)!.policies.get(`octw-local--${tenantId}`)!;
const callsSince = (from: number) => cloud.fake.calls.slice(from);

describe('update workflow: only what changed is applied', () => {
  it('changes only the allowlist by authorizing the added rules and revoking the removed ones, with no new revision', async () => {
    const tenantId = 'allow-shift';
    await provision(cloud, tenantId, { egressAllowlist: [PARTNER, RELAY] });
    const before = await cloud.tenant(tenantId);
    const relayRule = cloud.fake.securityGroup(`octw-local--${tenantId}`)!.rules.find((r) => r.cidrIpv4 === RELAY.cidr)!;
    const from = cloud.fake.calls.length;

    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, egressAllowlist: [PARTNER, BILLING] });

    expect(done.status).toBe('SUCCEEDED');
    const calls = callsSince(from);
    const authorized = calls
      .filter((c) => c.operation === 'AuthorizeSecurityGroupEgress' && c.outcome === 'ok')
      .flatMap((c) => (c.input as AuthorizeSecurityGroupEgressCommandInput).IpPermissions ?? [])
      .map((p) => `${p.IpProtocol} ${p.FromPort}-${p.ToPort} ${p.IpRanges?.[0]?.CidrIp}`);
    expect(authorized).toEqual(['tcp 443-443 192.0.2.0/28']);
    const revoked = calls
      .filter((c) => c.operation === 'RevokeSecurityGroupEgress' && c.outcome === 'ok')
      .flatMap((c) => (c.input as RevokeSecurityGroupEgressCommandInput).SecurityGroupRuleIds ?? []);
    expect(revoked).toEqual([relayRule.id]);
    expect(egressRulesOf(cloud, tenantId)).toEqual([...platformRules(), 'tcp 443-443 192.0.2.0/28', 'tcp 443-443 203.0.113.0/24'].sort());
    expect(calls.map((c) => c.operation)).not.toContain('RegisterTaskDefinition');
    expect(calls.map((c) => c.operation)).not.toContain('UpdateService');
    expect(calls.map((c) => c.operation)).not.toContain('PutRolePolicy');

    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'ACTIVE', plan: 'standard', egressAllowlist: [{ ...PARTNER, protocol: 'tcp' }, { ...BILLING, protocol: 'tcp' }] });
    expect(record?.configHash).not.toBe(before?.configHash);
    expect(record?.previous).toBeUndefined();
    expect(record?.resources.taskDefinitionArn).toBe(before?.resources.taskDefinitionArn);
  });

  it('moves to another plan: role policy with its models, a new revision with its CPU and memory, rolled out and steady', async () => {
    const tenantId = 'plan-upgrade';
    await provision(cloud, tenantId);
    expect(rolePolicy(tenantId)).not.toContain(HAIKU);

    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'pro' });

    expect(done.status).toBe('SUCCEEDED');
    expect(rolePolicy(tenantId)).toContain(HAIKU);
    const td = cloud.fake.taskDefinition(`octw-local--${tenantId}`)!;
    expect(td.revision).toBe(2);
    expect([td.input.cpu, td.input.memory]).toEqual(['2048', '4096']);
    expect(serviceState(cloud, tenantId)).toEqual({ status: 'ACTIVE', desiredCount: 1, revision: `octw-local--${tenantId}:2` });
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'ACTIVE', plan: 'pro' });
    expect(record?.resources.taskDefinitionArn).toBe(td.arn);
    expect(lifecycleEventsOf(cloud, tenantId).slice(-2)).toEqual(['TenantUpdateStarted', 'TenantUpdated']);
    const audit = await cloud.store.listAudit(tenantId, 2);
    expect(audit.map((a) => `${a.from}->${a.to}`).reverse()).toEqual(['ACTIVE->UPDATING', 'UPDATING->ACTIVE']);
  });

  it('pins a new image: a new revision running it, recorded as the tenant image override', async () => {
    const tenantId = 'image-bump';
    await provision(cloud, tenantId);
    const from = cloud.fake.calls.length;

    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, image: NEW_IMAGE });

    expect(done.status).toBe('SUCCEEDED');
    const td = cloud.fake.taskDefinition(`octw-local--${tenantId}`)!;
    expect(td.input.containerDefinitions?.map((c) => c.image)).toEqual([NEW_IMAGE, NEW_IMAGE, NEW_IMAGE]); // config-init, plugin-init, gateway
    expect(serviceState(cloud, tenantId)?.revision).toBe(`octw-local--${tenantId}:2`);
    expect((await cloud.tenant(tenantId))?.imageOverride).toBe(NEW_IMAGE);
    // The allowlist and the plan's models did not change: neither the rules nor the policy were touched.
    const operations = callsSince(from).map((c) => c.operation);
    expect(operations).not.toContain('AuthorizeSecurityGroupEgress');
    expect(operations).not.toContain('PutRolePolicy');
  });

  it('succeeds as a no-op, claiming and emitting nothing, when the request asks for the configuration the tenant has', async () => {
    const tenantId = 'same-again';
    await provision(cloud, tenantId);
    const before = await cloud.tenant(tenantId);
    const events = lifecycleEventsOf(cloud, tenantId).length;
    const from = cloud.fake.calls.length;

    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'standard', egressAllowlist: [PARTNER] });

    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ claim: { changed: false } });
    expect(await cloud.tenant(tenantId)).toEqual(before);
    expect(lifecycleEventsOf(cloud, tenantId)).toHaveLength(events);
    expect(callsSince(from)).toEqual([]);
  });
});

describe('update workflow: a new revision that fails its health check', () => {
  const tenantId = 'bad-release';
  let before: Awaited<ReturnType<typeof cloud.tenant>>;
  let policyBefore: string;
  let rulesBefore: string[];
  let done: Awaited<ReturnType<typeof runWorkflow>>;

  beforeAll(async () => {
    before = await provision(cloud, tenantId);
    policyBefore = rolePolicy(tenantId);
    rulesBefore = egressRulesOf(cloud, tenantId);
    cloud.fake.ecs.failHealthFor(`octw-local--${tenantId}:2`);
    done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'pro', egressAllowlist: [BILLING], image: NEW_IMAGE });
  });

  it('ends the run with UpdateFailed after the circuit breaker rolled the service back', () => {
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('UpdateFailed');
    expect(cloud.fake.ecsService(`octw-local--${tenantId}`)?.events.some((e) => /rolling back/.test(e.message))).toBe(true);
  });

  it('leaves the tenant ACTIVE on its previous revision, steady, with the failure recorded', async () => {
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('ACTIVE');
    expect(record?.lastError?.name).toBe('GatewayUnhealthyError');
    // Issue 14.1: detected from the deployment's own SERVICE_DEPLOYMENT_FAILED event (the circuit breaker failed it).
    expect(record?.lastError?.message).toMatch(/deployment ecs-svc\/\d+ failed: ECS deployment circuit breaker/);
    expect(record?.resources.taskDefinitionArn).toBe(before?.resources.taskDefinitionArn);
    const svc = serviceState(cloud, tenantId);
    expect(svc).toEqual({ status: 'ACTIVE', desiredCount: 1, revision: `octw-local--${tenantId}:1` });
    expect(cloud.fake.ecsService(`octw-local--${tenantId}`)?.deployments.filter((d) => d.status !== 'INACTIVE').map((d) => d.rolloutState)).toEqual(['COMPLETED']);
  });

  it('puts the previous configuration back: record fields, security-group rules and role policy', async () => {
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ plan: before?.plan, egressAllowlist: before?.egressAllowlist, configHash: before?.configHash });
    expect(record?.imageOverride).toBeUndefined();
    expect(record?.previous).toBeUndefined();
    expect(egressRulesOf(cloud, tenantId)).toEqual(rulesBefore);
    expect(rolePolicy(tenantId)).toBe(policyBefore);
  });

  it('emits TenantUpdateStarted then TenantUpdateFailed with the error', () => {
    expect(lifecycleEventsOf(cloud, tenantId).slice(-2)).toEqual(['TenantUpdateStarted', 'TenantUpdateFailed']);
    const failed = cloud.bus.events.filter((e) => e['detail-type'] === 'TenantUpdateFailed' && (e.detail as { tenantId?: string }).tenantId === tenantId);
    expect((failed[0]?.detail as { error?: { name: string } }).error?.name).toBe('GatewayUnhealthyError');
  });

  it('accepts the next update once a healthy image is given', async () => {
    cloud.fake.ecs.healHealthFor(`octw-local--${tenantId}:2`);
    const next = await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'pro' }, `update-${tenantId}-retry`);
    expect(next.status).toBe('SUCCEEDED');
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'ACTIVE', plan: 'pro' });
    expect(record?.lastError).toBeUndefined();
    expect(serviceState(cloud, tenantId)?.revision).toBe(record?.resources.taskDefinitionArn?.split('/').pop());
  });
});

describe('update workflow: refusals change nothing', () => {
  const tenantId = 'strict-checks';
  beforeAll(async () => {
    await provision(cloud, tenantId);
  });

  it.each([
    ['an unknown plan', { plan: 'platinum' }, /plan: unknown plan "platinum"/],
    ['an allowlist entry inside the VPC', { egressAllowlist: [{ cidr: LOCAL_CELL.vpcCidr, ports: [443] }] }, /egressAllowlist\[0\]\.cidr/],
    ['more allowlist rules than the plan allows', { egressAllowlist: Array.from({ length: 11 }, (_, i) => ({ cidr: `198.51.100.${i}/32`, ports: [443] })) }, /egressAllowlist/],
    ['an image not pinned by digest', { image: 'ghcr.io/openclaw/openclaw:latest' }, /image must be pinned by digest/],
    ['nothing to change', {}, /at least one of plan, egressAllowlist, .*image/],
  ])('refuses %s with ValidationError', async (_what, change, reason) => {
    const before = await cloud.tenant(tenantId);
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, ...change });
    expect(done.error).toBe('ValidationError');
    expect(causeMessage(done)).toMatch(reason);
    expect(await cloud.tenant(tenantId)).toEqual(before);
  });

  it('refuses a tenant that does not exist with TenantNotFoundError', async () => {
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'ghost-tenant', plan: 'pro' });
    expect(done.error).toBe('TenantNotFoundError');
    expect(await cloud.tenant('ghost-tenant')).toBeUndefined();
  });

  it('refuses a SUSPENDED tenant with TenantStateConflictError', async () => {
    await runWorkflow(cloud, 'SuspendTenant', { tenantId });
    const before = await cloud.tenant(tenantId);
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'pro' });
    expect(done.error).toBe('TenantStateConflictError');
    expect(done.cause).toMatch(/cannot startUpdate a tenant that is SUSPENDED/);
    expect(await cloud.tenant(tenantId)).toEqual(before);
  });
});
