/**
 * Fleet rollouts (issue 13.1): one image digest and/or plan change rolled over the cell's tenants,
 * a canary set first, then waves. What a rollout is, how tenants are split into waves, when a wave
 * has failed, and the records that hold each tenant's outcome. No AWS here.
 *
 * Storage (the cell's tenants table, one partition per rollout):
 *   ROLLOUT#<id> / META              the rollout: request, waves, state, control flag, counters
 *   ROLLOUT#<id> / TENANT#<tenantId> one tenant's outcome
 * The META item carries gsi2pk = ROLLOUTS#<cell>, gsi2sk = ROLLOUT#<startedAt>#<id> (byCell index),
 * so `octw fleet rollouts` lists a cell's rollouts newest first without a scan.
 */
import * as z from '../shared/zod';
import { TenantIdSchema, type Plan } from './tenant';

/** `r<yyyymmdd>t<hhmmss>-<4 hex>`: sortable, unique enough per cell, a valid execution-name prefix. */
export const RolloutIdSchema = z.string().check(z.regex(/^r\d{8}t\d{6}-[0-9a-f]{4}$/, { error: 'a rollout id looks like r20261202t001500-a1b2' }));

export function newRolloutId(now: Date, random: string): string {
  const iso = now.toISOString().replace(/[-:]/g, '');
  return `r${iso.slice(0, 8)}t${iso.slice(9, 15)}-${random.slice(0, 4)}`;
}

/** An image pinned by digest, as an update accepts it (UpdateRequestSchema). */
export const DIGEST_IMAGE = /^([a-z0-9.\-/:]+)@sha256:[0-9a-f]{64}$/;

/** `REPO@sha256:…` → `REPO` (undefined when not digest-pinned). */
export function imageRepository(image: string): string | undefined {
  const m = DIGEST_IMAGE.exec(image);
  return m?.[1];
}

/**
 * Why a rollout image is refused, or [] when it is fine: it must be pinned by digest and come from a
 * repository the cell's plans already run (the cell's tenant image repository; a plan's image is
 * what provisioning starts, so a rollout cannot bring in an image from anywhere else).
 */
export function rolloutImageIssues(image: string, plans: readonly Pick<Plan, 'id' | 'image'>[]): string[] {
  const repo = imageRepository(image);
  if (repo === undefined) return [`image "${image}" is not pinned by digest: give REPOSITORY@sha256:<64 hex>`];
  const allowed = [...new Set(plans.map((p) => imageRepository(p.image) ?? p.image.replace(/[:@].*$/, '')))].sort();
  if (!allowed.includes(repo)) {
    return [`image repository "${repo}" is not one this cell's plans run (${allowed.join(', ') || 'none'}); push the image to the cell's repository first`];
  }
  return [];
}

export const RolloutRequestSchema = z.strictObject({
    image: z.optional(z.string()),
    plan: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'plan must be a plan id such as "standard"' }))),
    /** Tenants in the canary set (updated first, one at a time; any failure stops the rollout). */
    canary: z.int().check(z.gte(1)).check(z.lte(50)),
    /** Tenants per wave after the canary. */
    waveSize: z.int().check(z.gte(1)).check(z.lte(1000)),
    /** Tenants of one wave updated at once (the wave Map's MaxConcurrency); default: the whole wave, at most 40. */
    maxConcurrency: z.optional(z.int().check(z.gte(1)).check(z.lte(40))),
    /** A wave whose failed share exceeds this stops the rollout and is rolled back. */
    maxFailurePercent: z._default(z.number().check(z.gte(0)).check(z.lte(100)), 10),
    /** Only these tenants (default: every ACTIVE and SUSPENDED tenant of the cell). */
    tenantIds: z.optional(z.array(TenantIdSchema).check(z.maxLength(5000))),
  }).check(z.refine((r) => r.image !== undefined || r.plan !== undefined, { error: 'a rollout needs --image, --plan or both' }));
export type RolloutRequest = z.infer<typeof RolloutRequestSchema>;

/**
 * REFUSED: the quota check before the first tenant found a quota without room for the rollout
 * (record field `quota` says which, with the figures); no tenant was touched.
 */
