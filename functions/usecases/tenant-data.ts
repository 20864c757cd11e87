/**
 * A tenant's data directory on the cell's file system, as the Restore function sees it through its
 * own access point on the file system's root (uid 0), mounted at FILE_SYSTEM_MOUNT_PATH (issue 13.4):
 *
 * - `locateRestored`: where AWS Backup put an item-level restore of `/tenants/<id>`: a directory
 *   `aws-backup-restore_<datetime>` off the root (AWS Backup "Restore an Amazon EFS file system":
 *   items go to a new recovery directory off the root, whether the target is a new or the existing
 *   file system); the newest such directory holding `tenants/<id>` and created no earlier than the job;
 * - `stageVerifyAndSwap`: moves the restored directory to a staging path next to the tenant's
 *   (`/tenants/.restore-<id>`, a rename on the same file system), verifies it (a directory, owned by the
 *   tenant's uid/gid, not empty), then swaps: the current directory aside (`/tenants/.previous-<id>`),
 *   the staged one in. Any failure before the swap leaves the current directory untouched (and the
 *   staging copy removed); a failure of the second rename puts the previous directory back. The
 *   previous data is removed only once the swap is done.
 * - `exportFiles`: every regular file of the tenant's directory with its metadata, for an export.
 *
 * The data holds the tenant's OAuth tokens in plain text (OpenClaw's SQLite state): whoever reads a
 * backup, a staging directory or an export holds the tenant's credentials.
 */
import { lstat, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { TenantIdSchema } from '../domain/tenant';

export const RESTORE_DIR_PREFIX = 'aws-backup-restore_';

/** `/tenants/<id>` under `root`, refusing anything that would resolve elsewhere. */
export function tenantPaths(root: string, tenantId: string) {
  const id = TenantIdSchema.parse(tenantId);
  const tenants = resolve(root, 'tenants');
  const dir = resolve(tenants, id);
  if (!dir.startsWith(tenants + sep)) throw new ValidationError(`refusing ${dir}: not under ${tenants}`);
  return { tenants, dir, staging: join(tenants, `.restore-${id}`), previous: join(tenants, `.previous-${id}`) };
}

/** `aws-backup-restore_2026-12-02T01:02:03Z`-style names: the datetime AWS Backup gives the directory. */
function restoreDirTime(name: string): number | undefined {
  if (!name.startsWith(RESTORE_DIR_PREFIX)) return undefined;
  const raw = name.slice(RESTORE_DIR_PREFIX.length);
  const t = Date.parse(raw);
  if (Number.isFinite(t)) return t;
  // AWS has also been seen using compact forms (20261202T010203Z).
  const m = /^(\d{4})(\d{2})(\d{2})T?(\d{2})(\d{2})(\d{2})/.exec(raw);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : undefined;
}

/** The restored copy of the tenant's directory from a job created at `jobCreatedAt` (ms), or undefined. */
export async function locateRestored(root: string, tenantId: string, jobCreatedAt: number): Promise<string | undefined> {
  const id = TenantIdSchema.parse(tenantId);
  const candidates: { path: string; at: number }[] = [];
  for (const entry of await readdir(resolve(root), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const at = restoreDirTime(entry.name);
    // A minute of slack: the directory's datetime and the job's creation come from different clocks.
    if (at === undefined || at < jobCreatedAt - 60_000) continue;
    const path = join(resolve(root), entry.name, 'tenants', id);
    const s = await lstat(path).catch(() => undefined);
    if (s?.isDirectory()) candidates.push({ path, at });
  }
  candidates.sort((a, b) => b.at - a.at);
  return candidates[0]?.path;
}

export interface SwapResult {
  readonly tenantId: string;
  readonly entries: number;
  readonly swapped: boolean;
}

async function verify(dir: string, uid: number, gid: number): Promise<number> {
  const s = await lstat(dir);
  if (!s.isDirectory()) throw new ValidationError(`restored ${dir} is not a directory`);
  if (s.uid !== uid || s.gid !== gid) {
    throw new ValidationError(`restored directory is owned by ${s.uid}:${s.gid}, not by the tenant's ${uid}:${gid}; refusing to swap it in`);
  }
  const entries = await readdir(dir);
  if (entries.length === 0) throw new ValidationError('restored directory is empty; refusing to swap it in');
  return entries.length;
}

const exists = (p: string) => lstat(p).then(() => true, () => false);

/**
 * Stages, verifies and swaps in the restored directory. Idempotent for a retry: a staging or previous
 * directory left by an earlier attempt of the same restore is taken up where it stopped.
 */
export async function stageVerifyAndSwap(
  root: string,
  tenant: { tenantId: string; uid: number; gid: number },
  restored: string | undefined,
): Promise<SwapResult> {
  const p = tenantPaths(root, tenant.tenantId);
  if (restored) {
    if (await exists(p.staging)) await rm(p.staging, { recursive: true, force: true });
    await rename(restored, p.staging);
  } else if (!(await exists(p.staging))) {
    throw new TenantStateConflictError(`no restored copy of /tenants/${tenant.tenantId} found (neither in an ${RESTORE_DIR_PREFIX}* directory nor staged)`);
  }
  let entries: number;
  try {
    entries = await verify(p.staging, tenant.uid, tenant.gid);
  } catch (err) {
    // The current data stays as it is; the rejected copy goes.
    await rm(p.staging, { recursive: true, force: true });
    throw err;
  }
  const hadCurrent = await exists(p.dir);
  if (hadCurrent) {
    if (await exists(p.previous)) await rm(p.previous, { recursive: true, force: true });
    await rename(p.dir, p.previous);
  }
  try {
    await rename(p.staging, p.dir);
  } catch (err) {
    if (hadCurrent) await rename(p.previous, p.dir);
    throw err;
  }
  await rm(p.previous, { recursive: true, force: true });
  return { tenantId: tenant.tenantId, entries, swapped: true };
}

/** Removes what a restore job left at the root once its tenant copy has been moved (or rejected). */
export async function cleanRestoreDirectory(root: string, restored: string): Promise<void> {
  const top = resolve(root, relative(resolve(root), restored).split(sep)[0] ?? '');
  if (!top.startsWith(resolve(root) + sep) || !top.slice(resolve(root).length + 1).startsWith(RESTORE_DIR_PREFIX)) return;
  await rm(top, { recursive: true, force: true });
}

export interface ExportFile {
  readonly path: string;
  readonly relativePath: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: string;
}

/** Every regular file of the tenant's directory (symbolic links are listed in `skipped`, never followed). */
export async function exportFiles(root: string, tenantId: string): Promise<{ files: ExportFile[]; skipped: string[] }> {
  const { dir } = tenantPaths(root, tenantId);
  const top = await lstat(dir).catch(() => undefined);
  if (!top?.isDirectory()) throw new TenantStateConflictError(`tenant "${tenantId}" has no data directory to export`);
  const files: ExportFile[] = [];
  const skipped: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const s = await stat(path);
        files.push({ path, relativePath: relative(dir, path).split(sep).join('/'), size: s.size, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: s.mtime.toISOString() });
      } else skipped.push(relative(dir, path));
    }
  };
  await walk(dir);
  return { files, skipped };
}
