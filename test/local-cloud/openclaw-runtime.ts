/**
 * The real OpenClaw gateway as the ECS fake's task runtime (`npm run demo -- --real-gateway`,
 * conformance/tests/local-cloud-gateway.test.ts). Every task the fake starts is launched by the
 * conformance suite's launcher (conformance/lib/launch-gateway.ts) from the task definition the
 * provision workflow registered: its own network namespace, the EFS volume presented as the
 * access point presents it, the init container writing the config, the gateway as the container
 * user with the token ECS injects. Its health is the task definition's own health-check command,
 * run in the gateway container by the fake's agent (fake-aws/task-runtime.ts).
 *
 * Needs root, bindfs, iproute2/iptables and the pinned installs (`bash conformance/install.sh`).
 */
import type * as ecs from '@aws-sdk/client-ecs';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IMAGE_ENV, launchGateway, type GatewayHandle } from '../../conformance/lib/launch-gateway';
import { installed } from '../../conformance/lib/paths';
import type { TaskRuntime, TaskRuntimeContext, TaskRuntimeHandle, TaskRuntimeOptions } from './fake-aws';

/** How to get what `--real-gateway` needs. */
export const OPENCLAW_INSTALL_HINT = 'install the pinned Node and OpenClaw with `bash conformance/install.sh` (`npm run conformance` runs it too)';

/**
 * How the fake's agent runs the real gateway's health check.
 * - probeEveryMs: the task definition's 15 s interval would hold ACTIVE back by up to 15 s after
 *   the gateway is up; probing every 2 s does not change the failure budget.
 * - healthCheckTimeScale: a Fargate task has its own vCPUs; here every gateway shares two cores
 *   with everything else, and a start that takes ~20 s alone was measured at 70-110 s under load.
 *   The check's timeout, interval and startPeriod are stretched by this factor (default 3: the
 *   registered 60 s start period becomes 180 s) so that a slow host is not reported as an unhealthy
 *   gateway. Set OCTW_REAL_GATEWAY_HEALTH_SCALE=1 to hold the gateway to the registered budget.
 */
export function realGatewayRuntimeOptions(): TaskRuntimeOptions {
  const raw = process.env.OCTW_REAL_GATEWAY_HEALTH_SCALE ?? '3';
  const scale = Number(raw);
  if (!(scale >= 1 && scale <= 10)) throw new Error(`OCTW_REAL_GATEWAY_HEALTH_SCALE must be a number from 1 to 10, not "${raw}"`);
  return { healthCheckTimeScale: scale, probeEveryMs: 2000 };
}

/** What is missing on this machine for the real runtime; empty when it can run. */
export function realGatewayPrerequisites(): string[] {
  const missing: string[] = [];
  if (!installed()) missing.push(`the pinned OpenClaw and Node are not installed: ${OPENCLAW_INSTALL_HINT}`);
  if (process.getuid?.() !== 0) missing.push('the launcher needs root (network and mount namespaces, bindfs, iptables)');
  for (const tool of ['bindfs', 'ip', 'iptables', 'setpriv', 'unshare']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      missing.push(`\`${tool}\` is not on PATH (Debian: apt-get install bindfs iproute2 iptables util-linux)`);
    }
  }
  return missing;
}

/** One gateway the runtime launched, for the demo's and the tests' reports. */
export interface LaunchedGateway {
  readonly taskArn: string;
  readonly serviceName: string;
  readonly family: string;
  readonly revision: number;
  readonly handle: GatewayHandle;
  /** Wall-clock ms from the start call to the first passing health check. */
  healthyAfterMs?: number;
  stopped: boolean;
}

export interface OpenClawTaskRuntimeOptions {
  /**
   * Host directory standing in for the EFS file system's root: an access point with root
   * `/tenants/<id>` is the directory `<efsRoot>/tenants/<id>`, kept across tasks (a resumed
   * gateway finds its state). Default: the parent of TENANTS_MOUNT_PATH (the purge function's mount
   * of `/tenants`), so purge deletes what the gateways wrote.
   */
  readonly efsRoot?: string;
  /** With the local ingress: the address the gateway sees its requests come from (an ALB node's, in the ingress subnets). */
  readonly ingressSourceAddress?: string;
  /**
   * The task's route to the cell's egress proxy (conformance/lib/egress-path.ts): given the proxy URL
   * ECS injected (OPENCLAW_PROXY_URL or HTTPS_PROXY), the host forward and the name it resolves to;
   * plus variables the image would set (e.g. NODE_EXTRA_CA_CERTS for a stub's certificate). Without
   * it a task has no way out, as before.
   */
  readonly egress?: {
    taskRoute(proxyUrl: string): { hostForwards: { port: number; socketPath: string }[]; hosts: Record<string, string> };
    readonly imageEnv?: Readonly<Record<string, string>>;
  };
}

