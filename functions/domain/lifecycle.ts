/**
 * The tenant lifecycle as a table: which action moves a tenant from which states to which, and
 * which EventBridge event announces it. Every transition is applied as one conditional write on
 * (expected status, expected version) by the tenant store; a workflow that loses the race stops.
 *
 *   REQUESTED → PROVISIONING → ACTIVE ⇄ UPDATING
 *                    │            ⇅
 *                    ▼         SUSPENDING → SUSPENDED → RESUMING → ACTIVE
 *                 FAILED
 *   ACTIVE | SUSPENDED | FAILED → DEPROVISIONING → DEPROVISIONED (data retained) → PURGED
 */
import type { TenantStatus } from './tenant';
import type { TenantRecord } from './tenant-record';

export interface TransitionRule {
  readonly from: readonly TenantStatus[];
  readonly to: TenantStatus;
  /** EventBridge detail-type emitted when the transition is applied. */
  readonly event: string;
  /** Whether the workflow that applies it holds the tenant (one workflow per tenant at a time). */
  readonly claims: boolean;
}

export const TRANSITIONS = {
  /**
   * A FAILED tenant requested again: by a signup only for a retry of its failed first provisioning
   * by the same owner (see signupRefusal), otherwise only by an operator's reprovision request.
   * A new tenant is created REQUESTED by the store directly.
   */
  request: { from: ['FAILED'], to: 'REQUESTED', event: 'TenantRequested', claims: true },
  startProvisioning: { from: ['REQUESTED'], to: 'PROVISIONING', event: 'TenantProvisioningStarted', claims: true },
  provisioned: { from: ['PROVISIONING'], to: 'ACTIVE', event: 'TenantActive', claims: false },
  provisioningFailed: { from: ['PROVISIONING'], to: 'FAILED', event: 'TenantProvisioningFailed', claims: false },

  startUpdate: { from: ['ACTIVE'], to: 'UPDATING', event: 'TenantUpdateStarted', claims: true },
  updated: { from: ['UPDATING'], to: 'ACTIVE', event: 'TenantUpdated', claims: false },
  /** The new revision did not become healthy: back on the previous one, still ACTIVE, failure recorded. */
  updateFailed: { from: ['UPDATING'], to: 'ACTIVE', event: 'TenantUpdateFailed', claims: false },

  startSuspend: { from: ['ACTIVE'], to: 'SUSPENDING', event: 'TenantSuspending', claims: true },
  suspended: { from: ['SUSPENDING'], to: 'SUSPENDED', event: 'TenantSuspended', claims: false },
  suspendFailed: { from: ['SUSPENDING'], to: 'ACTIVE', event: 'TenantSuspendFailed', claims: false },

  startResume: { from: ['SUSPENDED'], to: 'RESUMING', event: 'TenantResuming', claims: true },
  resumed: { from: ['RESUMING'], to: 'ACTIVE', event: 'TenantResumed', claims: false },
  resumeFailed: { from: ['RESUMING'], to: 'SUSPENDED', event: 'TenantResumeFailed', claims: false },

  startDeprovision: {
    from: ['ACTIVE', 'SUSPENDED', 'FAILED'],
    to: 'DEPROVISIONING',
    event: 'TenantDeprovisioningStarted',
    claims: true,
  },
  deprovisioned: { from: ['DEPROVISIONING'], to: 'DEPROVISIONED', event: 'TenantDeprovisioned', claims: false },
  /** Teardown could not finish: FAILED can be deprovisioned again, so nothing is stuck. */
  deprovisionFailed: { from: ['DEPROVISIONING'], to: 'FAILED', event: 'TenantDeprovisioningFailed', claims: false },

  // A claim: the purge workflow checks and applies it itself; two purges at once cannot both apply it.
  purged: { from: ['DEPROVISIONED'], to: 'PURGED', event: 'TenantPurged', claims: true },
} as const satisfies Record<string, TransitionRule>;

export type TransitionName = keyof typeof TRANSITIONS;
export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

/** States a workflow is in the middle of; each has exactly one way out for the workflow that holds it. */
export const TRANSITIONAL_STATUSES: readonly TenantStatus[] = [
  'PROVISIONING',
  'UPDATING',
  'SUSPENDING',
  'RESUMING',
  'DEPROVISIONING',
];

export function canApply(name: TransitionName, status: TenantStatus): boolean {
  return (TRANSITIONS[name].from as readonly TenantStatus[]).includes(status);
}

/** Human explanation of why a transition is refused, for errors and the CLI. */
export function refusal(name: TransitionName, status: TenantStatus): string {
  const rule = TRANSITIONS[name];
  return `cannot ${name} a tenant that is ${status}; allowed from ${rule.from.join(' | ')}`;
}

/**
 * Whether the tenant may hold data from an earlier life: it was ACTIVE at some point (its gateway
 * served and wrote to EFS), or a deprovision ran on it. Such a tenant keeps its uid and files, so
 * only an operator may provision it again.
 */
export function onceHeldData(record: Pick<TenantRecord, 'transitions'>): boolean {
  return record.transitions.ACTIVE !== undefined || record.transitions.DEPROVISIONING !== undefined;
}

export const sameOwner = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Why a signup may not request the existing FAILED tenant again, or undefined when it may: a signup
 * may only retry a failed *first* provisioning (never ACTIVE, no deprovision, so no data) of the
 * same owner. Anything else would hand the tenant's uid, files and resources to whoever signs up.
 */
export function signupRefusal(
  record: Pick<TenantRecord, 'tenantId' | 'status' | 'ownerEmail' | 'transitions'>,
  ownerEmail: string,
): string | undefined {
  const id = record.tenantId;
  if (record.status !== 'FAILED') {
    return `tenant "${id}" already exists (${record.status}); change it with an update, not a signup`;
  }
  if (onceHeldData(record)) {
    return (
      `tenant "${id}" already exists (FAILED) and was ACTIVE or deprovisioned before, so it may hold data; ` +
      `a signup cannot take it over: an operator re-provisions it (octw tenants reprovision ${id}) or deprovisions it`
    );
  }
  if (!sameOwner(record.ownerEmail, ownerEmail)) {
    return `tenant "${id}" already exists (FAILED) and belongs to another owner; a signup may only retry its own owner's failed first provisioning`;
  }
  return undefined;
}
