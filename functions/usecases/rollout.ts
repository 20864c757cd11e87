/**
 * The steps of the fleet rollout workflow (state-machines/rollout-fleet.asl.json). Each tenant is
 * changed by the existing update workflow (health-gated, rolls itself back); a SUSPENDED tenant is
 * restaged (new revision registered and the service pointed at it, not started). These steps only
 * choose, admit, record and judge:
 * - begin: validate the request, pick the tenants, split canary + waves, write the rollout record;
 * - next: the operator's control flag (pause/abort) between waves, then the next wave;
 * - admit: per tenant, just before it is changed: skip when aborted or when its wave already failed
 *   beyond tolerance (no new tenant starts once the wave is lost), else say how to change it;
 * - record: the tenant's outcome from the nested update's result (or error);
 * - evaluate: the wave's failed share against its tolerance; a failed wave lists what to roll back;
 * - rolledBack, finish.
 */
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import {
  CHANGED_OUTCOMES,
  TENANT_OUTCOMES,
  RolloutRequestSchema,
  planWaves,
  rolloutImageIssues,
  rolloutRollbackName,
  rolloutUpdateName,
  toleratedFailures,
  type RolloutMeta,
  type RolloutState,
  type TenantOutcome,
  type WaveSummary,
} from '../domain/rollout';
import type { Plan, TenantStatus } from '../domain/tenant';
import type { EventPublisher } from '../adapters/lifecycle-events';
import type { RolloutStore } from '../adapters/rollout-store';
import type { TenantStore } from '../adapters/tenant-store';
import { parseRequest } from './signup';

export interface RolloutDeps {
  readonly rollouts: RolloutStore;
  readonly tenants: Pick<TenantStore, 'get' | 'listByStatus'>;
  readonly plans: readonly Plan[];
  readonly cell: string;
  readonly now?: () => Date;
  /** Where the rollout's end is told (FleetRolloutFinished); absent: not published (tests of single steps). */
  readonly events?: EventPublisher;
  /** The rollout's end as metrics (the handler's powertools metrics). */
  readonly onFinished?: (summary: RolloutSummary) => void;
}

export const ROLLOUT_FINISHED_EVENT = 'FleetRolloutFinished';

/** How a rollout ended: the FleetRolloutFinished event's detail and the metrics' figures. */
export interface RolloutSummary {
  rolloutId: string;
  cell: string;
  state: RolloutState;
  reason?: string;
  image?: string;
  plan?: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  tenants: number;
  /** Tenants per final outcome (every outcome listed, 0 when none). */
  outcomes: Record<TenantOutcome, number>;
  /** UPDATED + RESTAGED: tenants on the new configuration. */
  updated: number;
  failed: number;
  rolledBack: number;
  rollbackFailed: number;
  skipped: number;
  waves: { total: number; passed: number; failed: number; rolledBack: number; skipped: number };
}

/** At most this many tenants per rollout (the Map's items travel in the execution state). */
export const MAX_ROLLOUT_TENANTS = 5000;
const SELECTABLE: readonly TenantStatus[] = ['ACTIVE', 'SUSPENDED'];

