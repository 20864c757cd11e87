/**
 * Tenant state storage: one encrypted EFS file system per cell with mount targets in every private
 * subnet and a generic file-system policy (TLS required, access point required, no anonymous
 * access), backed up by an AWS Backup plan. Per-tenant access points are created by the workflows.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface StorageProps {
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly backupRetentionDays: number;
  /** `cron(...)` expression of the daily backup. */
  readonly backupSchedule: string;
}

const CLIENT_ACTIONS = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'];

export class Storage extends Construct {
  readonly fileSystem: efs.FileSystem;
  readonly backupPlan: backup.BackupPlan;
  /** The cell's backup vault (issue 13.4: per-tenant restores read its recovery points). */
  readonly vault: backup.BackupVault;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'DenyWithoutTls',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['*'],
          conditions: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        new iam.PolicyStatement({
          sid: 'DenyWithoutAccessPoint',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: CLIENT_ACTIONS,
          conditions: { Null: { 'elasticfilesystem:AccessPointArn': 'true' } },
        }),
        // Only IAM-authenticated principals of this account, through a mount target; their own identity
        // policy (tenant roles: only their access point) decides the rest. No statement names the
        // anonymous principal, so clients that mount without IAM authorization are refused.
        new iam.PolicyStatement({
          sid: 'AllowAccountPrincipalsViaMountTarget',
          effect: iam.Effect.ALLOW,
          principals: [new iam.AccountRootPrincipal()],
          actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          conditions: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
        }),
      ],
    });

    this.fileSystem = new efs.FileSystem(this, 'FileSystem', {
      fileSystemName: `${props.prefix}-tenants`,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroup: props.securityGroup,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      lifecyclePolicy: efs.LifecyclePolicy.AFTER_30_DAYS,
      outOfInfrequentAccessPolicy: efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
      enableAutomaticBackups: false, // the Backup plan below replaces the default one
      fileSystemPolicy: policy,
      // `true` only stops CDK from appending its own allow-everyone-via-mount-target statement
      // (which would grant ClientRootAccess); the policy above already refuses anonymous access.
      allowAnonymousAccess: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const vault = (this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: `${props.prefix}-tenants`,
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    this.backupPlan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `${props.prefix}-tenants`,
      backupVault: vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'daily',
          scheduleExpression: events.Schedule.expression(props.backupSchedule),
          deleteAfter: Duration.days(props.backupRetentionDays),
        }),
      ],
    });
    const selection = this.backupPlan.addSelection('FileSystem', {
      resources: [backup.BackupResource.fromEfsFileSystem(this.fileSystem)],
    });
    const backupRole = selection.node.tryFindChild('Role');
    if (backupRole) {
      Validations.of(backupRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
        reason: 'AWS Backup\'s own service-role policy, maintained by AWS for the backup service role; it is only assumable by backup.amazonaws.com.',
      });
    }
  }
}
