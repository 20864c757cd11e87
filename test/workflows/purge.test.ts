/**
 * The purge workflow through the local cloud: real ASL, real Purge and Lifecycle handlers, DynamoDB
 * Local, and a temporary directory standing in for the EFS `/tenants` directory (the Purge
 * function's access point root, mounted at TENANTS_MOUNT_PATH).
 *
 * Tenants are provisioned by the real provision workflow. They are then brought to DEPROVISIONED
 * through the store's own transitions (`startDeprovision`, then `deprovisioned` with a chosen
 * `dataRetainedUntil`), NOT through the deprovision workflow: that workflow is written separately
 * and this file must not depend on it. The record ends exactly as the deprovision workflow leaves
 * it (status, holder, audit items, retention date); only the AWS resources are not removed, which
 * purge never looks at.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operationExecutionName } from '../../functions/domain/operations';
import { LOCAL_CELL } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { provision } from './support';

const DAY = 86_400_000;
const mount = mkdtempSync(join(tmpdir(), 'octw-purge-efs-'));

let cloud: LocalCloud;
let purgeHandler: (event: unknown, context: ReturnType<typeof lambdaContextFor>) => Promise<unknown>;

beforeAll(async () => {
  cloud = await startLocalCloud({ env: { TENANTS_MOUNT_PATH: mount } });
  // Loaded by the local cloud already (same module instance, same environment).
  purgeHandler = (await import('../../functions/handlers/purge')).handler;
});
afterAll(async () => {
  await cloud.stop();
  rmSync(mount, { recursive: true, force: true });
});

/** What the gateway leaves on EFS under its access point root /tenants/<id>. */
function writeGatewayState(tenantId: string): string {
  const dir = join(mount, tenantId);
  mkdirSync(join(dir, 'agents', 'main', 'sessions'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'openclaw-state.json'), '{"paired":true}');
  writeFileSync(join(dir, 'agents', 'main', 'sessions', 's1.jsonl'), '{"role":"user"}\n');
  return dir;
}

/** The record as the deprovision workflow leaves it (see the file comment). */
async function markDeprovisioned(tenantId: string, dataRetainedUntil: Date) {
  await cloud.store.transition(tenantId, 'startDeprovision', { executionArn: 'arn:test' });
  const { record } = await cloud.store.transition(tenantId, 'deprovisioned', {
    executionArn: 'arn:test',
    patch: { dataRetainedUntil: dataRetainedUntil.toISOString() },
  });
  return record;
}

async function deprovisionedTenant(tenantId: string, retainedUntil: Date) {
  await provision(cloud, tenantId);
  const dir = writeGatewayState(tenantId);
  const record = await markDeprovisioned(tenantId, retainedUntil);
  expect(record.status).toBe('DEPROVISIONED');
  return { dir, record };
}

async function purge(tenantId: string, request: Record<string, unknown> = {}) {
  const record = await cloud.tenant(tenantId);
  const { executionArn } = await cloud.sfn.startExecution(
    'PurgeTenant',
    { tenantId, ...request },
    operationExecutionName('purge', tenantId, record?.version ?? 0),
  );
  return cloud.sfn.waitForExecution(executionArn);
}

const lifecycleEvents = (tenantId: string) =>
  cloud.bus.events
    .filter((e) => e.source === LOCAL_CELL.eventSource && (e.detail as { tenantId?: string }).tenantId === tenantId)
    .map((e) => e['detail-type']);

const sweep = async (id: string) => (await purgeHandler({ action: 'sweep' }, lambdaContextFor('Purge', id))) as {
  examined: number;
  started: { tenantId: string }[];
  alreadyStarted: { tenantId: string }[];
  notDue: number;
};

