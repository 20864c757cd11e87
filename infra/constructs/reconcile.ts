/**
 * The schedule of the ReconcileCell workflow (issue 13: drift of every tenant against its record,
 * then the orphan sweep), with retries and an alarmed dead-letter queue, as the other schedules.
 * The workflow and its function come from the catalogue; the function's rights are its binder's
 * (read-only unless cdk.json reconcile.mode is "repair").
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';

export interface ReconcileScheduleProps {
  readonly prefix: string;
  readonly stateMachine: sfn.IStateMachine;
  /** A `cron(...)` or `rate(...)` expression (cdk.json `reconcile.schedule`). */
  readonly schedule: string;
}

export class ReconcileSchedule extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ReconcileScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', `${props.prefix}-reconcile-dlq`, 'reconcile rule');
    this.rule = new events.Rule(this, 'Schedule', {
      ruleName: `${props.prefix}-reconcile`,
      description: "Compares every tenant's live resources with its record and sweeps orphans (ReconcileCell)",
      schedule: events.Schedule.expression(props.schedule),
      targets: [
        new targets.SfnStateMachine(props.stateMachine, {
          input: events.RuleTargetInput.fromObject({}),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
  }
}