/** Loopback ports of the custom model providers in the rendered openclaw.json (model stubs start there, inside the task's namespace). */
function modelStubPorts(td: ecs.TaskDefinition): number[] {
  const ports = new Set<number>();
  for (const c of td.containerDefinitions ?? []) {
    const json = c.environment?.find((e) => e.name === 'OPENCLAW_CONFIG_JSON')?.value;
    if (!json) continue;
    const parsed = JSON.parse(json) as { models?: { providers?: Record<string, { baseUrl?: string }> } };
    for (const p of Object.values(parsed.models?.providers ?? {})) {
      if (!p.baseUrl) continue;
      const url = new URL(p.baseUrl);
      if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) ports.add(Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
    }
  }
  return [...ports];
}

export class OpenClawTaskRuntime implements TaskRuntime {
  /** Every gateway launched, in order. */
  readonly launched: LaunchedGateway[] = [];

  constructor(private readonly options: OpenClawTaskRuntimeOptions = {}) {}

  async start(taskDefinition: ecs.TaskDefinition, context: TaskRuntimeContext): Promise<TaskRuntimeHandle> {
    const essential = taskDefinition.containerDefinitions?.find((c) => c.essential !== false && (c.portMappings?.length ?? 0) > 0);
    if (!essential) throw new Error('the task definition has no essential container with a port mapping');
    const stateMount = essential.mountPoints?.find((m) => m.sourceVolume !== undefined && context.efsVolumes[m.sourceVolume] !== undefined);
    const efs = stateMount?.sourceVolume ? context.efsVolumes[stateMount.sourceVolume] : undefined;
    if (!efs?.posixUser) throw new Error('the gateway mounts no EFS volume through an access point with a PosixUser');
    const efsRoot = this.options.efsRoot ?? dirname(process.env.TENANTS_MOUNT_PATH ?? '/var/tmp/octw-local-efs/tenants');
    // Every container's secrets, by env var name, as the ECS agent resolved them.
    const secrets = Object.assign({}, ...Object.values(context.secrets)) as Record<string, string>;
    const started = Date.now();
    const proxyUrl = secrets.OPENCLAW_PROXY_URL ?? secrets.HTTPS_PROXY;
    const egress = this.options.egress && proxyUrl ? { ...this.options.egress.taskRoute(proxyUrl), imageEnv: { ...IMAGE_ENV, ...this.options.egress.imageEnv } } : {};
    const handle = await launchGateway(taskDefinition, {
      secrets,
      posixUser: { uid: efs.posixUser.uid, gid: efs.posixUser.gid },
      efsDir: join(efsRoot, efs.rootDirectory ?? '/'),
      id: context.taskArn.split('/').pop()!.slice(0, 16),
      modelStubPorts: modelStubPorts(taskDefinition),
      ...(this.options.ingressSourceAddress ? { bridgeSourceAddress: this.options.ingressSourceAddress } : {}),
      ...egress,
    });
    const record: LaunchedGateway = {
      taskArn: context.taskArn,
      serviceName: context.serviceName,
      family: taskDefinition.family ?? '',
      revision: taskDefinition.revision ?? 0,
      handle,
      stopped: false,
    };
    this.launched.push(record);
    return {
      async health() {
        const ok = await handle.runHealthCheck();
        if (ok && record.healthyAfterMs === undefined) record.healthyAfterMs = Date.now() - started;
        return ok;
      },
      exited: handle.exited.then((e) => ({
        exitCode: e.code,
        detail: `${e.signal ? `signal ${e.signal}; ` : ''}log tail: ${tail(handle.logFile)}`,
      })),
      async stop() {
        await handle.stop();
        record.stopped = true;
      },
      killNow() {
        killSync(handle);
      },
    };
  }

  /** The gateway of a service's running task (the latest launched and not stopped). */
  runningGateway(serviceName: string): LaunchedGateway | undefined {
    return [...this.launched].reverse().find((g) => g.serviceName === serviceName && !g.stopped);
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8").slice(-300).replace(/\s+/g, ' ') : '(no log)';
}

/** Last resort at process exit (synchronous): every process in the task's namespace, its mount, the namespace. */
function killSync(handle: GatewayHandle): void {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    } catch {
      return '';
    }
  };
  for (const pid of run('ip', ['netns', 'pids', handle.netns]).split(/\s+/).filter(Boolean)) run('kill', ['-9', pid]);
  run('umount', ['-l', join(handle.workDir, 'efs-mount')]);
  run('ip', ['netns', 'del', handle.netns]);
}
