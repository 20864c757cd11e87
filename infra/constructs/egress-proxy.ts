/**
 * The per-cell egress proxy (issue 10): Squid (egress/Dockerfile, image pinned by digest) as an ECS
 * Fargate service in at least two AZs behind an internal Network Load Balancer, its own security
 * groups, the policy table its sidecar reads (functions/egress/sidecar.ts), logs, per-tenant denial
 * metrics, alarms and dashboard widgets, a private DNS name for tenants (`proxy.<cell>.octw.internal`),
 * and the Route 53 Resolver DNS Firewall of the cell's VPC (allow the AWS endpoints tasks use and the
 * proxy's name; block everything else).
 */
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53resolver from 'aws-cdk-lib/aws-route53resolver';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { EgressProxyConfig } from '../egress-config';

export const EGRESS_METRICS_NAMESPACE = 'OCTW/Egress';

export interface EgressProxyProps {
  readonly prefix: string;
  readonly cellId: string;
  readonly vpc: ec2.IVpc;
  /** CIDR of the cell's VPC: the only source the proxy accepts, and never a destination. */
  readonly vpcCidr: string;
  /** Subnets of the proxy tasks and its load balancer (in a later round: their own subnet group, the only one routed to NAT). */
  readonly subnets: ec2.SubnetSelection;
  readonly cluster: ecs.ICluster;
  readonly config: EgressProxyConfig;
  /** Whether to attach the DNS Firewall to the VPC. */
  readonly dnsFirewall: boolean;
  readonly logRetention: logs.RetentionDays;
}

export class EgressProxy extends Construct {
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The proxy tasks' group. */
  readonly proxySecurityGroup: ec2.SecurityGroup;
  /** The load balancer's group: tenant groups allow egress to this group on `port` (and nothing else to the internet). */
  readonly clientTargetSecurityGroup: ec2.SecurityGroup;
  /** Tenant policies, read by the sidecar; written by the update workflow. */
  readonly policyTable: dynamodb.Table;
  readonly logGroup: logs.LogGroup;
  readonly zone: route53.PrivateHostedZone;
  /** Host name tenants put in OPENCLAW_PROXY_URL (http://<tenant>:<secret>@<proxyHost>:<port>). */
  readonly proxyHost: string;
  readonly port: number;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly widgets: cloudwatch.IWidget[];
  readonly dnsFirewallRuleGroup?: route53resolver.CfnFirewallRuleGroup;

