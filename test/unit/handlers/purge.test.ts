/**
 * The Purge handler's own rules, without the local cloud: the path guard against hostile tenant ids,
 * what purgeData deletes (and what it refuses to follow), the retention rule and the sweep.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import type { TenantRecord } from '../../../functions/domain/tenant-record';
import type * as PurgeHandler from '../../../functions/handlers/purge';
import type { WorkflowStarter } from '../../../functions/usecases/intake';
import { applyHandlerEnv } from '../../local-cloud/env';

type PurgeModule = typeof PurgeHandler;
let purge: PurgeModule;
let restoreEnv: () => void;
let workdir: string;
let mount: string;

beforeAll(async () => {
  restoreEnv = applyHandlerEnv({ tableName: 'unit-not-used' });
  // After the environment: the module reads it at load (no AWS call is made by these tests).
  purge = await import('../../../functions/handlers/purge');
});
afterAll(() => restoreEnv());

beforeEach(() => {
  workdir = mkdtempSync(join(tmpdir(), 'octw-purge-unit-'));
  mount = join(workdir, 'tenants');
  mkdirSync(mount);
});
afterEach(() => rmSync(workdir, { recursive: true, force: true }));

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T12:00:00Z');

function record(tenantId: string, fields: Partial<TenantRecord> = {}): TenantRecord {
  return {
    pk: `TENANT#${tenantId}`,
    sk: 'META',
    tenantId,
    status: 'DEPROVISIONED',
    version: 7,
    generation: 1,
    cell: 'local',
    displayName: tenantId,
    ownerEmail: `ops@${tenantId}.example`,
    plan: 'standard',
    egressAllowlist: [],
    hostAllowlist: [],
    configHash: 'h',
    resources: {},
    transitions: {},
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...fields,
  };
}

const storeWith = (...records: TenantRecord[]) => ({
  require(tenantId: string): Promise<TenantRecord> {
    const found = records.find((r) => r.tenantId === tenantId);
    return found ? Promise.resolve(found) : Promise.reject(new Error(`no ${tenantId}`));
  },
  listByStatus(status: string, limit?: number): Promise<TenantRecord[]> {
    return Promise.resolve(records.filter((r) => r.status === status).slice(0, limit));
  },
});

function tenantTree(tenantId: string): string {
  const dir = join(mount, tenantId);
  mkdirSync(join(dir, 'agents'), { recursive: true });
  writeFileSync(join(dir, 'agents', 'state.json'), '{}');
  return dir;
}

describe('tenantDirectory', () => {
  it('returns the direct child of the mount named by a valid tenant id', () => {
    expect(purge.tenantDirectory('/mnt/tenants', 'acme-corp')).toBe('/mnt/tenants/acme-corp');
    expect(purge.tenantDirectory('/mnt/tenants/', 'acme-corp')).toBe('/mnt/tenants/acme-corp');
  });

  it.each([
    '..',
    '.',
    '',
    '../acme-corp',
    'acme/../../etc',
    'acme-corp/..',
    '/etc',
    'acme/corp',
    'acme\\corp',
    'acme-corp\0',
    ' acme-corp',
    'ACME-CORP',
    'acme-corp-',
    'x'.repeat(40),
    '%2e%2e',
  ])('refuses the hostile id %j', (id) => {
    expect(() => purge.tenantDirectory('/mnt/tenants', id)).toThrow();
  });

  it('never returns anything but a direct child of the mount, for any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (id) => {
        let dir: string;
        try {
          dir = purge.tenantDirectory('/mnt/tenants', id);
        } catch {
          return true;
        }
        return dirname(dir) === resolve('/mnt/tenants') && !dir.slice('/mnt/tenants'.length + 1).includes(sep) && dir !== '/mnt/tenants';
      }),
      { numRuns: 2000 },
    );
  });
});

describe('retentionEnded', () => {
  it('is false without a retention date or with an unreadable one (keep the data)', () => {
    expect(purge.retentionEnded({}, NOW)).toBe(false);
    expect(purge.retentionEnded({ dataRetainedUntil: 'not a date' }, NOW)).toBe(false);
  });

  it('is true from the retention date on', () => {
    expect(purge.retentionEnded({ dataRetainedUntil: new Date(NOW + 1).toISOString() }, NOW)).toBe(false);
    expect(purge.retentionEnded({ dataRetainedUntil: new Date(NOW).toISOString() }, NOW)).toBe(true);
    expect(purge.retentionEnded({ dataRetainedUntil: new Date(NOW - DAY).toISOString() }, NOW)).toBe(true);
  });
});

describe('purgeData', () => {
  const expired = { dataRetainedUntil: new Date(NOW - DAY).toISOString() };

  it('removes only the tenant directory and reports whether it existed', async () => {
    const dir = tenantTree('acme-corp');
    const other = tenantTree('other-corp');
    const store = storeWith(record('acme-corp', expired));
    await expect(purge.purgeData({ store, mountPath: mount, now: () => NOW }, { tenantId: 'acme-corp', immediate: false })).resolves.toEqual({
      tenantId: 'acme-corp',
      directory: '/tenants/acme-corp',
      removed: true,
    });
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(other, 'agents', 'state.json'))).toBe(true);
    // Repeating it (a retried step) succeeds and removes nothing more.
    await expect(purge.purgeData({ store, mountPath: mount, now: () => NOW }, { tenantId: 'acme-corp', immediate: false })).resolves.toMatchObject({
      removed: false,
    });
  });

  it('refuses a tenant that is not DEPROVISIONED, even with immediate, and deletes nothing', async () => {
    const dir = tenantTree('acme-corp');
    for (const status of ['ACTIVE', 'SUSPENDED', 'DEPROVISIONING', 'FAILED', 'PURGED'] as const) {
      const store = storeWith(record('acme-corp', { status, ...expired }));
      await expect(purge.purgeData({ store, mountPath: mount, now: () => NOW }, { tenantId: 'acme-corp', immediate: true })).rejects.toMatchObject({
        name: 'TenantStateConflictError',
      });
    }
    expect(existsSync(join(dir, 'agents', 'state.json'))).toBe(true);
  });

  it('refuses before the retention date unless immediate erasure is asked for', async () => {
    const dir = tenantTree('acme-corp');
    const store = storeWith(record('acme-corp', { dataRetainedUntil: new Date(NOW + DAY).toISOString() }));
    await expect(purge.purgeData({ store, mountPath: mount, now: () => NOW }, { tenantId: 'acme-corp', immediate: false })).rejects.toThrow(
      /retained until/,
    );
    expect(existsSync(dir)).toBe(true);
    await purge.purgeData({ store, mountPath: mount, now: () => NOW }, { tenantId: 'acme-corp', immediate: true });
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a tenant path that is a symbolic link, leaving the link target alone', async () => {
    const victim = tenantTree('victim-corp');
    symlinkSync(victim, join(mount, 'acme-corp'));
    const store = storeWith(record('acme-corp', expired));
    await expect(purge.purgeData({ store, mountPath: mount, now: () => NOW }, { tenantId: 'acme-corp', immediate: true })).rejects.toThrow(
      /not a directory/,
    );
    expect(existsSync(join(victim, 'agents', 'state.json'))).toBe(true);
  });

  it('removes symbolic links inside the tree without following them', async () => {
    const dir = tenantTree('acme-corp');
    const victim = tenantTree('victim-corp');
    symlinkSync(victim, join(dir, 'agents', 'escape'));
    const store = storeWith(record('acme-corp', expired));
    await purge.purgeData({ store, mountPath: mount, now: () => NOW }, { tenantId: 'acme-corp', immediate: false });
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(victim, 'agents', 'state.json'))).toBe(true);
  });
});

describe('sweep', () => {
  const starter = (already: ReadonlySet<string> = new Set()) => {
    const calls: { name: string; input: unknown }[] = [];
    const purgeStarter: WorkflowStarter = {
      executionArn: (name) => `arn:aws:states:us-east-1:123456789012:execution:PurgeTenant:${name}`,
      start(name, input) {
        calls.push({ name, input: JSON.parse(input) });
        return Promise.resolve({ executionArn: purgeStarter.executionArn(name), alreadyStarted: already.has(name) });
      },
    };
    return { purgeStarter, calls };
  };

  const day = new Date(NOW).toISOString().slice(0, 10).replace(/-/g, '');

  it('starts PurgeTenant only for DEPROVISIONED tenants whose retention has ended, named by record version and day', async () => {
    const store = storeWith(
      record('due-corp', { version: 9, dataRetainedUntil: new Date(NOW - DAY).toISOString() }),
      record('later-corp', { dataRetainedUntil: new Date(NOW + DAY).toISOString() }),
      record('undated-corp'),
      record('live-corp', { status: 'ACTIVE', dataRetainedUntil: new Date(NOW - DAY).toISOString() }),
    );
    const { purgeStarter, calls } = starter();
    const result = await purge.sweep({ store, purge: purgeStarter, now: () => NOW }, 100);
    expect(calls).toEqual([{ name: `purge-due-corp-v9-d${day}`, input: { tenantId: 'due-corp', immediate: false } }]);
    expect(result).toMatchObject({ examined: 3, notDue: 2, alreadyStarted: [] });
    expect(result.started.map((s) => s.tenantId)).toEqual(['due-corp']);
  });

  it('reports executions that already exist instead of failing', async () => {
    const store = storeWith(record('due-corp', { version: 9, dataRetainedUntil: new Date(NOW - DAY).toISOString() }));
    const { purgeStarter } = starter(new Set([`purge-due-corp-v9-d${day}`]));
    const result = await purge.sweep({ store, purge: purgeStarter, now: () => NOW }, 100);
    expect(result.started).toEqual([]);
    expect(result.alreadyStarted.map((s) => s.tenantId)).toEqual(['due-corp']);
  });
});
