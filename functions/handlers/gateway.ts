/**
 * The tenant's gateway on ECS: register the hardened task definition, create the service, wait
 * (bounded) for the recorded revision to be steady, roll the service to the recorded revision,
 * scale it (suspend/resume), and remove service and task definitions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import * as z from '../shared/zod';
import { GatewayServices, gatewayUnhealthy } from '../adapters/gateway-service';
import { GatewayWaits } from '../adapters/gateway-waits';
import { TaskTokens } from '../adapters/task-tokens';
import { ResourceBusyError, TenantStateConflictError } from '../domain/errors';
import { TenantStatusSchema } from '../domain/tenant';
import type { TenantRecord } from '../domain/tenant-record';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv, regionFromEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { armWait } from '../usecases/gateway-wait';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';
import { restageSuspended } from '../usecases/restage';
import { planOf as planOfRecord, renderTenantTaskDefinition, type TenantRenderSettings } from '../usecases/tenant-render';

const env = loadEnv([
  vars.TABLE_NAME,
  vars.PLANS_JSON,
  vars.CLUSTER_NAME,
  vars.SUBNET_IDS,
  vars.FILE_SYSTEM_ID,
  vars.EXECUTION_ROLE_ARN,
  vars.GATEWAY_WAIT_SECONDS,
  vars.GATEWAY_POLL_INTERVAL_MS,
  vars.IAM_PROPAGATION_GRACE_MS,
  vars.INGRESS_SETTINGS_JSON,
]);
/** Issue 12: with ingress, the gateway trusts the ingress subnets and accepts exactly the tenant's origin. */
const ingress = env.INGRESS_SETTINGS_JSON.enabled
  ? { domain: env.INGRESS_SETTINGS_JSON.settings.domain, ingressCidrs: env.INGRESS_SETTINGS_JSON.settings.ingressCidrs }
  : undefined;
const region = regionFromEnv();
const { store, cell } = lifecycleDepsFromEnv();
const services = new GatewayServices(new ECSClient(CLIENT_CONFIG), { cell, clusterName: env.CLUSTER_NAME, subnetIds: env.SUBNET_IDS });
const renderSettings: TenantRenderSettings = { plans: env.PLANS_JSON, region, fileSystemId: env.FILE_SYSTEM_ID, executionRoleArn: env.EXECUTION_ROLE_ARN, ingress };
// Issue 14.1: the event-driven wait (token stored per deployment, resumed by the GatewayEvents function).
const waitDeps = {
  waits: new GatewayWaits(DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG), { marshallOptions: { removeUndefinedValues: true } }), env.TABLE_NAME),
  tokens: new TaskTokens(new SFNClient(CLIENT_CONFIG)),
  cell,
  clusterName: env.CLUSTER_NAME,
};

/** Time kept back from a Lambda invocation's budget for the last poll and the return. */
const INVOCATION_MARGIN_MS = 15_000;

const Ref = { tenantId: z.string().check(z.minLength(1)), executionArn: z.string().check(z.minLength(1)) };
const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('registerTaskDefinition'), ...Ref }),
  z.object({ action: z.literal('createService'), ...Ref }),
  z.object({
    action: z.literal('waitForSteady'),
    ...Ref,
    /** Absent on the first call; then the deadline returned by the previous call. */
    deadline: z.optional(z.string().check(z.iso.datetime())),
    desiredCount: z._default(z.int().check(z.gte(0)).check(z.lte(1)), 1),
  }),
  /**
   * Issue 14.1, the event-driven wait: the state's task token, stored for the deployment the step
   * before started; resumed by the GatewayEvents function (or at once when ECS already reported).
   */
  z.object({ action: z.literal('armWait'), ...Ref, taskToken: z.string().check(z.minLength(1)).check(z.maxLength(1024)), deploymentId: z.string().check(z.minLength(1)) }),
  /** After a wait ended without an event (heartbeat or timeout): one look at the service, bounded by the wait's deadline. */
  z.object({ action: z.literal('checkWait'), ...Ref, deploymentId: z.string().check(z.minLength(1)) }),
  /** Points the service at the recorded task definition (an update, or its rollback). */
  z.object({ action: z.literal('deploy'), ...Ref }),
  /** Sets the desired count: 0 suspends, 1 resumes. */
  z.object({
    action: z.literal('scale'),
    ...Ref,
    desiredCount: z.int().check(z.gte(0)).check(z.lte(1)),
    /** A new deployment of the recorded revision (a resume): the workflow then waits for its ECS deployment event. */
    newDeployment: z._default(z.boolean(), false),
    /** Only while the tenant is in this status (a step that puts things back must not undo a finished transition). */
    ifStatus: z.optional(TenantStatusSchema),
  }),
  z.object({ action: z.literal('deleteService'), ...Ref }),
  z.object({
    action: z.literal('waitForServiceDeleted'),
    ...Ref,
    deadline: z.optional(z.string().check(z.iso.datetime())),
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
    target: z.looseObject({ image: z.optional(z.string()), plan: z.optional(z.string()) }),
  }),
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

