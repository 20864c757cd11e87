/**
 * Issue 8, "one tenant must not starve the others": the Usage function measures each tenant's EFS
 * directory and acts on its plan's quota, through the local cloud (DynamoDB Local, real SuspendTenant
 * ASL, the fake, a temporary directory standing in for EFS /tenants).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_PLANS } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { executionsOf, provision } from './support';

const mount = mkdtempSync(join(tmpdir(), 'octw-usage-efs-'));
/** About 52 KiB: a 64 KiB file is over, a 1 KiB file is not. */
const QUOTA_GIB = 0.00005;
const PLANS = [
  { ...LOCAL_PLANS[0]!, efsQuotaGiB: QUOTA_GIB },
  { ...LOCAL_PLANS[1]!, efsQuotaGiB: QUOTA_GIB, overQuotaAction: 'suspend' as const },
];

let cloud: LocalCloud;
let usageHandler: (event: unknown, context: ReturnType<typeof lambdaContextFor>) => Promise<unknown>;

beforeAll(async () => {
  cloud = await startLocalCloud({ env: { TENANTS_MOUNT_PATH: mount, PLANS_JSON: JSON.stringify(PLANS) } });
  usageHandler = (await import('../../functions/handlers/usage')).handler;
});
afterAll(async () => {
  await cloud.stop();
  rmSync(mount, { recursive: true, force: true });
});

function writeData(tenantId: string, bytes: number) {
  const dir = join(mount, tenantId, 'agents');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'blob.bin'), Buffer.alloc(bytes));
}

const overQuotaEvents = (tenantId: string) =>
  cloud.bus.events.filter((e) => e['detail-type'] === 'TenantOverQuota' && (e.detail as { tenantId?: string }).tenantId === tenantId);

async function measure(id: string) {
  const out = (await usageHandler({ action: 'measure' }, lambdaContextFor('Usage', id))) as { measured: number; overQuota: { tenantId: string }[] };
  await cloud.settle();
  return out;
}

describe('EFS usage and plan quotas', () => {
  it('alarms on an over-quota tenant, suspends one whose plan says so, and leaves a tenant within quota alone', async () => {
    const alarmOnly = await provision(cloud, 'quota-alarm', { plan: 'standard' });
    const suspendable = await provision(cloud, 'quota-suspend', { plan: 'pro' });
    const within = await provision(cloud, 'quota-within', { plan: 'pro' });
    expect([alarmOnly?.status, suspendable?.status, within?.status]).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
    writeData('quota-alarm', 64 * 1024);
    writeData('quota-suspend', 64 * 1024);
    writeData('quota-within', 1024);

    const out = await measure('usage-1');
    expect(out.overQuota.map((t) => t.tenantId).sort()).toEqual(['quota-alarm', 'quota-suspend']);

    expect(overQuotaEvents('quota-alarm')).toHaveLength(1);
    expect(overQuotaEvents('quota-alarm')[0]?.detail).toMatchObject({ action: 'alarm', plan: 'standard', usageBytes: (2 + 16) * 4096 }) // two directories, a 64 KiB file;
    expect((await cloud.tenant('quota-alarm'))?.status).toBe('ACTIVE');

    expect(overQuotaEvents('quota-suspend')[0]?.detail).toMatchObject({ action: 'suspend', suspensionExecutionArn: expect.stringContaining(`suspend-quota-suspend-v${suspendable!.version}`) });
    expect((await cloud.tenant('quota-suspend'))?.status).toBe('SUSPENDED');
    expect(executionsOf(cloud, 'quota-suspend').filter((e) => e.name.startsWith('suspend-'))).toHaveLength(1);

    expect(overQuotaEvents('quota-within')).toHaveLength(0);
    expect((await cloud.tenant('quota-within'))?.status).toBe('ACTIVE');
  });

  it('keeps reporting a suspended tenant still over quota but starts no second suspension', async () => {
    const out = await measure('usage-2');
    expect(out.overQuota.map((t) => t.tenantId).sort()).toEqual(['quota-alarm', 'quota-suspend']);
    expect(overQuotaEvents('quota-suspend')).toHaveLength(2);
    expect(overQuotaEvents('quota-suspend')[1]?.detail).not.toHaveProperty('suspensionExecutionArn');
    expect(executionsOf(cloud, 'quota-suspend').filter((e) => e.name.startsWith('suspend-'))).toHaveLength(1);
  });
});