export async function beginRollout(deps: RolloutDeps, rolloutId: string, raw: unknown, executionArn: string): Promise<{ rolloutId: string; waves: number; tenants: number }> {
  const request = parseRequest(RolloutRequestSchema, raw, 'rollout refused');
  const issues: string[] = [];
  if (request.image !== undefined) issues.push(...rolloutImageIssues(request.image, deps.plans));
  if (request.plan !== undefined && !deps.plans.some((p) => p.id === request.plan)) {
    issues.push(`plan "${request.plan}" is not in this cell's catalogue (${deps.plans.map((p) => p.id).join(', ')})`);
  }
  if (issues.length > 0) throw new ValidationError(`rollout refused: ${issues.join('; ')}`, issues.map((message) => ({ path: '(input)', message })));

  const existing = await deps.rollouts.get(rolloutId);
  if (existing) return { rolloutId, waves: existing.waves.length, tenants: existing.waves.reduce((n, w) => n + w.size, 0) };

  let candidates = (await Promise.all(SELECTABLE.map((s) => deps.tenants.listByStatus(s, MAX_ROLLOUT_TENANTS + 1)))).flat();
  if (request.tenantIds) {
    const wanted = new Set(request.tenantIds);
    const unknown = request.tenantIds.filter((id) => !candidates.some((c) => c.tenantId === id));
    if (unknown.length > 0) throw new ValidationError(`rollout refused: not ACTIVE or SUSPENDED in this cell: ${unknown.join(', ')}`);
    candidates = candidates.filter((c) => wanted.has(c.tenantId));
  }
  if (candidates.length > MAX_ROLLOUT_TENANTS) throw new ValidationError(`rollout refused: more than ${MAX_ROLLOUT_TENANTS} tenants; roll out in parts with tenantIds`);
  if (candidates.length === 0) throw new ValidationError('rollout refused: the cell has no ACTIVE or SUSPENDED tenant');
  const waves = planWaves(candidates, request.canary, request.waveSize);
  if (waves.length === 0 || !candidates.some((c) => c.status === 'ACTIVE')) {
    throw new ValidationError('rollout refused: no ACTIVE tenant for the canary (a suspended tenant cannot prove the new revision healthy)');
  }
  const startedAt = (deps.now?.() ?? new Date()).toISOString();
  const summaries: WaveSummary[] = waves.map((w, index) => ({ index, canary: index === 0, size: w.length, state: 'PENDING', failed: 0 }));
  await deps.rollouts.create(
    {
      rolloutId,
      cell: deps.cell,
      state: 'RUNNING',
      control: 'run',
      ...(request.image !== undefined ? { image: request.image } : {}),
      ...(request.plan !== undefined ? { plan: request.plan } : {}),
      canary: request.canary,
      waveSize: request.waveSize,
      maxConcurrency: request.maxConcurrency ?? Math.min(request.waveSize, 40),
      maxFailurePercent: request.maxFailurePercent,
      waves: summaries,
      currentWave: -1,
      executionArn,
      startedAt,
    },
    waves.flatMap((w, wave) =>
      w.map((t) => ({
        tenantId: t.tenantId,
        wave,
        statusAtStart: t.status,
        previousPlan: t.plan,
        ...(t.imageOverride ? { previousImage: t.imageOverride } : {}),
      })),
    ),
  );
  return { rolloutId, waves: waves.length, tenants: candidates.length };
}

export type NextStep =
  | { action: 'run'; wave: number; canary: boolean; maxConcurrency: number; tenants: { tenantId: string }[] }
  | { action: 'pause' | 'abort' | 'done' };

/** Between waves: the control flag first, then the next PENDING wave. */
export async function nextWave(deps: RolloutDeps, rolloutId: string): Promise<NextStep> {
  const meta = await deps.rollouts.require(rolloutId);
  if (meta.control === 'abort') return { action: 'abort' };
  if (meta.control === 'pause') {
    if (meta.state !== 'PAUSED') await deps.rollouts.progress(rolloutId, { state: 'PAUSED' });
    return { action: 'pause' };
  }
  const wave = meta.waves.find((w) => w.state === 'PENDING');
  if (!wave) return { action: 'done' };
  const waves = meta.waves.map((w) => (w.index === wave.index ? { ...w, state: 'RUNNING' as const } : w));
  await deps.rollouts.progress(rolloutId, { state: 'RUNNING', currentWave: wave.index, waves });
  const tenants = (await deps.rollouts.tenants(rolloutId, wave.index)).map((t) => ({ tenantId: t.tenantId }));
  // The canary goes one tenant at a time: its first failure stops it before the next canary starts.
  return { action: 'run', wave: wave.index, canary: wave.canary, maxConcurrency: wave.canary ? 1 : meta.maxConcurrency, tenants };
}

