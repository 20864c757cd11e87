import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision } from './support';

/**
 * Issue 14.3: a new tenant role is not offered to ECS before IAM_PROPAGATION_GRACE_MS. Every
 * RegisterTaskDefinition that ECS refuses for a role it cannot assume yet spends a token of the
 * account's task-definition budget (20 burst, 1 per second) that all provisionings share; in a burst
 * those refusals took tokens from registrations that would have succeeded.
 *
 * The fake refuses a role for 30 s after CreateRole (300 ms of real time at this scale, as in
 * provision-aws-model.test.ts, where the default grace of 8 ms leaves the refusals and the step's
 * retries in place); here the Gateway function waits 450 ms (45 s on this clock) first.
 */
const GRACE_MS = 450;
let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud({
    fake: { timeScale: 0.01, latencies: { iamPropagationMs: 30_000 } },
    waitScale: 0.01,
    retryScale: 0.01,
    env: { IAM_PROPAGATION_GRACE_MS: String(GRACE_MS) },
  });
});
afterAll(async () => {
  await cloud.stop();
});

describe('the first task definition waits for the new role to propagate', () => {
  it('registers once, no sooner than the grace after CreateRole, with no refusal spent', async () => {
    const record = await provision(cloud, 'iam-grace');
    expect(record?.status).toBe('ACTIVE');
    const calls = cloud.fake.calls;
    const createRole = calls.find((c) => c.operation === 'CreateRole' && c.outcome === 'ok');
    const registers = calls.filter((c) => c.operation === 'RegisterTaskDefinition');
    expect(createRole).toBeDefined();
    expect(registers.map((c) => c.outcome)).toEqual(['ok']);
    // CreateDate is taken when IAM handles CreateRole, before the trace entry is written: allow for the clock's ms granularity.
    expect(Date.parse(registers[0]!.ts) - Date.parse(createRole!.ts)).toBeGreaterThanOrEqual(GRACE_MS - 5);
    expect(record?.resources.roleCreatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});
