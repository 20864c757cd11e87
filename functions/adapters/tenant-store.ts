/**
 * DynamoDB adapter for tenant records: conditional transitions with an audit item in the same
 * transaction, resource bookkeeping, atomic uid allocation, listings.
 *
 * Single-table layout (TENANTS_TABLE_KEYS):
 *   TENANT#<id> / META                     the tenant record (gsi1: STATUS#<status>, gsi2: CELL#<cell>)
 *   TENANT#<id> / AUDIT#<iso>#<version>     one item per transition
 *   COUNTER#uid / COUNTER                   next POSIX uid (ADD, never decremented)
 *   UID#<uid>   / UID                       guard: a uid belongs to exactly one tenant, forever
 *   REJECTIONS#<yyyy-mm-dd> / <iso>#<hash>  refused signups (expire after 90 days)
 */
import * as z from '../shared/zod';
import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TenantNotFoundError, TenantStateConflictError } from '../domain/errors';
import type { IngressPlacement, TenantOidcRef } from '../domain/ingress';
import { TRANSITIONS, refusal, type TransitionName } from '../domain/lifecycle';
import type { TenantChannel } from '../domain/channels';
import type { TenantModelKey } from '../domain/models';
import type { EgressRule, TenantResources, TenantStatus } from '../domain/tenant';
import type { HostRule } from '../domain/egress-policy';
import {
  AuditItemSchema,
  TenantRecordSchema,
  type AuditItem,
  type ErrorInfo,
  type PreviousConfig,
  type TenantRecord,
} from '../domain/tenant-record';
import { TENANTS_TABLE_KEYS } from '../shared/table-schema';
import { countAll, queryAll } from './dynamodb-query';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export const tenantKey = (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'META' });

export interface NewTenant {
  tenantId: string;
  cell: string;
  displayName: string;
  ownerEmail: string;
  plan: string;
  egressAllowlist: EgressRule[];
  hostAllowlist: HostRule[];
  configHash: string;
  idempotencyKey?: string;
  /** The tenant's OIDC provider in front of its endpoint (reference to its client secret, never the value). */
  ingressOidc?: TenantOidcRef;
}

/** Fields a transition may change besides status/version. `null` removes the attribute. */
export interface TransitionPatch {
  generation?: number;
  displayName?: string;
  ownerEmail?: string;
  plan?: string;
  egressAllowlist?: EgressRule[];
  hostAllowlist?: HostRule[];
  imageOverride?: string | null;
  channels?: TenantChannel[];
  modelKeys?: TenantModelKey[];
  /** `null` removes the tenant's OIDC provider. */
  ingressOidc?: TenantOidcRef | null;
  configHash?: string;
  previous?: PreviousConfig | null;
  idempotencyKey?: string | null;
  uid?: number;
  gid?: number;
  resources?: TenantResources;
  lastError?: ErrorInfo | null;
  dataRetainedUntil?: string | null;
}

export interface TransitionRequest {
  /** Claims set the holder; other transitions require the caller to be the holder. */
  executionArn: string;
  patch?: TransitionPatch;
  /** Put with the transition, e.g. the UID guard item. */
  extraPuts?: { item: Record<string, unknown>; condition: string }[];
  /**
   * The record version the caller decided on (e.g. the one an update's target was computed from).
   * When given, the transition is refused (TenantStateConflictError) if the record has moved on
   * since, so a decision is never written over a newer record.
   */
  expectedVersion?: number;
  /** Recorded on the audit item: what the transition changed, in words without secrets. */
  changes?: string[];
}

export interface TransitionResult {
  record: TenantRecord;
  previousStatus: TenantStatus;
  /** false when the same transition by the same execution had already been applied (a retried step). */
  applied: boolean;
}

