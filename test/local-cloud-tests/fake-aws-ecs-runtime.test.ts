/**
 * Fidelity of the ECS fake's task-runtime port (fake-aws/task-runtime.ts), with a stand-in for
 * the container runtime: what ECS resolves before a task starts, when a task is HEALTHY, when it
 * is stopped, and that every stop of a task stops its process.
 */
import { CreateAccessPointCommand } from '@aws-sdk/client-efs';
import type { CreateServiceCommandInput, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateSecurityGroupCommand } from '@aws-sdk/client-ec2';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { clients, CLUSTER, FS, setUp, VPC } from '../local-cloud/fake-aws/testing';
import type { StandInScript } from '../local-cloud/fake-aws/stand-in-runtime';
import { eventually, StandInRuntime } from '../local-cloud/fake-aws/stand-in-runtime';

const { ec2, ecs, efs, sm } = clients;
const LAT = { taskStartMs: 40_000, healthCheckFailMs: 20_000, serviceDrainMs: 30_000, eniReleaseMs: 60_000, iamPropagationMs: 0 };
/** Health checks of the stand-in in compressed real time: 1 s of the task definition = 1 ms. */
const SCALE = 0.001;
const CHECK = { command: ['CMD', 'true'], interval: 15, timeout: 5, retries: 3, startPeriod: 60 };

let h: Harness;
let runtime: StandInRuntime;
let script: Record<string, StandInScript>;
beforeEach(() => {
  h = setUp({ latencies: LAT });
  script = {};
  runtime = new StandInRuntime((td) => script[`${td.family}:${td.revision}`] ?? script[td.family ?? ''] ?? 'healthy');
  h.fake.ecs.setTaskRuntime(runtime, { healthCheckTimeScale: SCALE, probeEveryMs: 2 });
});
afterEach(async () => {
  await h.fake.ecs.removeTaskRuntime();
  h.uninstall();
});

async function tenantState(): Promise<{ secretArn: string; accessPointId: string; group: string }> {
  const secret = await sm.send(new CreateSecretCommand({ Name: 'octw/tenants/acme/gateway-token', SecretString: 'tok-of-acme' }));
  const ap = await efs.send(
    new CreateAccessPointCommand({
      FileSystemId: FS,
      ClientToken: 'acme',
      PosixUser: { Uid: 200_007, Gid: 200_007 },
      RootDirectory: { Path: '/tenants/acme', CreationInfo: { OwnerUid: 200_007, OwnerGid: 200_007, Permissions: '0700' } },
    }),
  );
  const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'octw-acme', Description: 'd', VpcId: VPC }));
  return { secretArn: secret.ARN!, accessPointId: ap.AccessPointId!, group: group.GroupId! };
}

async function register(family: string, secretArn: string, accessPointId: string, extra: Partial<RegisterTaskDefinitionCommandInput> = {}): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      containerDefinitions: [
        { name: 'config-init', image: 'img@sha256:1', essential: false },
        {
          name: 'gateway',
          image: 'img@sha256:1',
          essential: true,
          secrets: [{ name: 'OPENCLAW_GATEWAY_TOKEN', valueFrom: secretArn }],
          mountPoints: [{ sourceVolume: 'state', containerPath: '/home/node/.openclaw' }],
          healthCheck: CHECK,
        },
      ],
      volumes: [{ name: 'state', efsVolumeConfiguration: { fileSystemId: FS, transitEncryption: 'ENABLED', authorizationConfig: { accessPointId, iam: 'ENABLED' } } }],
      ...extra,
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

function serviceInput(taskDefinition: string, group: string): CreateServiceCommandInput {
  return {
    cluster: CLUSTER,
    serviceName: 'octw-acme',
    taskDefinition,
    desiredCount: 1,
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: [group], assignPublicIp: 'DISABLED' } },
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 0, maximumPercent: 100 },
  };
}

async function service() {
  return (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['octw-acme'] }))).services![0]!;
}

async function tasks(desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING') {
  const arns = (await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'octw-acme', desiredStatus }))).taskArns!;
  if (arns.length === 0) return [];
  return (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks!;
}

