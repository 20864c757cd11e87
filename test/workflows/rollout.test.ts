/**
 * The fleet rollout workflow (issue 13.1) in the local cloud: the real rollout-fleet ASL, its
 * Rollout steps, UpdateTenant as nested executions (startExecution.sync:2), DynamoDB Local and
 * the AWS fake with its fault injection (a revision that fails its health check).
 */
import type { UpdateServiceCommandInput } from '@aws-sdk/client-ecs';
import { RolloutStore } from '../../functions/adapters/rollout-store';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RolloutMeta, RolloutTenant } from '../../functions/domain/rollout';
import { GATEWAY_CONTAINER } from '../../functions/domain/naming';
import { metrics } from '../../functions/shared/powertools';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { causeMessage, runWorkflow, serviceState, signupFor } from './support';

/** Several tenants provisioned at once (one settle), ACTIVE. */
async function provisionAll(ids: readonly string[]): Promise<void> {
  await Promise.all(ids.map((t) => cloud.signup(signupFor(t))));
  await cloud.settle();
  for (const t of ids) expect((await cloud.tenant(t))?.status).toBe('ACTIVE');
}

const SLOW = 180_000;

let cloud: LocalCloud;
let rollouts: RolloutStore;
beforeAll(async () => {
  cloud = await startLocalCloud();
  rollouts = new RolloutStore(DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB })), cloud.tableName);
});
afterAll(async () => {
  await cloud.stop();
});

const PLAN_IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'0123456789abcdef'.repeat(4)}`;
const NEW_IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'feedface00c0ffee'.repeat(4)}`;
let seq = 0;
const rolloutId = () => `r20261202t0100${String(seq++).padStart(2, '0')}-${(0xa000 + seq).toString(16)}`;

async function rollout(id: string, request: Record<string, unknown>) {
  const { executionArn } = await cloud.sfn.startExecution('RolloutFleet', { rolloutId: id, request }, id);
  return cloud.sfn.waitForExecution(executionArn);
}
const outcomes = async (id: string) => Object.fromEntries((await rollouts.tenants(id)).map((t: RolloutTenant) => [t.tenantId, t.outcome]));
const meta = async (id: string): Promise<RolloutMeta> => rollouts.require(id);
/** The FleetRolloutFinished events of one rollout. */
const finishedEvents = (id: string) => cloud.bus.events.filter((e) => e['detail-type'] === 'FleetRolloutFinished' && (e.detail as { rolloutId?: string }).rolloutId === id).map((e) => e.detail as Record<string, unknown>);
/** The rollout metrics the Rollout function added (name → value), from its calls since `from`. */
const addMetric = jest.spyOn(metrics, 'addMetric');
const rolloutMetrics = (from: number) =>
  Object.fromEntries(addMetric.mock.calls.slice(from).filter(([name]) => name.startsWith('RolloutTenants')).map(([name, , value]) => [name, value]));
const revisionOf = async (tenantId: string) => (await cloud.tenant(tenantId))?.resources.taskDefinitionArn?.split('/').pop();

