/**
 * Template intent of the per-cell egress proxy (infra/constructs/egress-proxy.ts), synthesized the way
 * `cdk synth` does it with cdk-nag. One synth of the default cell, one with an existing VPC.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { synthPlatform } from '../infra/synth';
import { egressProxyConfigFrom } from '../../infra/egress-config';

/** cdk.json keeps the proxy off until tenant tasks are routed through it; these tests switch it on. */
const egressProxy = { enabled: true, image: `ghcr.io/openclaw/octw-egress-proxy@sha256:${'1'.repeat(64)}`, minTasks: 2, maxTasks: 6, dnsResolvers: ['1.1.1.1', '8.8.8.8'] };
const cell = synthPlatform({ context: { egressProxy } });
const t = cell.template;

describe('egress proxy infrastructure', () => {
  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(cell.synthError).toBeUndefined();
  });

  it('runs the proxy as a Fargate service of at least two tasks, image pinned by digest, behind an internal NLB', () => {
    t.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'octw-cell-1-egress-proxy',
      DesiredCount: 2,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100 }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      LoadBalancers: [Match.objectLike({ ContainerName: 'proxy', ContainerPort: 3128 })],
    });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'octw-cell-1-egress-proxy',
      ContainerDefinitions: [
        Match.objectLike({
          Image: Match.stringLikeRegexp('@sha256:[0-9a-f]{64}$'),
          HealthCheck: Match.objectLike({ Command: ['CMD-SHELL', Match.stringLikeRegexp('squid -k check')] }),
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Environment: Match.arrayWith([Match.objectLike({ Name: 'EGRESS_POLICY_TABLE' }), Match.objectLike({ Name: 'EGRESS_MAX_STALE_MS', Value: '60000' })]),
        }),
      ],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internal' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 3128, Protocol: 'TCP', HealthCheckProtocol: 'TCP' });
  });

  it('scales on CPU between minTasks and maxTasks', () => {
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6, ScalableDimension: 'ecs:service:DesiredCount' });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 50 }),
    });
  });

  it('gives the proxy its own group: ingress only from the load balancer group, egress only to upstream ports, its resolvers and the VPC', () => {
    const groups = t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'octw-cell-1-egress-proxy' } });
    const [proxy] = Object.values(groups) as { Properties: { SecurityGroupEgress: { CidrIp: unknown; FromPort: number; IpProtocol: string }[] } }[];
    expect(proxy).toBeDefined();
    const egress = proxy!.Properties.SecurityGroupEgress.map((r) => `${r.IpProtocol}/${r.FromPort}/${typeof r.CidrIp === 'string' ? r.CidrIp : 'vpc'}`).sort();
    expect(egress).toEqual(['tcp/443/0.0.0.0/0', 'tcp/443/vpc', 'tcp/53/1.1.1.1/32', 'tcp/53/8.8.8.8/32', 'tcp/80/0.0.0.0/0', 'udp/53/1.1.1.1/32', 'udp/53/8.8.8.8/32']);
    const ingress = t.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { FromPort: 3128, GroupId: { 'Fn::GetAtt': [Object.keys(groups)[0], 'GroupId'] } } });
    expect(Object.values(ingress).map((r) => (r as { Properties: Record<string, unknown> }).Properties.SourceSecurityGroupId)).toEqual([{ 'Fn::GetAtt': [expect.stringContaining('LoadBalancerSecurityGroup'), 'GroupId'] }]);
  });

  it('keeps the policy in its own encrypted table the task role may only read', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'octw-cell-1-egress-policy', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['dynamodb:GetItem', 'dynamodb:Scan'], Effect: 'Allow' })]) },
    });
  });

  it('counts denials per tenant from the JSON log and alarms on unhealthy tasks and fail-closed policy', () => {
    t.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.event = "egress_denied" }',
      MetricTransformations: [Match.objectLike({ MetricName: 'DeniedByTenant', Dimensions: Match.arrayWith([{ Key: 'Tenant', Value: '$.tenant' }]) })],
    });
    for (const name of ['UnhealthyTasks', 'TooFewTasks', 'HighCpu', 'PolicyFailClosed']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `octw-cell-1-egress-${name}`, AlarmActions: Match.anyValue() });
    }
    const dashboards = t.findResources('AWS::CloudWatch::Dashboard');
    expect(JSON.stringify(dashboards)).toContain('Egress proxy: allowed and denied per minute');
  });

  it('subscribes the denial function to the proxy log group (denial lines only), rate-limit table with TTL, least privilege', () => {
    t.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      FilterPattern: '{ $.event = "egress_denied" }',
      LogGroupName: { Ref: Match.stringLikeRegexp('EgressProxyLogs') },
      DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EgressDenialsFunction'), 'Arn'] },
    });
    t.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: Match.stringLikeRegexp('logs') });
    t.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'octw-cell-1-egress-denial-gate', TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'octw-cell-1-egress-denials',
      Environment: { Variables: Match.objectLike({ DENIAL_EVENT_INTERVAL_SECONDS: '900', DENIAL_GATE_TABLE: Match.anyValue(), EVENT_BUS_NAME: Match.anyValue(), CELL_ID: 'cell-1' }) },
    });
    const policies = t.findResources('AWS::IAM::Policy');
    const denialPolicy = Object.entries(policies).find(([id]) => id.startsWith('EgressDenialsFunctionPolicy'));
    expect(denialPolicy).toBeDefined();
    const actions = (denialPolicy![1] as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties.PolicyDocument.Statement.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual(['dynamodb:PutItem', 'events:PutEvents', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    // The helper's cache TTL reaches the proxy container.
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'EGRESS_ACL_TTL_SECONDS', Value: '2' }]) })] });
  });

  it('names the proxy in a private zone and attaches a DNS Firewall: allow the platform names, block everything else', () => {
    t.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'proxy.cell-1.octw.internal.', Type: 'A' });
    t.hasResourceProperties('AWS::Route53Resolver::FirewallDomainList', { Domains: ['*'] });
    t.hasResourceProperties('AWS::Route53Resolver::FirewallDomainList', {
      Domains: Match.arrayWith(['sts.amazonaws.com', 'cell-1.octw.internal', '*.cell-1.octw.internal']),
    });
    t.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroup', {
      FirewallRules: [Match.objectLike({ Priority: 100, Action: 'ALLOW' }), Match.objectLike({ Priority: 200, Action: 'BLOCK', BlockResponse: 'NXDOMAIN' })],
    });
    t.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 1);
  });

  it('leaves an existing VPC without a DNS Firewall unless asked, and can be switched off', () => {
    const existingVpc = {
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidr: '10.20.0.0/16',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
    };
    const byo = synthPlatform({ context: { existingVpc, cellId: 'byo', egressProxy }, nag: false }).template;
    byo.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 0);
    byo.resourceCountIs('AWS::ECS::Service', 1);
    // As cdk.json has it (enabled: false): no proxy, no firewall.
    const off = synthPlatform({ context: { egressProxy: { ...egressProxy, enabled: false } }, nag: false }).template;
    off.resourceCountIs('AWS::ECS::Service', 0);
    off.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 0);
    expect(egressProxyConfigFrom({ image: 'x@sha256:' + '2'.repeat(64), enabled: false })).toBeUndefined();
    expect(() => egressProxyConfigFrom({ image: 'repo:latest' })).toThrow(/pinned by digest/);
    expect(() => egressProxyConfigFrom({ image: 'x@sha256:' + '2'.repeat(64), minTasks: 1 })).toThrow(/egressProxy/);
  });
});