export const ROLLOUT_STATES = ['RUNNING', 'PAUSED', 'SUCCEEDED', 'FAILED', 'ABORTED', 'REFUSED'] as const;
/** States a rollout ends in. */
export const FINISHED_ROLLOUT_STATES: readonly RolloutState[] = ['SUCCEEDED', 'FAILED', 'ABORTED', 'REFUSED'];
export const RolloutStateSchema = z.enum(ROLLOUT_STATES);
export type RolloutState = z.infer<typeof RolloutStateSchema>;

/** What the operator asked for last (`octw fleet rollout pause|resume|abort`); read between waves and before each tenant. */
export const RolloutControlSchema = z.enum(['run', 'pause', 'abort']);
export type RolloutControl = z.infer<typeof RolloutControlSchema>;

/**
 * A tenant's outcome:
 * - PENDING: not reached yet; IN_PROGRESS: its update runs;
 * - UPDATED: healthy on the new revision; UNCHANGED: it already had this configuration;
 * - RESTAGED: SUSPENDED, its new revision registered and the service pointed at it, not started;
 * - FAILED: its update failed and the update workflow put it back on its previous revision;
 * - SKIPPED: not updated (busy with another workflow, not ACTIVE/SUSPENDED, wave stopped, aborted);
 * - ROLLED_BACK / ROLLBACK_FAILED: updated in a wave that failed, then put back (or not).
 */
export const TENANT_OUTCOMES = ['PENDING', 'IN_PROGRESS', 'UPDATED', 'UNCHANGED', 'RESTAGED', 'FAILED', 'SKIPPED', 'ROLLED_BACK', 'ROLLBACK_FAILED'] as const;
export const TenantOutcomeSchema = z.enum(TENANT_OUTCOMES);
export type TenantOutcome = z.infer<typeof TenantOutcomeSchema>;

/** Outcomes that count as failures against the wave's tolerance. */
export const FAILURE_OUTCOMES: readonly TenantOutcome[] = ['FAILED'];
/** Outcomes of a tenant that now runs (or will run, when resumed) the new configuration. */
export const CHANGED_OUTCOMES: readonly TenantOutcome[] = ['UPDATED', 'RESTAGED'];

export const WaveSummarySchema = z.object({
  index: z.int().check(z.gte(0)),
  /** Wave 0 is the canary. */
  canary: z.boolean(),
  size: z.int().check(z.gte(0)),
  state: z.enum(['PENDING', 'RUNNING', 'PASSED', 'FAILED', 'ROLLED_BACK', 'SKIPPED']),
  failed: z._default(z.int().check(z.gte(0)), 0),
});
export type WaveSummary = z.infer<typeof WaveSummarySchema>;

/** One quota without room, as the quota check before a rollout recorded it. */
export const RolloutQuotaRefusalSchema = z.object({
  quota: z.string(),
  code: z.optional(z.string()),
  limit: z.number(),
  usage: z.number(),
  need: z.number(),
  reason: z.string(),
});

/** The quota check before the first tenant (issue 13.5): what the rollout needs and whether it fit. */
export const RolloutQuotaCheckSchema = z.object({
  checkedAt: z.string(),
  ok: z.boolean(),
  /** What the rollout needs per quota id (deployment surge of the tenants updated at once, plus plan growth). */
  needs: z.record(z.string(), z.number()),
  basis: z.object({
    concurrency: z.int(),
    surgeTasksPerTenant: z.array(z.int()),
    surgeTasks: z.int(),
    planGrowthTenants: z.int(),
    planGrowthVcpu: z.number(),
  }),
  refusals: z._default(z.array(RolloutQuotaRefusalSchema), []),
});
export type RolloutQuotaCheck = z.infer<typeof RolloutQuotaCheckSchema>;

