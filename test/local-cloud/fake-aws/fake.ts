/**
 * The stateful AWS control-plane fake: one object holding every emulated service, the call
 * pipeline (crash check → latency → throttling → fault injection → operation → trace) and the
 * inspection API.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { setTimeout as delay } from 'node:timers/promises';
import { TAG_TENANT } from '../../../functions/domain/naming';
import { currentInvocation, SimulatedCrashError } from '../invocation-context';
import type { FakeAwsConfig, FakeAwsOptions, VpcConfig } from './config';
import { resolveConfig } from './config';
import type { ResourceRef, ServiceName } from './core';
import { Rng } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { BedrockFake } from './bedrock';
import { CloudWatchFake } from './cloudwatch';
import { Ec2Fake, InvalidTokenError } from './ec2';
import { EcsFake } from './ecs';
import { EfsFake } from './efs';
import { awsError, NotEmulatedError, PERMANENT_ERRORS, serviceError, THROTTLE_ERRORS, TRANSIENT_ERRORS } from './errors';
import type { FaultKind, FaultSpec } from './faults';
import { Faults } from './faults';
import { IamFake } from './iam';
import { IngressFake, redactIngress } from './ingress';
import type { IngressServiceName } from './ingress-errors';
import { FakeServiceError, INGRESS_FAULT_ERRORS } from './ingress-errors';
import { LogsFake } from './logs';
import { SecretsFake } from './secrets';
import { ServiceQuotasFake } from './service-quotas';
import { BackupFake } from './backup';
import { S3Fake } from './s3';
import { Ec2Network } from './ec2-network';
import { Throttler } from './throttle';
import type { TraceEntry } from './trace';
import { summariseOutput, TraceWriter } from './trace';

type PutEventsListener = (entries: PutEventsRequestEntry[]) => void;

export class FakeAws {
  readonly config: FakeAwsConfig;
  readonly ec2: Ec2Fake;
  readonly efs: EfsFake;
  readonly iam: IamFake;
  readonly secrets: SecretsFake;
  readonly logs: LogsFake;
  readonly ecs: EcsFake;
  readonly bedrock: BedrockFake;
  /** CloudWatch metrics (GetMetricData over datapoints put in with `cloudwatch.putDatapoint`). */
  readonly cloudwatch: CloudWatchFake;
  /** Service Quotas (issue 13.5): applied values set with `serviceQuotas.setApplied`, AWS defaults otherwise. */
  readonly serviceQuotas: ServiceQuotasFake;
  /** AWS Backup (issue 13.4) over real directories standing in for file-system roots. */
  readonly backup: BackupFake;
  /** S3 PutObject into buckets a test creates (tenant exports). */
  readonly s3: S3Fake;
  /** ELBv2 and Route 53 (issue 12): the ingress tier's load balancers, target groups, rules and records. */
  readonly ingress: IngressFake;
  readonly throttling: Throttler;
  readonly faults: Faults;
  /** Every EventBridge PutEvents entry, in order. */
  readonly events: PutEventsRequestEntry[] = [];
  /** Every call, as traced (kept in memory as well as written to the trace file/sink). */
  readonly calls: TraceEntry[] = [];
  private readonly rng: Rng;
  private readonly trace: TraceWriter;
  private readonly putEventsListeners = new Set<PutEventsListener>();
  private readonly eventBridge: EmulatedService;

  constructor(options: FakeAwsOptions = {}) {
    this.config = resolveConfig(options);
    this.rng = new Rng(this.config.seed);
    const config = this.config;
    const ctx: ServiceContext = {
      config,
      rng: this.rng,
      now: () => config.clock.now(),
      latency: (name) => config.latencies[name] * config.timeScale,
    };
    this.ec2 = new Ec2Fake(ctx);
    this.efs = new EfsFake(ctx);
    this.iam = new IamFake(ctx);
    this.secrets = new SecretsFake(ctx);
    this.logs = new LogsFake(ctx);
    this.ecs = new EcsFake(ctx, this.iam, { secrets: this.secrets, efs: this.efs });
    this.bedrock = new BedrockFake(ctx);
    this.cloudwatch = new CloudWatchFake(ctx);
    this.ec2.setEniUsage((groupId) => this.ecs.eniUsing(groupId));
    this.serviceQuotas = new ServiceQuotasFake(ctx);
    this.backup = new BackupFake(ctx);
    this.s3 = new S3Fake(ctx);
    // Issue 13.5: what the quota guard counts comes from the fake's own state.
    this.ec2.network = new Ec2Network(() => this.ecs.liveEnis());
    this.cloudwatch.usageSource = (metricName, d) => {
      if (metricName !== 'ResourceCount' || d.Service !== 'Fargate' || d.Type !== 'Resource' || d.Resource !== 'vCPU') return undefined;
      const inUse = this.ecs.vcpuInUse();
      return d.Class === 'Standard/Spot' ? inUse.spot : d.Class === 'Standard/OnDemand' ? inUse.onDemand : undefined;
    };
    this.ingress = new IngressFake({
      seed: config.seed,
      account: config.account,
      region: config.region,
      now: () => config.clock.now(),
      sink: (entry) => this.recordIngress(entry),
    });
    // ECS registers a service's tasks in its load balancer's target group, as the real one does.
    this.ecs.setLoadBalancing({
      check: (tgArn) => {
        const tg = this.ingress.elb.targetGroups.get(tgArn);
        if (!tg) return `Unable to find target group ${tgArn}`;
        if (this.ingress.elb.loadBalancersOf(tgArn).length === 0) return `The target group with targetGroupArn ${tgArn} does not have an associated load balancer.`;
        return undefined;
      },
      register: (tgArn, address, port) => this.ingress.elb.targetGroups.get(tgArn)?.targets.set(address, port),
      deregister: (tgArn, address) => this.ingress.elb.targetGroups.get(tgArn)?.targets.delete(address),
    });
    this.throttling = new Throttler(config.throttling, config.clock);
    this.faults = new Faults(new Rng(config.seed ^ 0x5eed), config.faultRate);
    this.trace = new TraceWriter(config.trace?.file, config.trace?.sink);
    this.eventBridge = {
      name: 'EventBridge',
      operations: {
        PutEvents: op((i: { Entries?: PutEventsRequestEntry[] }) => {
          const entries = i.Entries ?? [];
          this.events.push(...entries);
          for (const listener of this.putEventsListeners) listener(entries);
          return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: this.rng.uuid() })) };
        }),
      },
      resources: () => [],
    };
  }

  /** Subscribes to EventBridge PutEvents (called synchronously with the entries); returns an unsubscribe. */
  onPutEvents(listener: PutEventsListener): () => void {
    this.putEventsListeners.add(listener);
    return () => this.putEventsListeners.delete(listener);
  }

  /**
   * Adds platform resources CDK would have created for another cell of the same account (its VPC if
   * it has its own, its file system, its cluster). Existing entries are kept.
   */
  seedPlatform(platform: { vpcs?: readonly VpcConfig[]; fileSystemIds?: readonly string[]; clusters?: readonly string[] }): void {
    const add = <T>(list: readonly T[], items: readonly T[] | undefined, same: (a: T, b: T) => boolean) => {
      for (const item of items ?? []) if (!list.some((x) => same(x, item))) (list as T[]).push(item);
    };
    add(this.config.vpcs, platform.vpcs, (a, b) => a.vpcId === b.vpcId);
    add(this.config.fileSystemIds, platform.fileSystemIds, (a, b) => a === b);
    add(this.config.clusters, platform.clusters, (a, b) => a === b);
  }

  /** Schedules a fault; see FaultSpec. */
  inject(spec: FaultSpec): void {
    this.faults.inject(spec);
  }

  private service(name: ServiceName): EmulatedService {
    switch (name) {
      case 'EC2':
        return this.ec2;
      case 'ECS':
        return this.ecs;
      case 'EFS':
        return this.efs;
      case 'IAM':
        return this.iam;
      case 'SecretsManager':
        return this.secrets;
      case 'CloudWatchLogs':
        return this.logs;
      case 'EventBridge':
        return this.eventBridge;
      case 'Bedrock':
        return this.bedrock;
      case 'CloudWatch':
        return this.cloudwatch;
      case 'ServiceQuotas':
        return this.serviceQuotas;
      case 'Backup':
        return this.backup;
      case 'S3':
        return this.s3;
    }
  }

  /** One ELBv2 or Route 53 call made directly (scheduled and random faults, then the operation). */
  async ingressCall(service: IngressServiceName, operation: string, input: unknown): Promise<unknown> {
    const scheduled = this.ingressScheduled(service, operation, input);
    return this.ingressAttempt(service, operation, input, scheduled === 'crashAfterSuccess');
  }

  /**
   * The scheduled fault of one ELBv2 or Route 53 `send` (above the SDK's retry): raised here when it
   * is an error; `crashAfterSuccess` is returned for the attempt to apply.
   */
  ingressScheduled(service: IngressServiceName, operation: string, input: unknown): FaultKind | undefined {
    this.assertNotCrashed(service, operation);
    const fault = this.faults.nextScheduled(service, operation);
    if (fault === 'throttle' || fault === 'transient' || fault === 'permanent') throw this.ingressFault(service, operation, input, fault);
    return fault;
  }

  /** One attempt on the wire of an ELBv2 or Route 53 call: the random fault rate, then the operation. */
  async ingressAttempt(service: IngressServiceName, operation: string, input: unknown, crashAfterSuccess: boolean): Promise<unknown> {
    const invocation = this.assertNotCrashed(service, operation);
    if (this.config.latencies.perCallMs > 0) await delay(this.config.latencies.perCallMs);
    if (this.faults.nextRandom(service, operation)) throw this.ingressFault(service, operation, input, 'transient');
    const output = await this.ingress.call(service, operation, input);
    if (crashAfterSuccess) {
      if (invocation) invocation.crashed = { service, operation };
      throw new SimulatedCrashError(`injected crash after ${service} ${operation} succeeded`);
    }
    return output;
  }

  private ingressFault(service: IngressServiceName, operation: string, input: unknown, fault: 'throttle' | 'transient' | 'permanent'): Error {
    const e = INGRESS_FAULT_ERRORS[fault];
    const err = new FakeServiceError(service, e.code, e.message, e.status);
    this.recordIngress({ ts: new Date(this.config.clock.now()).toISOString(), service, operation, input: redactIngress(input), outcome: 'error', error: { name: err.name, message: err.message } });
    return err;
  }

  /** An invocation that crashed makes no further call (the process is gone). */
  private assertNotCrashed(service: string, operation: string) {
    const invocation = currentInvocation();
    if (invocation?.crashed) {
      throw new SimulatedCrashError(
        `invocation ${invocation.invocationId} already crashed after ${invocation.crashed.service} ${invocation.crashed.operation}; ${service} ${operation} never ran`,
      );
    }
    return invocation;
  }

  private recordIngress(entry: Omit<TraceEntry, 'invocation'>): void {
    const invocation = currentInvocation();
    const full: TraceEntry = {
      ...entry,
      ...(invocation
        ? {
            invocation: {
              handler: invocation.handler,
              ...(invocation.executionName !== undefined ? { executionName: invocation.executionName } : {}),
              ...(invocation.stateName !== undefined ? { stateName: invocation.stateName } : {}),
            },
          }
        : {}),
    };
    this.calls.push(full);
    this.trace.write(full);
  }

  /** One call made directly (scheduled and random faults, then the operation), with no SDK retry around it. */
  async call(service: ServiceName, operation: string, input: unknown): Promise<unknown> {
    const scheduled = this.scheduled(service, operation, input);
    return this.attempt(service, operation, input, scheduled === 'crashAfterSuccess');
  }

  /**
   * The scheduled fault of one SDK `send`, decided above the SDK's retry: what the caller sees once
   * the SDK has given up. Errors are raised (and traced) here; `crashAfterSuccess` is returned for
   * the attempt to apply.
   */
  scheduled(service: ServiceName, operation: string, input: unknown): FaultKind | undefined {
    this.assertNotCrashed(service, operation);
    const fault = this.faults.nextScheduled(service, operation);
    const spec = fault === 'throttle' ? THROTTLE_ERRORS[service] : fault === 'transient' ? TRANSIENT_ERRORS[service] : fault === 'permanent' ? PERMANENT_ERRORS[service] : undefined;
    if (spec) {
      const err = awsError(service, spec.code, spec.message, spec.status);
      this.record(service, operation, input, err);
      throw err;
    }
    return fault;
  }

  /**
   * One attempt on the wire, below the SDK's retry (the plug-in's middleware): the service's rate
   * limits, the random fault rate, then the operation. Its errors carry AWS's status codes, so the
   * SDK's standard retry treats them as it treats AWS's.
   */
  async attempt(service: ServiceName, operation: string, input: unknown, crashAfterSuccess = false): Promise<unknown> {
    const invocation = this.assertNotCrashed(service, operation);
    const handler = this.service(service).operations[operation];
    if (!handler) {
      const err = new NotEmulatedError(service, operation);
      this.record(service, operation, input, err);
      throw err;
    }
    if (this.config.latencies.perCallMs > 0) await delay(this.config.latencies.perCallMs);
    let output: unknown;
    try {
      if (!this.throttling.take(service, operation)) {
        const t = THROTTLE_ERRORS[service];
        throw awsError(service, t.code, t.message, t.status);
      }
      if (this.faults.nextRandom(service, operation)) {
        const t = TRANSIENT_ERRORS[service];
        throw awsError(service, t.code, t.message, t.status);
      }
      try {
        output = handler(input);
      } catch (e) {
        if (e instanceof InvalidTokenError) {
          throw serviceError(service, service === 'EC2' ? 'InvalidNextToken' : 'InvalidParameterException', 'The pagination token is invalid.');
        }
        throw e;
      }
      if (crashAfterSuccess) {
        if (invocation) invocation.crashed = { service, operation };
        this.record(service, operation, input, undefined, output, true);
        throw new SimulatedCrashError(`injected crash after ${service} ${operation} succeeded`);
      }
    } catch (e) {
      if (!(e instanceof SimulatedCrashError)) this.record(service, operation, input, e);
      throw e;
    }
    this.record(service, operation, input, undefined, output);
    return { ...(output as object), $metadata: { httpStatusCode: 200, requestId: this.rng.uuid(), attempts: 1, totalRetryDelay: 0 } };
  }

  private record(service: ServiceName, operation: string, input: unknown, error: unknown, output?: unknown, crashed = false): void {
    const invocation = currentInvocation();
    const err = error instanceof Error ? { name: error.name, message: error.message } : undefined;
    const entry: TraceEntry = {
      ts: new Date(this.config.clock.now()).toISOString(),
      service,
      operation,
      input: redact(input),
      outcome: err ? 'error' : 'ok',
      ...(err ? { error: err } : {}),
      ...(output !== undefined ? { output: summariseOutput(output) } : {}),
      ...(crashed ? { crashedAfter: true } : {}),
      ...(invocation
        ? {
            invocation: {
              handler: invocation.handler,
              ...(invocation.executionName !== undefined ? { executionName: invocation.executionName } : {}),
              ...(invocation.stateName !== undefined ? { stateName: invocation.stateName } : {}),
            },
          }
        : {}),
    };
    this.calls.push(entry);
    this.trace.write(entry);
  }

  // ---------- inspection ----------

  /**
   * Every resource that still exists, across services. "Exists" follows AWS: a secret scheduled
   * for deletion (still restorable), a DRAINING service and a deregistered (INACTIVE) task
   * definition still exist; an INACTIVE service and a deleted task definition do not.
   */
  allResources(): ResourceRef[] {
    return [...[this.ec2, this.efs, this.iam, this.secrets, this.logs, this.ecs, this.bedrock].flatMap((s) => s.resources()), ...this.ingress.resources()];
  }

  /** Everything still existing tagged `octw:tenant=<tenantId>`. */
  resourcesByTenant(tenantId: string): ResourceRef[] {
    return this.allResources().filter((r) => r.tags[TAG_TENANT] === tenantId);
  }

  securityGroup(idOrName: string) {
    return this.ec2.groups.get(idOrName) ?? [...this.ec2.groups.values()].find((g) => g.groupName === idOrName);
  }

  role(name: string) {
    return this.iam.roles.get(name.toLowerCase());
  }

  accessPoint(id: string) {
    return this.efs.accessPoints.get(id);
  }

  accessPointsOf(fileSystemId: string) {
    return [...this.efs.accessPoints.values()].filter((a) => a.fileSystemId === fileSystemId);
  }

  secret(name: string) {
    return this.secrets.secrets.get(name);
  }

  logGroup(name: string) {
    return this.logs.groups.get(name);
  }

  /** Latest revision of a family, or a given revision. */
  taskDefinition(family: string, revision?: number) {
    const revisions = this.ecs.families.get(family) ?? [];
    return revision === undefined ? revisions[revisions.length - 1] : revisions.find((t) => t.revision === revision);
  }

  /** A service by name (any cluster), settled to the current time, with its computed status. */
  ecsService(name: string) {
    this.ecs.settleAll();
    const svc = [...this.ecs.services.values()].find((s) => s.serviceName === name);
    return svc ? { ...svc, status: this.ecs.statusOf(svc) } : undefined;
  }
}

function redact(input: unknown): unknown {
  if (input === null || typeof input !== 'object') return input;
  const copy: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  // The trace is for audit; secret values must not land in a file.
  for (const k of ['SecretString', 'SecretBinary']) if (k in copy) copy[k] = '<redacted>';
  // An ELBv2 call recorded here (a scheduled fault, a crash) holds authenticate-oidc's ClientSecret deep in Actions.
  return 'Actions' in copy ? redactIngress(copy) : copy;
}
