/**
 * The tenant's gateway on ECS: register the hardened task definition, create the service, wait
 * (bounded) for the recorded revision to be steady, roll the service to the recorded revision,
 * scale it (suspend/resume), and remove service and task definitions.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { GatewayServices, gatewayUnhealthy } from '../adapters/gateway-service';
import { configHash } from '../domain/config-hash';
import { ResourceBusyError, TenantStateConflictError, ValidationError } from '../domain/errors';
import { renderOpenClawConfig, serializeOpenClawConfig } from '../domain/openclaw-config';
import { renderTaskDefinition } from '../domain/task-definition';
import { TenantStatusSchema } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv, regionFromEnv } from '../shared/env';
import { makeHandler } from '../shared/handler';
import { traced } from '../shared/powertools';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';
import { restageSuspended } from '../usecases/restage';

const env = loadEnv([
  'PLANS_JSON',
  'CLUSTER_NAME',
  'SUBNET_IDS',
  'FILE_SYSTEM_ID',
  'EXECUTION_ROLE_ARN',
  'GATEWAY_WAIT_SECONDS',
  'GATEWAY_POLL_INTERVAL_MS',
  'INGRESS_SETTINGS_JSON',
]);
/** Issue 12: with ingress, the gateway trusts the ingress subnets and accepts exactly the tenant's origin. */
const ingress = env.INGRESS_SETTINGS_JSON.enabled
  ? { domain: env.INGRESS_SETTINGS_JSON.settings.domain, ingressCidrs: env.INGRESS_SETTINGS_JSON.settings.ingressCidrs }
  : undefined;
const region = regionFromEnv();
const { store, cell } = lifecycleDepsFromEnv();
const services = new GatewayServices(traced(new ECSClient({})), { cell, clusterName: env.CLUSTER_NAME, subnetIds: env.SUBNET_IDS });

/** Time kept back from a Lambda invocation's budget for the last poll and the return. */
const INVOCATION_MARGIN_MS = 15_000;

const Ref = { tenantId: z.string().min(1), executionArn: z.string().min(1) };
const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('registerTaskDefinition'), ...Ref }),
  z.object({ action: z.literal('createService'), ...Ref }),
  z.object({
    action: z.literal('waitForSteady'),
    ...Ref,
    /** Absent on the first call; then the deadline returned by the previous call. */
    deadline: z.string().datetime().optional(),
    desiredCount: z.int().min(0).max(1).default(1),
  }),
  /** Points the service at the recorded task definition (an update, or its rollback). */
  z.object({ action: z.literal('deploy'), ...Ref }),
  /** Sets the desired count: 0 suspends, 1 resumes. */
  z.object({
    action: z.literal('scale'),
    ...Ref,
    desiredCount: z.int().min(0).max(1),
    /** Only while the tenant is in this status (a step that puts things back must not undo a finished transition). */
    ifStatus: TenantStatusSchema.optional(),
  }),
  z.object({ action: z.literal('deleteService'), ...Ref }),
  z.object({
    action: z.literal('waitForServiceDeleted'),
    ...Ref,
    deadline: z.string().datetime().optional(),
  }),
  z.object({ action: z.literal('deleteTaskDefinitions'), ...Ref }),
  /**
   * Fleet rollout (issue 13.1): a SUSPENDED tenant gets the new image (and plan, when it changes
   * nothing but the task definition) as its recorded revision, with the service pointed at it and
   * left at desired count 0; the next resume starts it. `executionArn` is the rollout's (it does not
   * hold the tenant: the record write is conditional on SUSPENDED and the version it read).
   */
  z.object({
    action: z.literal('restage'),
    ...Ref,
    target: z.object({ image: z.string().optional(), plan: z.string().optional() }).passthrough(),
  }),
]);

/** The tenant's plan, with its image replaced by the tenant's image override if it has one. */
function planOf(record: TenantRecord) {
  const plan = env.PLANS_JSON.find((p) => p.id === record.plan);
  if (!plan) throw new ValidationError(`tenant "${record.tenantId}" is on plan "${record.plan}", which is no longer in the catalogue`);
  return record.imageOverride ? { ...plan, image: record.imageOverride } : plan;
}

/** The wait budget of this invocation: until the workflow's deadline, within the Lambda's remaining time. */
function budget(deadline: number, context: Context): number {
  return Math.max(0, Math.min(deadline - Date.now(), context.getRemainingTimeInMillis() - INVOCATION_MARGIN_MS));
}

function need<T>(value: T | undefined, what: string, tenantId: string): T {
  if (value === undefined) throw new TenantStateConflictError(`tenant "${tenantId}" has no ${what} recorded; it must be created first`);
  return value;
}

