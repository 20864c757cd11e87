/**
 * The cell's egress policies in their own DynamoDB table (infra/constructs/egress-proxy.ts creates it):
 * one item per tenant `{ tenantId, credentialHash, rules, updatedAt }` and one marker item
 * `{ tenantId: "#version", version: n }`. The writer (the update workflow, in a later round) puts a
 * tenant item and increments the marker in one TransactWriteItems, so the sidecar polls one
 * strongly consistent GetItem (1 RCU) every few seconds and scans only when the version moved.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { PolicySource } from './policy-sync';

export const VERSION_KEY = '#version';

export class DynamoDbPolicySource implements PolicySource {
  private cached: { version: string; doc: unknown } | undefined;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(): Promise<unknown> {
    const marker = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { tenantId: VERSION_KEY }, ConsistentRead: true }));
    const version: unknown = marker.Item?.version;
    if (typeof version !== 'number') throw new Error(`egress policy table ${this.tableName} has no ${VERSION_KEY} item: nothing to apply (the proxy stays closed)`);
    if (this.cached?.version === String(version)) return this.cached.doc;
    const tenants: unknown[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of page.Items ?? []) {
        const { tenantId, credentialHash, rules } = item as Record<string, unknown>;
        if (tenantId === VERSION_KEY) continue;
        tenants.push({ tenantId, credentialHash, rules });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    const doc = { version: String(version), tenants };
    this.cached = { version: String(version), doc };
    return doc;
  }
}
