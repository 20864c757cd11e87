/**
 * ECS task definitions, services, deployments and Fargate tasks, with time modelled lazily:
 * every transition is a timestamp, and state is computed from the clock when read.
 * Errors: ECS API Reference (CreateService, UpdateService, DeleteService, RegisterTaskDefinition).
 */
import type * as ecs from '@aws-sdk/client-ecs';
import {
  ClientException,
  ClusterNotFoundException,
  InvalidParameterException,
  ServiceNotActiveException,
  ServiceNotFoundException,
} from '@aws-sdk/client-ecs';
import type { ResourceRef, TagMap } from './core';
import { deepEqual, mergeTags, tagRecord, tagsFromLowerKeyValue, toLowerKeyValue } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta } from './errors';
import { paginate } from './ec2';
import type { IamFake } from './iam';
import type { EfsFake } from './efs';
import type { SecretsFake } from './secrets';
import type { EfsVolumeMount, TaskRuntime, TaskRuntimeContext, TaskRuntimeOptions } from './task-runtime';
import { HEALTH_CHECK_FAILED, TaskAgent } from './task-runtime';

export interface TaskDefinitionRevision {
  readonly family: string;
  readonly revision: number;
  readonly arn: string;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  readonly input: ecs.RegisterTaskDefinitionCommandInput;
  readonly tags: TagMap;
  readonly registeredAt: number;
  deregisteredAt?: number;
}

export interface FakeTask {
  readonly arn: string;
  readonly clusterArn: string;
  readonly serviceName: string;
  readonly deploymentId: string;
  readonly taskDefinitionArn: string;
  readonly createdAt: number;
  /** Fails its health check: set at launch for a failing family, or when the task runtime reports a failure. */
  failing: boolean;
  /** Started on the task runtime; `healthCheck`: its essential container defines one (else health stays UNKNOWN). */
  runtime?: { readonly healthCheck: boolean };
  /** With a task runtime: when the fake first saw the container's health check pass (or, without one, the container start). */
  healthyAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  readonly eni: { readonly id: string; readonly privateIp: string; readonly securityGroups: readonly string[]; readonly subnetId?: string };
}

export interface Deployment {
  readonly id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  readonly taskDefinitionArn: string;
  desiredCount: number;
  readonly createdAt: number;
  updatedAt: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  /** Without a task runtime, known at creation; with one, set when every task was seen healthy. */
  readyAt?: number;
  failAt?: number;
  /** Tasks of this deployment run on the installed task runtime. */
  readonly onRuntime?: boolean;
}

export interface FakeService {
  readonly serviceName: string;
  readonly arn: string;
  readonly clusterArn: string;
  readonly clientToken?: string;
  /** The create request minus clientToken, for the idempotency comparison. */
  readonly request: unknown;
  readonly createdAt: number;
  desiredCount: number;
  taskDefinitionArn: string;
  deploymentConfiguration: ecs.DeploymentConfiguration;
  networkConfiguration?: ecs.NetworkConfiguration;
  /** Set by UpdateService `enableExecuteCommand` (absent: as created). */
  enableExecuteCommand?: boolean;
  readonly tags: TagMap;
  readonly deployments: Deployment[];
  readonly events: { id: string; createdAt: number; message: string }[];
  deletedAt?: number;
}

const ROLE_MESSAGE = (arn: string) =>
  `ECS was unable to assume the role '${arn}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`;

export class EcsFake implements EmulatedService {
  readonly name = 'ECS' as const;
  readonly families = new Map<string, TaskDefinitionRevision[]>();
  /** Keyed `clusterArn|serviceName`; INACTIVE services stay until a new one takes the name. */
  readonly services = new Map<string, FakeService>();
  readonly tasks: FakeTask[] = [];
  private readonly failingFamilies = new Set<string>();
  private runtime?: { readonly runtime: TaskRuntime; readonly options: TaskRuntimeOptions };
  /** The agent of every task started on the runtime and not yet stopped, by task ARN. */
  private readonly agents = new Map<string, TaskAgent>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly killAtExit = () => {
    for (const a of this.agents.values()) a.killNow();
  };

  /** The ELBv2 side of service load balancers (set by FakeAws): check a target group, (de)register task addresses. */
  private loadBalancing?: {
    check(targetGroupArn: string): string | undefined;
    register(targetGroupArn: string, address: string, port: number): void;
    deregister(targetGroupArn: string, address: string): void;
  };

  setLoadBalancing(lb: NonNullable<EcsFake['loadBalancing']>): void {
    this.loadBalancing = lb;
  }

  /** The service's load balancers (CreateService `loadBalancers`). */
  private loadBalancersOf(svc: FakeService): ecs.LoadBalancer[] {
    return (svc.request as ecs.CreateServiceCommandInput).loadBalancers ?? [];
  }

  constructor(
    private readonly ctx: ServiceContext,
    private readonly iam: IamFake,
    private readonly state: { readonly secrets: SecretsFake; readonly efs: EfsFake },
  ) {}

  /**
   * Installs a task runtime: tasks started from now on also run on it, and their health is the
   * result of their container health check (see task-runtime.ts). One runtime at a time.
   */
  setTaskRuntime(runtime: TaskRuntime, options: TaskRuntimeOptions = {}): void {
    if (this.runtime) throw new Error('ECS fake: a task runtime is already installed; remove it first');
    this.runtime = { runtime, options };
    process.once('exit', this.killAtExit);
  }

  /** Stops every task process the runtime still runs, waits until they are gone, and removes the runtime. */
  async removeTaskRuntime(): Promise<void> {
    for (const [arn, agent] of this.agents) this.stopAgent(arn, agent);
    await this.runtimeIdle();
    this.runtime = undefined;
    process.removeListener('exit', this.killAtExit);
  }

