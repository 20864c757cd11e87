/** `octw tenants list` and `octw tenants show`. */
import { TENANT_STATUSES, TenantStatusSchema, type TenantStatus } from '../../functions/domain/tenant';
import type { AuditItem, TenantRecord } from '../../functions/domain/tenant-record';
import { TenantStore } from '../../functions/adapters/tenant-store';
import { describeChannel } from '../../functions/domain/channels';
import { listTenantsByStatus } from './aws';
import type { CommandContext } from './context';
import { RefusedError, UsageError } from './errors';
import { keyValues, table, truncate } from './format';
import { effectiveHostRules } from '../../functions/domain/tenant-egress';
import { parseTenantId } from './inputs';

export interface TenantSummary {
  tenantId: string;
  status: TenantStatus;
  plan: string;
  cell: string;
  /** When the tenant entered its current status (ISO). */
  since: string;
  version: number;
  lastError?: { name: string; message: string; at: string };
}

export function summarize(r: TenantRecord): TenantSummary {
  return {
    tenantId: r.tenantId,
    status: r.status,
    plan: r.plan,
    cell: r.cell,
    since: r.transitions[r.status] ?? r.updatedAt,
    version: r.version,
    ...(r.lastError ? { lastError: r.lastError } : {}),
  };
}

export function parseStatuses(value: string | undefined): TenantStatus[] {
  if (value === undefined) return [...TENANT_STATUSES];
  const statuses = value.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  if (statuses.length === 0) throw new UsageError('--status needs a value');
  return statuses.map((s) => {
    const parsed = TenantStatusSchema.safeParse(s);
    if (!parsed.success) throw new UsageError(`--status "${s}" is not a tenant status; one of ${TENANT_STATUSES.join(', ')}`);
    return parsed.data;
  });
}

export async function listTenants(ctx: CommandContext, statusFlag: string | undefined): Promise<void> {
  const statuses = [...new Set(parseStatuses(statusFlag))];
  const tableName = ctx.config.tableName();
  const records: TenantRecord[] = [];
  for (const status of statuses) records.push(...(await listTenantsByStatus(ctx.clients.doc, tableName, status)));
  const tenants = records.map(summarize);
  if (ctx.json) {
    ctx.emit({ count: tenants.length, tenants });
    return;
  }
  if (tenants.length === 0) {
    ctx.note(`no tenants${statusFlag !== undefined ? ` with status ${statuses.join(', ')}` : ''} in ${tableName}`);
    return;
  }
  ctx.print(
    table(
      ['ID', 'STATUS', 'PLAN', 'CELL', 'SINCE', 'LAST ERROR'],
      tenants.map((t) => [
        t.tenantId,
        t.status,
        t.plan,
        t.cell,
        t.since,
        t.lastError ? truncate(`${t.lastError.name}: ${t.lastError.message}`, 80) : '-',
      ]),
    ),
  );
}

export async function showTenant(ctx: CommandContext, idArg: string | undefined, limitFlag: string | undefined): Promise<void> {
  const tenantId = parseTenantId(idArg);
  const limit = limitFlag === undefined ? 10 : Number(limitFlag);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit "${limitFlag}" must be an integer from 1 to 1000`);
  const store = new TenantStore(ctx.clients.doc, ctx.config.tableName());
  const record = await store.get(tenantId);
  if (!record) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist in ${ctx.config.tableName()}`);
  const audit = await store.listAudit(tenantId, limit);
  const { pk: _pk, sk: _sk, ...tenant } = record;
  const transitions = audit.map(stripAuditKeys);
  if (ctx.json) {
    ctx.emit({ tenant, transitions });
    return;
  }
  ctx.print(
    keyValues([
      ['tenant', record.tenantId],
      ['status', `${record.status} since ${record.transitions[record.status] ?? record.updatedAt}`],
      ['display name', record.displayName],
      ['owner', record.ownerEmail],
      ['plan', record.plan],
      ['cell', record.cell],
      ['version', `${record.version} (generation ${record.generation})`],
      ['uid/gid', record.uid !== undefined ? `${record.uid}/${record.gid ?? record.uid}` : undefined],
      ['config hash', record.configHash],
      ['execution', record.executionArn],
      ['last error', record.lastError ? `${record.lastError.name}: ${record.lastError.message} (${record.lastError.at})` : undefined],
      ['data retained until', record.dataRetainedUntil],
      ['created', record.createdAt],
      ['updated', record.updatedAt],
    ]),
  );
  const allowlist = record.egressAllowlist.map((r) => {
    const target = 'cidr' in r ? r.cidr : r.prefixListId;
    const ports = r.ports.map((p) => (typeof p === 'number' ? String(p) : `${p.from}-${p.to}`)).join(',');
    return `  ${target} ${r.protocol}/${ports}${r.description ? `  ${r.description}` : ''}`;
  });
  ctx.print(`\negress allowlist:\n${allowlist.length ? allowlist.join('\n') : '  (none)'}\n`);
  // Issue 10: what the cell's egress proxy lets the tenant reach, by host (with where each rule came from).
  const hosts = effectiveHostRules(record).map((r) => `  ${r.host} ${r.ports.join(',')}  ${r.origin.join(', ')}`);
  ctx.print(`\nhost allowlist (egress proxy):\n${hosts.length ? hosts.join('\n') : '  (none: no host reachable through the proxy)'}\n`);
  const channels = (record.channels ?? []).map(describeChannel).map(
    (c) => `  ${c.type}  ${JSON.stringify(c.settings)}  credentials: ${Object.entries(c.credentials).map(([f, n]) => `${f}=secret:${n}`).join(' ') || '(none)'}`,
  );
  ctx.print(`\nchannels:\n${channels.length ? channels.join('\n') : '  (none)'}\n`);
  const resources = Object.entries(record.resources).filter((e): e is [string, string] => e[1] !== undefined);
  ctx.print(`\nresources:\n${resources.length ? keyValues(resources).replace(/^(?=.)/gm, '  ') : '  (none)\n'}`);
  ctx.print(`\nlast transitions (newest first):\n`);
  ctx.print(
    transitions.length === 0
      ? '  (none)\n'
      : table(
          ['AT', 'TRANSITION', 'FROM', 'TO', 'VERSION', 'ERROR / CHANGES'],
          transitions.map((t) => [
            t.at,
            t.transition,
            t.from,
            t.to,
            String(t.version),
            t.error ? truncate(`${t.error.name}: ${t.error.message}`, 80) : t.changes ? t.changes.join('; ') : '-',
          ]),
        ),
  );
}

function stripAuditKeys(item: AuditItem): Omit<AuditItem, 'pk' | 'sk'> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}
