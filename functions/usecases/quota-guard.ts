/**
 * The quota guard (issue 13.5): before a tenant's resources are created, the cell checks that every
 * quota the tenant consumes has room for it; a tenant that would exceed one is refused with the
 * reason, a TenantQuotaRefused event and a QuotaExceededError, before anything is created.
 *
 * Use cases:
 * - `checkQuotas`: any workload's needs (a rollout's vCPU delta, n tenants of a plan) against the
 *   live readings; for callers such as a rollout, which refuse to start rather than fail half-way;
 * - `guardProvisioning`: the provision workflow's check, run by its Register step right after the
 *   claim (the tenant is PROVISIONING and nothing exists yet): a refusal there goes through the
 *   workflow's ordinary compensation (nothing to remove) to FAILED with the reason as its last
 *   error, a state the operator leaves with a reprovision (after raising the quota) or a deprovision;
 * - `quotaHeadroom`: every quota's headroom, for the scheduled metric and its alarms.
 */
import { QuotaExceededError } from '../domain/errors';
import {
  evaluateQuotas,
  headroomOf,
  cellQuotaIds,
  QUOTA_IDS,
  scaleNeeds,
  tenantNeeds,
  type QuotaHeadroom,
  type QuotaNeeds,
  type QuotaReading,
  type QuotaRefusal,
} from '../domain/quotas';
import type { ApprovedPrefixList } from '../domain/allowlist';
import type { EgressRule, Plan } from '../domain/tenant';
import type { QuotaReadings } from '../adapters/quota-readings';
import type { EventPublisher } from '../adapters/lifecycle-events';
import type { TenantStore } from '../adapters/tenant-store';

export const QUOTA_REFUSED_EVENT = 'TenantQuotaRefused';

export interface QuotaCheck {
  readonly ok: boolean;
  readonly refusals: readonly QuotaRefusal[];
  readonly readings: readonly QuotaReading[];
}

/** Reads the quotas `needs` touches and decides. Creates nothing. */
export async function checkQuotas(deps: { readings: QuotaReadings }, needs: QuotaNeeds, reserved: QuotaNeeds = {}): Promise<QuotaCheck> {
  const ids = QUOTA_IDS.filter((id) => (needs[id] ?? 0) > 0);
  const readings = await deps.readings.read(ids);
  const refusals = evaluateQuotas(needs, readings, reserved);
  return { ok: refusals.length === 0, refusals, readings };
}

export interface ProvisioningGuardDeps {
  readonly readings: QuotaReadings;
  readonly store: Pick<TenantStore, 'require' | 'countByStatus'>;
  readonly events: EventPublisher;
  readonly cell: string;
  readonly plans: readonly Plan[];
  readonly ingress: boolean;
  readonly defaultAllowlist: readonly EgressRule[];
  readonly approvedPrefixLists: readonly ApprovedPrefixList[];
}

/** The needs of provisioning the recorded tenant. */
export function provisioningNeeds(deps: Omit<ProvisioningGuardDeps, 'readings' | 'store' | 'events'>, plan: Plan, egressAllowlist: readonly EgressRule[]): QuotaNeeds {
  return tenantNeeds(plan, {
    ingress: deps.ingress,
    egressAllowlist: [...deps.defaultAllowlist, ...egressAllowlist],
    approvedPrefixLists: deps.approvedPrefixLists,
  });
}

/**
 * Checks room for one tenant the caller has just claimed (PROVISIONING). The other tenants being
 * provisioned are counted as reserving a tenant's worth each (see evaluateQuotas). Throws
 * QuotaExceededError after publishing TenantQuotaRefused when a quota has no room.
 */
export async function guardProvisioning(deps: ProvisioningGuardDeps, tenantId: string, executionArn: string): Promise<QuotaCheck> {
  const record = await deps.store.require(tenantId);
  const plan = deps.plans.find((p) => p.id === record.plan);
  // An unknown plan is refused by the signup validation; nothing to measure here.
  if (!plan) return { ok: true, refusals: [], readings: [] };
  const needs = provisioningNeeds(deps, plan, record.egressAllowlist);
  const inFlight = Math.max(0, (await deps.store.countByStatus('PROVISIONING')) - (record.status === 'PROVISIONING' ? 1 : 0));
  const check = await checkQuotas(deps, needs, scaleNeeds(needs, inFlight));
  if (check.ok) return check;
  const reasons = check.refusals.map((r) => r.reason);
  await deps.events.publish(QUOTA_REFUSED_EVENT, {
    tenantId,
    cell: deps.cell,
    plan: plan.id,
    executionArn,
    reasons,
    quotas: check.refusals.map((r) => ({ quota: r.id, ...(r.code ? { code: r.code } : {}), limit: r.limit, usage: r.usage, reserved: r.reserved, need: r.need })),
  });
  throw new QuotaExceededError(
    `cell "${deps.cell}" has no room for tenant "${tenantId}": ${reasons.join('; ')}. Nothing was created; raise the quota (or free capacity), then reprovision the tenant, or deprovision it`,
  );
}

/** Headroom of every quota the cell's tenants consume (cellQuotaIds). */
export async function quotaHeadroom(deps: { readings: QuotaReadings; plans: readonly Plan[]; ingress: boolean }): Promise<QuotaHeadroom[]> {
  return headroomOf(await deps.readings.read(cellQuotaIds(deps.plans, deps.ingress)));
}
