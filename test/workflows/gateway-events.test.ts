/**
 * Issue 14.1: the workflows wait for a gateway by task token, resumed by ECS's events (the fake's
 * ECS event source → default bus → GatewayEvents function → SendTaskSuccess/SendTaskFailure), not
 * by DescribeServices polls. The whole suite runs with ECS events delivered twice at random and
 * delayed at random (so they arrive out of order); single tests lose events on purpose.
 */
import { InvalidToken, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import type { EcsEvent } from '../local-cloud/fake-aws';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision, runWorkflow } from './support';

let cloud: LocalCloud;
/** Tenants whose ECS events are lost on the way (all of them, or only their deployments' ends). */
const lose = new Map<string, 'deployment' | 'all'>();

const tenantOfEvent = (e: EcsEvent): string | undefined => {
  const group = e.detail.group;
  const ref = e['detail-type'] === 'ECS Task State Change' ? (typeof group === 'string' ? group : '') : (e.resources[0] ?? '');
  return /octw-local--([a-z0-9-]+)$/.exec(ref)?.[1];
};

beforeAll(async () => {
  cloud = await startLocalCloud({
    ecsEvents: {
      duplicateRate: 0.5,
      maxDelayMs: 15,
      seed: 14,
      drop: (e) => {
        const how = lose.get(tenantOfEvent(e) ?? '');
        return how === 'all' || (how === 'deployment' && e['detail-type'] === 'ECS Deployment State Change');
      },
    },
    // HeartbeatSeconds 120 → 1.2 s: long enough to inject events while a wait is open.
    heartbeatScale: 0.01,
  });
});
afterAll(async () => {
  await cloud.stop();
});

/** AWS calls the fake saw from the given states of the tenant's executions. */
const callsIn = (tenantId: string, states: readonly string[], operation?: string) =>
  cloud.fake.calls.filter(
    (c) => c.invocation?.executionName?.includes(tenantId) === true && states.includes(c.invocation.stateName ?? '') && (operation === undefined || c.operation === operation),
  );

const statesEntered = (executionArn: string) =>
  cloud.sfn
    .history(executionArn)
    .map((h) => h.stateEnteredEventDetails?.name)
    .filter((n): n is string => n !== undefined);

