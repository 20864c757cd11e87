import { CreateSecurityGroupCommand, DeleteSecurityGroupCommand } from '@aws-sdk/client-ec2';
import {
  ClientException,
  ClusterNotFoundException,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DeleteTaskDefinitionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { CreateServiceCommandInput } from '@aws-sdk/client-ecs';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { clients, CLUSTER, errorOf, setUp, VPC } from '../local-cloud/fake-aws/testing';

const { ec2, ecs, iam } = clients;
const LAT = { taskStartMs: 40_000, healthCheckFailMs: 20_000, serviceDrainMs: 30_000, eniReleaseMs: 60_000, iamPropagationMs: 8_000 };
let h: Harness;
beforeEach(() => {
  h = setUp({ latencies: LAT });
});
afterEach(() => h.uninstall());

const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

async function role(name = 'octw-tenant-acme'): Promise<string> {
  return (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, Path: '/octw/tenants/' }))).Role!.Arn!;
}

async function register(family = 'octw-acme', taskRoleArn?: string, image = 'img@sha256:1'): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      ...(taskRoleArn ? { taskRoleArn } : {}),
      containerDefinitions: [{ name: 'gateway', image }],
      tags: [{ key: 'octw:tenant', value: 'acme' }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

function serviceInput(taskDefinition: string, sg: string, extra: Partial<CreateServiceCommandInput> = {}): CreateServiceCommandInput {
  return {
    cluster: CLUSTER,
    serviceName: 'octw-acme',
    taskDefinition,
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: [sg], assignPublicIp: 'DISABLED' } },
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 100, maximumPercent: 200 },
    tags: [{ key: 'octw:tenant', value: 'acme' }],
    ...extra,
  };
}

async function sg(): Promise<string> {
  return (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'octw-acme', Description: 'd', VpcId: VPC }))).GroupId!;
}

async function describe1() {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['octw-acme'] }));
  return out.services![0]!;
}

describe('ECS task definitions', () => {
  it('numbers revisions 1..n per family and lists them by prefix and status', async () => {
    expect(await register()).toMatch(/task-definition\/octw-acme:1$/);
    const second = await register();
    expect(second).toMatch(/:2$/);
    await register('other');
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'octw-acme:1' }));
    const active = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'octw-', status: 'ACTIVE' }));
    expect(active.taskDefinitionArns).toEqual([second]);
    const inactive = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'octw-', status: 'INACTIVE' }));
    expect(inactive.taskDefinitionArns).toHaveLength(1);
  });

  it('refuses a task role younger than the IAM propagation delay with the ClientException AWS gives, and accepts it after', async () => {
    const arn = await role();
    const err = await errorOf(() => register('octw-acme', arn));
    expect(err).toBeInstanceOf(ClientException);
    expect(err.message).toBe(
      `ECS was unable to assume the role '${arn}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`,
    );
    h.clock.advance(LAT.iamPropagationMs);
    expect(await register('octw-acme', arn)).toMatch(/:1$/);
  });

  it('deletes only deregistered revisions; a deleted revision leaves the inspection', async () => {
    const arn = await register();
    const refused = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [arn] }));
    expect(refused.failures).toHaveLength(1);
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    expect(h.fake.resourcesByTenant('acme').map((r) => r.state)).toEqual(['INACTIVE']);
    const deleted = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [arn] }));
    expect(deleted.taskDefinitions![0]!.status).toBe('DELETE_IN_PROGRESS');
    expect(h.fake.resourcesByTenant('acme')).toEqual([]);
  });
});

