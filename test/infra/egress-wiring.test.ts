/**
 * Issue 10, the platform side of the egress proxy in the template: with a proxy image configured,
 * tenant task subnets have no route to the internet (only the proxy's Egress subnets reach NAT),
 * the Egress function is the only writer of the policy table, and the handlers learn where the proxy
 * is. Without an image there is no proxy, and synth says what that means.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { synthPlatform, type CfnStatement } from './synth';

const egressProxy = { image: `ghcr.io/openclaw/octw-egress-proxy@sha256:${'1'.repeat(64)}` };
const withProxy = synthPlatform({ context: { egressProxy } });
const t = withProxy.template;

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (type: string) => Object.entries(t.findResources(type)) as [string, Resource][];

/** The subnets of a CDK subnet group and whether each has a default route to a NAT gateway. */
function natRoutes(groupName: string): boolean[] {
  const subnets = resources('AWS::EC2::Subnet').filter(([, r]) =>
    (r.Properties.Tags as { Key: string; Value: string }[]).some((tag) => tag.Key === 'aws-cdk:subnet-name' && tag.Value === groupName),
  );
  return subnets.map(([id]) => {
    const assoc = resources('AWS::EC2::SubnetRouteTableAssociation').find(([, a]) => JSON.stringify(a.Properties.SubnetId) === JSON.stringify({ Ref: id }));
    const table = JSON.stringify(assoc?.[1].Properties.RouteTableId);
    return resources('AWS::EC2::Route').some(
      ([, r]) => JSON.stringify(r.Properties.RouteTableId) === table && r.Properties.DestinationCidrBlock === '0.0.0.0/0' && r.Properties.NatGatewayId !== undefined,
    );
  });
}

function statementsOfRole(roleLogicalIdPrefix: string): CfnStatement[] {
  return resources('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleLogicalIdPrefix))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: CfnStatement[] }).Statement);
}

describe('with an egress proxy image configured', () => {
  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(withProxy.synthError).toBeUndefined();
  });

  it('routes only the proxy Egress subnets to NAT: tenant task subnets are isolated', () => {
    expect(natRoutes('Egress')).toEqual([true, true, true]);
    expect(natRoutes('Tasks')).toEqual([false, false, false]);
    t.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'octw-cell-1-egress-proxy',
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ Subnets: Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp('EgressSubnet') })]) }) },
    });
  });

  it('tells the tenant-facing functions where the proxy is and which group tenants reach it through', () => {
    for (const name of ['octw-cell-1-egress', 'octw-cell-1-network']) {
      const [, fn] = resources('AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === name)!;
      const value = JSON.stringify((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EGRESS_PROXY_JSON);
      expect(value).toContain('\\"enabled\\":true');
      expect(value).toContain('proxy.cell-1.octw.internal');
      expect(value).toContain('LoadBalancerSecurityGroup');
    }
  });

  it('lets only the Egress function write the policy table, and only that table', () => {
    const [tableId] = resources('AWS::DynamoDB::Table').find(([, r]) => r.Properties.TableName === 'octw-cell-1-egress-policy')!;
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:*'];
    const writers = resources('AWS::IAM::Policy').filter(([, p]) =>
      (p.Properties.PolicyDocument as { Statement: CfnStatement[] }).Statement.some(
        (s) => JSON.stringify(s.Resource).includes(tableId) && [s.Action ?? []].flat().some((a) => writes.includes(a)),
      ),
    );
    expect(writers.map(([, p]) => JSON.stringify(p.Properties.Roles))).toEqual([expect.stringContaining('EgressFunction')]);
    const egressDynamo = statementsOfRole('EgressFunction').filter((s) => [s.Action ?? []].flat().some((a) => a.startsWith('dynamodb:')));
    const onPolicyTable = egressDynamo.filter((s) => JSON.stringify(s.Resource).includes(tableId));
    expect(onPolicyTable.flatMap((s) => [s.Action ?? []].flat()).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // Its proxy secrets: this cell's egress-proxy names only, never a read of a value.
    const secretActions = statementsOfRole('EgressFunction').filter((s) => [s.Action ?? []].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secretActions.flatMap((s) => [s.Action ?? []].flat())).not.toContain('secretsmanager:GetSecretValue');
    for (const s of secretActions) expect(JSON.stringify(s.Resource)).toContain('octw/tenants/cell-1/*/egress-proxy-*');
  });
});

describe('without a proxy image (cdk.json as shipped)', () => {
  const off = synthPlatform({ nag: false });

  it('deploys no proxy, keeps the task subnets routed to NAT, tells the handlers, and warns', () => {
    off.template.resourceCountIs('AWS::ECS::Service', 0);
    const [, fn] = (Object.entries(off.template.findResources('AWS::Lambda::Function')) as [string, Resource][]).find(([, f]) => f.Properties.FunctionName === 'octw-cell-1-egress')!;
    expect(JSON.stringify((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EGRESS_PROXY_JSON)).toContain('\\"enabled\\":false');
    const warnings = off.stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings.join('\n')).toMatch(/No egress proxy in this cell.*set egressProxy.image/);
  });
});
