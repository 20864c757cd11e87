/**
 * The quota guard's platform side (issue 13.5): the schedule of the Lifecycle function's
 * `quotaHeadroom` action (retries, alarmed dead-letter queue) and one alarm per quota on its
 * `QuotaHeadroomPercent` metric, below the cell's threshold. The read rights are the Lifecycle
 * binder's (`grantQuotaReads` below), added only when the guard is on.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QuotaId } from '../../functions/domain/quotas';
import { deadLetterQueue } from './dead-letter-queue';
import { ecsArns } from './arns';
import type { HouseFunction } from './house-function';

export interface QuotaGuardProps {
  readonly prefix: string;
  /** The Lifecycle function (its `quotaHeadroom` action). */
  readonly fn: lambda.IFunction;
  /** A `cron(...)` or `rate(...)` expression (cdk.json `quotaGuard.schedule`). */
  readonly schedule: string;
  /** Alarm when a quota's headroom falls below this percentage of its limit. */
  readonly headroomAlarmPercent: number;
  /** The `service` dimension the house functions' metrics carry. */
  readonly serviceName: string;
  /** Quotas with a metric (target groups only with ingress; Spot only when a plan runs on Spot). */
  readonly quotas: readonly QuotaId[];
}

export class QuotaGuard extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: QuotaGuardProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', `${props.prefix}-quota-headroom-dlq`, 'quota-headroom rule');
    this.rule = new events.Rule(this, 'Schedule', {
      ruleName: `${props.prefix}-quota-headroom`,
      description: 'Publishes the headroom of every AWS quota a tenant consumes (QuotaHeadroomPercent per quota)',
      schedule: events.Schedule.expression(props.schedule),
      targets: [
        new targets.LambdaFunction(props.fn, {
          event: events.RuleTargetInput.fromObject({ action: 'quotaHeadroom' }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(15),
        }),
      ],
    });
    this.alarms = props.quotas.map(
      (quota) =>
        new cloudwatch.Alarm(this, `Headroom-${quota}`, {
          alarmName: `${props.prefix}-quota-headroom-${quota}`,
          alarmDescription: `Headroom of the ${quota} quota is below ${props.headroomAlarmPercent}% of its limit: new tenants will soon be refused (TenantQuotaRefused). Raise the quota or open a new cell.`,
          metric: new cloudwatch.Metric({
            namespace: 'OCTW',
            metricName: 'QuotaHeadroomPercent',
            dimensionsMap: { service: props.serviceName, Quota: quota },
            statistic: 'Minimum',
            period: Duration.minutes(15),
          }),
          threshold: props.headroomAlarmPercent,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          // No datapoint means the schedule is not running: its DLQ alarm says so; do not double-alarm.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
  }
}

/**
 * The quota guard's reads, for the Lifecycle function: Service Quotas values, the AWS/Usage metric,
 * the IAM account summary and the Region-wide describe/list calls it counts (Bedrock's application
 * inference profiles included). All read-only; none of these
 * actions supports resource-level permissions except DescribeAccessPoints (scoped to the file system).
 */
export function grantQuotaReads(fn: HouseFunction, fileSystemArn: string): void {
  const region = Stack.of(fn).region;
  fn.allow(
    [
      new iam.PolicyStatement({
        sid: 'QuotaGuardServiceQuotas',
        actions: ['servicequotas:GetServiceQuota', 'servicequotas:GetAWSDefaultServiceQuota'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'QuotaGuardUsageCounts',
        actions: [
          'cloudwatch:GetMetricData',
          'iam:GetAccountSummary',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'elasticloadbalancing:DescribeTargetGroups',
          // Bedrock application inference profiles in use (the Region's, every page).
          'bedrock:ListInferenceProfiles',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'QuotaGuardAccessPoints',
        actions: ['elasticfilesystem:DescribeAccessPoints'],
        resources: [fileSystemArn],
      }),
    ],
    [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `Quota guard (read-only): Service Quotas Get*ServiceQuota, cloudwatch:GetMetricData, iam:GetAccountSummary, ec2:Describe*, elasticloadbalancing:DescribeTargetGroups and bedrock:ListInferenceProfiles support no resource-level permissions (Service Authorization Reference); the quotas are Region- or account-wide (${region}).`,
      },
    ],
  );
}

/**
 * The quota check before a rollout (the Rollout function's `checkQuotas` step): the same quota reads,
 * plus the deployment configuration of the cell's tenant services (DescribeServices, read-only, cell
 * cluster and the cell's service names only).
 */
export function grantRolloutQuotaReads(fn: HouseFunction, fileSystemArn: string, clusterName: string, cellId: string): void {
  grantQuotaReads(fn, fileSystemArn);
  const ecs = ecsArns(Stack.of(fn), clusterName, cellId);
  fn.allow(
    [
      new iam.PolicyStatement({
        sid: 'RolloutServiceDeployments',
        actions: ['ecs:DescribeServices'],
        resources: [ecs.services],
        conditions: { ArnEquals: { 'ecs:cluster': ecs.cluster } },
      }),
    ],
    [
      {
        id: `AwsSolutions-IAM5[Resource::${ecs.nag.services}]`,
        reason: "Tenant services (octw-<cell>--<tenant>) are created at run time in the cell cluster; the rollout's quota check only describes them (their deployment configuration).",
      },
    ],
  );
}
