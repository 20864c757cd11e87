/**
 * At most one budget notice per tenant per month: a conditional put of `TENANT#<id>` /
 * `BUDGET#<yyyy-mm>` in the tenants table (attribute_not_exists). The scheduled check claims the
 * notice before it suspends or publishes, and releases it when either fails, so a later run tries
 * again; two racing runs agree on one winner. The item expires (TTL) a year after the month.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';
import type { BudgetNoticeGate } from '../usecases/model-budget';

const YEAR_SECONDS = 366 * 86_400;

export const budgetNoticeKey = (tenantId: string, month: string) => ({ pk: `TENANT#${tenantId}`, sk: `BUDGET#${month}` });

export class DynamoBudgetNotices implements BudgetNoticeGate {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(tenantId: string, month: string, detail: { tokens: number; budget: number; at: Date }): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...budgetNoticeKey(tenantId, month),
            kind: 'BUDGET_NOTICE',
            tenantId,
            month,
            tokens: detail.tokens,
            budget: detail.budget,
            at: detail.at.toISOString(),
            expiresAt: Math.floor(detail.at.getTime() / 1000) + YEAR_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return true;
    } catch (err) {
      if (hasAwsErrorCode(err, 'ConditionalCheckFailedException')) return false;
      throw classifyAwsError(err, 'DynamoDB PutItem (budget notice)');
    }
  }

  async release(tenantId: string, month: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: budgetNoticeKey(tenantId, month) }));
    } catch (err) {
      throw classifyAwsError(err, 'DynamoDB DeleteItem (budget notice)');
    }
  }
}
