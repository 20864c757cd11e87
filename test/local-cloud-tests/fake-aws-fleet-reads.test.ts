/**
 * Fidelity of the reads the reconcile, the orphan sweep and the audit need (issue 13): IAM
 * ListRoles (path prefix, paging by Marker, no tags or boundary in the listing, InvalidInput), ECS
 * ListServices (ACTIVE and DRAINING only, maxResults bounds) and UpdateService
 * `enableExecuteCommand` (what an operator turning ECS Exec on behind the platform's back does).
 */
import { CreateSecurityGroupCommand } from '@aws-sdk/client-ec2';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  InvalidParameterException,
  ListServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { CreateRoleCommand, InvalidInputException, ListRolesCommand } from '@aws-sdk/client-iam';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { clients, CLUSTER, errorOf, setUp, VPC } from '../local-cloud/fake-aws/testing';

const { ec2, ecs, iam } = clients;
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
let h: Harness;
afterEach(() => h.uninstall());

describe('IAM ListRoles', () => {
  beforeEach(async () => {
    h = setUp({ vpcs: [{ vpcId: VPC, cidr: '10.0.0.0/16' }], clusters: [CLUSTER] });
    for (const [name, path] of [['octw-c--b', '/octw/tenants/'], ['octw-c--a', '/octw/tenants/'], ['octw-c--c', '/octw/tenants/'], ['other', '/']] as const) {
      await iam.send(
        new CreateRoleCommand({ RoleName: name, Path: path, AssumeRolePolicyDocument: TRUST, PermissionsBoundary: 'arn:aws:iam::123456789012:policy/b', Tags: [{ Key: 'octw:cell', Value: 'c' }] }),
      );
    }
  });

  it('lists the roles under a path prefix, by name, without their tags or boundary, paged by Marker', async () => {
    const first = await iam.send(new ListRolesCommand({ PathPrefix: '/octw/tenants/', MaxItems: 2 }));
    expect(first.Roles!.map((r) => r.RoleName)).toEqual(['octw-c--a', 'octw-c--b']);
    expect(first.IsTruncated).toBe(true);
    expect(first.Roles![0]!.Tags).toBeUndefined();
    expect(first.Roles![0]!.PermissionsBoundary).toBeUndefined();
    const second = await iam.send(new ListRolesCommand({ PathPrefix: '/octw/tenants/', MaxItems: 2, Marker: first.Marker! }));
    expect(second.Roles!.map((r) => r.RoleName)).toEqual(['octw-c--c']);
    expect(second.IsTruncated).toBe(false);
    expect(second.Marker).toBeUndefined();
    const all = await iam.send(new ListRolesCommand({}));
    expect(all.Roles).toHaveLength(4);
  });

  it('refuses a bad marker and MaxItems out of 1-1000 with InvalidInput (400)', async () => {
    for (const input of [{ Marker: 'not-a-marker' }, { MaxItems: 0 }, { MaxItems: 1001 }]) {
      const err = await errorOf(() => iam.send(new ListRolesCommand(input)));
      expect(err).toBeInstanceOf(InvalidInputException);
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
  });
});

describe('ECS ListServices and UpdateService enableExecuteCommand', () => {
  let taskDefinition: string;
  let group: string;
  beforeEach(async () => {
    h = setUp({ vpcs: [{ vpcId: VPC, cidr: '10.0.0.0/16' }], clusters: [CLUSTER] });
    taskDefinition = (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'octw-acme',
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          cpu: '1024',
          memory: '2048',
          containerDefinitions: [{ name: 'gateway', image: 'img@sha256:1' }],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;
    group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'octw-acme', Description: 'd', VpcId: VPC }))).GroupId!;
  });

  const create = (serviceName: string) =>
    ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName,
        taskDefinition,
        desiredCount: 0,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: [group], assignPublicIp: 'DISABLED' } },
        enableExecuteCommand: false,
      }),
    );

  it('lists the ARNs of the cluster services that are not INACTIVE, paged', async () => {
    for (const name of ['s-1', 's-2', 's-3']) await create(name);
    await ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 's-3', force: true }));
    const first = await ecs.send(new ListServicesCommand({ cluster: CLUSTER, maxResults: 2 }));
    expect(first.serviceArns).toHaveLength(2);
    const rest = await ecs.send(new ListServicesCommand({ cluster: CLUSTER, maxResults: 2, nextToken: first.nextToken! }));
    const names = [...first.serviceArns!, ...rest.serviceArns!].map((a) => a.split('/').pop());
    // s-3 is DRAINING right after the delete: still listed (it becomes INACTIVE once drained).
    expect(names.sort()).toEqual(['s-1', 's-2', 's-3']);
  });

  it('refuses maxResults outside 1-100 with InvalidParameterException', async () => {
    const err = await errorOf(() => ecs.send(new ListServicesCommand({ cluster: CLUSTER, maxResults: 101 })));
    expect(err).toBeInstanceOf(InvalidParameterException);
  });

  it('turns ECS Exec on and off with UpdateService, as DescribeServices then reports', async () => {
    await create('s-1');
    const exec = async () => (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['s-1'] }))).services![0]!.enableExecuteCommand;
    expect(await exec()).toBe(false);
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 's-1', enableExecuteCommand: true }));
    expect(await exec()).toBe(true);
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 's-1', enableExecuteCommand: false }));
    expect(await exec()).toBe(false);
  });
});
