import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { ACTIVE_TENANT_RESOURCE_TYPES, executionsOf, provision, resourceTypes } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

describe('provision workflow after the ACTIVE transition is written', () => {
  it('never tears down a tenant that is already ACTIVE when announcing it fails for good', async () => {
    // 1st PutEvents: TenantProvisioningStarted; 2nd: TenantActive, after the transition was written.
    cloud.fake.inject({ service: 'EventBridge', operation: 'PutEvents', nth: 2, kind: 'permanent' });
    const record = await provision(cloud, 'late-failure');
    expect(record?.status).toBe('ACTIVE');
    expect(resourceTypes(cloud, 'late-failure')).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
    // The run itself reports the failure (and the failed-executions alarm fires), but every
    // compensation step refused to delete a live tenant's resource.
    const [run] = executionsOf(cloud, 'late-failure');
    expect(run?.status).toBe('FAILED');
    expect(cloud.fake.calls.filter((c) => c.operation.startsWith('Delete'))).toEqual([]);
  });
});
