import { TenantStateConflictError } from '../domain/errors';
import type { TenantStatus } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import type { TenantStore } from '../adapters/tenant-store';

/**
 * States in which a workflow may remove a tenant's resources: compensation of a provisioning, or
 * a deprovisioning. Once a tenant is ACTIVE (or anything else), a delete step refuses, so a late
 * compensation (say, after the ACTIVE transition was written but its event could not be sent)
 * can never tear down a live tenant.
 */
export const TEARDOWN_STATUSES: readonly TenantStatus[] = ['PROVISIONING', 'DEPROVISIONING'];

/** Loads the tenant and checks that this execution holds it: steps of a workflow that lost its claim stop. */
export async function requireHeld(
  store: TenantStore,
  tenantId: string,
  executionArn: string,
  allowedStatuses?: readonly TenantStatus[],
): Promise<TenantRecord> {
  const record = await store.require(tenantId);
  if (record.executionArn !== executionArn) {
    throw new TenantStateConflictError(
      `tenant "${tenantId}" is held by ${record.executionArn ?? 'no workflow'}, not by ${executionArn}; stopping`,
    );
  }
  if (allowedStatuses && !allowedStatuses.includes(record.status)) {
    throw new TenantStateConflictError(
      `tenant "${tenantId}" is ${record.status}; this step runs only while it is ${allowedStatuses.join(' or ')}`,
    );
  }
  return record;
}

/** requireHeld for steps that delete resources. */
export const requireHeldForTeardown = (store: TenantStore, tenantId: string, executionArn: string) =>
  requireHeld(store, tenantId, executionArn, TEARDOWN_STATUSES);
