/**
 * Least-privilege binders: what each control-plane function may do, and nothing more. One binder per
 * handler of functions/handlers/catalogue.ts (a new handler without a binder does not compile).
 * Conditions are used wherever the API supports them; every wildcard carries its own acknowledgement.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MANAGED_BY, TAG_CELL, TAG_MANAGED_BY } from '../../functions/domain/naming';
import type { HandlerKey } from '../../functions/handlers/catalogue';
import { TENANTS_TABLE_KEYS } from '../../functions/shared/table-schema';
import { ecsArns, tenantArns } from './arns';
import type { HouseFunction } from './house-function';

/** Everything the binders may refer to. ARNs only; no construct references needed. */
export interface BinderContext {
  readonly cellId: string;
  readonly tableArn: string;
  readonly tableIndexArns: readonly string[];
  readonly eventBusArn: string;
  readonly provisionStateMachineArn: string;
  readonly purgeStateMachineArn: string;
  /** The Purge function's own access point (root /tenants, uid 0). */
  readonly purgeAccessPointArn: string;
  /** The Usage function's own access point (root /tenants, uid 0, mounted read-only). */
  readonly usageAccessPointArn: string;
  readonly suspendStateMachineArn: string;
  readonly vpcId: string;
  readonly fileSystemArn: string;
  readonly permissionsBoundaryArn: string;
  readonly clusterName: string;
  readonly executionRoleArn: string;
}

export type Binder = (fn: HouseFunction, ctx: BinderContext) => void;

const statement = (sid: string, actions: string[], resources: string[], conditions?: iam.PolicyStatementProps['conditions']) =>
  new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });

