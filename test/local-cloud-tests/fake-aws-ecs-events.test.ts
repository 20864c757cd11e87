/**
 * Fidelity of the fake's ECS events (issue 14.1): the three detail types ECS sends to EventBridge,
 * with the fields the Amazon ECS Developer Guide shows, consistent with what DescribeServices and
 * DescribeTasks answer; and the delivery faults (duplicates, losses) the workflow tests rely on.
 */
import { CreateSecurityGroupCommand } from '@aws-sdk/client-ec2';
import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { EcsEventSource, type EcsEvent } from '../local-cloud/fake-aws';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { clients, CLUSTER, setUp, VPC } from '../local-cloud/fake-aws/testing';

const { ec2, ecs } = clients;
let h: Harness;
beforeEach(() => {
  h = setUp({ latencies: { taskStartMs: 40_000, healthCheckFailMs: 20_000 } });
});
afterEach(() => h.uninstall());

async function service(family: string): Promise<{ serviceArn: string; deploymentId: string; taskDefinitionArn: string }> {
  const td = (await ecs.send(new RegisterTaskDefinitionCommand({ family, networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512', containerDefinitions: [{ name: 'gateway', image: 'img' }] })))
    .taskDefinition!.taskDefinitionArn!;
  const sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: family, Description: 'd', VpcId: VPC }))).GroupId!;
  const out = await ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: family,
      taskDefinition: td,
      desiredCount: 1,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: [sg] } },
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 0, maximumPercent: 100 },
    }),
  );
  return { serviceArn: out.service!.serviceArn!, deploymentId: out.service!.deployments![0]!.id!, taskDefinitionArn: td };
}

const names = (events: EcsEvent[], type: EcsEvent['detail-type']) => events.filter((e) => e['detail-type'] === type).map((e) => e.detail.eventName ?? e.detail.lastStatus);

describe('ECS events from the fake', () => {
  it('a deployment: IN_PROGRESS, task PENDING → RUNNING, then COMPLETED and SERVICE_STEADY_STATE, with the ids DescribeServices shows', async () => {
    const got: EcsEvent[] = [];
    const source = new EcsEventSource(h.fake.ecs, (e) => got.push(e));
    const { serviceArn, deploymentId, taskDefinitionArn } = await service('octw-cell--acme');
    source.pump();
    h.clock.advance(40_001);
    source.pump();

    const deployment = got.filter((e) => e['detail-type'] === 'ECS Deployment State Change');
    expect(deployment.map((e) => e.detail.eventName)).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED']);
    for (const e of deployment) {
      expect(e.source).toBe('aws.ecs');
      expect(e.resources).toEqual([serviceArn]);
      expect(e.detail).toMatchObject({ eventType: 'INFO', deploymentId, reason: expect.any(String), updatedAt: expect.any(String) });
    }
    const described = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['octw-cell--acme'] }));
    expect(described.services![0]!.deployments![0]).toMatchObject({ id: deploymentId, rolloutState: 'COMPLETED' });

    const tasks = got.filter((e) => e['detail-type'] === 'ECS Task State Change');
    expect(tasks.map((e) => e.detail.lastStatus)).toEqual(['PENDING', 'RUNNING']);
    expect(tasks.map((e) => e.detail.version)).toEqual([1, 2]);
    for (const e of tasks) {
      expect(e.resources).toEqual([e.detail.taskArn]);
      expect(e.detail).toMatchObject({ clusterArn: expect.stringContaining(`:cluster/${CLUSTER}`), group: 'service:octw-cell--acme', startedBy: deploymentId, taskDefinitionArn });
    }
    expect(names(got, 'ECS Service Action')).toEqual(['SERVICE_STEADY_STATE']);
    expect(got.find((e) => e['detail-type'] === 'ECS Service Action')?.detail).toMatchObject({ eventType: 'INFO', clusterArn: expect.stringContaining(CLUSTER) });
  });

  it('a deployment the circuit breaker fails: SERVICE_DEPLOYMENT_FAILED (ERROR) for it, then the rollback deployment starts and completes under its own id', async () => {
    const got: EcsEvent[] = [];
    const source = new EcsEventSource(h.fake.ecs, (e) => got.push(e));
    const { deploymentId: first } = await service('octw-cell--beta');
    h.clock.advance(40_001);
    source.pump();
    const td2 = (await ecs.send(new RegisterTaskDefinitionCommand({ family: 'octw-cell--beta', containerDefinitions: [{ name: 'gateway', image: 'img2' }] }))).taskDefinition!.taskDefinitionArn!;
    h.fake.ecs.failHealthFor('octw-cell--beta:2');
    const second = (await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'octw-cell--beta', taskDefinition: td2 }))).service!.deployments!.find((d) => d.status === 'PRIMARY')!.id!;
    expect(second).not.toBe(first);
    source.pump();
    h.clock.advance(60_001);
    source.pump();
    h.clock.advance(40_001);
    source.pump();
    const ends = got.filter((e) => e['detail-type'] === 'ECS Deployment State Change').map((e) => [e.detail.deploymentId, e.detail.eventName, e.detail.eventType]);
    expect(ends).toContainEqual([second, 'SERVICE_DEPLOYMENT_FAILED', 'ERROR']);
    const rollback = ends.find(([id, name]) => id !== first && id !== second && name === 'SERVICE_DEPLOYMENT_COMPLETED');
    expect(rollback).toBeDefined();
    // The failed deployment never "completes".
    expect(ends).not.toContainEqual([second, 'SERVICE_DEPLOYMENT_COMPLETED', 'INFO']);
  });

  it('delivers duplicates as the same event (same task version) and loses what `drop` selects', async () => {
    const got: EcsEvent[] = [];
    const source = new EcsEventSource(h.fake.ecs, (e) => got.push(e), { duplicateRate: 1, drop: (e) => e['detail-type'] === 'ECS Service Action' });
    await service('octw-cell--gamma');
    source.pump();
    h.clock.advance(40_001);
    source.pump();
    expect(source.delivery.dropped).toBe(1);
    expect(got.some((e) => e['detail-type'] === 'ECS Service Action')).toBe(false);
    const versions = got.filter((e) => e['detail-type'] === 'ECS Task State Change').map((e) => e.detail.version);
    expect(versions).toEqual([1, 1, 2, 2]);
    expect(source.produced).toHaveLength(got.length / 2 + 1);
  });

  it('reports nothing that existed before it started, and nothing twice without a change', async () => {
    await service('octw-cell--delta');
    h.clock.advance(40_001);
    const got: EcsEvent[] = [];
    const source = new EcsEventSource(h.fake.ecs, (e) => got.push(e));
    source.pump();
    source.pump();
    expect(got).toEqual([]);
  });
});
