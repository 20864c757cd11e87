/**
 * Operator requests on an existing tenant (deprovision, suspend, resume, update): validate the
 * request, then claim the tenant for the workflow with one conditional transition. A refused claim
 * changes nothing: ValidationError (bad input), TenantNotFoundError, TenantStateConflictError.
 */
import { configHash } from '../domain/config-hash';
import { TenantStateConflictError } from '../domain/errors';
import { refusal, type TransitionName } from '../domain/lifecycle';
import { TenantRequestSchema, UpdateRequestSchema } from '../domain/operations';
import type { Plan } from '../domain/tenant';
import type { PreviousConfig, TenantRecord } from '../domain/tenant-record';
import { applyTransition, type LifecycleDeps } from './lifecycle';
import { parseRequest, tenantConfigHash, validateTenantConfig, type SignupContext } from './signup';

export const CLAIMS = {
  deprovision: 'startDeprovision',
  suspend: 'startSuspend',
  resume: 'startResume',
} as const satisfies Record<string, TransitionName>;
export type ClaimOperation = keyof typeof CLAIMS;

export interface OperationTicket {
  tenantId: string;
  status: string;
  version: number;
}

/** Claims the tenant named by `{tenantId}` for a deprovision, suspend or resume run. */
export async function claimForOperation(
  deps: LifecycleDeps,
  operation: ClaimOperation,
  raw: unknown,
  executionArn: string,
): Promise<OperationTicket> {
  const { tenantId } = parseRequest(TenantRequestSchema, raw, `${operation} refused`);
  const { record } = await applyTransition(deps, tenantId, CLAIMS[operation], { executionArn });
  return { tenantId, status: record.status, version: record.version };
}

/** What an update changes, so the workflow touches only what it must. */
export interface UpdateTicket extends OperationTicket {
  /** false: the request asks for the configuration the tenant already has; nothing was claimed or changed. */
  changed: boolean;
  allowlistChanged: boolean;
  /** The plan's Bedrock models differ: the role policy is put again. */
  modelsChanged: boolean;
  /** Plan (CPU, memory, image, models) or image override differ: a new task-definition revision is rolled out. */
  taskDefinitionChanged: boolean;
  configHash: string;
}

export interface UpdateDeps extends LifecycleDeps {
  signup: SignupContext;
}

/**
 * Validates an update as a signup is validated (the plan exists; the allowlist passes against the
 * VPC CIDRs within the plan's rule budget) and claims the ACTIVE tenant: UPDATING, with the new
 * configuration in the record and the one it replaces under `previous`. A request that changes
 * nothing (same config hash) is a successful no-op: nothing is claimed, written or emitted.
 */
export async function claimForUpdate(deps: UpdateDeps, raw: unknown, executionArn: string): Promise<UpdateTicket> {
  const request = parseRequest(UpdateRequestSchema, raw, 'update refused');
  for (let attempt = 1; ; attempt++) {
    const record = await deps.store.require(request.tenantId);
    if (record.status === 'UPDATING' && record.executionArn === executionArn && record.previous) {
      // This step is being retried after its claim was written.
      return ticket(record, record.previous, deps.signup.plans, true);
    }
    if (record.status !== 'ACTIVE') {
      throw new TenantStateConflictError(`tenant "${record.tenantId}": ${refusal('startUpdate', record.status)}`);
    }
    const target = {
      plan: request.plan ?? record.plan,
      egressAllowlist: request.egressAllowlist ?? record.egressAllowlist,
      imageOverride: request.image ?? record.imageOverride,
      modelKeys: request.modelKeys ?? record.modelKeys ?? [],
    };
    const plan = validateTenantConfig(target, deps.signup, 'update refused');
    const hash = tenantConfigHash(target, plan);
    const previous: PreviousConfig = {
      plan: record.plan,
      egressAllowlist: record.egressAllowlist,
      ...(record.imageOverride ? { imageOverride: record.imageOverride } : {}),
      ...(record.modelKeys && record.modelKeys.length > 0 ? { modelKeys: record.modelKeys } : {}),
      configHash: record.configHash,
      ...(record.resources.taskDefinitionArn ? { taskDefinitionArn: record.resources.taskDefinitionArn } : {}),
    };
    if (hash === record.configHash) return ticket(record, previous, deps.signup.plans, false);
    try {
      const { record: claimed } = await applyTransition(deps, record.tenantId, 'startUpdate', {
        executionArn,
        // The target and `previous` come from this version: the claim must not land on a newer one.
        expectedVersion: record.version,
        patch: {
          plan: target.plan,
          egressAllowlist: target.egressAllowlist,
          imageOverride: target.imageOverride ?? null,
          modelKeys: target.modelKeys,
          configHash: hash,
          previous,
        },
      });
      return ticket(claimed, previous, deps.signup.plans, true);
    } catch (err) {
      // The record moved on between the read and the claim (another update finished): compute the
      // target again from the newer record, a bounded number of times; anything else is refused.
      if (!(err instanceof TenantStateConflictError) || attempt >= MAX_CLAIM_ATTEMPTS) throw err;
      const now = await deps.store.require(request.tenantId);
      if (now.status !== 'ACTIVE' || now.version === record.version) throw err;
    }
  }
}

/** How often an update claim is computed again after the record changed under it. */
export const MAX_CLAIM_ATTEMPTS = 3;

function ticket(record: TenantRecord, previous: PreviousConfig, plans: readonly Plan[], changed: boolean): UpdateTicket {
  const before = plans.find((p) => p.id === previous.plan);
  const after = plans.find((p) => p.id === record.plan);
  const same = (a: unknown, b: unknown) => configHash(a ?? null) === configHash(b ?? null);
  return {
    tenantId: record.tenantId,
    status: record.status,
    version: record.version,
    changed,
    allowlistChanged: changed && !same(previous.egressAllowlist, record.egressAllowlist),
    modelsChanged:
      changed &&
      (!before || !after || !same([before.bedrockModels, before.bedrockGuardrail], [after.bedrockModels, after.bedrockGuardrail])),
    taskDefinitionChanged:
      changed && (!before || !after || !same(before, after) || previous.imageOverride !== record.imageOverride || !same(previous.modelKeys ?? [], record.modelKeys ?? [])),
    configHash: record.configHash,
  };
}
