/**
 * The permissions boundary every tenant task role carries: the most a tenant role can ever do, whatever
 * inline policy the Identity workflow writes. It is scoped per tenant by itself, through the tags the
 * role was created with (`aws:PrincipalTag/...`, which the provisioner cannot change afterwards):
 * - EFS client mount/write of this cell's file system only through the access point named by the
 *   role's `octw:access-point` tag (`elasticfilesystem:AccessPointArn`), over a mount target. EFS
 *   authorises ClientMount against the file system, whose tags are the cell's, so the access point's
 *   own `octw:tenant` tag cannot be compared in the policy; the role's access-point tag, written at
 *   creation from the tenant's recorded access point, binds the same thing.
 * - its own gateway-token secret: `octw/tenants/<cell>/${aws:PrincipalTag/octw:tenant}/gateway-token-??????`;
 * - Bedrock invocation only through the cell's Region and only of the plan catalogue's models;
 * - its own log group.
 * Nothing else.
 */
import { ArnFormat, Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { bedrockResources } from '../../functions/adapters/task-roles';
import { cellLogGroupPrefix, cellSecretPrefix, TAG_ACCESS_POINT, TAG_TENANT } from '../../functions/domain/naming';

export interface TenantPermissionsBoundaryProps {
  readonly prefix: string;
  readonly cellId: string;
  readonly fileSystemArn: string;
  /** Every Bedrock model id of the plan catalogue (foundation models or inference profiles). */
  readonly bedrockModels: readonly string[];
}

/** A policy variable: IAM substitutes the calling role's tag at request time. */
const principalTag = (key: string) => `\${aws:PrincipalTag/${key}}`;

export class TenantPermissionsBoundary extends Construct {
  readonly policy: iam.ManagedPolicy;
  /** ARN built from the fixed name, so referring to it creates no dependency. */
  readonly policyArn: string;

  constructor(scope: Construct, id: string, props: TenantPermissionsBoundaryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = `${props.prefix}-tenant-boundary`;
    const tenant = principalTag(TAG_TENANT);
    const ownAccessPoint = stack.formatArn({
      service: 'elasticfilesystem',
      resource: 'access-point',
      resourceName: principalTag(TAG_ACCESS_POINT),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const ownSecret = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      // Secrets Manager appends "-" and 6 random characters to the name.
      resourceName: `${cellSecretPrefix(props.cellId)}${tenant}/gateway-token-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const ownLogGroup = `${cellLogGroupPrefix(props.cellId)}${tenant}`;
    const logs = [
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: ownLogGroup, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${ownLogGroup}:log-stream:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    ];
    const models = [...new Set(props.bedrockModels)].sort();
    const statements = [
      new iam.PolicyStatement({
        sid: 'OwnAccessPointOnly',
        actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        resources: [props.fileSystemArn],
        conditions: {
          StringEquals: { 'elasticfilesystem:AccessPointArn': ownAccessPoint },
          Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
        },
      }),
      new iam.PolicyStatement({
        sid: 'OwnGatewayTokenOnly',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [ownSecret],
      }),
      new iam.PolicyStatement({
        sid: 'OwnLogGroupOnly',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: logs,
      }),
    ];
    if (models.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'CatalogueBedrockModelsInTheCellRegion',
          actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
          resources: bedrockResources(models, { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID }),
          // Requests go to the cell's Region only (a cross-Region inference profile is still called there).
          conditions: { StringEquals: { 'aws:RequestedRegion': Aws.REGION } },
        }),
      );
    }
    if (models.length > 0) {
      // Tenant roles invoke through their own application inference profiles (the role policy names
      // them one by one); the boundary admits application profiles of this account and Region only,
      // and any guardrail of it (the role policy names the plan's).
      statements.push(
        new iam.PolicyStatement({
          sid: 'ApplicationInferenceProfilesInTheCellRegion',
          actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
          resources: [stack.formatArn({ service: 'bedrock', resource: 'application-inference-profile', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
        }),
        new iam.PolicyStatement({
          sid: 'GuardrailsInTheCellRegion',
          actions: ['bedrock:ApplyGuardrail'],
          resources: [stack.formatArn({ service: 'bedrock', resource: 'guardrail', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
        }),
      );
    }
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: name,
      description: 'OCTW: the most any tenant task role may do, scoped to the role\'s own tenant by its tags',
      statements,
    });
    this.policyArn = stack.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const why = "A permissions boundary caps tenant roles created at run time; the ${aws:PrincipalTag/...} variable narrows it to the role's own tenant";
    Validations.of(this.policy).acknowledge(
      ...(models.length > 0
        ? [
            {
              id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:application-inference-profile/*]',
              reason: "Each tenant's application inference profiles get ids at run time; the boundary caps the cell's Region and account, each role's own policy names its own profiles only.",
            },
            {
              id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:guardrail/*]',
              reason: "Plan guardrails are configured in cdk.json; the boundary caps the cell's Region and account, each role's own policy names its plan's guardrail only.",
            },
          ]
        : []),
      // cdk-nag prints the policy variable ${aws:PrincipalTag/k} as <aws:PrincipalTag/k>.
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${cellLogGroupPrefix(props.cellId)}<aws:PrincipalTag/${TAG_TENANT}>:log-stream:*]`, reason: `${why}: log streams of its own log group, created by the awslogs driver at run time.` },
      ...models
        .filter((m) => /^(us|eu|apac|jp|au|ca|global)\./.test(m))
        .map((m) => ({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${m.replace(/^[a-z]+\./, '')}]`,
          reason: `${why}: a cross-Region inference profile of the catalogue routes to this foundation model in several Regions; requests are still accepted only in the cell's Region (aws:RequestedRegion).`,
        })),
    );
  }
}
