/**
 * ECS's events, as ECS sends them to EventBridge's default bus (issue 14.1), from the fake's own
 * state: the ECS fake is lazy (state is computed when read), so this source looks at it every
 * `intervalMs` (AWS's side, not an API call: nothing is traced or throttled) and emits what
 * changed since its last look:
 * - `ECS Deployment State Change`: SERVICE_DEPLOYMENT_IN_PROGRESS when a deployment starts (a
 *   rollback's too), _COMPLETED when it reached steady state, _FAILED when the circuit breaker
 *   failed it; `resources` = [service ARN], detail {eventType, eventName, deploymentId, updatedAt, reason}.
 * - `ECS Task State Change`: each change of a task's lastStatus or health; detail as DescribeTasks
 *   reports the task, with `version` incremented per change (a duplicate has the same version).
 * - `ECS Service Action`: SERVICE_STEADY_STATE when a deployment completed; detail {eventType,
 *   eventName, clusterArn, createdAt}.
 * Shapes: Amazon ECS Developer Guide, "Amazon ECS events" and its three event pages.
 *
 * Delivery is what EventBridge promises, not more: `duplicateRate` delivers an event twice,
 * `maxDelayMs` delays each delivery at random (so events arrive out of order), `dropRate` or
 * `drop(event)` loses it (the workflows' lost-event path). Seeded: a run is repeatable.
 */
import { Rng } from './core';
import type { EcsFake } from './ecs';

export interface EcsEvent {
  readonly 'detail-type': 'ECS Deployment State Change' | 'ECS Task State Change' | 'ECS Service Action';
  readonly source: 'aws.ecs';
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
  readonly time: string;
}

export interface EcsEventDeliveryOptions {
  /** How often ECS's state is examined (real ms). Default 5. */
  readonly intervalMs?: number;
  /** Probability that an event is delivered twice. Default 0. */
  readonly duplicateRate?: number;
  /** Each delivery waits a random 0..maxDelayMs (real ms): later events can overtake earlier ones. Default 0. */
  readonly maxDelayMs?: number;
  /** Probability that an event is lost. Default 0. */
  readonly dropRate?: number;
  /** Loses exactly the events it returns true for (deterministic tests of the lost-event path). */
  readonly drop?: (event: EcsEvent) => boolean;
  readonly seed?: number;
}

interface Seen {
  readonly deployments: Map<string, string>;
  readonly tasks: Map<string, { status: string; version: number }>;
}

export class EcsEventSource {
  /** Every event ECS produced (before delivery faults), in order. */
  readonly produced: EcsEvent[] = [];
  /** What happened to each: delivered (count), dropped. */
  readonly delivery = { delivered: 0, duplicated: 0, dropped: 0, delayed: 0 };
  private readonly seen: Seen = { deployments: new Map(), tasks: new Map() };
  private readonly rng: Rng;
  private timer?: ReturnType<typeof setInterval>;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(
    private readonly ecs: EcsFake,
    private readonly sink: (event: EcsEvent) => void,
    private readonly options: EcsEventDeliveryOptions = {},
  ) {
    this.rng = new Rng(options.seed ?? 0xec5e);
    // What exists already was reported before this source started.
    this.look(false);
  }

  start(): this {
    this.timer ??= setInterval(() => this.pump(), this.options.intervalMs ?? 5);
    this.timer.unref();
    return this;
  }

  /** Stops looking and drops deliveries still delayed. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Deliveries waiting for their delay. */
  pending(): number {
    return this.timers.size;
  }

  /** One look now: emit what changed since the last one. */
  pump(): void {
    if (!this.stopped) this.look(true);
  }

  private look(emit: boolean): void {
    this.ecs.settleAll();
    const now = new Date().toISOString();
    for (const svc of this.ecs.services.values()) {
      for (const d of [...svc.deployments].reverse()) {
        const before = this.seen.deployments.get(d.id);
        if (before === d.rolloutState) continue;
        this.seen.deployments.set(d.id, d.rolloutState);
        if (!emit) continue;
        if (before === undefined) this.deploymentEvent(svc.arn, d.id, 'SERVICE_DEPLOYMENT_IN_PROGRESS', `ECS deployment ${d.id} in progress.`, d.createdAt);
        if (d.rolloutState === 'COMPLETED') {
          this.deploymentEvent(svc.arn, d.id, 'SERVICE_DEPLOYMENT_COMPLETED', `ECS deployment ${d.id} completed.`, d.updatedAt);
          this.emit({
            'detail-type': 'ECS Service Action',
            source: 'aws.ecs',
            resources: [svc.arn],
            detail: { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: svc.clusterArn, createdAt: new Date(d.updatedAt).toISOString() },
            time: now,
          });
        } else if (d.rolloutState === 'FAILED') {
          this.deploymentEvent(svc.arn, d.id, 'SERVICE_DEPLOYMENT_FAILED', d.rolloutStateReason, d.updatedAt);
        }
      }
    }
    for (const t of this.ecs.tasks) {
      const s = this.ecs.observedTaskStatus(t);
      const key = `${s.lastStatus}|${s.health}|${s.desiredStatus}`;
      const before = this.seen.tasks.get(t.arn);
      if (before?.status === key) continue;
      const version = (before?.version ?? 0) + 1;
      this.seen.tasks.set(t.arn, { status: key, version });
      if (!emit) continue;
      this.emit({
        'detail-type': 'ECS Task State Change',
        source: 'aws.ecs',
        resources: [t.arn],
        detail: {
          clusterArn: t.clusterArn,
          taskArn: t.arn,
          taskDefinitionArn: t.taskDefinitionArn,
          group: `service:${t.serviceName}`,
          startedBy: t.deploymentId,
          lastStatus: s.lastStatus,
          desiredStatus: s.desiredStatus,
          healthStatus: s.health,
          launchType: 'FARGATE',
          createdAt: new Date(t.createdAt).toISOString(),
          updatedAt: now,
          version,
          ...(t.stoppedReason && s.desiredStatus === 'STOPPED' ? { stoppedReason: t.stoppedReason } : {}),
          containers: [],
        },
        time: now,
      });
    }
  }

  private deploymentEvent(serviceArn: string, deploymentId: string, eventName: string, reason: string, at: number): void {
    this.emit({
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      resources: [serviceArn],
      detail: { eventType: eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ERROR' : 'INFO', eventName, deploymentId, updatedAt: new Date(at).toISOString(), reason },
      time: new Date().toISOString(),
    });
  }

  private emit(event: EcsEvent): void {
    this.produced.push(event);
    const o = this.options;
    if (o.drop?.(event) === true || (o.dropRate !== undefined && this.rng.next() < o.dropRate)) {
      this.delivery.dropped += 1;
      return;
    }
    const copies = o.duplicateRate !== undefined && this.rng.next() < o.duplicateRate ? 2 : 1;
    if (copies === 2) this.delivery.duplicated += 1;
    for (let i = 0; i < copies; i++) {
      const delay = o.maxDelayMs ? Math.floor(this.rng.next() * o.maxDelayMs) : 0;
      if (delay === 0) {
        this.delivery.delivered += 1;
        this.sink(event);
        continue;
      }
      this.delivery.delayed += 1;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.delivery.delivered += 1;
        this.sink(event);
      }, delay);
      this.timers.add(timer);
    }
  }
}