describe('ECS services', () => {
  it('goes PENDING → RUNNING after the Fargate start latency and completes the deployment', async () => {
    const td = await register();
    await ecs.send(new CreateServiceCommand(serviceInput(td, await sg())));
    let s = await describe1();
    expect([s.status, s.pendingCount, s.runningCount, s.deployments![0]!.rolloutState]).toEqual(['ACTIVE', 1, 0, 'IN_PROGRESS']);
    h.clock.advance(LAT.taskStartMs);
    s = await describe1();
    expect([s.pendingCount, s.runningCount, s.deployments![0]!.rolloutState]).toEqual([0, 1, 'COMPLETED']);
    const tasks = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'octw-acme' }));
    const described = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: tasks.taskArns! }));
    expect(described.tasks![0]!).toEqual(expect.objectContaining({ lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }));
  });

  it('returns the same service for a repeated CreateService with the same clientToken and request', async () => {
    const td = await register();
    const input = serviceInput(td, await sg(), { clientToken: 'tok-1' });
    const first = await ecs.send(new CreateServiceCommand(input));
    const again = await ecs.send(new CreateServiceCommand(input));
    expect(again.service!.serviceArn).toBe(first.service!.serviceArn);
    expect(h.fake.ecs.tasks).toHaveLength(1);
  });

  it('refuses the same name with a different request: "Creation of service was not idempotent."', async () => {
    const td = await register();
    const group = await sg();
    await ecs.send(new CreateServiceCommand(serviceInput(td, group, { clientToken: 'tok-1' })));
    const err = await errorOf(() => ecs.send(new CreateServiceCommand(serviceInput(td, group, { clientToken: 'tok-1', desiredCount: 2 }))));
    expect(err).toBeInstanceOf(InvalidParameterException);
    expect(err.message).toBe('Creation of service was not idempotent.');
  });

  it('answers ClusterNotFoundException for an unknown cluster and failures MISSING for an unknown service', async () => {
    const err = await errorOf(() => ecs.send(new DescribeServicesCommand({ cluster: 'nope', services: ['x'] })));
    expect(err).toBeInstanceOf(ClusterNotFoundException);
    const out = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['ghost'] }));
    expect(out.failures).toEqual([{ arn: expect.stringContaining('service/octw-cell-1/ghost'), reason: 'MISSING' }]);
    expect(await errorOf(() => ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ghost', desiredCount: 0 })))).toBeInstanceOf(
      ServiceNotFoundException,
    );
  });

  it('rolls a failing revision back to the previous one with the circuit breaker, marking the deployment FAILED', async () => {
    const v1 = await register();
    await ecs.send(new CreateServiceCommand(serviceInput(v1, await sg())));
    h.clock.advance(LAT.taskStartMs);
    const v2 = await register('octw-acme', undefined, 'img@sha256:2');
    h.fake.ecs.failHealthFor('octw-acme:2');
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', taskDefinition: v2 }));
    h.clock.advance(LAT.taskStartMs);
    expect((await describe1()).deployments!.map((d) => d.rolloutState)).toEqual(['IN_PROGRESS', 'COMPLETED']);
    const tasks = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'octw-acme' }));
    const health = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: tasks.taskArns! }))).tasks!.map((t) => t.healthStatus);
    expect(health.sort()).toEqual(['HEALTHY', 'UNHEALTHY']);
    h.clock.advance(LAT.healthCheckFailMs);
    let s = await describe1();
    const failed = s.deployments!.find((d) => d.taskDefinition === v2)!;
    expect(failed.rolloutState).toBe('FAILED');
    expect(s.deployments!.find((d) => d.status === 'PRIMARY')!.taskDefinition).toBe(v1);
    expect(s.taskDefinition).toBe(v1);
    expect(s.events!.map((e) => e.message).join('\n')).toContain('rolling back');
    h.clock.advance(LAT.taskStartMs);
    s = await describe1();
    expect(s.deployments!.map((d) => [d.status, d.rolloutState])).toEqual([['PRIMARY', 'COMPLETED']]);
  });

  it('refuses DeleteService above 0 without force; drains, turns INACTIVE and keeps the ENI until it is released', async () => {
    const td = await register();
    const group = await sg();
    await ecs.send(new CreateServiceCommand(serviceInput(td, group)));
    h.clock.advance(LAT.taskStartMs);
    const refused = await errorOf(() => ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'octw-acme' })));
    expect(refused).toBeInstanceOf(InvalidParameterException);
    const deleted = await ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'octw-acme', force: true }));
    expect(deleted.service!.status).toBe('DRAINING');
    expect(h.fake.resourcesByTenant('acme').find((r) => r.type === 'AWS::ECS::Service')!.state).toBe('DRAINING');
    const deleteSg = () => ec2.send(new DeleteSecurityGroupCommand({ GroupId: group }));
    expect((await errorOf(deleteSg)).name).toBe('DependencyViolation');
    h.clock.advance(LAT.serviceDrainMs);
    expect((await describe1()).status).toBe('INACTIVE');
    expect(h.fake.resourcesByTenant('acme').some((r) => r.type === 'AWS::ECS::Service')).toBe(false);
    expect((await errorOf(deleteSg)).name).toBe('DependencyViolation');
    h.clock.advance(LAT.eniReleaseMs - 1);
    expect((await errorOf(deleteSg)).name).toBe('DependencyViolation');
    h.clock.advance(1);
    await deleteSg();
    expect(h.fake.securityGroup(group)).toBeUndefined();
  });

  it('scales to 0 and back with UpdateService desiredCount without a new deployment', async () => {
    const td = await register();
    await ecs.send(new CreateServiceCommand(serviceInput(td, await sg())));
    h.clock.advance(LAT.taskStartMs);
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', desiredCount: 0 }));
    let s = await describe1();
    expect([s.desiredCount, s.runningCount, s.deployments!.length]).toEqual([0, 0, 1]);
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-acme', desiredCount: 1 }));
    h.clock.advance(LAT.taskStartMs);
    s = await describe1();
    expect([s.desiredCount, s.runningCount]).toEqual([1, 1]);
  });
});
