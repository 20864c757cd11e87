/**
 * The task-runtime port of the ECS fake: what Fargate's container runtime and the ECS agent do
 * once a task is placed. Without a runtime the fake models a task's start and health from its
 * latencies alone. With one installed (`fake.ecs.setTaskRuntime(...)`), every task the fake
 * starts is also started by the runtime (for the local cloud: the real OpenClaw process, started
 * from the registered task definition) and the task's `healthStatus` is the result of the
 * container's own health check, run by the agent below with the task definition's
 * interval/timeout/retries/startPeriod.
 *
 * Time: the fake's clock is lazy (states are computed when read). A real process lives in real
 * time, so the agent runs its probes on timers, and the fake applies what the agent observed at
 * the moment the fake is read: a task turns HEALTHY at the first read after its health check
 * passed, never earlier, and is stopped ("Task failed container health checks") at the first
 * read after its health check failed for longer than startPeriod + retries × interval.
 */
import type * as ecs from '@aws-sdk/client-ecs';

/** What ECS hands the container runtime besides the task definition: resolved at task start. */
export interface TaskRuntimeContext {
  readonly taskArn: string;
  readonly clusterArn: string;
  readonly serviceName: string;
  /**
   * Per container name, the environment ECS injects from the container's `secrets`
   * (`valueFrom` resolved against Secrets Manager, as the execution role would fetch it).
   */
  readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Per EFS volume name: the access point it mounts, with the POSIX user the access point enforces. */
  readonly efsVolumes: Readonly<Record<string, EfsVolumeMount>>;
}

export interface EfsVolumeMount {
  readonly fileSystemId: string;
  readonly accessPointId?: string;
  /** The access point's PosixUser: every file operation through the mount acts as this uid/gid. */
  readonly posixUser?: { readonly uid: number; readonly gid: number; readonly secondaryGids: readonly number[] };
  /** The access point's root directory (on the file system). */
  readonly rootDirectory?: string;
}

/** One started task, as the container runtime sees it. */
export interface TaskRuntimeHandle {
  /** Runs the essential container's health check once (e.g. GET /healthz requiring `ok: true`). */
  health(): Promise<boolean>;
  /** Resolves if the essential container exits on its own (never resolves while it runs). */
  readonly exited?: Promise<{ readonly exitCode: number | null; readonly detail?: string }>;
  /** Stops the task's containers (SIGTERM, then SIGKILL after the container's stopTimeout). */
  stop(): Promise<void>;
  /** Kills synchronously; used only when the host process exits with tasks still running. */
  killNow?(): void;
}

/** A container runtime: starts a task from its task definition. Rejects when the task cannot start. */
export interface TaskRuntime {
  start(taskDefinition: ecs.TaskDefinition, context: TaskRuntimeContext): Promise<TaskRuntimeHandle>;
}

export interface TaskRuntimeOptions {
  /**
   * Multiplies the health check's interval, timeout and startPeriod (real time). Default 1:
   * a real process gets the start period its task definition grants. A stand-in runtime in a
   * test may compress it.
   */
  readonly healthCheckTimeScale?: number;
  /**
   * How often the agent probes, in ms (default: the scaled interval). Probing more often than
   * the interval only makes HEALTHY visible sooner: the failure budget stays
   * startPeriod + retries × interval, however often the probe runs.
   */
  readonly probeEveryMs?: number;
}

/** What the agent has observed of one task so far (the fake reads it synchronously). */
export type AgentObservation =
  | { readonly kind: 'starting' }
  | { readonly kind: 'healthy' }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'stopped' };

/** ECS container health check defaults (ECS API Reference, HealthCheck). */
const DEFAULT_CHECK = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 } as const;

export const HEALTH_CHECK_FAILED = 'Task failed container health checks';
export const ESSENTIAL_EXITED = 'Essential container in task exited';