describe('rollout: canary then waves, every tenant healthy', () => {
  const ids = ['ro-ok-a', 'ro-ok-b', 'ro-ok-c', 'ro-ok-d', 'ro-ok-e'];
  const id = rolloutId();
  let done: Awaited<ReturnType<typeof rollout>>;
  let metricsFrom = 0;
  beforeAll(async () => {
    await provisionAll(ids);
    metricsFrom = addMetric.mock.calls.length;
    done = await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 2, tenantIds: ids });
  }, SLOW);

  it('tells its end once: a FleetRolloutFinished event with the counts and the duration, and the rollout metrics', async () => {
    const m = await meta(id);
    const events = finishedEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      rolloutId: id,
      cell: 'local',
      state: 'SUCCEEDED',
      image: NEW_IMAGE,
      startedAt: m.startedAt,
      tenants: 5,
      updated: 5,
      failed: 0,
      rolledBack: 0,
      skipped: 0,
      outcomes: { UPDATED: 5, FAILED: 0, SKIPPED: 0 },
      waves: { total: 3, passed: 3, failed: 0, rolledBack: 0, skipped: 0 },
    });
    const seconds = (Date.parse(String(events[0]!.finishedAt)) - Date.parse(m.startedAt)) / 1000;
    expect(events[0]!.durationSeconds).toBeCloseTo(seconds, 0);
    expect(rolloutMetrics(metricsFrom)).toEqual({ RolloutTenantsUpdated: 5, RolloutTenantsFailed: 0, RolloutTenantsRolledBack: 0, RolloutTenantsRollbackFailed: 0, RolloutTenantsSkipped: 0 });
  });

  it('succeeds with one canary and two waves, every tenant UPDATED on the new image', async () => {
    expect(done.status).toBe('SUCCEEDED');
    const m = await meta(id);
    expect(m.state).toBe('SUCCEEDED');
    expect(m.waves.map((w) => [w.size, w.canary, w.state])).toEqual([[1, true, 'PASSED'], [2, false, 'PASSED'], [2, false, 'PASSED']]);
    expect(await outcomes(id)).toEqual(Object.fromEntries(ids.map((t) => [t, 'UPDATED'])));
    for (const t of ids) {
      const r = await cloud.tenant(t);
      expect(r).toMatchObject({ status: 'ACTIVE', imageOverride: NEW_IMAGE });
      expect(serviceState(cloud, t)?.revision).toBe(await revisionOf(t));
    }
  });
});

describe('rollout: the quota guard off (the default)', () => {
  it('makes no quota check: no AWS call from CheckQuotas, no quota on the record', async () => {
    const ids = ['ro-ok-a'];
    const id = rolloutId();
    const done = await rollout(id, { image: NEW_IMAGE.replace('feed', 'f00d'), canary: 1, waveSize: 1, tenantIds: ids });
    expect(done.status).toBe('SUCCEEDED');
    expect((await meta(id)).quota).toBeUndefined();
    expect(cloud.fake.calls.filter((c) => c.invocation?.stateName === 'CheckQuotas')).toEqual([]);
    expect(cloud.fake.calls.some((c) => c.service === 'ServiceQuotas')).toBe(false);
  });
});

const updateRunsFor = (id: string, tenantId: string) => cloud.sfn.list().filter((e) => e.stateMachineName === 'UpdateTenant' && e.name.startsWith(id) && e.name.endsWith(`-${tenantId}`));

describe('rollout: the canary fails its health check', () => {
  const ids = ['ro-can-a', 'ro-can-b', 'ro-can-c'];
  const id = rolloutId();
  let done: Awaited<ReturnType<typeof rollout>>;
  beforeAll(async () => {
    await provisionAll(ids);
    cloud.fake.ecs.failHealthFor('octw-local--ro-can-a:2');
    done = await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 2, tenantIds: ids });
  }, SLOW);

  it('stops the rollout: FAILED, with the canary as the reason', async () => {
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('RolloutFailed');
    const m = await meta(id);
    expect(m.state).toBe('FAILED');
    expect(m.reason).toMatch(/^canary: 1 of 1 tenants failed, 0 tolerated/);
    expect(m.waves.map((w) => w.state)).toEqual(['FAILED', 'SKIPPED']);
  });

  it('tells its end: FleetRolloutFinished FAILED with 1 failed and 2 skipped', () => {
    expect(finishedEvents(id)).toEqual([expect.objectContaining({ state: 'FAILED', reason: expect.stringMatching(/^canary: 1 of 1/), tenants: 3, updated: 0, failed: 1, skipped: 2, rolledBack: 0 })]);
  });

  it('starts no wave: the other tenants are SKIPPED, no update ran for them, they keep their image', async () => {
    expect(await outcomes(id)).toEqual({ 'ro-can-a': 'FAILED', 'ro-can-b': 'SKIPPED', 'ro-can-c': 'SKIPPED' });
    for (const t of ['ro-can-b', 'ro-can-c']) {
      expect(updateRunsFor(id, t)).toEqual([]);
      const r = await cloud.tenant(t);
      expect(r?.imageOverride).toBeUndefined();
      expect(await revisionOf(t)).toBe(`octw-local--${t}:1`);
    }
  });

  it('leaves the canary ACTIVE on its previous revision (its update rolled itself back), the failure recorded', async () => {
    const r = await cloud.tenant('ro-can-a');
    expect(r).toMatchObject({ status: 'ACTIVE' });
    expect(r?.imageOverride).toBeUndefined();
    expect(r?.lastError?.name).toBe('GatewayUnhealthyError');
    expect(serviceState(cloud, 'ro-can-a')?.revision).toBe('octw-local--ro-can-a:1');
    const item = (await rollouts.tenants(id)).find((t) => t.tenantId === 'ro-can-a');
    expect(item?.detail).toMatch(/^UpdateFailed/);
  });
});

