/**
 * The cell's egress policy table (issue 10), as its one writer sees it: one item per tenant
 * `{ tenantId, credentialHash, rules, updatedAt }` and the marker `{ tenantId: "#version", version }`.
 * The format is the one functions/egress/policy-source-dynamodb.ts reads (frozen, contract 1).
 * Every write of a tenant item increments the marker in the SAME TransactWriteItems, so the proxy's
 * sidecar (one strongly consistent GetItem of the marker per poll) sees every change.
 * Only a SHA-512 crypt hash of the tenant's proxy password is ever written here.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransientAwsError } from '../domain/errors';
import { HostRuleSchema, type HostRule } from '../domain/egress-policy';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';
import * as z from '../shared/zod';

/** The marker item's key (functions/egress/policy-source-dynamodb.ts VERSION_KEY). */
export const POLICY_VERSION_KEY = '#version';

const CRYPT = /^\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/;

export const PolicyItemSchema = z.strictObject({
    tenantId: z.string().check(z.minLength(1)),
    credentialHash: z.string().check(z.regex(CRYPT, { error: 'credentialHash must be a SHA-512 crypt ($6$) hash' })),
    rules: z.array(HostRuleSchema),
    updatedAt: z.string(),
  });
export type PolicyItem = z.infer<typeof PolicyItemSchema>;

export class EgressPolicyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(tenantId: string): Promise<PolicyItem | undefined> {
    const out = await awsCall('DynamoDB GetItem egress policy', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { tenantId }, ConsistentRead: true })),
    );
    return out.Item ? PolicyItemSchema.parse(out.Item) : undefined;
  }

  /** Writes the tenant's item (credential hash + rules) and bumps the version, in one transaction. */
  async put(tenantId: string, credentialHash: string, rules: readonly HostRule[]): Promise<PolicyItem> {
    const item = PolicyItemSchema.parse({ tenantId, credentialHash, rules, updatedAt: this.now().toISOString() });
    await this.transact('put', { Put: { TableName: this.tableName, Item: item } });
    return item;
  }

  /** Deletes the tenant's item (and bumps the version) if there is one. */
  async delete(tenantId: string): Promise<'deleted' | 'absent'> {
    if (!(await this.get(tenantId))) return 'absent';
    try {
      await this.transact('delete', {
        Delete: { TableName: this.tableName, Key: { tenantId }, ConditionExpression: 'attribute_exists(tenantId)' },
      });
      return 'deleted';
    } catch (err) {
      // Deleted by a concurrent or crashed attempt between the read and the write.
      if (err instanceof ConditionFailed) return 'absent';
      throw err;
    }
  }

  private async transact(what: string, write: Record<string, unknown>): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            write,
            {
              Update: {
                TableName: this.tableName,
                Key: { tenantId: POLICY_VERSION_KEY },
                UpdateExpression: 'ADD #v :one',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (hasAwsErrorCode(err, 'TransactionCanceledException')) {
        const reasons = ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (reasons.includes('ConditionalCheckFailed')) throw new ConditionFailed();
        // Another tenant's write bumped the version at the same moment: safe to repeat.
        throw new TransientAwsError(`DynamoDB TransactWriteItems egress policy ${what}: cancelled (${reasons.join(', ')})`, { cause: err });
      }
      throw classifyAwsError(err, `DynamoDB TransactWriteItems egress policy ${what}`);
    }
  }
}

class ConditionFailed extends Error {
  override readonly name = 'ConditionFailed';
}
