/**
 * What the Usage function needs beyond a house function (issue 8: one tenant must not starve the
 * others): its own EFS access point on /tenants with a root POSIX identity (tenant directories are
 * 0700, owned by each tenant's uid), mounted READ-ONLY (its binder grants ClientMount and
 * ClientRootAccess, never ClientWrite); a security group whose only egress is NFS to the mount
 * targets, HTTPS to the VPC endpoints (Step Functions, EventBridge) and to DynamoDB's gateway
 * endpoint; and the schedule of its `measure` action, with retries and an alarmed dead-letter queue.
 * The same pattern as the Purge function (purge.ts), in a home of its own.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as efs from 'aws-cdk-lib/aws-efs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';
import type { HouseFunctionVpc } from './house-function';
import { AccessPointMount, TENANTS_MOUNT_PATH, TENANTS_ROOT } from './purge';

export interface UsageAccessProps {
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly fileSystem: efs.FileSystem;
  readonly endpointsSecurityGroup: ec2.ISecurityGroup;
  /** The Region's DynamoDB prefix list id (PurgeAccess looks it up). */
  readonly dynamoDbPrefixListId: string;
}

export class UsageAccess extends Construct {
  readonly accessPoint: efs.AccessPoint;
  readonly securityGroup: ec2.SecurityGroup;
  /** Pass to HouseFunction as `vpc`. */
  readonly functionVpc: HouseFunctionVpc;

  constructor(scope: Construct, id: string, props: UsageAccessProps) {
    super(scope, id);
    this.accessPoint = props.fileSystem.addAccessPoint('UsageAccessPoint', {
      path: TENANTS_ROOT,
      posixUser: { uid: '0', gid: '0' },
      createAcl: { ownerUid: '0', ownerGid: '0', permissions: '711' },
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-usage`,
      description: 'OCTW usage function: NFS to EFS, HTTPS to the VPC endpoints and DynamoDB only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(props.endpointsSecurityGroup, ec2.Port.tcp(443), 'HTTPS to the VPC interface endpoints (Step Functions, EventBridge)');
    this.securityGroup.addEgressRule(ec2.Peer.prefixList(props.dynamoDbPrefixListId), ec2.Port.tcp(443), 'HTTPS to DynamoDB through its gateway endpoint');
    this.functionVpc = {
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [this.securityGroup],
      filesystem: new AccessPointMount({
        arn: this.accessPoint.accessPointArn,
        localMountPath: TENANTS_MOUNT_PATH,
        connections: props.fileSystem.connections,
        dependency: [props.fileSystem.mountTargetsAvailable],
      }),
    };
  }

  /** Runs the Usage function's `measure` action on `schedule`, with retries and a dead-letter queue. */
  schedule(fn: lambda.IFunction, schedule: string, prefix: string): { rule: events.Rule; deadLetterQueue: sqs.Queue } {
    const dlq = deadLetterQueue(this, 'ScheduleDeadLetterQueue', `${prefix}-usage-dlq`, 'usage-measurement rule');
    const rule = new events.Rule(this, 'Schedule', {
      ruleName: `${prefix}-usage`,
      description: "Measures each tenant's EFS usage and acts on plan quotas",
      schedule: events.Schedule.expression(schedule),
      targets: [
        new targets.LambdaFunction(fn, {
          event: events.RuleTargetInput.fromObject({ action: 'measure' }),
          deadLetterQueue: dlq,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
    return { rule, deadLetterQueue: dlq };
  }
}
