/**
 * VPC endpoint policies (issue 8, finding 3). Without them an endpoint admits any principal to any
 * resource: an injected agent could call Logs, Secrets Manager, STS, Bedrock, Step Functions or
 * EventBridge with an attacker's own keys, or PUT to an attacker's presigned S3 URL, and the data
 * would leave through the endpoint past the tenant's egress allowlist.
 *
 * Each policy admits only this account's principals acting on this account's resources
 * (`aws:PrincipalAccount` and `aws:ResourceAccount` equal to the stack's account, never a
 * hard-coded id), plus, per service, the AWS-owned resources the platform needs:
 * - S3 (gateway): only `s3:GetObject` on the Region's ECR layer bucket
 *   `prod-<region>-starport-layer-bucket` (ECR hands out presigned URLs signed by an ECR account,
 *   so no principal condition can apply; a GET on that bucket cannot carry data out). The platform
 *   owns no S3 bucket the tasks or functions use.
 * - ECR API: `ecr:GetAuthorizationToken` has no resource (so no resource account): allowed for this
 *   account's principals only. Pulls (`BatchGetImage`, `GetDownloadUrlForLayer`) and pushes name a
 *   repository and stay within this account's registry.
 * - STS: `sts:GetCallerIdentity` has no resource: this account's principals only.
 * - Bedrock runtime: foundation models are AWS-owned (`arn:aws:bedrock:<region>::foundation-model/*`,
 *   no account): invoking them is allowed to this account's principals; inference profiles are in
 *   this account and pass the general statement. The task role and boundary say which models.
 *
 * The documents are also stack outputs (EndpointPolicy<Name>), so operators of an existing VPC
 * (`existingVpc`, or `createVpcEndpoints: false`) can apply the same policies to their endpoints.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** The endpoints the cell creates (or an existing VPC must have), by construct id. */
export type EndpointName =
  | 'EcrApi'
  | 'EcrDocker'
  | 'Logs'
  | 'SecretsManager'
  | 'Sts'
  | 'BedrockRuntime'
  | 'StepFunctions'
  | 'Events'
  | 'S3'
  | 'DynamoDb';

const account = Aws.ACCOUNT_ID;

/** The IAM service prefix of each endpoint's service (its policy can only concern that service). */
export const ENDPOINT_SERVICE_PREFIX: Readonly<Record<EndpointName, string>> = {
  EcrApi: 'ecr',
  EcrDocker: 'ecr',
  Logs: 'logs',
  SecretsManager: 'secretsmanager',
  Sts: 'sts',
  BedrockRuntime: 'bedrock',
  StepFunctions: 'states',
  Events: 'events',
  S3: 's3',
  DynamoDb: 'dynamodb',
};

/** This account's principals on this account's resources: the statement every interface and DynamoDB endpoint has. */
export function ownAccountStatement(name: EndpointName): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'OwnAccountPrincipalsOnOwnAccountResources',
    principals: [new iam.AnyPrincipal()],
    actions: [`${ENDPOINT_SERVICE_PREFIX[name]}:*`],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:PrincipalAccount': account, 'aws:ResourceAccount': account } },
  });
}

/** Actions without a resource (hence without aws:ResourceAccount), allowed to this account's principals. */
function ownPrincipalsOnly(sid: string, actions: string[], resources: string[] = ['*']): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.AnyPrincipal()],
    actions,
    resources,
    conditions: { StringEquals: { 'aws:PrincipalAccount': account } },
  });
}

/** The statements of each endpoint's policy. */
export function endpointPolicyStatements(name: EndpointName): iam.PolicyStatement[] {
  switch (name) {
    case 'S3':
      return [
        new iam.PolicyStatement({
          sid: 'EcrImageLayersOnly',
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:GetObject'],
          resources: [`arn:${Aws.PARTITION}:s3:::prod-${Aws.REGION}-starport-layer-bucket/*`],
        }),
      ];
    case 'EcrApi':
      return [ownAccountStatement(name), ownPrincipalsOnly('OwnAccountRegistryLogin', ['ecr:GetAuthorizationToken'])];
    case 'Sts':
      return [ownAccountStatement(name), ownPrincipalsOnly('OwnAccountCallerIdentity', ['sts:GetCallerIdentity'])];
    case 'BedrockRuntime':
      return [
        ownAccountStatement(name),
        ownPrincipalsOnly(
          'OwnAccountPrincipalsOnFoundationModels',
          ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
          [`arn:${Aws.PARTITION}:bedrock:*::foundation-model/*`],
        ),
      ];
    default:
      return [ownAccountStatement(name)];
  }
}

export function endpointPolicyDocument(name: EndpointName): iam.PolicyDocument {
  return new iam.PolicyDocument({ statements: endpointPolicyStatements(name) });
}
