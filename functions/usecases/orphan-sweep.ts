/**
 * The orphan sweep (issue 13, item 2): resources tagged for this cell (exactly) that belong to no
 * live tenant, or to an older generation of a live one, are listed; each is removed on a later run
 * once it has been an orphan for the grace period (first sighting recorded in the ledger), and only
 * when the sweep may remove (cdk.json reconcile.mode "repair").
 *
 * Who owns what:
 * - no tenant record, or a tenant DEPROVISIONED, PURGED or FAILED: everything tagged for it is an
 *   orphan (deprovision and compensation remove it all; what is left, a crash left). Log groups and
 *   the tenant's files are never swept (kept until purge by design).
 * - a tenant in a workflow (PROVISIONING, UPDATING, ...): nothing is judged; the workflow may be
 *   creating exactly these resources.
 * - an ACTIVE or SUSPENDED tenant: a security group or access point other than the recorded one is
 *   an older generation's orphan; its role, service and secrets carry deterministic names and are
 *   its own.
 * A resource seen as an orphan that is no longer one (its tenant came back) leaves the ledger.
 */
import type { CellInventory, CellResource } from '../adapters/cell-inventory';
import type { FleetStore, OrphanEntry } from '../adapters/fleet-store';
import type { TenantStore } from '../adapters/tenant-store';
import { TRANSITIONAL_STATUSES } from '../domain/lifecycle';
import type { TenantRecord } from '../domain/tenant-record';

export interface SweepDeps {
  inventory: Pick<CellInventory, 'list' | 'remove'>;
  ledger: Pick<FleetStore, 'sighted' | 'ledger' | 'forget' | 'appendCellAudit'>;
  store: Pick<TenantStore, 'get' | 'appendAudit'>;
  now: () => Date;
}

export interface OrphanReport extends CellResource {
  reason: string;
  firstSeen: string;
  /** When it may be removed (first sighting + grace). */
  removableAfter: string;
  outcome: 'listed' | 'deleted' | 'absent' | 'error';
  error?: string;
}

export interface SweepReport {
  orphans: OrphanReport[];
  /** Resources of tenants in a workflow: not judged this run. */
  deferred: number;
  /** Ledger entries dropped because the resource is no longer an orphan (or is gone). */
  cleared: number;
}

const GONE_STATUSES = new Set(['DEPROVISIONED', 'PURGED', 'FAILED']);

/** Why the resource is an orphan, the string 'defer' for a tenant in a workflow, or undefined when it is its tenant's own. */
export function orphanReason(r: CellResource, record: TenantRecord | undefined): string | undefined {
  if (!record) return 'no tenant record';
  if ((TRANSITIONAL_STATUSES as readonly string[]).includes(record.status)) return 'defer';
  if (GONE_STATUSES.has(record.status)) return `tenant is ${record.status}`;
  if (record.status === 'REQUESTED') return 'defer';
  if (r.kind === 'security-group' && record.resources.securityGroupId !== r.id) return `older generation: the tenant's security group is ${record.resources.securityGroupId ?? '(none)'}`;
  if (r.kind === 'access-point' && record.resources.accessPointId !== r.id) return `older generation: the tenant's access point is ${record.resources.accessPointId ?? '(none)'}`;
  if (r.kind === 'target-group' && record.ingress?.targetGroupArn !== r.id) return `not the tenant's recorded target group (${record.ingress?.targetGroupArn ?? 'none recorded'})`;
  if (r.kind === 'listener-rule' && record.ingress?.ruleArn !== r.id) return `not the tenant's recorded listener rule (${record.ingress?.ruleArn ?? 'none recorded'})`;
  return undefined;
}

export async function sweepOrphans(deps: SweepDeps, opts: { graceHours: number; remove: boolean; runId: string }): Promise<SweepReport> {
  const now = deps.now();
  const resources = await deps.inventory.list();
  const records = new Map<string, TenantRecord | undefined>();
  const recordOf = async (tenantId: string) => {
    if (!records.has(tenantId)) records.set(tenantId, await deps.store.get(tenantId));
    return records.get(tenantId);
  };
  const orphans: OrphanReport[] = [];
  const seen = new Set<string>();
  let deferred = 0;
  for (const r of resources) {
    const reason = orphanReason(r, await recordOf(r.tenantId));
    if (reason === 'defer') {
      deferred += 1;
      seen.add(`${r.kind}#${r.id}`);
      continue;
    }
    if (reason === undefined) continue;
    seen.add(`${r.kind}#${r.id}`);
    const entry: OrphanEntry = await deps.ledger.sighted({ kind: r.kind, id: r.id, tenantId: r.tenantId, reason }, now);
    const removableAt = Date.parse(entry.firstSeen) + opts.graceHours * 3600_000;
    const report: OrphanReport = { ...r, reason, firstSeen: entry.firstSeen, removableAfter: new Date(removableAt).toISOString(), outcome: 'listed' };
    if (opts.remove && now.getTime() >= removableAt) {
      try {
        report.outcome = await deps.inventory.remove(r);
        await deps.ledger.forget(r.kind, r.id);
        const record = records.get(r.tenantId);
        const detail = { orphan: { kind: r.kind, id: r.id, reason, firstSeen: entry.firstSeen, outcome: report.outcome } };
        if (record) await deps.store.appendAudit(record, { transition: 'orphanRemoved', executionArn: opts.runId, detail });
        else await deps.ledger.appendCellAudit({ what: 'orphanRemoved', runId: opts.runId, detail: { tenantId: r.tenantId, ...detail } }, now);
      } catch (err) {
        report.outcome = 'error';
        report.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
    orphans.push(report);
  }
  // Entries whose resource is no longer an orphan (or no longer exists) leave the ledger.
  let cleared = 0;
  for (const e of await deps.ledger.ledger()) {
    if (!seen.has(`${e.kind}#${e.id}`)) {
      await deps.ledger.forget(e.kind, e.id);
      cleared += 1;
    }
  }
  return { orphans, deferred, cleared };
}
