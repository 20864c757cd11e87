/**
 * Intake of a TenantSignedUp event: validate, record the tenant as REQUESTED with a conditional
 * write, and start its provision workflow under a deterministic execution name, so that the same
 * event delivered twice (or two signups for one tenant at once) yield one tenant and one execution.
 */
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import type { SignupRequest } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import { ensureRequested, rejectSignup, type LifecycleDeps } from './lifecycle';
import { validateSignup, type SignupContext } from './signup';

export interface WorkflowStarter {
  /** Starts (or finds) the named execution; returns its ARN. Same name + same input must be a no-op. */
  start(name: string, input: string): Promise<{ executionArn: string; alreadyStarted: boolean }>;
  executionArn(name: string): string;
}

export interface IntakeDeps extends LifecycleDeps {
  signup: SignupContext;
  provision: WorkflowStarter;
}

export type IntakeOutcome =
  | { outcome: 'started'; tenantId: string; executionArn: string; alreadyStarted: boolean }
  | { outcome: 'duplicate'; tenantId: string; status: string }
  | { outcome: 'rejected'; tenantId: string; reasons: string[] };

export const provisionExecutionName = (tenantId: string, generation: number) => `provision-${tenantId}-g${generation}`;

export async function intakeSignup(deps: IntakeDeps, detail: unknown, source: string): Promise<IntakeOutcome> {
  let valid;
  try {
    valid = validateSignup(detail, deps.signup);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    await rejectSignup(deps, detail, err, source);
    return { outcome: 'rejected', tenantId: tenantIdOf(detail), reasons: err.issues.map((i) => `${i.path}: ${i.message}`) };
  }
  const tenantId = valid.request.tenantId;

  const before = await deps.store.get(tenantId);
  const generation = before?.status === 'FAILED' ? before.generation + 1 : (before?.generation ?? 1);
  const name = provisionExecutionName(tenantId, generation);
  let record: TenantRecord;
  try {
    record = await ensureRequested(deps, valid, deps.provision.executionArn(name));
  } catch (err) {
    // Another delivery re-requested the FAILED tenant first: carry on with what is there now.
    if (!(err instanceof TenantStateConflictError)) throw err;
    record = await deps.store.require(tenantId);
  }

  if (record.configHash !== valid.configHash || record.plan !== valid.request.plan) {
    const reason =
      record.status === 'REQUESTED'
        ? `tenantId: a different signup for "${tenantId}" is already pending`
        : `tenantId: tenant "${tenantId}" already exists (${record.status}); change it with an update, not a signup`;
    await rejectSignup(deps, detail, new ValidationError(reason, [{ path: 'tenantId', message: reason.replace(/^tenantId: /, '') }]), source);
    return { outcome: 'rejected', tenantId, reasons: [reason] };
  }
  if (record.status !== 'REQUESTED') {
    // Same signup delivered again after its workflow claimed the tenant: nothing to do.
    return { outcome: 'duplicate', tenantId, status: record.status };
  }
  const started = await deps.provision.start(provisionExecutionName(tenantId, record.generation), JSON.stringify(canonicalInput(valid.request)));
  return { outcome: 'started', tenantId, ...started };
}

/** The execution input: the validated signup, keys in schema order, so a duplicate is byte-identical. */
export function canonicalInput(request: SignupRequest): SignupRequest {
  return {
    tenantId: request.tenantId,
    displayName: request.displayName,
    ownerEmail: request.ownerEmail,
    plan: request.plan,
    egressAllowlist: request.egressAllowlist,
    ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
  };
}

function tenantIdOf(detail: unknown): string {
  return typeof detail === 'object' && detail !== null && 'tenantId' in detail && typeof detail.tenantId === 'string'
    ? detail.tenantId.slice(0, 64)
    : '(none)';
}
