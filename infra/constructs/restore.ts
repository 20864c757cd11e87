/**
 * What the Restore function needs beyond a house function (issue 13.4): its own EFS access point on
 * the file system's ROOT with a root POSIX identity (AWS Backup restores items into
 * /aws-backup-restore_<datetime> off the root, and tenant directories are 0700 per tenant uid), a
 * security group whose only egress is NFS to the mount targets and HTTPS to the VPC endpoints and
 * DynamoDB, and the role AWS Backup assumes for the restore job (AWS's managed restore policy).
 *
 * The cell's VPC endpoints must include AWS Backup and S3 (gateway) for the function to reach them from
 * the task subnets; network.ts does not add them (left for the merge: see the report).
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { HouseFunctionVpc } from './house-function';
import { AccessPointMount } from './purge';

/** Where the Restore function sees the file system's root (BACKUP_JSON.fileSystemMountPath). */
export const FILE_SYSTEM_MOUNT_PATH = '/mnt/efs';

export interface RestoreAccessProps {
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly fileSystem: efs.FileSystem;
  readonly endpointsSecurityGroup: ec2.ISecurityGroup;
  readonly dynamoDbPrefixListId: string;
}

export class RestoreAccess extends Construct {
  readonly accessPoint: efs.AccessPoint;
  readonly securityGroup: ec2.SecurityGroup;
  readonly functionVpc: HouseFunctionVpc;
  /** The role AWS Backup assumes to run the restore job. */
  readonly restoreRole: iam.Role;

  constructor(scope: Construct, id: string, props: RestoreAccessProps) {
    super(scope, id);
    this.accessPoint = props.fileSystem.addAccessPoint('RestoreAccessPoint', {
      path: '/',
      posixUser: { uid: '0', gid: '0' },
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-restore`,
      description: 'OCTW restore function: NFS to EFS, HTTPS to the VPC endpoints and DynamoDB only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(props.endpointsSecurityGroup, ec2.Port.tcp(443), 'HTTPS to the VPC interface endpoints (Backup, Step Functions, S3)');
    this.securityGroup.addEgressRule(ec2.Peer.prefixList(props.dynamoDbPrefixListId), ec2.Port.tcp(443), 'HTTPS to DynamoDB through its gateway endpoint');
    this.functionVpc = {
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [this.securityGroup],
      filesystem: new AccessPointMount({
        arn: this.accessPoint.accessPointArn,
        localMountPath: FILE_SYSTEM_MOUNT_PATH,
        connections: props.fileSystem.connections,
        dependency: [props.fileSystem.mountTargetsAvailable],
      }),
    };
    this.restoreRole = new iam.Role(this, 'BackupRestoreRole', {
      roleName: `${props.prefix}-backup-restore`,
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'Assumed by AWS Backup to restore one tenant directory into the cell file system',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForRestores')],
    });
    Validations.of(this.restoreRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
      reason: "AWS Backup's own managed restore policy is what AWS documents for the role a restore job runs as; it is assumable only by backup.amazonaws.com.",
    });
  }
}
