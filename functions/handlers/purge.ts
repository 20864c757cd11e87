/**
 * Deletes a deprovisioned tenant's data: the directory /tenants/<id> on EFS, seen by this
 * function through its own access point (root /tenants, uid 0) mounted at TENANTS_MOUNT_PATH.
 * It deletes nothing else: only a DEPROVISIONED tenant, only after its retention has ended
 * (or when erasure is asked for explicitly), only the directory named by a validated tenant id.
 *
 * Actions:
 * - `purgeData` {tenantId, immediate}: the PurgeTenant workflow's data step. Idempotent: a
 *   directory that is already gone is not an error, so a retry after a crash changes nothing.
 * - `sweep` {limit?}: the scheduled rule's entry. Finds DEPROVISIONED tenants whose retention has
 *   ended and starts PurgeTenant for each under `purge-<id>-v<version>`, so two sweeps (or a sweep
 *   and an operator) never start two purges of the same record version.
 */
import { lstat, rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from '../shared/zod';
import { StateMachineStarter } from '../adapters/step-functions';
import type { TenantStore } from '../adapters/tenant-store';
import { TenantStateConflictError } from '../domain/errors';
import { operationExecutionName, type PurgeRequest } from '../domain/operations';
import { TenantIdSchema } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import type { WorkflowStarter } from '../usecases/intake';
import { tenantStoreFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { logger } from '../shared/powertools';

const env = loadEnv([vars.TENANTS_MOUNT_PATH, vars.PURGE_STATE_MACHINE_ARN]);
const store = tenantStoreFromEnv();
const purgeWorkflow = new StateMachineStarter(new SFNClient(CLIENT_CONFIG), env.PURGE_STATE_MACHINE_ARN);

/** Tenants a sweep examines at most (one page of the byStatus index, oldest first). */
export const SWEEP_DEFAULT_LIMIT = 100;

const Input = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('purgeData'),
    tenantId: TenantIdSchema,
    immediate: z._default(z.boolean(), false),
  }),
  z.object({
    action: z.literal('sweep'),
    limit: z._default(z.number().check(z.int()).check(z.gte(1)).check(z.lte(1000)), SWEEP_DEFAULT_LIMIT),
  }),
]);

/** The tenant's directory under the mount, refusing anything that would resolve elsewhere. */
export function tenantDirectory(mountPath: string, tenantId: string): string {
  const root = resolve(mountPath);
  const dir = resolve(root, TenantIdSchema.parse(tenantId));
  if (!dir.startsWith(root + sep) || dir.slice(root.length + 1).includes(sep)) {
    throw new TenantStateConflictError(`refusing to purge ${dir}: not a direct child of ${root}`);
  }
  return dir;
}

/** Whether a DEPROVISIONED record's retention has ended at `now`. No retention date means "keep". */
export function retentionEnded(record: Pick<TenantRecord, 'dataRetainedUntil'>, now: number): boolean {
  if (!record.dataRetainedUntil) return false;
  const until = Date.parse(record.dataRetainedUntil);
  return Number.isFinite(until) && until <= now;
}

export interface PurgeDataResult {
  tenantId: string;
  directory: string;
  removed: boolean;
}

/** Checks the record, then removes `<mountPath>/<tenantId>` (and only that). */
export async function purgeData(
  deps: { store: Pick<TenantStore, 'require'>; mountPath: string; now?: () => number },
  { tenantId, immediate }: { tenantId: string; immediate: boolean },
): Promise<PurgeDataResult> {
  const record = await deps.store.require(tenantId);
  if (record.status !== 'DEPROVISIONED') {
    throw new TenantStateConflictError(`refusing to purge tenant "${tenantId}": it is ${record.status}, only a DEPROVISIONED tenant's data can be purged`);
  }
  if (!immediate && !retentionEnded(record, (deps.now ?? Date.now)())) {
    throw new TenantStateConflictError(
      `refusing to purge tenant "${tenantId}": its data is retained until ${record.dataRetainedUntil ?? '(unknown)'}; ask for immediate erasure to purge now`,
    );
  }
  const dir = tenantDirectory(deps.mountPath, tenantId);
  const entry = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (entry && !entry.isDirectory()) {
    // Never follow or remove something that is not the tenant's directory (e.g. a planted symlink).
    throw new TenantStateConflictError(`refusing to purge ${dir}: it is not a directory`);
  }
  // rm does not follow symbolic links inside the tree: it removes the links themselves.
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  return { tenantId, directory: `/tenants/${tenantId}`, removed: entry !== undefined };
}

export interface SweepResult {
  examined: number;
  started: { tenantId: string; executionArn: string }[];
  alreadyStarted: { tenantId: string; executionArn: string }[];
  notDue: number;
}

/**
 * Starts PurgeTenant for every DEPROVISIONED tenant (first `limit` of the byStatus index, oldest
 * change first) whose retention has ended. Deterministic names (per day) make a repeated sweep a no-op.
 */
export async function sweep(
  deps: { store: Pick<TenantStore, 'listByStatus'>; purge: WorkflowStarter; now?: () => number },
  limit: number,
): Promise<SweepResult> {
  const now = (deps.now ?? Date.now)();
  const records = await deps.store.listByStatus('DEPROVISIONED', limit);
  const result: SweepResult = { examined: records.length, started: [], alreadyStarted: [], notDue: 0 };
  for (const record of records) {
    if (!retentionEnded(record, now)) {
      result.notDue += 1;
      continue;
    }
    const request: PurgeRequest = { tenantId: record.tenantId, immediate: false };
    // One attempt per tenant per day: a repeated sweep is a no-op, and a purge that failed is
    // tried again by the next day's sweep (execution names are reserved for 90 days).
    const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, '');
    const name = `${operationExecutionName('purge', record.tenantId, record.version)}-d${day}`;
    const out = await deps.purge.start(name, JSON.stringify(request));
    (out.alreadyStarted ? result.alreadyStarted : result.started).push({ tenantId: record.tenantId, executionArn: out.executionArn });
  }
  return result;
}

export const handler = makeHandler('Purge', Input, async (input) => {
  if (input.action === 'sweep') {
    const result = await sweep({ store, purge: purgeWorkflow }, input.limit);
    logger.info('purge sweep done', { examined: result.examined, started: result.started.length, alreadyStarted: result.alreadyStarted.length });
    return result;
  }
  return purgeData({ store, mountPath: env.TENANTS_MOUNT_PATH }, input);
});
