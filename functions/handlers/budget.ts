/**
 * The monthly Bedrock token budget per plan (issue 11, item 3), on a schedule: reads each tenant's
 * tokens this month from the per-profile metrics Bedrock publishes (adapters/token-usage.ts), and
 * acts on the plan's `monthlyTokenBudget` (usecases/model-budget.ts): one `TenantBudgetExceeded`
 * event per tenant per month and, where the plan says so, its SuspendTenant run.
 *
 * Publishes `TenantTokens` (dimension TenantId) for every measured tenant and `TenantsOverBudget`
 * (alarmed per cell). A tenant whose metrics cannot be read (throttled past the adapter's retries)
 * does not stop the others; the run then fails at the end, so the schedule retries it (a retry
 * notifies no one twice) and what keeps failing lands in the schedule's alarmed dead-letter queue.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import { DynamoBudgetNotices } from '../adapters/budget-notices';
import { StateMachineStarter } from '../adapters/step-functions';
import { CloudWatchTokenUsage } from '../adapters/token-usage';
import { TransientAwsError } from '../domain/errors';
import { checkTokenBudgets } from '../usecases/model-budget';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { logger, metrics } from '../shared/powertools';

/** Tenants a run checks at most, per status. */
export const BUDGET_DEFAULT_LIMIT = 1000;

const Input = z.object({
  action: z.literal('check'),
  limit: z._default(z.number().check(z.int()).check(z.gte(1)).check(z.lte(10_000)), BUDGET_DEFAULT_LIMIT),
});

const env = loadEnv([vars.PLANS_JSON, vars.SUSPEND_STATE_MACHINE_ARN, vars.CELL_ID, vars.TABLE_NAME]);
const { store, events } = lifecycleDepsFromEnv();
const suspend = new StateMachineStarter(new SFNClient(CLIENT_CONFIG), env.SUSPEND_STATE_MACHINE_ARN);
const usage = new CloudWatchTokenUsage(new CloudWatchClient(CLIENT_CONFIG));
const notices = new DynamoBudgetNotices(DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG)), env.TABLE_NAME);

export const handler = makeHandler('Budget', Input, async (input) => {
  const out = await checkTokenBudgets({ store, events, suspend, usage, notices, plans: env.PLANS_JSON, cell: env.CELL_ID, now: () => new Date() }, input.limit);
  for (const t of out.tenants) {
    const metric = metrics.singleMetric();
    metric.addDimension('TenantId', t.tenantId);
    metric.addMetric('TenantTokens', MetricUnit.Count, t.tokens);
  }
  const over = out.tenants.filter((t) => t.over);
  metrics.addMetric('TenantsOverBudget', MetricUnit.Count, over.length);
  logger.info('token budgets checked', { tenants: out.tenants.length, overBudget: over.map((t) => t.tenantId), failed: out.failed });
  if (out.failed.length > 0) {
    throw new TransientAwsError(`token usage could not be read for ${out.failed.length} tenant(s): ${out.failed.map((f) => `${f.tenantId} (${f.error})`).join('; ')}`);
  }
  return { checked: out.tenants.length, overBudget: over };
});
