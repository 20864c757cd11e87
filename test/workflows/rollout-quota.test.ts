/**
 * Issue 13.5, the quota guard before a rollout, in the local cloud: the real rollout-fleet ASL and
 * Rollout steps, the fake's Service Quotas and the usage it counts from its own running tasks, the
 * tenant services' real deployment configuration (read from ECS). A rollout that does not fit is
 * refused before any tenant is touched; one that fits proceeds.
 */
import { UpdateServiceCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RolloutStore } from '../../functions/adapters/rollout-store';
import type { RolloutMeta } from '../../functions/domain/rollout';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { signupFor } from '../local-cloud/samples';
import { localCloudCliEnv, runCli } from '../cli/support';

const SLOW = 180_000;
const NEW_IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'5eed5eed0000aaaa'.repeat(4)}`;
const ids = ['rq-a', 'rq-b', 'rq-c'];

let cloud: LocalCloud;
let rollouts: RolloutStore;
const ecs = new ECSClient({});
beforeAll(async () => {
  cloud = await startLocalCloud({ env: { QUOTA_GUARD_JSON: JSON.stringify({ enabled: true, accessPointsPerFileSystem: 10_000 }) } });
  rollouts = new RolloutStore(DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB })), cloud.tableName);
  await Promise.all(ids.map((t) => cloud.signup(signupFor(t))));
  await cloud.settle();
  for (const t of ids) expect((await cloud.tenant(t))?.status).toBe('ACTIVE');
}, SLOW);
afterAll(async () => {
  ecs.destroy();
  await cloud.stop();
});
afterEach(() => cloud.fake.serviceQuotas.clearApplied());

let seq = 0;
const rolloutId = () => `r20261202t0300${String(seq++).padStart(2, '0')}-${(0xb000 + seq).toString(16)}`;
async function rollout(id: string, request: Record<string, unknown>) {
  const { executionArn } = await cloud.sfn.startExecution('RolloutFleet', { rolloutId: id, request }, id);
  return cloud.sfn.waitForExecution(executionArn);
}
const meta = (id: string): Promise<RolloutMeta> => rollouts.require(id);
const updateRuns = (id: string) => cloud.sfn.list().filter((e) => e.stateMachineName === 'UpdateTenant' && e.name.startsWith(id));
const registrations = (from: number) => cloud.fake.calls.slice(from).filter((c) => c.operation === 'RegisterTaskDefinition');
const refusedEvents = (id: string) => cloud.bus.events.filter((e) => e['detail-type'] === 'FleetRolloutQuotaRefused' && (e.detail as { rolloutId?: string }).rolloutId === id);
/** The account's on-demand vCPU limit set to what runs now plus `room`. */
const vcpuRoom = (room: number) => cloud.fake.serviceQuotas.setApplied('fargate', 'L-3032A538', cloud.fake.ecs.vcpuInUse().onDemand + room);
const setMaximumPercent = async (percent: number) => {
  for (const t of ids) {
    await ecs.send(new UpdateServiceCommand({ cluster: cloud.cell.clusterName, service: `octw-local--${t}`, deploymentConfiguration: { maximumPercent: percent, minimumHealthyPercent: 0 } }));
  }
};

describe('quota check before a rollout', () => {
  it("reads the services' deployment configuration: the platform's (maximumPercent 100) adds no task, so an image rollout fits with no vCPU to spare", async () => {
    vcpuRoom(0);
    const id = rolloutId();
    const done = await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 2, tenantIds: ids });
    expect(done.status).toBe('SUCCEEDED');
    const m = await meta(id);
    expect(m.quota).toMatchObject({ ok: true, needs: {}, basis: { concurrency: 2, surgeTasksPerTenant: [0], surgeTasks: 0, planGrowthTenants: 0 } });
    const reads = cloud.fake.calls.filter((c) => c.invocation?.stateName === 'CheckQuotas').map((c) => `${c.service}:${c.operation}`);
    expect(reads).toContain('ECS:DescribeServices');
    expect(updateRuns(id)).toHaveLength(3);
  }, SLOW);

  it('refuses a plan change whose vCPU growth has no room: REFUSED with the quota and figures, event, no update, no task definition', async () => {
    vcpuRoom(2.5); // 3 tenants standard (1 vCPU) → pro (2 vCPU) need +3.
    const from = cloud.fake.calls.length;
    const id = rolloutId();
    const done = await rollout(id, { plan: 'pro', canary: 1, waveSize: 2, tenantIds: ids });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('QuotaExceededError');
    const m = await meta(id);
    expect(m.state).toBe('REFUSED');
    expect(m.reason).toMatch(/Fargate On-Demand vCPU resource count: \d+ used \+ 3 needed > limit [\d.]+ \(fargate\/L-3032A538, applied\)/);
    expect(m.reason).toMatch(/3 tenant\(s\) moved to plan "pro" \(\+3 vCPU\)/);
    expect(m.reason).toMatch(/No tenant was touched/);
    expect(m.quota).toMatchObject({ ok: false, needs: { fargateOnDemandVcpu: 3, applicationInferenceProfiles: 3 }, refusals: [{ quota: 'fargateOnDemandVcpu', code: 'fargate/L-3032A538', need: 3 }] });
    expect(m.waves.map((w) => w.state)).toEqual(['SKIPPED', 'SKIPPED']);
    expect((await rollouts.tenants(id)).map((t) => t.outcome)).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED']);
    expect(updateRuns(id)).toEqual([]);
    expect(registrations(from)).toEqual([]);
    const [event] = refusedEvents(id);
    expect(event?.detail).toMatchObject({ rolloutId: id, cell: 'local', plan: 'pro', quotas: [{ quota: 'fargateOnDemandVcpu', need: 3 }], needs: { fargateOnDemandVcpu: 3 } });
    for (const t of ids) expect((await cloud.tenant(t))?.plan).toBe('standard');
    expect(cloud.bus.events.filter((e) => e['detail-type'] === 'FleetRolloutFinished' && (e.detail as { rolloutId?: string }).rolloutId === id).map((e) => e.detail)).toEqual([
      expect.objectContaining({ state: 'REFUSED', tenants: 3, updated: 0, skipped: 3 }),
    ]);
  }, SLOW);

  it('counts the deployment surge of the tenants updated at once when a service may run a second task (maximumPercent 200)', async () => {
    await setMaximumPercent(200);
    try {
      vcpuRoom(1);
      const from = cloud.fake.calls.length;
      const refused = rolloutId();
      // 2 at once × 1 extra task × 1 vCPU = 2 > 1.
      expect((await rollout(refused, { image: NEW_IMAGE.replace('5eed', 'beef'), canary: 1, waveSize: 2, maxConcurrency: 2, tenantIds: ids })).error).toBe('QuotaExceededError');
      const m = await meta(refused);
      expect(m.quota).toMatchObject({ ok: false, needs: { fargateOnDemandVcpu: 2, networkInterfaces: 2, subnetAddresses: 2 }, basis: { concurrency: 2, surgeTasksPerTenant: [1], surgeTasks: 2 } });
      expect(m.reason).toMatch(/2 tenant\(s\) updated at once, 2 extra task\(s\) while they deploy/);
      expect(updateRuns(refused)).toEqual([]);
      expect(registrations(from)).toEqual([]);

      // Enough room once one tenant at a time: it proceeds.
      const fits = rolloutId();
      const done = await rollout(fits, { image: NEW_IMAGE.replace('5eed', 'beef'), canary: 1, waveSize: 2, maxConcurrency: 1, tenantIds: ids });
      expect(done.status).toBe('SUCCEEDED');
      expect((await meta(fits)).quota).toMatchObject({ ok: true, needs: { fargateOnDemandVcpu: 1, networkInterfaces: 1, subnetAddresses: 1 } });
      expect(updateRuns(fits)).toHaveLength(3);
    } finally {
      await setMaximumPercent(100);
    }
  }, SLOW);

  it('octw fleet rollout --wait prints the reason and exits 1; fleet rollout show lists the quota', async () => {
    vcpuRoom(0.5);
    const env = { ...localCloudCliEnv(cloud), OCTW_CELL: cloud.cell.cellId };
    const r = await runCli(['fleet', 'rollout', '--plan', 'pro', '--canary', '1', '--wave', '2', '--tenants', ids.join(','), '--wait', '--poll-interval', '10'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rollout (r\d{8}t\d{6}-[0-9a-f]{4}) REFUSED: quota: Fargate On-Demand vCPU resource count: .* \+ 3 needed > limit/);
    expect(r.stdout).toMatch(/^state:\s+REFUSED$/m);
    expect(r.stdout).toMatch(/^fargateOnDemandVcpu\s+fargate\/L-3032A538\s+[\d.]+\s+\d+\s+3$/m);
    const id = /rollout (r\d{8}t\d{6}-[0-9a-f]{4}) REFUSED/.exec(r.stderr)![1]!;
    const show = await runCli(['fleet', 'rollout', 'show', id], env);
    expect(show.stdout).toMatch(/^quota check:\s+REFUSED: needs .*fargateOnDemandVcpu \+3/m);
    // standard → pro adds a Bedrock model: one more application inference profile per tenant.
    expect(show.stdout).toMatch(/^quota check:\s+REFUSED: needs .*applicationInferenceProfiles \+3/m);
  }, SLOW);
});
