/**
 * The workflows with a task runtime behind the ECS fake (a stand-in for the container runtime; the
 * real OpenClaw runs in conformance/tests/local-cloud-gateway.test.ts): ACTIVE only once the
 * task's health check passed, a gateway that never gets healthy fails the provision and is
 * compensated, and every workflow that takes a task away stops its process.
 */
import type * as ecs from '@aws-sdk/client-ecs';
import type { StandInScript } from '../local-cloud/fake-aws/stand-in-runtime';
import { StandInRuntime } from '../local-cloud/fake-aws/stand-in-runtime';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { gatewaySecretName, provision, resourceTypes, runWorkflow } from './support';

const scripts: Record<string, StandInScript> = { 'octw-local--never-healthy': 'never' };
const runtime = new StandInRuntime((td: ecs.TaskDefinition) => scripts[td.family ?? ''] ?? 'healthy');
let cloud: LocalCloud;
beforeAll(async () => {
  // The registered health check (startPeriod 60 s, 3 × 15 s) in compressed real time: 1 s = 1 ms.
  cloud = await startLocalCloud({ taskRuntime: { runtime, options: { healthCheckTimeScale: 0.001, probeEveryMs: 5 } } });
});
afterAll(async () => {
  await cloud.stop();
  expect(runtime.running()).toEqual([]);
});

describe('provision, suspend, resume and deprovision with a task runtime', () => {
  const tenantId = 'on-runtime';
  const family = `octw-local--${tenantId}`;

  it('goes ACTIVE once its task passed its health check, started with the token from Secrets Manager and the access point uid', async () => {
    const record = await provision(cloud, tenantId);
    expect(record?.status).toBe('ACTIVE');
    const [container, ...more] = runtime.of(family);
    expect(more).toEqual([]);
    expect(container!.stopped).toBe(false);
    expect(await container!.health()).toBe(true);
    const gateway = container!.taskDefinition.containerDefinitions!.find((c) => c.essential !== false)!;
    const injected = container!.context.secrets[gateway.name!]!;
    // The gateway token, and the egress-proxy URL (issue 10) behind the proxy variables: nothing else.
    const proxyUrl = cloud.fake.secret(`octw/tenants/local/${tenantId}/egress-proxy`)!.secretString;
    expect(Object.values(injected).sort()).toEqual([cloud.fake.secret(gatewaySecretName(tenantId))!.secretString, proxyUrl, proxyUrl].sort());
    expect(injected.HTTPS_PROXY).toBe(proxyUrl);
    expect(container!.context.efsVolumes.state?.posixUser).toEqual({ uid: record!.uid, gid: record!.uid, secondaryGids: [] });
    expect(container!.context.efsVolumes.state?.accessPointId).toBe(record!.resources.accessPointId);
  });

  it('suspend stops the process; resume starts a new one', async () => {
    const [first] = runtime.of(family);
    expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId })).status).toBe('SUCCEEDED');
    await cloud.fake.ecs.runtimeIdle();
    expect(first!.stopped).toBe(true);
    expect(runtime.running(family)).toEqual([]);
    expect((await runWorkflow(cloud, 'ResumeTenant', { tenantId })).status).toBe('SUCCEEDED');
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
    expect(runtime.running(family)).toHaveLength(1);
    expect(runtime.running(family)[0]).not.toBe(first);
  });

  it('deprovision stops the process', async () => {
    expect((await runWorkflow(cloud, 'DeprovisionTenant', { tenantId })).status).toBe('SUCCEEDED');
    await cloud.fake.ecs.runtimeIdle();
    expect(runtime.running(family)).toEqual([]);
    expect(cloud.fake.ecs.runtimeTasks()).toEqual([]);
  });
});

describe('a gateway that never passes its health check', () => {
  it('fails the provision (GatewayUnhealthyError), which is compensated: FAILED, nothing left, no process', async () => {
    const tenantId = 'never-healthy';
    const record = await provision(cloud, tenantId);
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError?.name).toBe('GatewayUnhealthyError');
    expect(record?.lastError?.message).toMatch(/circuit breaker|failed/i);
    expect(resourceTypes(cloud, tenantId)).toEqual([]);
    await cloud.fake.ecs.runtimeIdle();
    expect(runtime.of(`octw-local--${tenantId}`).length).toBeGreaterThan(0);
    expect(runtime.running(`octw-local--${tenantId}`)).toEqual([]);
  });
});
