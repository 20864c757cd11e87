/**
 * Lifecycle use cases: apply a transition and announce it; register a signup for provisioning.
 */
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { TRANSITIONS, type TransitionName } from '../domain/lifecycle';
import type { TenantRecord } from '../domain/tenant-record';
import type { EventPublisher } from '../adapters/lifecycle-events';
import type { TenantStore, TransitionRequest, TransitionResult } from '../adapters/tenant-store';
import { rawTenantId, validateSignup, type SignupContext, type ValidSignup } from './signup';
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
 * First step of the provision workflow: validate the signup, make sure the tenant is REQUESTED
 * (creating it, or re-requesting a FAILED one), give it a uid and claim it for this execution.
 */
export async function registerForProvisioning(
  deps: RegisterDeps,
  raw: unknown,
  executionArn: string,
): Promise<ProvisionTicket> {
  let valid: ValidSignup;
  try {
    valid = validateSignup(raw, deps.signup);
  } catch (err) {
    if (err instanceof ValidationError) await rejectSignup(deps, raw, err, 'provision-workflow');
    throw err;
  }
  const { request } = valid;
  const tenantId = request.tenantId;
  let record = await ensureRequested(deps, valid, executionArn);

  if (record.status === 'PROVISIONING' && record.executionArn === executionArn) return ticket(record);
  if (record.status !== 'REQUESTED') {
    throw new TenantStateConflictError(`tenant "${tenantId}" is ${record.status}; only a REQUESTED or FAILED tenant can be provisioned`);
  }
  if (record.configHash !== valid.configHash) {
    throw new TenantStateConflictError(
      `tenant "${tenantId}" has a different pending signup (plan/allowlist differ); refusing to provision this one`,
    );
  }
  let uid = record.uid;
  const extraPuts: TransitionRequest['extraPuts'] = [];
  if (uid === undefined) {
    uid = await deps.store.allocateUid(deps.uidBase);
    extraPuts.push({ item: { pk: `UID#${uid}`, sk: 'UID', tenantId }, condition: 'attribute_not_exists(pk)' });
  }
  record = (
    await applyTransition(deps, tenantId, 'startProvisioning', {
      executionArn,
      patch: { uid, gid: uid, lastError: null },
      extraPuts,
    })
  ).record;
  return ticket(record);
}

/** The tenant record, created REQUESTED if new and moved FAILED → REQUESTED (next generation) if failed. */
export async function ensureRequested(deps: LifecycleDeps, valid: ValidSignup, holder: string): Promise<TenantRecord> {
  const { request } = valid;
  const fields = {
    displayName: request.displayName,
    ownerEmail: request.ownerEmail,
    plan: request.plan,
    egressAllowlist: request.egressAllowlist,
    configHash: valid.configHash,
    ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
  };
  let record = (await deps.store.createRequested({ tenantId: request.tenantId, cell: deps.cell, ...fields })).record;
  if (record.status === 'FAILED') {
    record = (
      await applyTransition(deps, request.tenantId, 'request', {
        executionArn: holder,
        patch: { ...fields, idempotencyKey: request.idempotencyKey ?? null, generation: record.generation + 1 },
      })
    ).record;
  }
  return record;
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
