/**
 * The cell's reconcile settings (cdk.json `reconcile`, the Reconcile function's
 * RECONCILE_SETTINGS_JSON): report-only or repair, the orphan grace period, the page size of the
 * scheduled run. Report-only by default: the function then has read rights only.
 */
import * as z from 'zod';

export const ReconcileSettingsSchema = z
  .object({
    /** "report": drift and orphans are reported (metric, event), nothing is changed. "repair": drift is repaired and orphans removed after the grace period. */
    mode: z.enum(['report', 'repair']).default('report'),
    /** Hours a resource must have been seen as an orphan before a later run removes it. */
    orphanGraceHours: z.number().min(0).max(24 * 90).default(24),
    /** Tenants per page of the scheduled run (one Map over each page). */
    pageSize: z.int().min(1).max(1000).default(50),
  })
  .strict();
export type ReconcileSettings = z.infer<typeof ReconcileSettingsSchema>;
