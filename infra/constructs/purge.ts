/**
 * What the Purge function needs beyond a house function: its own EFS access point on /tenants with
 * a root POSIX identity (tenant directories belong to each tenant's uid, mode 0700, so only root can
 * remove them), a security group whose only egress is NFS to the mount targets and HTTPS to the VPC
 * endpoints and to DynamoDB's gateway endpoint, the Lambda file-system configuration, and the
 * schedule that runs its `sweep` action.
 *
 * IAM for the mount is in binders.ts (Purge): ClientMount/ClientWrite/ClientRootAccess only with
 * `elasticfilesystem:AccessPointArn` = this access point. The file-system policy stays generic
 * (TLS required, access point required, no ClientRootAccess in it): root access comes from this
 * one role's identity policy, never from the file system's policy.
 */
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as efs from 'aws-cdk-lib/aws-efs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { HouseFunctionVpc } from './house-function';

/** Where the Purge function sees /tenants (TENANTS_MOUNT_PATH). Lambda requires a path under /mnt/. */
export const TENANTS_MOUNT_PATH = '/mnt/tenants';
/** The directory every tenant access point lives under (`/tenants/<id>`). */
export const TENANTS_ROOT = '/tenants';

export interface PurgeAccessProps {
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly fileSystem: efs.FileSystem;
  readonly endpointsSecurityGroup: ec2.ISecurityGroup;
  readonly logRetention: logs.RetentionDays;
}

export class PurgeAccess extends Construct {
  readonly accessPoint: efs.AccessPoint;
  readonly securityGroup: ec2.SecurityGroup;
  /** Pass to HouseFunction as `vpc`. */
  readonly functionVpc: HouseFunctionVpc;
  /** The Region's DynamoDB prefix list (looked up at deploy time), for other in-VPC functions too. */
  readonly dynamoDbPrefixListId: string;

  constructor(scope: Construct, id: string, props: PurgeAccessProps) {
    super(scope, id);

    this.accessPoint = props.fileSystem.addAccessPoint('PurgeAccessPoint', {
      path: TENANTS_ROOT,
      // Root: tenant directories are owned by each tenant's uid with mode 0700.
      posixUser: { uid: '0', gid: '0' },
      // Used only if /tenants does not exist yet: root-owned, traversable, not listable by tenants.
      createAcl: { ownerUid: '0', ownerGid: '0', permissions: '711' },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-purge`,
      description: 'OCTW purge function: NFS to EFS, HTTPS to the VPC endpoints and DynamoDB only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(props.endpointsSecurityGroup, ec2.Port.tcp(443), 'HTTPS to the VPC interface endpoints (Step Functions)');
    this.dynamoDbPrefixListId = dynamoDbPrefixListId(this, props.logRetention);
    this.securityGroup.addEgressRule(
      ec2.Peer.prefixList(this.dynamoDbPrefixListId),
      ec2.Port.tcp(443),
      'HTTPS to DynamoDB through its gateway endpoint',
    );
    // NFS egress to the EFS security group is added by Lambda from the file-system connections.

    this.functionVpc = {
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [this.securityGroup],
      // Built by hand instead of FileSystem.fromEfsAccessPoint: that one also grants ClientWrite on the
      // whole file system without the access-point condition; the Purge binder grants the scoped set.
      filesystem: new AccessPointMount({
        arn: this.accessPoint.accessPointArn,
        localMountPath: TENANTS_MOUNT_PATH,
        connections: props.fileSystem.connections,
        dependency: [props.fileSystem.mountTargetsAvailable],
      }),
    };
  }

  /** Runs the Purge function's `sweep` action on `schedule` (EventBridge rule, default bus). */
  schedule(fn: lambda.IFunction, schedule: string, prefix: string): { rule: events.Rule; deadLetterQueue: sqs.Queue } {
    const deadLetterQueue = new sqs.Queue(this, 'SweepDeadLetterQueue', {
      queueName: `${prefix}-purge-sweep-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the purge-sweep rule target.' },
      { id: 'Serverless-SQSRedrivePolicy', reason: 'This queue is itself a dead-letter queue.' },
    );
    const rule = new events.Rule(this, 'SweepSchedule', {
      ruleName: `${prefix}-purge-sweep`,
      description: 'Finds DEPROVISIONED tenants whose data retention has ended and starts their PurgeTenant runs',
      schedule: events.Schedule.expression(schedule),
      targets: [
        new targets.LambdaFunction(fn, {
          event: events.RuleTargetInput.fromObject({ action: 'sweep' }),
          deadLetterQueue,
          retryAttempts: 3,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
    return { rule, deadLetterQueue };
  }
}

/** A Lambda EFS mount that grants nothing by itself (lambda.FileSystem's constructor is protected). */
export class AccessPointMount extends lambda.FileSystem {
  constructor(config: Omit<lambda.FileSystemConfig, 'policies'>) {
    super({ ...config, policies: [] });
  }
}

/**
 * The id of the AWS-managed prefix list `com.amazonaws.<region>.dynamodb`, looked up at deploy time
 * (a synth-time lookup would need credentials; the stack is environment-agnostic).
 */
function dynamoDbPrefixListId(scope: Construct, logRetention: logs.RetentionDays): string {
  const lookup = new cr.AwsCustomResource(scope, 'DynamoDbPrefixList', {
    onUpdate: {
      service: 'EC2',
      action: 'DescribeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${Aws.REGION}.dynamodb`] }] },
      physicalResourceId: cr.PhysicalResourceId.of(`dynamodb-prefix-list-${Aws.REGION}`),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    },
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] }),
    ]),
    installLatestAwsSdk: false,
    logGroup: new logs.LogGroup(scope, 'DynamoDbPrefixListLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY }),
  });
  const policy = lookup.node.tryFindChild('CustomResourcePolicy');
  if (policy) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeManagedPrefixLists supports no resource-level permissions; it is read-only and runs once per deployment.',
    });
  }
  acknowledgeCustomResourceProvider(Stack.of(scope));
  return lookup.getResponseField('PrefixLists.0.PrefixListId');
}

/** The singleton Lambda CDK uses for every AwsCustomResource of the stack. */
function acknowledgeCustomResourceProvider(stack: Stack): void {
  const provider = stack.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!provider) return;
  const reason = 'CDK\'s own AwsCustomResource provider (one describe call at deploy time, never invoked by tenants); its runtime, role and settings are managed by aws-cdk-lib.';
  Validations.of(provider).acknowledge(
    { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason },
    { id: 'Serverless-LambdaDLQ', reason },
    { id: 'Serverless-LambdaTracing', reason },
    { id: 'Serverless-LambdaDefaultMemorySize', reason },
  );
}
