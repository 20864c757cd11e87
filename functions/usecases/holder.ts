import { TenantStateConflictError } from '../domain/errors';
import type { TenantRecord } from '../domain/tenant-record';
import type { TenantStore } from '../adapters/tenant-store';

/** Loads the tenant and checks that this execution holds it: steps of a workflow that lost its claim stop. */
export async function requireHeld(store: TenantStore, tenantId: string, executionArn: string): Promise<TenantRecord> {
  const record = await store.require(tenantId);
  if (record.executionArn !== executionArn) {
    throw new TenantStateConflictError(
      `tenant "${tenantId}" is held by ${record.executionArn ?? 'no workflow'}, not by ${executionArn}; stopping`,
    );
  }
  return record;
}
