import { LOCAL_CELL } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { ACTIVE_TENANT_RESOURCE_TYPES, executionsOf, leftovers, provision, resourceTypes, signupFor } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  // Every signup event is delivered twice, as SQS and EventBridge may do.
  cloud = await startLocalCloud({ duplicateDelivery: true });
});
afterAll(async () => {
  await cloud.stop();
});

const lifecycleEvents = (tenantId: string) =>
  cloud.bus.events
    .filter((e) => e.source === LOCAL_CELL.eventSource && (e.detail as { tenantId?: string }).tenantId === tenantId)
    .map((e) => e['detail-type']);

describe('intake: at-least-once delivery and concurrent signups', () => {
  it('makes one tenant, one execution and one set of resources when the same event arrives twice', async () => {
    const record = await provision(cloud, 'twice-delivered');
    expect(record?.status).toBe('ACTIVE');
    expect(executionsOf(cloud, 'twice-delivered')).toHaveLength(1);
    expect(cloud.fake.accessPointsOf(LOCAL_CELL.fileSystemId).filter((a) => a.tags.get('octw:tenant') === 'twice-delivered')).toHaveLength(1);
    expect(leftovers(cloud, 'twice-delivered').filter((r) => r.startsWith('AWS::EC2::SecurityGroup'))).toHaveLength(1);
  });

  it('makes one tenant when the same signup is sent several times at once', async () => {
    const s = signupFor('stampede');
    await Promise.all([cloud.signup(s), cloud.signup(s), cloud.signup(s)]);
    await cloud.settle();
    expect((await cloud.tenant('stampede'))?.status).toBe('ACTIVE');
    expect(executionsOf(cloud, 'stampede')).toHaveLength(1);
    expect(resourceTypes(cloud, 'stampede')).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
  });

  it('keeps the first of two different signups for one tenant and records the other as rejected', async () => {
    await Promise.all([
      cloud.signup(signupFor('contested', { plan: 'standard' })),
      cloud.signup(signupFor('contested', { plan: 'pro' })),
    ]);
    await cloud.settle();
    const record = await cloud.tenant('contested');
    expect(record?.status).toBe('ACTIVE');
    expect(executionsOf(cloud, 'contested')).toHaveLength(1);
    const rejected = cloud.bus.events.filter(
      (e) => e['detail-type'] === 'TenantSignupRejected' && (e.detail as { tenantId?: string }).tenantId === 'contested',
    );
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(rejected[0]?.detail)).toMatch(/already (pending|exists)/);
  });

  it('refuses a signup with a bad allowlist, creates nothing and records why', async () => {
    await cloud.signup(signupFor('bad-allowlist', { egressAllowlist: [{ cidr: '10.40.0.0/24', ports: [443] }] }));
    await cloud.settle();
    expect(await cloud.tenant('bad-allowlist')).toBeUndefined();
    expect(leftovers(cloud, 'bad-allowlist')).toEqual([]);
    expect(executionsOf(cloud, 'bad-allowlist')).toHaveLength(0);
    const rejected = cloud.bus.events.find(
      (e) => e['detail-type'] === 'TenantSignupRejected' && (e.detail as { tenantId?: string }).tenantId === 'bad-allowlist',
    );
    expect((rejected?.detail as { reasons: string[] }).reasons.join(' ')).toMatch(/egressAllowlist\[0\]\.cidr.*VPC/);
  });

  it('refuses a console run with invalid input with ValidationError and creates no tenant', async () => {
    const arn = await cloud.startProvision({ tenantId: 'console-bad', displayName: 'x', ownerEmail: 'not-an-email', plan: 'standard' });
    const done = await cloud.sfn.waitForExecution(arn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ValidationError');
    expect(await cloud.tenant('console-bad')).toBeUndefined();
  });

  it('provisions from a console run with the signup as input', async () => {
    const arn = await cloud.startProvision(signupFor('from-console'), 'console-from-console-1');
    expect((await cloud.sfn.waitForExecution(arn)).status).toBe('SUCCEEDED');
    expect((await cloud.tenant('from-console'))?.status).toBe('ACTIVE');
  });

  it('stops a second console run for an ACTIVE tenant without changing anything', async () => {
    const before = await cloud.tenant('from-console');
    const arn = await cloud.startProvision(signupFor('from-console'), 'console-from-console-2');
    const done = await cloud.sfn.waitForExecution(arn);
    expect(done.error).toBe('TenantStateConflictError');
    const after = await cloud.tenant('from-console');
    expect(after?.version).toBe(before?.version);
    expect(resourceTypes(cloud, 'from-console')).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
  });

  it('emits exactly one TenantProvisioningStarted and one TenantActive per tenant despite duplicates', () => {
    expect(lifecycleEvents('twice-delivered')).toEqual(['TenantProvisioningStarted', 'TenantActive']);
    expect(lifecycleEvents('stampede')).toEqual(['TenantProvisioningStarted', 'TenantActive']);
  });
});