const provisionArnOf = (tenantId: string) => cloud.sfn.list().find((e) => e.stateMachineName === 'ProvisionTenant' && e.name.includes(tenantId))!.executionArn;

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('gateway waits driven by ECS events', () => {
  it('steady case: provision, resume and update wait without a single DescribeServices, each resumed by its deployment event', async () => {
    const tenantId = 'evt-steady';
    expect((await provision(cloud, tenantId))?.status).toBe('ACTIVE');
    expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId })).status).toBe('SUCCEEDED');
    const resumed = await runWorkflow(cloud, 'ResumeTenant', { tenantId });
    expect(resumed.status).toBe('SUCCEEDED');
    const updated = await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'pro' });
    expect(updated.status).toBe('SUCCEEDED');

    const waitStates = ['WaitForGateway', 'CheckGateway', 'WaitForSteady', 'CheckSteady', 'WaitForRollout', 'CheckRollout'];
    expect(callsIn(tenantId, waitStates, 'DescribeServices')).toEqual([]);
    // No wait needed its lost-event check: each was resumed by an event.
    for (const arn of [provisionArnOf(tenantId), resumed.executionArn, updated.executionArn]) {
      const entered = statesEntered(arn);
      expect(entered.filter((s) => s.startsWith('Check'))).toEqual([]);
      expect(entered.filter((s) => s.startsWith('WaitFor'))).toHaveLength(1);
    }
    // The resume waited for its own new deployment (UpdateService forceNewDeployment on the recorded revision).
    const resumeCall = cloud.fake.calls.find((c) => c.operation === 'UpdateService' && c.invocation?.executionName === resumed.executionArn.split(':').pop());
    expect(resumeCall?.input).toMatchObject({ forceNewDeployment: true, desiredCount: 1 });
  });

  it('delivered duplicates and out-of-order events resumed every wait exactly once', () => {
    expect(cloud.ecsEvents.delivery.duplicated).toBeGreaterThan(0);
    expect(cloud.ecsEvents.delivery.delayed).toBeGreaterThan(0);
    // Out of order: the bus received some events in another order than ECS produced them.
    const produced = cloud.ecsEvents.produced.map((e) => JSON.stringify(e.detail));
    const received = cloud.bus.events.filter((e) => e.source === 'aws.ecs').map((e) => produced.indexOf(JSON.stringify(e.detail)));
    expect(received.some((index, i) => i > 0 && index < received[i - 1]!)).toBe(true);
    // A duplicate deployment end is refused by its condition: no second SendTaskSuccess, none refused.
    const successes = cloud.sfn.tokenCalls.filter((c) => c.operation === 'SendTaskSuccess');
    expect(successes.every((c) => c.answer === 'ok')).toBe(true);
    expect(successes).toHaveLength(3);
    expect(cloud.bus.deadLetters).toEqual([]);
  });

  it('a lost deployment event: the wait ends on its heartbeat, one DescribeServices, and the tenant is ACTIVE', async () => {
    const tenantId = 'evt-lost';
    lose.set(tenantId, 'deployment');
    const record = await provision(cloud, tenantId);
    expect(record?.status).toBe('ACTIVE');
    const entered = statesEntered(provisionArnOf(tenantId));
    expect(entered).toContain('CheckGateway');
    const looks = callsIn(tenantId, ['CheckGateway'], 'DescribeServices');
    expect(looks.length).toBeGreaterThanOrEqual(1);
    expect(looks.length).toBe(entered.filter((s) => s === 'CheckGateway').length);
    expect(cloud.ecsEvents.delivery.dropped).toBeGreaterThan(0);
  });

  it('stale, foreign and non-terminal events never resume a waiting gateway; its own deployment end does', async () => {
    const tenantId = 'evt-stale';
    lose.set(tenantId, 'all');
    await cloud.signup({ tenantId, displayName: 'Stale', ownerEmail: 'ops@stale.example', plan: 'standard' });
    const waiting = await until('the provisioning to wait', () => cloud.sfn.waitingTokens().find((w) => w.executionArn.includes(tenantId) && w.stateName === 'WaitForGateway'));
    const svc = [...cloud.fake.ecs.services.values()].find((s) => s.serviceName === `octw-local--${tenantId}`)!;
    const own = svc.deployments.find((d) => d.status === 'PRIMARY')!.id;
    const service = svc.arn;
    const otherCluster = service.replace(':service/octw-local/', ':service/another-cluster/');
    const put = (detailType: string, resources: string[], detail: Record<string, unknown>) =>
      cloud.bus.put([{ Source: 'aws.ecs', DetailType: detailType, Resources: resources, Detail: JSON.stringify(detail), EventBusName: 'default' }]);
    const end = (deploymentId: string, eventName = 'SERVICE_DEPLOYMENT_COMPLETED') => ({ eventType: 'INFO', eventName, deploymentId, updatedAt: new Date().toISOString(), reason: 'injected' });
    const successesBefore = cloud.sfn.tokenCalls.filter((c) => c.operation !== 'SendTaskHeartbeat').length;

    put('ECS Deployment State Change', [service], end('ecs-svc/1111111111111111111')); // another (stale) deployment of this service
    put('ECS Deployment State Change', [service], end('ecs-svc/2222222222222222222', 'SERVICE_DEPLOYMENT_FAILED')); // another deployment failing
    put('ECS Deployment State Change', [otherCluster], end(own)); // the same id on another cluster
    put('ECS Deployment State Change', [service], end(own, 'SERVICE_DEPLOYMENT_IN_PROGRESS')); // not an end
    put('ECS Service Action', [service], { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: svc.clusterArn, createdAt: new Date().toISOString() });
    await cloud.bus.drain();

    expect(cloud.sfn.waitingTokens().map((w) => w.token)).toContain(waiting.token);
    expect(cloud.sfn.tokenCalls.filter((c) => c.operation !== 'SendTaskHeartbeat').length).toBe(successesBefore);

    // Its own deployment's end (as ECS would send it, here once the service is really steady) resumes it.
    await until('the deployment to complete', () => (svc.deployments.find((d) => d.id === own)?.rolloutState === 'COMPLETED' ? true : (cloud.fake.ecs.settleAll(), undefined)));
    put('ECS Deployment State Change', [service], end(own));
    await cloud.settle();
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
    const entered = statesEntered(provisionArnOf(tenantId));
    expect(entered.filter((s) => s === 'CheckGateway')).toEqual([]);

    // SFN's answers once the token is closed (a late duplicate), and for a token it never issued.
    const sfnClient = new SFNClient({ region: 'us-east-1' });
    await expect(sfnClient.send(new SendTaskSuccessCommand({ taskToken: waiting.token, output: '{}' }))).rejects.toThrow(TaskTimedOut);
    await expect(sfnClient.send(new SendTaskHeartbeatCommand({ taskToken: 'not-a-token' }))).rejects.toThrow(InvalidToken);
  });

  it('a failed deployment event fails the wait: the provisioning compensates and ends FAILED', async () => {
    const tenantId = 'evt-failed';
    cloud.fake.ecs.failHealthFor(`octw-local--${tenantId}`);
    const record = await provision(cloud, tenantId);
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError?.name).toBe('GatewayUnhealthyError');
    expect(record?.lastError?.message).toMatch(/deployment ecs-svc\/\d+ failed: ECS deployment circuit breaker/);
    expect(callsIn(tenantId, ['WaitForGateway', 'CheckGateway'], 'DescribeServices')).toEqual([]);
    expect(cloud.sfn.tokenCalls.some((c) => c.operation === 'SendTaskFailure' && c.answer === 'ok')).toBe(true);
  });
});
