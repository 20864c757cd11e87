import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision, signupFor } from './support';

/**
 * The fake at its default settings (IAM propagation 10 s, Fargate start 45 s, AWS's throttling
 * buckets), on a clock compressed 100× rather than the usual 1000×: at 1000× DynamoDB Local, which
 * runs in real time, would make a 10 s propagation delay shorter than one DynamoDB round trip.
 * IAM propagation is taken at 30 s, the upper end AWS reports, instead of the default 10 s: the
 * steps between CreateRole and the first ECS call that uses the role (the parallel branches, the
 * ownership reads) take more than 100 ms of real time on a loaded machine, and the test must see
 * the refusal whatever the machine's load.
 */
let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud({ fake: { timeScale: 0.01, latencies: { iamPropagationMs: 30_000 } }, waitScale: 0.01, retryScale: 0.01 });
});
afterAll(async () => {
  await cloud.stop();
});

const refusedRoles = () => cloud.fake.calls.filter((c) => c.outcome === 'error' && /unable to assume the role/.test(c.error?.message ?? '')).length;

describe('provisioning under the default AWS model', () => {
  it('waits out IAM propagation (ECS refuses the new role, the step retries) and ends ACTIVE', async () => {
    const record = await provision(cloud, 'iam-propagation');
    expect(record?.status).toBe('ACTIVE');
    expect(refusedRoles()).toBeGreaterThan(0);
  });

  it('provisions several tenants at once under the default throttling buckets', async () => {
    const ids = ['model-a', 'model-b', 'model-c', 'model-d', 'model-e', 'model-f'];
    await Promise.all(ids.map((id) => cloud.signup(signupFor(id))));
    await cloud.settle();
    expect(await Promise.all(ids.map(async (id) => (await cloud.tenant(id))?.status))).toEqual(ids.map(() => 'ACTIVE'));
  });
});
