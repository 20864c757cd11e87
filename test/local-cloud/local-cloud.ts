/**
 * The local cloud, assembled: DynamoDB Local (real), the AWS control-plane fake, the local event
 * bus (rule TenantSignedUp → SQS → Intake) and the real state machines running the real handlers.
 * Workflow tests and the demo both start it with `startLocalCloud()`.
 *
 * Handlers read their environment at module load, so one module registry hosts one local cloud at
 * a time, bound to one table; `startLocalCloud` refuses a second table. A second CELL in the same
 * fake account (`sharedFake`) therefore runs from a fresh module registry (jest's
 * `isolateModulesAsync`): see `startSecondCell`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STATE_MACHINES, type HandlerKey } from '../../functions/handlers/catalogue';
import { TenantStore } from '../../functions/adapters/tenant-store';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { EgressProxySettings } from '../../functions/domain/egress-proxy-client';
import { createEgressPolicyTable, createTenantsTable, startDynamoDbLocal, uniqueTableName, type DynamoDbLocal } from './dynamodb-local';
import { applyHandlerEnv, LOCAL_CELL, type LocalCell } from './env';
import { createLocalEventBus, drainAll, type LocalEventBus } from './event-bus';
import { installDynamoDbFaults, type DynamoFaultKind, type DynamoFaults } from './dynamodb-faults';
import { DYNAMODB_PREFIX_LIST_ID, EcsEventSource, FakeAws, installFakeAws, S3_PREFIX_LIST_ID, type EcsEventDeliveryOptions, type FakeAwsOptions, type TaskRuntime, type TaskRuntimeOptions } from './fake-aws';
import { createLocalStepFunctions, type LocalHandler, type LocalStepFunctions } from './step-functions';
import type { EnvVar } from '../../functions/handlers/catalogue';
import { IngressSettingsSchema, type IngressSettings } from '../../functions/domain/ingress';
import * as z from 'zod';

const IngressEnabledSchema = z.looseObject({ enabled: z.boolean() });
import { FakeAlb } from './ingress/fake-alb';
import { SIGNUP_INTAKE } from '../../infra/signup-intake';

export const SIGNUP_SOURCE = 'octw.signup';
export const SIGNUP_DETAIL_TYPE = 'TenantSignedUp';

/** Latencies of the fake for tests: AWS's shape, a thousand times faster. */
export const FAST_TIME_SCALE = 0.001;

export interface LocalCloudOptions {
  /** The cell this local cloud runs (default LOCAL_CELL). */
  readonly cell?: LocalCell;
  /**
   * Run against another local cloud's fake (one AWS account, two cells) instead of a new one. The
   * cell's file system, cluster and platform security groups are added to it; `stop()` leaves the
   * fake to its owner. Only from a fresh module registry (see `startSecondCell`).
   */
  readonly sharedFake?: FakeAws;
  /** Options for the AWS fake; the local cell's VPC, file system and cluster are always seeded. */
  readonly fake?: FakeAwsOptions;
  /** Handler environment overrides (e.g. GATEWAY_WAIT_SECONDS). */
  readonly env?: Partial<Record<EnvVar, string>>;
  /** Deliver every signup event to the intake twice (at-least-once delivery). */
  readonly duplicateDelivery?: boolean;
  /** Scale of Wait states and Retry pauses in the ASL (default 0.001). */
  readonly waitScale?: number;
  readonly retryScale?: number;
  /** Runs every ECS task the fake starts on this runtime (e.g. the real OpenClaw gateway); see fake-aws/task-runtime.ts. */
  readonly taskRuntime?: { readonly runtime: TaskRuntime; readonly options?: TaskRuntimeOptions };
  /**
   * Ingress on (issue 12): the cell's ALB shards and hosted zone are seeded in the fake (as CDK
   * would create them), the ingress security group exists, and the handlers get INGRESS_SETTINGS_JSON.
   * The activation handshake goes to `probeOrigin` (the local HAProxy with --real-gateway), else to
   * a stand-in ALB answering from the fake's rules (ingress/fake-alb.ts).
   */
  readonly ingress?: { readonly shards?: number; readonly rulesPerShard?: number; readonly probeOrigin?: string };
  /**
   * DynamoDB's faults on the handlers' calls to the real DynamoDB Local (issue 14): throttling,
   * server errors, transaction conflicts and lost responses at `rate` per attempt (see dynamodb-faults.ts).
   */
  readonly dynamoFaults?: { readonly rate: number; readonly seed?: number; readonly kinds?: readonly DynamoFaultKind[] };
  /**
   * Issue 14.1: how ECS's events (from the fake's state, fake-aws/ecs-events.ts) reach the
   * GatewayEvents function through the default bus: duplicates, delays (out of order), losses.
   */
  readonly ecsEvents?: EcsEventDeliveryOptions;
  /** Scale of a `.waitForTaskToken` state's HeartbeatSeconds (default 0.01). */
  readonly heartbeatScale?: number;
  /** Directory of the ASL files (default <repo>/state-machines): a test of a proposed workflow change runs a patched copy. */
  readonly definitionsDir?: string;
}