/** The ECS agent of one task: starts it through the runtime, runs its health check, stops it. */
export class TaskAgent {
  private observation: AgentObservation = { kind: 'starting' };
  private handle?: TaskRuntimeHandle;
  private timer?: NodeJS.Timeout;
  private stopping?: Promise<void>;
  private readonly started: Promise<TaskRuntimeHandle | undefined>;
  private readonly startedAt = Date.now();
  private lastOkAt?: number;
  private readonly check: { intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number } | undefined;
  private readonly probeEveryMs: number;

  constructor(
    runtime: TaskRuntime,
    taskDefinition: ecs.TaskDefinition,
    context: TaskRuntimeContext | { readonly error: string },
    options: TaskRuntimeOptions = {},
  ) {
    const scale = options.healthCheckTimeScale ?? 1;
    const essential = taskDefinition.containerDefinitions?.find((c) => c.essential !== false);
    const hc = essential?.healthCheck;
    this.check = hc?.command?.length
      ? {
          intervalMs: (hc.interval ?? DEFAULT_CHECK.interval) * 1000 * scale,
          timeoutMs: (hc.timeout ?? DEFAULT_CHECK.timeout) * 1000 * scale,
          retries: hc.retries ?? DEFAULT_CHECK.retries,
          startPeriodMs: (hc.startPeriod ?? DEFAULT_CHECK.startPeriod) * 1000 * scale,
        }
      : undefined;
    this.probeEveryMs = options.probeEveryMs ?? this.check?.intervalMs ?? 1000;
    if ('error' in context) {
      this.observation = { kind: 'failed', reason: context.error };
      this.started = Promise.resolve(undefined);
      return;
    }
    this.started = runtime.start(taskDefinition, context).then(
      (handle) => {
        this.handle = handle;
        if (this.stopping) return handle;
        void handle.exited?.then((e) => this.fail(`${ESSENTIAL_EXITED}${e.exitCode !== null ? ` (exit code ${e.exitCode})` : ''}${e.detail ? `: ${e.detail}` : ''}`));
        // A container without a health check is "running" as soon as it started (health UNKNOWN).
        if (!this.check) this.observation = { kind: 'healthy' };
        else this.schedule();
        return handle;
      },
      (err: unknown) => {
        this.fail(`CannotStartContainerError: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      },
    );
  }

  /** Whether the container defines a health check (else ECS reports health UNKNOWN while it runs). */
  get hasHealthCheck(): boolean {
    return this.check !== undefined;
  }

  observe(): AgentObservation {
    return this.observation;
  }

  private ended(): boolean {
    return this.observation.kind === 'failed' || this.observation.kind === 'stopped';
  }

  private fail(reason: string): void {
    if (this.ended()) return;
    this.observation = { kind: 'failed', reason };
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.probe(), this.probeEveryMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const handle = this.handle;
    const check = this.check;
    if (!handle || !check || this.ended()) return;
    let timeout: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      handle.health().catch(() => false),
      new Promise<boolean>((resolve) => {
        timeout = setTimeout(() => resolve(false), check.timeoutMs);
        timeout.unref();
      }),
    ]);
    clearTimeout(timeout);
    // Stopped or failed while the probe ran.
    if (this.ended()) return;
    const now = Date.now();
    if (ok) {
      this.lastOkAt = now;
      this.observation = { kind: 'healthy' };
    } else {
      // Failures inside the start period do not count; after it, `retries` consecutive failures
      // (retries × interval of failing) make the container UNHEALTHY, as Docker and ECS count them.
      const countFrom = Math.max(this.lastOkAt ?? 0, this.startedAt + check.startPeriodMs);
      if (now >= countFrom && now - countFrom >= check.retries * check.intervalMs) {
        this.fail(HEALTH_CHECK_FAILED);
        return;
      }
    }
    this.schedule();
  }

  /** Stops the task's process (idempotent); resolves when it is gone. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.timer) clearTimeout(this.timer);
    if (this.observation.kind !== 'failed') this.observation = { kind: 'stopped' };
    this.stopping = this.started.then((h) => h?.stop()).catch(() => undefined);
    return this.stopping;
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    this.handle?.killNow?.();
  }
}
