/**
 * The schedule of the Budget function's `check` action (issue 11: monthly Bedrock token budget per
 * plan), with retries and an alarmed dead-letter queue, as the Usage schedule (usage.ts). The
 * function itself is a house function of the catalogue; its rights are its binder's.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue';

export interface BudgetScheduleProps {
  readonly prefix: string;
  readonly fn: lambda.IFunction;
  /** A `cron(...)` or `rate(...)` expression (cdk.json `budgetSchedule`). */
  readonly schedule: string;
}

export class BudgetSchedule extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: BudgetScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', `${props.prefix}-budget-dlq`, 'token-budget rule');
    this.rule = new events.Rule(this, 'Schedule', {
      ruleName: `${props.prefix}-budget`,
      description: "Checks each tenant's Bedrock tokens this month against its plan's budget",
      schedule: events.Schedule.expression(props.schedule),
      targets: [
        new targets.LambdaFunction(props.fn, {
          event: events.RuleTargetInput.fromObject({ action: 'check' }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
  }
}
