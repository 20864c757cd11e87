/**
 * A SUSPENDED tenant in a fleet rollout (issue 13.1): it gets the new revision without being
 * started. The new task definition is registered from the record as it will be, the record takes
 * the new configuration and revision in one conditional write (SUSPENDED, same version), and the
 * service is pointed at that revision with its desired count left at 0; the next resume starts it
 * (resume waits for the recorded revision). Idempotent: a retry after the write finds the record
 * at the target and only points the service again.
 *
 * A plan change is restaged only when it changes nothing but the task definition (same Bedrock
 * models, same host rules): the role and egress policy of a suspended tenant are not rewritten here.
 */
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import type { Plan } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import type { TenantStore } from '../adapters/tenant-store';
import { configHash } from '../domain/config-hash';
import { tenantConfigHash } from './signup';

export interface RestageDeps {
  readonly store: Pick<TenantStore, 'require' | 'restageSuspended'>;
  readonly plans: readonly Plan[];
  /** Registers (or finds) the task definition the record renders; returns its ARN. */
  registerRevision(record: TenantRecord): Promise<string>;
  /** UpdateService to this revision, desired count unchanged. */
  pointService(tenantId: string, taskDefinitionArn: string): Promise<void>;
}

export async function restageSuspended(
  deps: RestageDeps,
  tenantId: string,
  target: { image?: string; plan?: string },
  executionArn: string,
): Promise<{ changed: boolean; taskDefinitionArn: string | undefined }> {
  const record = await deps.store.require(tenantId);
  if (record.status !== 'SUSPENDED') {
    // Resumed, deprovisioned or claimed since the rollout admitted it: not ours to change now.
    throw new TenantStateConflictError(`tenant "${tenantId}" is ${record.status}, no longer SUSPENDED; not restaged`);
  }
  const planId = target.plan ?? record.plan;
  const plan = deps.plans.find((p) => p.id === planId);
  if (!plan) throw new ValidationError(`plan "${planId}" is not in this cell's catalogue`);
  if (planId !== record.plan) {
    const before = deps.plans.find((p) => p.id === record.plan);
    const same = (a: unknown, b: unknown) => configHash(a ?? null) === configHash(b ?? null);
    if (!before || !same([before.bedrockModels, before.bedrockGuardrail, before.egress], [plan.bedrockModels, plan.bedrockGuardrail, plan.egress])) {
      throw new ValidationError(`tenant "${tenantId}" is SUSPENDED: plan "${planId}" changes its models or egress bounds, which needs it ACTIVE (resume it, then update)`);
    }
  }
  const imageOverride = target.image ?? record.imageOverride;
  const hash = tenantConfigHash(
    { plan: planId, egressAllowlist: record.egressAllowlist, hostAllowlist: record.hostAllowlist, imageOverride, channels: record.channels, modelKeys: record.modelKeys },
    plan,
  );
  if (hash === record.configHash) {
    // Already at the target (a retried step, or nothing to change): the service follows the record.
    if (record.resources.taskDefinitionArn) await deps.pointService(tenantId, record.resources.taskDefinitionArn);
    return { changed: false, taskDefinitionArn: record.resources.taskDefinitionArn };
  }
  const next: TenantRecord = { ...record, plan: planId, ...(imageOverride !== undefined ? { imageOverride } : {}), configHash: hash };
  const taskDefinitionArn = await deps.registerRevision(next);
  const previous = record.resources.taskDefinitionArn !== taskDefinitionArn ? record.resources.taskDefinitionArn : record.resources.previousTaskDefinitionArn;
  const changes = [
    ...(imageOverride !== record.imageOverride ? [`image: ${imageOverride ?? '(plan image)'}`] : []),
    ...(planId !== record.plan ? [`plan: ${record.plan} -> ${planId}`] : []),
  ];
  await deps.store.restageSuspended(record, { plan: planId, imageOverride, configHash: hash, taskDefinitionArn, previousTaskDefinitionArn: previous }, executionArn, changes);
  await deps.pointService(tenantId, taskDefinitionArn);
  return { changed: true, taskDefinitionArn };
}
