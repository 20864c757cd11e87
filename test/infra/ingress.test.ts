/**
 * Intent of the ingress tier, on a test stack of its own (the platform stack does not create it
 * yet): ALB shards with HTTPS on the configured certificate, a WebSocket-friendly idle timeout,
 * a security group that only reaches the gateway port, WAF rate limits keyed on the host, access
 * logs, alarms, a least-privilege grant for the route handler, and no unacknowledged cdk-nag finding.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Ingress } from '../../infra/constructs/ingress';
import { parseIngressContext } from '../../infra/ingress-config';

const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6';
const CONTEXT = { domain: 'cell-1.example.com', hostedZoneId: 'Z0123456789ABC', certificateArn: CERT, shards: 2 };

function synth(context: unknown = CONTEXT): { template: Template; error: Error | undefined } {
  // No built-in CloudFormation validation (warnings only, seconds per synth): see ./synth.ts.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'IngressTest');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'Tasks', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 19 },
    ],
  });
  Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'Test VPC only; the platform network construct has its flow log.' });
  const ingress = new Ingress(stack, 'Ingress', { prefix: 'octw-cell-1', vpc, vpcCidr: '10.0.0.0/16', config: parseIngressContext(context)! });
  const handlerRole = new iam.Role(stack, 'HandlerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  ingress.grantRouteManagement(handlerRole, 'cell-1', 'Z0123456789ABC', 'cell-1.example.com');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  return { template: Template.fromStack(stack), error };
}

const { template, error } = synth();

describe('ingress context', () => {
  it('is off when absent and fills documented defaults when on', () => {
    expect(parseIngressContext(undefined)).toBeUndefined();
    expect(parseIngressContext({ domain: 'd.example.com', hostedZoneId: 'Z1', certificateArn: CERT })).toMatchObject({ shards: 1, rulesPerShard: 100, idleTimeoutSeconds: 3600 });
  });

  it('names the bad key', () => {
    expect(() => parseIngressContext({ ...CONTEXT, certificateArn: 'arn:aws:iam::1:server-certificate/x' })).toThrow(/ingress\.certificateArn: .*ACM certificate ARN/);
    expect(() => parseIngressContext({ ...CONTEXT, shards: 51 })).toThrow(/ingress\.shards/);
    expect(() => parseIngressContext({ ...CONTEXT, extra: 1 })).toThrow(/ingress/);
  });
});

describe('ingress infrastructure', () => {
  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(error?.message).toBeUndefined();
  });

  it('creates one internet-facing ALB per shard with a WebSocket-friendly idle timeout and invalid headers dropped', () => {
    const albs = template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(Object.keys(albs)).toHaveLength(2);
    template.allResourcesProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: '3600' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  it('listens on HTTPS 443 only, with the configured certificate, TLS 1.3 policy and a 404 for unknown hosts', () => {
    const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener')) as { Properties: Record<string, unknown> }[];
    expect(listeners).toHaveLength(2);
    for (const l of listeners) {
      expect(l.Properties).toMatchObject({
        Port: 443,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: CERT }],
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
      });
    }
  });

  it('lets the ingress security group reach only the gateway port inside the VPC (and 443 out for OIDC providers)', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupName: 'octw-cell-1-ingress',
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
      SecurityGroupEgress: Match.arrayWith([
        Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 18789, ToPort: 18789, IpProtocol: 'tcp' }),
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
      ]),
    });
    const sg = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'octw-cell-1-ingress' } }))[0] as { Properties: { SecurityGroupEgress: { FromPort: number }[] } };
    expect(sg.Properties.SecurityGroupEgress.map((e) => e.FromPort).sort()).toEqual([18789, 443].sort());
  });

  it('puts a WAF web ACL with rate limits keyed on the Host header on every shard', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'rate-per-host',
          Action: { Block: {} },
          Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'CUSTOM_KEYS', CustomKeys: [{ Header: { Name: 'host', TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }] } }] }) },
        }),
        Match.objectLike({ Name: 'rate-per-client-per-host', Statement: { RateBasedStatement: Match.objectLike({ CustomKeys: [Match.objectLike({ Header: Match.anyValue() }), { IP: {} }] }) } }),
      ]),
    });
    expect(Object.keys(template.findResources('AWS::WAFv2::WebACLAssociation'))).toHaveLength(2);
  });

  it('alarms on load-balancer 5xx per shard and on WAF rate blocks', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: { AlarmName: string } }).Properties.AlarmName);
    expect(names.sort()).toEqual(['octw-cell-1-ingress-alb-1-elb-5xx', 'octw-cell-1-ingress-alb-2-elb-5xx', 'octw-cell-1-ingress-rate-limited']);
  });

  it('lets the route handler change DNS only for names under the cell domain and delete only target groups and rules tagged for the cell', () => {
    const json = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(json).toContain('"route53:ChangeResourceRecordSetsNormalizedRecordNames":["*.cell-1.example.com"]');
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Condition?: unknown }[] } } }).Properties.PolicyDocument.Statement);
    const del = statements.filter((s) => [s.Action].flat().some((a) => a === 'elasticloadbalancing:DeleteTargetGroup' || a === 'elasticloadbalancing:DeleteRule'));
    expect(del.length).toBeGreaterThan(0);
    for (const s of del) expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/octw:cell': 'cell-1' } });
  });
});
