/**
 * Drift detection and repair of one tenant (issue 13, item 2), and the isolation audit's run over
 * the cell (item 3). The audit's findings (functions/domain/isolation-audit.ts) are the drift: a
 * failing check is a difference between what runs and what the record renders.
 *
 * - Only tenants in a steady status (ACTIVE, SUSPENDED) are checked: a tenant in a workflow is that
 *   workflow's, and one without resources (REQUESTED, FAILED, DEPROVISIONED, PURGED) has nothing to
 *   compare (its leftovers are the orphan sweep's).
 * - Repair re-applies what the record renders through the workflows' own adapters (security-group
 *   reconcile, PutRolePolicy, UpdateService back to the recorded revision / settings / count, the
 *   egress policy's apply), then audits again and reports what is left. Just before repairing, the
 *   record is read again: a tenant whose status or version moved since the audit is left alone
 *   (a workflow took it). What only an operator can put back is reported, never guessed.
 * - Every repair is audited on the tenant (`reconcileRepair` audit item), and any drift is one
 *   `TenantDriftDetected` event.
 */
import type { GatewayServices } from '../adapters/gateway-service';
import type { EventPublisher } from '../adapters/lifecycle-events';
import type { SecurityGroups } from '../adapters/security-groups';
import type { TaskRoles } from '../adapters/task-roles';
import type { TenantStore } from '../adapters/tenant-store';
import { ValidationError } from '../domain/errors';
import type { CheckId, Finding, Repair } from '../domain/isolation-audit';
import { worstSeverity } from '../domain/isolation-audit';
import type { TenantRecord } from '../domain/tenant-record';
import { applyEgressPolicy, type EgressDeps } from './egress';
import type { LiveStateReader } from './live-state';
import { planOf } from './tenant-render';
import type { Plan } from '../domain/tenant';

export const DRIFT_EVENT = 'TenantDriftDetected';
export const CHECKED_STATUSES = ['ACTIVE', 'SUSPENDED'] as const;

export interface RepairAdapters {
  groups: Pick<SecurityGroups, 'reconcile' | 'reconcileIngress' | 'desiredRules'>;
  roles: Pick<TaskRoles, 'putPolicy'>;
  services: Pick<GatewayServices, 'update' | 'restoreSettings'>;
  /** The Egress function's use-case deps (its policy store), when the cell has a proxy. */
  egress?: EgressDeps | undefined;
  /** The tenant's recorded route put back in place (IngressRoutes.reapplyRoute), when the cell has ingress. */
  ingress?: { reapply(record: TenantRecord): Promise<void> } | undefined;
}

export interface ReconcileDeps {
  cell: string;
  plans: readonly Plan[];
  reader: Pick<LiveStateReader, 'audit'>;
  store: Pick<TenantStore, 'get' | 'appendAudit' | 'setResources'>;
  events: EventPublisher;
  /** Present only when the function may write (cdk.json reconcile.mode "repair"). */
  repair?: RepairAdapters | undefined;
  /** The other tenants holding a uid (by live access point); see live-state.ts accessPointUids. */
  uidHolders: (record: TenantRecord) => Promise<string[]>;
}

export interface TenantReport {
  tenantId: string;
  status: string;
  /** Why the tenant was not checked (a status with nothing to compare). */
  skipped?: string;
  findings: Finding[];
  /** Check ids that failed (the drift). */
  drift: CheckId[];
  worst?: string | undefined;
  /** With repair: what was re-applied, what still fails afterwards, and what could not be tried. */
  repaired?: Repair[];
  remaining?: CheckId[];
  repairErrors?: string[];
  repairSkipped?: string;
}

const failing = (findings: readonly Finding[]) => findings.filter((f) => f.status === 'fail');

