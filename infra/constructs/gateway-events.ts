/**
 * Issue 14.1: the rule that resumes the workflows' gateway waits. ECS puts its events on the
 * account's default bus; this rule passes the cell cluster's own (deployment state changes and
 * service actions of the cell's tenant services, task state changes of the cell cluster's tasks)
 * to the GatewayEvents function, with retries and an alarmed dead-letter queue. A lost event is
 * covered by the workflows themselves (HeartbeatSeconds/TimeoutSeconds, then one look).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cellNamePrefix } from '../../functions/domain/naming';
import { deadLetterQueue } from './dead-letter-queue';

/** The detail types the rule passes (Amazon ECS Developer Guide, "Amazon ECS events"). */
export const GATEWAY_EVENT_DETAIL_TYPES = ['ECS Deployment State Change', 'ECS Service Action', 'ECS Task State Change'] as const;

export interface GatewayEventsProps {
  readonly prefix: string;
  readonly cellId: string;
  readonly clusterName: string;
  readonly fn: lambda.IFunction;
}

export class GatewayEvents extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: GatewayEventsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const ecsArn = (resource: string) => `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:${resource}`;
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', `${props.prefix}-gateway-events-dlq`, 'gateway-events rule');
    this.rule = new events.Rule(this, 'Rule', {
      ruleName: `${props.prefix}-gateway-events`,
      description: "Resumes the workflows' gateway waits from the cell cluster's ECS events",
      eventPattern: {
        source: ['aws.ecs'],
        detailType: [...GATEWAY_EVENT_DETAIL_TYPES],
        // Deployment state changes carry only the service ARN: match the cell's tenant services and the cluster's tasks by ARN prefix.
        resources: events.Match.anyOf(
          events.Match.prefix(ecsArn(`service/${props.clusterName}/${cellNamePrefix(props.cellId)}`)),
          events.Match.prefix(ecsArn(`task/${props.clusterName}/`)),
        ),
      },
      targets: [
        new targets.LambdaFunction(props.fn, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 4,
          // A wait gives up after GATEWAY_WAIT_SECONDS anyway; its check step covers an event dropped here.
          maxEventAge: Duration.minutes(15),
        }),
      ],
    });
  }
}
