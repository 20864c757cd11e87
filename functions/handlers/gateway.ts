/**
 * The tenant's gateway on ECS: register the hardened task definition, create the service, wait
 * (bounded) for the recorded revision to be steady, roll the service to the recorded revision,
 * scale it (suspend/resume), and remove service and task definitions.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { GatewayServices, gatewayUnhealthy } from '../adapters/gateway-service';
import { ResourceBusyError, TenantStateConflictError } from '../domain/errors';
import { TenantStatusSchema } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv, regionFromEnv } from '../shared/env';
import { makeHandler } from '../shared/handler';
import { traced } from '../shared/powertools';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';
import { planOf as planOfRecord, renderTenantTaskDefinition, type TenantRenderSettings } from '../usecases/tenant-render';

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
const renderSettings: TenantRenderSettings = { plans: env.PLANS_JSON, region, fileSystemId: env.FILE_SYSTEM_ID, executionRoleArn: env.EXECUTION_ROLE_ARN, ingress };

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
]);

const planOf = (record: TenantRecord) => planOfRecord(record, env.PLANS_JSON);

/** The wait budget of this invocation: until the workflow's deadline, within the Lambda's remaining time. */
function budget(deadline: number, context: Context): number {
  return Math.max(0, Math.min(deadline - Date.now(), context.getRemainingTimeInMillis() - INVOCATION_MARGIN_MS));
}

function need<T>(value: T | undefined, what: string, tenantId: string): T {
  if (value === undefined) throw new TenantStateConflictError(`tenant "${tenantId}" has no ${what} recorded; it must be created first`);
  return value;
}

export const handler = makeHandler('Gateway', Input, async (input, context: Context) => {
  const { tenantId, executionArn } = input;
  const teardown = input.action === 'deleteService' || input.action === 'deleteTaskDefinitions';
  const record = teardown ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  const r = record.resources;
  switch (input.action) {
    case 'registerTaskDefinition': {
      // What the record renders (usecases/tenant-render.ts: also what the reconcile compares with).
      const { taskDefinition, hash } = renderTenantTaskDefinition(record, renderSettings);
      const taskDefinitionArn = await services.ensureTaskDefinition(taskDefinition, hash, tenantId);
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
