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

export interface TransitionRule {
  readonly from: readonly TenantStatus[];
  readonly to: TenantStatus;
  /** EventBridge detail-type emitted when the transition is applied. */
  readonly event: string;
  /** Whether the workflow that applies it holds the tenant (one workflow per tenant at a time). */
  readonly claims: boolean;
}

export const TRANSITIONS = {
  /** A FAILED tenant may be requested again; a new tenant is created REQUESTED by the store directly. */
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
