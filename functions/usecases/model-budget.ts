/**
 * Monthly Bedrock token budget per plan (issue 11, item 3), checked on a schedule: for every
 * ACTIVE or SUSPENDED tenant whose plan sets `monthlyTokenBudget`, the tokens (input + output)
 * its own application inference profiles used since the start of the calendar month (UTC), read
 * from the per-tenant metrics Bedrock publishes for each profile. Over the budget: a
 * `TenantBudgetExceeded` event and, when the plan's `overBudgetAction` is "suspend" and the tenant
 * is ACTIVE, its SuspendTenant run under the name the CLI would use (`suspend-<id>-v<version>`).
 *
 * Once per tenant per month: the notice is claimed (BudgetNoticeGate, a conditional write) before
 * the suspension and the event, and released if either fails, so a repeated check (every schedule
 * run) publishes no second event and starts no second suspension that month, also after an operator
 * resumed the tenant.
 *
 * The metrics are read through a port (TokenUsageSource; adapters/token-usage.ts reads CloudWatch
 * GetMetricData on AWS/Bedrock InputTokenCount/OutputTokenCount, dimension ModelId = the profile id).
 * A tenant whose usage cannot be read is reported in `failed`, the others are still checked.
 */
import type { EventPublisher } from '../adapters/lifecycle-events';
import type { TenantStore } from '../adapters/tenant-store';
import { budgetVerdict, monthStart } from '../domain/models';
import { operationExecutionName, type TenantRequest } from '../domain/operations';
import type { Plan } from '../domain/tenant';
import type { WorkflowStarter } from './intake';

export const BUDGET_EXCEEDED_DETAIL_TYPE = 'TenantBudgetExceeded';

/** Tokens used through the given inference profiles in [since, until). */
export interface TokenUsageSource {
  tokensUsed(profileArns: readonly string[], since: Date, until: Date): Promise<number>;
}

/** At most one notice per tenant and month (see adapters/budget-notices.ts). */
export interface BudgetNoticeGate {
  /** True when this call claimed the notice; false when it was already claimed. */
  claim(tenantId: string, month: string, detail: { tokens: number; budget: number; at: Date }): Promise<boolean>;
  release(tenantId: string, month: string): Promise<void>;
}

export interface BudgetDeps {
  store: Pick<TenantStore, 'listByStatus'>;
  events: EventPublisher;
  suspend: WorkflowStarter;
  usage: TokenUsageSource;
  notices: BudgetNoticeGate;
  plans: readonly Plan[];
  cell: string;
  now: () => Date;
}

export interface TenantBudget {
  tenantId: string;
  plan: string;
  tokens: number;
  budget: number;
  over: boolean;
  /** This run notified (event, and suspension where the plan says so); false when already notified this month. */
  notified?: boolean;
  suspension?: { executionArn: string; alreadyStarted: boolean };
}

export interface BudgetCheck {
  tenants: TenantBudget[];
  failed: { tenantId: string; error: string }[];
}

export async function checkTokenBudgets(deps: BudgetDeps, limit: number): Promise<BudgetCheck> {
  const now = deps.now();
  const since = monthStart(now);
  const month = since.toISOString().slice(0, 7);
  const records = [...(await deps.store.listByStatus('ACTIVE', limit)), ...(await deps.store.listByStatus('SUSPENDED', limit))];
  const out: BudgetCheck = { tenants: [], failed: [] };
  for (const record of records) {
    const plan = deps.plans.find((p) => p.id === record.plan);
    const profiles = Object.values(record.resources.inferenceProfiles ?? {});
    if (plan?.monthlyTokenBudget === undefined || profiles.length === 0) continue;
    let tokens: number;
    try {
      tokens = await deps.usage.tokensUsed(profiles, since, now);
    } catch (err) {
      out.failed.push({ tenantId: record.tenantId, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      continue;
    }
    const verdict = budgetVerdict(tokens, plan);
    const result: TenantBudget = { tenantId: record.tenantId, plan: plan.id, tokens, budget: plan.monthlyTokenBudget, over: verdict.over };
    if (verdict.over) {
      result.notified = await deps.notices.claim(record.tenantId, month, { tokens, budget: plan.monthlyTokenBudget, at: now });
      if (result.notified) {
        try {
          if (verdict.action === 'suspend' && record.status === 'ACTIVE') {
            const request: TenantRequest = { tenantId: record.tenantId };
            result.suspension = await deps.suspend.start(operationExecutionName('suspend', record.tenantId, record.version), JSON.stringify(request));
          }
          await deps.events.publish(BUDGET_EXCEEDED_DETAIL_TYPE, {
            tenantId: record.tenantId,
            cell: deps.cell,
            plan: plan.id,
            month,
            tokens,
            budget: verdict.budget,
            action: verdict.action,
            ...(result.suspension ? { suspensionExecutionArn: result.suspension.executionArn } : {}),
          });
        } catch (err) {
          // Not notified after all: the next run claims it again (the suspension's name makes a second start a no-op).
          await deps.notices.release(record.tenantId, month);
          throw err;
        }
      }
    }
    out.tenants.push(result);
  }
  return out;
}
