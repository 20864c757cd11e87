/**
 * Issue 14.1: the gateway wait, driven by ECS events instead of DescribeServices polls.
 *
 * - The workflow's wait state (`lambda:invoke.waitForTaskToken`) arms a wait: the token is stored
 *   under (tenant, deployment id). The deployment id comes from the CreateService/UpdateService
 *   answer of the step before, so the wait names exactly the deployment it started.
 * - ECS reports the deployment's end (`ECS Deployment State Change`, SERVICE_DEPLOYMENT_COMPLETED or
 *   _FAILED, carrying the deployment id); the event handler records it under the same key and
 *   resumes the token. Whichever of the two writes comes second resumes (see gateway-waits.ts), so
 *   an event that arrives before the wait is armed is not lost.
 * - `ECS Task State Change` of a task the deployment started (`startedBy` = deployment id) is
 *   progress: it sends a heartbeat, so the wait's HeartbeatSeconds measures silence, not time.
 * - Stale, duplicate and out-of-order events cannot resume the wrong wait: a wait matches one
 *   deployment id only (a new deployment, a rollback's own deployment or a previous generation's
 *   has another), an outcome is recorded once (later ones are refused by a condition), a
 *   non-terminal event never resumes, and a token that is no longer waiting is answered 'gone'.
 *   A redelivery of the event that recorded the outcome (EventBridge retries a failed invocation:
 *   a throttled SendTaskSuccess, a lost DynamoDB answer) resumes again; another event does not.
 * - A lost event: the wait state's HeartbeatSeconds/TimeoutSeconds end it, and the workflow's
 *   check step looks once (one DescribeServices) before waiting again, bounded by the deadline the
 *   first arm stored.
 */
import * as z from '../shared/zod';
import type { DeploymentOutcome, GatewayWaits } from '../adapters/gateway-waits';
import type { TaskTokens } from '../adapters/task-tokens';
import { cellNamePrefix } from '../domain/naming';

export const GATEWAY_UNHEALTHY = 'GatewayUnhealthyError';

// ---------------------------------------------------------------------------------------------
// ECS events as EventBridge delivers them (Amazon ECS Developer Guide, "Amazon ECS events").
// Only the fields used are required; ECS may add others (the guide says to expect that).

const EnvelopeBase = {
  version: z.string(),
  id: z.string(),
  source: z.literal('aws.ecs'),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
};

export const DeploymentStateChangeSchema = z.object({
  ...EnvelopeBase,
  'detail-type': z.literal('ECS Deployment State Change'),
  detail: z.looseObject({
    eventType: z.string(),
    eventName: z.string(),
    deploymentId: z.string(),
    updatedAt: z.optional(z.string()),
    reason: z.optional(z.string()),
  }),
});

export const TaskStateChangeSchema = z.object({
  ...EnvelopeBase,
  'detail-type': z.literal('ECS Task State Change'),
  detail: z.looseObject({
    clusterArn: z.string(),
    taskArn: z.string(),
    lastStatus: z.string(),
    desiredStatus: z.optional(z.string()),
    group: z.optional(z.string()),
    startedBy: z.optional(z.string()),
    taskDefinitionArn: z.optional(z.string()),
    version: z.optional(z.number()),
  }),
});

export const ServiceActionSchema = z.object({
  ...EnvelopeBase,
  'detail-type': z.literal('ECS Service Action'),
  detail: z.looseObject({ eventType: z.string(), eventName: z.string(), clusterArn: z.optional(z.string()) }),
});

export const EcsEventSchema = z.discriminatedUnion('detail-type', [DeploymentStateChangeSchema, TaskStateChangeSchema, ServiceActionSchema]);
export type EcsEvent = z.infer<typeof EcsEventSchema>;

