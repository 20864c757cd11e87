/**
 * The permissions boundary every tenant task role carries: the most a tenant role can ever do, whatever
 * inline policy the Identity workflow writes. Mount/write this cell's file system, read tenant secrets,
 * invoke Bedrock models, write tenant logs. Nothing else.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { tenantArns } from './arns';

export interface TenantPermissionsBoundaryProps {
  readonly prefix: string;
  readonly fileSystemArn: string;
}

export class TenantPermissionsBoundary extends Construct {
  readonly policy: iam.ManagedPolicy;
  /** ARN built from the fixed name, so referring to it creates no dependency. */
  readonly policyArn: string;

  constructor(scope: Construct, id: string, props: TenantPermissionsBoundaryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const arns = tenantArns(stack);
    const name = `${props.prefix}-tenant-boundary`;
    const bedrock = {
      foundationModels: stack.formatArn({ service: 'bedrock', account: '', region: '*', resource: 'foundation-model', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      inferenceProfiles: stack.formatArn({ service: 'bedrock', region: '*', resource: 'inference-profile', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    };
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: name,
      description: 'OCTW: the most any tenant task role may do',
      statements: [
        new iam.PolicyStatement({
          sid: 'TenantFileSystem',
          actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          resources: [props.fileSystemArn],
        }),
        new iam.PolicyStatement({
          sid: 'TenantSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [arns.tenantSecrets],
        }),
        new iam.PolicyStatement({
          sid: 'Bedrock',
          actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
          resources: [bedrock.foundationModels, bedrock.inferenceProfiles],
        }),
        new iam.PolicyStatement({
          sid: 'TenantLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [arns.tenantLogGroups, arns.tenantLogStreams],
        }),
      ],
    });
    this.policyArn = stack.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const why = 'A permissions boundary caps tenant roles created at run time; each tenant role\'s own inline policy narrows it to that tenant\'s';
    Validations.of(this.policy).acknowledge(
      { id: `AwsSolutions-IAM5[Resource::${arns.nag.tenantSecrets}]`, reason: `${why} secret.` },
      { id: `AwsSolutions-IAM5[Resource::${arns.nag.tenantLogGroups}]`, reason: `${why} log group.` },
      { id: `AwsSolutions-IAM5[Resource::${arns.nag.tenantLogStreams}]`, reason: `${why} log group.` },
      { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/*]', reason: `${why} plan's Bedrock models (cross-Region inference profiles route to foundation models in several Regions).` },
      { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*:<AWS::AccountId>:inference-profile/*]', reason: `${why} plan's Bedrock inference profiles.` },
    );
  }
}