export const RolloutMetaFieldsSchema = z.object({
  pk: z.string().check(z.startsWith('ROLLOUT#')),
  sk: z.literal('META'),
  rolloutId: RolloutIdSchema,
  cell: z.string(),
  state: RolloutStateSchema,
  control: RolloutControlSchema,
  image: z.optional(z.string()),
  plan: z.optional(z.string()),
  canary: z.int(),
  waveSize: z.int(),
  maxConcurrency: z.int(),
  maxFailurePercent: z.number(),
  waves: z.array(WaveSummarySchema),
  /** The wave that runs (or ran last); -1 before the canary. */
  currentWave: z.int().check(z.gte(-1)),
  executionArn: z.string(),
  startedAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.optional(z.string()),
  /** Why the rollout stopped (FAILED / ABORTED / REFUSED). */
  reason: z.optional(z.string()),
  /** The quota check before the first tenant (absent: the cell's quota guard is off, or a rollout from before it). */
  quota: z.optional(RolloutQuotaCheckSchema),
});
export type RolloutMetaFields = z.infer<typeof RolloutMetaFieldsSchema>;
/** The stored item also holds the per-wave failure counters, atomically incremented: `failed_<wave>`. */
export const RolloutMetaSchema = z.catchall(RolloutMetaFieldsSchema, z.unknown());
export type RolloutMeta = z.infer<typeof RolloutMetaSchema>;

export const RolloutTenantSchema = z.object({
  pk: z.string().check(z.startsWith('ROLLOUT#')),
  sk: z.string().check(z.startsWith('TENANT#')),
  rolloutId: RolloutIdSchema,
  tenantId: TenantIdSchema,
  wave: z.int().check(z.gte(0)),
  /** The tenant's status when the rollout selected it. */
  statusAtStart: z.string(),
  outcome: TenantOutcomeSchema,
  /** What it ran before (for the rollback of a failed wave): its plan and its image override, if any. */
  previousPlan: z.optional(z.string()),
  previousImage: z.optional(z.string()),
  detail: z.optional(z.string()),
  updatedAt: z.string(),
});
export type RolloutTenant = z.infer<typeof RolloutTenantSchema>;

export const rolloutKey = (rolloutId: string) => ({ pk: `ROLLOUT#${rolloutId}`, sk: 'META' });
export const rolloutTenantKey = (rolloutId: string, tenantId: string) => ({ pk: `ROLLOUT#${rolloutId}`, sk: `TENANT#${tenantId}` });
export const rolloutIndexKey = (cell: string, startedAt: string, rolloutId: string) => ({ gsi2pk: `ROLLOUTS#${cell}`, gsi2sk: `ROLLOUT#${startedAt}#${rolloutId}` });

/**
 * The canary set and the waves: tenants sorted by id (a stable, reviewable order), the first
 * `canary` ACTIVE ones in wave 0 (a canary must prove the new revision healthy, which a suspended
 * tenant cannot), then waves of `waveSize` over everything else.
 */
export function planWaves<T extends { tenantId: string; status: string }>(tenants: readonly T[], canary: number, waveSize: number): T[][] {
  const sorted = [...tenants].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
  const canarySet = sorted.filter((t) => t.status === 'ACTIVE').slice(0, canary);
  const chosen = new Set(canarySet.map((t) => t.tenantId));
  const rest = sorted.filter((t) => !chosen.has(t.tenantId));
  const waves: T[][] = canarySet.length > 0 ? [canarySet] : [];
  for (let i = 0; i < rest.length; i += waveSize) waves.push(rest.slice(i, i + waveSize));
  return waves;
}

/**
 * How many failures a wave of `size` tolerates: the canary none; a wave floor(size × percent / 100),
 * as Step Functions' ToleratedFailurePercentage reads "fails when the failed share exceeds the percentage".
 */
export function toleratedFailures(size: number, percent: number, canary: boolean): number {
  if (canary) return 0;
  return Math.floor((size * percent) / 100 + 1e-9);
}

/** The execution names of a tenant's update started by a rollout, and of its rollback (≤ 80 characters). */
export const rolloutUpdateName = (rolloutId: string, tenantId: string) => `${rolloutId}-${tenantId}`;
export const rolloutRollbackName = (rolloutId: string, tenantId: string) => `${rolloutId}-rb-${tenantId}`;
