/**
 * The tenants table as the fleet reconcile reads and writes it (issue 13):
 * - the cell's tenants in pages (byCell index), with an opaque cursor a workflow can carry;
 * - the orphan ledger: one item per resource seen as an orphan, `ORPHANS#<cell>` / `<kind>#<id>`,
 *   holding when it was first seen, so a later run removes it only after the grace period. Items
 *   expire (TTL) 30 days after they were last seen.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import { ValidationError } from '../domain/errors';
import { TenantRecordSchema, type TenantRecord } from '../domain/tenant-record';
import { awsCall } from '../shared/aws-errors';
import { queryAll } from './dynamodb-query';
import { TENANTS_TABLE_KEYS } from '../shared/table-schema';

const CursorSchema = z.strictObject({ pk: z.string(), sk: z.string(), gsi2pk: z.string(), gsi2sk: z.string() });

export const OrphanEntrySchema = z.object({
  kind: z.string(),
  id: z.string(),
  tenantId: z.string(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  reason: z.string(),
});
export type OrphanEntry = z.infer<typeof OrphanEntrySchema>;

const LEDGER_TTL_SECONDS = 30 * 24 * 3600;

export class FleetStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cell: string,
  ) {}

  /** One page of the cell's tenants (by id), and the cursor of the next page if there is one. */
  async page(limit: number, cursor?: string): Promise<{ records: TenantRecord[]; cursor?: string }> {
    const idx = TENANTS_TABLE_KEYS.indexes.byCell;
    let startKey: Record<string, unknown> | undefined;
    if (cursor !== undefined) {
      try {
        startKey = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
      } catch {
        throw new ValidationError('the page cursor is not one this function returned');
      }
    }
    const out = await awsCall('DynamoDB query by cell', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: idx.indexName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': idx.partitionKey },
          ExpressionAttributeValues: { ':pk': `CELL#${this.cell}` },
          Limit: limit,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      ),
    );
    const records = (out.Items ?? []).map((i) => TenantRecordSchema.parse(i));
    const next = out.LastEvaluatedKey ? Buffer.from(JSON.stringify(CursorSchema.parse(out.LastEvaluatedKey))).toString('base64url') : undefined;
    return { records, ...(next ? { cursor: next } : {}) };
  }

  /** Every tenant of the cell. */
  async all(): Promise<TenantRecord[]> {
    const records: TenantRecord[] = [];
    let cursor: string | undefined;
    do {
      const p = await this.page(500, cursor);
      records.push(...p.records);
      cursor = p.cursor;
    } while (cursor);
    return records;
  }

  private ledgerKey(kind: string, id: string) {
    return { pk: `ORPHANS#${this.cell}`, sk: `${kind}#${id}` };
  }

  /** Records that the resource was seen as an orphan now; returns the entry with its first sighting. */
  async sighted(entry: { kind: string; id: string; tenantId: string; reason: string }, now: Date): Promise<OrphanEntry> {
    const at = now.toISOString();
    const out = await awsCall('DynamoDB UpdateItem orphan ledger', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.ledgerKey(entry.kind, entry.id),
          UpdateExpression: 'SET #first = if_not_exists(#first, :at), #last = :at, #kind = :kind, #id = :id, #tenant = :tenant, #reason = :reason, #ttl = :ttl',
          ExpressionAttributeNames: { '#first': 'firstSeen', '#last': 'lastSeen', '#kind': 'kind', '#id': 'id', '#tenant': 'tenantId', '#reason': 'reason', '#ttl': TENANTS_TABLE_KEYS.timeToLiveAttribute },
          ExpressionAttributeValues: {
            ':at': at,
            ':kind': entry.kind,
            ':id': entry.id,
            ':tenant': entry.tenantId,
            ':reason': entry.reason,
            ':ttl': Math.floor(now.getTime() / 1000) + LEDGER_TTL_SECONDS,
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return OrphanEntrySchema.parse(out.Attributes);
  }

  /** Every ledger entry of the cell. */
  async ledger(): Promise<OrphanEntry[]> {
    return queryAll(
      this.doc,
      { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ORPHANS#${this.cell}` } },
      { context: 'DynamoDB query orphan ledger', parse: (i) => OrphanEntrySchema.parse(i) },
    );
  }

  async forget(kind: string, id: string): Promise<void> {
    await awsCall('DynamoDB DeleteItem orphan ledger', () => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.ledgerKey(kind, id) })));
  }

  /** An audit item of the sweep or a repair that is not a tenant's transition (a tenant-less orphan). */
  async appendCellAudit(entry: { what: string; runId: string; detail: Record<string, unknown> }, now: Date): Promise<void> {
    const at = now.toISOString();
    await awsCall('DynamoDB PutItem cell audit', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `CELLAUDIT#${this.cell}`, sk: `AUDIT#${at}#${entry.what}`, runId: entry.runId, at, ...entry.detail },
        }),
      ),
    );
  }
}