describe('rollout: a wave fails beyond its tolerance', () => {
  // Sorted: a is the canary, b-e wave 1 (4 tenants, 25 % tolerates 1), f wave 2.
  const ids = ['ro-wav-a', 'ro-wav-b', 'ro-wav-c', 'ro-wav-d', 'ro-wav-e', 'ro-wav-f'];
  const id = rolloutId();
  let done: Awaited<ReturnType<typeof rollout>>;
  beforeAll(async () => {
    await provisionAll(ids);
    cloud.fake.ecs.failHealthFor('octw-local--ro-wav-c:2');
    cloud.fake.ecs.failHealthFor('octw-local--ro-wav-d:2');
    done = await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 4, maxFailurePercent: 25, tenantIds: ids });
  }, SLOW);

  it('stops the rollout with the wave as the reason; the next wave never starts', async () => {
    expect(done.status).toBe('FAILED');
    const m = await meta(id);
    expect(m.state).toBe('FAILED');
    expect(m.reason).toMatch(/^wave 1: 2 of 4 tenants failed, 1 tolerated \(25 %\)/);
    expect(m.waves.map((w) => w.state)).toEqual(['PASSED', 'ROLLED_BACK', 'SKIPPED']);
    expect(updateRunsFor(id, 'ro-wav-f')).toEqual([]);
  });

  it('tells its end: FleetRolloutFinished FAILED with the rolled-back wave counted', () => {
    expect(finishedEvents(id)).toEqual([
      expect.objectContaining({ state: 'FAILED', tenants: 6, updated: 1, failed: 2, rolledBack: 2, skipped: 1, waves: { total: 3, passed: 1, failed: 0, rolledBack: 1, skipped: 1 } }),
    ]);
  });

  it("rolls the wave's healthy tenants back to their previous image, and keeps the canary's", async () => {
    expect(await outcomes(id)).toEqual({
      'ro-wav-a': 'UPDATED',
      'ro-wav-b': 'ROLLED_BACK',
      'ro-wav-c': 'FAILED',
      'ro-wav-d': 'FAILED',
      'ro-wav-e': 'ROLLED_BACK',
      'ro-wav-f': 'SKIPPED',
    });
    for (const t of ['ro-wav-b', 'ro-wav-e']) {
      const r = await cloud.tenant(t);
      expect(r).toMatchObject({ status: 'ACTIVE', imageOverride: PLAN_IMAGE });
      const [family, revision] = (r?.resources.taskDefinitionArn?.split('/').pop() ?? '').split(':');
      expect(cloud.fake.taskDefinition(family!, Number(revision))?.input.containerDefinitions?.find((c) => c.name === GATEWAY_CONTAINER)?.image).toBe(PLAN_IMAGE);
      expect(serviceState(cloud, t)?.revision).toBe(await revisionOf(t));
      expect(cloud.sfn.list().filter((e) => e.name === `${id}-rb-${t}`).map((e) => e.status)).toEqual(['SUCCEEDED']);
    }
    expect((await cloud.tenant('ro-wav-a'))?.imageOverride).toBe(NEW_IMAGE);
    expect((await cloud.tenant('ro-wav-f'))?.imageOverride).toBeUndefined();
  });
});

