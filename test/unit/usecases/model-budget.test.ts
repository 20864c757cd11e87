/** The monthly Bedrock token budget per plan: who is over, the event, and suspension where the plan says so. */
import { budgetVerdict, monthStart } from '../../../functions/domain/models';
import { PlanSchema, type Plan } from '../../../functions/domain/tenant';
import type { TenantRecord } from '../../../functions/domain/tenant-record';
import { BUDGET_EXCEEDED_DETAIL_TYPE, checkTokenBudgets, type TokenUsageSource } from '../../../functions/usecases/model-budget';

const IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'a'.repeat(64)}`;
const plan = (id: string, extra: Record<string, unknown>): Plan =>
  PlanSchema.parse({ id, cpu: 1024, memoryMiB: 2048, image: IMAGE, maxAllowlistRules: 1, bedrockModels: ['m1', 'm2'], plugins: ['amazon-bedrock'], ...extra });
const PLANS = [plan('metered', { monthlyTokenBudget: 1000 }), plan('strict', { monthlyTokenBudget: 1000, overBudgetAction: 'suspend' }), plan('open', {})];

const arn = (tenantId: string, m: string) => `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/${tenantId}-${m}`;
function record(tenantId: string, planId: string, status: 'ACTIVE' | 'SUSPENDED' = 'ACTIVE', version = 7): TenantRecord {
  return {
    tenantId,
    plan: planId,
    status,
    version,
    resources: { inferenceProfiles: { m1: arn(tenantId, 'm1'), m2: arn(tenantId, 'm2') } },
  } as unknown as TenantRecord;
}

/** Tokens per profile ARN since the month began; a query for other months or ARNs is a test failure. */
function usageOf(tokens: Record<string, number>, month: Date): TokenUsageSource & { queries: string[][] } {
  const queries: string[][] = [];
  return {
    queries,
    tokensUsed(profiles, since) {
      expect(since.toISOString()).toBe(month.toISOString());
      queries.push([...profiles]);
      return Promise.resolve(profiles.reduce((n, p) => n + (tokens[p] ?? 0), 0));
    },
  };
}

function deps(records: TenantRecord[], tokens: Record<string, number>) {
  const now = new Date('2026-12-01T17:00:00Z');
  const events: { type: string; detail: Record<string, unknown> }[] = [];
  const started = new Set<string>();
  const usage = usageOf(tokens, new Date('2026-12-01T00:00:00Z'));
  const claimed = new Set<string>();
  const notices = {
    claim: (tenantId: string, month: string) => {
      const key = `${tenantId}/${month}`;
      if (claimed.has(key)) return Promise.resolve(false);
      claimed.add(key);
      return Promise.resolve(true);
    },
    release: (tenantId: string, month: string) => Promise.resolve(void claimed.delete(`${tenantId}/${month}`)),
  };
  return {
    events,
    started,
    usage,
    claimed,
    deps: {
      notices,
      store: { listByStatus: (status: string) => Promise.resolve(records.filter((r) => r.status === status)) },
      events: { publish: (type: string, detail: Record<string, unknown>) => Promise.resolve(void events.push({ type, detail })) },
      suspend: {
        start: (name: string) => {
          const alreadyStarted = started.has(name);
          started.add(name);
          return Promise.resolve({ executionArn: `arn:exec:${name}`, alreadyStarted });
        },
        executionArn: (name: string) => `arn:exec:${name}`,
      },
      usage,
      plans: PLANS,
      cell: 'local',
      now: () => now,
    },
  };
}

describe('budgetVerdict and monthStart', () => {
  it('is over only above the budget, with the plan action (alarm by default)', () => {
    expect(budgetVerdict(1000, { monthlyTokenBudget: 1000 })).toEqual({ over: false, budget: 1000 });
    expect(budgetVerdict(1001, { monthlyTokenBudget: 1000 })).toEqual({ over: true, budget: 1000, action: 'alarm' });
    expect(budgetVerdict(1e9, { monthlyTokenBudget: 1000, overBudgetAction: 'suspend' })).toMatchObject({ action: 'suspend' });
    expect(budgetVerdict(1e9, {})).toEqual({ over: false, budget: undefined });
  });
  it('counts from the first instant of the UTC calendar month', () => {
    expect(monthStart(new Date('2026-03-31T23:59:59Z')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });
});

describe('checkTokenBudgets', () => {
  it("sums the tenant's own profiles, raises TenantBudgetExceeded over budget, and suspends only where the plan says so", async () => {
    const recs = [record('under', 'metered'), record('over-alarm', 'metered'), record('over-strict', 'strict'), record('no-budget', 'open')];
    const t = deps(recs, {
      [arn('under', 'm1')]: 600,
      [arn('under', 'm2')]: 400,
      [arn('over-alarm', 'm1')]: 900,
      [arn('over-alarm', 'm2')]: 101,
      [arn('over-strict', 'm2')]: 5000,
      [arn('no-budget', 'm1')]: 1e9,
    });
    const { tenants: results, failed } = await checkTokenBudgets(t.deps, 100);
    expect(failed).toEqual([]);
    expect(results.map((r) => [r.tenantId, r.tokens, r.over])).toEqual([
      ['under', 1000, false],
      ['over-alarm', 1001, true],
      ['over-strict', 5000, true],
    ]);
    expect(t.usage.queries).toEqual(['under', 'over-alarm', 'over-strict'].map((id) => [arn(id, 'm1'), arn(id, 'm2')]));
    expect(t.events.map((e) => [e.type, e.detail.tenantId, e.detail.action, e.detail.month])).toEqual([
      [BUDGET_EXCEEDED_DETAIL_TYPE, 'over-alarm', 'alarm', '2026-12'],
      [BUDGET_EXCEEDED_DETAIL_TYPE, 'over-strict', 'suspend', '2026-12'],
    ]);
    expect([...t.started]).toEqual(['suspend-over-strict-v7']);
    expect(t.events[1]!.detail.suspensionExecutionArn).toBe('arn:exec:suspend-over-strict-v7');
  });

  it('does not suspend a tenant already SUSPENDED, and a repeated check that month publishes and starts nothing new', async () => {
    const t = deps([record('asleep', 'strict', 'SUSPENDED'), record('awake', 'strict')], { [arn('asleep', 'm1')]: 2000, [arn('awake', 'm1')]: 2000 });
    await checkTokenBudgets(t.deps, 100);
    expect(t.events.map((e) => e.detail.tenantId)).toEqual(['awake', 'asleep']);
    const again = await checkTokenBudgets(t.deps, 100);
    expect([...t.started]).toEqual(['suspend-awake-v7']);
    expect(t.events).toHaveLength(2);
    expect(again.tenants.map((r) => [r.tenantId, r.over, r.notified])).toEqual([
      ['awake', true, false],
      ['asleep', true, false],
    ]);
  });

  it('releases the notice when the event cannot be published, so the next run notifies', async () => {
    const t = deps([record('flaky', 'metered')], { [arn('flaky', 'm1')]: 2000 });
    const publish = t.deps.events.publish;
    t.deps.events.publish = () => Promise.reject(new Error('EventBridge down'));
    await expect(checkTokenBudgets(t.deps, 100)).rejects.toThrow('EventBridge down');
    expect(t.claimed.size).toBe(0);
    t.deps.events.publish = publish;
    await checkTokenBudgets(t.deps, 100);
    expect(t.events.map((e) => e.detail.tenantId)).toEqual(['flaky']);
  });

  it('reports a tenant whose usage cannot be read and still checks the others', async () => {
    const t = deps([record('unreadable', 'metered'), record('readable', 'metered')], { [arn('readable', 'm1')]: 2000 });
    const tokensUsed = t.deps.usage.tokensUsed.bind(t.deps.usage);
    t.deps.usage.tokensUsed = (profiles, since, until) =>
      profiles[0]!.includes('unreadable') ? Promise.reject(new Error('Throttling: Rate exceeded')) : tokensUsed(profiles, since, until);
    const out = await checkTokenBudgets(t.deps, 100);
    expect(out.failed).toEqual([{ tenantId: 'unreadable', error: 'Error: Throttling: Rate exceeded' }]);
    expect(out.tenants.map((r) => r.tenantId)).toEqual(['readable']);
    expect(t.events.map((e) => e.detail.tenantId)).toEqual(['readable']);
  });
});