describe('ECS task runtime: starting a task', () => {
  it('starts the task on the runtime with the secret value from Secrets Manager and the access point PosixUser', async () => {
    const { secretArn, accessPointId, group } = await tenantState();
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, accessPointId), group)));
    expect(runtime.containers).toHaveLength(1);
    const { context, taskDefinition } = runtime.containers[0]!;
    expect(taskDefinition.family).toBe('octw-acme');
    expect(context.secrets).toEqual({ 'config-init': {}, gateway: { OPENCLAW_GATEWAY_TOKEN: 'tok-of-acme' } });
    expect(context.efsVolumes.state).toEqual({
      fileSystemId: FS,
      accessPointId,
      posixUser: { uid: 200_007, gid: 200_007, secondaryGids: [] },
      rootDirectory: '/tenants/acme',
    });
    expect(context.taskArn).toBe(h.fake.ecs.runtimeTasks()[0]);
  });

  it('resolves a json-key of a JSON secret, as `valueFrom: <arn>:<key>::` asks', async () => {
    const { accessPointId, group } = await tenantState();
    const json = await sm.send(new CreateSecretCommand({ Name: 'bundle', SecretString: JSON.stringify({ token: 'from-json' }) }));
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', `${json.ARN!}:token::`, accessPointId), group)));
    expect(runtime.containers[0]!.context.secrets.gateway).toEqual({ OPENCLAW_GATEWAY_TOKEN: 'from-json' });
  });

  it('is RUNNING with health UNKNOWN, its deployment IN_PROGRESS, until the container health check passes; then HEALTHY and COMPLETED', async () => {
    script['octw-acme'] = 'never';
    const { secretArn, accessPointId, group } = await tenantState();
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, accessPointId), group)));
    h.clock.advance(LAT.taskStartMs * 10);
    const [task] = await tasks();
    expect([task!.lastStatus, task!.healthStatus]).toEqual(['RUNNING', 'UNKNOWN']);
    expect((await service()).deployments!.map((d) => d.rolloutState)).toEqual(['IN_PROGRESS']);
    runtime.containers[0]!.healthy = true;
    await eventually(async () => (await tasks())[0]?.healthStatus === 'HEALTHY');
    const s = await service();
    expect(s.deployments!.map((d) => d.rolloutState)).toEqual(['COMPLETED']);
    expect(s.events!.map((e) => e.message).join('\n')).toContain('has reached a steady state');
  });

  it('is not HEALTHY before it is RUNNING, however early its check passes', async () => {
    const { secretArn, accessPointId, group } = await tenantState();
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, accessPointId), group)));
    await new Promise((r) => setTimeout(r, 20));
    const [task] = await tasks();
    expect([task!.lastStatus, task!.healthStatus]).toEqual(['PENDING', 'UNKNOWN']);
    h.clock.advance(LAT.taskStartMs);
    expect((await tasks())[0]!.healthStatus).toBe('HEALTHY');
    expect((await service()).deployments![0]!.rolloutState).toBe('COMPLETED');
  });

  it('stops the task with "Task failed container health checks" only after startPeriod + retries × interval of failing; the circuit breaker fails the deployment after 3 such tasks', async () => {
    script['octw-acme'] = 'never';
    const { secretArn, accessPointId, group } = await tenantState();
    const started = Date.now();
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, accessPointId), group)));
    h.clock.advance(LAT.taskStartMs);
    const [stopped] = await eventually(async () => {
      const t = await tasks('STOPPED');
      return t.length > 0 && t;
    });
    const failedAfterMs = Date.now() - started;
    expect(failedAfterMs).toBeGreaterThanOrEqual((CHECK.startPeriod + CHECK.retries * CHECK.interval) * 1000 * SCALE);
    expect(stopped!.stoppedReason).toBe('Task failed container health checks');
    expect(stopped!.healthStatus).toBe('UNHEALTHY');
    // A replacement runs; the deployment is still in progress.
    expect((await service()).deployments![0]!.rolloutState).toBe('IN_PROGRESS');
    expect(runtime.running()).toHaveLength(1);
    await eventually(async () => (await service()).deployments![0]!.rolloutState === 'FAILED');
    const s = await service();
    expect(s.deployments![0]!.failedTasks).toBe(3);
    expect(runtime.containers).toHaveLength(3);
    await h.fake.ecs.runtimeIdle();
    expect(runtime.running()).toEqual([]);
  });

  it('never starts a container whose secret is scheduled for deletion: ResourceInitializationError, no process', async () => {
    const { secretArn, accessPointId, group } = await tenantState();
    await sm.send(new DeleteSecretCommand({ SecretId: secretArn, RecoveryWindowInDays: 7 }));
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, accessPointId), group)));
    const [stopped] = await tasks('STOPPED');
    expect(stopped!.stoppedReason).toMatch(/^ResourceInitializationError: unable to pull secrets .*marked for deletion/);
    expect(runtime.containers).toEqual([]);
    expect((await service()).deployments![0]!.rolloutState).toBe('FAILED');
  });

  it('never starts a container whose access point is gone: ResourceInitializationError naming the access point', async () => {
    const { secretArn, group } = await tenantState();
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, 'fsap-00000000000000000'), group)));
    const [stopped] = await tasks('STOPPED');
    expect(stopped!.stoppedReason).toMatch(/^ResourceInitializationError: .*fsap-00000000000000000 does not exist/);
    expect(runtime.containers).toEqual([]);
  });

  it('stops a task the runtime cannot start, and one whose essential container exits, with the reasons ECS gives', async () => {
    const { secretArn, accessPointId, group } = await tenantState();
    script['octw-acme'] = 'refuses';
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, accessPointId), group)));
    const [refused] = await eventually(async () => {
      const t = await tasks('STOPPED');
      return t.length > 0 && t;
    });
    expect(refused!.stoppedReason).toMatch(/^CannotStartContainerError: stand-in runtime refused/);
    await ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'octw-acme', force: true }));
    h.clock.advance(LAT.serviceDrainMs);

    script['octw-acme'] = 'exits';
    await ecs.send(new CreateServiceCommand({ ...serviceInput(await register('octw-acme', secretArn, accessPointId), group) }));
    const exited = await eventually(async () => (await tasks('STOPPED')).find((t) => t.stoppedReason?.startsWith('Essential')));
    expect(exited.stoppedReason).toBe('Essential container in task exited (exit code 1): stand-in container exited');
  });
});

