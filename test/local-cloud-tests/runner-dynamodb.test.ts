import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { createTenantsTable, uniqueTableName } from '../local-cloud/dynamodb-local';
import { TENANTS_TABLE_KEYS } from '../../functions/shared/table-schema';

// The endpoint comes from jest-global-setup through AWS_ENDPOINT_URL_DYNAMODB: a client built
// with no endpoint, as the handlers build theirs, must reach DynamoDB Local.
const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '';
const tableName = uniqueTableName();
let client: DynamoDBClient;

beforeAll(async () => {
  await createTenantsTable(endpoint, tableName);
  client = new DynamoDBClient({});
});
afterAll(() => client.destroy());

describe('DynamoDB Local started by the jest global setup', () => {
  it('is reached by a default SDK client through AWS_ENDPOINT_URL_DYNAMODB', async () => {
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const table = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(table.Table?.TableStatus).toBe('ACTIVE');
  });

  it('creates the tenants table from TENANTS_TABLE_KEYS: pk/sk, both GSIs with ALL projection, on-demand, TTL', async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: TENANTS_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TENANTS_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const gsis = (Table?.GlobalSecondaryIndexes ?? []).map((g) => ({
      name: g.IndexName,
      keys: g.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`),
      projection: g.Projection?.ProjectionType,
    }));
    expect(gsis).toEqual(
      expect.arrayContaining([
        { name: 'byStatus', keys: ['gsi1pk:HASH', 'gsi1sk:RANGE'], projection: 'ALL' },
        { name: 'byCell', keys: ['gsi2pk:HASH', 'gsi2sk:RANGE'], projection: 'ALL' },
      ]),
    );
    expect(gsis).toHaveLength(2);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  it('rejects a conditional write whose expected version is stale with ConditionalCheckFailedException', async () => {
    const key = { pk: { S: 'TENANT#acme' }, sk: { S: 'RECORD' } };
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...key, version: { N: '1' } } }));
    const bump = (expected: string, next: string) =>
      client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { ...key, version: { N: next } },
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': { N: expected } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    await bump('1', '2');
    const stale = bump('1', '2');
    await expect(stale).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(stale).rejects.toMatchObject({ name: 'ConditionalCheckFailedException', Item: { version: { N: '2' } } });
  });

  it('cancels a whole transaction with per-item reasons when one condition fails, writing nothing', async () => {
    const uid = { pk: { S: 'UID#200001' }, sk: { S: 'UID' } };
    const tenant = { pk: { S: 'TENANT#beta' }, sk: { S: 'RECORD' } };
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...uid, tenant: { S: 'other' } } }));
    const attempt = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: { ...tenant, uid: { N: '200001' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: tableName, Item: { ...uid, tenant: { S: 'beta' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    await expect(attempt).rejects.toBeInstanceOf(TransactionCanceledException);
    const err = await attempt.catch((e: unknown) => e);
    expect((err as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    // The first Put did not happen: the tenant key is still absent.
    const written = await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ ConditionCheck: { TableName: tableName, Key: tenant, ConditionExpression: 'attribute_not_exists(pk)' } }],
      }),
    );
    expect(written.$metadata.httpStatusCode).toBe(200);
  });
});