  /** Resolves when every stop the fake has ordered has completed (processes gone). */
  async runtimeIdle(): Promise<void> {
    while (this.stopping.size > 0) await Promise.all([...this.stopping]);
  }

  /** ARNs of the tasks whose process runs on the task runtime (started and not stopped). */
  runtimeTasks(): string[] {
    return [...this.agents.keys()];
  }

  private stopAgent(taskArn: string, agent: TaskAgent): void {
    this.agents.delete(taskArn);
    const p = agent.stop().finally(() => this.stopping.delete(p));
    this.stopping.add(p);
  }

  /**
   * Tasks started from now on fail their container health check: every revision of a family
   * (`octw-acme`) or one revision (`octw-acme:2`), so a rollback to the previous revision can succeed.
   */
  failHealthFor(familyOrRevision: string): void {
    this.failingFamilies.add(familyOrRevision);
  }

  healHealthFor(familyOrRevision: string): void {
    this.failingFamilies.delete(familyOrRevision);
  }

  private fails(taskDefinitionArn: string): boolean {
    const short = taskDefinitionArn.split('/').pop()!;
    return this.failingFamilies.has(short) || this.failingFamilies.has(short.split(':')[0]!);
  }

  readonly operations = {
    RegisterTaskDefinition: op((i: ecs.RegisterTaskDefinitionCommandInput): ecs.RegisterTaskDefinitionCommandOutput => this.register(i)),
    DescribeTaskDefinition: op((i: ecs.DescribeTaskDefinitionCommandInput): ecs.DescribeTaskDefinitionCommandOutput => {
      const td = this.resolveTaskDefinition(i.taskDefinition, true);
      return {
        $metadata: {},
        taskDefinition: this.taskDefinitionShape(td),
        ...(i.include?.includes('TAGS') ? { tags: toLowerKeyValue(td.tags) } : {}),
      };
    }),
    ListTaskDefinitions: op((i: ecs.ListTaskDefinitionsCommandInput): ecs.ListTaskDefinitionsCommandOutput => {
      const status = i.status ?? 'ACTIVE';
      let all = [...this.families.values()].flat().filter((t) => t.status === status && t.family.startsWith(i.familyPrefix ?? ''));
      all.sort((a, b) => (a.family === b.family ? a.revision - b.revision : a.family.localeCompare(b.family)));
      if (i.sort === 'DESC') all = all.reverse();
      const { page, next } = paginate(all, i.maxResults ?? 100, i.nextToken);
      return { $metadata: {}, taskDefinitionArns: page.map((t) => t.arn), ...(next ? { nextToken: next } : {}) };
    }),
    DeregisterTaskDefinition: op((i: ecs.DeregisterTaskDefinitionCommandInput): ecs.DeregisterTaskDefinitionCommandOutput => {
      const td = this.resolveTaskDefinition(i.taskDefinition, true);
      if (!/:\d+$/.test(i.taskDefinition ?? '')) {
        throw new InvalidParameterException({ message: 'Task definition revision must be specified.', $metadata: meta(400) });
      }
      if (td.status === 'ACTIVE') {
        td.status = 'INACTIVE';
        td.deregisteredAt = this.ctx.now();
      }
      return { $metadata: {}, taskDefinition: this.taskDefinitionShape(td) };
    }),
    DeleteTaskDefinitions: op((i: ecs.DeleteTaskDefinitionsCommandInput): ecs.DeleteTaskDefinitionsCommandOutput => {
      const deleted: ecs.TaskDefinition[] = [];
      const failures: ecs.Failure[] = [];
      for (const ref of i.taskDefinitions ?? []) {
        const td = this.findTaskDefinition(ref, true);
        if (!td) failures.push({ arn: ref, reason: 'The specified task definition does not exist.' });
        else if (td.status === 'ACTIVE') failures.push({ arn: td.arn, reason: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.' });
        else {
          td.status = 'DELETE_IN_PROGRESS';
          deleted.push(this.taskDefinitionShape(td));
        }
      }
      return { $metadata: {}, taskDefinitions: deleted, failures };
    }),
    CreateService: op((i: ecs.CreateServiceCommandInput): ecs.CreateServiceCommandOutput => this.createService(i)),
    DescribeServices: op((i: ecs.DescribeServicesCommandInput): ecs.DescribeServicesCommandOutput => {
      const clusterArn = this.clusterArn(i.cluster);
      const services: ecs.Service[] = [];
      const failures: ecs.Failure[] = [];
      for (const ref of i.services ?? []) {
        const svc = this.services.get(`${clusterArn}|${ref.split('/').pop() ?? ref}`);
        if (!svc) failures.push({ arn: ref.startsWith('arn:') ? ref : this.serviceArn(clusterArn, ref), reason: 'MISSING' });
        else {
          this.settle(svc);
          services.push(this.serviceShape(svc, i.include?.includes('TAGS') === true));
        }
      }
      return { $metadata: {}, services, failures };
    }),
    UpdateService: op((i: ecs.UpdateServiceCommandInput): ecs.UpdateServiceCommandOutput => this.updateService(i)),
    ListServices: op((i: ecs.ListServicesCommandInput): ecs.ListServicesCommandOutput => this.listServices(i)),
    DeleteService: op((i: ecs.DeleteServiceCommandInput): ecs.DeleteServiceCommandOutput => this.deleteService(i)),
    ListTasks: op((i: ecs.ListTasksCommandInput): ecs.ListTasksCommandOutput => {
      const clusterArn = this.clusterArn(i.cluster);
      this.settleAll();
      const now = this.ctx.now();
      const wantStopped = i.desiredStatus === 'STOPPED';
      const all = this.tasks.filter(
        (t) =>
          t.clusterArn === clusterArn &&
          (i.serviceName === undefined || t.serviceName === i.serviceName) &&
          (i.family === undefined || t.taskDefinitionArn.includes(`/${i.family}:`)) &&
          (t.stoppedAt !== undefined && now >= t.stoppedAt) === wantStopped,
      );
      const { page, next } = paginate(all, i.maxResults ?? 100, i.nextToken);
      return { $metadata: {}, taskArns: page.map((t) => t.arn), ...(next ? { nextToken: next } : {}) };
    }),
    DescribeTasks: op((i: ecs.DescribeTasksCommandInput): ecs.DescribeTasksCommandOutput => {
      this.clusterArn(i.cluster);
      this.settleAll();
      const tasks: ecs.Task[] = [];
      const failures: ecs.Failure[] = [];
      for (const ref of i.tasks ?? []) {
        const t = this.tasks.find((x) => x.arn === ref || x.arn.endsWith(`/${ref}`));
        if (t) tasks.push(this.taskShape(t));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { $metadata: {}, tasks, failures };
    }),
    TagResource: op((i: ecs.TagResourceCommandInput): ecs.TagResourceCommandOutput => {
      const svc = [...this.services.values()].find((s) => s.arn === i.resourceArn);
      const td = [...this.families.values()].flat().find((t) => t.arn === i.resourceArn);
      const target = svc?.tags ?? td?.tags;
      if (!target) throw new InvalidParameterException({ message: 'The specified resource is not valid.', $metadata: meta(400) });
      mergeTags(target, tagsFromLowerKeyValue(i.tags));
      return { $metadata: {} };
    }),
  };

  // ---------- clusters, roles, task definitions ----------

  private clusterArn(ref: string | undefined): string {
    const name = (ref ?? 'default').split('/').pop()!;
    if (!this.ctx.config.clusters.includes(name)) throw new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: meta(400) });
    return `arn:aws:ecs:${this.ctx.config.region}:${this.ctx.config.account}:cluster/${name}`;
  }

  private serviceArn(clusterArn: string, name: string): string {
    const cluster = clusterArn.split('/').pop()!;
    return `arn:aws:ecs:${this.ctx.config.region}:${this.ctx.config.account}:service/${cluster}/${name}`;
  }

  /** Refuses a role younger than the IAM propagation delay, as ECS does. Unknown roles (platform roles made by CDK) pass. */
  private checkRole(arn: string | undefined): void {
    if (!arn) return;
    const role = this.iam.byArn(arn);
    if (role && this.ctx.now() - role.createdAt < this.ctx.latency('iamPropagationMs')) {
      throw new ClientException({ message: ROLE_MESSAGE(arn), $metadata: meta(400) });
    }
  }

  private register(i: ecs.RegisterTaskDefinitionCommandInput): ecs.RegisterTaskDefinitionCommandOutput {
    const family = i.family ?? '';
    if (!/^[a-zA-Z0-9_-]{1,255}$/.test(family)) throw new ClientException({ message: 'Family contains invalid characters.', $metadata: meta(400) });
    if (!i.containerDefinitions?.length) throw new ClientException({ message: 'Container list cannot be empty.', $metadata: meta(400) });
    this.checkRole(i.taskRoleArn);
    this.checkRole(i.executionRoleArn);
    const revisions = this.families.get(family) ?? [];
    const revision = revisions.length + 1;
    const td: TaskDefinitionRevision = {
      family,
      revision,
      arn: `arn:aws:ecs:${this.ctx.config.region}:${this.ctx.config.account}:task-definition/${family}:${revision}`,
      status: 'ACTIVE',
      input: i,
      tags: tagsFromLowerKeyValue(i.tags),
      registeredAt: this.ctx.now(),
    };
    revisions.push(td);
    this.families.set(family, revisions);
    return { $metadata: {}, taskDefinition: this.taskDefinitionShape(td), tags: toLowerKeyValue(td.tags) };
  }

  private findTaskDefinition(ref: string | undefined, includeInactive: boolean): TaskDefinitionRevision | undefined {
    if (!ref) return undefined;
    const short = ref.startsWith('arn:') ? ref.split('/').pop()! : ref;
    const [family, rev] = short.split(':');
    const revisions = this.families.get(family ?? '') ?? [];
    if (rev !== undefined) {
      const td = revisions.find((t) => t.revision === Number(rev));
      if (!td || td.status === 'DELETE_IN_PROGRESS' || (!includeInactive && td.status !== 'ACTIVE')) return undefined;
      return td;
    }
    return [...revisions].reverse().find((t) => t.status === 'ACTIVE');
  }

  private resolveTaskDefinition(ref: string | undefined, includeInactive: boolean): TaskDefinitionRevision {
    const td = this.findTaskDefinition(ref, includeInactive);
    if (!td) throw new ClientException({ message: 'Unable to describe task definition.', $metadata: meta(400) });
    return td;
  }

  private taskDefinitionShape(td: TaskDefinitionRevision): ecs.TaskDefinition {
    const { tags: _tags, ...rest } = td.input;
    return {
      ...(rest as ecs.TaskDefinition),
      taskDefinitionArn: td.arn,
      family: td.family,
      revision: td.revision,
      status: td.status,
      registeredAt: new Date(td.registeredAt),
      ...(td.deregisteredAt !== undefined ? { deregisteredAt: new Date(td.deregisteredAt) } : {}),
      compatibilities: ['EC2', 'FARGATE'],
    };
  }

  // ---------- services and deployments ----------

  private event(svc: FakeService, at: number, message: string): void {
    svc.events.unshift({ id: this.ctx.rng.uuid(), createdAt: at, message: `(service ${svc.serviceName}) ${message}` });
  }

  private launchTasks(svc: FakeService, d: Deployment, count: number, at: number, failing: boolean): void {
    const start = this.ctx.latency('taskStartMs');
    const fail = this.ctx.latency('healthCheckFailMs');
    const awsvpc = svc.networkConfiguration?.awsvpcConfiguration;
    const started: string[] = [];
    for (let n = 0; n < count; n++) {
      const id = this.ctx.rng.hex(32);
      const subnetId = awsvpc?.subnets?.[0];
      const task: FakeTask = {
        arn: `arn:aws:ecs:${this.ctx.config.region}:${this.ctx.config.account}:task/${svc.clusterArn.split('/').pop()!}/${id}`,
        clusterArn: svc.clusterArn,
        serviceName: svc.serviceName,
        deploymentId: d.id,
        taskDefinitionArn: d.taskDefinitionArn,
        createdAt: at,
        failing,
        eni: {
          id: `eni-${this.ctx.rng.hex(17)}`,
          privateIp: `10.0.${Math.floor(this.ctx.rng.next() * 250)}.${Math.floor(this.ctx.rng.next() * 250) + 2}`,
          securityGroups: awsvpc?.securityGroups ?? [],
          ...(subnetId ? { subnetId } : {}),
        },
      };
      if (failing) {
        task.stoppedAt = at + start + fail;
        task.stoppedReason = HEALTH_CHECK_FAILED;
      } else if (d.onRuntime && this.runtime) {
        const td = this.resolveTaskDefinition(d.taskDefinitionArn, true);
        const agent = new TaskAgent(this.runtime.runtime, this.taskDefinitionShape(td), this.runtimeContext(task, td), this.runtime.options);
        this.agents.set(task.arn, agent);
        task.runtime = { healthCheck: agent.hasHealthCheck };
      }
      this.tasks.push(task);
      started.push(id);
      // ECS registers the task's address in the service's target groups (a failing task never gets there).
      if (!failing) for (const lb of this.loadBalancersOf(svc)) if (lb.targetGroupArn) this.loadBalancing?.register(lb.targetGroupArn, task.eni.privateIp, lb.containerPort ?? 0);
    }
    if (count > 0) this.event(svc, at, `has started ${count} tasks: ${started.map((s) => `(task ${s})`).join(' ')}.`);
  }

  private stopTasks(tasks: FakeTask[], at: number, reason: string): void {
    for (const t of tasks) {
      const svc = [...this.services.values()].find((x) => x.clusterArn === t.clusterArn && x.serviceName === t.serviceName);
      for (const lb of svc ? this.loadBalancersOf(svc) : []) if (lb.targetGroupArn) this.loadBalancing?.deregister(lb.targetGroupArn, t.eni.privateIp);
      if (t.stoppedAt === undefined || t.stoppedAt > at) {
        t.stoppedAt = at;
        t.stoppedReason = reason;
      }
      // The process stops now, even when the model has the task drain until `at`.
      const agent = this.agents.get(t.arn);
      if (agent) this.stopAgent(t.arn, agent);
    }
  }

  /**
   * What ECS resolves before it starts the containers: the secrets the execution role fetches and
   * the EFS access points the volumes mount. A failure stops the task as ECS does
   * (ResourceInitializationError), before any container runs.
   */
  private runtimeContext(task: FakeTask, td: TaskDefinitionRevision): TaskRuntimeContext | { error: string } {
    const secrets: Record<string, Record<string, string>> = {};
    for (const c of td.input.containerDefinitions ?? []) {
      const env: Record<string, string> = {};
      for (const s of c.secrets ?? []) {
        const value = this.secretValue(s.valueFrom ?? '');
        if (typeof value !== 'string') return value;
        env[s.name ?? ''] = value;
      }
      secrets[c.name ?? ''] = env;
    }
    const efsVolumes: Record<string, EfsVolumeMount> = {};
    for (const v of td.input.volumes ?? []) {
      const cfg = v.efsVolumeConfiguration;
      if (!cfg) continue;
      const apId = cfg.authorizationConfig?.accessPointId;
      const ap = apId ? this.state.efs.accessPoints.get(apId) : undefined;
      if (apId && (!ap || ap.fileSystemId !== cfg.fileSystemId)) {
        return {
          error: `ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: Failed to resolve "${cfg.fileSystemId}": access point ${apId} does not exist in file system ${cfg.fileSystemId}`,
        };
      }
      const pu = ap?.posixUser;
      efsVolumes[v.name ?? ''] = {
        fileSystemId: cfg.fileSystemId ?? '',
        ...(apId ? { accessPointId: apId } : {}),
        ...(pu?.Uid !== undefined && pu.Gid !== undefined ? { posixUser: { uid: pu.Uid, gid: pu.Gid, secondaryGids: pu.SecondaryGids ?? [] } } : {}),
        ...(ap?.rootDirectory?.Path ? { rootDirectory: ap.rootDirectory.Path } : {}),
      };
    }
    return { taskArn: task.arn, clusterArn: task.clusterArn, serviceName: task.serviceName, secrets, efsVolumes };
  }

  /**
   * A container secret's `valueFrom`, resolved as the ECS agent does with GetSecretValue: the full
   * ARN of a Secrets Manager secret, optionally followed by `:json-key:version-stage:version-id`
   * (only the AWSCURRENT version exists in the fake). Anything else stops the task.
   */
  private secretValue(valueFrom: string): string | { error: string } {
    const fail = (why: string) => ({
      error: `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: ${why}`,
    });
    const m = /^(arn:aws:secretsmanager:[^:]+:\d{12}:secret:[^:]+)(?::([^:]*):([^:]*):([^:]*))?$/.exec(valueFrom);
    if (!m) return fail(`valueFrom "${valueFrom}" is not the ARN of a Secrets Manager secret (SSM parameters are not emulated)`);
    const [, arn, jsonKey, stage, versionId] = m;
    const now = this.ctx.now();
    const secret = [...this.state.secrets.secrets.values()].find((s) => s.arn === arn && (s.deletionDate === undefined || now < s.deletionDate));
    if (!secret) return fail("ResourceNotFoundException: Secrets Manager can't find the specified secret.");
    if (secret.deletionDate !== undefined) {
      return fail("InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion.");
    }
    if ((stage && stage !== 'AWSCURRENT') || (versionId && versionId !== secret.versionId)) {
      return fail("ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label or version.");
    }
    if (secret.secretString === undefined) return fail('the secret has no SecretString');
    if (!jsonKey) return secret.secretString;
    let parsed: unknown;
    try {
      parsed = JSON.parse(secret.secretString);
    } catch {
      return fail(`the secret is not JSON, so json-key "${jsonKey}" cannot be read`);
    }
    const value = (parsed as Record<string, unknown> | null)?.[jsonKey];
    return typeof value === 'string' ? value : fail(`json-key "${jsonKey}" is not a string in the secret`);
  }

  /**
   * Applies what the task runtime's agents observed, at the time of this read: a passing health
   * check makes the task HEALTHY (and, once every task of an in-progress deployment is, the
   * deployment ready); a failed start, an exited container or a failing health check stops the
   * task (and fails an in-progress deployment; a completed one gets a replacement task).
   */
  private observeRuntime(svc: FakeService): void {
    if (this.agents.size === 0) return;
    const now = this.ctx.now();
    for (const t of this.tasks) {
      const agent = this.agents.get(t.arn);
      if (!agent || !this.ownedBy(svc, t) || (t.stoppedAt !== undefined && t.stoppedAt <= now)) continue;
      const runningAt = t.createdAt + this.ctx.latency('taskStartMs');
      const seen = agent.observe();
      if (seen.kind === 'healthy' && t.healthyAt === undefined) t.healthyAt = Math.max(now, runningAt);
      if (seen.kind !== 'failed') continue;
      const d = svc.deployments.find((x) => x.id === t.deploymentId);
      t.failing = true;
      delete t.healthyAt;
      this.stopTasks([t], now, seen.reason);
      if (!d || d.status !== 'PRIMARY' || d.failAt !== undefined || d.rolloutState === 'FAILED') continue;
      // The circuit breaker fails an in-progress deployment once max(3, ½ desired) of its tasks
      // failed (at most 200: ECS Developer Guide, "deployment circuit breaker"); until then, and
      // after the rollout completed, the service scheduler replaces a failed task.
      const failed = this.tasks.filter((x) => x.deploymentId === d.id && x.failing).length;
      const threshold = Math.min(200, Math.max(3, Math.ceil(d.desiredCount / 2)));
      if (d.rolloutState === 'IN_PROGRESS' && failed >= threshold) d.failAt = now;
      else if (this.liveTasks(svc, now, d.id).length < d.desiredCount) this.launchTasks(svc, d, 1, now, false);
    }
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    if (primary?.onRuntime && primary.rolloutState === 'IN_PROGRESS' && primary.readyAt === undefined && primary.failAt === undefined) {
      const healthy = this.liveTasks(svc, now, primary.id)
        .map((t) => t.healthyAt)
        .filter((x): x is number => x !== undefined && x <= now);
      if (healthy.length >= primary.desiredCount) primary.readyAt = Math.max(primary.createdAt, ...healthy);
    }
  }

  private liveTasks(svc: FakeService, at: number, deploymentId?: string): FakeTask[] {
    return this.tasks.filter(
      (t) =>
        this.ownedBy(svc, t) &&
        (deploymentId === undefined || t.deploymentId === deploymentId) &&
        (t.stoppedAt === undefined || t.stoppedAt > at),
    );
  }

  /** Tasks belong to one incarnation of a service name: its deployments. */
  private ownedBy(svc: FakeService, t: FakeTask): boolean {
    return svc.deployments.some((d) => d.id === t.deploymentId);
  }

  private startDeployment(svc: FakeService, taskDefinitionArn: string, desiredCount: number, at: number): Deployment {
    for (const d of svc.deployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    const failing = this.fails(taskDefinitionArn) && desiredCount > 0;
    const start = this.ctx.latency('taskStartMs');
    const onRuntime = this.runtime !== undefined && !failing;
    const d: Deployment = {
      id: `ecs-svc/${this.ctx.rng.digits(19)}`,
      status: 'PRIMARY',
      taskDefinitionArn,
      desiredCount,
      createdAt: at,
      updatedAt: at,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment in progress.',
      ...(failing
        ? { failAt: at + start + this.ctx.latency('healthCheckFailMs') }
        : onRuntime && desiredCount > 0
          ? {}
          : { readyAt: desiredCount > 0 ? at + start : at }),
      ...(onRuntime ? { onRuntime } : {}),
    };
    // maximumPercent ≤ 100 leaves no room for a new task beside an old one: ECS stops the old
    // tasks first (with minimumHealthyPercent 0), so two tasks never run at once.
    if ((svc.deploymentConfiguration.maximumPercent ?? 200) <= 100) {
      const older = svc.deployments.filter((x) => x.status !== 'INACTIVE').flatMap((x) => this.liveTasks(svc, at, x.id));
      this.stopTasks(older, at, `Scaling activity initiated by (deployment ${d.id})`);
    }
    svc.deployments.unshift(d);
    svc.taskDefinitionArn = taskDefinitionArn;
    this.launchTasks(svc, d, desiredCount, at, failing);
    return d;
  }

  /** Applies every transition whose time has come, in time order. */
  private settle(svc: FakeService): void {
    const now = this.ctx.now();
    this.observeRuntime(svc);
    for (let guard = 0; guard < 100; guard++) {
      const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
      if (!primary || primary.rolloutState !== 'IN_PROGRESS') return;
      const breaker = svc.deploymentConfiguration.deploymentCircuitBreaker;
      if (primary.failAt !== undefined && breaker?.enable && now >= primary.failAt) {
        const at = primary.failAt;
        primary.rolloutState = 'FAILED';
        primary.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
        primary.updatedAt = at;
        this.event(svc, at, `(deployment ${primary.id}) deployment failed: tasks failed to start.`);
        const previous = svc.deployments.find((d) => d !== primary && d.status !== 'INACTIVE' && d.rolloutState === 'COMPLETED');
        if (breaker.rollback && previous) {
          this.event(svc, at, `(deployment ${primary.id}) rolling back to deployment ${previous.id}.`);
          this.stopTasks(this.liveTasks(svc, at, primary.id), at, 'Deployment rolled back');
          this.startDeployment(svc, previous.taskDefinitionArn, primary.desiredCount, at);
        }
        continue;
      }
      if (primary.readyAt !== undefined && now >= primary.readyAt) {
        const at = primary.readyAt;
        primary.rolloutState = 'COMPLETED';
        primary.rolloutStateReason = 'ECS deployment ' + primary.id + ' completed.';
        primary.updatedAt = at;
        for (const d of svc.deployments) {
          if (d !== primary && d.status !== 'INACTIVE') {
            d.status = 'INACTIVE';
            this.stopTasks(this.liveTasks(svc, at, d.id), at, 'Scaling activity initiated by (deployment ' + primary.id + ')');
          }
        }
        this.event(svc, at, `(deployment ${primary.id}) deployment completed.`);
        this.event(svc, at, 'has reached a steady state.');
        continue;
      }
      return;
    }
  }

  settleAll(): void {
    for (const svc of this.services.values()) this.settle(svc);
  }

  /** ACTIVE, DRAINING (deleted, draining) or INACTIVE. */
  statusOf(svc: FakeService): 'ACTIVE' | 'DRAINING' | 'INACTIVE' {
    if (svc.deletedAt === undefined) return 'ACTIVE';
    return this.ctx.now() < svc.deletedAt + this.ctx.latency('serviceDrainMs') ? 'DRAINING' : 'INACTIVE';
  }

  private mustService(cluster: string | undefined, ref: string | undefined): FakeService {
    const clusterArn = this.clusterArn(cluster);
    const svc = this.services.get(`${clusterArn}|${(ref ?? '').split('/').pop() ?? ''}`);
    if (!svc) throw new ServiceNotFoundException({ message: 'Service not found.', $metadata: meta(400) });
    this.settle(svc);
    return svc;
  }

  private createService(i: ecs.CreateServiceCommandInput): ecs.CreateServiceCommandOutput {
    const clusterArn = this.clusterArn(i.cluster);
    const name = i.serviceName ?? '';
    const { clientToken, ...request } = i;
    const key = `${clusterArn}|${name}`;
    const existing = this.services.get(key);
    if (existing && this.statusOf(existing) !== 'INACTIVE') {
      // Same request (and token, when given) → the same service; anything else is refused
      // (ECS API Reference, CreateService: "Creation of service was not idempotent.").
      const sameToken = clientToken === undefined || existing.clientToken === undefined || clientToken === existing.clientToken;
      if (this.statusOf(existing) === 'ACTIVE' && sameToken && deepEqual(existing.request, request)) {
        this.settle(existing);
        return { $metadata: {}, service: this.serviceShape(existing, false) };
      }
      throw new InvalidParameterException({ message: 'Creation of service was not idempotent.', $metadata: meta(400) });
    }
    const td = this.findTaskDefinition(i.taskDefinition, false);
    if (!td) throw new ClientException({ message: 'TaskDefinition not found.', $metadata: meta(400) });
    this.checkRole(td.input.taskRoleArn);
    for (const lb of i.loadBalancers ?? []) {
      // ECS refuses a target group that does not exist or is not attached to a load balancer.
      const problem = lb.targetGroupArn ? this.loadBalancing?.check(lb.targetGroupArn) : 'loadBalancers needs a targetGroupArn';
      if (problem) throw new InvalidParameterException({ message: problem, $metadata: meta(400) });
    }
    const now = this.ctx.now();
    const svc: FakeService = {
      serviceName: name,
      arn: this.serviceArn(clusterArn, name),
      clusterArn,
      ...(clientToken !== undefined ? { clientToken } : {}),
      request,
      createdAt: now,
      desiredCount: i.desiredCount ?? 0,
      taskDefinitionArn: td.arn,
      deploymentConfiguration: i.deploymentConfiguration ?? { maximumPercent: 200, minimumHealthyPercent: 100 },
      ...(i.networkConfiguration ? { networkConfiguration: i.networkConfiguration } : {}),
      tags: tagsFromLowerKeyValue(i.tags),
      deployments: [],
      events: [],
    };
    this.services.set(key, svc);
    this.startDeployment(svc, td.arn, svc.desiredCount, now);
    return { $metadata: {}, service: this.serviceShape(svc, false) };
  }

  /**
   * ListServices: the cluster's services that are not INACTIVE (ACTIVE and DRAINING), ARNs only,
   * maxResults 1-100, default 10 (ECS API Reference).
   */
  private listServices(i: ecs.ListServicesCommandInput): ecs.ListServicesCommandOutput {
    const clusterArn = this.clusterArn(i.cluster);
    if (i.maxResults !== undefined && (i.maxResults < 1 || i.maxResults > 100)) {
      throw new InvalidParameterException({ message: 'maxResults must be between 1 and 100.', $metadata: meta(400) });
    }
    const arns = [...this.services.values()].filter((s) => s.clusterArn === clusterArn && this.statusOf(s) !== 'INACTIVE').map((s) => s.arn);
    const { page, next } = paginate(arns, i.maxResults ?? 10, i.nextToken);
    return { $metadata: {}, serviceArns: page, ...(next ? { nextToken: next } : {}) };
  }

  private updateService(i: ecs.UpdateServiceCommandInput): ecs.UpdateServiceCommandOutput {
    const svc = this.mustService(i.cluster, i.service);
    if (this.statusOf(svc) !== 'ACTIVE') throw new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: meta(400) });
    const now = this.ctx.now();
    if (i.deploymentConfiguration) svc.deploymentConfiguration = { ...svc.deploymentConfiguration, ...i.deploymentConfiguration };
    if (i.networkConfiguration) svc.networkConfiguration = i.networkConfiguration;
    // UpdateService `enableExecuteCommand`: applies to tasks started from now on (ECS API Reference).
    if (i.enableExecuteCommand !== undefined) svc.enableExecuteCommand = i.enableExecuteCommand;
    const desired = i.desiredCount ?? svc.desiredCount;
    const td = i.taskDefinition ? this.findTaskDefinition(i.taskDefinition, false) : undefined;
    if (i.taskDefinition && !td) throw new ClientException({ message: 'TaskDefinition not found.', $metadata: meta(400) });
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    if ((td && td.arn !== primary?.taskDefinitionArn) || i.forceNewDeployment || i.networkConfiguration) {
      if (td) this.checkRole(td.input.taskRoleArn);
      svc.desiredCount = desired;
      this.startDeployment(svc, td?.arn ?? svc.taskDefinitionArn, desired, now);
    } else if (primary && desired !== svc.desiredCount) {
      svc.desiredCount = desired;
      primary.desiredCount = desired;
      primary.updatedAt = now;
      const live = this.liveTasks(svc, now, primary.id);
      if (live.length > desired) {
        this.stopTasks(live.slice(desired), now, 'Service scaled down');
        this.event(svc, now, `has stopped ${live.length - desired} running tasks.`);
      } else if (live.length < desired) {
        this.launchTasks(svc, primary, desired - live.length, now, this.fails(primary.taskDefinitionArn));
      }
    }
    return { $metadata: {}, service: this.serviceShape(svc, false) };
  }

