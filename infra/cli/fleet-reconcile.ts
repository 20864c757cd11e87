/**
 * `octw fleet reconcile [--tenant ID] [--repair] [--json]` and `octw audit [--tenant ID] [--json]`
 * (issue 13): both ask the cell's Reconcile function (Lambda Invoke, synchronous), which reads the
 * live account with the cell's settings and its own least-privilege role, and print its answer: a
 * table for people, the function's JSON for machines (schema: docs/fleet-reconcile.md).
 *
 * Function name: OCTW_RECONCILE_FUNCTION, else `octw-<cell>-reconcile` (--cell / OCTW_CELL).
 * Exit code: 0 when every check passes; otherwise the worst failing finding's severity
 * (5 low, 6 medium, 7 high, 8 critical); 2 for a repair the cell's mode does not allow.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import * as z from 'zod';
import { ValidationError } from '../../functions/domain/errors';
import { AUDIT_CHECKS, CHECK_IDS, SEVERITIES, type Severity } from '../../functions/domain/isolation-audit';
import type { CommandContext } from './context';
import { AwsCallError, EXIT, UsageError, type ExitCode } from './errors';
import { table, truncate } from './format';

const FindingSchema = z.object({
  checkId: z.enum(CHECK_IDS as [string, ...string[]]),
  severity: z.enum(SEVERITIES),
  status: z.enum(['pass', 'fail', 'skip']),
  detail: z.string().optional(),
  repair: z.string().optional(),
});
const TenantSchema = z.object({
  tenantId: z.string(),
  status: z.string(),
  skipped: z.string().optional(),
  findings: z.array(FindingSchema),
  drift: z.array(z.string()),
  repaired: z.array(z.string()).optional(),
  remaining: z.array(z.string()).optional(),
  repairErrors: z.array(z.string()).optional(),
  repairSkipped: z.string().optional(),
});
const OrphanSchema = z.object({ kind: z.string(), id: z.string(), tenantId: z.string(), reason: z.string(), firstSeen: z.string(), removableAfter: z.string(), outcome: z.string(), error: z.string().optional() });
export const ReconcileAnswerSchema = z.object({
  cell: z.string(),
  mode: z.enum(['report', 'repair']),
  worst: z.enum(SEVERITIES).nullable(),
  tenants: z.array(TenantSchema),
  orphans: z.array(OrphanSchema).optional(),
});
export type ReconcileAnswer = z.infer<typeof ReconcileAnswerSchema>;
const FunctionErrorSchema = z.object({ errorType: z.string().optional(), errorMessage: z.string().optional() });

export const exitCodeOf = (worst: Severity | null): ExitCode =>
  worst === 'critical' ? EXIT.findingCritical : worst === 'high' ? EXIT.findingHigh : worst === 'medium' ? EXIT.findingMedium : worst === 'low' ? EXIT.findingLow : EXIT.ok;

function functionName(ctx: CommandContext, cellFlag: string | undefined): string {
  const explicit = ctx.io.env.OCTW_RECONCILE_FUNCTION?.trim();
  if (explicit) return explicit;
  const cell = cellFlag ?? ctx.io.env.OCTW_CELL?.trim();
  if (cell) return `octw-${cell}-reconcile`;
  throw new UsageError('no reconcile function configured: give OCTW_RECONCILE_FUNCTION, or --cell or OCTW_CELL');
}

async function ask(ctx: CommandContext, cell: string | undefined, payload: Record<string, unknown>): Promise<ReconcileAnswer> {
  let raw: unknown;
  if (ctx.clients.reconcile) raw = await ctx.clients.reconcile(payload);
  else {
    const client = new LambdaClient(ctx.config.region !== undefined ? { region: ctx.config.region } : {});
    try {
      const out = await client.send(new InvokeCommand({ FunctionName: functionName(ctx, cell), Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
      const text = out.Payload ? new TextDecoder().decode(out.Payload) : 'null';
      raw = JSON.parse(text) as unknown;
      if (out.FunctionError) {
        const e = FunctionErrorSchema.safeParse(raw);
        const name = e.success ? (e.data.errorType ?? 'FunctionError') : 'FunctionError';
        const message = e.success ? (e.data.errorMessage ?? text) : text;
        if (name === 'ValidationError') throw new ValidationError(message);
        throw new AwsCallError(name, `the reconcile function failed: ${message}`);
      }
    } finally {
      client.destroy();
    }
  }
  const parsed = ReconcileAnswerSchema.safeParse(raw);
  if (!parsed.success) throw new AwsCallError('UnexpectedAnswer', `the reconcile function answered something this CLI does not read: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function render(ctx: CommandContext, answer: ReconcileAnswer, title: string): void {
  if (ctx.json) {
    ctx.emit(answer);
    return;
  }
  ctx.print(`${title} of cell ${answer.cell} (${answer.mode})\n\n`);
  const rows: string[][] = [];
  for (const t of answer.tenants) {
    if (t.skipped) {
      rows.push([t.tenantId, t.status, '-', 'skip', '-', truncate(t.skipped, 80)]);
      continue;
    }
    for (const f of t.findings.filter((x) => x.status === 'fail')) rows.push([t.tenantId, t.status, f.severity.toUpperCase(), f.checkId, f.repair ? 'yes' : 'operator', truncate(f.detail ?? '', 80)]);
    if (t.drift.length === 0) rows.push([t.tenantId, t.status, 'ok', `${t.findings.filter((x) => x.status === 'pass').length} checks pass`, '-', '']);
    if (t.repaired) rows.push([t.tenantId, t.status, 'repair', `repaired: ${t.repaired.join(', ') || '(nothing)'}`, '-', `remaining: ${(t.remaining ?? []).join(', ') || '(none)'}${t.repairSkipped ? `; ${t.repairSkipped}` : ''}`]);
  }
  ctx.print(table(['TENANT', 'STATUS', 'SEVERITY', 'CHECK', 'REPAIR', 'DETAIL'], rows));
  if (answer.orphans) {
    ctx.print(`\nOrphans (${answer.orphans.length}):\n`);
    ctx.print(table(['KIND', 'ID', 'TENANT', 'REASON', 'FIRST SEEN', 'OUTCOME'], answer.orphans.map((o) => [o.kind, o.id, o.tenantId, truncate(o.reason, 60), o.firstSeen, o.outcome])));
  }
  ctx.print(`\nWorst finding: ${answer.worst ?? 'none'}\n`);
}

/** `octw audit`: the isolation checks of one tenant or all, against the live account. */
export async function runAudit(ctx: CommandContext, opts: { tenant?: string | undefined; cell?: string | undefined }): Promise<ExitCode> {
  const answer = await ask(ctx, opts.cell, { action: 'audit', ...(opts.tenant ? { tenantId: opts.tenant } : {}) });
  render(ctx, answer, 'Isolation audit');
  if (!ctx.json) ctx.print(`Checks: ${CHECK_IDS.map((id) => `${id} (${AUDIT_CHECKS[id].severity})`).join(', ')}\n`);
  return exitCodeOf(answer.worst);
}

/** `octw fleet reconcile`: drift of one tenant or all (and, for all, the orphan sweep); --repair puts back what can be. */
export async function runFleetReconcile(ctx: CommandContext, opts: { tenant?: string | undefined; repair: boolean; cell?: string | undefined }): Promise<ExitCode> {
  const answer = await ask(ctx, opts.cell, { action: 'reconcile', repair: opts.repair, ...(opts.tenant ? { tenantId: opts.tenant } : {}) });
  render(ctx, answer, opts.repair ? 'Reconcile (repair)' : 'Reconcile (report only)');
  // After a repair, what still fails decides the exit code.
  if (opts.repair) {
    const remaining = answer.tenants.flatMap((t) => t.findings.filter((f) => (t.remaining ?? t.drift).includes(f.checkId) && f.status === 'fail'));
    const worst = remaining.reduce<Severity | null>((w, f) => (w === null || SEVERITIES.indexOf(f.severity) < SEVERITIES.indexOf(w) ? f.severity : w), null);
    return exitCodeOf(worst);
  }
  return exitCodeOf(answer.worst);
}