  constructor(scope: Construct, id: string, props: EgressProxyProps) {
    super(scope, id);
    const c = props.config;
    this.port = c.port;

    this.policyTable = new dynamodb.Table(this, 'PolicyTable', {
      tableName: `${props.prefix}-egress-policy`,
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/octw/${props.cellId}/egress-proxy`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Security groups: clients → NLB group → proxy group → internet (upstream ports) and the proxy's resolvers.
    this.clientTargetSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-egress-proxy-lb`,
      description: 'OCTW egress proxy load balancer: proxy port from the cell VPC',
      allowAllOutbound: false,
    });
    this.clientTargetSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(c.port), 'Proxy port from the cell VPC (tenants authenticate per tenant)');
    this.proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-egress-proxy`,
      description: 'OCTW egress proxy tasks: the only group with internet egress',
      allowAllOutbound: false,
    });
    this.proxySecurityGroup.addIngressRule(this.clientTargetSecurityGroup, ec2.Port.tcp(c.port), 'Proxy port from the load balancer');
    this.clientTargetSecurityGroup.addEgressRule(this.proxySecurityGroup, ec2.Port.tcp(c.port), 'To the proxy tasks');
    for (const port of c.upstreamPorts) this.proxySecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `Upstream ${port} (hosts checked by the proxy)`);
    for (const ip of c.dnsResolvers) {
      this.proxySecurityGroup.addEgressRule(ec2.Peer.ipv4(`${ip}/32`), ec2.Port.udp(53), `DNS to ${ip}`);
      this.proxySecurityGroup.addEgressRule(ec2.Peer.ipv4(`${ip}/32`), ec2.Port.tcp(53), `DNS over TCP to ${ip}`);
    }
    // Image pulls and logs through the cell's VPC endpoints (443 to the endpoints' group in the VPC) and DynamoDB's gateway endpoint.
    this.proxySecurityGroup.addEgressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(443), 'VPC interface endpoints (ECR, Logs)');
    for (const sg of [this.clientTargetSecurityGroup, this.proxySecurityGroup]) {
      Validations.of(sg).acknowledge({ id: 'AwsSolutions-EC23', reason: 'Ingress is the proxy port from the cell VPC CIDR or from the load balancer group, never 0.0.0.0/0.' });
    }

    // Task definition: one container (Squid + the policy sidecar as its entry point).
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: `${props.prefix}-egress-proxy`,
      cpu: c.cpu,
      memoryLimitMiB: c.memoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.policyTable.grant(taskDefinition.taskRole, 'dynamodb:GetItem', 'dynamodb:Scan');
    const ecrMatch = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^@]+)@/.exec(c.image);
    if (ecrMatch) {
      const [, account, region, repo] = ecrMatch;
      taskDefinition.addToExecutionRolePolicy(
        new iam.PolicyStatement({ actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], resources: [`arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${repo}`] }),
      );
      taskDefinition.addToExecutionRolePolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
      Validations.of(taskDefinition).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'ecr:GetAuthorizationToken has no resource-level permissions.' });
    }
    taskDefinition.addContainer('Proxy', {
      containerName: 'proxy',
      image: ecs.ContainerImage.fromRegistry(c.image),
      essential: true,
      portMappings: [{ containerPort: c.port, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'proxy' }),
      environment: {
        EGRESS_POLICY_TABLE: this.policyTable.tableName,
        EGRESS_LISTEN_PORT: String(c.port),
        EGRESS_POLL_MS: String(c.pollSeconds * 1000),
        EGRESS_MAX_STALE_MS: String(c.maxStaleSeconds * 1000),
        EGRESS_ACL_TTL_SECONDS: String(c.policyCacheSeconds),
        EGRESS_DNS_NAMESERVERS: c.dnsResolvers.join(','),
        EGRESS_DENIED_CIDRS: props.vpcCidr,
      },
      healthCheck: {
        command: ['CMD-SHELL', 'squid -k check -f /etc/squid/octw/squid.conf || exit 1'],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
      stopTimeout: Duration.seconds(30),
    });
    Validations.of(taskDefinition).acknowledge({ id: 'AwsSolutions-ECS2', reason: 'The environment holds no secret: table name, port, intervals, resolvers and the VPC CIDR.' });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: `${props.prefix}-egress-proxy`,
      cluster: props.cluster,
      taskDefinition,
      desiredCount: c.minTasks,
      securityGroups: [this.proxySecurityGroup],
      vpcSubnets: props.subnets,
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      availabilityZoneRebalancing: ecs.AvailabilityZoneRebalancing.ENABLED,
    });
    const scaling = this.service.autoScaleTaskCount({ minCapacity: c.minTasks, maxCapacity: c.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: c.targetCpuPercent, scaleOutCooldown: Duration.seconds(60), scaleInCooldown: Duration.seconds(300) });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: false,
      vpcSubnets: props.subnets,
      securityGroups: [this.clientTargetSecurityGroup],
      crossZoneEnabled: true,
    });
    Validations.of(this.loadBalancer).acknowledge({ id: 'AwsSolutions-ELB2', reason: 'A TCP listener has no access logs; the proxy logs every transaction (tenant, host, port, reason) to CloudWatch Logs.' });
    const listener = this.loadBalancer.addListener('Proxy', { port: c.port, protocol: elbv2.Protocol.TCP });
    const targetGroup = listener.addTargets('Tasks', {
      port: c.port,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: 'proxy', containerPort: c.port })],
      healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
      deregistrationDelay: Duration.seconds(30),
    });

    this.zone = new route53.PrivateHostedZone(this, 'Zone', { zoneName: `${props.cellId}.octw.internal`, vpc: props.vpc });
    this.proxyHost = `proxy.${props.cellId}.octw.internal`;
    new route53.ARecord(this, 'ProxyName', { zone: this.zone, recordName: 'proxy', target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer)) });

    // Metrics from the proxy's JSON log lines (functions/egress/squid-config.ts log formats).
    const metric = (name: string, pattern: string, dimensions?: Record<string, string>) => {
      new logs.MetricFilter(this, `${name}Filter`, {
        logGroup: this.logGroup,
        filterPattern: logs.FilterPattern.literal(pattern),
        metricNamespace: EGRESS_METRICS_NAMESPACE,
        metricName: name,
        metricValue: '1',
        ...(dimensions ? { dimensions } : {}),
      });
      return new cloudwatch.Metric({ namespace: EGRESS_METRICS_NAMESPACE, metricName: name, statistic: 'Sum', period: Duration.minutes(1) });
    };
    const denied = metric('Denied', '{ $.event = "egress_denied" }');
    metric('DeniedByTenant', '{ $.event = "egress_denied" }', { Tenant: '$.tenant', Reason: '$.reason' });
    const allowed = metric('Allowed', '{ $.event = "egress" && $.reason = "allowed" }');
    const failClosed = metric('PolicyFailClosed', '{ $.event = "policy_sync" && $.state = "fail-closed" }');

    const alarm = (alarmId: string, m: cloudwatch.IMetric, threshold: number, op: cloudwatch.ComparisonOperator, description: string, periods = 3, missing = cloudwatch.TreatMissingData.NOT_BREACHING) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${props.prefix}-egress-${alarmId}`,
        alarmDescription: description,
        metric: m,
        threshold,
        comparisonOperator: op,
        evaluationPeriods: periods,
        treatMissingData: missing,
      });
      this.alarms.push(a);
      return a;
    };
    alarm('UnhealthyTasks', targetGroup.metrics.unHealthyHostCount({ period: Duration.minutes(1) }), 1, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 'An egress proxy task fails its load balancer health check');
    alarm('TooFewTasks', targetGroup.metrics.healthyHostCount({ period: Duration.minutes(1), statistic: 'Minimum' }), c.minTasks, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, `Fewer than ${c.minTasks} healthy egress proxy tasks`, 3, cloudwatch.TreatMissingData.BREACHING);
    alarm('HighCpu', this.service.metricCpuUtilization({ period: Duration.minutes(1) }), 85, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, 'Egress proxy CPU above 85% (autoscaling at max?)', 5);
    alarm('PolicyFailClosed', failClosed, 1, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 'The proxy could not read the policy table for longer than maxStaleSeconds and denies everything', 1);

    this.widgets = [
      new cloudwatch.GraphWidget({ title: 'Egress proxy: allowed and denied per minute', left: [allowed, denied], width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'Egress proxy: healthy tasks, CPU',
        left: [targetGroup.metrics.healthyHostCount({ period: Duration.minutes(1), statistic: 'Minimum' })],
        right: [this.service.metricCpuUtilization({ period: Duration.minutes(1) })],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Egress proxy alarms', alarms: this.alarms, width: 24 }),
    ];

    if (props.dnsFirewall) {
      const region = Stack.of(this).region;
      const allow = new route53resolver.CfnFirewallDomainList(this, 'DnsAllowList', {
        name: `${props.prefix}-dns-allow`,
        domains: [
          // The AWS endpoints tasks use (ECR, ECR layers in S3, Logs, Secrets Manager, STS, Bedrock, EFS, DynamoDB, Step Functions, the NLB).
          `${region}.amazonaws.com`,
          `*.${region}.amazonaws.com`,
          'sts.amazonaws.com',
          // Instance and reverse names inside the VPC.
          '*.compute.internal',
          '*.ec2.internal',
          // The proxy's name.
          this.zone.zoneName,
          `*.${this.zone.zoneName}`,
          ...c.dnsFirewallExtraDomains,
        ],
      });
      const blockAll = new route53resolver.CfnFirewallDomainList(this, 'DnsBlockAll', { name: `${props.prefix}-dns-block-all`, domains: ['*'] });
      const group = new route53resolver.CfnFirewallRuleGroup(this, 'DnsFirewall', {
        name: `${props.prefix}-dns-firewall`,
        firewallRules: [
          { priority: 100, action: 'ALLOW', firewallDomainListId: allow.attrId },
          { priority: 200, action: 'BLOCK', blockResponse: 'NXDOMAIN', firewallDomainListId: blockAll.attrId },
        ],
      });
      new route53resolver.CfnFirewallRuleGroupAssociation(this, 'DnsFirewallAssociation', {
        name: `${props.prefix}-dns-firewall`,
        firewallRuleGroupId: group.attrId,
        vpcId: props.vpc.vpcId,
        priority: 101,
        mutationProtection: 'DISABLED',
      });
      this.dnsFirewallRuleGroup = group;
    }
  }
}
