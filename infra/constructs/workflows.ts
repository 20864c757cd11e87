/**
 * The Step Functions state machines of functions/handlers/catalogue.ts (STATE_MACHINES), loaded from
 * state-machines/*.asl.json with definition substitutions `${<Key>FunctionArn}`. Standard type,
 * logging level ALL to /aws/vendedlogs/states/octw-<cell>-<name>, X-Ray, a timeout; the role may
 * invoke exactly the functions the definition names.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  type CellSettingKey,
  type HandlerKey,
  STATE_MACHINES,
  type StateMachineKey,
  type StateMachineSpec,
  substitutionKey,
} from '../../functions/handlers/catalogue';

export const STATE_MACHINES_DIR = path.join(__dirname, '../../state-machines');

/** `ProvisionTenant` -> `provision-tenant`. */
export const kebab = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Fixed state machine names, so ARNs can be built without a reference (no dependency cycle). */
export const stateMachineName = (prefix: string, key: StateMachineKey): string => `${prefix}-${kebab(key)}`;

export const stateMachineArn = (stack: Stack, prefix: string, key: StateMachineKey): string =>
  stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName(prefix, key), arnFormat: ArnFormat.COLON_RESOURCE_NAME });

export interface WorkflowsProps {
  readonly prefix: string;
  readonly functionArns: Readonly<Record<HandlerKey, string>>;
  /** The cell settings the definitions branch on (catalogue CELL_SETTINGS). */
  readonly cellSettings: Readonly<Record<CellSettingKey, string>>;
  readonly logRetention: logs.RetentionDays;
  /** Directory holding the ASL files. @default state-machines/ */
  readonly stateMachinesDir?: string;
}

export class Workflows extends Construct {
  readonly stateMachines: Record<StateMachineKey, sfn.StateMachine>;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const dir = props.stateMachinesDir ?? STATE_MACHINES_DIR;
    const entries = Object.entries(STATE_MACHINES) as [StateMachineKey, StateMachineSpec][];
    this.stateMachines = Object.fromEntries(
      entries.map(([key, spec]) => [key, this.build(key, spec, dir, props)]),
    ) as Record<StateMachineKey, sfn.StateMachine>;
  }

  private build(key: StateMachineKey, spec: StateMachineSpec, dir: string, props: WorkflowsProps): sfn.StateMachine {
    const name = stateMachineName(props.prefix, key);
    const logGroup = new logs.LogGroup(this, `${key}Logs`, {
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, `${key}Role`, {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
      description: `${name}: invoke its own Lambda functions only`,
    });
    const functionArns = spec.handlers.map((h) => props.functionArns[h]);
    role.addToPolicy(new iam.PolicyStatement({ sid: 'InvokeItsFunctions', actions: ['lambda:InvokeFunction'], resources: functionArns }));
    const nested = (spec.startsStateMachines ?? []) as StateMachineKey[];
    if (nested.length > 0) {
      // states:startExecution.sync:2 (https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html):
      // start exactly those machines, follow and stop their executions, and the managed rule that reports their end.
      const stack = Stack.of(this);
      role.addToPolicy(new iam.PolicyStatement({ sid: 'StartNestedWorkflows', actions: ['states:StartExecution'], resources: nested.map((k) => stateMachineArn(stack, props.prefix, k)) }));
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'FollowNestedExecutions',
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: nested.map((k) => stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName(props.prefix, k)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'NestedExecutionEvents',
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule' })],
        }),
      );
    }

    const stateMachine = new sfn.StateMachine(this, key, {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(path.join(dir, spec.file), 'utf8')),
      definitionSubstitutions: {
        ...Object.fromEntries(spec.handlers.map((h) => [substitutionKey(h), props.functionArns[h]])),
        ...Object.fromEntries((spec.cellSettings ?? []).map((k) => [k, props.cellSettings[k]])),
        ...Object.fromEntries(((spec.startsStateMachines ?? []) as StateMachineKey[]).map((k) => [`${k}StateMachineArn`, stateMachineArn(Stack.of(this), props.prefix, k)])),
      },
      role,
      timeout: Duration.minutes(spec.timeoutMinutes),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: spec.description,
    });
    const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Step Functions logging (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) support no resource-level permissions.',
      });
      for (const k of (spec.startsStateMachines ?? []) as StateMachineKey[]) {
        Validations.of(defaultPolicy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName(props.prefix, k)}:*]`,
          reason: `startExecution.sync:2 follows and stops the ${k} executions it starts; their names are chosen per run, so only the state machine's execution prefix can be named.`,
        });
      }
    }
    return stateMachine;
  }
}