export interface GatewayWaitDeps {
  readonly waits: GatewayWaits;
  readonly tokens: TaskTokens;
  readonly cell: string;
  readonly clusterName: string;
}

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/octw-<cell>--<tenant>` → the tenant, when it is this cell's cluster and name. */
export function tenantOfService(serviceArnOrName: string, deps: Pick<GatewayWaitDeps, 'cell' | 'clusterName'>): string | undefined {
  const parts = serviceArnOrName.split(':').pop()?.split('/') ?? [];
  // service/<cluster>/<name> (the long ARN format) or a bare name.
  const name = parts.length >= 3 ? parts[2] : parts[parts.length - 1];
  const cluster = parts.length >= 3 ? parts[1] : undefined;
  if (!name || (cluster !== undefined && cluster !== deps.clusterName)) return undefined;
  const prefix = cellNamePrefix(deps.cell);
  return name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : undefined;
}

/** `service:octw-<cell>--<tenant>` (a task's group) → the tenant. */
function tenantOfGroup(group: string | undefined, deps: GatewayWaitDeps): string | undefined {
  return group?.startsWith('service:') ? tenantOfService(group.slice('service:'.length), deps) : undefined;
}

function clusterOf(arn: string): string | undefined {
  return arn.split(':').pop()?.split('/')[1];
}

/** Resolves a wait whose item has both a token and an outcome. */
async function resume(deps: GatewayWaitDeps, token: string, outcome: Pick<DeploymentOutcome, 'state' | 'reason'>, deploymentId: string) {
  return outcome.state === 'COMPLETED'
    ? deps.tokens.succeed(token, { steady: true, deploymentId })
    : deps.tokens.fail(token, GATEWAY_UNHEALTHY, `deployment ${deploymentId} failed: ${outcome.reason}`);
}

/** The wait state's Lambda: store the token; when ECS already reported the deployment's end, resume at once. */
export async function armWait(
  deps: GatewayWaitDeps,
  input: { tenantId: string; deploymentId: string; token: string; executionArn: string; generation: number; deadline: string },
): Promise<{ armed: true; resumed?: 'sent' | 'gone' }> {
  const item = await deps.waits.arm(input);
  if (item.outcome && item.token === input.token) {
    return { armed: true, resumed: await resume(deps, input.token, item.outcome, input.deploymentId) };
  }
  return { armed: true };
}

export type EventResult =
  | { action: 'ignored'; why: string }
  | { action: 'recorded'; tenantId: string; deploymentId: string; state: string; resumed?: 'sent' | 'gone' }
  | { action: 'heartbeat'; tenantId: string; deploymentId: string; result: 'sent' | 'gone' };

/** One ECS event from the cell's rule. */
export async function onEcsEvent(deps: GatewayWaitDeps, event: EcsEvent): Promise<EventResult> {
  switch (event['detail-type']) {
    case 'ECS Deployment State Change': {
      const serviceArn = event.resources[0];
      const tenantId = serviceArn ? tenantOfService(serviceArn, deps) : undefined;
      if (!tenantId) return { action: 'ignored', why: `not a tenant service of cell ${deps.cell}: ${serviceArn ?? '(no resource)'}` };
      const { deploymentId, eventName } = event.detail;
      const state = eventName === 'SERVICE_DEPLOYMENT_COMPLETED' ? 'COMPLETED' : eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'FAILED' : undefined;
      // IN_PROGRESS (a start or a rollback's start) says nothing about the end: never resumes.
      if (!state) return { action: 'ignored', why: `${eventName} is not a deployment's end` };
      const outcome = { state, reason: event.detail.reason ?? eventName, at: event.detail.updatedAt ?? event.time, eventId: event.id } as const;
      const item = await deps.waits.recordOutcome(tenantId, deploymentId, outcome);
      if (!item) return { action: 'ignored', why: `deployment ${deploymentId} already has its outcome (duplicate or late event)` };
      const resumed = item.token ? await resume(deps, item.token, outcome, deploymentId) : undefined;
      return { action: 'recorded', tenantId, deploymentId, state, ...(resumed ? { resumed } : {}) };
    }
    case 'ECS Task State Change': {
      const d = event.detail;
      if (clusterOf(d.clusterArn) !== deps.clusterName) return { action: 'ignored', why: `cluster ${d.clusterArn} is not this cell's` };
      const tenantId = tenantOfGroup(d.group, deps);
      if (!tenantId || !d.startedBy) return { action: 'ignored', why: 'not a task of a tenant service deployment' };
      const wait = await deps.waits.get(tenantId, d.startedBy);
      if (!wait?.token || wait.outcome) return { action: 'ignored', why: `no open wait on deployment ${d.startedBy}` };
      return { action: 'heartbeat', tenantId, deploymentId: d.startedBy, result: await deps.tokens.heartbeat(wait.token) };
    }
    case 'ECS Service Action':
      // Service actions carry no deployment id: a wait cannot be matched to one safely. The rule
      // delivers them (steady-state, start-impaired) for the function's log only.
      return { action: 'ignored', why: `service action ${event.detail.eventName}` };
  }
}
