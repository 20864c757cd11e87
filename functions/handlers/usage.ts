/**
 * Measures each tenant's EFS usage on a schedule (issue 8: one tenant must not starve the others).
 * EFS has no per-directory usage API, so this function walks `/tenants/<id>` through its own access
 * point (root /tenants, uid 0 to read the tenants' 0700 directories) mounted READ-ONLY at
 * TENANTS_MOUNT_PATH: its role has ClientMount and ClientRootAccess but not ClientWrite.
 *
 * For every ACTIVE or SUSPENDED tenant it publishes `TenantEfsBytes` (dimension TenantId). Over the
 * plan's `efsQuotaGiB` it publishes `TenantsOverQuota` (alarmed), puts a `TenantOverQuota` event and,
 * when the plan's `overQuotaAction` is "suspend" and the tenant is ACTIVE, starts its SuspendTenant
 * run under the name the CLI would use (`suspend-<id>-v<version>`), so a repeated run is a no-op.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from '../shared/zod';
import type { EventPublisher } from '../adapters/lifecycle-events';
import { StateMachineStarter } from '../adapters/step-functions';
import type { TenantStore } from '../adapters/tenant-store';
import { TenantStateConflictError } from '../domain/errors';
import { operationExecutionName, type TenantRequest } from '../domain/operations';
import { TenantIdSchema, type Plan } from '../domain/tenant';
import { EFS_BLOCK_BYTES, quotaVerdict, type DirectoryUsage } from '../domain/usage';
import type { WorkflowStarter } from '../usecases/intake';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { logger, metrics } from '../shared/powertools';

export const OVER_QUOTA_DETAIL_TYPE = 'TenantOverQuota';
/** Tenants a run measures at most, per status. */
export const USAGE_DEFAULT_LIMIT = 1000;

const roundUp = (n: number) => Math.ceil(n / EFS_BLOCK_BYTES) * EFS_BLOCK_BYTES;

/**
 * Walks `dir` without following symbolic links: regular files count their size rounded up to the
 * 4 KiB EFS meters in, directories and links one block each. A missing directory is empty; entries
 * that vanish during the walk are skipped.
 */
export async function measureDirectory(dir: string): Promise<DirectoryUsage> {
  const usage: DirectoryUsage = { bytes: 0, entries: 0 };
  const root = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!root) return usage;
  if (!root.isDirectory()) return { bytes: roundUp(root.size), entries: 1 };
  const pending = [dir];
  usage.bytes += EFS_BLOCK_BYTES;
  usage.entries += 1;
  while (pending.length > 0) {
    const current = pending.pop()!;
    let children: Dirent[];
    try {
      children = await readdir(current, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const child of children) {
      const path = join(current, child.name);
      if (child.isDirectory()) {
        pending.push(path);
        usage.bytes += EFS_BLOCK_BYTES;
        usage.entries += 1;
      } else if (child.isFile()) {
        const stat = await lstat(path).catch(() => undefined);
        if (!stat) continue;
        usage.bytes += roundUp(stat.size);
        usage.entries += 1;
      } else {
        // Symbolic links (never followed), sockets, FIFOs: one block of metadata.
        usage.bytes += EFS_BLOCK_BYTES;
        usage.entries += 1;
      }
    }
  }
  return usage;
}

/** The tenant's directory under the mount; refuses anything that would resolve elsewhere. */
export function tenantDirectory(mountPath: string, tenantId: string): string {
  const root = resolve(mountPath);
  const dir = resolve(root, TenantIdSchema.parse(tenantId));
  if (!dir.startsWith(root + sep) || dir.slice(root.length + 1).includes(sep)) {
    throw new TenantStateConflictError(`refusing to measure ${dir}: not a direct child of ${root}`);
  }
  return dir;
}

export interface UsageDeps {
  store: Pick<TenantStore, 'listByStatus'>;
  events: EventPublisher;
  suspend: WorkflowStarter;
  plans: readonly Plan[];
  cell: string;
  mountPath: string;
  /** Publishes one tenant's usage (a metric with a TenantId dimension). */
  publishUsage: (tenantId: string, bytes: number) => void;
}

export interface TenantUsage {
  tenantId: string;
  status: string;
  plan: string;
  bytes: number;
  entries: number;
  quotaBytes?: number;
  overQuota: boolean;
  /** The SuspendTenant run started (or already started) for it. */
  suspension?: { executionArn: string; alreadyStarted: boolean };
}

/** Measures every ACTIVE and SUSPENDED tenant, and acts on those over their plan's quota. */
export async function measureTenants(deps: UsageDeps, limit: number): Promise<TenantUsage[]> {
  const records = [...(await deps.store.listByStatus('ACTIVE', limit)), ...(await deps.store.listByStatus('SUSPENDED', limit))];
  const results: TenantUsage[] = [];
  for (const record of records) {
    const usage = await measureDirectory(tenantDirectory(deps.mountPath, record.tenantId));
    deps.publishUsage(record.tenantId, usage.bytes);
    const plan = deps.plans.find((p) => p.id === record.plan);
    const verdict = quotaVerdict(usage.bytes, plan);
    const result: TenantUsage = {
      tenantId: record.tenantId,
      status: record.status,
      plan: record.plan,
      bytes: usage.bytes,
      entries: usage.entries,
      ...(verdict.quotaBytes !== undefined ? { quotaBytes: verdict.quotaBytes } : {}),
      overQuota: verdict.over,
    };
    if (verdict.over) {
      if (verdict.action === 'suspend' && record.status === 'ACTIVE') {
        const request: TenantRequest = { tenantId: record.tenantId };
        result.suspension = await deps.suspend.start(operationExecutionName('suspend', record.tenantId, record.version), JSON.stringify(request));
      }
      await deps.events.publish(OVER_QUOTA_DETAIL_TYPE, {
        tenantId: record.tenantId,
        cell: deps.cell,
        plan: record.plan,
        usageBytes: usage.bytes,
        quotaBytes: verdict.quotaBytes,
        action: verdict.action,
        ...(result.suspension ? { suspensionExecutionArn: result.suspension.executionArn } : {}),
      });
    }
    results.push(result);
  }
  return results;
}

const Input = z.object({
  action: z.literal('measure'),
  limit: z._default(z.number().check(z.int()).check(z.gte(1)).check(z.lte(10_000)), USAGE_DEFAULT_LIMIT),
});

const env = loadEnv([vars.PLANS_JSON, vars.TENANTS_MOUNT_PATH, vars.SUSPEND_STATE_MACHINE_ARN, vars.CELL_ID]);
const { store, events } = lifecycleDepsFromEnv();
const suspend = new StateMachineStarter(new SFNClient(CLIENT_CONFIG), env.SUSPEND_STATE_MACHINE_ARN);

export const handler = makeHandler('Usage', Input, async (input) => {
  const results = await measureTenants(
    {
      store,
      events,
      suspend,
      plans: env.PLANS_JSON,
      cell: env.CELL_ID,
      mountPath: env.TENANTS_MOUNT_PATH,
      publishUsage: (tenantId, bytes) => {
        const metric = metrics.singleMetric();
        metric.addDimension('TenantId', tenantId);
        metric.addMetric('TenantEfsBytes', MetricUnit.Bytes, bytes);
      },
    },
    input.limit,
  );
  const over = results.filter((r) => r.overQuota);
  metrics.addMetric('TenantsOverQuota', MetricUnit.Count, over.length);
  logger.info('usage measured', { tenants: results.length, overQuota: over.map((r) => r.tenantId) });
  return { measured: results.length, overQuota: over };
});
