/**
 * Denials made visible (issue 10, item 4): the EgressDenials function subscribed to the egress
 * proxy's log group with the filter `{ $.event = "egress_denied" }`, putting at most one
 * `TenantEgressDenied` event per tenant per `intervalSeconds` on the platform bus; its rate-limit
 * table (one item per tenant, expiring by TTL). Per-tenant counts are the proxy's `DeniedByTenant`
 * metric filter (egress-proxy.ts); the latest denial lines are what `octw tenants denials` reads.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import type { HandlerSpec } from '../../functions/handlers/catalogue';
import { HouseFunction, HANDLERS_DIR } from './house-function';

/** The function's spec (kept out of the control-plane catalogue: no state machine calls it). */
export const EGRESS_DENIALS_SPEC: HandlerSpec = {
  entry: 'egress-denials.ts',
  description: 'Egress proxy denial lines (log subscription) to rate-limited TenantEgressDenied events per tenant',
  memoryMiB: 256,
  timeoutSeconds: 30,
  env: ['EVENT_BUS_NAME', 'EVENT_SOURCE', 'CELL_ID'],
};

export const DENIAL_FILTER_PATTERN = '{ $.event = "egress_denied" }';

export interface EgressDenialsProps {
  readonly prefix: string;
  readonly cellId: string;
  readonly proxyLogGroup: logs.ILogGroup;
  readonly bus: events.IEventBus;
  readonly eventSource: string;
  /** One event per tenant per this many seconds at most. */
  readonly intervalSeconds: number;
  readonly logRetention: logs.RetentionDays;
  readonly environment: Readonly<Record<string, string>>;
  readonly handlersDir?: string;
}

export class EgressDenials extends Construct {
  readonly function: HouseFunction;
  readonly gateTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: EgressDenialsProps) {
    super(scope, id);
    this.gateTable = new dynamodb.Table(this, 'GateTable', {
      tableName: `${props.prefix}-egress-denial-gate`,
      partitionKey: { name: 'tenantId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expiresAt',
      // Rate-limit marks only (they expire by TTL); point-in-time recovery as every platform table has it.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new HouseFunction(this, 'Function', {
      functionName: `${props.prefix}-egress-denials`,
      spec: EGRESS_DENIALS_SPEC,
      logRetention: props.logRetention,
      handlersDir: props.handlersDir ?? HANDLERS_DIR,
      environment: {
        ...props.environment,
        EVENT_BUS_NAME: props.bus.eventBusName,
        EVENT_SOURCE: props.eventSource,
        CELL_ID: props.cellId,
        DENIAL_GATE_TABLE: this.gateTable.tableName,
        DENIAL_EVENT_INTERVAL_SECONDS: String(props.intervalSeconds),
      },
    });
    this.function.allow([
      new iam.PolicyStatement({ sid: 'DenialGate', actions: ['dynamodb:PutItem'], resources: [this.gateTable.tableArn] }),
      new iam.PolicyStatement({ sid: 'DenialEvents', actions: ['events:PutEvents'], resources: [props.bus.eventBusArn] }),
    ]);
    new logs.SubscriptionFilter(this, 'Subscription', {
      logGroup: props.proxyLogGroup,
      filterName: `${props.prefix}-egress-denials`,
      filterPattern: logs.FilterPattern.literal(DENIAL_FILTER_PATTERN),
      destination: new destinations.LambdaDestination(this.function.function),
    });
  }
}

