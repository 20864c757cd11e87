/**
 * Rollout records in the cell's tenants table (see functions/domain/rollout.ts for the keys):
 * created once per rollout id, every item zod-parsed on the way out, the operator's control flag
 * and the wave counters written with conditional or atomic updates.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import {
  RolloutMetaSchema,
  RolloutTenantSchema,
  rolloutIndexKey,
  rolloutKey,
  rolloutTenantKey,
  type RolloutControl,
  type RolloutMeta,
  type RolloutMetaFields,
  type RolloutQuotaCheck,
  type RolloutState,
  type RolloutTenant,
  type TenantOutcome,
  type WaveSummary,
} from '../domain/rollout';
import { awsCall, hasAwsErrorCode } from '../shared/aws-errors';
import { queryAll } from './dynamodb-query';

/** A refused condition, as thrown by the SDK or wrapped by awsCall. */
const conditionFailed = (err: unknown): boolean =>
  hasAwsErrorCode(err, 'ConditionalCheckFailedException') || (err instanceof Error && hasAwsErrorCode(err.cause, 'ConditionalCheckFailedException'));
import { TENANTS_TABLE_KEYS } from '../shared/table-schema';

export type NewRollout = Omit<RolloutMetaFields, 'pk' | 'sk' | 'updatedAt'>;
export type NewRolloutTenant = Omit<RolloutTenant, 'pk' | 'sk' | 'updatedAt' | 'rolloutId' | 'outcome'>;

