/**
 * Issue 12 in the platform stack: with `ingress` in cdk.json the cell gets the ALB shards, the WAF
 * web ACL with per-host rate limits and the ingress security group; the Ingress function gets
 * least-privilege route management and the handlers get INGRESS_SETTINGS_JSON. Without it (the
 * committed cdk.json) nothing of it exists and the handlers are told ingress is off.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { synthPlatform } from './synth';
import { allStatements, asArray, cdkJsonContext } from './synth';

const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6';
const ingress = { domain: 'cell-1.example.com', hostedZoneId: 'Z0123456789ABC', certificateArn: CERT, shards: 2 };
const on = synthPlatform({ context: { ingress } });

type Fn = { Properties: { FunctionName?: string; Environment?: { Variables?: Record<string, unknown> } } };
const functionsOf = (t: typeof on.template) => Object.values(t.findResources('AWS::Lambda::Function')) as Fn[];
const envOf = (t: typeof on.template, key: string) => functionsOf(t).find((f) => String(f.Properties.FunctionName).endsWith(`-${key}`))?.Properties.Environment?.Variables;

describe('platform stack with ingress on', () => {
  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(on.synthError?.message).toBeUndefined();
  });

  it('creates the ALB shards, a WAF web ACL with a rate limit keyed on the host attached to each, and the ingress security group', () => {
    expect(Object.keys(on.template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))).toHaveLength(2);
    on.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'rate-per-host',
          Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'CUSTOM_KEYS', CustomKeys: [{ Header: Match.objectLike({ Name: 'host' }) }] }) },
        }),
      ]),
    });
    expect(Object.keys(on.template.findResources('AWS::WAFv2::WebACLAssociation'))).toHaveLength(2);
    on.template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupName: 'octw-cell-1-ingress' });
  });

  it('tells the Ingress, Network, Gateway, Intake and Lifecycle functions the route settings (Intake and Lifecycle: OIDC signups and updates, the quota guard counting target groups), and not the Storage function', () => {
    for (const key of ['ingress', 'network', 'gateway', 'intake', 'lifecycle']) {
      const value = JSON.stringify(envOf(on.template, key)?.INGRESS_SETTINGS_JSON);
      expect(value).toContain('\\"enabled\\":true');
      expect(value).toContain('cell-1.example.com');
    }
    expect(envOf(on.template, 'storage')).toHaveProperty('FILE_SYSTEM_ID');
    expect(envOf(on.template, 'storage')?.INGRESS_SETTINGS_JSON).toBeUndefined();
  });

  it('lets only the Ingress function manage routes: rules on the shard listeners, target groups and records of this cell', () => {
    const policies = Object.entries(on.template.findResources('AWS::IAM::Policy')) as [string, { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] }; Roles?: unknown[] } }][];
    const withElb = policies.filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('elasticloadbalancing:CreateRule'));
    expect(withElb).toHaveLength(1);
    expect(JSON.stringify(withElb[0]![1].Properties.Roles)).toMatch(/IngressFunction/);
    const doc = JSON.stringify(withElb[0]![1].Properties.PolicyDocument);
    expect(doc).toContain('route53:ChangeResourceRecordSetsNormalizedRecordNames');
    expect(doc).toContain('aws:RequestTag/octw:cell');
  });

  it('lets the Network function authorise ingress only on tagged tenant groups', () => {
    const policies = Object.values(on.template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: { Action?: string | string[]; Condition?: unknown }[] } } }[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s) => [s.Action].flat().includes('ec2:AuthorizeSecurityGroupIngress'));
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(JSON.stringify(s.Condition)).toContain('aws:ResourceTag/octw:managed-by');
  });
});

describe('platform stack with ingress off (the committed cdk.json)', () => {
  const off = synthPlatform({ nag: false });
  it('has no ingress key in cdk.json, no load balancer, no web ACL, and tells the handlers ingress is off', () => {
    expect(cdkJsonContext().ingress).toBeUndefined();
    expect(Object.keys(off.template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))).toEqual([]);
    expect(Object.keys(off.template.findResources('AWS::WAFv2::WebACL'))).toEqual([]);
    expect(envOf(off.template, 'ingress')?.INGRESS_SETTINGS_JSON).toBe('{"enabled":false}');
  });

  it('refuses ingress with an existing VPC, naming the key', () => {
    const existingVpc = {
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidr: '10.1.0.0/16',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
    };
    expect(() => synthPlatform({ context: { existingVpc, ingress }, nag: false })).toThrow(/ingress: .*existingVpc/);
  });
});

describe('platform stack with ingress on: the reconcile reads routes, and repairs them in place only in repair mode', () => {
  const repair = synthPlatform({ context: { ingress, reconcile: { schedule: 'rate(6 hours)', mode: 'repair', orphanGraceHours: 24, pageSize: 50 } } });
  const upserts = (t: typeof on.template) =>
    allStatements(t).filter(({ statement }) => /"route53:ChangeResourceRecordSetsActions":\[?"UPSERT"/.test(JSON.stringify(statement.Condition ?? {})));
  const modifyRule = (t: typeof on.template) => allStatements(t).filter(({ statement }) => asArray(statement.Action).includes('elasticloadbalancing:ModifyRule'));

  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(repair.synthError?.message).toBeUndefined();
  });

  it('gives the Reconcile role UPSERT-only record changes and tag-scoped ModifyRule in repair mode, and neither in report mode', () => {
    expect(upserts(repair.template).map((s) => s.logicalId)).toEqual([expect.stringMatching(/^ReconcileFunctionRole/)]);
    expect(upserts(on.template)).toEqual([]);
    const reconcileModify = modifyRule(repair.template).filter((s) => s.logicalId.startsWith('ReconcileFunctionRole'));
    expect(reconcileModify).toHaveLength(1);
    expect(reconcileModify[0]!.statement.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/octw:cell': 'cell-1' } });
    expect(modifyRule(on.template).filter((s) => s.logicalId.startsWith('ReconcileFunctionRole'))).toEqual([]);
  });
});