/** Registers (or finds, by its hash) the hardened task definition the record renders; returns its ARN. */
async function registerRevision(record: TenantRecord): Promise<string> {
  const { tenantId } = record;
  const r = record.resources;
  const plan = planOf(record);
  // The tenant's own provider keys: credential ARNs verified as the tenant's own when the update set them.
  const modelKeySecrets = record.modelKeys ?? [];
  const models = { inferenceProfiles: r.inferenceProfiles ?? {}, keyedProviders: modelKeySecrets.map((k) => k.provider) };
  const openclawConfigJson = serializeOpenClawConfig(renderOpenClawConfig({ tenantId, plan, region, channels: record.channels ?? [], models, ...(ingress ? { ingress } : {}) }));
  const base = {
    tenantId,
    cell: record.cell,
    plan,
    region,
    fileSystemId: env.FILE_SYSTEM_ID,
    accessPointId: need(r.accessPointId, 'access point', tenantId),
    // The gateway runs as the access point's PosixUser (the same uid/gid the access point was created with).
    posixUser: { uid: need(record.uid, 'uid', tenantId), gid: need(record.gid, 'gid', tenantId) },
    taskRoleArn: need(r.roleArn, 'task role', tenantId),
    executionRoleArn: env.EXECUTION_ROLE_ARN,
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
  return services.ensureTaskDefinition(renderTaskDefinition({ ...base, configHash: hash }), hash, tenantId);
}

export const handler = makeHandler('Gateway', Input, async (input, context: Context) => {
  const { tenantId, executionArn } = input;
  if (input.action === 'restage') {
    return restageSuspended(
      { store, plans: env.PLANS_JSON, registerRevision, pointService: (id, arn) => services.update(id, { taskDefinitionArn: arn }) },
      tenantId,
      { ...(input.target.image !== undefined ? { image: input.target.image } : {}), ...(input.target.plan !== undefined ? { plan: input.target.plan } : {}) },
      executionArn,
    );
  }
  const teardown = input.action === 'deleteService' || input.action === 'deleteTaskDefinitions';
  const record = teardown ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  const r = record.resources;
  switch (input.action) {
    case 'registerTaskDefinition': {
      const taskDefinitionArn = await registerRevision(record);
      const previous = r.taskDefinitionArn && r.taskDefinitionArn !== taskDefinitionArn ? r.taskDefinitionArn : r.previousTaskDefinitionArn;
      await store.setResources(tenantId, executionArn, { taskDefinitionArn, previousTaskDefinitionArn: previous ?? null });
      return { taskDefinitionArn };
    }
    case 'createService': {
      const serviceArn = await services.ensureService({
        tenantId,
        cell: record.cell,
        generation: record.generation,
        taskDefinitionArn: need(r.taskDefinitionArn, 'task definition', tenantId),
        securityGroupId: need(r.securityGroupId, 'security group', tenantId),
        spot: planOf(record).spot,
        // The route's target group (ingress on): ECS registers the task there. Made before the service (ECS needs it attached to a load balancer).
        ...(record.ingress ? { targetGroupArn: record.ingress.targetGroupArn } : {}),
      });
      await store.setResources(tenantId, executionArn, { serviceArn });
      return { serviceArn };
    }
    case 'waitForSteady': {
      const deadline = input.deadline ? Date.parse(input.deadline) : Date.now() + env.GATEWAY_WAIT_SECONDS * 1000;
      const health = await services.waitForSteady(tenantId, {
        budgetMs: budget(deadline, context),
        pollMs: env.GATEWAY_POLL_INTERVAL_MS,
        desiredCount: input.desiredCount,
        // Steady on the revision the record names, not on whatever the service fell back to.
        ...(r.taskDefinitionArn ? { expectedTaskDefinition: r.taskDefinitionArn } : {}),
      });
      if (health.state === 'FAILED') throw gatewayUnhealthy(tenantId, health.reason);
      if (health.state === 'PENDING' && Date.now() >= deadline) {
        throw gatewayUnhealthy(tenantId, `not steady within ${env.GATEWAY_WAIT_SECONDS} s (running ${health.runningCount}, pending ${health.pendingCount}, rollout ${health.rolloutState})`);
      }
      return { steady: health.state === 'STEADY', deadline: new Date(deadline).toISOString(), health };
    }
    case 'deploy': {
      const taskDefinitionArn = need(r.taskDefinitionArn, 'task definition', tenantId);
      await services.update(tenantId, { taskDefinitionArn });
      return { taskDefinitionArn };
    }
    case 'scale': {
      if (input.ifStatus && record.status !== input.ifStatus) return { skipped: `tenant is ${record.status}, not ${input.ifStatus}` };
      await services.update(tenantId, { desiredCount: input.desiredCount });
      return { desiredCount: input.desiredCount };
    }
    case 'waitForServiceDeleted': {
      const deadline = input.deadline ? Date.parse(input.deadline) : Date.now() + env.GATEWAY_WAIT_SECONDS * 1000;
      const deleted = await services.waitForDeleted(tenantId, { budgetMs: budget(deadline, context), pollMs: env.GATEWAY_POLL_INTERVAL_MS });
      if (!deleted && Date.now() >= deadline) {
        throw new ResourceBusyError(`service ${tenantId} has not finished draining within ${env.GATEWAY_WAIT_SECONDS} s`);
      }
      return { deleted, deadline: new Date(deadline).toISOString() };
    }
    case 'deleteService': {
      const state = await services.delete(tenantId);
      await store.setResources(tenantId, executionArn, { serviceArn: null });
      return { service: state };
    }
    case 'deleteTaskDefinitions': {
      const deleted = await services.deleteTaskDefinitions(tenantId);
      await store.setResources(tenantId, executionArn, { taskDefinitionArn: null, previousTaskDefinitionArn: null });
      return { taskDefinitionsDeleted: deleted };
    }
  }
});
