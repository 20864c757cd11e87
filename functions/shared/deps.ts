/**
 * Builders for the adapters most handlers share. Each handler calls them once at module scope.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgePublisher } from '../adapters/lifecycle-events';
import { TenantStore } from '../adapters/tenant-store';
import type { LifecycleDeps } from '../usecases/lifecycle';
import { loadEnv } from './env';
import * as vars from './env-vars';
import { CLIENT_CONFIG } from './aws-clients';

export function tenantStoreFromEnv(): TenantStore {
  const env = loadEnv([vars.TABLE_NAME]);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return new TenantStore(doc, env.TABLE_NAME);
}

export function lifecycleDepsFromEnv(): LifecycleDeps {
  const env = loadEnv([vars.EVENT_BUS_NAME, vars.EVENT_SOURCE, vars.CELL_ID]);
  return {
    store: tenantStoreFromEnv(),
    events: new EventBridgePublisher(new EventBridgeClient(CLIENT_CONFIG), env.EVENT_BUS_NAME, env.EVENT_SOURCE),
    cell: env.CELL_ID,
  };
}
