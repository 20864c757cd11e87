/**
 * Lifecycle use cases: apply a transition and announce it; register a signup for provisioning.
 */
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { sameOwner, signupRefusal, TRANSITIONS, type TransitionName } from '../domain/lifecycle';
import { ProvisionRequestSchema, ReprovisionRequestSchema } from '../domain/operations';
import type { TenantRecord } from '../domain/tenant-record';
import type { EventPublisher } from '../adapters/lifecycle-events';
import type { TenantStore, TransitionRequest, TransitionResult } from '../adapters/tenant-store';
import { parseRequest, rawTenantId, validateSignup, type SignupContext, type ValidSignup } from './signup';
import { configHash } from '../domain/config-hash';

export interface LifecycleDeps {
  store: TenantStore;
  events: EventPublisher;
  cell: string;
}

/** Applies a transition and emits its event. Safe to repeat: a re-applied transition re-emits (at least once). */
export async function applyTransition(
  deps: LifecycleDeps,
  tenantId: string,
  name: TransitionName,
  req: TransitionRequest,
): Promise<TransitionResult> {
  const result = await deps.store.transition(tenantId, name, req);
  const { record } = result;
  await deps.events.publish(TRANSITIONS[name].event, {
    tenantId,
    status: record.status,
    previousStatus: result.previousStatus,
    version: record.version,
    generation: record.generation,
    cell: record.cell,
    plan: record.plan,
    executionArn: req.executionArn,
    at: record.updatedAt,
    ...(record.lastError && (TRANSITIONS[name].to === 'FAILED' || name.endsWith('Failed')) ? { error: record.lastError } : {}),
  });
  return result;
}

/** Records a refused signup (audit item + TenantSignupRejected event). Creates no tenant. */
export async function rejectSignup(deps: LifecycleDeps, raw: unknown, error: ValidationError, source: string) {
  const tenantId = rawTenantId(raw);
  const reasons = error.issues.length > 0 ? error.issues.map((i) => `${i.path}: ${i.message}`) : [error.message];
  await deps.store.recordRejection({ tenantId, reasons, source, fingerprint: configHash(raw ?? null) });
  await deps.events.publish('TenantSignupRejected', { tenantId, reasons, source, cell: deps.cell });
}

export interface ProvisionTicket {
  tenantId: string;
  executionArn: string;
  cell: string;
  generation: number;
  plan: string;
  uid: number;
  gid: number;
}

export interface RegisterDeps extends LifecycleDeps {
  signup: SignupContext;
  uidBase: number;
}

/**
 * First step of the provision workflow: make sure the tenant is REQUESTED for this run, give it a
 * uid and claim it (REQUESTED -> PROVISIONING). The input is one of:
 * - a ProvisionRequest `{tenantId, generation, plan, egressAllowlist, configHash}` (what intake
 *   starts runs with, no personal data): the tenant must be REQUESTED for that generation and config;
 * - a ReprovisionRequest `{tenantId, reprovision: true}` (operator only): a FAILED tenant is
 *   requested again for its next generation, same owner, uid and data;
 * - a signup (a run started by hand from the console): admitted by the same rules as intake.
 */
export async function registerForProvisioning(
  deps: RegisterDeps,
  raw: unknown,
  executionArn: string,
): Promise<ProvisionTicket> {
  const shape = typeof raw === 'object' && raw !== null ? raw : {};
  if ('reprovision' in shape) return reprovision(deps, raw, executionArn);
  if ('generation' in shape || 'configHash' in shape) {
    const request = parseRequest(ProvisionRequestSchema, raw, 'provision refused');
    const record = await deps.store.require(request.tenantId);
    if (record.status === 'PROVISIONING' && record.executionArn === executionArn) return ticket(record);
    if (record.status !== 'REQUESTED' || record.generation !== request.generation || record.configHash !== request.configHash) {
      throw new TenantStateConflictError(
        `tenant "${request.tenantId}" is ${record.status} (generation ${record.generation}); this run is for a REQUESTED generation ${request.generation} with config ${request.configHash.slice(0, 12)}; refusing`,
      );
    }
    return claim(deps, record, executionArn);
  }

  let valid: ValidSignup;
  try {
    valid = validateSignup(raw, deps.signup);
  } catch (err) {
    if (err instanceof ValidationError) await rejectSignup(deps, raw, err, 'provision-workflow');
    throw err;
  }
  const tenantId = valid.request.tenantId;
  const admitted = await admitSignup(deps, valid, () => executionArn);
  if ('refused' in admitted) {
    await rejectSignup(deps, raw, refusalError(admitted.refused), 'provision-workflow');
    throw new TenantStateConflictError(admitted.refused);
  }
  const { record } = admitted;
  if (record.status === 'PROVISIONING' && record.executionArn === executionArn) return ticket(record);
  if (record.status !== 'REQUESTED') {
    throw new TenantStateConflictError(`tenant "${tenantId}" is ${record.status}; only a REQUESTED or FAILED tenant can be provisioned`);
  }
  if (record.configHash !== valid.configHash) {
    throw new TenantStateConflictError(
      `tenant "${tenantId}" has a different pending signup (plan/allowlist differ); refusing to provision this one`,
    );
  }
  return claim(deps, record, executionArn);
}

