/**
 * Test support (not a test): a stand-in for the CONTAINER RUNTIME behind the ECS fake's task
 * runtime port, for the port's fidelity tests and the workflow tests that run without OpenClaw.
 * It runs no process and knows nothing of OpenClaw: it records what ECS handed it, and its
 * container's health check answers as the test scripts it, per task definition:
 *   - `healthy`: passes, provided every secret the essential container declares was injected
 *     (a container without its secrets would not come up);
 *   - `never`: never passes;
 *   - `exits`: the container exits with code 1 right after it started;
 *   - `refuses`: the runtime cannot start the container at all.
 * The test can flip a running container's health with `container.healthy = …`.
 */
import type * as ecs from '@aws-sdk/client-ecs';
import type { TaskRuntime, TaskRuntimeContext, TaskRuntimeHandle } from './task-runtime';

export type StandInScript = 'healthy' | 'never' | 'exits' | 'refuses';

export class StandInContainer implements TaskRuntimeHandle {
  healthy: boolean;
  stopped = false;
  readonly exited: Promise<{ exitCode: number | null; detail?: string }>;
  private exit!: (e: { exitCode: number | null; detail?: string }) => void;

  constructor(
    readonly taskDefinition: ecs.TaskDefinition,
    readonly context: TaskRuntimeContext,
    script: StandInScript,
  ) {
    const essential = taskDefinition.containerDefinitions?.find((c) => c.essential !== false);
    const injected = context.secrets[essential?.name ?? ''] ?? {};
    const hasSecrets = (essential?.secrets ?? []).every((s) => typeof injected[s.name ?? ''] === 'string' && injected[s.name ?? ''] !== '');
    this.healthy = script === 'healthy' && hasSecrets;
    this.exited = new Promise((resolve) => {
      this.exit = resolve;
    });
    if (script === 'exits') queueMicrotask(() => this.exit({ exitCode: 1, detail: 'stand-in container exited' }));
  }

  health(): Promise<boolean> {
    return Promise.resolve(!this.stopped && this.healthy);
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.exit({ exitCode: 143 });
    return Promise.resolve();
  }
}

export class StandInRuntime implements TaskRuntime {
  /** Every container started, in order. */
  readonly containers: StandInContainer[] = [];

  constructor(private readonly script: (taskDefinition: ecs.TaskDefinition) => StandInScript = () => 'healthy') {}

  start(taskDefinition: ecs.TaskDefinition, context: TaskRuntimeContext): Promise<StandInContainer> {
    const script = this.script(taskDefinition);
    if (script === 'refuses') return Promise.reject(new Error('stand-in runtime refused to start the container'));
    const c = new StandInContainer(taskDefinition, context, script);
    this.containers.push(c);
    return Promise.resolve(c);
  }

  /** Containers started and not stopped. */
  running(family?: string): StandInContainer[] {
    return this.containers.filter((c) => !c.stopped && (family === undefined || c.taskDefinition.family === family));
  }

  of(family: string): StandInContainer[] {
    return this.containers.filter((c) => c.taskDefinition.family === family);
  }
}

/** Polls `condition` every few ms until it holds (real time: the runtime's health checks run on timers). */
export async function eventually<T>(condition: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
