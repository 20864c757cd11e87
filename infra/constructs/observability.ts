/**
 * Alarms for the control plane (failed / timed-out / throttled executions, DLQ depth, Lambda errors)
 * to an encrypted SNS topic, and a dashboard of the custom metrics the handlers emit in the OCTW
 * namespace (Powertools adds the `service` dimension = POWERTOOLS_SERVICE_NAME).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TENANT_STATUSES } from '../../functions/domain/tenant';

export const METRICS_NAMESPACE = 'OCTW';
/** The `service` dimension of the handlers' metrics (Powertools). */
export const METRICS_SERVICE = 'octw';
export const PROVISIONING_METRICS = ['ProvisioningStarted', 'ProvisioningSucceeded', 'ProvisioningFailed'] as const;

export interface ObservabilityProps {
  readonly prefix: string;
  /** POWERTOOLS_SERVICE_NAME of the handlers: the `service` dimension of their metrics. */
  readonly serviceName: string;
  readonly stateMachines: Readonly<Record<string, sfn.StateMachine>>;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Alarms on the handlers' own metrics (OCTW namespace, service dimension): fire at >= 1. @default none */
  readonly metricAlarms?: Readonly<Record<string, { metricName: string; statistic: string; description: string }>>;
  /** Subscribe this address to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
}

export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    // CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key: use our own.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      alias: `alias/${props.prefix}-alarms`,
      description: 'OCTW alarm topic encryption',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${props.prefix}-alarms`,
      displayName: 'OCTW control-plane alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarmAction = new actions.SnsAction(this.topic);
    const fiveMinutes = Duration.minutes(5);

    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `${props.prefix}-${id}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(alarmAction);
      this.alarms.push(a);
    };

    for (const [key, sm] of Object.entries(props.stateMachines)) {
      alarm(`${key}-executions-failed`, sm.metricFailed({ period: fiveMinutes }), `${key}: executions failed`);
      alarm(`${key}-executions-timed-out`, sm.metricTimedOut({ period: fiveMinutes }), `${key}: executions timed out`);
      alarm(`${key}-executions-throttled`, sm.metricThrottled({ period: fiveMinutes }), `${key}: executions throttled`);
      alarm(`${key}-executions-aborted`, sm.metricAborted({ period: fiveMinutes }), `${key}: executions aborted`);
    }
    for (const [key, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${key}-dlq-not-empty`,
        queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
        `${key}: messages waiting in the dead-letter queue`,
      );
    }
    for (const [key, a] of Object.entries(props.metricAlarms ?? {})) {
      alarm(
        key,
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: a.metricName,
          statistic: a.statistic,
          period: fiveMinutes,
          dimensionsMap: { service: props.serviceName },
        }),
        a.description,
      );
    }
    for (const [key, fn] of Object.entries(props.functions)) {
      alarm(`${key}-function-errors`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), `${key} function: errors`);
    }

    const custom = (metricName: string, statistic: string, label: string, extra: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        statistic,
        label,
        period: fiveMinutes,
        dimensionsMap: { service: props.serviceName, ...extra },
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.prefix}-control-plane`,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Provisionings',
        width: 12,
        left: PROVISIONING_METRICS.map((m) => custom(m, 'Sum', m.replace('Provisioning', ''))),
      }),
      new cloudwatch.GraphWidget({
        title: 'Provisioning duration (ms)',
        width: 12,
        left: ['p50', 'p90', 'Maximum'].map((s) => custom('ProvisioningDuration', s, s)),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Tenants by status',
        width: 12,
        left: TENANT_STATUSES.map((s) => custom('TenantsByStatus', 'Maximum', s, { Status: s })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Workflow executions',
        width: 12,
        left: Object.entries(props.stateMachines).flatMap(([key, sm]) => [
          sm.metricStarted({ period: fiveMinutes, label: `${key} started` }),
          sm.metricSucceeded({ period: fiveMinutes, label: `${key} succeeded` }),
          sm.metricFailed({ period: fiveMinutes, label: `${key} failed` }),
        ]),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }),
    );
  }
}
