/**
 * Issue 11, item 3: the monthly Bedrock token budget per plan, wired. The Budget function reads each
 * tenant's tokens this month from the CloudWatch metrics of its own application inference profiles
 * (the fake's GetMetricData over datapoints standing in for what Bedrock publishes), and, over the
 * plan's budget, puts one TenantBudgetExceeded event per tenant per month on the cell's bus and
 * suspends the tenant through the real SuspendTenant ASL where the plan says so.
 */
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { LOCAL_PLANS } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { executionsOf, provision, runWorkflow } from './support';

const BUDGET = 1000;
const PLANS = [
  { ...LOCAL_PLANS[0]!, monthlyTokenBudget: BUDGET },
  { ...LOCAL_PLANS[1]!, monthlyTokenBudget: BUDGET, overBudgetAction: 'suspend' as const },
  { ...LOCAL_PLANS[0]!, id: 'unmetered' },
];

let cloud: LocalCloud;
let budgetHandler: (event: unknown, context: ReturnType<typeof lambdaContextFor>) => Promise<unknown>;
let run = 0;

beforeAll(async () => {
  cloud = await startLocalCloud({ env: { PLANS_JSON: JSON.stringify(PLANS) } });
  budgetHandler = (await import('../../functions/handlers/budget')).handler;
});
afterAll(async () => {
  await cloud.stop();
});

const profileId = (arn: string) => arn.split('/').pop()!;

/** What Bedrock would publish for one call through the tenant's first profile: input and output tokens. */
function useTokens(record: TenantRecord, input: number, output: number) {
  const arn = Object.values(record.resources.inferenceProfiles ?? {})[0]!;
  const now = Date.now();
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const timestamp = Math.max(monthStart, now - 1000);
  for (const [metricName, value] of [['InputTokenCount', input], ['OutputTokenCount', output]] as const) {
    cloud.fake.cloudwatch.putDatapoint({ namespace: 'AWS/Bedrock', metricName, dimensions: { ModelId: profileId(arn) }, timestamp, value });
  }
}

const budgetEvents = (tenantId: string) =>
  cloud.bus.events.filter((e) => e['detail-type'] === 'TenantBudgetExceeded' && (e.detail as { tenantId?: string }).tenantId === tenantId);

async function check() {
  run += 1;
  const out = (await budgetHandler({ action: 'check' }, lambdaContextFor('Budget', `budget-${run}`))) as { checked: number; overBudget: { tenantId: string; tokens: number }[] };
  await cloud.settle();
  return out;
}

const metricQueriesFor = (record: TenantRecord) => {
  const ids = Object.values(record.resources.inferenceProfiles ?? {}).map(profileId);
  return cloud.fake.calls.filter(
    (c) => c.service === 'CloudWatch' && c.operation === 'GetMetricData' && ids.some((id) => JSON.stringify(c.input).includes(`"${id}"`)),
  );
};

