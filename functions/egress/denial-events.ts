/**
 * Denials made visible (issue 10, item 4): the proxy's denial log lines (squid-config.ts `octw_denied`
 * format, delivered by a CloudWatch Logs subscription) summarized per tenant, and at most one
 * `TenantEgressDenied` event per tenant per interval. The rate limit is a conditional write to a
 * small DynamoDB table (one item per tenant: the time the next event may go out), so concurrent
 * invocations of the function agree and nothing is kept in memory.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import type { EventPublisher } from '../adapters/lifecycle-events';
import { TENANT_ID_PATTERN } from '../domain/tenant';
import { classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export const TENANT_EGRESS_DENIED = 'TenantEgressDenied';
/** Distinct hosts an event lists at most (the count covers all). */
export const MAX_HOSTS_PER_EVENT = 10;

/** Squid URL-escapes every client-influenced field (%#): decode, and keep the raw text when it does not decode. */
const unescaped = z.pipe(z.string(), z.transform((s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}));

/** One denial line (squid-config.ts LOG_FIELDS); unknown fields are ignored. */
export const DenialLineSchema = z.object({
  event: z.literal('egress_denied'),
  ts: z.optional(z.number()),
  tenant: unescaped,
  host: unescaped,
  port: z.string(),
  reason: z.string(),
  policy: z.optional(z.string()),
  sni: z.optional(unescaped),
});
export type DenialLine = z.infer<typeof DenialLineSchema>;

export interface TenantDenials {
  tenantId: string;
  count: number;
  reasons: Record<string, number>;
  /** Distinct host:port, first seen first, at most MAX_HOSTS_PER_EVENT. */
  destinations: string[];
  firstAt: string;
  lastAt: string;
}

/**
 * Groups denial lines by tenant. Lines that are not denial JSON, and denials without an authenticated
 * tenant (bad credential: Squid logs "-"), are counted in `ignored`, never attributed to a tenant.
 */
export function summarizeDenials(events: readonly { timestamp: number; message: string }[]): { tenants: TenantDenials[]; ignored: number } {
  const by = new Map<string, TenantDenials>();
  let ignored = 0;
  for (const e of events) {
    let parsed: DenialLine;
    try {
      parsed = DenialLineSchema.parse(JSON.parse(e.message));
    } catch {
      ignored += 1;
      continue;
    }
    if (!TENANT_ID_PATTERN.test(parsed.tenant)) {
      ignored += 1;
      continue;
    }
    const at = new Date(e.timestamp).toISOString();
    let t = by.get(parsed.tenant);
    if (!t) {
      t = { tenantId: parsed.tenant, count: 0, reasons: {}, destinations: [], firstAt: at, lastAt: at };
      by.set(parsed.tenant, t);
    }
    t.count += 1;
    const reason = parsed.policy && parsed.policy !== '-' && parsed.reason === 'not_in_policy' ? parsed.policy : parsed.reason;
    t.reasons[reason] = (t.reasons[reason] ?? 0) + 1;
    const dest = `${parsed.host}:${parsed.port}`;
    if (t.destinations.length < MAX_HOSTS_PER_EVENT && !t.destinations.includes(dest)) t.destinations.push(dest);
    if (at < t.firstAt) t.firstAt = at;
    if (at > t.lastAt) t.lastAt = at;
  }
  return { tenants: [...by.values()], ignored };
}

/** Claims the right to send a tenant's next event; false when one went out less than the interval ago. */
export interface DenialGate {
  claim(tenantId: string, nowMs: number, intervalMs: number): Promise<boolean>;
}

/** One item per tenant `{tenantId, nextEventAt (ms), expiresAt (s, the table's TTL)}`; the put succeeds only when the window has passed. */
export class DynamoDbDenialGate implements DenialGate {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(tenantId: string, nowMs: number, intervalMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { tenantId, nextEventAt: nowMs + intervalMs, expiresAt: Math.ceil((nowMs + intervalMs) / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(tenantId) OR nextEventAt <= :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
      return true;
    } catch (err) {
      if (hasAwsErrorCode(err, 'ConditionalCheckFailedException')) return false;
      throw classifyAwsError(err, `DynamoDB PutItem ${this.tableName}`);
    }
  }
}

export interface DenialNotifyResult {
  published: string[];
  suppressed: string[];
}

/** For each tenant with denials: claim, then put one TenantEgressDenied event (detail: the summary, the cell, the interval). */
export async function notifyDenials(
  summaries: readonly TenantDenials[],
  deps: { gate: DenialGate; events: EventPublisher; cellId: string; intervalMs: number; now: () => number },
): Promise<DenialNotifyResult> {
  const out: DenialNotifyResult = { published: [], suppressed: [] };
  for (const s of summaries) {
    if (!(await deps.gate.claim(s.tenantId, deps.now(), deps.intervalMs))) {
      out.suppressed.push(s.tenantId);
      continue;
    }
    await deps.events.publish(TENANT_EGRESS_DENIED, {
      tenantId: s.tenantId,
      cellId: deps.cellId,
      denials: s.count,
      reasons: s.reasons,
      destinations: s.destinations,
      firstAt: s.firstAt,
      lastAt: s.lastAt,
      // Denials within the interval after this event are counted in the metrics (DeniedByTenant) but send no event.
      nextEventAfterSeconds: Math.round(deps.intervalMs / 1000),
    });
    out.published.push(s.tenantId);
  }
  return out;
}