/** The local cell's ingress: `https://<tenant>.<domain>` (locally `http://<tenant>.localhost:<port>` with --real-gateway). */
export const LOCAL_INGRESS_DOMAIN = 'local.octw.test';
export const LOCAL_INGRESS_ZONE_ID = 'Z0LOCAL0OCTW0INGRESS';
/** The public subnets of the local cell (the ALB nodes' addresses): the gateways' trusted proxies. */
export const LOCAL_INGRESS_CIDRS = ['10.40.240.0/24', '10.40.241.0/24'];
/** The "ALB node" address the local HAProxy's connections come from at a real gateway (in LOCAL_INGRESS_CIDRS). */
export const LOCAL_INGRESS_NODE_ADDRESS = '10.40.240.10';

export interface LocalCloudIngress {
  readonly settings: IngressSettings;
  readonly securityGroupId: string;
  /** The stand-in ALB (absent when the handshake goes to `probeOrigin`). */
  readonly alb?: FakeAlb;
}

export interface LocalCloud {
  readonly cell: LocalCell;
  readonly fake: FakeAws;
  readonly sfn: LocalStepFunctions;
  readonly bus: LocalEventBus;
  readonly store: TenantStore;
  readonly tableName: string;
  /** The cell's egress policy table (DynamoDB Local). */
  readonly egressPolicyTableName: string;
  /** Set when started with `ingress`. */
  readonly ingress?: LocalCloudIngress;
  /** Set when started with `dynamoFaults`: what fired. */
  readonly dynamoFaults?: DynamoFaults;
  /** ECS's events from the fake (issue 14.1): what was produced and how it was delivered. */
  readonly ecsEvents: EcsEventSource;
  /** Puts a TenantSignedUp event on the bus, as a signup service would. */
  signup(detail: unknown): Promise<void>;
  /** Starts a provision run directly, as the console or CLI would. */
  startProvision(input: unknown, name?: string): Promise<string>;
  /** Waits until no event is being delivered and no execution runs. */
  settle(): Promise<void>;
  tenant(tenantId: string): Promise<TenantRecord | undefined>;
  stop(): Promise<void>;
}

let active: { tableName: string } | undefined;
let handlersLoadedFor: string | undefined;