export type Admission =
  | { go: 'skip'; reason: string }
  | { go: 'update'; executionName: string; update: { tenantId: string; image?: string; plan?: string } }
  | { go: 'restage'; image?: string; plan?: string };

function failedSoFar(meta: RolloutMeta, wave: number): number {
  const n = meta[`failed_${wave}`];
  return typeof n === 'number' ? n : 0;
}

/** Just before a tenant is changed. */
export async function admitTenant(deps: RolloutDeps, rolloutId: string, wave: number, tenantId: string): Promise<Admission> {
  const meta = await deps.rollouts.require(rolloutId);
  const skip = async (reason: string): Promise<Admission> => {
    await deps.rollouts.setOutcome(rolloutId, tenantId, 'SKIPPED', reason, ['PENDING']);
    return { go: 'skip', reason };
  };
  if (meta.control === 'abort') return skip('rollout aborted before this tenant started');
  const summary = meta.waves[wave];
  if (summary && failedSoFar(meta, wave) > toleratedFailures(summary.size, meta.maxFailurePercent, summary.canary)) {
    return skip(`wave ${wave} already failed beyond its tolerance; not started`);
  }
  const record = await deps.tenants.get(tenantId);
  if (!record) return skip('tenant no longer exists');
  const target = { ...(meta.image !== undefined ? { image: meta.image } : {}), ...(meta.plan !== undefined ? { plan: meta.plan } : {}) };
  if (record.status === 'ACTIVE') {
    if (!(await deps.rollouts.setOutcome(rolloutId, tenantId, 'IN_PROGRESS', undefined, ['PENDING', 'IN_PROGRESS']))) return { go: 'skip', reason: 'already decided' };
    return { go: 'update', executionName: rolloutUpdateName(rolloutId, tenantId), update: { tenantId, ...target } };
  }
  if (record.status === 'SUSPENDED') {
    if (meta.plan !== undefined && meta.plan !== record.plan) {
      return skip(`SUSPENDED on plan "${record.plan}": a plan change also changes its role and egress policy, which needs the tenant ACTIVE; resume it, then roll again`);
    }
    if (!(await deps.rollouts.setOutcome(rolloutId, tenantId, 'IN_PROGRESS', undefined, ['PENDING', 'IN_PROGRESS']))) return { go: 'skip', reason: 'already decided' };
    return { go: 'restage', ...target };
  }
  return skip(`tenant is ${record.status}, not ACTIVE or SUSPENDED`);
}

/** `{Error, Cause}` of a caught startExecution.sync failure: Cause is the nested execution's description. */
function nestedError(error: { Error?: string; Cause?: string }): { name: string; message: string } {
  try {
    const d = JSON.parse(error.Cause ?? '') as { Error?: unknown; Cause?: unknown };
    if (typeof d.Error === 'string') {
      let message = typeof d.Cause === 'string' ? d.Cause : '';
      try {
        const inner = JSON.parse(message) as { errorMessage?: unknown };
        if (typeof inner.errorMessage === 'string') message = inner.errorMessage;
      } catch {
        // plain text
      }
      return { name: d.Error, message };
    }
  } catch {
    // not the nested description: the error of the task itself
  }
  let message = error.Cause ?? '';
  try {
    const inner = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof inner.errorMessage === 'string') message = inner.errorMessage;
  } catch {
    // plain text
  }
  return { name: error.Error ?? 'Unknown', message };
}

