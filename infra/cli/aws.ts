/**
 * The AWS side of the CLI: SDK clients (created once per run, from the SDK's credential and
 * endpoint chain) and the reads the CLI needs beyond TenantStore (a paginated listing by status).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantStatus } from '../../functions/domain/tenant';
import { TenantRecordSchema, type TenantRecord } from '../../functions/domain/tenant-record';
import { TENANTS_TABLE_KEYS } from '../../functions/shared/table-schema';

export interface CliClients {
  readonly doc: DynamoDBDocumentClient;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  /** Tenant credential secrets (octw tenants channels add/remove, octw tenants models --key-file): created and tagged, never read back. */
  readonly sm: SecretsManagerClient;
  /** Issue 13: calls the cell's Reconcile function (tests hand in one that runs the handler in-process); default: Lambda Invoke. */
  readonly reconcile?: (payload: Record<string, unknown>) => Promise<unknown>;
  /** The region the SDK resolved (for ARNs derived from the cell). */
  region(): Promise<string>;
  destroy(): void;
}

/** Clients are built lazily: `octw tenants list` never needs Step Functions. */
export function createClients(region: string | undefined): CliClients {
  const base = region !== undefined ? { region } : {};
  let ddb: DynamoDBClient | undefined;
  let doc: DynamoDBDocumentClient | undefined;
  let sfn: SFNClient | undefined;
  let events: EventBridgeClient | undefined;
  let sm: SecretsManagerClient | undefined;
  return {
    get sm() {
      sm ??= new SecretsManagerClient(base);
      return sm;
    },
    get doc() {
      ddb ??= new DynamoDBClient(base);
      doc ??= DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
      return doc;
    },
    get sfn() {
      sfn ??= new SFNClient(base);
      return sfn;
    },
    get events() {
      events ??= new EventBridgeClient(base);
      return events;
    },
    async region() {
      if (region !== undefined) return region;
      sfn ??= new SFNClient(base);
      return sfn.config.region();
    },
    destroy() {
      doc?.destroy();
      ddb?.destroy();
      sfn?.destroy();
      events?.destroy();
      sm?.destroy();
    },
  };
}

/** Every tenant in `status`, following LastEvaluatedKey (byStatus GSI, oldest change first). */
export async function listTenantsByStatus(doc: DynamoDBDocumentClient, tableName: string, status: TenantStatus): Promise<TenantRecord[]> {
  const idx = TENANTS_TABLE_KEYS.indexes.byStatus;
  const records: TenantRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: idx.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': idx.partitionKey },
        ExpressionAttributeValues: { ':pk': `STATUS#${status}` },
        ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of out.Items ?? []) records.push(TenantRecordSchema.parse(item));
    startKey = out.LastEvaluatedKey;
  } while (startKey !== undefined);
  return records;
}
