import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import {
  ACTIVE_TENANT_RESOURCE_TYPES,
  lifecycleEventsOf,
  provision,
  resourceTypes,
  runWorkflow,
  serviceState,
} from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

describe('suspend and resume: desired count 0 and back to 1, nothing else touched', () => {
  const tenantId = 'night-owl';
  let provisioned: Awaited<ReturnType<typeof cloud.tenant>>;

  beforeAll(async () => {
    provisioned = await provision(cloud, tenantId);
    expect(provisioned?.status).toBe('ACTIVE');
  });

  it('suspends an ACTIVE tenant: SUSPENDED, desired count 0, no running task, every resource kept', async () => {
    const done = await runWorkflow(cloud, 'SuspendTenant', { tenantId });
    expect(done.status).toBe('SUCCEEDED');
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('SUSPENDED');
    expect(record?.resources).toEqual(provisioned?.resources);
    expect(serviceState(cloud, tenantId)).toEqual({ status: 'ACTIVE', desiredCount: 0, revision: `octw-local--${tenantId}:1` });
    expect(cloud.fake.ecs.tasks.filter((t) => t.serviceName === `octw-local--${tenantId}` && t.stoppedAt === undefined)).toEqual([]);
    expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
  });

  it('refuses to suspend a SUSPENDED tenant without changing anything', async () => {
    const before = await cloud.tenant(tenantId);
    const again = await runWorkflow(cloud, 'SuspendTenant', { tenantId }, `suspend-again-${tenantId}`);
    expect(again.error).toBe('TenantStateConflictError');
    expect(again.cause).toMatch(/cannot startSuspend a tenant that is SUSPENDED/);
    expect((await cloud.tenant(tenantId))?.version).toBe(before?.version);
    expect(serviceState(cloud, tenantId)?.desiredCount).toBe(0);
  });

  it('resumes a SUSPENDED tenant: ACTIVE on the same revision with one healthy task', async () => {
    const done = await runWorkflow(cloud, 'ResumeTenant', { tenantId });
    expect(done.status).toBe('SUCCEEDED');
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('ACTIVE');
    expect(record?.resources).toEqual(provisioned?.resources);
    expect(serviceState(cloud, tenantId)).toEqual({ status: 'ACTIVE', desiredCount: 1, revision: `octw-local--${tenantId}:1` });
    expect(cloud.fake.ecsService(`octw-local--${tenantId}`)?.deployments.find((d) => d.status === 'PRIMARY')?.rolloutState).toBe('COMPLETED');
  });

  it('refuses to resume a tenant that is not SUSPENDED with TenantStateConflictError', async () => {
    const before = await cloud.tenant(tenantId);
    const done = await runWorkflow(cloud, 'ResumeTenant', { tenantId }, `resume-active-${tenantId}`);
    expect(done.error).toBe('TenantStateConflictError');
    expect(done.cause).toMatch(/cannot startResume a tenant that is ACTIVE/);
    expect((await cloud.tenant(tenantId))?.version).toBe(before?.version);
  });

  it('records each transition in the audit trail and emits its event', async () => {
    const audit = await cloud.store.listAudit(tenantId);
    expect(audit.slice(0, 4).map((a) => `${a.from}->${a.to}`).reverse()).toEqual([
      'ACTIVE->SUSPENDING',
      'SUSPENDING->SUSPENDED',
      'SUSPENDED->RESUMING',
      'RESUMING->ACTIVE',
    ]);
    expect(lifecycleEventsOf(cloud, tenantId).slice(2)).toEqual(['TenantSuspending', 'TenantSuspended', 'TenantResuming', 'TenantResumed']);
  });

  it('refuses to suspend or resume a tenant that does not exist with TenantNotFoundError', async () => {
    expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId: 'nobody-here' })).error).toBe('TenantNotFoundError');
    expect((await runWorkflow(cloud, 'ResumeTenant', { tenantId: 'nobody-here' })).error).toBe('TenantNotFoundError');
    expect(await cloud.tenant('nobody-here')).toBeUndefined();
  });
});

describe('suspend and resume failures put the tenant back where it was', () => {
  it('returns to ACTIVE with the cause recorded and one task running when the service cannot be scaled down', async () => {
    const tenantId = 'stubborn-one';
    await provision(cloud, tenantId);
    cloud.fake.inject({ service: 'ECS', operation: 'UpdateService', kind: 'permanent' });
    const done = await runWorkflow(cloud, 'SuspendTenant', { tenantId });
    expect(done.error).toBe('SuspendFailed');
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('ACTIVE');
    expect(record?.lastError?.message).toMatch(/UpdateService/);
    expect(serviceState(cloud, tenantId)?.desiredCount).toBe(1);
    expect(lifecycleEventsOf(cloud, tenantId).slice(-1)).toEqual(['TenantSuspendFailed']);
  });

  it('returns to SUSPENDED with the cause recorded and no task running when the service cannot be scaled up, and resumes on a second request', async () => {
    const tenantId = 'sleepy-head';
    await provision(cloud, tenantId);
    expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId })).status).toBe('SUCCEEDED');
    cloud.fake.inject({ service: 'ECS', operation: 'UpdateService', kind: 'permanent' });
    const done = await runWorkflow(cloud, 'ResumeTenant', { tenantId });
    expect(done.error).toBe('ResumeFailed');
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('SUSPENDED');
    expect(record?.lastError?.name).toBe('PermanentAwsError');
    expect(serviceState(cloud, tenantId)?.desiredCount).toBe(0);
    // Nothing is stuck: the same request succeeds once the cause is gone.
    expect((await runWorkflow(cloud, 'ResumeTenant', { tenantId }, `resume-retry-${tenantId}`)).status).toBe('SUCCEEDED');
    expect((await cloud.tenant(tenantId))?.lastError).toBeUndefined();
  });
});
