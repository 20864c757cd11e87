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
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision, runWorkflow, serviceState } from './support';

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
const revisionOf = async (tenantId: string) => (await cloud.tenant(tenantId))?.resources.taskDefinitionArn?.split('/').pop();

describe('rollout: canary then waves, every tenant healthy', () => {
  const ids = ['ro-ok-a', 'ro-ok-b', 'ro-ok-c', 'ro-ok-d', 'ro-ok-e'];
  const id = rolloutId();
  let done: Awaited<ReturnType<typeof rollout>>;
  beforeAll(async () => {
    for (const t of ids) await provision(cloud, t);
    done = await rollout(id, { image: NEW_IMAGE, canary: 1, waveSize: 2, tenantIds: ids });
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
