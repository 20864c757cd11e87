/**
 * The cell's reconcile settings (cdk.json `reconcile`, the Reconcile function's
 * RECONCILE_SETTINGS_JSON): report-only or repair, the orphan grace period, the page size of the
 * scheduled run. Report-only by default: the function then has read rights only.
 */
import * as z from '../shared/zod';

export const ReconcileSettingsSchema = z.strictObject({
    /** "report": drift and orphans are reported (metric, event), nothing is changed. "repair": drift is repaired and orphans removed after the grace period. */
    mode: z._default(z.enum(['report', 'repair']), 'report'),
    /** Hours a resource must have been seen as an orphan before a later run removes it. */
    orphanGraceHours: z._default(z.number().check(z.gte(0)).check(z.lte(24 * 90)), 24),
    /** Tenants per page of the scheduled run (one Map over each page). */
    pageSize: z._default(z.int().check(z.gte(1)).check(z.lte(1000)), 50),
  });
export type ReconcileSettings = z.infer<typeof ReconcileSettingsSchema>;
