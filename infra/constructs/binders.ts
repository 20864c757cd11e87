/**
 * Least-privilege binders: what each control-plane function may do, and nothing more. One binder per
 * handler of functions/handlers/catalogue.ts (a new handler without a binder does not compile).
 * Conditions are used wherever the API supports them; every wildcard carries its own acknowledgement.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MANAGED_BY, TAG_ACCESS_POINT, TAG_CELL, TAG_MANAGED_BY, TAG_TENANT } from '../../functions/domain/naming';
import type { HandlerKey } from '../../functions/handlers/catalogue';
import { TENANTS_TABLE_KEYS } from '../../functions/shared/table-schema';
import { cellTenantArns, ecsArns, tenantArns } from './arns';
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
  /** The cell's egress policy table, when the cell has an egress proxy (issue 10). */
  readonly egressPolicyTableArn?: string | undefined;
  /** Issue 12: the cell has an ingress tier (tenant groups then admit its security group on the gateway port). */
  readonly ingressEnabled?: boolean;
  /**
   * Issue 14.1: the cell's state machines whose gateway waits are resumed by task token (provision,
   * resume, update): the only resources SendTaskSuccess/Failure/Heartbeat are allowed on.
   */
  readonly gatewayWaitStateMachineArns?: readonly string[];
  /** Issue 13: the cell's reconcile repairs (cdk.json reconcile.mode "repair"); otherwise the Reconcile function only reads. */
  readonly reconcileRepair?: boolean;
  /** Issue 13.4: the Restore function's access point (root /, uid 0), the cell's vault, AWS Backup's restore role. */
  readonly restoreAccessPointArn?: string;
  readonly backupVaultArn?: string;
  readonly backupRestoreRoleArn?: string;
  readonly resumeStateMachineArn?: string;
  /** Buckets an export may write to (cdk.json `backup.exportBuckets`); none: exports are refused by IAM. */
  readonly exportBuckets?: readonly string[];
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

/** Only this cell's resources: the `octw:cell` tag on an existing resource. */
const cellTag = (cellId: string) => ({ [`aws:ResourceTag/${TAG_CELL}`]: cellId });

/** The one tenant record the step works on: read it and move it with a conditional update. */
const tenantRecordUpdates = (fn: HouseFunction, ctx: BinderContext) =>
  fn.allow([statement('TenantRecord', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [ctx.tableArn])]);

const putEvents = (ctx: BinderContext) => statement('LifecycleEvents', ['events:PutEvents'], [ctx.eventBusArn]);

