/**
 * The bench's cost section: each lifecycle operation measured now, next to the same run on main at
 * d83936b (bench/cost-baseline.json, measured with this file's runner from a worktree of that
 * commit), and the monthly overhead per tenant at 1,000 tenants for each way of storing a
 * tenant's secret values.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_OVERHEAD, monthlyOverhead, runLifecycleCosts, SECRETS_LAYOUTS, type OperationCost, type OverheadLine, type SecretsLayout } from './cost';
import { PRICES } from './prices';

export interface CostSection {
  readonly operations: OperationCost[];
  readonly baseline?: { commit: string; measured: string; operations: OperationCost[] };
  readonly overhead: Record<SecretsLayout, OverheadLine[]>;
  readonly layout: SecretsLayout;
}

const BASELINE = path.join(__dirname, 'cost-baseline.json');
/** How the platform stores a tenant's secret values today. */
export const CURRENT_LAYOUT: SecretsLayout = 'secret-per-value';
const TARGET_PER_TENANT_MONTH = 1;

export async function runCostSection(scale: number, writeTo?: string): Promise<CostSection> {
  const operations = await runLifecycleCosts(scale);
  if (writeTo) writeFileSync(writeTo, `${JSON.stringify({ operations }, null, 2)}\n`);
  const baseline = existsSync(BASELINE) ? (JSON.parse(readFileSync(BASELINE, 'utf8')) as CostSection['baseline']) : undefined;
  const ops = (op: string) => operations.find((o) => o.operation === op)?.dollars.total ?? 0;
  const monthlyOps = ops('Suspend') + ops('Resume');
  const overhead = Object.fromEntries(
    SECRETS_LAYOUTS.map((l) => [l, monthlyOverhead(DEFAULT_OVERHEAD, l, monthlyOps)]),
  ) as Record<SecretsLayout, OverheadLine[]>;
  return { operations, ...(baseline ? { baseline } : {}), overhead, layout: CURRENT_LAYOUT };
}

const usd = (x: number) => (x >= 0.01 ? `$${x.toFixed(3)}` : `$${x.toFixed(6)}`);
const sum = (lines: readonly OverheadLine[]) => lines.reduce((s, l) => s + l.perTenant, 0);

export function formatCosts(c: CostSection): string[] {
  const out: string[] = [];
  out.push(`5. Cost per tenant at public prices (${PRICES.region}, list prices of ${PRICES.date}: bench/prices.ts)`);
  out.push('   per operation: state transitions, Lambda invocations, GB-seconds (model time), AWS call attempts (DynamoDB included), cost');
  const row = (label: string, o: OperationCost | undefined) =>
    o
      ? `   ${label.padEnd(22)} ${o.status.padEnd(13)} ${String(o.stateTransitions).padStart(4)} tr  ${String(o.lambdaInvocations).padStart(3)} inv  ${o.lambdaGbSeconds.toFixed(2).padStart(7)} GB-s  ${String(o.awsCalls).padStart(4)} calls  ${usd(o.dollars.total)} (SFN ${usd(o.dollars.stepFunctions)}, Lambda ${usd(o.dollars.lambda)}, DynamoDB ${usd(o.dollars.dynamoDb)})`
      : `   ${label.padEnd(22)} not measured`;
  for (const o of c.operations) {
    out.push(row(`${o.operation} now`, o));
    if (c.baseline) out.push(row(`${o.operation} main ${c.baseline.commit.slice(0, 7)}`, c.baseline.operations.find((b) => b.operation === o.operation)));
    out.push(`      calls now: ${Object.entries(o.callsByService).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (!c.baseline) out.push('   (no bench/cost-baseline.json: main\'s figures not shown)');
  out.push(`   Monthly platform overhead per tenant at ${DEFAULT_OVERHEAD.tenants} tenants, excluding the tenant's own Fargate task:`);
  const current = c.overhead[c.layout];
  for (const l of current) out.push(`     ${l.item.padEnd(34)} ${usd(l.perTenant).padStart(10)}  ${l.basis}`);
  out.push(`     ${'total'.padEnd(34)} ${usd(sum(current)).padStart(10)}`);
  out.push(`   ${sum(current) <= TARGET_PER_TENANT_MONTH ? 'MET   ' : 'MISSED'} ≤ $${TARGET_PER_TENANT_MONTH} per tenant-month: ${usd(sum(current))} with ${c.layout}`);
  out.push('   The same total with each way of storing the tenant\'s secret values (2 platform values + 2 credentials):');
  for (const [layout, lines] of Object.entries(c.overhead)) out.push(`     ${layout.padEnd(25)} ${usd(sum(lines))}  (${lines[0]!.item}: ${usd(lines[0]!.perTenant)}, ${lines[0]!.basis})`);
  const metric = current.find((l) => l.item.startsWith('CloudWatch metric'))?.perTenant ?? 0;
  const checks = current.find((l) => l.item.startsWith('Budget checks'))?.perTenant ?? 0;
  const chosen = c.overhead['ssm-securestring-advanced'];
  out.push(`   Chosen for the secret values (not built yet): ssm-securestring-advanced, the only layout that stays within $${TARGET_PER_TENANT_MONTH} at thousands of tenants per account`);
  out.push(`   once the per-tenant usage metric (${usd(metric)}) and its GetMetricData checks (${usd(checks)}) give way to the usage figure in the tenant record: ${usd(sum(chosen) - metric - checks)}.`);
  return out;
}