export class TenantStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    const out = await awsCall('DynamoDB GetItem tenant', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: tenantKey(tenantId), ConsistentRead: true })),
    );
    return out.Item ? TenantRecordSchema.parse(out.Item) : undefined;
  }

  async require(tenantId: string): Promise<TenantRecord> {
    const record = await this.get(tenantId);
    if (!record) throw new TenantNotFoundError(`tenant "${tenantId}" does not exist`);
    return record;
  }

  /** Creates the record as REQUESTED unless one exists. Returns the record that is there afterwards. */
  async createRequested(input: NewTenant): Promise<{ created: boolean; record: TenantRecord }> {
    const at = this.now().toISOString();
    const record: TenantRecord = TenantRecordSchema.parse({
      ...tenantKey(input.tenantId),
      ...input,
      status: 'REQUESTED',
      version: 1,
      generation: 1,
      resources: {},
      transitions: { REQUESTED: at },
      createdAt: at,
      updatedAt: at,
    });
    const audit: AuditItem = {
      pk: record.pk,
      sk: `AUDIT#${at}#${String(1).padStart(6, '0')}`,
      tenantId: input.tenantId,
      transition: 'create',
      from: '-',
      to: 'REQUESTED',
      version: 1,
      at,
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: withIndexKeys(record),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: audit } },
          ],
        }),
      );
      return { created: true, record };
    } catch (err) {
      if (!isConditionFailure(err)) throw rethrow('DynamoDB create tenant', err);
      return { created: false, record: await this.require(input.tenantId) };
    }
  }

  /**
   * Applies a lifecycle transition as one conditional write on (status, version[, holder]) plus an
   * audit item. A retry of a transition that was already applied by the same execution returns
   * `applied: false` instead of failing; any other mismatch is a TenantStateConflictError.
   */
  async transition(tenantId: string, name: TransitionName, req: TransitionRequest): Promise<TransitionResult> {
    const rule = TRANSITIONS[name];
    const current = await this.require(tenantId);
    if (current.status === rule.to && current.executionArn === req.executionArn && current.transitions[rule.to]) {
      // The same execution already applied it (its step is being retried after a crash).
      const audit = await this.lastAudit(tenantId);
      if (audit?.transition === name && audit.executionArn === req.executionArn) {
        return { record: current, previousStatus: audit.from as TenantStatus, applied: false };
      }
    }
    if (!(rule.from as readonly TenantStatus[]).includes(current.status)) {
      throw new TenantStateConflictError(`tenant "${tenantId}": ${refusal(name, current.status)}`);
    }
    if (req.expectedVersion !== undefined && current.version !== req.expectedVersion) {
      throw new TenantStateConflictError(
        `tenant "${tenantId}" changed since it was read (v${req.expectedVersion}, now v${current.version}); refusing ${name} computed from the older record`,
      );
    }
    if (!rule.claims && current.executionArn !== req.executionArn) {
      throw new TenantStateConflictError(
        `tenant "${tenantId}" is held by another workflow (${current.executionArn ?? 'none'}); refusing ${name}`,
      );
    }

    const at = this.now().toISOString();
    const version = current.version + 1;
    const next: TenantRecord = TenantRecordSchema.parse({
      ...current,
      ...stripNulls(req.patch ?? {}),
      status: rule.to,
      version,
      executionArn: req.executionArn,
      transitions: { ...current.transitions, [rule.to]: at },
      updatedAt: at,
    });
    for (const [k, v] of Object.entries(req.patch ?? {})) {
      if (v === null) delete (next as Record<string, unknown>)[k];
    }
    const audit: AuditItem = {
      pk: current.pk,
      sk: `AUDIT#${at}#${String(version).padStart(6, '0')}`,
      tenantId,
      transition: name,
      from: current.status,
      to: rule.to,
      version,
      at,
      executionArn: req.executionArn,
      ...(req.patch?.lastError ? { error: req.patch.lastError } : {}),
      ...(req.changes && req.changes.length > 0 ? { changes: req.changes } : {}),
    };
    await this.putOverWithAudit(current, next, audit, req.extraPuts ?? [], {
      label: `DynamoDB transition ${name}`,
      conflict: `tenant "${tenantId}" changed while applying ${name} (expected ${current.status} v${current.version}); another workflow won`,
    });
    return { record: next, previousStatus: current.status, applied: true };
  }

  /**
   * A SUSPENDED tenant's new configuration and revision (a fleet rollout's restage, issue 13.1): one
   * conditional write on (SUSPENDED, version, updatedAt) plus an audit item `restaged`; the status
   * stays SUSPENDED and no workflow claims it, so a resume or deprovision that got in first wins and
   * this write is refused (TenantStateConflictError). No lifecycle event: nothing started or stopped.
   */
  async restageSuspended(
    current: TenantRecord,
    patch: { plan: string; imageOverride?: string | undefined; configHash: string; taskDefinitionArn: string; previousTaskDefinitionArn?: string | undefined },
    executionArn: string,
    changes: string[],
  ): Promise<TenantRecord> {
    if (current.status !== 'SUSPENDED') throw new TenantStateConflictError(`tenant "${current.tenantId}" is ${current.status}, not SUSPENDED; refusing a restage`);
    const at = this.now().toISOString();
    const version = current.version + 1;
    const next: TenantRecord = TenantRecordSchema.parse({
      ...current,
      plan: patch.plan,
      imageOverride: patch.imageOverride,
      configHash: patch.configHash,
      resources: { ...current.resources, taskDefinitionArn: patch.taskDefinitionArn, previousTaskDefinitionArn: patch.previousTaskDefinitionArn },
      version,
      updatedAt: at,
    });
    if (patch.imageOverride === undefined) delete (next as Record<string, unknown>).imageOverride;
    if (patch.previousTaskDefinitionArn === undefined) delete (next.resources as Record<string, unknown>).previousTaskDefinitionArn;
    const audit: AuditItem = {
      pk: current.pk,
      sk: `AUDIT#${at}#${String(version).padStart(6, '0')}`,
      tenantId: current.tenantId,
      transition: 'restaged',
      from: 'SUSPENDED',
      to: 'SUSPENDED',
      version,
      at,
      executionArn,
      ...(changes.length > 0 ? { changes } : {}),
    };
    await this.putOverWithAudit(current, next, audit, [], {
      label: 'DynamoDB restage',
      conflict: `tenant "${current.tenantId}" changed while being restaged (expected SUSPENDED v${current.version}); the other change wins`,
    });
    return next;
  }

  /**
   * Writes `next` over `current` and its audit item in one transaction, conditional on the record
   * still being `current` (status, version and updatedAt: setResources does not bump the version
   * but must not be overwritten); a lost race is a TenantStateConflictError saying `conflict`.
   */
  private async putOverWithAudit(
    current: TenantRecord,
    next: TenantRecord,
    audit: AuditItem,
    extraPuts: readonly { item: Record<string, unknown>; condition: string }[],
    messages: { label: string; conflict: string },
  ): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: withIndexKeys(next),
                ConditionExpression: '#status = :status AND #version = :version AND #updatedAt = :updatedAt',
                ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#updatedAt': 'updatedAt' },
                ExpressionAttributeValues: { ':status': current.status, ':version': current.version, ':updatedAt': current.updatedAt },
              },
            },
            { Put: { TableName: this.tableName, Item: audit, ConditionExpression: 'attribute_not_exists(sk)' } },
            ...extraPuts.map((p) => ({ Put: { TableName: this.tableName, Item: p.item, ConditionExpression: p.condition } })),
          ],
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new TenantStateConflictError(messages.conflict, { cause: err });
      throw rethrow(messages.label, err);
    }
  }

  /**
   * Records ids of resources the holder created. Conditional on the caller still holding the
   * tenant, so a workflow that lost its claim cannot write into another's record.
   */
  async setResources(tenantId: string, executionArn: string, patch: Partial<Record<keyof TenantResources, string | Readonly<Record<string, string>> | null>>) {
    const names: Record<string, string> = { '#resources': 'resources', '#exec': 'executionArn' };
    const values: Record<string, unknown> = { ':exec': executionArn, ':now': this.now().toISOString() };
    const sets: string[] = ['updatedAt = :now'];
    const removes: string[] = [];
    Object.entries(patch).forEach(([key, value], i) => {
      names[`#r${i}`] = key;
      if (value === null || value === undefined) removes.push(`#resources.#r${i}`);
      else {
        values[`:r${i}`] = value;
        sets.push(`#resources.#r${i} = :r${i}`);
      }
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk) AND #exec = :exec',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new TenantStateConflictError(`tenant "${tenantId}" is no longer held by ${executionArn}`, { cause: err });
      }
      throw rethrow('DynamoDB set resources', err);
    }
  }

  /**
   * Records the tenant's ingress placement (or removes it: `null`). Like setResources, only the
   * holding execution may write it.
   */
  async setIngress(tenantId: string, executionArn: string, placement: IngressPlacement | null): Promise<void> {
    const names: Record<string, string> = { '#ingress': 'ingress', '#exec': 'executionArn' };
    const values: Record<string, unknown> = { ':exec': executionArn, ':now': this.now().toISOString() };
    let update = 'SET updatedAt = :now REMOVE #ingress';
    if (placement) {
      values[':ingress'] = placement;
      update = 'SET updatedAt = :now, #ingress = :ingress';
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(pk) AND #exec = :exec',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new TenantStateConflictError(`tenant "${tenantId}" is no longer held by ${executionArn}`, { cause: err });
      }
      throw rethrow('DynamoDB set ingress', err);
    }
  }

  /**
   * Puts the configuration an update replaced back into the record (plan, allowlist, image
   * override, config hash and the task definition the service ran), keeping the status UPDATING:
   * the failure transition follows once the resources match it again. Only the holder may do it;
   * repeating it is harmless (`previous` stays until the update ends).
   */
  async restorePrevious(tenantId: string, executionArn: string): Promise<{ record: TenantRecord; restored: boolean }> {
    const current = await this.require(tenantId);
    if (current.status !== 'UPDATING' || current.executionArn !== executionArn) {
      throw new TenantStateConflictError(
        `tenant "${tenantId}" is ${current.status} held by ${current.executionArn ?? 'no workflow'}; only the update holding it can restore its previous configuration`,
      );
    }
    const previous = current.previous;
    if (!previous) return { record: current, restored: false };
    const at = this.now().toISOString();
    const next: TenantRecord = TenantRecordSchema.parse({
      ...current,
      plan: previous.plan,
      egressAllowlist: previous.egressAllowlist,
      hostAllowlist: previous.hostAllowlist,
      channels: previous.channels ?? current.channels,
      modelKeys: previous.modelKeys ?? current.modelKeys ?? [],
      configHash: previous.configHash,
      resources: {
        ...current.resources,
        ...(previous.taskDefinitionArn ? { taskDefinitionArn: previous.taskDefinitionArn } : {}),
      },
      updatedAt: at,
    });
    if (previous.imageOverride) next.imageOverride = previous.imageOverride;
    else delete next.imageOverride;
    // `null`: the tenant had no OIDC provider before the update; absent: the update did not touch it.
    if (previous.ingressOidc) next.ingressOidc = previous.ingressOidc;
    else if (previous.ingressOidc === null) delete next.ingressOidc;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: withIndexKeys(next),
          ConditionExpression: '#status = :status AND #version = :version AND #updatedAt = :updatedAt AND #exec = :exec',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#updatedAt': 'updatedAt', '#exec': 'executionArn' },
          ExpressionAttributeValues: {
            ':status': current.status,
            ':version': current.version,
            ':updatedAt': current.updatedAt,
            ':exec': executionArn,
          },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new TenantStateConflictError(`tenant "${tenantId}" changed while restoring its previous configuration`, { cause: err });
      }
      throw rethrow('DynamoDB restore previous configuration', err);
    }
    return { record: next, restored: true };
  }

  /** Atomically takes the next uid from the counter; a uid is never handed out twice. */
  async allocateUid(base: number): Promise<number> {
    const out = await awsCall('DynamoDB allocate uid', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: 'COUNTER#uid', sk: 'COUNTER' },
          UpdateExpression: 'ADD #next :one',
          ExpressionAttributeNames: { '#next': 'next' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    const next = Number((out.Attributes as { next?: number } | undefined)?.next);
    if (!Number.isInteger(next)) throw new Error('uid counter returned no value');
    return base + next;
  }

  /** Tenants in a status, oldest change first, up to `limit` (follows DynamoDB pagination). */
  async listByStatus(status: TenantStatus, limit = 100): Promise<TenantRecord[]> {
    return queryAll(this.doc, this.byStatus(status), { context: 'DynamoDB query by status', parse: (i) => TenantRecordSchema.parse(i), limit });
  }

  /** How many tenants are in a status (a COUNT query of the byStatus index, paginated). */
  async countByStatus(status: TenantStatus): Promise<number> {
    return countAll(this.doc, this.byStatus(status), 'DynamoDB query by status');
  }

  /** The byStatus index query for `status`. */
  private byStatus(status: TenantStatus): QueryCommandInput {
    const idx = TENANTS_TABLE_KEYS.indexes.byStatus;
    return {
      TableName: this.tableName,
      IndexName: idx.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': idx.partitionKey },
      ExpressionAttributeValues: { ':pk': `STATUS#${status}` },
    };
  }

  async listAudit(tenantId: string, limit = 20): Promise<AuditItem[]> {
    const out = await awsCall('DynamoDB query audit', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
          ExpressionAttributeValues: { ':pk': `TENANT#${tenantId}`, ':audit': 'AUDIT#' },
          ScanIndexForward: false,
          Limit: limit,
          ConsistentRead: true,
        }),
      ),
    );
    return (out.Items ?? []).map((i) => AuditItemSchema.parse(i));
  }

  private async lastAudit(tenantId: string): Promise<AuditItem | undefined> {
    return (await this.listAudit(tenantId, 1))[0];
  }

  /** Keeps a record of a refused signup for 90 days. */
  /**
   * Appends an audit item that is not a transition (e.g. the egress policy diff of an update): same
   * key layout as the transition audit items, `transition` naming what happened, status unchanged.
   */
  async appendAudit(record: TenantRecord, entry: { transition: string; executionArn: string; detail: Record<string, unknown> }): Promise<void> {
    const at = this.now().toISOString();
    const item: AuditItem & Record<string, unknown> = {
      ...entry.detail,
      pk: record.pk,
      sk: `AUDIT#${at}#${String(record.version).padStart(6, '0')}#${entry.transition}`,
      tenantId: record.tenantId,
      transition: entry.transition,
      from: record.status,
      to: record.status,
      version: record.version,
      at,
      executionArn: entry.executionArn,
    };
    await awsCall('DynamoDB PutItem audit', () =>
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: z.looseObject(AuditItemSchema.shape).parse(item), ConditionExpression: 'attribute_not_exists(sk)' })),
    );
  }

  async recordRejection(rejection: { tenantId: string; reasons: string[]; source: string; fingerprint: string }) {
    const now = this.now();
    const at = now.toISOString();
    await awsCall('DynamoDB record rejection', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `REJECTIONS#${at.slice(0, 10)}`,
            sk: `${at}#${rejection.fingerprint}`,
            tenantId: rejection.tenantId.slice(0, 64),
            reasons: rejection.reasons,
            source: rejection.source,
            at,
            [TENANTS_TABLE_KEYS.timeToLiveAttribute]: Math.floor(now.getTime() / 1000) + 90 * 24 * 3600,
          },
        }),
      ),
    );
  }
}

function withIndexKeys(record: TenantRecord): Record<string, unknown> {
  const { byStatus, byCell } = TENANTS_TABLE_KEYS.indexes;
  return {
    ...record,
    [byStatus.partitionKey]: `STATUS#${record.status}`,
    [byStatus.sortKey]: `${record.updatedAt}#${record.tenantId}`,
    [byCell.partitionKey]: `CELL#${record.cell}`,
    [byCell.sortKey]: `TENANT#${record.tenantId}`,
  };
}

function stripNulls<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

function isConditionFailure(err: unknown): boolean {
  if (hasAwsErrorCode(err, 'ConditionalCheckFailedException')) return true;
  if (hasAwsErrorCode(err, 'TransactionCanceledException')) {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    return reasons.some((r) => r.Code === 'ConditionalCheckFailed');
  }
  return false;
}

function rethrow(context: string, err: unknown): Error {
  return classifyAwsError(err, context);
}
