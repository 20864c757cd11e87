/**
 * Issue 14.1: the cell cluster's ECS events (EventBridge rule on the default bus, filtered to the
 * cell's cluster: infra/constructs/gateway-events.ts) resume the workflows' gateway waits. See
 * functions/usecases/gateway-wait.ts for the matching rules. A failure is retried by EventBridge's
 * asynchronous invocation and then goes to the rule's dead-letter queue; the waiting workflow's
 * heartbeat timeout and check step cover an event that never arrives.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GatewayWaits } from '../adapters/gateway-waits';
import { TaskTokens } from '../adapters/task-tokens';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { logger } from '../shared/powertools';
import { EcsEventSchema, onEcsEvent } from '../usecases/gateway-wait';

const env = loadEnv([vars.TABLE_NAME, vars.CELL_ID, vars.CLUSTER_NAME]);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG), { marshallOptions: { removeUndefinedValues: true } });
const deps = {
  waits: new GatewayWaits(doc, env.TABLE_NAME),
  tokens: new TaskTokens(new SFNClient(CLIENT_CONFIG)),
  cell: env.CELL_ID,
  clusterName: env.CLUSTER_NAME,
};

export const handler = makeHandler('GatewayEvents', EcsEventSchema, async (event) => {
  const result = await onEcsEvent(deps, event);
  logger.info('ECS event', { detailType: event['detail-type'], eventId: event.id, ...result });
  return result;
});
