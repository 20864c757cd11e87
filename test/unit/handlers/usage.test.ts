/**
 * The Usage handler's measuring (issue 8: one tenant must not starve the others), on a temporary
 * directory tree standing in for the EFS /tenants directory, and the quota rule.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EFS_BLOCK_BYTES, GIB, quotaVerdict } from '../../../functions/domain/usage';
import type * as UsageHandler from '../../../functions/handlers/usage';
import { applyHandlerEnv } from '../../local-cloud/env';

let usage: typeof UsageHandler;
let restoreEnv: () => void;
let workdir: string;
let mount: string;

beforeAll(async () => {
  restoreEnv = applyHandlerEnv({ tableName: 'unit-not-used' });
  // After the environment: the module reads it at load (no AWS call is made by these tests).
  usage = await import('../../../functions/handlers/usage');
});
afterAll(() => restoreEnv());

beforeEach(() => {
  workdir = mkdtempSync(join(tmpdir(), 'octw-usage-unit-'));
  mount = join(workdir, 'tenants');
  mkdirSync(mount);
});
afterEach(() => rmSync(workdir, { recursive: true, force: true }));

describe('measureDirectory', () => {
  it('sums file sizes rounded up to the 4 KiB EFS meters in, plus a block per directory, through nested directories', async () => {
    const dir = join(mount, 'acme');
    mkdirSync(join(dir, 'agents', 'main', 'sessions'), { recursive: true });
    writeFileSync(join(dir, 'openclaw.json'), 'x'.repeat(10)); // 1 block
    writeFileSync(join(dir, 'agents', 'main', 'sessions', 's1.jsonl'), 'y'.repeat(EFS_BLOCK_BYTES + 1)); // 2 blocks
    writeFileSync(join(dir, 'agents', 'main', 'empty'), ''); // 0 blocks
    const measured = await usage.measureDirectory(dir);
    // 4 directories (acme, agents, main, sessions) + 3 blocks of data.
    expect(measured).toEqual({ bytes: (4 + 3) * EFS_BLOCK_BYTES, entries: 7 });
  });

  it('does not follow symbolic links (a link to a big tree outside counts one block)', async () => {
    const outside = join(workdir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'big'), 'z'.repeat(10 * EFS_BLOCK_BYTES));
    const dir = join(mount, 'linker');
    mkdirSync(dir);
    symlinkSync(outside, join(dir, 'escape'));
    symlinkSync(join(outside, 'big'), join(dir, 'big-link'));
    expect(await usage.measureDirectory(dir)).toEqual({ bytes: 3 * EFS_BLOCK_BYTES, entries: 3 });
  });

  it('measures a tenant with no directory yet as empty', async () => {
    expect(await usage.measureDirectory(join(mount, 'never-started'))).toEqual({ bytes: 0, entries: 0 });
  });

  it('keeps to direct children of the mount whatever the tenant id', () => {
    expect(usage.tenantDirectory(mount, 'acme')).toBe(join(mount, 'acme'));
    for (const id of ['..', '../etc', 'a/b', '']) expect(() => usage.tenantDirectory(mount, id)).toThrow();
  });
});

describe('quotaVerdict', () => {
  it('is never over without a quota, over only above it, and defaults the action to "alarm"', () => {
    expect(quotaVerdict(10 * GIB, { efsQuotaGiB: undefined, overQuotaAction: undefined })).toEqual({ over: false, quotaBytes: undefined });
    expect(quotaVerdict(GIB, { efsQuotaGiB: 1 })).toEqual({ over: false, quotaBytes: GIB });
    expect(quotaVerdict(GIB + 1, { efsQuotaGiB: 1 })).toEqual({ over: true, quotaBytes: GIB, action: 'alarm' });
    expect(quotaVerdict(GIB + 1, { efsQuotaGiB: 1, overQuotaAction: 'suspend' })).toEqual({ over: true, quotaBytes: GIB, action: 'suspend' });
  });
});