/** Issue 14.1: resume a gateway wait, on the cell's waiting state machines only. */
const resumeGatewayWaits = (ctx: BinderContext, heartbeat: boolean) =>
  statement(
    'ResumeGatewayWaits',
    ['states:SendTaskSuccess', 'states:SendTaskFailure', ...(heartbeat ? ['states:SendTaskHeartbeat'] : [])],
    [...(ctx.gatewayWaitStateMachineArns ?? [])],
  );

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
      // An update's channel credential references are checked (name prefix and tags) before they are
      // recorded: metadata only, never GetSecretValue, and only this cell's tenant credential secrets.
      statement('DescribeTenantCredentials', ['secretsmanager:DescribeSecret'], [cellTenantArns(Stack.of(fn), ctx.cellId).credentials]),
    ], [
      {
        id: `AwsSolutions-IAM5[Resource::${cellTenantArns(Stack.of(fn), ctx.cellId).nag.credentials}]`,
        reason: "Tenant credential secrets are created per tenant at run time under octw/tenants/<cell>/<id>/credentials/; the function reads their metadata and tags (DescribeSecret) to refuse another tenant's or cell's secret, never a value.",
      },
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
          // No ModifySecurityGroupRules. AuthorizeSecurityGroupIngress only when the cell has an
          // ingress tier: the one rule ever authorised is the ingress tier's group on the gateway
          // port (functions/adapters/security-groups.ts reconcileIngress); any other ingress rule
          // (one added by hand) is revoked.
          [
            'ec2:AuthorizeSecurityGroupEgress',
            'ec2:RevokeSecurityGroupEgress',
            ...(ctx.ingressEnabled ? ['ec2:AuthorizeSecurityGroupIngress'] : []),
            'ec2:RevokeSecurityGroupIngress',
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

  /** The only writer of the egress policy table: its tenant items and the #version marker, and the tenants' proxy URL secrets. */
  Egress: (fn, ctx) => {
    tenantRecordUpdates(fn, ctx);
    // The policy diff of an update is appended to the tenant's audit trail (a new item, never an overwrite).
    fn.allow([statement('TenantAudit', ['dynamodb:PutItem'], [ctx.tableArn])]);
    if (!ctx.egressPolicyTableArn) return;
    const proxySecrets = Stack.of(fn).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `octw/tenants/${ctx.cellId}/*/egress-proxy-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const nagProxySecrets = `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:octw/tenants/${ctx.cellId}/*/egress-proxy-*`;
    fn.allow(
      [
        // TransactWriteItems is authorised per item action: Put/Delete of a tenant item, Update of #version.
        statement('EgressPolicyItems', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [ctx.egressPolicyTableArn]),
        statement('CreateTaggedProxySecrets', ['secretsmanager:CreateSecret'], [proxySecrets], { StringEquals: requestTags(ctx.cellId) }),
        statement('TagProxySecretsOnCreate', ['secretsmanager:TagResource'], [proxySecrets], { StringEquals: requestTags(ctx.cellId) }),
        statement('DescribeProxySecrets', ['secretsmanager:DescribeSecret'], [proxySecrets]),
        statement('RotateDeleteRestoreProxySecrets', ['secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret', 'secretsmanager:RestoreSecret'], [proxySecrets], {
          StringEquals: cellTag(ctx.cellId),
        }),
      ],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${nagProxySecrets}]`,
          reason: "Tenants' egress-proxy URL secrets are created at run time, one per tenant, only under this cell's octw/tenants/<cell>/<tenant>/egress-proxy name and only with the octw:managed-by/octw:cell tags; changed or deleted only with this cell's tag; this function never reads secret values.",
        },
      ],
    );
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
    const cell = cellTenantArns(Stack.of(fn), ctx.cellId);
    const boundary = { 'iam:PermissionsBoundary': ctx.permissionsBoundaryArn };
    fn.allow(
      [
        // The heart of tenant isolation: no role without the boundary, only under /octw/tenants/,
        // only with this cell's name prefix and tags.
        statement('CreateBoundedTenantRoles', ['iam:CreateRole'], [cell.roles], {
          StringEquals: { ...boundary, ...requestTags(ctx.cellId) },
        }),
        // CreateRole with tags is also authorised as iam:TagRole: only with this cell's tags.
        statement('TagTenantRolesOnCreate', ['iam:TagRole'], [cell.roles], { StringEquals: requestTags(ctx.cellId) }),
        statement('WriteCellTenantRolePolicies', ['iam:PutRolePolicy'], [cell.roles], {
          StringEquals: { ...boundary, ...cellTag(ctx.cellId) },
        }),
        // Reads must answer NoSuchEntity for a role that does not exist yet: name prefix only.
        statement('ReadCellTenantRoles', ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListRoleTags'], [cell.roles]),
        statement('DeleteCellTenantRoles', ['iam:DeleteRolePolicy', 'iam:DeleteRole'], [cell.roles], { StringEquals: cellTag(ctx.cellId) }),
        // A role's octw:tenant / octw:cell / octw:access-point tags (the boundary keys on them) never
        // change after creation. CreateRole's own tags are not affected: the role has no tags yet.
        new iam.PolicyStatement({
          sid: 'NeverRetagTenantRoles',
          effect: iam.Effect.DENY,
          actions: ['iam:TagRole', 'iam:UntagRole'],
          resources: [tenantArns(Stack.of(fn)).tenantRoles],
          conditions: {
            Null: { [`aws:ResourceTag/${TAG_TENANT}`]: 'false' },
            'ForAnyValue:StringEquals': { 'aws:TagKeys': [TAG_TENANT, TAG_CELL, TAG_ACCESS_POINT] },
          },
        }),
      ],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${cell.nag.roles}]`,
          reason:
            "Tenant task roles are created at run time under /octw/tenants/ with this cell's name prefix only; creating a role or writing its policy requires the platform permissions boundary (iam:PermissionsBoundary) and this cell's tags, deleting requires this cell's tag, and no boundary-changing action is granted.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::${tenantArns(Stack.of(fn)).nag.tenantRoles}]`,
          reason: 'A Deny: no tenant role of any cell may have its octw:tenant or octw:cell tag changed or removed.',
        },
      ],
    );
    // The tenant's Bedrock application inference profiles (one per plan model), made and removed
    // with its role: created only with this cell's tags, deleted only with this cell's tag.
    const stack = Stack.of(fn);
    const profiles = `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:application-inference-profile/*`;
    const sources = [`arn:${stack.partition}:bedrock:${stack.region}::foundation-model/*`, `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:inference-profile/*`];
    fn.allow(
      [
        statement('CreateTaggedTenantInferenceProfiles', ['bedrock:CreateInferenceProfile'], [profiles, ...sources], { StringEquals: requestTags(ctx.cellId) }),
        statement('TagTenantInferenceProfilesOnCreate', ['bedrock:TagResource'], [profiles], { StringEquals: requestTags(ctx.cellId) }),
        statement('ReadInferenceProfiles', ['bedrock:GetInferenceProfile', 'bedrock:ListTagsForResource'], [profiles]),
        statement('ListInferenceProfiles', ['bedrock:ListInferenceProfiles'], ['*']),
        statement('DeleteCellTenantInferenceProfiles', ['bedrock:DeleteInferenceProfile'], [profiles], { StringEquals: cellTag(ctx.cellId) }),
      ],
      [
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'bedrock:ListInferenceProfiles supports no resource-level permissions; it is read-only metadata.' },
        {
          id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:application-inference-profile/*]',
          reason: "Tenant application inference profiles get random ids at run time; created only with this cell's octw tags, deleted only with this cell's tag, read-only otherwise.",
        },
        {
          id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*]',
          reason: "CreateInferenceProfile is also authorised on the model it copies from; the plan catalogue decides which model, in the cell's Region only.",
        },
        {
          id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/*]',
          reason: "CreateInferenceProfile is also authorised on the system cross-Region profile it copies from; the plan catalogue decides which, in the cell's Region only.",
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

  Secrets: (fn, ctx) => {
    const arns = tenantArns(Stack.of(fn));
    const cell = cellTenantArns(Stack.of(fn), ctx.cellId);
    fn.allow(
      [
        statement('CreateTaggedTenantSecrets', ['secretsmanager:CreateSecret'], [cell.secrets], {
          StringEquals: requestTags(ctx.cellId),
        }),
        // CreateSecret with tags is also authorised as TagResource: only with this cell's tags.
        statement('TagTenantSecretsOnCreate', ['secretsmanager:TagResource'], [cell.secrets], { StringEquals: requestTags(ctx.cellId) }),
        // DescribeSecret must answer ResourceNotFound for a secret that does not exist yet: name prefix only.
        statement('DescribeCellTenantSecrets', ['secretsmanager:DescribeSecret'], [cell.secrets]),
        statement('DeleteOrRestoreCellTenantSecrets', ['secretsmanager:DeleteSecret', 'secretsmanager:RestoreSecret'], [cell.secrets], {
          StringEquals: cellTag(ctx.cellId),
        }),
        // A new generation's token replaces one left from an earlier generation (never restored as it was).
        statement('RotateCellTenantSecrets', ['secretsmanager:PutSecretValue'], [cell.secrets], { StringEquals: cellTag(ctx.cellId) }),
        statement('CreateTaggedTenantLogGroups', ['logs:CreateLogGroup'], [cell.logGroups], {
          StringEquals: requestTags(ctx.cellId),
        }),
        // CreateLogGroup with tags is also authorised as TagResource / TagLogGroup: only with this cell's tags.
        statement('TagTenantLogGroupsOnCreate', ['logs:TagResource', 'logs:TagLogGroup'], [cell.logGroups], { StringEquals: requestTags(ctx.cellId) }),
        statement('ChangeCellTenantLogGroups', ['logs:PutRetentionPolicy', 'logs:DeleteLogGroup'], [cell.logGroups], {
          StringEquals: cellTag(ctx.cellId),
        }),
        statement('ReadCellTenantLogGroupTags', ['logs:ListTagsForResource'], [cell.logGroups]),
        statement('DescribeLogGroups', ['logs:DescribeLogGroups'], [arns.allLogGroups]),
        // Deprovision finds a tenant's credential secrets by name prefix (metadata only; deleted through the cell-scoped statement above).
        statement('ListSecretsMetadata', ['secretsmanager:ListSecrets'], ['*']),
        // The audit item of a credential sweep (what was deleted, what was foreign and left alone).
        statement('CredentialSweepAudit', ['dynamodb:PutItem'], [ctx.tableArn], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*'] } }),
      ],
      [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'secretsmanager:ListSecrets supports no resource-level permissions (Service Authorization Reference); it returns names and tags, never values, and every DeleteSecret stays on this cell\'s prefix with its tag.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${cell.nag.secrets}]`,
          reason: "Tenant gateway-token secrets are created at run time, only under this cell's octw/tenants/<cell>/ prefix and only with the octw:managed-by/octw:cell tags; deleted or restored only with this cell's tag; this function never reads secret values.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::${cell.nag.logGroups}]`,
          reason: "Tenant log groups are created at run time, only under this cell's /octw/tenants/<cell>/ prefix and only with the octw:managed-by/octw:cell tags; changed or deleted only with this cell's tag.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.allLogGroups}]`,
          reason: 'logs:DescribeLogGroups is authorised on the account\'s log-group:* resource only; it is read-only metadata.',
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

  /** Issue 14.1: ECS events resume gateway waits: the wait items in the table and the waiting state machines' tokens. */
  GatewayEvents: (fn, ctx) => {
    fn.allow([statement('GatewayWaitItems', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [ctx.tableArn]), resumeGatewayWaits(ctx, true)]);
  },

  Gateway: (fn, ctx) => {
    const stack = Stack.of(fn);
    const ecs = ecsArns(stack, ctx.clusterName, ctx.cellId);
    const cell = cellTenantArns(stack, ctx.cellId);
    const inCluster = { ArnEquals: { 'ecs:cluster': ecs.cluster } };
    fn.allow(
      [
        // Issue 14.1: arming a wait resumes it at once when ECS already reported the deployment's end.
        resumeGatewayWaits(ctx, false),
        statement('RegisterTaggedTaskDefinitions', ['ecs:RegisterTaskDefinition'], ['*'], { StringEquals: requestTags(ctx.cellId) }),
        statement('TagOnCreateOnly', ['ecs:TagResource'], [ecs.taskDefinitions, ecs.services], {
          StringEquals: { 'ecs:CreateAction': ['RegisterTaskDefinition', 'CreateService'] },
        }),
        statement('ReadTaskDefinitions', ['ecs:DescribeTaskDefinition', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'], ['*']),
        statement('DeleteCellTenantTaskDefinitions', ['ecs:DeleteTaskDefinitions'], [ecs.taskDefinitions], { StringEquals: cellTag(ctx.cellId) }),
        statement('CreateTaggedTenantServices', ['ecs:CreateService'], [ecs.services], {
          ...inCluster,
          StringEquals: requestTags(ctx.cellId),
        }),
        statement('ChangeCellTenantServices', ['ecs:UpdateService', 'ecs:DeleteService'], [ecs.services], { ...inCluster, StringEquals: cellTag(ctx.cellId) }),
        // DescribeServices reports a missing service as a failure, not an error: name prefix only.
        statement('DescribeCellTenantServices', ['ecs:DescribeServices'], [ecs.services], inCluster),
        statement('ListTenantTasks', ['ecs:ListTasks'], ['*'], inCluster),
        statement('DescribeTenantTasks', ['ecs:DescribeTasks'], [ecs.tasks], inCluster),
        statement('PassTenantRolesToEcsTasks', ['iam:PassRole'], [cell.roles, ctx.executionRoleArn], {
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
          reason: "Tenant task definition families (octw-<cell>--<tenant>) are registered at run time; tagging only on creation, deleting only this cell's families with this cell's tag.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::${ecs.nag.services}]`,
          reason: "Tenant services (octw-<cell>--<tenant>) are created at run time in the cell cluster only (ecs:cluster condition), creation only with the octw tags, changes only with this cell's tag.",
        },
        { id: `AwsSolutions-IAM5[Resource::${ecs.nag.tasks}]`, reason: 'Tenant tasks get ids at run time; describing is read-only and limited to the cell cluster.' },
        {
          id: `AwsSolutions-IAM5[Resource::${cell.nag.roles}]`,
          reason: "This cell's tenant task roles are created at run time under /octw/tenants/ (with the permissions boundary); they may be passed only to ecs-tasks.amazonaws.com.",
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
    // Fleet rollout restage of a SUSPENDED tenant: the record and its audit item in one conditional transaction (tenant items only).
    fn.allow([statement('RestageSuspendedTenants', ['dynamodb:PutItem'], [ctx.tableArn], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*'] } })]);
  },

  /**
   * Reads tenant records (never writes them: PURGED is the Lifecycle function's transition), starts
   * PurgeTenant runs (sweep), and mounts as root through its own access point only.
   */
  /**
   * Ingress: the tenant record (placement), and the tenant's gateway token and OIDC client secret
   * (read-only, this cell's tenant secrets only). Route management (ELBv2, Route 53) is granted by
   * the Ingress construct itself (infra/constructs/ingress.ts grantRouteManagement), only when the
   * cell has ingress.
   */
  Ingress: (fn, ctx) => {
    const cell = cellTenantArns(Stack.of(fn), ctx.cellId);
    fn.allow(
      [statement('ReadCellTenantSecrets', ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], [cell.secrets], { StringEquals: cellTag(ctx.cellId) })],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${cell.nag.secrets}]`,
          reason:
            "The handshake through a tenant's route authenticates with the tenant's gateway token, and an OIDC route needs the tenant's client secret (its tags checked with DescribeSecret first): read-only, this cell's octw/tenants/<cell>/ prefix and octw:cell tag only.",
        },
      ],
    );
    tenantRecordUpdates(fn, ctx);
  },

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
  /**
   * Budget: lists ACTIVE and SUSPENDED tenants, reads their Bedrock token metrics, claims (and, on a
   * failed notice, releases) one budget-notice item per tenant and month, puts TenantBudgetExceeded
   * events and starts SuspendTenant runs for over-budget tenants whose plan says so.
   */
  Budget: (fn, ctx) => {
    fn.allow(
      [
        statement('ListTenantsByStatus', ['dynamodb:Query'], [`${ctx.tableArn}/index/${TENANTS_TABLE_KEYS.indexes.byStatus.indexName}`]),
        // The notice items share the tenant's partition (TENANT#<id>, sk BUDGET#<month>); IAM has no sort-key condition.
        statement('BudgetNotices', ['dynamodb:PutItem', 'dynamodb:DeleteItem'], [ctx.tableArn], {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*'] },
        }),
        putEvents(ctx),
        statement('SuspendOverBudgetTenants', ['states:StartExecution'], [ctx.suspendStateMachineArn]),
        statement('ReadTokenMetrics', ['cloudwatch:GetMetricData'], ['*']),
      ],
      [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'cloudwatch:GetMetricData supports no resource-level permissions and no condition keys (Service Authorization Reference, Amazon CloudWatch); it reads metrics only.',
        },
      ],
    );
  },

  /**
   * Reconcile (issue 13): reads every tenant resource of the cell (security groups and rules, task
   * roles and their policies, services and task definitions, access points, secrets' metadata, the
   * egress policy items) and the tenants table; writes only its orphan ledger and events. With
   * `reconcileRepair` (cdk.json reconcile.mode "repair"), also what the repair re-applies through the
   * workflows' adapters, each limited to this cell's tagged resources as the workflows' own binders
   * limit them, and the removal of this cell's orphans.
   */
  Reconcile: (fn, ctx) => {
    const stack = Stack.of(fn);
    const arns = tenantArns(stack);
    const cell = cellTenantArns(stack, ctx.cellId);
    const ecs = ecsArns(stack, ctx.clusterName, ctx.cellId);
    const inCluster = { ArnEquals: { 'ecs:cluster': ecs.cluster } };
    const byCell = `${ctx.tableArn}/index/${TENANTS_TABLE_KEYS.indexes.byCell.indexName}`;
    fn.allow(
      [
        statement('ReadTenantRecords', ['dynamodb:GetItem', 'dynamodb:Query'], [ctx.tableArn, byCell]),
        // The orphan ledger: ORPHANS#<cell> items only.
        statement('OrphanLedger', ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [ctx.tableArn], {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`ORPHANS#${ctx.cellId}`] },
        }),
        putEvents(ctx),
        statement('DescribeNetwork', ['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeManagedPrefixLists'], ['*']),
        statement('ReadCellTenantRoles', ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListRoleTags'], [cell.roles]),
        statement('ListRoles', ['iam:ListRoles'], ['*']),
        statement('ReadTaskDefinitions', ['ecs:DescribeTaskDefinition'], ['*']),
        statement('ListCellServices', ['ecs:ListServices'], ['*'], inCluster),
        statement('DescribeCellTenantServices', ['ecs:DescribeServices'], [ecs.services], inCluster),
        statement('DescribeAccessPoints', ['elasticfilesystem:DescribeAccessPoints'], [ctx.fileSystemArn, arns.accessPoints]),
        statement('DescribeCellTenantSecrets', ['secretsmanager:DescribeSecret'], [cell.secrets]),
        statement('ListSecretsMetadata', ['secretsmanager:ListSecrets'], ['*']),
        ...(ctx.egressPolicyTableArn ? [statement('ReadEgressPolicyItems', ['dynamodb:GetItem'], [ctx.egressPolicyTableArn])] : []),
      ],
      [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'EC2 Describe*, iam:ListRoles, ecs:DescribeTaskDefinition and secretsmanager:ListSecrets support no resource-level permissions and are read-only; ecs:ListServices is limited to the cell cluster by the ecs:cluster condition.',
        },
        { id: `AwsSolutions-IAM5[Resource::${cell.nag.roles}]`, reason: "This cell's tenant task roles are created at run time; the reconcile reads them (and, in repair mode, writes their policy with the boundary condition, as the Identity function)." },
        { id: `AwsSolutions-IAM5[Resource::${ecs.nag.services}]`, reason: "Tenant services are created at run time in the cell cluster only (ecs:cluster condition); changed only with this cell's tag in repair mode." },
        { id: `AwsSolutions-IAM5[Resource::${arns.nag.accessPoints}]`, reason: 'Tenant access points are created at run time; describing is read-only; deleting (repair mode) only with this cell\'s octw tags.' },
        { id: `AwsSolutions-IAM5[Resource::${cell.nag.secrets}]`, reason: "This cell's tenant secrets are created at run time; the reconcile reads their metadata only (never values) and, in repair mode, deletes an orphan only with this cell's tag." },
      ],
    );
    if (!ctx.reconcileRepair) return;
    fn.allow(
      [
        statement('AuditRepairs', ['dynamodb:PutItem'], [ctx.tableArn], {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*', `CELLAUDIT#${ctx.cellId}`] },
        }),
        statement(
          'RepairCellTenantSecurityGroups',
          ['ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress', ...(ctx.ingressEnabled ? ['ec2:AuthorizeSecurityGroupIngress'] : []), 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
          [arns.securityGroups],
          { StringEquals: resourceTags(ctx.cellId) },
        ),
        statement('RepairCellTenantRolePolicies', ['iam:PutRolePolicy'], [cell.roles], {
          StringEquals: { 'iam:PermissionsBoundary': ctx.permissionsBoundaryArn, ...cellTag(ctx.cellId) },
        }),
        statement('RemoveOrphanCellTenantRoles', ['iam:DeleteRolePolicy', 'iam:DeleteRole'], [cell.roles], { StringEquals: cellTag(ctx.cellId) }),
        statement('RepairCellTenantServices', ['ecs:UpdateService', 'ecs:DeleteService'], [ecs.services], { ...inCluster, StringEquals: cellTag(ctx.cellId) }),
        statement('PassTenantRolesToEcsTasks', ['iam:PassRole'], [cell.roles, ctx.executionRoleArn], {
          StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
        }),
        statement('RemoveOrphanAccessPoints', ['elasticfilesystem:DeleteAccessPoint'], [arns.accessPoints], { StringEquals: resourceTags(ctx.cellId) }),
        statement('RemoveOrphanCellTenantSecrets', ['secretsmanager:DeleteSecret'], [cell.secrets], { StringEquals: cellTag(ctx.cellId) }),
        // The egress policy's apply (usecases/egress.ts): the tenant item and the #version marker, in one transaction.
        ...(ctx.egressPolicyTableArn ? [statement('RepairEgressPolicyItems', ['dynamodb:PutItem', 'dynamodb:UpdateItem'], [ctx.egressPolicyTableArn])] : []),
      ],
      [
        {
          id: `AwsSolutions-IAM5[Resource::${arns.nag.securityGroups}]`,
          reason: "Tenant security groups are created at run time; the repair changes or deletes only groups tagged octw:managed-by and this cell's octw:cell.",
        },
      ],
    );
  },
  /**
   * Restore (issue 13.4): reads the tenant record; starts and reads SuspendTenant / ResumeTenant runs;
   * reads recovery points of the cell's vault and starts restore jobs as AWS Backup's restore role
   * (PassRole only to backup.amazonaws.com); mounts the file system's root through its own access
   * point; writes exports only to the configured buckets and only with SSE-KMS.
   */
  Restore: (fn, ctx) => {
    if (!ctx.restoreAccessPointArn || !ctx.backupVaultArn || !ctx.backupRestoreRoleArn || !ctx.resumeStateMachineArn) {
      throw new Error('Restore binder: restoreAccessPointArn, backupVaultArn, backupRestoreRoleArn and resumeStateMachineArn are required');
    }
    const stack = Stack.of(fn);
    const machineName = (arn: string) => stack.splitArn(arn, ArnFormat.COLON_RESOURCE_NAME).resourceName ?? '';
    const executionsOf = (arn: string) => stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${machineName(arn)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const statements = [
      statement('ReadTenantRecord', ['dynamodb:GetItem'], [ctx.tableArn]),
      statement('SuspendAndResume', ['states:StartExecution'], [ctx.suspendStateMachineArn, ctx.resumeStateMachineArn]),
      statement('ReadSuspendAndResumeRuns', ['states:DescribeExecution'], [executionsOf(ctx.suspendStateMachineArn), executionsOf(ctx.resumeStateMachineArn)]),
      statement('ReadRecoveryPoints', ['backup:DescribeRecoveryPoint', 'backup:StartRestoreJob'], [
        ctx.backupVaultArn,
        stack.formatArn({ service: 'backup', resource: 'recovery-point', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ]),
      statement('ReadRestoreJobs', ['backup:DescribeRestoreJob'], ['*']),
      statement('PassRestoreRole', ['iam:PassRole'], [ctx.backupRestoreRoleArn], { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } }),
      statement(
        'MountFileSystemRootAsRoot',
        ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'],
        [ctx.fileSystemArn],
        { StringEquals: { 'elasticfilesystem:AccessPointArn': ctx.restoreAccessPointArn }, Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
      ),
      statement(
        'LambdaVpcNetworkInterfaces',
        ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        ['*'],
      ),
    ];
    const buckets = ctx.exportBuckets ?? [];
    if (buckets.length > 0) {
      statements.push(
        statement('WriteEncryptedExports', ['s3:PutObject'], buckets.map((b) => `arn:${stack.partition}:s3:::${b}/*`), {
          StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
        }),
        statement('EncryptExportsThroughS3', ['kms:GenerateDataKey'], ['*'], { StringLike: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } }),
      );
    }
    fn.allow(statements, [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'The ENI actions Lambda needs to run in a VPC and backup:DescribeRestoreJob support no resource-level permissions; kms:GenerateDataKey is limited to use through S3 (kms:ViaService) for operator keys named at export time.',
      },
      { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:backup:<AWS::Region>:<AWS::AccountId>:recovery-point:*]', reason: 'Recovery points are created daily by the cell\'s backup plan; the function is limited to the cell\'s vault name in DescribeRecoveryPoint and checks the point is a backup of the cell\'s file system.' },
      ...buckets.map((b) => ({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${b}/*]`, reason: 'Export objects are named per tenant and time under the operator-named prefix; writes require SSE-KMS.' })),
      ...[ctx.suspendStateMachineArn, ctx.resumeStateMachineArn].map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${machineName(arn)}:*]`,
        reason: 'DescribeExecution on the runs of the suspend and resume state machines only (their execution names are chosen at run time).',
      })),
    ]);
  },
  /**
   * Rollout (issue 13.1): reads tenant records (by status, and one at a time), writes only rollout
   * items (ROLLOUT#<id> partitions), lists the cell's rollouts on the byCell index, and publishes its
   * events (FleetRolloutQuotaRefused, FleetRolloutFinished). With the quota guard on, the stack adds
   * the quota reads and DescribeServices (infra/constructs/quota-guard.ts grantRolloutQuotaReads).
   */
  Rollout: (fn, ctx) =>
    fn.allow([
      statement('ReadTenantsAndRollouts', ['dynamodb:GetItem', 'dynamodb:Query'], [ctx.tableArn], {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*', 'ROLLOUT#*'] },
      }),
      statement('WriteRollouts', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'], [ctx.tableArn], {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ROLLOUT#*'] },
      }),
      statement('ListTenantsAndRollouts', ['dynamodb:Query'], [
        `${ctx.tableArn}/index/${TENANTS_TABLE_KEYS.indexes.byStatus.indexName}`,
        `${ctx.tableArn}/index/${TENANTS_TABLE_KEYS.indexes.byCell.indexName}`,
      ]),
      putEvents(ctx),
    ]),
};