/** The tenant's outcome, from the update's output, the restage's result or the caught error. */
export async function recordOutcome(
  deps: RolloutDeps,
  input: { rolloutId: string; wave: number; tenantId: string; mode: 'update' | 'restage'; result?: unknown; error?: { Error?: string; Cause?: string } },
): Promise<{ outcome: TenantOutcome; detail?: string }> {
  let outcome: TenantOutcome;
  let detail: string | undefined;
  if (input.error) {
    const e = nestedError(input.error);
    detail = `${e.name}: ${e.message}`.slice(0, 1000);
    // Another workflow holds the tenant (or it left ACTIVE): nothing of ours ran on it.
    outcome = e.name === 'TenantStateConflictError' ? 'SKIPPED' : 'FAILED';
  } else if (input.mode === 'restage') {
    const r = input.result as { changed?: unknown } | undefined;
    outcome = r?.changed === false ? 'UNCHANGED' : 'RESTAGED';
  } else {
    const out = input.result as { Output?: { claim?: { changed?: unknown } } } | undefined;
    outcome = out?.Output?.claim?.changed === false ? 'UNCHANGED' : 'UPDATED';
  }
  const written = await deps.rollouts.setOutcome(input.rolloutId, input.tenantId, outcome, detail, ['IN_PROGRESS']);
  if (written && outcome === 'FAILED') await deps.rollouts.countFailure(input.rolloutId, input.wave);
  return { outcome, ...(detail !== undefined ? { detail } : {}) };
}

export interface RollbackItem {
  tenantId: string;
  mode: 'update' | 'restage';
  executionName: string;
  update: { tenantId: string; image?: string; plan?: string };
}

export type Evaluation = { verdict: 'pass'; failed: number; tolerated: number } | { verdict: 'fail'; failed: number; tolerated: number; reason: string; rollback: RollbackItem[] };

/** After a wave: its failed share against the tolerance; a failed wave lists its changed tenants to put back. */
export async function evaluateWave(deps: RolloutDeps, rolloutId: string, wave: number): Promise<Evaluation> {
  const meta = await deps.rollouts.require(rolloutId);
  const tenants = await deps.rollouts.tenants(rolloutId, wave);
  // A tenant still IN_PROGRESS here lost its outcome (its record step failed): counted as failed.
  const failed = tenants.filter((t) => t.outcome === 'FAILED' || t.outcome === 'IN_PROGRESS').length;
  const summary = meta.waves[wave]!;
  const tolerated = toleratedFailures(summary.size, meta.maxFailurePercent, summary.canary);
  const passed = failed <= tolerated;
  const waves = meta.waves.map((w) => (w.index === wave ? { ...w, failed, state: passed ? ('PASSED' as const) : ('FAILED' as const) } : w));
  await deps.rollouts.progress(rolloutId, { waves });
  if (passed) return { verdict: 'pass', failed, tolerated };
  const reason = `${summary.canary ? 'canary' : `wave ${wave}`}: ${failed} of ${summary.size} tenants failed, ${tolerated} tolerated (${summary.canary ? 'a canary tolerates none' : `${meta.maxFailurePercent} %`})`;
  const rollback = tenants
    .filter((t) => CHANGED_OUTCOMES.includes(t.outcome))
    .map((t): RollbackItem => {
      const planId = t.previousPlan ?? meta.plan;
      const plan = deps.plans.find((p) => p.id === planId);
      // Without an override before, the tenant ran its (previous) plan's image: pin that one again.
      const image = meta.image !== undefined ? (t.previousImage ?? plan?.image) : undefined;
      return {
        tenantId: t.tenantId,
        mode: t.outcome === 'RESTAGED' ? 'restage' : 'update',
        executionName: rolloutRollbackName(rolloutId, t.tenantId),
        update: { tenantId: t.tenantId, ...(image !== undefined ? { image } : {}), ...(meta.plan !== undefined && t.previousPlan !== undefined ? { plan: t.previousPlan } : {}) },
      };
    });
  return { verdict: 'fail', failed, tolerated, reason, rollback };
}

export async function markRolledBack(deps: RolloutDeps, rolloutId: string, tenantId: string, error?: { Error?: string; Cause?: string }): Promise<{ outcome: TenantOutcome }> {
  const outcome: TenantOutcome = error ? 'ROLLBACK_FAILED' : 'ROLLED_BACK';
  const detail = error ? (() => { const e = nestedError(error); return `${e.name}: ${e.message}`; })() : 'put back on its previous configuration after its wave failed';
  await deps.rollouts.setOutcome(rolloutId, tenantId, outcome, detail, ['UPDATED', 'RESTAGED']);
  return { outcome };
}

