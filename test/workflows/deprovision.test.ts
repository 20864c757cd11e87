import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_CELL } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import {
  ACTIVE_TENANT_RESOURCE_TYPES,
  gatewaySecretName,
  leftovers,
  leftoversAfterDeprovision,
  lifecycleEventsOf,
  provision,
  resourceTypes,
  runWorkflow,
  tenantLogGroup,
} from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

const DAY_MS = 86_400_000;

describe('deprovision workflow: ACTIVE | SUSPENDED | FAILED to DEPROVISIONED, data retained', () => {
  const tenantId = 'leaving-soon';
  let accessPointId: string | undefined;
  let dataFile: string;
  let firstCall = 0;

  beforeAll(async () => {
    const record = await provision(cloud, tenantId);
    expect(record?.status).toBe('ACTIVE');
    accessPointId = record?.resources.accessPointId;
    // The tenant's files as the gateway wrote them under /tenants/<id> on EFS.
    dataFile = join(process.env.TENANTS_MOUNT_PATH!, tenantId, 'state.json');
    await mkdir(join(process.env.TENANTS_MOUNT_PATH!, tenantId), { recursive: true });
    await writeFile(dataFile, '{"sessions":1}');
    firstCall = cloud.fake.calls.length;
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId });
    expect(done.status).toBe('SUCCEEDED');
  });

  it('ends DEPROVISIONED with no resource ids but its kept log group, no error and the data retained for DATA_RETENTION_DAYS', async () => {
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('DEPROVISIONED');
    expect(record?.resources).toEqual({ logGroupName: tenantLogGroup(cloud, tenantId)?.name });
    expect(record?.lastError).toBeUndefined();
    const retainedFor = Date.parse(record!.dataRetainedUntil!) - Date.parse(record!.transitions.DEPROVISIONED!);
    expect(Math.round(retainedFor / DAY_MS)).toBe(LOCAL_CELL.dataRetentionDays);
  });

  it('leaves nothing tagged for the tenant except its secret, scheduled for deletion after the recovery window, and its log group', async () => {
    expect(leftoversAfterDeprovision(cloud, tenantId)).toEqual([]);
    const secret = cloud.fake.secret(gatewaySecretName(tenantId));
    const record = await cloud.tenant(tenantId);
    expect(secret?.deletionDate).toBeDefined();
    const window = secret!.deletionDate! - Date.parse(record!.transitions.DEPROVISIONING!);
    expect(Math.round(window / DAY_MS)).toBe(LOCAL_CELL.secretRecoveryDays);
    expect(leftovers(cloud, tenantId)).toEqual([expect.stringMatching(/^AWS::Logs::LogGroup /), expect.stringMatching(/^AWS::SecretsManager::Secret /)]);
  });

  it("keeps the tenant's log group with its retention until purge (finding 9: the evidence survives the deprovision)", () => {
    const group = tenantLogGroup(cloud, tenantId);
    expect(group).toBeDefined();
    expect(group?.retentionInDays).toBe(LOCAL_CELL.logRetentionDays);
    const calls = cloud.fake.calls.slice(firstCall);
    expect(calls.filter((c) => c.operation === 'DeleteLogGroup')).toEqual([]);
  });

  it('removes the access point but not the files under /tenants/<id>', async () => {
    expect(cloud.fake.accessPoint(accessPointId!)).toBeUndefined();
    expect(await readFile(dataFile, 'utf8')).toBe('{"sessions":1}');
  });

  it('drains the service before removing what its task uses, and deletes the security group last', () => {
    const calls = cloud.fake.calls.slice(firstCall);
    const order = calls.map((c) => `${c.service} ${c.operation}`);
    const drained = order.lastIndexOf('ECS DescribeServices');
    expect(order.indexOf('ECS DeleteService')).toBeLessThan(drained);
    expect(drained).toBeLessThan(order.indexOf('IAM DeleteRole'));
    expect(order.indexOf('IAM DeleteRole')).toBeLessThan(order.indexOf('EC2 DeleteSecurityGroup'));
    expect(calls.filter((c) => c.operation === 'DeleteSecurityGroup' && c.outcome === 'ok')).toHaveLength(1);
  });

  it('appends an audit item per transition and emits TenantDeprovisioningStarted then TenantDeprovisioned', async () => {
    const audit = await cloud.store.listAudit(tenantId);
    expect(audit.slice(0, 2).map((a) => `${a.from}->${a.to}`).reverse()).toEqual(['ACTIVE->DEPROVISIONING', 'DEPROVISIONING->DEPROVISIONED']);
    expect(lifecycleEventsOf(cloud, tenantId).slice(-2)).toEqual(['TenantDeprovisioningStarted', 'TenantDeprovisioned']);
  });

  it('refuses a second deprovision of a DEPROVISIONED tenant without changing anything', async () => {
    const before = await cloud.tenant(tenantId);
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId }, `again-${tenantId}`);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('TenantStateConflictError');
    expect((await cloud.tenant(tenantId))?.version).toBe(before?.version);
  });

  it('deletes the log group, with the data, when the tenant is purged, leaving nothing but the secret in its recovery window', async () => {
    const record = await cloud.tenant(tenantId);
    const { executionArn } = await cloud.sfn.startExecution('PurgeTenant', { tenantId, immediate: true }, `purge-${tenantId}-v${record!.version}`);
    const done = await cloud.sfn.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const purged = await cloud.tenant(tenantId);
    expect(purged?.status).toBe('PURGED');
    expect(purged?.resources).toEqual({});
    expect(tenantLogGroup(cloud, tenantId)).toBeUndefined();
    expect(leftovers(cloud, tenantId)).toEqual([expect.stringMatching(/^AWS::SecretsManager::Secret /)]);
    await expect(readFile(dataFile, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});

describe('deprovision from other states and refusals', () => {
  it('deprovisions a SUSPENDED tenant', async () => {
    await provision(cloud, 'paused-leaver');
    expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId: 'paused-leaver' })).status).toBe('SUCCEEDED');
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId: 'paused-leaver' });
    expect(done.status).toBe('SUCCEEDED');
    expect((await cloud.tenant('paused-leaver'))?.status).toBe('DEPROVISIONED');
    expect(leftoversAfterDeprovision(cloud, 'paused-leaver')).toEqual([]);
  });

  it('finishes the cleanup of a FAILED tenant whose rollback could not remove everything', async () => {
    // Provisioning fails at the service and its compensation cannot delete the role: FAILED with a role left.
    cloud.fake.inject({ service: 'ECS', operation: 'CreateService', kind: 'permanent' });
    cloud.fake.inject({ service: 'IAM', operation: 'DeleteRole', kind: 'permanent' });
    const failed = await provision(cloud, 'half-built');
    expect(failed?.status).toBe('FAILED');
    expect(resourceTypes(cloud, 'half-built')).toContain('AWS::IAM::Role');
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId: 'half-built' });
    expect(done.status).toBe('SUCCEEDED');
    expect((await cloud.tenant('half-built'))?.status).toBe('DEPROVISIONED');
    expect(leftovers(cloud, 'half-built')).toEqual([]);
  });

  it('refuses a tenant that does not exist with TenantNotFoundError and creates nothing', async () => {
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId: 'never-existed' });
    expect(done.error).toBe('TenantNotFoundError');
    expect(await cloud.tenant('never-existed')).toBeUndefined();
  });

  it('refuses input that is not {tenantId} with ValidationError', async () => {
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId: 'Not An Id', force: true });
    expect(done.error).toBe('ValidationError');
    expect(done.cause).toMatch(/tenantId/);
  });

  it('keeps an ACTIVE tenant with every resource when its deprovision request is refused', async () => {
    await provision(cloud, 'staying-put');
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId: 'staying-put', extra: 1 });
    expect(done.error).toBe('ValidationError');
    expect((await cloud.tenant('staying-put'))?.status).toBe('ACTIVE');
    expect(resourceTypes(cloud, 'staying-put')).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
  });
});
