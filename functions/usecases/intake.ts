/**
 * Intake of a TenantSignedUp event: validate, record the tenant as REQUESTED with a conditional
 * write, and start its provision workflow under a deterministic execution name, so that the same
 * event delivered twice (or two signups for one tenant at once) yield one tenant and one execution.
 */
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import type { SignupRequest } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import { sameOwner } from '../domain/lifecycle';
import type { ProvisionRequest } from '../domain/operations';
import { admitSignup, refusalError, rejectSignup, type Admission, type LifecycleDeps } from './lifecycle';
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
  const reject = async (reason: string): Promise<IntakeOutcome> => {
    const error = refusalError(reason);
    await rejectSignup(deps, detail, error, source);
    return { outcome: 'rejected', tenantId, reasons: [error.message] };
  };

  let admitted: Admission;
  try {
    admitted = await admitSignup(deps, valid, (generation) => deps.provision.executionArn(provisionExecutionName(tenantId, generation)));
  } catch (err) {
    // Another delivery re-requested the FAILED tenant first: carry on with what is there now.
    if (!(err instanceof TenantStateConflictError)) throw err;
    const now = await deps.store.require(tenantId);
    admitted = sameOwner(now.ownerEmail, valid.request.ownerEmail)
      ? { record: now }
      : { refused: `tenant "${tenantId}" already exists (${now.status}) and belongs to another owner` };
  }
  if ('refused' in admitted) return reject(admitted.refused);
  const { record } = admitted;

  if (record.configHash !== valid.configHash || record.plan !== valid.request.plan) {
    return reject(
      record.status === 'REQUESTED'
        ? `a different signup for "${tenantId}" is already pending`
        : `tenant "${tenantId}" already exists (${record.status}); change it with an update, not a signup`,
    );
  }
  if (record.status !== 'REQUESTED') {
    // Same signup delivered again after its workflow claimed the tenant: nothing to do.
    return { outcome: 'duplicate', tenantId, status: record.status };
  }
  const started = await deps.provision.start(provisionExecutionName(tenantId, record.generation), JSON.stringify(provisionInput(record)));
  return { outcome: 'started', tenantId, ...started };
}

/**
 * The provision run's input: what the workflow needs, built from the record so that a duplicate
 * is byte-identical. No personal data: displayName and ownerEmail stay in the tenant record.
 */
export function provisionInput(record: TenantRecord): ProvisionRequest {
  return {
    tenantId: record.tenantId,
    generation: record.generation,
    plan: record.plan,
    egressAllowlist: record.egressAllowlist,
    configHash: record.configHash,
  };
}

/** A console run's input from a validated signup, keys in schema order. */
export function canonicalInput(request: SignupRequest): SignupRequest {
  return {
    tenantId: request.tenantId,
    displayName: request.displayName,
    ownerEmail: request.ownerEmail,
    plan: request.plan,
    egressAllowlist: request.egressAllowlist,
    hostAllowlist: request.hostAllowlist,
    ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
  };
}

function tenantIdOf(detail: unknown): string {
  return typeof detail === 'object' && detail !== null && 'tenantId' in detail && typeof detail.tenantId === 'string'
    ? detail.tenantId.slice(0, 64)
    : '(none)';
}
