/**
 * The quota check at the start of a rollout (issue 13.5: "before provisioning, and before a
 * rollout"). Runs after the rollout record is written and before the first wave: the rollout's
 * needs (functions/domain/rollout-quotas.ts: the deployment surge of the tenants updated at once,
 * read from their services' deployment configuration, plus the vCPU a bigger plan adds to every
 * ACTIVE tenant) against the live quota readings. A rollout that does not fit is refused before any
 * tenant is touched: the record says REFUSED with the quota, the figures and the reason, every
 * tenant SKIPPED, a `FleetRolloutQuotaRefused` event is published and QuotaExceededError thrown
 * (the workflow ends in its RolloutQuotaRefused state). The cell's quota guard off: no check.
 */
import { QuotaExceededError } from '../domain/errors';
import type { RolloutQuotaCheck } from '../domain/rollout';
import { rolloutQuotaNeeds } from '../domain/rollout-quotas';
import type { QuotaReadings } from '../adapters/quota-readings';
import type { ServiceDeploymentReader } from '../adapters/service-deployments';
import type { EventPublisher } from '../adapters/lifecycle-events';
import type { RolloutStore } from '../adapters/rollout-store';
import { checkQuotas } from './quota-guard';
import { finishRollout, type RolloutDeps } from './rollout';

export const ROLLOUT_QUOTA_REFUSED_EVENT = 'FleetRolloutQuotaRefused';

export interface RolloutQuotaDeps extends RolloutDeps {
  readonly rollouts: RolloutStore;
  /** undefined: the cell's quota guard is off (cdk.json quotaGuard.enabled). */
  readonly readings: QuotaReadings | undefined;
  readonly deployments: ServiceDeploymentReader;
  readonly events: EventPublisher;
}

export type RolloutQuotaAnswer = { checked: false; reason: string } | { checked: true; ok: true; needs: Record<string, number> };

export async function checkRolloutQuotas(deps: RolloutQuotaDeps, rolloutId: string): Promise<RolloutQuotaAnswer> {
  if (!deps.readings) return { checked: false, reason: 'the cell has no quota guard (cdk.json quotaGuard.enabled is false)' };
  const meta = await deps.rollouts.require(rolloutId);
  // A retried step after the refusal was recorded: the same refusal again.
  if (meta.state === 'REFUSED') throw new QuotaExceededError(meta.reason ?? `rollout ${rolloutId} was refused by the quota check`);
  if (meta.quota?.ok) return { checked: true, ok: true, needs: meta.quota.needs };
  if (meta.currentWave !== -1) return { checked: false, reason: 'the rollout has already started its first wave' };

  const tenants = await deps.rollouts.tenants(rolloutId);
  const active = tenants.filter((t) => t.statusAtStart === 'ACTIVE').map((t) => t.tenantId);
  const services = await deps.deployments.read(active);
  const planOf = (id: string | undefined) => deps.plans.find((p) => p.id === id);
  // Waves after the canary run `maxConcurrency` at once; a rollout of only the canary, one at a time.
  const concurrency = meta.waves.some((w) => !w.canary) ? meta.maxConcurrency : 1;
  const { needs, basis } = rolloutQuotaNeeds({
    tenants: tenants.map((t) => ({ tenantId: t.tenantId, status: t.statusAtStart, plan: planOf(t.previousPlan), service: services.get(t.tenantId) })),
    targetPlan: meta.plan !== undefined ? planOf(meta.plan) : undefined,
    concurrency,
  });
  const check = await checkQuotas({ readings: deps.readings }, needs);
  const record: RolloutQuotaCheck = {
    checkedAt: (deps.now?.() ?? new Date()).toISOString(),
    ok: check.ok,
    needs: Object.fromEntries(Object.entries(needs).filter((e): e is [string, number] => typeof e[1] === 'number')),
    basis: { ...basis, surgeTasksPerTenant: [...basis.surgeTasksPerTenant] },
    refusals: check.refusals.map((r) => ({ quota: r.id, ...(r.code ? { code: r.code } : {}), limit: r.limit, usage: r.usage, need: r.need, reason: r.reason })),
  };
  await deps.rollouts.recordQuotaCheck(rolloutId, record);
  if (check.ok) return { checked: true, ok: true, needs: record.needs };

  const why = [
    basis.surgeTasks > 0 ? `${basis.concurrency} tenant(s) updated at once, ${basis.surgeTasks} extra task(s) while they deploy` : undefined,
    basis.planGrowthTenants > 0 ? `${basis.planGrowthTenants} tenant(s) moved to plan "${meta.plan ?? '?'}" (+${basis.planGrowthVcpu} vCPU)` : undefined,
  ].filter(Boolean);
  const reason = `quota: ${check.refusals.map((r) => r.reason).join('; ')}${why.length > 0 ? ` (the rollout needs: ${why.join(', ')})` : ''}. No tenant was touched; raise the quota (or free capacity), or roll out with a smaller --max-concurrency or in parts (--tenants)`;
  // The event first: a retry after a failed finish publishes again (at least once), never not at all.
  await deps.events.publish(ROLLOUT_QUOTA_REFUSED_EVENT, {
    rolloutId,
    cell: deps.cell,
    ...(meta.image !== undefined ? { image: meta.image } : {}),
    ...(meta.plan !== undefined ? { plan: meta.plan } : {}),
    executionArn: meta.executionArn,
    reasons: check.refusals.map((r) => r.reason),
    quotas: record.refusals.map(({ reason: _r, ...q }) => q),
    needs: record.needs,
    basis: record.basis,
  });
  await finishRollout(deps, rolloutId, 'REFUSED', reason);
  throw new QuotaExceededError(`rollout ${rolloutId} refused: ${reason}`);
}
