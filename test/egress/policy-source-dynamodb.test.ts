/**
 * The sidecar's DynamoDB policy source against DynamoDB Local (started by the jest global setup):
 * the table layout infra/constructs/egress-proxy.ts creates (partition key tenantId, a "#version" marker).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbPolicySource, VERSION_KEY } from '../../functions/egress/policy-source-dynamodb';
import { CellEgressPolicySchema } from '../../functions/egress/policy-sync';
import { sha512Crypt } from '../../functions/egress/sha512-crypt';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local-cloud/dynamodb-local';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
const table = `egress-policy-test-${process.pid}-${Date.now()}`;
const HASH = sha512Crypt('pw', 'salt');
const rule = (host: string) => ({ host, ports: [443], origin: ['tenant'] });

/** What the update workflow will do: put the tenant's item and move the version in one transaction. */
async function write(tenantId: string, hosts: string[], version: number): Promise<void> {
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: table, Item: { tenantId, credentialHash: HASH, rules: hosts.map(rule), updatedAt: new Date().toISOString() } } },
        { Put: { TableName: table, Item: { tenantId: VERSION_KEY, version } } },
      ],
    }),
  );
}

beforeAll(async () => {
  await client.send(
    new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }] }),
  );
});

describe('DynamoDB policy source', () => {
  it('refuses to produce a policy while the table has no version marker (the proxy stays closed)', async () => {
    await expect(new DynamoDbPolicySource(client, table).load()).rejects.toThrow(/no #version item/);
  });

  it('reads every tenant item as one valid document and rescans only when the version moves', async () => {
    await write('tenant-alpha', ['api.telegram.org'], 1);
    await write('tenant-bravo', ['discord.com'], 2);
    const source = new DynamoDbPolicySource(client, table);
    const doc = CellEgressPolicySchema.parse(await source.load());
    expect(doc.version).toBe('2');
    expect(doc.tenants.map((t) => [t.tenantId, t.rules.map((r) => r.host)]).sort()).toEqual([
      ['tenant-alpha', ['api.telegram.org']],
      ['tenant-bravo', ['discord.com']],
    ]);
    // A write that does not move the version is not seen (the writer always moves it in the same transaction).
    await client.send(new PutCommand({ TableName: table, Item: { tenantId: 'tenant-carol', credentialHash: HASH, rules: [rule('slack.com')] } }));
    expect(CellEgressPolicySchema.parse(await source.load()).tenants).toHaveLength(2);
    await write('tenant-alpha', ['api.telegram.org', 'slack.com'], 3);
    const next = CellEgressPolicySchema.parse(await source.load());
    expect(next.version).toBe('3');
    expect(next.tenants).toHaveLength(3);
    expect(next.tenants.find((t) => t.tenantId === 'tenant-alpha')?.rules.map((r) => r.host)).toEqual(['api.telegram.org', 'slack.com']);
  });
});
