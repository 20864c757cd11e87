/**
 * Issue 14.1: a workflow waits for a gateway's ECS deployment with a Step Functions task token
 * instead of polling DescribeServices. One item per (tenant, deployment) in the tenants table:
 *
 *   TENANT#<id> / GATEWAY_WAIT#<deploymentId>
 *     token        the waiting task's token (the latest arm; a re-armed wait replaces it)
 *     executionArn the workflow that armed it; generation: the tenant's generation then
 *     deadline     when the wait gives up (set by the first arm, kept by later ones)
 *     outcome      the deployment's terminal state as ECS reported it (COMPLETED | FAILED)
 *     expiresAt    TTL: the item is only useful while a workflow can wait on it
 *
 * Two writers meet on the item, in either order: the workflow's arm (writes the token) and the
 * ECS event handler (writes the outcome). Each write is one UpdateItem returning the new item, so
 * DynamoDB orders them and exactly the second writer sees both token and outcome: it resumes the
 * workflow. An ECS event that arrives before the workflow waits is therefore never lost, and an
 * event for another deployment (stale, a rollback's own deployment, a previous generation) has
 * another key and cannot touch this wait. A duplicate outcome is refused by its condition.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export const DeploymentOutcomeSchema = z.object({
  state: z.enum(['COMPLETED', 'FAILED']),
  reason: z.string(),
  /** The ECS event's time. */
  at: z.string(),
  /** The EventBridge event that recorded it: its redelivery (same id) may resume again, another event may not. */
  eventId: z.string(),
});
export type DeploymentOutcome = z.infer<typeof DeploymentOutcomeSchema>;

export const GatewayWaitSchema = z.object({
  tenantId: z.string(),
  deploymentId: z.string(),
  token: z.optional(z.string()),
  executionArn: z.optional(z.string()),
  generation: z.optional(z.number()),
  deadline: z.optional(z.string()),
  outcome: z.optional(DeploymentOutcomeSchema),
});
export type GatewayWait = z.infer<typeof GatewayWaitSchema>;

/** Items outlive the longest wait (the workflow's own timeout is 1 hour) with a wide margin. */
const TTL_SECONDS = 2 * 24 * 3600;

export const gatewayWaitKey = (tenantId: string, deploymentId: string) => ({ pk: `TENANT#${tenantId}`, sk: `GATEWAY_WAIT#${deploymentId}` });

export class GatewayWaits {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private ttl(): number {
    return Math.floor(this.now() / 1000) + TTL_SECONDS;
  }

  /** Stores the waiting token (replacing an earlier arm's); the deadline is kept from the first arm. Returns the item as it now is. */
  async arm(input: { tenantId: string; deploymentId: string; token: string; executionArn: string; generation: number; deadline: string }): Promise<GatewayWait> {
    const out = await awsCall('DynamoDB UpdateItem (gateway wait)', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: gatewayWaitKey(input.tenantId, input.deploymentId),
          UpdateExpression:
            'SET tenantId = :t, deploymentId = :d, #token = :token, executionArn = :e, generation = :g, deadline = if_not_exists(deadline, :deadline), expiresAt = :ttl',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: {
            ':t': input.tenantId,
            ':d': input.deploymentId,
            ':token': input.token,
            ':e': input.executionArn,
            ':g': input.generation,
            ':deadline': input.deadline,
            ':ttl': this.ttl(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return GatewayWaitSchema.parse(out.Attributes);
  }

  /**
   * Records the deployment's terminal outcome once. Returns the item when this event recorded it
   * (now, or in an earlier delivery of the same event: a retried write whose answer was lost, or a
   * redelivery after the resume failed), undefined when another event recorded it (a duplicate or
   * a later event for the same deployment).
   */
  async recordOutcome(tenantId: string, deploymentId: string, outcome: DeploymentOutcome): Promise<GatewayWait | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: gatewayWaitKey(tenantId, deploymentId),
          UpdateExpression: 'SET tenantId = :t, deploymentId = :d, outcome = :o, expiresAt = if_not_exists(expiresAt, :ttl)',
          ConditionExpression: 'attribute_not_exists(outcome)',
          ExpressionAttributeValues: { ':t': tenantId, ':d': deploymentId, ':o': outcome, ':ttl': this.ttl() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return GatewayWaitSchema.parse(out.Attributes);
    } catch (err) {
      if (hasAwsErrorCode(err, 'ConditionalCheckFailedException')) {
        const item = await this.get(tenantId, deploymentId);
        return item?.outcome?.eventId === outcome.eventId ? item : undefined;
      }
      throw classifyAwsError(err, 'DynamoDB UpdateItem (deployment outcome)');
    }
  }

  async get(tenantId: string, deploymentId: string): Promise<GatewayWait | undefined> {
    const out = await awsCall('DynamoDB GetItem (gateway wait)', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: gatewayWaitKey(tenantId, deploymentId), ConsistentRead: true })),
    );
    return out.Item ? GatewayWaitSchema.parse(out.Item) : undefined;
  }
}