async function loadHandlers(): Promise<Record<HandlerKey, LocalHandler>> {
  // Dynamic imports: the environment must be in place before the handler modules load.
  const [intake, lifecycle, network, egress, storage, identity, secrets, gateway, purge, usage, ingress, budget, gatewayEvents, reconcile, restore, rollout] = await Promise.all([
    import('../../functions/handlers/intake'),
    import('../../functions/handlers/lifecycle'),
    import('../../functions/handlers/network'),
    import('../../functions/handlers/egress'),
    import('../../functions/handlers/storage'),
    import('../../functions/handlers/identity'),
    import('../../functions/handlers/secrets'),
    import('../../functions/handlers/gateway'),
    import('../../functions/handlers/purge'),
    import('../../functions/handlers/usage'),
    import('../../functions/handlers/ingress'),
    import('../../functions/handlers/budget'),
    import('../../functions/handlers/gateway-events'),
    import('../../functions/handlers/reconcile'),
    import('../../functions/handlers/restore'),
    import('../../functions/handlers/rollout'),
  ]);
  return {
    Intake: intake.handler,
    Lifecycle: lifecycle.handler,
    Network: network.handler,
    Egress: egress.handler,
    Storage: storage.handler,
    Identity: identity.handler,
    Secrets: secrets.handler,
    Gateway: gateway.handler,
    Purge: purge.handler,
    Usage: usage.handler,
    Ingress: ingress.handler,
    Budget: budget.handler,
    GatewayEvents: gatewayEvents.handler,
    Reconcile: reconcile.handler,
    Restore: restore.handler,
    Rollout: rollout.handler,
  };
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  if (active) throw new Error('a local cloud is already running in this process; stop it first');
  let ownDynamo: DynamoDbLocal | undefined;
  let endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) {
    ownDynamo = await startDynamoDbLocal();
    endpoint = ownDynamo.endpoint;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  }
  const tableName = handlersLoadedFor ?? uniqueTableName();
  const egressPolicyTableName = `${tableName}-egress-policy`;
  if (handlersLoadedFor !== tableName) {
    await createTenantsTable(endpoint, tableName);
    await createEgressPolicyTable(endpoint, egressPolicyTableName);
  }
  active = { tableName };

  const cell = options.cell ?? LOCAL_CELL;
  const fake =
    options.sharedFake ??
    new FakeAws({
      account: cell.account,
      region: cell.region,
      timeScale: FAST_TIME_SCALE,
      ...options.fake,
      // Buckets refill on the same compressed clock as every other latency and retry pause.
      throttling: { refillScale: 1 / (options.fake?.timeScale ?? FAST_TIME_SCALE), ...options.fake?.throttling },
      vpcs: [{ vpcId: cell.vpcId, cidr: cell.vpcCidr }],
      fileSystemIds: [cell.fileSystemId],
      clusters: [cell.clusterName],
    });
  if (options.sharedFake) {
    options.sharedFake.seedPlatform({ vpcs: [{ vpcId: cell.vpcId, cidr: cell.vpcCidr }], fileSystemIds: [cell.fileSystemId], clusters: [cell.clusterName] });
  }
  // The cell's task subnets, as EC2 describes them (the quota guard counts their free addresses).
  cell.subnetIds.forEach((subnetId, i) => {
    const cidr = cell.subnetCidrs[i];
    if (cidr && !fake.ec2.network?.subnets.has(subnetId)) fake.ec2.network?.addSubnet({ subnetId, vpcId: cell.vpcId, cidr });
  });
  const uninstallFake = installFakeAws(fake);
  const dynamoFaults = options.dynamoFaults
    ? installDynamoDbFaults({ rate: options.dynamoFaults.rate, seed: options.dynamoFaults.seed ?? 0xd1a0, ...(options.dynamoFaults.kinds ? { kinds: options.dynamoFaults.kinds } : {}) })
    : undefined;
  if (options.taskRuntime) fake.ecs.setTaskRuntime(options.taskRuntime.runtime, options.taskRuntime.options);
  // The platform's own security groups (CDK creates them in a real cell).
  const platformGroups = createPlatformGroups(fake, cell);
  const ingress = options.ingress ? await seedIngress(fake, cell, options.ingress) : undefined;
  const previousProbeOrigin = process.env.OCTW_INGRESS_PROBE_ORIGIN;
  if (ingress) process.env.OCTW_INGRESS_PROBE_ORIGIN = options.ingress?.probeOrigin ?? ingress.alb!.origin;
  const restoreEnv = applyHandlerEnv(
    {
      tableName,
      overrides: {
        EFS_SECURITY_GROUP_ID: platformGroups.efs,
        ENDPOINTS_SECURITY_GROUP_ID: platformGroups.endpoints,
        EGRESS_PROXY_JSON: JSON.stringify(localEgressProxy(cell, egressPolicyTableName, platformGroups.proxyClients)),
        ...(ingress ? { INGRESS_SETTINGS_JSON: JSON.stringify({ enabled: true, settings: ingress.settings, securityGroupId: ingress.securityGroupId }) } : {}),
        ...options.env,
      },
    },
    cell,
  );
  // Quiet handlers unless asked: Powertools logs and EMF metrics go to stdout.
  process.env.POWERTOOLS_LOG_LEVEL ??= process.env.OCTW_LOCAL_LOGS ? 'DEBUG' : 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= process.env.OCTW_LOCAL_LOGS ? 'false' : 'true';
  // Only this cell's bus: with a shared fake, the other cell's PutEvents are not this cell's events.
  const bus = createLocalEventBus({ attachTo: fake, eventBusName: cell.eventBusName });
  const handlers = await loadHandlers();
  handlersLoadedFor = tableName;
  const sfn = createLocalStepFunctions({
    stateMachines: STATE_MACHINES,
    handlers,
    // The cell settings CDK fills in (infra/constructs/workflows.ts), from the handlers' own view of the cell.
    substitutions: { CellIngress: IngressEnabledSchema.parse(JSON.parse(process.env.INGRESS_SETTINGS_JSON ?? '{"enabled":false}')).enabled ? 'on' : 'off' },
    ...(options.definitionsDir ? { definitionsDir: options.definitionsDir } : {}),
    waitScale: options.waitScale ?? 0.001,
    retryScale: options.retryScale ?? 0.001,
    // A gateway wait's heartbeat (120 s) becomes 1.2 s: long enough for the fake's ECS events on a
    // loaded machine, short enough that a lost event is noticed quickly.
    heartbeatScale: options.heartbeatScale ?? 0.01,
  });
  // Issue 14.1: ECS's events on the default bus, through the cell's rule (the function itself
  // ignores another cell's cluster), to the GatewayEvents function as EventBridge invokes it.
  const ecsEvents = new EcsEventSource(fake.ecs, (e) => {
    bus.put([{ Source: e.source, DetailType: e['detail-type'], Detail: JSON.stringify(e.detail), Resources: e.resources, EventBusName: 'default', Time: new Date(e.time) }]);
  }, options.ecsEvents).start();
  const unsubscribeEcs = bus.subscribe({ source: 'aws.ecs', eventBusName: 'default' }, handlers.GatewayEvents, {
    handlerKey: 'GatewayEvents',
    shape: 'eventbridge',
    maxReceiveCount: 3,
  });
  const unsubscribe = bus.subscribe({ detailType: SIGNUP_DETAIL_TYPE }, handlers.Intake, {
    handlerKey: 'Intake',
    shape: 'sqs',
    duplicateDelivery: options.duplicateDelivery ?? false,
    // As the stack's event source mapping and redrive policy (infra/signup-intake.ts).
    batchSize: SIGNUP_INTAKE.batchSize,
    maxConcurrency: SIGNUP_INTAKE.maxConcurrency,
    maxReceiveCount: SIGNUP_INTAKE.maxReceiveCount,
  });

  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }), { marshallOptions: { removeUndefinedValues: true } });
  const store = new TenantStore(doc, tableName);

  return {
    cell,
    fake,
    sfn,
    bus,
    store,
    tableName,
    egressPolicyTableName,
    ...(ingress ? { ingress } : {}),
    ...(dynamoFaults ? { dynamoFaults } : {}),
    ecsEvents,
    async signup(detail) {
      // The signup service is not ours: put straight on the bus, so injected EventBridge faults
      // hit only the handlers' own PutEvents calls.
      bus.put([{ Source: SIGNUP_SOURCE, DetailType: SIGNUP_DETAIL_TYPE, Detail: JSON.stringify(detail), EventBusName: cell.eventBusName }]);
      await Promise.resolve();
    },
    async startProvision(input, name) {
      const out = await sfn.startExecution('ProvisionTenant', input, name);
      return out.executionArn;
    },
    settle: () => drainAll(bus, sfn),
    tenant: (tenantId) => store.get(tenantId),
    async stop() {
      unsubscribe();
      ecsEvents.stop();
      unsubscribeEcs();
      await drainAll(bus, sfn).catch(() => undefined);
      await sfn.stop();
      await bus.stop();
      // No task process outlives the local cloud.
      await fake.ecs.removeTaskRuntime();
      uninstallFake();
      dynamoFaults?.uninstall();
      restoreEnv();
      await ingress?.alb?.stop();
      if (previousProbeOrigin === undefined) delete process.env.OCTW_INGRESS_PROBE_ORIGIN;
      else process.env.OCTW_INGRESS_PROBE_ORIGIN = previousProbeOrigin;
      doc.destroy();
      active = undefined;
      if (ownDynamo) {
        await ownDynamo.stop();
        delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      }
    },
  };
}