describe('rollout: a wave already over its tolerance starts no further tenant', () => {
  const ids = ['ro-one-a', 'ro-one-b', 'ro-one-c', 'ro-one-d'];
  const id = rolloutId();
  beforeAll(async () => {
    await provisionAll(ids);
    cloud.fake.ecs.failHealthFor('octw-local--ro-one-b:2');
    await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 3, maxConcurrency: 1, maxFailurePercent: 0, tenantIds: ids });
  }, SLOW);

  it('skips the rest of the wave once its first tenant failed (one at a time, 0 % tolerated)', async () => {
    expect(await outcomes(id)).toEqual({ 'ro-one-a': 'UPDATED', 'ro-one-b': 'FAILED', 'ro-one-c': 'SKIPPED', 'ro-one-d': 'SKIPPED' });
    const skipped = (await rollouts.tenants(id)).filter((t) => t.outcome === 'SKIPPED').map((t) => t.detail);
    expect(skipped).toEqual(['wave 1 already failed beyond its tolerance; not started', 'wave 1 already failed beyond its tolerance; not started']);
    expect(updateRunsFor(id, 'ro-one-c')).toEqual([]);
    expect((await meta(id)).state).toBe('FAILED');
  });
});

/** Calls `act` once, when the rollout's execution first enters/leaves `state`. */
function onState(id: string, kind: 'StateEntered' | 'StateExited', state: string, act: () => Promise<unknown>): { done: Promise<void> } {
  let fired = false;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const off = cloud.sfn.onProgress((e) => {
    if (fired || e.executionName !== id || e.kind !== kind || e.state !== state) return;
    fired = true;
    off();
    void act().then(resolve, resolve);
  });
  return { done };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('rollout: pause, resume and abort (read between waves)', () => {
  it('pauses after the canary: PAUSED, the next wave does not start until resumed, then runs to the end', async () => {
    const ids = ['ro-pau-a', 'ro-pau-b', 'ro-pau-c'];
    await provisionAll(ids);
    const id = rolloutId();
    // Requested while the canary runs: the canary finishes, the wave after it waits.
    onState(id, 'StateEntered', 'RunWave', () => rollouts.requestControl(id, 'pause'));
    const { executionArn } = await cloud.sfn.startExecution('RolloutFleet', { rolloutId: id, request: { image: NEW_IMAGE, canary: 1, waveSize: 2, tenantIds: ids } }, id);
    await until(async () => (await rollouts.get(id))?.state === 'PAUSED', 'the rollout to be PAUSED');
    await new Promise((r) => setTimeout(r, 300));
    expect(await outcomes(id)).toEqual({ 'ro-pau-a': 'UPDATED', 'ro-pau-b': 'PENDING', 'ro-pau-c': 'PENDING' });
    expect(cloud.sfn.describe(executionArn).status).toBe('RUNNING');
    expect(updateRunsFor(id, 'ro-pau-b')).toEqual([]);

    expect((await rollouts.requestControl(id, 'run')).control).toBe('run');
    const done = await cloud.sfn.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect((await meta(id)).state).toBe('SUCCEEDED');
    expect(await outcomes(id)).toEqual({ 'ro-pau-a': 'UPDATED', 'ro-pau-b': 'UPDATED', 'ro-pau-c': 'UPDATED' });
  }, SLOW);

  it('aborts after the canary: ABORTED, the canary keeps the new image, the waves never start', async () => {
    const ids = ['ro-abo-a', 'ro-abo-b', 'ro-abo-c'];
    await provisionAll(ids);
    const id = rolloutId();
    onState(id, 'StateEntered', 'RunWave', () => rollouts.requestControl(id, 'abort'));
    const done = await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 1, tenantIds: ids });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('RolloutAborted');
    const m = await meta(id);
    expect(m).toMatchObject({ state: 'ABORTED', reason: 'aborted by the operator' });
    expect(m.waves.map((w) => w.state)).toEqual(['PASSED', 'SKIPPED', 'SKIPPED']);
    expect(await outcomes(id)).toEqual({ 'ro-abo-a': 'UPDATED', 'ro-abo-b': 'SKIPPED', 'ro-abo-c': 'SKIPPED' });
    expect((await cloud.tenant('ro-abo-a'))?.imageOverride).toBe(NEW_IMAGE);
    expect((await cloud.tenant('ro-abo-b'))?.imageOverride).toBeUndefined();
    // Finished: no further control is taken, and an abort is never undone.
    await expect(rollouts.requestControl(id, 'run')).rejects.toThrow(/is ABORTED; only a RUNNING or PAUSED rollout/);
  }, SLOW);
});

