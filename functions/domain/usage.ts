/**
 * A tenant's EFS usage against its plan's quota (issue 8: one tenant must not starve the others).
 * Pure domain code: the measuring is in functions/handlers/usage.ts.
 */
import type { Plan } from './tenant';

export const GIB = 1024 ** 3;
/** EFS meters a file's data in 4 KiB increments. */
export const EFS_BLOCK_BYTES = 4096;

/** What a walk of `/tenants/<id>` found. */
export interface DirectoryUsage {
  /** Metered bytes: regular files rounded up to 4 KiB, plus one 4 KiB block per directory and link. */
  bytes: number;
  /** Regular files, directories and links seen. */
  entries: number;
}

export type QuotaVerdict =
  | { over: false; quotaBytes: number | undefined }
  | { over: true; quotaBytes: number; action: 'alarm' | 'suspend' };

/** Whether `usage` is over the plan's quota, and what the plan says to do then. No quota: never over. */
export function quotaVerdict(usageBytes: number, plan: Pick<Plan, 'efsQuotaGiB' | 'overQuotaAction'> | undefined): QuotaVerdict {
  if (plan?.efsQuotaGiB === undefined) return { over: false, quotaBytes: undefined };
  const quotaBytes = Math.floor(plan.efsQuotaGiB * GIB);
  if (usageBytes <= quotaBytes) return { over: false, quotaBytes };
  return { over: true, quotaBytes, action: plan.overQuotaAction ?? 'alarm' };
}