/** Tags a request must carry to create a tenant resource. */
const requestTags = (cellId: string) => ({
  [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY,
  [`aws:RequestTag/${TAG_CELL}`]: cellId,
});
/** Tags an existing resource must carry to be changed or deleted. */
const resourceTags = (cellId: string) => ({
  [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY,
  [`aws:ResourceTag/${TAG_CELL}`]: cellId,
});

/** The one tenant record the step works on: read it and move it with a conditional update. */
const tenantRecordUpdates = (fn: HouseFunction, ctx: BinderContext) =>
  fn.allow([statement('TenantRecord', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [ctx.tableArn])]);

const putEvents = (ctx: BinderContext) => statement('LifecycleEvents', ['events:PutEvents'], [ctx.eventBusArn]);

export const BINDERS: Readonly<Record<HandlerKey, Binder>> = {
  Intake: (fn, ctx) =>
    fn.allow([
      // Transactions are authorised per item action (there is no TransactWriteItems IAM action).
      statement(
        'TenantRecords',
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem', 'dynamodb:Query'],
        [ctx.tableArn],
      ),
      statement('StartProvisioning', ['states:StartExecution'], [ctx.provisionStateMachineArn]),
      putEvents(ctx),
    ]),

  Lifecycle: (fn, ctx) =>
    fn.allow([
      statement(
        'TenantRecords',
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem', 'dynamodb:Query'],
        [ctx.tableArn],
      ),
      statement('TenantIndexes', ['dynamodb:Query'], [...ctx.tableIndexArns]),
      putEvents(ctx),
    ]),

  Network: (fn, ctx) => {
    const arns = tenantArns(Stack.of(fn));
    const vpcArn = Stack.of(fn).formatArn({ service: 'ec2', resource: 'vpc', resourceName: ctx.vpcId });
    fn.allow(
      [
        statement('CreateSecurityGroupInCellVpc', ['ec2:CreateSecurityGroup'], [vpcArn]),
        statement('CreateTaggedSecurityGroup', ['ec2:CreateSecurityGroup'], [arns.securityGroups], {
          StringEquals: requestTags(ctx.cellId),
        }),
        statement('TagOnCreateOnly', ['ec2:CreateTags'], [arns.securityGroups], {
          StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' },
        }),
        statement(
          'ChangeTenantSecurityGroups',
          [
            'ec2:AuthorizeSecurityGroupEgress',
            'ec2:RevokeSecurityGroupEgress',
            'ec2:AuthorizeSecurityGroupIngress',
            'ec2:RevokeSecurityGroupIngress',
            'ec2:ModifySecurityGroupRules',
            'ec2:DeleteSecurityGroup',
          ],
          [arns.securityGroups],
          { StringEquals: resourceTags(ctx.cellId) },
        ),
        statement(
          'Describe',
          ['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeManagedPrefixLists', 'ec2:DescribeNetworkInterfaces'],
          ['*'],
        ),
      ],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.securityGroups}]`,
          reason:
            'Tenant security groups are created at run time; creation requires the octw:managed-by/octw:cell request tags, tagging only happens inside CreateSecurityGroup, and every change or delete requires those tags on the group (platform groups do not carry octw:managed-by).',
        },
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'EC2 Describe* actions support no resource-level permissions; they are read-only.' },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

  Storage: (fn, ctx) => {
    const arns = tenantArns(Stack.of(fn));
    fn.allow(
      [
        statement('CreateTaggedAccessPoint', ['elasticfilesystem:CreateAccessPoint'], [ctx.fileSystemArn], {
          StringEquals: requestTags(ctx.cellId),
        }),
        statement('TagOnCreateOnly', ['elasticfilesystem:TagResource'], [arns.accessPoints], {
          StringEquals: { 'elasticfilesystem:CreateAction': 'CreateAccessPoint' },
        }),
        statement('DeleteTenantAccessPoint', ['elasticfilesystem:DeleteAccessPoint'], [arns.accessPoints], {
          StringEquals: resourceTags(ctx.cellId),
        }),
        statement('DescribeAccessPoints', ['elasticfilesystem:DescribeAccessPoints'], [ctx.fileSystemArn, arns.accessPoints]),
      ],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.accessPoints}]`,
          reason:
            'Tenant access points are created at run time; tagging is allowed only inside CreateAccessPoint, deleting only for access points tagged octw:managed-by/octw:cell, describing is read-only.',
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

  Identity: (fn, ctx) => {
    const arns = tenantArns(Stack.of(fn));
    fn.allow(
      [
        // The heart of tenant isolation: no role without the boundary, and only under /octw/tenants/.
        statement('CreateBoundedTenantRoles', ['iam:CreateRole', 'iam:PutRolePolicy'], [arns.tenantRoles], {
          StringEquals: { 'iam:PermissionsBoundary': ctx.permissionsBoundaryArn },
        }),
        statement(
          'ManageTenantRoles',
          ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:DeleteRolePolicy', 'iam:DeleteRole', 'iam:TagRole', 'iam:ListRoleTags'],
          [arns.tenantRoles],
        ),
      ],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.tenantRoles}]`,
          reason:
            'Tenant task roles are created at run time under the /octw/tenants/ path only; creating a role or writing its policy requires the platform permissions boundary (iam:PermissionsBoundary), and no boundary-changing action is granted.',
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

  Secrets: (fn, ctx) => {
    const arns = tenantArns(Stack.of(fn));
    fn.allow(
      [
        statement('CreateTaggedTenantSecrets', ['secretsmanager:CreateSecret'], [arns.tenantSecrets], {
          StringEquals: requestTags(ctx.cellId),
        }),
        statement(
          'ManageTenantSecrets',
          ['secretsmanager:DescribeSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:TagResource', 'secretsmanager:RestoreSecret'],
          [arns.tenantSecrets],
        ),
        statement('CreateTaggedTenantLogGroups', ['logs:CreateLogGroup'], [arns.tenantLogGroups], {
          StringEquals: requestTags(ctx.cellId),
        }),
        statement(
          'ManageTenantLogGroups',
          ['logs:PutRetentionPolicy', 'logs:DeleteLogGroup', 'logs:TagResource', 'logs:TagLogGroup'],
          [arns.tenantLogGroups],
        ),
        statement('DescribeLogGroups', ['logs:DescribeLogGroups'], [arns.allLogGroups]),
      ],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.tenantSecrets}]`,
          reason: 'Tenant gateway-token secrets are created at run time, only under octw/tenants/ and only with the octw:managed-by/octw:cell tags; this function never reads secret values.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.tenantLogGroups}]`,
          reason: 'Tenant log groups are created at run time, only under /octw/tenants/ and only with the octw:managed-by/octw:cell tags.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.allLogGroups}]`,
          reason: 'logs:DescribeLogGroups is authorised on the account\'s log-group:* resource only; it is read-only metadata.',
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

  Gateway: (fn, ctx) => {
    const stack = Stack.of(fn);
    const arns = tenantArns(stack);
    const ecs = ecsArns(stack, ctx.clusterName);
    const inCluster = { ArnEquals: { 'ecs:cluster': ecs.cluster } };
    fn.allow(
      [
        statement('RegisterTaggedTaskDefinitions', ['ecs:RegisterTaskDefinition'], ['*'], { StringEquals: requestTags(ctx.cellId) }),
        statement('TagOnCreateOnly', ['ecs:TagResource'], [ecs.taskDefinitions, ecs.services], {
          StringEquals: { 'ecs:CreateAction': ['RegisterTaskDefinition', 'CreateService'] },
        }),
        statement('ReadTaskDefinitions', ['ecs:DescribeTaskDefinition', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'], ['*']),
        statement('DeleteTenantTaskDefinitions', ['ecs:DeleteTaskDefinitions'], [ecs.taskDefinitions]),
        statement('CreateTaggedTenantServices', ['ecs:CreateService'], [ecs.services], {
          ...inCluster,
          StringEquals: requestTags(ctx.cellId),
        }),
        statement('ManageTenantServices', ['ecs:UpdateService', 'ecs:DeleteService', 'ecs:DescribeServices'], [ecs.services], inCluster),
        statement('ListTenantTasks', ['ecs:ListTasks'], ['*'], inCluster),
        statement('DescribeTenantTasks', ['ecs:DescribeTasks'], [ecs.tasks], inCluster),
        statement('PassTenantRolesToEcsTasks', ['iam:PassRole'], [arns.tenantRoles, ctx.executionRoleArn], {
          StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
        }),
      ],
      [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ecs:RegisterTaskDefinition (allowed only with the octw:managed-by/octw:cell request tags), DescribeTaskDefinition, ListTaskDefinitions and DeregisterTaskDefinition support no resource-level permissions; ListTasks is limited to the cell cluster by the ecs:cluster condition.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${ecs.nag.taskDefinitions}]`,
          reason: 'Tenant task definition families (octw-<tenant>) are registered at run time; tagging only on creation, deleting only octw-* families.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${ecs.nag.services}]`,
          reason: 'Tenant services (octw-<tenant>) are created at run time in the cell cluster only (ecs:cluster condition), creation only with the octw tags.',
        },
        { id: `AwsSolutions-IAM5[Resource::${ecs.nag.tasks}]`, reason: 'Tenant tasks get ids at run time; describing is read-only and limited to the cell cluster.' },
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.tenantRoles}]`,
          reason: 'Tenant task roles are created at run time under /octw/tenants/ (with the permissions boundary); they may be passed only to ecs-tasks.amazonaws.com.',
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

  /**
   * Reads tenant records (never writes them: PURGED is the Lifecycle function's transition), starts
   * PurgeTenant runs (sweep), and mounts as root through its own access point only.
   */
  Purge: (fn, ctx) => {
    const onlyPurgeAccessPoint = {
      StringEquals: { 'elasticfilesystem:AccessPointArn': ctx.purgeAccessPointArn },
      Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
    };
    fn.allow(
      [
        statement('ReadTenantRecord', ['dynamodb:GetItem'], [ctx.tableArn]),
        statement('ListTenantsByStatus', ['dynamodb:Query'], [`${ctx.tableArn}/index/${TENANTS_TABLE_KEYS.indexes.byStatus.indexName}`]),
        statement('StartPurgeRuns', ['states:StartExecution'], [ctx.purgeStateMachineArn]),
        // Root on its own access point only (tenant directories are 0700, owned by each tenant's uid).
        statement(
          'MountTenantsRootAsRoot',
          ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'],
          [ctx.fileSystemArn],
          onlyPurgeAccessPoint,
        ),
        statement(
          'LambdaVpcNetworkInterfaces',
          [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          ['*'],
        ),
      ],
      [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'The ENI actions Lambda needs to run a function in a VPC (the content of AWSLambdaVPCAccessExecutionRole) support no resource-level permissions.',
        },
      ],
    );
  },
  /**
   * Usage: lists ACTIVE and SUSPENDED tenants, reads their directories through its own access point
   * READ-ONLY (ClientMount and ClientRootAccess, never ClientWrite), puts TenantOverQuota events and
   * starts SuspendTenant runs for over-quota tenants whose plan says so.
   */
  Usage: (fn, ctx) => {
    fn.allow(
      [
        statement('ListTenantsByStatus', ['dynamodb:Query'], [`${ctx.tableArn}/index/${TENANTS_TABLE_KEYS.indexes.byStatus.indexName}`]),
        putEvents(ctx),
        statement('SuspendOverQuotaTenants', ['states:StartExecution'], [ctx.suspendStateMachineArn]),
        // Root (to read the tenants' 0700 directories) on its own access point only, and no ClientWrite: read-only.
        statement(
          'MountTenantsRootReadOnly',
          ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientRootAccess'],
          [ctx.fileSystemArn],
          {
            StringEquals: { 'elasticfilesystem:AccessPointArn': ctx.usageAccessPointArn },
            Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
          },
        ),
        statement(
          'LambdaVpcNetworkInterfaces',
          [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          ['*'],
        ),
      ],
      [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'The ENI actions Lambda needs to run a function in a VPC (the content of AWSLambdaVPCAccessExecutionRole) support no resource-level permissions.',
        },
      ],
    );
  },
};