describe('ECS task runtime: every stop of a task stops its process', () => {
  async function healthyService(): Promise<{ secretArn: string; accessPointId: string }> {
    const { secretArn, accessPointId, group } = await tenantState();
    await ecs.send(new CreateServiceCommand(serviceInput(await register('octw-acme', secretArn, accessPointId), group)));
    h.clock.advance(LAT.taskStartMs);
    await eventually(async () => (await service()).deployments![0]!.rolloutState === 'COMPLETED');
    return { secretArn, accessPointId };
  }

  it('scaling to 0 stops the process; scaling back to 1 starts a new one', async () => {
    await healthyService();
    const first = runtime.containers[0]!;
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', desiredCount: 0 }));
    await h.fake.ecs.runtimeIdle();
    expect(first.stopped).toBe(true);
    expect(h.fake.ecs.runtimeTasks()).toEqual([]);
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', desiredCount: 1 }));
    expect(runtime.running()).toHaveLength(1);
    expect(runtime.running()[0]).not.toBe(first);
  });

  it('deleting the service stops the process at once (the service still drains)', async () => {
    await healthyService();
    await ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'octw-acme', force: true }));
    expect((await service()).status).toBe('DRAINING');
    await h.fake.ecs.runtimeIdle();
    expect(runtime.running()).toEqual([]);
  });

  it('with maximumPercent 100, a new revision stops the old process before its own starts: never two at once', async () => {
    const { secretArn, accessPointId } = await healthyService();
    const v2 = await register('octw-acme', secretArn, accessPointId, { cpu: '2048' });
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', taskDefinition: v2 }));
    await h.fake.ecs.runtimeIdle();
    expect(runtime.running().map((c) => c.taskDefinition.revision)).toEqual([2]);
    const [old] = await tasks('STOPPED');
    expect(old!.stoppedReason).toMatch(/^Scaling activity initiated by \(deployment ecs-svc\/\d+\)$/);
    h.clock.advance(LAT.taskStartMs);
    await eventually(async () => (await service()).deployments!.length === 1);

    // A failing revision is rolled back: its process stopped, the previous revision started again.
    script['octw-acme:3'] = 'never';
    const v3 = await register('octw-acme', secretArn, accessPointId, { cpu: '4096' });
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', taskDefinition: v3 }));
    h.clock.advance(LAT.taskStartMs);
    await eventually(async () => (await service()).events!.some((e) => e.message?.includes('rolling back')));
    h.clock.advance(LAT.taskStartMs);
    await eventually(async () => (await service()).deployments!.length === 1);
    await h.fake.ecs.runtimeIdle();
    expect(runtime.of('octw-acme').filter((c) => c.taskDefinition.revision === 3).every((c) => c.stopped)).toBe(true);
    expect(runtime.running().map((c) => c.taskDefinition.revision)).toEqual([2]);
  });

  it('with maximumPercent 200, the old process runs until the new revision is healthy, then stops', async () => {
    const { secretArn, accessPointId } = await healthyService();
    await ecs.send(
      new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 } }),
    );
    script['octw-acme:2'] = 'never';
    const v2 = await register('octw-acme', secretArn, accessPointId, { cpu: '2048' });
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', taskDefinition: v2 }));
    h.clock.advance(LAT.taskStartMs);
    await tasks();
    expect(runtime.running().map((c) => c.taskDefinition.revision)).toEqual([1, 2]);
    runtime.of('octw-acme').find((c) => c.taskDefinition.revision === 2)!.healthy = true;
    await eventually(async () => (await service()).deployments!.length === 1);
    await h.fake.ecs.runtimeIdle();
    expect(runtime.running().map((c) => c.taskDefinition.revision)).toEqual([2]);
  });

  it('replaces a task whose container exits after the rollout completed', async () => {
    await healthyService();
    const first = runtime.containers[0]!;
    first.healthy = false;
    await first.stop(); // the process dies under the fake
    // stop() as the runtime reports it: the container exited (not ordered by ECS).
    await eventually(async () => (await tasks('STOPPED')).length === 1);
    expect((await tasks('STOPPED'))[0]!.stoppedReason).toBe('Essential container in task exited (exit code 143)');
    expect(runtime.running()).toHaveLength(1);
  });

  it('removing the runtime stops every process it runs', async () => {
    await healthyService();
    expect(runtime.running()).toHaveLength(1);
    await h.fake.ecs.removeTaskRuntime();
    expect(runtime.running()).toEqual([]);
    h.fake.ecs.setTaskRuntime(runtime);
  });
});
