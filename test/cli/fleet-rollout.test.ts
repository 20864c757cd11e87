/** `octw fleet rollout|rollouts` against the local cloud, and its refusals before any AWS call. */
import { LOCAL_PLANS } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { signupFor } from '../local-cloud/samples';
import { jsonError, localCloudCliEnv, noAws, runCli } from './support';

const NEW_IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'c0ffee00feedface'.repeat(4)}`;

describe('octw fleet rollout: refused before any AWS call', () => {
  it.each([
    [['fleet', 'rollout', '--image', 'ghcr.io/openclaw/openclaw:latest', '--canary', '1', '--wave', '5'], /--image "ghcr.io\/openclaw\/openclaw:latest" must be pinned by digest/],
    [['fleet', 'rollout', '--image', NEW_IMAGE, '--wave', '5'], /a rollout needs --canary N and --wave N/],
    [['fleet', 'rollout', '--canary', '1', '--wave', '5'], /a rollout needs --image REPO@sha256:<digest>, --plan P, or both/],
    [['fleet', 'rollout', '--image', NEW_IMAGE, '--canary', '0', '--wave', '5'], /--canary "0" must be a whole number from 1 to 50/],
    [['fleet', 'rollout', '--image', NEW_IMAGE, '--canary', '1', '--wave', '5', '--max-failure-percent', '150'], /--max-failure-percent "150" must be a number from 0 to 100/],
    [['fleet', 'rollout', 'pause', 'not-an-id'], /"not-an-id" is not a rollout id/],
    [['fleet', 'rollout', 'explode', 'r20261202t010000-abcd'], /unknown command "fleet rollout explode"/],
  ])('%j exits 2 with a clear message', async (argv, message) => {
    const result = await runCli([...argv, '--json'], { OCTW_TABLE: 't', OCTW_STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:us-east-1:123456789012:stateMachine:{key}', AWS_REGION: 'us-east-1' }, { clients: noAws });
    expect(result.code).toBe(2);
    expect(jsonError(result).message).toMatch(message);
  });

  it('refuses an image from a repository the cell plans do not run when OCTW_PLANS_JSON is given', async () => {
    const env = { OCTW_TABLE: 't', AWS_REGION: 'us-east-1', OCTW_PLANS_JSON: JSON.stringify(LOCAL_PLANS) };
    const result = await runCli(['fleet', 'rollout', '--image', `docker.io/x/y@sha256:${'1'.repeat(64)}`, '--canary', '1', '--wave', '2', '--json'], env, { clients: noAws });
    expect(result.code).toBe(2);
    expect(jsonError(result).message).toMatch(/image repository "docker.io\/x\/y" is not one this cell's plans run \(ghcr.io\/openclaw\/openclaw\)/);
  });
});

describe('octw fleet rollout against the local cloud', () => {
  let cloud: LocalCloud;
  let env: Record<string, string>;
  beforeAll(async () => {
    cloud = await startLocalCloud();
    env = { ...localCloudCliEnv(cloud), OCTW_CELL: cloud.cell.cellId };
    for (const t of ['cli-ro-a', 'cli-ro-b', 'cli-ro-c']) await cloud.signup(signupFor(t));
    await cloud.settle();
  }, 180_000);
  afterAll(async () => {
    await cloud.stop();
  });

  let rolloutId = '';
  it('rolls the image out with --wait: progress on stderr, every tenant UPDATED, exit 0', async () => {
    const result = await runCli(['fleet', 'rollout', '--image', NEW_IMAGE, '--canary', '1', '--wave', '2', '--tenants', 'cli-ro-a,cli-ro-b,cli-ro-c', '--wait', '--poll-interval', '10', '--json'], env);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { rollout: { rolloutId: string; state: string; waves: { state: string }[] }; tenants: { tenantId: string; outcome: string }[] };
    rolloutId = doc.rollout.rolloutId;
    expect(doc.rollout.state).toBe('SUCCEEDED');
    expect(doc.rollout.waves.map((w) => w.state)).toEqual(['PASSED', 'PASSED']);
    expect(doc.tenants.map((t) => `${t.tenantId}:${t.outcome}`)).toEqual(['cli-ro-a:UPDATED', 'cli-ro-b:UPDATED', 'cli-ro-c:UPDATED']);
    expect((await cloud.tenant('cli-ro-b'))?.imageOverride).toBe(NEW_IMAGE);
  }, 120_000);

  it('lists it (fleet rollouts) and shows it (fleet rollout show)', async () => {
    const list = await runCli(['fleet', 'rollouts'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${rolloutId}\\s+SUCCEEDED`, 'm'));
    const show = await runCli(['fleet', 'rollout', 'show', rolloutId], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^state:\s+SUCCEEDED$/m);
    expect(show.stdout).toMatch(/^cli-ro-c\s+1\s+ACTIVE\s+UPDATED/m);
  });

  it('refuses pause, resume and abort of a finished rollout (exit 3), and an unknown one (exit 2)', async () => {
    const paused = await runCli(['fleet', 'rollout', 'pause', rolloutId, '--json'], env);
    expect(paused.code).toBe(3);
    expect(jsonError(paused).message).toMatch(/is SUCCEEDED; only a RUNNING or PAUSED rollout/);
    const unknown = await runCli(['fleet', 'rollout', 'abort', 'r20990101t000000-ffff', '--json'], env);
    expect(unknown.code).toBe(2);
    expect(jsonError(unknown).message).toMatch(/no rollout "r20990101t000000-ffff"/);
  });

  it('exits 1 with the reason when the rollout stops: the canary fails its health check', async () => {
    cloud.fake.ecs.failHealthFor('octw-local--cli-ro-a:3');
    const image = `ghcr.io/openclaw/openclaw@sha256:${'abcdef0123456789'.repeat(4)}`;
    const result = await runCli(['fleet', 'rollout', '--image', image, '--canary', '1', '--wave', '2', '--tenants', 'cli-ro-a,cli-ro-b,cli-ro-c', '--wait', '--poll-interval', '10'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rollout r\d{8}t\d{6}-[0-9a-f]{4} FAILED: canary: 1 of 1 tenants failed, 0 tolerated/);
    expect(result.stdout).toMatch(/^cli-ro-b\s+1\s+ACTIVE\s+SKIPPED\s+not reached: rollout FAILED/m);
  }, 120_000);
});
