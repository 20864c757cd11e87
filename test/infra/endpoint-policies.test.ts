/**
 * Issue 8, finding 3: data could leave through the VPC endpoints, which had no policy (full access):
 * an injected agent could PUT to an attacker's presigned S3 URL or call Logs, Secrets Manager, STS,
 * Bedrock, Step Functions with the attacker's own keys. The fake cannot enforce endpoint policies, so
 * these template intent tests pin them: each fails on a template without the policies.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { synthPlatform } from './synth';

const existingVpc = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.20.0.0/16',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
};

const { template, synthError } = synthPlatform();

type Statement = { Sid?: string; Effect: string; Principal: unknown; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
type Endpoint = { ServiceName: unknown; VpcEndpointType?: string; PolicyDocument?: { Statement: Statement[] } };

const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((r) => (r as { Properties: Endpoint }).Properties);
const serviceOf = (e: Endpoint) => JSON.stringify(e.ServiceName);
const endpointFor = (fragment: string): Endpoint => {
  const found = endpoints.find((e) => serviceOf(e).includes(fragment));
  if (!found) throw new Error(`no endpoint for ${fragment}`);
  return found;
};
const ACCOUNT = { Ref: 'AWS::AccountId' };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('VPC endpoint policies', () => {
  it('synthesizes with cdk-nag clean', () => {
    expect(synthError?.message).toBeUndefined();
  });

  it('gives every endpoint a policy (none is left with the full-access default)', () => {
    expect(endpoints.length).toBeGreaterThanOrEqual(10);
    for (const e of endpoints) expect({ service: serviceOf(e), policy: e.PolicyDocument !== undefined }).toEqual({ service: serviceOf(e), policy: true });
  });

  it.each(['ecr.api', 'ecr.dkr', '.logs', '.secretsmanager', '.sts', 'bedrock-runtime', '.states', '.events', 'dynamodb'])(
    'the %s endpoint admits only this account\'s principals, and on anything with a resource only this account\'s resources',
    (fragment) => {
      const policy = endpointFor(fragment).PolicyDocument!;
      for (const s of policy.Statement) {
        expect(s.Effect).toBe('Allow');
        // Every statement is bound to the stack's account (an intrinsic, never a literal id).
        expect(s.Condition?.StringEquals?.['aws:PrincipalAccount']).toEqual(ACCOUNT);
      }
      const general = policy.Statement.filter((s) => actions(s).some((a) => a.endsWith(':*')));
      expect(general).toEqual([
        expect.objectContaining({ Resource: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT, 'aws:ResourceAccount': ACCOUNT } } }),
      ]);
      // The statements without a resource-account condition name only resource-less or AWS-owned targets.
      const others = policy.Statement.filter((s) => !actions(s).some((a) => a.endsWith(':*')));
      for (const s of others) {
        expect(actions(s).every((a) => ['ecr:GetAuthorizationToken', 'sts:GetCallerIdentity', 'bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'].includes(a))).toBe(true);
      }
    },
  );

  it('lets Bedrock invoke AWS-owned foundation models only, not another account\'s resources', () => {
    const s = endpointFor('bedrock-runtime').PolicyDocument!.Statement.find((x) => x.Sid === 'OwnAccountPrincipalsOnFoundationModels');
    expect(JSON.stringify(s?.Resource)).toMatch(/:bedrock:\*::foundation-model\/\*/);
  });

  it('lets the S3 gateway reach only the Region\'s ECR layer bucket, read-only (no PUT to an attacker\'s presigned URL)', () => {
    const policy = endpointFor('.s3').PolicyDocument!;
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::prod-', { Ref: 'AWS::Region' }, '-starport-layer-bucket/*']] },
      }),
    ]);
  });

  it('outputs every policy document as JSON, for operators of an existing VPC', () => {
    const outputs = template.findOutputs('*');
    for (const name of ['EcrApi', 'EcrDocker', 'Logs', 'SecretsManager', 'Sts', 'BedrockRuntime', 'StepFunctions', 'Events', 'S3', 'DynamoDb']) {
      expect(outputs[`EndpointPolicy${name}`]).toBeDefined();
    }
    template.hasOutput('EndpointPolicyS3', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    expect(JSON.stringify(outputs.EndpointPolicyLogs)).toContain('aws:ResourceAccount');
  });

  it('still outputs the documents when the cell uses an existing VPC and creates no endpoints', () => {
    const byo = synthPlatform({ context: { existingVpc, createVpcEndpoints: false }, nag: false });
    expect(byo.synthError?.message).toBeUndefined();
    byo.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(Object.keys(byo.template.findOutputs('*')).filter((k) => k.startsWith('EndpointPolicy'))).toHaveLength(10);
  });
});