export class RolloutStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes the rollout and its tenants (all PENDING). The same id twice: the first one stands (a retried step). */
  async create(meta: NewRollout, tenants: readonly NewRolloutTenant[]): Promise<{ created: boolean; meta: RolloutMeta }> {
    const now = meta.startedAt;
    const item = { ...rolloutKey(meta.rolloutId), ...rolloutIndexKey(meta.cell, meta.startedAt, meta.rolloutId), ...meta, updatedAt: now };
    let created = true;
    try {
      await awsCall('DynamoDB put rollout', () =>
        this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })),
      );
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      created = false;
    }
    if (!created) return { created, meta: await this.require(meta.rolloutId) };
    const items = tenants.map((t) => ({ ...rolloutTenantKey(meta.rolloutId, t.tenantId), rolloutId: meta.rolloutId, outcome: 'PENDING', ...t, updatedAt: now }));
    for (let i = 0; i < items.length; i += 25) {
      let batch: Record<string, unknown>[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; batch.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`DynamoDB kept ${batch.length} rollout items unprocessed`);
        const out = await awsCall('DynamoDB batch write rollout tenants', () =>
          this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: batch } })),
        );
        batch = (out.UnprocessedItems?.[this.tableName] ?? []);
        if (batch.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
    return { created, meta: RolloutMetaSchema.parse(item) };
  }

  async get(rolloutId: string): Promise<RolloutMeta | undefined> {
    const out = await awsCall('DynamoDB get rollout', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: rolloutKey(rolloutId), ConsistentRead: true })),
    );
    return out.Item ? RolloutMetaSchema.parse(out.Item) : undefined;
  }

  async require(rolloutId: string): Promise<RolloutMeta> {
    const meta = await this.get(rolloutId);
    if (!meta) throw new ValidationError(`no rollout "${rolloutId}" in this cell`);
    return meta;
  }

  /** The rollout's tenants (all, or one wave's), ordered by tenant id. */
  async tenants(rolloutId: string, wave?: number): Promise<RolloutTenant[]> {
    return queryAll(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :t)',
        ExpressionAttributeValues: { ':pk': rolloutKey(rolloutId).pk, ':t': 'TENANT#', ...(wave !== undefined ? { ':w': wave } : {}) },
        ...(wave !== undefined ? { FilterExpression: 'wave = :w' } : {}),
        ConsistentRead: true,
      },
      { context: 'DynamoDB query rollout tenants', parse: (i) => RolloutTenantSchema.parse(i) },
    );
  }

  /** The cell's rollouts, newest first (byCell index, ROLLOUTS#<cell> partition). */
  async list(cell: string, limit = 20): Promise<RolloutMeta[]> {
    const idx = TENANTS_TABLE_KEYS.indexes.byCell;
    const out = await awsCall('DynamoDB query rollouts', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: idx.indexName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': idx.partitionKey },
          ExpressionAttributeValues: { ':pk': `ROLLOUTS#${cell}` },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map((i) => RolloutMetaSchema.parse(i));
  }

  /** One tenant's outcome; `onlyFrom` makes it conditional (a late writer never overwrites a final outcome). */
  async setOutcome(rolloutId: string, tenantId: string, outcome: TenantOutcome, detail?: string, onlyFrom?: readonly TenantOutcome[]): Promise<boolean> {
    const values: Record<string, unknown> = { ':o': outcome, ':u': new Date().toISOString() };
    const cond = onlyFrom?.length ? ` AND outcome IN (${onlyFrom.map((_, i) => `:f${i}`).join(', ')})` : '';
    onlyFrom?.forEach((f, i) => (values[`:f${i}`] = f));
    if (detail !== undefined) values[':d'] = detail.slice(0, 1000);
    try {
      await awsCall('DynamoDB update rollout tenant', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: rolloutTenantKey(rolloutId, tenantId),
            UpdateExpression: `SET outcome = :o, updatedAt = :u${detail !== undefined ? ', detail = :d' : ' REMOVE detail'}`,
            ConditionExpression: `attribute_exists(pk)${cond}`,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  /** Adds one failure to wave `wave`'s counter; returns the new count. */
  async countFailure(rolloutId: string, wave: number): Promise<number> {
    const out = await awsCall('DynamoDB count rollout failure', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rolloutKey(rolloutId),
          UpdateExpression: 'ADD #c :one',
          ExpressionAttributeNames: { '#c': `failed_${wave}` },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return Number((out.Attributes as Record<string, unknown> | undefined)?.[`failed_${wave}`] ?? 0);
  }

  /** The workflow's own progress: state, current wave, wave summaries, reason. */
  async progress(rolloutId: string, patch: { state?: RolloutState; currentWave?: number; waves?: WaveSummary[]; reason?: string; finished?: boolean }): Promise<void> {
    const sets = ['updatedAt = :u'];
    const values: Record<string, unknown> = { ':u': new Date().toISOString() };
    const set = (clause: string, name: string, value: unknown) => {
      sets.push(clause);
      values[name] = value;
    };
    if (patch.state) set('#s = :s', ':s', patch.state);
    if (patch.currentWave !== undefined) set('currentWave = :w', ':w', patch.currentWave);
    if (patch.waves) set('waves = :ws', ':ws', patch.waves);
    if (patch.reason !== undefined) set('reason = :r', ':r', patch.reason.slice(0, 1000));
    if (patch.finished) sets.push('finishedAt = :u');
    await awsCall('DynamoDB update rollout', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rolloutKey(rolloutId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: patch.state ? { '#s': 'state' } : undefined,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** The quota check's result, once, before the first wave (a retried step writes the same again). */
  async recordQuotaCheck(rolloutId: string, quota: RolloutQuotaCheck): Promise<void> {
    await awsCall('DynamoDB record rollout quota check', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rolloutKey(rolloutId),
          UpdateExpression: 'SET quota = :q, updatedAt = :u',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':q': quota, ':u': new Date().toISOString() },
        }),
      ),
    );
  }

  /**
   * The operator's pause / resume / abort: only while the rollout has not finished. An abort is
   * final (a later pause or resume cannot undo it).
   */
  async requestControl(rolloutId: string, control: RolloutControl): Promise<RolloutMeta> {
    try {
      const out = await awsCall('DynamoDB control rollout', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: rolloutKey(rolloutId),
            UpdateExpression: 'SET control = :c, updatedAt = :u',
            ConditionExpression: 'attribute_exists(pk) AND #s IN (:running, :paused) AND control <> :abort',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':c': control, ':u': new Date().toISOString(), ':running': 'RUNNING', ':paused': 'PAUSED', ':abort': 'abort' },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return RolloutMetaSchema.parse(out.Attributes);
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      const meta = await this.get(rolloutId);
      if (!meta) throw new ValidationError(`no rollout "${rolloutId}" in this cell`);
      throw new TenantStateConflictError(
        meta.state !== 'RUNNING' && meta.state !== 'PAUSED'
          ? `rollout "${rolloutId}" is ${meta.state}; only a RUNNING or PAUSED rollout takes pause, resume or abort`
          : `rollout "${rolloutId}" is being aborted; it cannot be ${control === 'run' ? 'resumed' : control === 'pause' ? 'paused' : 'aborted again'}`,
      );
    }
  }
}