export { S3_PREFIX_LIST_ID, DYNAMODB_PREFIX_LIST_ID };

/**
 * The platform's own security groups, which CDK creates in a real cell. Seeded straight into the
 * fake's state (not through the SDK) so they appear in neither the trace nor the throttle buckets:
 * the trace lists only the calls the handlers make.
 */
function createPlatformGroups(fake: FakeAws, cell: LocalCell): { efs: string; endpoints: string; proxyClients: string } {
  const create = (name: string) => {
    const existing = fake.securityGroup(name);
    if (existing) return existing.groupId;
    const out = fake.ec2.operations.CreateSecurityGroup({
      GroupName: name,
      Description: `OCTW platform: ${name}`,
      VpcId: cell.vpcId,
    }) as { GroupId: string };
    return out.GroupId;
  };
  return {
    efs: create(`octw-${cell.cellId}-efs`),
    endpoints: create(`octw-${cell.cellId}-endpoints`),
    proxyClients: create(`octw-${cell.cellId}-egress-proxy-lb`),
  };
}

/** The cell's egress proxy as the handlers see it (issue 10): its policy table in DynamoDB Local. */
export function localEgressProxy(cell: LocalCell, policyTableName: string, clientSecurityGroupId: string): EgressProxySettings {
  return { enabled: true, policyTableName, proxyHost: `proxy.${cell.cellId}.octw.internal`, port: 3128, clientSecurityGroupId };
}