/**
 * A tenant role younger than IAM_PROPAGATION_GRACE_MS is not offered to ECS yet: ECS would refuse
 * it, and each refusal spends a token of the account's RegisterTaskDefinition budget (20 burst, 1
 * per second) that every provisioning and rollout of the cell shares. The wait ends within this
 * invocation's time; a registration still refused afterwards is retried by the workflow
 * (IamPropagationError).
 */
async function waitForRolePropagation(roleCreatedAt: string | undefined, context: Context): Promise<void> {
  const created = roleCreatedAt ? Date.parse(roleCreatedAt) : Number.NaN;
  if (Number.isNaN(created) || env.IAM_PROPAGATION_GRACE_MS === 0) return;
  const wait = Math.min(created + env.IAM_PROPAGATION_GRACE_MS - Date.now(), context.getRemainingTimeInMillis() - INVOCATION_MARGIN_MS);
  if (wait > 0) await sleep(wait);
}

/** Registers (or adopts) the revision the record renders (usecases/tenant-render.ts: also what the reconcile compares with). */
async function registerRevision(record: TenantRecord): Promise<string> {
  const { taskDefinition, hash } = renderTenantTaskDefinition(record, renderSettings);
  return services.ensureTaskDefinition(taskDefinition, hash, record.tenantId);
}

export const handler = makeHandler('Gateway', Input, async (input, context: Context) => {
  const { tenantId, executionArn } = input;
  if (input.action === 'restage') {
    return restageSuspended(
      {
        store,
        plans: env.PLANS_JSON,
        registerRevision,
        pointService: async (id, arn) => {
          await services.update(id, { taskDefinitionArn: arn });
        },
      },
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
      await waitForRolePropagation(r.roleCreatedAt, context);
      const taskDefinitionArn = await registerRevision(record);
      const previous = r.taskDefinitionArn && r.taskDefinitionArn !== taskDefinitionArn ? r.taskDefinitionArn : r.previousTaskDefinitionArn;
      await store.setResources(tenantId, executionArn, { taskDefinitionArn, previousTaskDefinitionArn: previous ?? null });
      return { taskDefinitionArn };
    }
    case 'createService': {
      const { serviceArn, deploymentId } = await services.ensureService({
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
      return { serviceArn, deploymentId: deploymentId ?? null };
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
      const { deploymentId } = await services.update(tenantId, { taskDefinitionArn });
      return { taskDefinitionArn, deploymentId: deploymentId ?? null };
    }
    case 'scale': {
      if (input.ifStatus && record.status !== input.ifStatus) return { skipped: `tenant is ${record.status}, not ${input.ifStatus}` };
      const { deploymentId } = await services.update(tenantId, {
        desiredCount: input.desiredCount,
        ...(input.newDeployment ? { newDeployment: true, taskDefinitionArn: need(r.taskDefinitionArn, 'task definition', tenantId) } : {}),
      });
      return { desiredCount: input.desiredCount, deploymentId: deploymentId ?? null };
    }
    case 'armWait': {
      const deadline = new Date(Date.now() + env.GATEWAY_WAIT_SECONDS * 1000).toISOString();
      return armWait(waitDeps, { tenantId, deploymentId: input.deploymentId, token: input.taskToken, executionArn, generation: record.generation, deadline });
    }
    case 'checkWait': {
      const wait = await waitDeps.waits.get(tenantId, input.deploymentId);
      // An event that arrived while no token waited (or whose resume failed) decides without a look.
      if (wait?.outcome?.state === 'COMPLETED') return { steady: true, deploymentId: input.deploymentId, via: 'recorded event' };
      if (wait?.outcome?.state === 'FAILED') throw gatewayUnhealthy(tenantId, `deployment ${input.deploymentId} failed: ${wait.outcome.reason}`);
      const health = await services.health(tenantId, 1, r.taskDefinitionArn);
      if (health.state === 'FAILED') throw gatewayUnhealthy(tenantId, health.reason);
      if (health.state === 'STEADY') return { steady: true, deploymentId: input.deploymentId, via: 'DescribeServices' };
      const deadline = wait?.deadline ? Date.parse(wait.deadline) : 0;
      if (Date.now() >= deadline) {
        throw gatewayUnhealthy(tenantId, `not steady within ${env.GATEWAY_WAIT_SECONDS} s (running ${health.runningCount}, pending ${health.pendingCount}, rollout ${health.rolloutState})`);
      }
      return { steady: false, deploymentId: input.deploymentId, health };
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