  private deleteService(i: ecs.DeleteServiceCommandInput): ecs.DeleteServiceCommandOutput {
    const svc = this.mustService(i.cluster, i.service);
    if (this.statusOf(svc) !== 'ACTIVE') throw new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: meta(400) });
    if (!i.force && svc.desiredCount > 0) {
      throw new InvalidParameterException({ message: 'The service cannot be stopped while it is scaled above 0.', $metadata: meta(400) });
    }
    const now = this.ctx.now();
    svc.deletedAt = now;
    svc.desiredCount = 0;
    // Tasks drain while the service is DRAINING and stop when it turns INACTIVE.
    this.stopTasks(this.liveTasks(svc, now), now + this.ctx.latency('serviceDrainMs'), 'Service deleted');
    for (const d of svc.deployments) d.desiredCount = 0;
    return { $metadata: {}, service: this.serviceShape(svc, false) };
  }

  // ---------- shapes ----------

  private taskStatus(t: FakeTask): { lastStatus: string; health: ecs.HealthStatus } {
    const now = this.ctx.now();
    const runningAt = t.createdAt + this.ctx.latency('taskStartMs');
    if (t.stoppedAt !== undefined && now >= t.stoppedAt) {
      const released = now >= t.stoppedAt + this.ctx.latency('eniReleaseMs');
      return { lastStatus: released ? 'STOPPED' : 'DEPROVISIONING', health: t.failing ? 'UNHEALTHY' : 'UNKNOWN' };
    }
    if (now < runningAt) return { lastStatus: 'PENDING', health: 'UNKNOWN' };
    if (t.runtime && !t.failing) {
      // On a task runtime: HEALTHY only once the container's own health check passed.
      return { lastStatus: 'RUNNING', health: t.runtime.healthCheck && t.healthyAt !== undefined && now >= t.healthyAt ? 'HEALTHY' : 'UNKNOWN' };
    }
    return { lastStatus: 'RUNNING', health: t.failing ? 'UNHEALTHY' : 'HEALTHY' };
  }

  /** A task's state as DescribeTasks reports it now (for the ECS event source, ecs-events.ts). */
  observedTaskStatus(t: FakeTask): { lastStatus: string; desiredStatus: string; health: ecs.HealthStatus } {
    const shape = this.taskShape(t);
    return { lastStatus: shape.lastStatus ?? 'PENDING', desiredStatus: shape.desiredStatus ?? 'RUNNING', health: shape.healthStatus ?? 'UNKNOWN' };
  }

  /**
   * Issue 13.5 (quota guard): the ENIs tasks still hold (not yet released after a stop), as EC2
   * DescribeNetworkInterfaces lists them.
   */
  liveEnis(): FakeTask['eni'][] {
    this.settleAll();
    const now = this.ctx.now();
    const release = this.ctx.latency('eniReleaseMs');
    return this.tasks.filter((t) => t.stoppedAt === undefined || now < t.stoppedAt + release).map((t) => t.eni);
  }

  /**
   * Issue 13.5: the vCPU of the tasks that count against Fargate's vCPU quota now (not stopped), split
   * by capacity provider, as AWS/Usage ResourceCount reports it (Class Standard/OnDemand, Standard/Spot).
   */
  vcpuInUse(): { onDemand: number; spot: number } {
    this.settleAll();
    const now = this.ctx.now();
    const out = { onDemand: 0, spot: 0 };
    for (const t of this.tasks) {
      if (t.stoppedAt !== undefined && now >= t.stoppedAt) continue;
      const family = t.taskDefinitionArn.split('/').pop()?.split(':')[0] ?? '';
      const def = (this.families.get(family) ?? []).find((d) => d.arn === t.taskDefinitionArn);
      const vcpu = Number(def?.input.cpu ?? 0) / 1024;
      const svc = [...this.services.values()].find((x) => x.serviceName === t.serviceName);
      const spot = ((svc?.request as ecs.CreateServiceCommandInput | undefined)?.capacityProviderStrategy ?? []).some((c) => c.capacityProvider === 'FARGATE_SPOT');
      if (spot) out.spot += vcpu;
      else out.onDemand += vcpu;
    }
    return out;
  }

  /** The ENI of a task still holding the security group (task not yet deprovisioned), if any. */
  eniUsing(groupId: string): string | undefined {
    this.settleAll();
    const now = this.ctx.now();
    const release = this.ctx.latency('eniReleaseMs');
    const t = this.tasks.find(
      (x) => x.eni.securityGroups.includes(groupId) && (x.stoppedAt === undefined || now < x.stoppedAt + release),
    );
    return t?.eni.id;
  }

  private taskShape(t: FakeTask): ecs.Task {
    const { lastStatus, health } = this.taskStatus(t);
    const stopped = lastStatus === 'STOPPED' || lastStatus === 'DEPROVISIONING';
    return {
      taskArn: t.arn,
      clusterArn: t.clusterArn,
      taskDefinitionArn: t.taskDefinitionArn,
      group: `service:${t.serviceName}`,
      startedBy: t.deploymentId,
      lastStatus,
      desiredStatus: stopped || (t.stoppedAt !== undefined && this.ctx.now() >= t.stoppedAt) ? 'STOPPED' : 'RUNNING',
      healthStatus: health,
      launchType: 'FARGATE',
      createdAt: new Date(t.createdAt),
      ...(lastStatus !== 'PENDING' ? { startedAt: new Date(t.createdAt + this.ctx.latency('taskStartMs')) } : {}),
      ...(stopped && t.stoppedAt !== undefined ? { stoppedAt: new Date(t.stoppedAt), stoppedReason: t.stoppedReason ?? '' } : {}),
      attachments: [
        {
          id: this.ctx.rng.uuid(),
          type: 'ElasticNetworkInterface',
          status: lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
          details: [
            { name: 'networkInterfaceId', value: t.eni.id },
            { name: 'privateIPv4Address', value: t.eni.privateIp },
            ...(t.eni.subnetId ? [{ name: 'subnetId', value: t.eni.subnetId }] : []),
            ...t.eni.securityGroups.map((sg) => ({ name: 'securityGroupId', value: sg })),
          ],
        },
      ],
    };
  }

  private serviceShape(svc: FakeService, withTags: boolean): ecs.Service {
    const counts = (deploymentId?: string) => {
      let running = 0;
      let pending = 0;
      for (const t of this.tasks) {
        if (!this.ownedBy(svc, t)) continue;
        if (deploymentId !== undefined && t.deploymentId !== deploymentId) continue;
        const s = this.taskStatus(t).lastStatus;
        if (s === 'RUNNING') running++;
        else if (s === 'PENDING') pending++;
      }
      return { running, pending };
    };
    const all = counts();
    const status = this.statusOf(svc);
    return {
      serviceArn: svc.arn,
      serviceName: svc.serviceName,
      clusterArn: svc.clusterArn,
      status,
      desiredCount: svc.desiredCount,
      runningCount: all.running,
      pendingCount: all.pending,
      launchType: 'FARGATE',
      taskDefinition: svc.taskDefinitionArn,
      deploymentConfiguration: svc.deploymentConfiguration,
      // AWS returns the service's load balancers (an empty list when it has none).
      loadBalancers: this.loadBalancersOf(svc),
      ...(svc.networkConfiguration ? { networkConfiguration: svc.networkConfiguration } : {}),
      deployments: svc.deployments
        .filter((d) => d.status !== 'INACTIVE')
        .map((d) => {
          const c = counts(d.id);
          return {
            id: d.id,
            status: d.status,
            taskDefinition: d.taskDefinitionArn,
            desiredCount: d.desiredCount,
            runningCount: c.running,
            pendingCount: c.pending,
            failedTasks: this.tasks.filter((t) => t.deploymentId === d.id && t.failing && t.stoppedAt !== undefined && this.ctx.now() >= t.stoppedAt).length,
            createdAt: new Date(d.createdAt),
            updatedAt: new Date(d.updatedAt),
            launchType: 'FARGATE',
            rolloutState: d.rolloutState,
            rolloutStateReason: d.rolloutStateReason,
          };
        }),
      events: svc.events.filter((e) => e.createdAt <= this.ctx.now()).map((e) => ({ id: e.id, createdAt: new Date(e.createdAt), message: e.message })),
      createdAt: new Date(svc.createdAt),
      enableExecuteCommand: svc.enableExecuteCommand ?? (svc.request as ecs.CreateServiceCommandInput).enableExecuteCommand ?? false,
      ...((svc.request as ecs.CreateServiceCommandInput).propagateTags ? { propagateTags: (svc.request as ecs.CreateServiceCommandInput).propagateTags } : {}),
      ...(withTags ? { tags: toLowerKeyValue(svc.tags) } : {}),
    };
  }

  resources(): ResourceRef[] {
    this.settleAll();
    const out: ResourceRef[] = [];
    for (const revisions of this.families.values()) {
      for (const td of revisions) {
        // Deregistered (INACTIVE) revisions still exist and are describable; deleted ones do not.
        if (td.status === 'DELETE_IN_PROGRESS') continue;
        out.push({
          service: 'ECS',
          type: 'AWS::ECS::TaskDefinition',
          id: `${td.family}:${td.revision}`,
          arn: td.arn,
          tags: tagRecord(td.tags),
          ...(td.status === 'INACTIVE' ? { state: 'INACTIVE' } : {}),
        });
      }
    }
    for (const svc of this.services.values()) {
      const status = this.statusOf(svc);
      if (status === 'INACTIVE') continue;
      out.push({
        service: 'ECS',
        type: 'AWS::ECS::Service',
        id: svc.serviceName,
        arn: svc.arn,
        tags: tagRecord(svc.tags),
        ...(status === 'DRAINING' ? { state: 'DRAINING' } : {}),
      });
    }
    return out;
  }
}