describe('rollout: SUSPENDED tenants', () => {
  const ids = ['ro-sus-a', 'ro-sus-b'];
  const id = rolloutId();
  let from: number;
  beforeAll(async () => {
    await provisionAll(ids);
    expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId: 'ro-sus-b' })).status).toBe('SUCCEEDED');
    from = cloud.fake.calls.length;
    expect((await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 5, tenantIds: ids })).status).toBe('SUCCEEDED');
  }, SLOW);

  it('restages a SUSPENDED tenant: new revision recorded and the service pointed at it, still SUSPENDED, nothing started', async () => {
    expect(await outcomes(id)).toEqual({ 'ro-sus-a': 'UPDATED', 'ro-sus-b': 'RESTAGED' });
    const r = await cloud.tenant('ro-sus-b');
    expect(r).toMatchObject({ status: 'SUSPENDED', imageOverride: NEW_IMAGE });
    expect(r?.resources.taskDefinitionArn).toMatch(/octw-local--ro-sus-b:2$/);
    expect(serviceState(cloud, 'ro-sus-b')).toMatchObject({ desiredCount: 0, revision: 'octw-local--ro-sus-b:2' });
    const calls = cloud.fake.calls.slice(from).filter((c) => c.invocation?.stateName === 'RestageTenant');
    expect([...new Set(calls.map((c) => c.operation))].sort()).toEqual(['DescribeServices', 'DescribeTaskDefinition', 'ListTaskDefinitions', 'RegisterTaskDefinition', 'UpdateService'].filter((op) => calls.some((c) => c.operation === op)).sort());
    const updates = calls.filter((c) => c.operation === 'UpdateService').map((c) => c.input as UpdateServiceCommandInput);
    expect(updates.length).toBeGreaterThan(0);
    for (const u of updates) expect(u.desiredCount).toBeUndefined();
    expect(cloud.fake.calls.slice(from).some((c) => c.operation === 'RunTask' || (c.operation === 'UpdateService' && (c.input as UpdateServiceCommandInput).desiredCount === 1 && (c.input as UpdateServiceCommandInput).service?.includes('ro-sus-b')))).toBe(false);
    expect((await cloud.store.listAudit('ro-sus-b', 1))[0]).toMatchObject({ transition: 'restaged', from: 'SUSPENDED', to: 'SUSPENDED', changes: [`image: ${NEW_IMAGE}`] });
  });

  it('starts the new revision at the next resume', async () => {
    expect((await runWorkflow(cloud, 'ResumeTenant', { tenantId: 'ro-sus-b' })).status).toBe('SUCCEEDED');
    const r = await cloud.tenant('ro-sus-b');
    expect(r?.status).toBe('ACTIVE');
    expect(serviceState(cloud, 'ro-sus-b')).toMatchObject({ desiredCount: 1, revision: 'octw-local--ro-sus-b:2' });
  });

  it('makes only calls that succeeded, each by a rollout or update step', () => {
    const calls = cloud.fake.calls.slice(from);
    expect(calls.filter((c) => c.outcome !== 'ok')).toEqual([]);
    expect(calls.every((c) => c.invocation !== undefined)).toBe(true);
  });
});

describe('rollout: refused requests change nothing', () => {
  it.each([
    [{ image: 'ghcr.io/openclaw/openclaw:latest', canary: 1, waveSize: 1 }, /image "ghcr.io\/openclaw\/openclaw:latest" is not pinned by digest/],
    [{ image: `docker.io/evil/openclaw@sha256:${'ab'.repeat(32)}`, canary: 1, waveSize: 1 }, /image repository "docker.io\/evil\/openclaw" is not one this cell's plans run \(ghcr.io\/openclaw\/openclaw\)/],
    [{ plan: 'gold', canary: 1, waveSize: 1 }, /plan "gold" is not in this cell's catalogue/],
    [{ canary: 1, waveSize: 1 }, /a rollout needs --image, --plan or both/],
  ])('refuses %j with ValidationError and writes no rollout record', async (request, message) => {
    const id = rolloutId();
    const done = await rollout(id, request);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ValidationError');
    expect(causeMessage(done)).toMatch(message);
    expect(await rollouts.get(id)).toBeUndefined();
  });
});