/**
 * The cell's ingress tier as CDK would have created it: the hosted zone, N ALB shards with their
 * HTTPS listener, the ingress security group. Seeded into the fake's state, not through the SDK.
 */
async function seedIngress(fake: FakeAws, cell: LocalCell, options: NonNullable<LocalCloudOptions['ingress']>): Promise<LocalCloudIngress> {
  if (!fake.ingress.route53.zones.has(LOCAL_INGRESS_ZONE_ID)) fake.ingress.route53.addHostedZone(LOCAL_INGRESS_ZONE_ID, LOCAL_INGRESS_DOMAIN);
  const shards = Array.from({ length: options.shards ?? 1 }, (_, i) => {
    const { loadBalancer, listenerArn } = fake.ingress.elb.addLoadBalancer(`octw-${cell.cellId}-in-${i + 1}`);
    return { id: `alb-${i + 1}`, listenerArn, dnsName: loadBalancer.dnsName, canonicalHostedZoneId: loadBalancer.canonicalHostedZoneId };
  });
  const name = `octw-${cell.cellId}-ingress`;
  const securityGroupId =
    fake.securityGroup(name)?.groupId ??
    (fake.ec2.operations.CreateSecurityGroup({ GroupName: name, Description: 'OCTW platform: ingress tier', VpcId: cell.vpcId }) as { GroupId: string }).GroupId;
  const settings = IngressSettingsSchema.parse({
    cell: cell.cellId,
    domain: LOCAL_INGRESS_DOMAIN,
    hostedZoneId: LOCAL_INGRESS_ZONE_ID,
    vpcId: cell.vpcId,
    shards,
    rulesPerShard: options.rulesPerShard ?? 100,
    ingressCidrs: LOCAL_INGRESS_CIDRS,
  });
  const alb = options.probeOrigin ? undefined : await FakeAlb.start(fake, { cell: cell.cellId, hostedZoneId: LOCAL_INGRESS_ZONE_ID, shards });
  return { settings, securityGroupId, ...(alb ? { alb } : {}) };
}

/**
 * Starts `cell` as a second cell of `first`'s fake AWS account: its own table, bus, file system,
 * cluster and handlers (loaded from a fresh module registry with the cell's environment, because
 * handlers read their environment at module load), the same FakeAws (one account: names unique per
 * account or VPC collide here exactly as they would in AWS). `isolate` is jest's
 * `jest.isolateModulesAsync`. Stop the second cell before the first (its environment is restored
 * to the first's). The fake sees the second cell's calls without their invocation context, so
 * crash injection (`crashAfterSuccess`) applies to the first cell only.
 */
export async function startSecondCell(
  first: LocalCloud,
  cell: LocalCell,
  isolate: (fn: () => Promise<void>) => Promise<void>,
  options: Omit<LocalCloudOptions, 'cell' | 'sharedFake' | 'fake'> = {},
): Promise<LocalCloud> {
  if (cell.cellId === first.cell.cellId) throw new Error(`the second cell needs its own cell id, not "${cell.cellId}"`);
  let second: LocalCloud | undefined;
  await isolate(async () => {
    const fresh = await import('./local-cloud');
    second = await fresh.startLocalCloud({ ...options, cell, sharedFake: first.fake });
  });
  if (!second) throw new Error('the second cell did not start');
  return second;
}
