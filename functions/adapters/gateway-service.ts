/**
 * The tenant's ECS task definition and service.
 * - RegisterTaskDefinition has no idempotency token: the latest revision of the family is tagged
 *   with its config hash, and a retried step reuses it instead of registering another.
 * - CreateService uses a clientToken (≤ 36 chars) per tenant generation.
 * - A new IAM role can be refused by ECS for a while: that surfaces as IamPropagationError.
 * - Task-definition families and services are named per cell; a revision is reused, and a service
 *   adopted, changed or deleted, only when its `octw:cell` and `octw:tenant` tags are this cell's and
 *   this tenant's (ForeignResourceError otherwise).
 */
import type { ECSClient, RegisterTaskDefinitionCommandInput, Service } from '@aws-sdk/client-ecs';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { createHash } from 'node:crypto';
import { ForeignResourceError, GatewayUnhealthyError, IamPropagationError, ResourceBusyError, ThrottledError, TransientAwsError } from '../domain/errors';
import { GATEWAY_CONTAINER, GATEWAY_PORT, names, ownershipProblems, tagsOf, tenantTags } from '../domain/naming';
import type { TaskDefinitionShape } from '../domain/task-definition';
import { awsCall, classifyAwsError, hasAwsErrorCode, isAwsErrorLike } from '../shared/aws-errors';

export interface GatewayServiceConfig {
  /** The cell these families and services belong to: in their names, their tags, and checked on every adopt and delete. */
  cell: string;
  clusterName: string;
  subnetIds: readonly string[];
}

export type ServiceHealth =
  | { state: 'STEADY'; runningCount: number; taskDefinition: string }
  | { state: 'PENDING'; runningCount: number; pendingCount: number; rolloutState: string }
  | { state: 'FAILED'; reason: string; taskDefinition?: string };

const CONFIG_HASH_TAG = 'octw:config-hash';

/** The service's PRIMARY deployment: the one ECS rolls out after a create or an update. */
export function primaryDeploymentId(svc: Service): string | undefined {
  return svc.deployments?.find((d) => d.status === 'PRIMARY')?.id;
}

/** ECS reports a role it cannot assume yet in these words (RegisterTaskDefinition / CreateService). */
function isRolePropagation(err: unknown): boolean {
  return (
    isAwsErrorLike(err) &&
    /unable to assume the role|role .* is invalid|cannot be assumed|not authorized to perform: iam:PassRole/i.test(err.message)
  );
}

