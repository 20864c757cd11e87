/**
 * Test support (not a test). Issue 14: a transient fault must never fail a tenant. Faults at a RATE
 * on every AWS and DynamoDB call attempt (not one scheduled fault per run), many tenants, several
 * seeds, every workflow: every tenant ends where its workflow should have taken it, with exactly
 * its resources. `npm test` runs one scenario (test/workflows/rate-faults.test.ts), the slow suite
 * the rest (test-slow/workflows/rate-faults.test.ts).
 */
import { DYNAMO_FAULT_KINDS, type DynamoFaultKind } from '../local-cloud/dynamodb-faults';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { ACTIVE_TENANT_RESOURCE_TYPES, leftoversAfterDeprovision, resourceTypes, runWorkflow, signupFor } from './support';

export interface RateScenario {
  readonly name: string;
  readonly awsRate: number;
  readonly dynamoRate: number;
  readonly kinds?: readonly DynamoFaultKind[];
  readonly seed: number;
}

export const RATE_SCENARIOS: readonly RateScenario[] = [
  { name: 'DynamoDB throttling 15 %', awsRate: 0, dynamoRate: 0.15, kinds: ['throttle'], seed: 1 },
  { name: 'DynamoDB server errors 15 %', awsRate: 0, dynamoRate: 0.15, kinds: ['internal'], seed: 2 },
  { name: 'DynamoDB transaction conflicts 15 %', awsRate: 0, dynamoRate: 0.15, kinds: ['conflict'], seed: 3 },
  { name: 'DynamoDB lost responses 15 %', awsRate: 0, dynamoRate: 0.15, kinds: ['lostResponse'], seed: 4 },
  { name: 'every AWS and DynamoDB call 5 %', awsRate: 0.05, dynamoRate: 0.05, seed: 5 },
  { name: 'every AWS and DynamoDB call 15 %, seed 6', awsRate: 0.15, dynamoRate: 0.15, seed: 6 },
  { name: 'every AWS and DynamoDB call 15 %, seed 7', awsRate: 0.15, dynamoRate: 0.15, seed: 7 },
];

const TENANTS = 6;

/** Describes the scenarios on one local cloud (handlers read their environment once per file). */
export function describeRateFaults(scenarios: readonly RateScenario[]): void {
  jest.setTimeout(240_000);
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startLocalCloud({ dynamoFaults: { rate: 0 } });
  });
  afterAll(async () => {
    await cloud.stop();
  });
  describe.each(scenarios)('$name', (scenario) => {
  beforeAll(() => {
    cloud.fake.faults.setRandom(scenario.awsRate, scenario.seed);
    cloud.dynamoFaults!.setRate(scenario.dynamoRate, { seed: scenario.seed, ...(scenario.kinds ? { kinds: scenario.kinds } : { kinds: DYNAMO_FAULT_KINDS }) });
  });
  afterAll(() => {
    cloud.fake.faults.setRandom(0, 0);
    cloud.dynamoFaults!.setRate(0);
  });

  it('provisions every tenant, and suspend, resume, update and deprovision each end as they should', async () => {
    const ids = Array.from({ length: TENANTS }, (_, i) => `rate-${scenario.seed}-t${i}`);
    for (const id of ids) await cloud.signup(signupFor(id));
    await cloud.settle();
    const report = async (id: string) => {
      const r = await cloud.tenant(id);
      return `${id}: ${r?.status} ${r?.lastError ? `${r.lastError.name}: ${r.lastError.message}` : ''}`;
    };
    expect(await Promise.all(ids.map(async (id) => ((await cloud.tenant(id))?.status === 'ACTIVE' ? 'ACTIVE' : await report(id))))).toEqual(
      ids.map(() => 'ACTIVE'),
    );
    for (const id of ids) expect(resourceTypes(cloud, id)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);

    const [a, b, c, d] = ids as [string, string, string, string];
    const outcome = async (wf: Parameters<typeof runWorkflow>[1], input: unknown) => {
      const r = await runWorkflow(cloud, wf, input);
      return r.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${wf} ${r.status} ${r.error ?? ''} ${r.cause ?? ''}`;
    };
    expect(
      await Promise.all([
        outcome('SuspendTenant', { tenantId: a }),
        outcome('UpdateTenant', { tenantId: b, plan: 'pro' }),
        outcome('DeprovisionTenant', { tenantId: c }),
        outcome('SuspendTenant', { tenantId: d }).then(async (s) => (s === 'SUCCEEDED' ? outcome('ResumeTenant', { tenantId: d }) : s)),
      ]),
    ).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect((await cloud.tenant(a))?.status).toBe('SUSPENDED');
    expect(await cloud.tenant(b)).toMatchObject({ status: 'ACTIVE', plan: 'pro' });
    expect((await cloud.tenant(c))?.status).toBe('DEPROVISIONED');
    expect(leftoversAfterDeprovision(cloud, c)).toEqual([]);
    expect((await cloud.tenant(d))?.status).toBe('ACTIVE');
    // Faults really fired, on the wire, in both.
    if (scenario.awsRate > 0) expect(cloud.fake.faults.fired.length).toBeGreaterThan(0);
    if (scenario.dynamoRate > 0) expect(cloud.dynamoFaults?.fired.length).toBeGreaterThan(0);
  });
});
}