/** Audits one tenant and, when asked and allowed, repairs what can be repaired. */
export async function reconcileTenant(deps: ReconcileDeps, tenantId: string, opts: { repair: boolean; runId: string }): Promise<TenantReport> {
  const record = await deps.store.get(tenantId);
  if (!record) return { tenantId, status: 'ABSENT', skipped: 'no tenant record', findings: [], drift: [] };
  if (record.cell !== deps.cell) return { tenantId, status: record.status, skipped: `tenant of cell ${record.cell}`, findings: [], drift: [] };
  if (!(CHECKED_STATUSES as readonly string[]).includes(record.status)) {
    return { tenantId, status: record.status, skipped: `status ${record.status}: nothing to compare`, findings: [], drift: [] };
  }
  const { findings } = await deps.reader.audit(record, await deps.uidHolders(record));
  const drift = failing(findings);
  const report: TenantReport = { tenantId, status: record.status, findings, drift: drift.map((f) => f.checkId), worst: worstSeverity(findings) };
  if (drift.length === 0) return report;

  if (opts.repair) {
    if (!deps.repair) throw new ValidationError(`the cell "${deps.cell}" reconciles in report-only mode (cdk.json reconcile.mode); this function has no rights to repair`);
    Object.assign(report, await repairTenant(deps, deps.repair, record, drift, opts.runId));
  }
  await deps.events.publish(DRIFT_EVENT, {
    tenantId,
    cell: deps.cell,
    runId: opts.runId,
    mode: opts.repair ? 'repair' : 'report',
    drift: drift.map((f) => ({ checkId: f.checkId, severity: f.severity, detail: f.detail })),
    ...(report.repaired ? { repaired: report.repaired, remaining: report.remaining ?? [] } : {}),
  });
  return report;
}

async function repairTenant(deps: ReconcileDeps, a: RepairAdapters, audited: TenantRecord, drift: Finding[], runId: string): Promise<Partial<TenantReport>> {
  // A workflow may have taken the tenant since the audit: repair only what was audited.
  const record = await deps.store.get(audited.tenantId);
  if (!record || record.status !== audited.status || record.version !== audited.version) {
    return { repaired: [], remaining: drift.map((f) => f.checkId), repairSkipped: 'the tenant changed since it was audited (a workflow holds it); left to that workflow' };
  }
  const repairs = [...new Set(drift.flatMap((f) => (f.repair ? [f.repair] : [])))];
  const ref = { tenantId: record.tenantId, cell: record.cell };
  const r = record.resources;
  const done: Repair[] = [];
  const errors: string[] = [];
  for (const repair of repairs) {
    try {
      switch (repair) {
        case 'securityGroupEgress':
          if (!r.securityGroupId) throw new Error('no security group recorded');
          await a.groups.reconcile(r.securityGroupId, await a.groups.desiredRules(record.egressAllowlist));
          break;
        case 'securityGroupIngress':
          if (!r.securityGroupId) throw new Error('no security group recorded');
          await a.groups.reconcileIngress(r.securityGroupId);
          break;
        case 'rolePolicy': {
          if (!r.accessPointArn) throw new Error('no access point recorded');
          const plan = planOf(record, deps.plans);
          await a.roles.putPolicy({ ...ref, accessPointArn: r.accessPointArn, bedrock: { profiles: r.inferenceProfiles ?? {}, guardrail: plan.bedrockGuardrail } });
          break;
        }
        case 'serviceTaskDefinition':
          // Back to the recorded revision. A recorded revision that itself differs from what the record
          // renders is an update's job (octw tenants update), not a repair's: the re-audit reports it.
          if (!r.taskDefinitionArn) throw new Error('no task definition recorded');
          await a.services.update(record.tenantId, { taskDefinitionArn: r.taskDefinitionArn });
          break;
        case 'serviceSettings':
          if (!r.securityGroupId) throw new Error('no security group recorded');
          await a.services.restoreSettings(record.tenantId, r.securityGroupId);
          break;
        case 'serviceDesiredCount':
          await a.services.update(record.tenantId, { desiredCount: record.status === 'SUSPENDED' ? 0 : 1 });
          break;
        case 'egressPolicy':
          if (!a.egress) throw new Error('the cell has no egress proxy');
          if (!(await a.egress.policies.get(record.tenantId))) throw new Error('no policy item: the tenant needs a new proxy credential (octw tenants update)');
          await applyEgressPolicy(a.egress, record, runId);
          break;
        case 'ingressRoute':
          if (!a.ingress) throw new Error('the cell has no ingress');
          if (!record.ingress) throw new Error('no ingress route recorded');
          await a.ingress.reapply(record);
          break;
      }
      done.push(repair);
    } catch (err) {
      errors.push(`${repair}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const after = failing((await deps.reader.audit(record, await deps.uidHolders(record))).findings).map((f) => f.checkId);
  await deps.store.appendAudit(record, {
    transition: 'reconcileRepair',
    executionArn: runId,
    detail: { changes: [`drift: ${drift.map((f) => f.checkId).join(', ')}`, `repaired: ${done.join(', ') || '(nothing)'}`, `remaining: ${after.join(', ') || '(none)'}`] },
  });
  return { repaired: done, remaining: after, ...(errors.length > 0 ? { repairErrors: errors } : {}) };
}
