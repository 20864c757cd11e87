/**
 * Monthly Bedrock token budget per plan (issue 11, item 3), checked on a schedule: for every
 * ACTIVE or SUSPENDED tenant whose plan sets `monthlyTokenBudget`, the tokens (input + output)
 * its own application inference profiles used since the start of the calendar month (UTC), read
 * from the per-tenant metrics Bedrock publishes for each profile. Over the budget: a
 * `TenantBudgetExceeded` event and, when the plan's `overBudgetAction` is "suspend" and the tenant
 * is ACTIVE, its SuspendTenant run under the name the CLI would use (`suspend-<id>-v<version>`),
 * so a repeated check is a no-op.
 *
 * The metrics are read through a port (TokenUsageSource): the CloudWatch adapter needs
 * @aws-sdk/client-cloudwatch (GetMetricData on AWS/Bedrock InputTokenCount/OutputTokenCount,
 * dimension ModelId = the profile), which the project does not carry yet.
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

export interface BudgetDeps {
  store: Pick<TenantStore, 'listByStatus'>;
  events: EventPublisher;
  suspend: WorkflowStarter;
  usage: TokenUsageSource;
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
  suspension?: { executionArn: string; alreadyStarted: boolean };
}

export async function checkTokenBudgets(deps: BudgetDeps, limit: number): Promise<TenantBudget[]> {
  const now = deps.now();
  const since = monthStart(now);
  const records = [...(await deps.store.listByStatus('ACTIVE', limit)), ...(await deps.store.listByStatus('SUSPENDED', limit))];
  const results: TenantBudget[] = [];
  for (const record of records) {
    const plan = deps.plans.find((p) => p.id === record.plan);
    const profiles = Object.values(record.resources.inferenceProfiles ?? {});
    if (plan?.monthlyTokenBudget === undefined || profiles.length === 0) continue;
    const tokens = await deps.usage.tokensUsed(profiles, since, now);
    const verdict = budgetVerdict(tokens, plan);
    const result: TenantBudget = { tenantId: record.tenantId, plan: plan.id, tokens, budget: plan.monthlyTokenBudget, over: verdict.over };
    if (verdict.over) {
      if (verdict.action === 'suspend' && record.status === 'ACTIVE') {
        const request: TenantRequest = { tenantId: record.tenantId };
        result.suspension = await deps.suspend.start(operationExecutionName('suspend', record.tenantId, record.version), JSON.stringify(request));
      }
      await deps.events.publish(BUDGET_EXCEEDED_DETAIL_TYPE, {
        tenantId: record.tenantId,
        cell: deps.cell,
        plan: plan.id,
        month: since.toISOString().slice(0, 7),
        tokens,
        budget: verdict.budget,
        action: verdict.action,
        ...(result.suspension ? { suspensionExecutionArn: result.suspension.executionArn } : {}),
      });
    }
    results.push(result);
  }
  return results;
}