describe('purge workflow: refusals change nothing', () => {
  it('refuses to purge a DEPROVISIONED tenant before its retention ends, keeping its files and status', async () => {
    const { dir, record } = await deprovisionedTenant('kept-corp', new Date(Date.now() + 30 * DAY));
    const run = await purge('kept-corp');
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('TenantStateConflictError');
    expect(run.cause).toMatch(/retained until/);
    expect(readdirSync(dir).sort()).toEqual(['agents', 'openclaw-state.json']);
    expect(await cloud.tenant('kept-corp')).toMatchObject({ status: 'DEPROVISIONED', version: record.version });
  });

  it('refuses to purge an ACTIVE tenant, even when immediate erasure is asked for', async () => {
    await provision(cloud, 'live-corp');
    const dir = writeGatewayState('live-corp');
    const before = await cloud.tenant('live-corp');
    const run = await purge('live-corp', { immediate: true });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('TenantStateConflictError');
    expect(run.cause).toMatch(/it is ACTIVE/);
    expect(existsSync(join(dir, 'openclaw-state.json'))).toBe(true);
    expect(await cloud.tenant('live-corp')).toMatchObject({ status: 'ACTIVE', version: before?.version });
  });

  it('refuses a request that is not a PurgeRequest with a ValidationError', async () => {
    const { executionArn } = await cloud.sfn.startExecution('PurgeTenant', { tenantId: '../etc' }, 'purge-bad-input');
    const run = await cloud.sfn.waitForExecution(executionArn);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ValidationError');
  });
});

describe('purge workflow: erasure', () => {
  it('deletes the directory at once when asked, records PURGED with an audit item and a TenantPurged event', async () => {
    const { dir: neighbourDir } = await deprovisionedTenant('neighbour-corp', new Date(Date.now() + 30 * DAY));
    const { dir } = await deprovisionedTenant('erase-me', new Date(Date.now() + 30 * DAY));

    const run = await purge('erase-me', { immediate: true });
    expect(run.status).toBe('SUCCEEDED');
    expect(existsSync(dir)).toBe(false);
    const record = await cloud.tenant('erase-me');
    expect(record?.status).toBe('PURGED');
    expect(record?.executionArn).toBe(run.executionArn);
    const audit = await cloud.store.listAudit('erase-me', 1);
    expect(audit[0]).toMatchObject({ transition: 'purged', from: 'DEPROVISIONED', to: 'PURGED', executionArn: run.executionArn });
    expect(lifecycleEvents('erase-me').at(-1)).toBe('TenantPurged');

    // The other tenant's data is untouched.
    expect(readdirSync(neighbourDir).sort()).toEqual(['agents', 'openclaw-state.json']);
    expect(existsSync(join(neighbourDir, 'agents', 'main', 'sessions', 's1.jsonl'))).toBe(true);
    expect((await cloud.tenant('neighbour-corp'))?.status).toBe('DEPROVISIONED');
  });

  it('purges without being asked once the retention date has passed', async () => {
    const { dir } = await deprovisionedTenant('expired-corp', new Date(Date.now() - DAY));
    const run = await purge('expired-corp');
    expect(run.status).toBe('SUCCEEDED');
    expect(existsSync(dir)).toBe(false);
    expect((await cloud.tenant('expired-corp'))?.status).toBe('PURGED');
  });

  it('records PURGED even when the directory is already gone (a crash after the delete, before the transition)', async () => {
    const { dir } = await deprovisionedTenant('half-done', new Date(Date.now() - DAY));
    rmSync(dir, { recursive: true, force: true });
    const run = await purge('half-done');
    expect(run.status).toBe('SUCCEEDED');
    expect((await cloud.tenant('half-done'))?.status).toBe('PURGED');
  });

  it('refuses a second purge of a PURGED tenant cleanly, changing nothing', async () => {
    const before = await cloud.tenant('erase-me');
    expect(before?.status).toBe('PURGED');
    const eventsBefore = lifecycleEvents('erase-me').length;
    const run = await purge('erase-me', { immediate: true });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('TenantStateConflictError');
    expect(run.cause).toMatch(/it is PURGED/);
    expect(await cloud.tenant('erase-me')).toMatchObject({ status: 'PURGED', version: before?.version, executionArn: before?.executionArn });
    expect(lifecycleEvents('erase-me')).toHaveLength(eventsBefore);
  });
});