/** An operator's re-provisioning: FAILED -> REQUESTED (next generation, same owner, uid and data) -> PROVISIONING. */
async function reprovision(deps: RegisterDeps, raw: unknown, executionArn: string): Promise<ProvisionTicket> {
  const { tenantId } = parseRequest(ReprovisionRequestSchema, raw, 'reprovision refused');
  let record = await deps.store.require(tenantId);
  if (record.status === 'PROVISIONING' && record.executionArn === executionArn) return ticket(record);
  if (record.status === 'FAILED') {
    record = (
      await applyTransition(deps, tenantId, 'request', {
        executionArn,
        expectedVersion: record.version,
        patch: { generation: record.generation + 1 },
      })
    ).record;
  } else if (!(record.status === 'REQUESTED' && record.executionArn === executionArn)) {
    // Only a retry of this very step finds the tenant REQUESTED by this run.
    throw new TenantStateConflictError(`tenant "${tenantId}" is ${record.status}; only a FAILED tenant can be re-provisioned`);
  }
  return claim(deps, record, executionArn);
}

/** REQUESTED -> PROVISIONING for this run, allocating the tenant's uid if it has none. */
async function claim(deps: RegisterDeps, record: TenantRecord, executionArn: string): Promise<ProvisionTicket> {
  const tenantId = record.tenantId;
  let uid = record.uid;
  const extraPuts: TransitionRequest['extraPuts'] = [];
  if (uid === undefined) {
    uid = await deps.store.allocateUid(deps.uidBase);
    extraPuts.push({ item: { pk: `UID#${uid}`, sk: 'UID', tenantId }, condition: 'attribute_not_exists(pk)' });
  }
  const claimed = (
    await applyTransition(deps, tenantId, 'startProvisioning', {
      executionArn,
      expectedVersion: record.version,
      patch: { uid, gid: uid, lastError: null },
      extraPuts,
    })
  ).record;
  return ticket(claimed);
}

export type Admission = { record: TenantRecord } | { refused: string };

/**
 * Admits a signup: creates the tenant REQUESTED if it is new, or requests a FAILED tenant again
 * (next generation, `holderFor(generation)` as holder) only when signupRefusal allows it: a retry of
 * its failed first provisioning by the same owner. Any other existing tenant is returned as it is
 * when the signup is its owner's (a duplicate delivery), and refused otherwise.
 */
export async function admitSignup(
  deps: LifecycleDeps,
  valid: ValidSignup,
  holderFor: (generation: number) => string,
): Promise<Admission> {
  const { request } = valid;
  const fields = {
    displayName: request.displayName,
    ownerEmail: request.ownerEmail,
    plan: request.plan,
    egressAllowlist: request.egressAllowlist,
    hostAllowlist: valid.hostAllowlist,
    configHash: valid.configHash,
    ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
    ...(valid.ingressOidc ? { ingressOidc: valid.ingressOidc } : {}),
  };
  const { created, record } = await deps.store.createRequested({ tenantId: request.tenantId, cell: deps.cell, ...fields });
  if (created) return { record };
  if (record.status === 'FAILED') {
    const refused = signupRefusal(record, request.ownerEmail);
    if (refused) return { refused };
    const generation = record.generation + 1;
    const next = await applyTransition(deps, request.tenantId, 'request', {
      executionArn: holderFor(generation),
      // Admitted on what was read: a record that changed since is decided again by the caller.
      expectedVersion: record.version,
      patch: { ...fields, idempotencyKey: request.idempotencyKey ?? null, ingressOidc: valid.ingressOidc ?? null, generation },
    });
    return { record: next.record };
  }
  if (!sameOwner(record.ownerEmail, request.ownerEmail)) {
    return {
      refused:
        record.status === 'REQUESTED'
          ? `tenant "${request.tenantId}": a different signup for it is already pending`
          : `tenant "${request.tenantId}" already exists (${record.status}) and belongs to another owner`,
    };
  }
  return { record };
}

/** A refusal as the ValidationError rejectSignup records (reason on the tenantId field). */
export function refusalError(reason: string): ValidationError {
  return new ValidationError(`tenantId: ${reason}`, [{ path: 'tenantId', message: reason }]);
}

function ticket(record: TenantRecord): ProvisionTicket {
  if (record.uid === undefined || record.gid === undefined || !record.executionArn) {
    throw new Error(`tenant "${record.tenantId}" record is missing uid/gid/executionArn after claim`);
  }
  return {
    tenantId: record.tenantId,
    executionArn: record.executionArn,
    cell: record.cell,
    generation: record.generation,
    plan: record.plan,
    uid: record.uid,
    gid: record.gid,
  };
}
