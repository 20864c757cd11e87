/**
 * The cell's ingress tier (issue 12): ALB shards in the public subnets, each with one HTTPS
 * listener on the cell's wildcard ACM certificate; per-tenant target groups, host rules and DNS
 * records are made at runtime by the ingress handler (functions/adapters/ingress-routes.ts).
 *
 * - One security group for every shard: 443 from anywhere in, out only to the gateway port
 *   inside the VPC (and 443 out, which the ALB needs to reach a tenant's OIDC provider). Tenant
 *   security groups admit only this group, only on 18789.
 * - WebSocket-friendly idle timeout; invalid header fields dropped; TLS 1.3 policy.
 * - One regional WAF web ACL on every shard: AWS managed known-bad-inputs, and two rate-based
 *   rules keyed on the Host header: per tenant host, and per client address per tenant host.
 * - Access logs to an encrypted bucket; alarms on load-balancer 5xx and on WAF rate blocks.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { GATEWAY_PORT } from '../../functions/domain/naming';
import type { IngressContext } from '../ingress-config';

export interface IngressProps {
  /** Prefix of resource names, `octw-<cell>`. */
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  /** CIDR of the VPC: the ALB reaches gateways only inside it. */
  readonly vpcCidr: string;
  /** Subnets of the ALB nodes. @default public subnets */
  readonly subnets?: ec2.SubnetSelection;
  readonly config: IngressContext;
}

export interface IngressShardOut {
  readonly id: string;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
}

export class Ingress extends Construct {
  /** Tenant security groups admit this group on the gateway port, and nothing else. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly shards: IngressShardOut[] = [];
  readonly webAcl: wafv2.CfnWebACL;
  readonly accessLogs: s3.Bucket;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);
    const c = props.config;
    const subnets = props.subnets ?? { subnetType: ec2.SubnetType.PUBLIC };

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-ingress`,
      description: 'OCTW ingress tier (ALB shards): HTTPS in, gateway port out to the cell VPC',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from the internet');
    this.securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(GATEWAY_PORT), 'Tenant gateways in the cell VPC');
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Tenant OIDC providers (authenticate-oidc token and userinfo calls)');
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'A public HTTPS endpoint: 443 from anywhere is its purpose; WAF rate limits per host sit in front of every shard.',
    });

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(c.accessLogRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogs.arnForObjects(`alb-*/AWSLogs/${Stack.of(this).account}/*`)],
      }),
    );
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket only receives ALB access logs; logging access to the log bucket would log into itself or need a second log bucket.',
    });

    const certificate = elbv2.ListenerCertificate.fromArn(c.certificateArn);
    for (let i = 1; i <= c.shards; i++) {
      const shardId = `alb-${i}`;
      const loadBalancer = new elbv2.ApplicationLoadBalancer(this, `Shard${i}`, {
        vpc: props.vpc,
        vpcSubnets: subnets,
        internetFacing: true,
        loadBalancerName: `${props.prefix}-in-${i}`.slice(0, 32),
        securityGroup: this.securityGroup,
        idleTimeout: Duration.seconds(c.idleTimeoutSeconds),
        dropInvalidHeaderFields: true,
        http2Enabled: true,
        desyncMitigationMode: elbv2.DesyncMitigationMode.STRICTEST,
      });
      // logAccessLogs() needs a concrete Region (the legacy per-Region ELB accounts); the stack is
      // Region-agnostic, so grant the log-delivery service principal and set the attributes.
      loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
      loadBalancer.setAttribute('access_logs.s3.bucket', this.accessLogs.bucketName);
      loadBalancer.setAttribute('access_logs.s3.prefix', shardId);
      loadBalancer.node.addDependency(this.accessLogs);
      const listener = loadBalancer.addListener(`Https`, {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        // A host no tenant owns: 404. Tenant rules (exact host) are added at runtime.
        defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not found' }),
      });
      this.shards.push({ id: shardId, loadBalancer, listener });

      this.alarms.push(
        new cloudwatch.Alarm(this, `Shard${i}Elb5xx`, {
          alarmName: `${props.prefix}-ingress-${shardId}-elb-5xx`,
          alarmDescription: `Ingress shard ${shardId} answered 5xx itself (no healthy gateway, or the ALB failed)`,
          metric: loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 50,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const hostKey: wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty = { header: { name: 'host', textTransformations: [{ priority: 0, type: 'LOWERCASE' }] } };
    const visibility = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${props.prefix}-ingress-${name}` });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `${props.prefix}-ingress`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('web-acl'),
      rules: [
        {
          name: 'rate-per-host',
          priority: 1,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: c.rateLimitPerHost, evaluationWindowSec: 300, aggregateKeyType: 'CUSTOM_KEYS', customKeys: [hostKey] } },
          visibilityConfig: visibility('rate-per-host'),
        },
        {
          name: 'rate-per-client-per-host',
          priority: 2,
          action: { block: {} },
          statement: {
            rateBasedStatement: { limit: c.rateLimitPerClientPerHost, evaluationWindowSec: 300, aggregateKeyType: 'CUSTOM_KEYS', customKeys: [hostKey, { ip: {} }] },
          },
          visibilityConfig: visibility('rate-per-client-per-host'),
        },
        {
          name: 'aws-known-bad-inputs',
          priority: 3,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          visibilityConfig: visibility('known-bad-inputs'),
        },
      ],
    });
    this.shards.forEach((s, i) => {
      new wafv2.CfnWebACLAssociation(this, `WebAclShard${i + 1}`, { resourceArn: s.loadBalancer.loadBalancerArn, webAclArn: this.webAcl.attrArn });
    });
    this.alarms.push(
      new cloudwatch.Alarm(this, 'RateLimited', {
        alarmName: `${props.prefix}-ingress-rate-limited`,
        alarmDescription: 'WAF is blocking requests to a tenant host for exceeding its rate limit',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/WAFV2',
          metricName: 'BlockedRequests',
          dimensionsMap: { WebACL: `${props.prefix}-ingress`, Region: Stack.of(this).region, Rule: `${props.prefix}-ingress-rate-per-host` },
          period: Duration.minutes(5),
          statistic: 'Sum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** The shards as the ingress handler reads them (INGRESS_SHARDS_JSON): id, listener, alias target. */
  shardsJson(): string {
    return Stack.of(this).toJsonString(
      this.shards.map((s) => ({
        id: s.id,
        listenerArn: s.listener.listenerArn,
        dnsName: s.loadBalancer.loadBalancerDnsName,
        canonicalHostedZoneId: s.loadBalancer.loadBalancerCanonicalHostedZoneId,
      })),
    );
  }

