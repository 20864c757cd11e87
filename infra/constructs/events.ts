/**
 * Signup intake: the EventBridge bus (dedicated or the default one), a rule for `TenantSignedUp`
 * events that delivers to an SQS queue (target retry policy + DLQ), and the queue's own redrive DLQ.
 * The Intake function reads the queue (see PlatformStack).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const SIGNUP_DETAIL_TYPE = 'TenantSignedUp';

export interface SignupEventsProps {
  readonly prefix: string;
  /** "default" uses the account's default bus. */
  readonly eventBusName: string;
  readonly eventSource: string;
  /** Timeout of the consuming function; the queue's visibility timeout is six times it. */
  readonly consumerTimeout: Duration;
  /** Receives before a signup message goes to the intake DLQ. @default 5 */
  readonly maxReceiveCount?: number;
}

const queueDefaults = {
  encryption: sqs.QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
  retentionPeriod: Duration.days(14),
} as const;

export class SignupEvents extends Construct {
  readonly bus: events.IEventBus;
  readonly rule: events.Rule;
  readonly queue: sqs.Queue;
  /** Events EventBridge could not deliver to the queue. */
  readonly ruleDeadLetterQueue: sqs.Queue;
  /** Signups the Intake function failed on maxReceiveCount times. */
  readonly intakeDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SignupEventsProps) {
    super(scope, id);
    this.bus =
      props.eventBusName === 'default'
        ? events.EventBus.fromEventBusName(this, 'Bus', 'default')
        : new events.EventBus(this, 'Bus', { eventBusName: props.eventBusName, description: 'OCTW tenant lifecycle events' });

    this.ruleDeadLetterQueue = new sqs.Queue(this, 'RuleDeadLetterQueue', { queueName: `${props.prefix}-signup-rule-dlq`, ...queueDefaults });
    this.intakeDeadLetterQueue = new sqs.Queue(this, 'IntakeDeadLetterQueue', { queueName: `${props.prefix}-signup-intake-dlq`, ...queueDefaults });
    this.queue = new sqs.Queue(this, 'SignupQueue', {
      queueName: `${props.prefix}-signups`,
      ...queueDefaults,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.intakeDeadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    this.rule = new events.Rule(this, 'SignupRule', {
      ruleName: `${props.prefix}-tenant-signed-up`,
      description: 'TenantSignedUp events to the OCTW signup queue',
      eventBus: this.bus,
      eventPattern: { source: [props.eventSource], detailType: [SIGNUP_DETAIL_TYPE] },
      targets: [
        new targets.SqsQueue(this.queue, {
          deadLetterQueue: this.ruleDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const isDlq = 'This queue is itself a dead-letter queue (watched by a depth alarm).';
    Validations.of(this.ruleDeadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: `${isDlq} It is the EventBridge target DLQ, which cdk-nag does not recognise as one.` },
      { id: 'Serverless-SQSRedrivePolicy', reason: isDlq },
    );
    Validations.of(this.intakeDeadLetterQueue).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason: isDlq });
  }
}