/** The rollout's end: its state, why, the failed wave marked rolled back, tenants never reached marked SKIPPED. */
export async function finishRollout(deps: RolloutDeps, rolloutId: string, state: Extract<RolloutState, 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'REFUSED'>, reason?: string, rolledBackWave?: number): Promise<{ state: RolloutState }> {
  const meta = await deps.rollouts.require(rolloutId);
  const tenants = await deps.rollouts.tenants(rolloutId);
  // The failed wave is ROLLED_BACK when it had changed tenants to put back (a canary that failed alone stays FAILED).
  const putBack = tenants.some((t) => t.wave === rolledBackWave && (t.outcome === 'ROLLED_BACK' || t.outcome === 'ROLLBACK_FAILED'));
  const waves = meta.waves.map((w) =>
    w.index === rolledBackWave && putBack ? { ...w, state: 'ROLLED_BACK' as const } : w.state === 'PENDING' ? { ...w, state: 'SKIPPED' as const } : w,
  );
  for (const t of tenants) {
    if (t.outcome === 'PENDING') await deps.rollouts.setOutcome(rolloutId, t.tenantId, 'SKIPPED', `not reached: rollout ${state}`, ['PENDING']);
  }
  // A retried finish after the record says finished: told once already.
  if (meta.finishedAt === undefined) {
    const finishedAt = deps.now?.() ?? new Date();
    const summary = summarize(meta, state, reason, waves, tenants.map((t) => (t.outcome === 'PENDING' ? 'SKIPPED' : t.outcome)), finishedAt);
    // Told before the record is marked finished: a retry after a failed write tells again (at least once).
    await deps.events?.publish(ROLLOUT_FINISHED_EVENT, { ...summary });
    deps.onFinished?.(summary);
  }
  await deps.rollouts.progress(rolloutId, { state, waves, finished: true, ...(reason !== undefined ? { reason } : {}) });
  return { state };
}

function summarize(meta: RolloutMeta, state: RolloutState, reason: string | undefined, waves: readonly WaveSummary[], outcomes: readonly TenantOutcome[], finishedAt: Date): RolloutSummary {
  const count = (o: TenantOutcome) => outcomes.filter((x) => x === o).length;
  const byOutcome = Object.fromEntries(TENANT_OUTCOMES.map((o) => [o, count(o)])) as Record<TenantOutcome, number>;
  const waveCount = (s: WaveSummary['state']) => waves.filter((w) => w.state === s).length;
  return {
    rolloutId: meta.rolloutId,
    cell: meta.cell,
    state,
    ...(reason !== undefined ? { reason: reason.slice(0, 1000) } : {}),
    ...(meta.image !== undefined ? { image: meta.image } : {}),
    ...(meta.plan !== undefined ? { plan: meta.plan } : {}),
    startedAt: meta.startedAt,
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.max(0, Math.round((finishedAt.getTime() - Date.parse(meta.startedAt)) / 100) / 10),
    tenants: outcomes.length,
    outcomes: byOutcome,
    updated: byOutcome.UPDATED + byOutcome.RESTAGED,
    failed: byOutcome.FAILED,
    rolledBack: byOutcome.ROLLED_BACK,
    rollbackFailed: byOutcome.ROLLBACK_FAILED,
    skipped: byOutcome.SKIPPED,
    waves: { total: waves.length, passed: waveCount('PASSED'), failed: waveCount('FAILED'), rolledBack: waveCount('ROLLED_BACK'), skipped: waveCount('SKIPPED') },
  };
}

/** The rollout state a control request may act on (used by the CLI's pause/resume/abort). */
export function assertControllable(meta: RolloutMeta): void {
  if (meta.state !== 'RUNNING' && meta.state !== 'PAUSED') throw new TenantStateConflictError(`rollout "${meta.rolloutId}" is ${meta.state}`);
}