describe('monthly token budget per plan', () => {
  let alarmOnly: TenantRecord;
  let suspendable: TenantRecord;
  let under: TenantRecord;
  let unmetered: TenantRecord;

  beforeAll(async () => {
    alarmOnly = (await provision(cloud, 'budget-alarm', { plan: 'standard' }))!;
    suspendable = (await provision(cloud, 'budget-suspend', { plan: 'pro' }))!;
    under = (await provision(cloud, 'budget-under', { plan: 'pro' }))!;
    unmetered = (await provision(cloud, 'budget-free', { plan: 'unmetered' }))!;
    expect([alarmOnly, suspendable, under, unmetered].map((r) => r.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    useTokens(alarmOnly, 700, 301);
    useTokens(suspendable, 4000, 1000);
    useTokens(under, 600, 400);
    useTokens(unmetered, 1e9, 1e9);
  });

  it('puts one event for a tenant over budget, suspends the one whose plan says so, and leaves the others alone', async () => {
    const out = await check();
    expect(out.overBudget.map((t) => [t.tenantId, t.tokens]).sort()).toEqual([
      ['budget-alarm', 1001],
      ['budget-suspend', 5000],
    ]);

    expect(budgetEvents('budget-alarm')).toHaveLength(1);
    expect(budgetEvents('budget-alarm')[0]?.detail).toMatchObject({ action: 'alarm', plan: 'standard', tokens: 1001, budget: BUDGET, cell: cloud.cell.cellId });
    expect((await cloud.tenant('budget-alarm'))?.status).toBe('ACTIVE');

    expect(budgetEvents('budget-suspend')[0]?.detail).toMatchObject({
      action: 'suspend',
      suspensionExecutionArn: expect.stringContaining(`suspend-budget-suspend-v${suspendable.version}`),
    });
    expect((await cloud.tenant('budget-suspend'))?.status).toBe('SUSPENDED');

    expect(budgetEvents('budget-under')).toHaveLength(0);
    expect((await cloud.tenant('budget-under'))?.status).toBe('ACTIVE');
  });

  it('skips a plan without a budget: its metrics are not even read', async () => {
    expect(metricQueriesFor(unmetered)).toHaveLength(0);
    expect(metricQueriesFor(under).length).toBeGreaterThan(0);
    expect(budgetEvents('budget-free')).toHaveLength(0);
    expect((await cloud.tenant('budget-free'))?.status).toBe('ACTIVE');
  });

  it('notifies once a month: later runs put no second event and start no second suspension, also after the operator resumed the tenant', async () => {
    await check();
    const resumed = await runWorkflow(cloud, 'ResumeTenant', { tenantId: 'budget-suspend' });
    expect(resumed.status).toBe('SUCCEEDED');
    expect((await cloud.tenant('budget-suspend'))?.status).toBe('ACTIVE');
    const out = await check();
    expect(out.overBudget.map((t) => t.tenantId).sort()).toEqual(['budget-alarm', 'budget-suspend']);
    expect(budgetEvents('budget-alarm')).toHaveLength(1);
    expect(budgetEvents('budget-suspend')).toHaveLength(1);
    expect(executionsOf(cloud, 'budget-suspend').filter((e) => e.name.startsWith('suspend-'))).toHaveLength(1);
    expect((await cloud.tenant('budget-suspend'))?.status).toBe('ACTIVE');
  });

  it('retries a throttled metrics read and still notifies exactly once', async () => {
    const late = (await provision(cloud, 'budget-late', { plan: 'standard' }))!;
    useTokens(late, 2000, 0);
    cloud.fake.inject({ service: 'CloudWatch', operation: 'GetMetricData', kind: 'throttle', times: 2 });
    await check();
    expect(cloud.fake.faults.fired.filter((f) => f.service === 'CloudWatch')).toHaveLength(2);
    expect(budgetEvents('budget-late')).toHaveLength(1);
  });

  it('fails the run cleanly when the metrics stay throttled: nothing notified for that tenant, the next run does it once', async () => {
    const later = (await provision(cloud, 'budget-later', { plan: 'pro' }))!;
    useTokens(later, 2000, 0);
    const before = cloud.bus.events.length;
    cloud.fake.inject({ service: 'CloudWatch', operation: 'GetMetricData', kind: 'throttle', times: 100 });
    await expect(check()).rejects.toMatchObject({ name: 'TransientAwsError', message: expect.stringContaining('budget-later') });
    cloud.fake.faults.clear();
    expect(cloud.bus.events.slice(before).filter((e) => e['detail-type'] === 'TenantBudgetExceeded')).toEqual([]);
    expect((await cloud.tenant('budget-later'))?.status).toBe('ACTIVE');
    await check();
    expect(budgetEvents('budget-later')).toHaveLength(1);
    expect((await cloud.tenant('budget-later'))?.status).toBe('SUSPENDED');
  });

  it('a GetMetricData the fake refuses carries CloudWatch\'s own error code', async () => {
    const { CloudWatchClient, GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    const client = new CloudWatchClient({ region: 'us-east-1' });
    const at = new Date();
    await expect(client.send(new GetMetricDataCommand({ MetricDataQueries: [], StartTime: at, EndTime: at }))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      client.send(new GetMetricDataCommand({ MetricDataQueries: [{ Id: 'a', MetricStat: { Metric: { Namespace: 'AWS/Bedrock', MetricName: 'InputTokenCount' }, Period: 60, Stat: 'Sum' } }], StartTime: at, EndTime: at, NextToken: 'forged' })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      client.send(
        new GetMetricDataCommand({
          MetricDataQueries: [{ Id: 'a', MetricStat: { Metric: { Namespace: 'AWS/Bedrock', MetricName: 'InputTokenCount' }, Period: 60, Stat: 'Sum' } }],
          StartTime: new Date(at.getTime() - 60_000),
          EndTime: at,
          NextToken: 'forged',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
  });
});