describe('purge workflow: faults in the Lifecycle step', () => {
  it.each(['transient', 'crashAfterSuccess'] as const)('still ends PURGED after a %s fault in the TenantPurged PutEvents', async (kind) => {
    const tenantId = `fault-${kind === 'transient' ? 'transient' : 'crash'}`;
    const { dir } = await deprovisionedTenant(tenantId, new Date(Date.now() - DAY));
    cloud.fake.inject({ service: 'EventBridge', operation: 'PutEvents', kind });
    const run = await purge(tenantId);
    expect(cloud.fake.faults.fired.some((f) => f.service === 'EventBridge' && f.kind === kind)).toBe(true);
    expect(run.status).toBe('SUCCEEDED');
    expect(existsSync(dir)).toBe(false);
    expect((await cloud.tenant(tenantId))?.status).toBe('PURGED');
    // One transition, whatever the retries: exactly one purged audit item.
    const audit = await cloud.store.listAudit(tenantId, 10);
    expect(audit.filter((a) => a.transition === 'purged')).toHaveLength(1);
    expect(lifecycleEvents(tenantId)).toContain('TenantPurged');
  });
});

describe('purge sweep (the scheduled rule)', () => {
  it('starts purges only for tenants whose retention has ended, and a repeated sweep starts no duplicate', async () => {
    const due1 = await deprovisionedTenant('sweep-due-one', new Date(Date.now() - 2 * DAY));
    const due2 = await deprovisionedTenant('sweep-due-two', new Date(Date.now() - 60_000));
    const notDue = await deprovisionedTenant('sweep-not-due', new Date(Date.now() + DAY));

    const first = await sweep('sweep-1');
    const second = await sweep('sweep-2');
    expect(first.started.map((s) => s.tenantId).sort()).toEqual(['sweep-due-one', 'sweep-due-two']);
    expect(first.notDue).toBeGreaterThanOrEqual(1);
    // The second sweep can only name the same executions (running: the same run; finished: the tenant is
    // PURGED and not listed, or ExecutionAlreadyExists); the run counts below prove no duplicate started.
    expect(['sweep-due-one', 'sweep-due-two']).toEqual(
      expect.arrayContaining([...second.started, ...second.alreadyStarted].map((s) => s.tenantId)),
    );
    await cloud.settle();

    const purgeRuns = (tenantId: string) => cloud.sfn.list().filter((e) => e.stateMachineName === 'PurgeTenant' && e.name.startsWith(`purge-${tenantId}-`));
    expect(purgeRuns('sweep-due-one')).toHaveLength(1);
    expect(purgeRuns('sweep-due-two')).toHaveLength(1);
    expect(purgeRuns('sweep-not-due')).toHaveLength(0);
    expect(purgeRuns('sweep-due-one')[0]?.name).toBe(
      `${operationExecutionName('purge', 'sweep-due-one', due1.record.version)}-d${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`,
    );

    expect(existsSync(due1.dir)).toBe(false);
    expect(existsSync(due2.dir)).toBe(false);
    expect(existsSync(join(notDue.dir, 'openclaw-state.json'))).toBe(true);
    expect((await cloud.tenant('sweep-due-one'))?.status).toBe('PURGED');
    expect((await cloud.tenant('sweep-due-two'))?.status).toBe('PURGED');
    expect((await cloud.tenant('sweep-not-due'))?.status).toBe('DEPROVISIONED');

    // Once purged, the tenants leave the DEPROVISIONED index: the next sweep starts nothing.
    const third = await sweep('sweep-3');
    expect(third.started).toEqual([]);
    expect(third.alreadyStarted).toEqual([]);
  });
});