export class GatewayServices {
  constructor(
    private readonly ecs: ECSClient,
    private readonly cfg: GatewayServiceConfig,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private ref(tenantId: string) {
    return { cell: this.cfg.cell, tenantId };
  }

  /** Registers the revision unless the latest active one already carries the same config hash. */
  async ensureTaskDefinition(td: TaskDefinitionShape, configHash: string, tenantId: string): Promise<string> {
    if (td.family !== names.taskFamily(this.ref(tenantId))) {
      throw new ForeignResourceError(`task definition family ${td.family} is not tenant "${tenantId}" of cell "${this.cfg.cell}"`);
    }
    const latest = await this.latestRevision(td.family);
    if (latest) this.verifyTags(`task definition ${latest.arn}`, latest.tags, tenantId);
    if (latest && latest.hash === configHash) return latest.arn;
    try {
      const out = await this.ecs.send(new RegisterTaskDefinitionCommand(td as RegisterTaskDefinitionCommandInput));
      const arn = out.taskDefinition?.taskDefinitionArn;
      if (!arn) throw new Error('RegisterTaskDefinition returned no ARN');
      return arn;
    } catch (err) {
      if (isRolePropagation(err)) {
        throw new IamPropagationError(`ECS cannot use the new task role yet: ${(err as Error).message}`, { cause: err });
      }
      throw classifyAwsError(err, 'ECS RegisterTaskDefinition');
    }
  }

  async latestRevision(family: string): Promise<{ arn: string; hash: string | undefined; tags: Map<string, string> } | undefined> {
    const list = await awsCall('ECS ListTaskDefinitions', () =>
      this.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'DESC', maxResults: 1 })),
    );
    const arn = list.taskDefinitionArns?.[0];
    if (!arn) return undefined;
    const out = await awsCall('ECS DescribeTaskDefinition', () =>
      this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] })),
    );
    const tags = tagsOf(out.tags);
    return { arn, hash: tags.get(CONFIG_HASH_TAG), tags };
  }

  async describe(tenantId: string): Promise<Service | undefined> {
    const out = await awsCall('ECS DescribeServices', () =>
      this.ecs.send(new DescribeServicesCommand({ cluster: this.cfg.clusterName, services: [names.service(this.ref(tenantId))], include: ['TAGS'] })),
    );
    const svc = out.services?.[0];
    return svc && svc.status !== 'INACTIVE' ? svc : undefined;
  }

  /** Creates the service (one task, private subnets, no public IP, circuit breaker with rollback, no ECS Exec). */
  async ensureService(input: {
    tenantId: string;
    cell: string;
    generation: number;
    taskDefinitionArn: string;
    securityGroupId: string;
    spot: boolean;
    /** Issue 12: the tenant's ingress target group; ECS registers the task's address in it. */
    targetGroupArn?: string;
  }): Promise<{ serviceArn: string; deploymentId: string | undefined }> {
    if (input.cell !== this.cfg.cell) throw new ForeignResourceError(`tenant "${input.tenantId}" is of cell "${input.cell}", not this cell "${this.cfg.cell}"`);
    const existing = await this.describe(input.tenantId);
    if (existing) this.verifyOwner(existing, input.tenantId);
    if (existing?.status === 'DRAINING') {
      throw new ResourceBusyError(`service ${names.service(input)} from a previous run is still draining`);
    }
    if (existing?.serviceArn) return { serviceArn: existing.serviceArn, deploymentId: primaryDeploymentId(existing) };
    try {
      const out = await this.ecs.send(
        new CreateServiceCommand({
          cluster: this.cfg.clusterName,
          serviceName: names.service(input),
          taskDefinition: input.taskDefinitionArn,
          desiredCount: 1,
          clientToken: createHash('sha256').update(`${input.cell}#${input.tenantId}#${input.generation}`).digest('hex').slice(0, 32),
          capacityProviderStrategy: [{ capacityProvider: input.spot ? 'FARGATE_SPOT' : 'FARGATE', weight: 1 }],
          platformVersion: 'LATEST',
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: [...this.cfg.subnetIds],
              securityGroups: [input.securityGroupId],
              assignPublicIp: 'DISABLED',
            },
          },
          deploymentConfiguration: {
            // One gateway per tenant: never two writers on the tenant's SQLite files on EFS.
            minimumHealthyPercent: 0,
            maximumPercent: 100,
            deploymentCircuitBreaker: { enable: true, rollback: true },
          },
          ...(input.targetGroupArn
            ? {
                loadBalancers: [{ targetGroupArn: input.targetGroupArn, containerName: GATEWAY_CONTAINER, containerPort: GATEWAY_PORT }],
                // A gateway is healthy for ECS before the ALB's first checks pass (15 s × 2).
                healthCheckGracePeriodSeconds: 60,
              }
            : {}),
          enableExecuteCommand: false,
          enableECSManagedTags: true,
          propagateTags: 'SERVICE',
          tags: tenantTags(input.tenantId, input.cell),
        }),
      );
      if (!out.service?.serviceArn) throw new Error('CreateService returned no service');
      return { serviceArn: out.service.serviceArn, deploymentId: primaryDeploymentId(out.service) };
    } catch (err) {
      if (isRolePropagation(err)) {
        throw new IamPropagationError(`ECS cannot use the new task role yet: ${(err as Error).message}`, { cause: err });
      }
      if (hasAwsErrorCode(err, 'InvalidParameterException') && /not idempotent/i.test((err as Error).message)) {
        const svc = await this.describe(input.tenantId);
        if (svc?.serviceArn && svc.status === 'ACTIVE') {
          this.verifyOwner(svc, input.tenantId);
          return { serviceArn: svc.serviceArn, deploymentId: primaryDeploymentId(svc) };
        }
        throw new ResourceBusyError(`service ${names.service(input)} exists in state ${svc?.status ?? 'unknown'}`, { cause: err });
      }
      throw classifyAwsError(err, 'ECS CreateService');
    }
  }

  /**
   * Points the service at a revision and/or desired count (an ECS rolling deployment with the
   * circuit breaker). `newDeployment` forces a deployment even when the revision is the same (a
   * resume: its completion is then an ECS deployment event the workflow can wait for). Returns the
   * primary deployment after the change, the one a wait watches.
   */
  async update(tenantId: string, change: { taskDefinitionArn?: string; desiredCount?: number; newDeployment?: boolean }): Promise<{ deploymentId: string | undefined }> {
    const svc = await this.describe(tenantId);
    if (svc) this.verifyOwner(svc, tenantId);
    const out = await awsCall('ECS UpdateService', () =>
      this.ecs.send(
        new UpdateServiceCommand({
          cluster: this.cfg.clusterName,
          service: names.service(this.ref(tenantId)),
          ...(change.taskDefinitionArn ? { taskDefinition: change.taskDefinitionArn } : {}),
          ...(change.desiredCount !== undefined ? { desiredCount: change.desiredCount } : {}),
          ...(change.newDeployment ? { forceNewDeployment: true } : {}),
        }),
      ),
    );
    return { deploymentId: out.service ? primaryDeploymentId(out.service) : undefined };
  }

  /**
   * Puts the service's isolation settings back as ensureService creates them (issue 13, reconcile
   * repair): its own security group only, the cell's subnets, no public IP, ECS Exec off. ECS
   * starts a new deployment for a network change (the circuit breaker still guards it).
   */
  async restoreSettings(tenantId: string, securityGroupId: string): Promise<void> {
    const svc = await this.describe(tenantId);
    if (!svc) throw new ResourceBusyError(`service ${names.service(this.ref(tenantId))} does not exist; nothing to restore`);
    this.verifyOwner(svc, tenantId);
    await awsCall('ECS UpdateService', () =>
      this.ecs.send(
        new UpdateServiceCommand({
          cluster: this.cfg.clusterName,
          service: names.service(this.ref(tenantId)),
          networkConfiguration: { awsvpcConfiguration: { subnets: [...this.cfg.subnetIds], securityGroups: [securityGroupId], assignPublicIp: 'DISABLED' } },
          enableExecuteCommand: false,
        }),
      ),
    );
  }

  /**
   * One look at the service's deployments. With `expectedTaskDefinition`, the primary deployment
   * must run that revision: after a circuit-breaker rollback ECS drops the failed deployment from
   * `deployments` and the primary runs the previous revision again, which is a failure of the
   * rollout that was asked for, however healthy it looks.
   */
  async health(tenantId: string, desiredCount = 1, expectedTaskDefinition?: string): Promise<ServiceHealth> {
    const svc = await this.describe(tenantId);
    if (!svc) return { state: 'FAILED', reason: `service ${names.service(this.ref(tenantId))} does not exist` };
    const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
    if (!primary) return { state: 'FAILED', reason: 'service has no primary deployment' };
    if (primary.rolloutState === 'FAILED') {
      return { state: 'FAILED', reason: primary.rolloutStateReason ?? 'deployment failed', taskDefinition: primary.taskDefinition };
    }
    if (expectedTaskDefinition && primary.taskDefinition !== expectedTaskDefinition) {
      return {
        state: 'FAILED',
        reason: `the service runs ${revisionOf(primary.taskDefinition)} instead of ${revisionOf(expectedTaskDefinition)} (rolled back by the circuit breaker, or changed by someone else)`,
        taskDefinition: primary.taskDefinition,
      };
    }
    // The circuit breaker rolled back to the previous revision: the new one failed.
    const rolledBack = svc.events?.some((e) => /rolling back|circuit breaker/i.test(e.message ?? '')) && primary.taskDefinition !== svc.taskDefinition;
    if (rolledBack) return { state: 'FAILED', reason: 'deployment rolled back by the circuit breaker', taskDefinition: primary.taskDefinition };
    const running = primary.runningCount ?? 0;
    const settled = (svc.deployments ?? []).length === 1;
    if (primary.rolloutState === 'COMPLETED' && running >= desiredCount && settled && (svc.runningCount ?? 0) === desiredCount) {
      return { state: 'STEADY', runningCount: running, taskDefinition: primary.taskDefinition ?? '' };
    }
    return { state: 'PENDING', runningCount: running, pendingCount: primary.pendingCount ?? 0, rolloutState: primary.rolloutState ?? 'UNKNOWN' };
  }

  /**
   * Polls until steady, failed, or `budgetMs` is spent (one Lambda invocation's share of the wait).
   * Returns the last observation; the workflow loops, bounded by its own deadline.
   */
  async waitForSteady(
    tenantId: string,
    opts: { budgetMs: number; pollMs: number; desiredCount?: number; expectedTaskDefinition?: string },
  ): Promise<ServiceHealth> {
    const until = Date.now() + opts.budgetMs;
    let pause = opts.pollMs;
    let last: ServiceHealth | undefined;
    for (;;) {
      try {
        last = await this.health(tenantId, opts.desiredCount ?? 1, opts.expectedTaskDefinition);
        pause = opts.pollMs;
        if (last.state !== 'PENDING') return last;
      } catch (err) {
        // Many tenants waiting at once share DescribeServices' rate, and a read can fail transiently:
        // back off and look again instead of failing the step. A wait polls many times, so letting
        // one transient read abort it would spend the workflow's retries on reads that mean nothing
        // for the gateway, and roll back a tenant whose gateway was coming up.
        if (!(err instanceof ThrottledError || err instanceof TransientAwsError)) throw err;
        pause = Math.min(pause * 2, opts.pollMs * 8);
      }
      if (Date.now() + pause > until) {
        return last ?? { state: 'PENDING', runningCount: 0, pendingCount: 0, rolloutState: 'THROTTLED' };
      }
      await this.sleep(pause);
    }
  }

  /** Polls until the deleted service has drained (INACTIVE or gone) or `budgetMs` is spent. Returns whether it is gone. */
  async waitForDeleted(tenantId: string, opts: { budgetMs: number; pollMs: number }): Promise<boolean> {
    const until = Date.now() + opts.budgetMs;
    for (;;) {
      try {
        if (!(await this.describe(tenantId))) return true;
      } catch (err) {
        // As in waitForSteady: a throttled or transiently failed read says nothing about the drain.
        if (!(err instanceof ThrottledError || err instanceof TransientAwsError)) throw err;
      }
      if (Date.now() + opts.pollMs > until) return false;
      await this.sleep(opts.pollMs);
    }
  }

  /** Scales to zero and deletes the service; 'draining' until ECS has stopped the task. */
  async delete(tenantId: string): Promise<'absent' | 'draining'> {
    const svc = await this.describe(tenantId);
    if (!svc) return 'absent';
    this.verifyOwner(svc, tenantId);
    if (svc.status === 'DRAINING') return 'draining';
    try {
      await this.ecs.send(new DeleteServiceCommand({ cluster: this.cfg.clusterName, service: names.service(this.ref(tenantId)), force: true }));
      return 'draining';
    } catch (err) {
      if (hasAwsErrorCode(err, 'ServiceNotFoundException', 'ServiceNotActiveException')) return 'absent';
      throw classifyAwsError(err, 'ECS DeleteService');
    }
  }

  /**
   * Deregisters every active revision of the family, then deletes all its revisions. Returns how
   * many were deleted. Every revision's tags are checked first: one that is not this cell's tenant's
   * stops the whole step (ForeignResourceError) before anything is deregistered.
   */
  async deleteTaskDefinitions(tenantId: string): Promise<number> {
    const family = names.taskFamily(this.ref(tenantId));
    const active = await this.revisions(family, 'ACTIVE');
    const inactiveBefore = await this.revisions(family, 'INACTIVE');
    for (const arn of [...active, ...inactiveBefore]) {
      const out = await awsCall('ECS DescribeTaskDefinition', () =>
        this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] })),
      );
      this.verifyTags(`task definition ${arn}`, tagsOf(out.tags), tenantId);
    }
    for (const arn of active) {
      await awsCall('ECS DeregisterTaskDefinition', () => this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })));
    }
    const inactive = [...new Set([...inactiveBefore, ...active])];
    for (let i = 0; i < inactive.length; i += 10) {
      await awsCall('ECS DeleteTaskDefinitions', () =>
        this.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: inactive.slice(i, i + 10) })),
      );
    }
    return inactive.length;
  }

  private async revisions(family: string, status: 'ACTIVE' | 'INACTIVE'): Promise<string[]> {
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const out = await awsCall('ECS ListTaskDefinitions', () =>
        this.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken: token })),
      );
      // familyPrefix matches by prefix: keep only this exact family.
      arns.push(...(out.taskDefinitionArns ?? []).filter((a) => a.split('/').pop()?.replace(/:\d+$/, '') === family));
      token = out.nextToken;
    } while (token);
    return arns;
  }

  private verifyOwner(svc: Service, tenantId: string): void {
    this.verifyTags(`service ${svc.serviceName ?? '?'}`, tagsOf(svc.tags), tenantId);
  }

  private verifyTags(what: string, tags: Map<string, string>, tenantId: string): void {
    const foreign = ownershipProblems(tags, this.ref(tenantId));
    if (foreign.length > 0) {
      throw new ForeignResourceError(`${what} is not tenant "${tenantId}" of cell "${this.cfg.cell}" (${foreign.join(', ')}); not touching it`);
    }
  }
}

const revisionOf = (arn: string | undefined): string => arn?.split('/').pop() ?? '(none)';

export const gatewayUnhealthy = (tenantId: string, reason: string) =>
  new GatewayUnhealthyError(`gateway of tenant "${tenantId}" did not become healthy: ${reason}`);
