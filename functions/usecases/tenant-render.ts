/**
 * What a tenant record renders into its task definition: the one place that turns a record (plan,
 * image override, channels, model keys, resources, uid/gid) and the cell's settings into the inputs
 * of `renderTaskDefinition` and its config hash. The Gateway function registers what this returns;
 * the reconcile and audit (functions/usecases/live-state.ts) compare the live revision with it.
 * No rule lives here: the rules are the domain renderers'.
 */
import { configHash } from '../domain/config-hash';
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { renderOpenClawConfig, serializeOpenClawConfig } from '../domain/openclaw-config';
import { renderTaskDefinition, type TaskDefinitionShape } from '../domain/task-definition';
import type { Plan } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';

export interface TenantRenderSettings {
  plans: readonly Plan[];
  region: string;
  fileSystemId: string;
  executionRoleArn: string;
  /** Ingress on (issue 12): the gateway trusts the ingress subnets and accepts exactly the tenant's origin. */
  ingress?: { domain: string; ingressCidrs: readonly string[] } | undefined;
}

/** The tenant's plan, with its image replaced by the tenant's image override if it has one. */
export function planOf(record: TenantRecord, plans: readonly Plan[]): Plan {
  const plan = plans.find((p) => p.id === record.plan);
  if (!plan) throw new ValidationError(`tenant "${record.tenantId}" is on plan "${record.plan}", which is no longer in the catalogue`);
  return record.imageOverride ? { ...plan, image: record.imageOverride } : plan;
}

function need<T>(value: T | undefined, what: string, tenantId: string): T {
  if (value === undefined) throw new TenantStateConflictError(`tenant "${tenantId}" has no ${what} recorded; it must be created first`);
  return value;
}

/** The task definition the record renders, tagged with its config hash, and that hash. */
export function renderTenantTaskDefinition(record: TenantRecord, s: TenantRenderSettings): { taskDefinition: TaskDefinitionShape; hash: string } {
  const { tenantId } = record;
  const r = record.resources;
  const plan = planOf(record, s.plans);
  // The tenant's own provider keys: credential ARNs verified as the tenant's own when the update set them.
  const modelKeySecrets = record.modelKeys ?? [];
  const models = { inferenceProfiles: r.inferenceProfiles ?? {}, keyedProviders: modelKeySecrets.map((k) => k.provider) };
  const ingress = s.ingress ? { domain: s.ingress.domain, ingressCidrs: [...s.ingress.ingressCidrs] } : undefined;
  const openclawConfigJson = serializeOpenClawConfig(
    renderOpenClawConfig({ tenantId, plan, region: s.region, channels: record.channels ?? [], models, ...(ingress ? { ingress } : {}) }),
  );
  const base = {
    tenantId,
    cell: record.cell,
    plan,
    region: s.region,
    fileSystemId: s.fileSystemId,
    accessPointId: need(r.accessPointId, 'access point', tenantId),
    // The gateway runs as the access point's PosixUser (the same uid/gid the access point was created with).
    posixUser: { uid: need(record.uid, 'uid', tenantId), gid: need(record.gid, 'gid', tenantId) },
    taskRoleArn: need(r.roleArn, 'task role', tenantId),
    executionRoleArn: s.executionRoleArn,
    secretArn: need(r.secretArn, 'secret', tenantId),
    // [egress-wire] Recorded by the Egress step when the cell has a proxy.
    proxySecretArn: r.proxySecretArn,
    logGroupName: need(r.logGroupName, 'log group', tenantId),
    modelKeySecrets,
    openclawConfigJson,
    channels: record.channels ?? [],
    // Ingress on: the platform operator's device is paired in the task (octw tenants pairing over the endpoint).
    operatorPairing: ingress !== undefined,
  };
  const hash = configHash(renderTaskDefinition({ ...base, configHash: '' }));
  return { taskDefinition: renderTaskDefinition({ ...base, configHash: hash }), hash };
}