  /**
   * What the ingress handler may do: rules only on this cell's listeners, target groups only
   * named `octw-*` and created with this cell's tag, records only under the cell domain.
   */
  grantRouteManagement(grantee: iam.IGrantable, cell: string, hostedZoneId: string, domain: string): void {
    const stack = Stack.of(this);
    const arn = (resource: string) => `arn:${stack.partition}:elasticloadbalancing:${stack.region}:${stack.account}:${resource}`;
    const listenerRules = [arn('listener-rule/app/*')];
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:AddTags'],
      resourceArns: [arn('targetgroup/octw-*/*')],
      conditions: { StringEquals: { 'aws:RequestTag/octw:cell': cell } },
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:ModifyTargetGroup'],
      resourceArns: [arn('targetgroup/octw-*/*')],
      conditions: { StringEquals: { 'aws:ResourceTag/octw:cell': cell } },
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['elasticloadbalancing:CreateRule'], resourceArns: this.shards.map((s) => s.listener.listenerArn) });
    iam.Grant.addToPrincipal({ grantee, actions: ['elasticloadbalancing:AddTags'], resourceArns: listenerRules, conditions: { StringEquals: { 'aws:RequestTag/octw:cell': cell } } });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule'],
      resourceArns: listenerRules,
      conditions: { StringEquals: { 'aws:ResourceTag/octw:cell': cell } },
    });
    // Describe* accept no resource-level permissions.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTags'],
      resourceArns: ['*'],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['route53:ChangeResourceRecordSets'],
      resourceArns: [`arn:${stack.partition}:route53:::hostedzone/${hostedZoneId}`],
      conditions: {
        'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${domain}`] },
        'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] },
      },
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['route53:ListResourceRecordSets'], resourceArns: [`arn:${stack.partition}:route53:::hostedzone/${hostedZoneId}`] });
    if (grantee instanceof Construct) {
      const nag = (r: string) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:${r}]`;
      Validations.of(grantee).acknowledge(
        {
          id: nag('targetgroup/octw-*/*'),
          reason: 'Tenant target groups are created at run time, named octw-<digest>; creation requires the octw:cell request tag, deletion the octw:cell resource tag.',
        },
        {
          id: nag('listener-rule/app/*'),
          reason: 'Tenant listener rules are created at run time (CreateRule is scoped to the shard listeners); tagging needs the octw:cell request tag, modify/delete the octw:cell resource tag.',
        },
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'ELBv2 DescribeRules/DescribeTargetGroups/DescribeTags support no resource-level permissions; they are read-only.' },
      );
    }
  }

  /**
   * What the Reconcile function may do with the tenants' routes (issue 13): read them (rules, target
   * groups, their tags, the DNS records) and, when the cell reconciles in repair mode, rewrite a
   * drifted rule in place (ModifyRule, this cell's tag only), UPSERT a record under the cell domain,
   * and read the tenant's OIDC client secret the rule carries (this cell's tenant secrets only).
   * Never CreateRule, CreateTargetGroup or a delete: a repair does not recreate a route.
   */
  grantRouteAudit(grantee: iam.IGrantable, cell: string, hostedZoneId: string, domain: string, repair: boolean): void {
    const stack = Stack.of(this);
    const zone = `arn:${stack.partition}:route53:::hostedzone/${hostedZoneId}`;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTags'],
      resourceArns: ['*'],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['route53:ListResourceRecordSets'], resourceArns: [zone] });
    if (repair) {
      const listenerRules = `arn:${stack.partition}:elasticloadbalancing:${stack.region}:${stack.account}:listener-rule/app/*`;
      iam.Grant.addToPrincipal({ grantee, actions: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule'], resourceArns: [listenerRules], conditions: { StringEquals: { 'aws:ResourceTag/octw:cell': cell } } });
      // The orphan sweep's removal of a tenant target group no live tenant owns (its tags re-read first).
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['elasticloadbalancing:DeleteTargetGroup'],
        resourceArns: [`arn:${stack.partition}:elasticloadbalancing:${stack.region}:${stack.account}:targetgroup/octw-*/*`],
        conditions: { StringEquals: { 'aws:ResourceTag/octw:cell': cell } },
      });
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['route53:ChangeResourceRecordSets'],
        resourceArns: [zone],
        conditions: {
          'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${domain}`] },
          'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A'], 'route53:ChangeResourceRecordSetsActions': ['UPSERT'] },
        },
      });
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resourceArns: [`arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:octw/tenants/${cell}/*`],
        conditions: { StringEquals: { 'aws:ResourceTag/octw:cell': cell } },
      });
    }
    if (grantee instanceof Construct) {
      Validations.of(grantee).acknowledge(
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'ELBv2 DescribeRules/DescribeTargetGroups/DescribeTags support no resource-level permissions; they are read-only.' },
        ...(repair
          ? [
              {
                id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:listener-rule/app/*]',
                reason: "Tenant listener rules are created at run time; the reconcile's repair may only modify one carrying this cell's octw:cell tag (it checks the tenant tag too).",
              },
              {
                id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:targetgroup/octw-*/*]',
                reason: "The orphan sweep removes a tenant target group (octw-*) no live tenant owns, only with this cell's octw:cell tag (tenant tag re-checked first).",
              },
              {
                id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:octw/tenants/${cell}/*]`,
                reason: "A repaired OIDC rule carries the tenant's client secret, read at that moment from the tenant's own credential secret (prefix and tags checked): this cell's tenant secrets only.",
              },
            ]
          : []),
      );
    }
  }
}
