/**
 * Tenant events in: the EventBridge bus (dedicated or the default one), a rule for `TenantSignedUp`
 * events that delivers to an SQS queue (target retry policy + DLQ), and the queue's own redrive DLQ.
 * The Intake function reads the queue (see PlatformStack).
 * Offboarding: a rule for `TenantOffboarded` events that starts the DeprovisionTenant state machine
 * with input `{tenantId}` (input transformer; target retry policy + DLQ). A duplicate delivery starts
 * a second execution, which the workflow's conditional claim refuses without changing anything.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { stateMachineArn } from './workflows';
import { SIGNUP_INTAKE } from '../signup-intake';

export const SIGNUP_DETAIL_TYPE = 'TenantSignedUp';
export const OFFBOARDED_DETAIL_TYPE = 'TenantOffboarded';

export interface SignupEventsProps {
  readonly prefix: string;
  /** "default" uses the account's default bus. */
  readonly eventBusName: string;
  /** `source` the signup service puts on TenantSignedUp / TenantOffboarded events. */
  readonly signupSource: string;
  /** Timeout of the consuming function; the queue's visibility timeout is six times it. */
  readonly consumerTimeout: Duration;
  /** Receives before a signup message goes to the intake DLQ. @default SIGNUP_INTAKE.maxReceiveCount (5) */
  readonly maxReceiveCount?: number;
  /**
   * ARN of the DeprovisionTenant state machine that `TenantOffboarded` events start.
   * @default the cell's DeprovisionTenant state machine, by its fixed name (`<prefix>-deprovision-tenant`)
   */
  readonly deprovisionStateMachineArn?: string;
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
  /** TenantOffboarded -> DeprovisionTenant execution. */
  readonly offboardedRule: events.Rule;
  /** Offboarding events EventBridge could not turn into an execution (StartExecution kept failing). */
  readonly offboardedDeadLetterQueue: sqs.Queue;

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
      deadLetterQueue: { queue: this.intakeDeadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? SIGNUP_INTAKE.maxReceiveCount },
    });

    this.rule = new events.Rule(this, 'SignupRule', {
      ruleName: `${props.prefix}-tenant-signed-up`,
      description: 'TenantSignedUp events to the OCTW signup queue',
      eventBus: this.bus,
      eventPattern: { source: [props.signupSource], detailType: [SIGNUP_DETAIL_TYPE] },
      targets: [
        new targets.SqsQueue(this.queue, {
          deadLetterQueue: this.ruleDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    this.offboardedDeadLetterQueue = new sqs.Queue(this, 'OffboardedRuleDeadLetterQueue', {
      queueName: `${props.prefix}-offboarded-rule-dlq`,
      ...queueDefaults,
    });
    const deprovision = sfn.StateMachine.fromStateMachineArn(
      this,
      'DeprovisionStateMachine',
      props.deprovisionStateMachineArn ?? stateMachineArn(Stack.of(this), props.prefix, 'DeprovisionTenant'),
    );
    this.offboardedRule = new events.Rule(this, 'OffboardedRule', {
      ruleName: `${props.prefix}-tenant-offboarded`,
      description: 'TenantOffboarded events start the OCTW deprovision workflow with input {tenantId}',
      eventBus: this.bus,
      eventPattern: { source: [props.signupSource], detailType: [OFFBOARDED_DETAIL_TYPE] },
      targets: [
        new targets.SfnStateMachine(deprovision, {
          // Only the tenant id reaches the workflow: its input schema is strict.
          input: events.RuleTargetInput.fromObject({ tenantId: events.EventField.fromPath('$.detail.tenantId') }),
          deadLetterQueue: this.offboardedDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const isDlq = 'This queue is itself a dead-letter queue (watched by a depth alarm).';
    Validations.of(this.offboardedDeadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: `${isDlq} It is the EventBridge target DLQ, which cdk-nag does not recognise as one.` },
      { id: 'Serverless-SQSRedrivePolicy', reason: isDlq },
    );
    Validations.of(this.ruleDeadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: `${isDlq} It is the EventBridge target DLQ, which cdk-nag does not recognise as one.` },
      { id: 'Serverless-SQSRedrivePolicy', reason: isDlq },
    );
    Validations.of(this.intakeDeadLetterQueue).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason: isDlq });
  }
}
