/**
 * `octw tenants denials ID`: a tenant's latest egress denials (issue 10, item 4), read from the
 * egress proxy's log group with CloudWatch Logs FilterLogEvents (JSON pattern on the denial lines
 * of functions/egress/squid-config.ts). The log group: --log-group, else OCTW_EGRESS_LOG_GROUP, else
 * `/octw/<cell>/egress-proxy` from --cell / OCTW_CELL (infra/constructs/egress-proxy.ts names it so).
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DenialLineSchema } from '../../functions/egress/denial-events';
import type { Env } from './config';
import type { CommandContext } from './context';
import { UsageError } from './errors';
import { table } from './format';
import { parseTenantId } from './inputs';

export const DEFAULT_DENIALS_LIMIT = 20;
export const DEFAULT_DENIALS_SINCE_MINUTES = 60;

export interface DenialRow {
  at: string;
  host: string;
  port: string;
  reason: string;
  sni?: string;
}

export function egressLogGroup(flags: { logGroup?: string | undefined; cell?: string | undefined }, env: Env): string {
  const explicit = flags.logGroup ?? env.OCTW_EGRESS_LOG_GROUP;
  if (explicit) return explicit;
  const cell = flags.cell ?? env.OCTW_CELL;
  if (!cell) throw new UsageError('the egress proxy log group is unknown: give --log-group or --cell (or set OCTW_EGRESS_LOG_GROUP or OCTW_CELL)');
  return `/octw/${cell}/egress-proxy`;
}

function positive(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} "${value}" must be an integer from 1 to ${max}`);
  return n;
}

/** The newest `limit` denials of `tenantId` in the last `sinceMinutes`, oldest first. */
export async function readDenials(logs: CloudWatchLogsClient, logGroupName: string, tenantId: string, o: { limit: number; sinceMinutes: number; now: number }): Promise<DenialRow[]> {
  const rows: DenialRow[] = [];
  let nextToken: string | undefined;
  do {
    const out = await logs.send(
      new FilterLogEventsCommand({
        logGroupName,
        // Tenant ids are [a-z0-9-]: Squid's URL-escaping leaves them as they are.
        filterPattern: `{ $.event = "egress_denied" && $.tenant = "${tenantId}" }`,
        startTime: o.now - o.sinceMinutes * 60_000,
        endTime: o.now,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const e of out.events ?? []) {
      let parsed;
      try {
        parsed = DenialLineSchema.safeParse(JSON.parse(e.message ?? ''));
      } catch {
        continue;
      }
      if (!parsed.success || parsed.data.tenant !== tenantId) continue;
      const d = parsed.data;
      const detail = d.policy && d.policy !== '-' && d.reason === 'not_in_policy' ? d.policy : d.reason;
      rows.push({ at: new Date(e.timestamp ?? 0).toISOString(), host: d.host, port: d.port, reason: detail, ...(d.sni && d.sni !== '-' ? { sni: d.sni } : {}) });
      if (rows.length > o.limit) rows.shift();
    }
    nextToken = out.nextToken;
  } while (nextToken);
  return rows;
}

export async function showDenials(
  ctx: CommandContext,
  id: string | undefined,
  o: { limit?: string | undefined; since?: string | undefined; logGroup?: string | undefined; cell?: string | undefined },
): Promise<void> {
  const tenantId = parseTenantId(id);
  const limit = positive(o.limit, 'limit', DEFAULT_DENIALS_LIMIT, 1000);
  const sinceMinutes = positive(o.since, 'since', DEFAULT_DENIALS_SINCE_MINUTES, 60 * 24 * 14);
  const logGroup = egressLogGroup(o, ctx.io.env);
  const logs = new CloudWatchLogsClient(ctx.config.region !== undefined ? { region: ctx.config.region } : {});
  try {
    const denials = await readDenials(logs, logGroup, tenantId, { limit, sinceMinutes, now: Date.now() });
    if (ctx.json) {
      ctx.emit({ tenantId, logGroup, sinceMinutes, denials });
      return;
    }
    if (denials.length === 0) {
      ctx.print(`no egress denials for ${tenantId} in the last ${sinceMinutes} min (${logGroup})\n`);
      return;
    }
    ctx.print(`latest egress denials of ${tenantId} (last ${sinceMinutes} min, newest last; ${logGroup}):\n`);
    ctx.print(table(['TIME', 'DESTINATION', 'REASON', 'SNI'], denials.map((d) => [d.at, `${d.host}:${d.port}`, d.reason, d.sni ?? ''])));
  } finally {
    logs.destroy();
  }
}
