/**
 * `npm run demo -- --ingress --real-gateway`: the local HAProxy (local-ingress.ts) in front of the
 * real OpenClaw gateways, configured from the fake ALB's listener rules and kept in step with them.
 *
 * - Every shard's rules are rendered into one HAProxy frontend (a tenant's host is on one shard
 *   only), twice: for the ALB host (`acme.local.octw.test`, what the activation handshake sends
 *   with OCTW_INGRESS_PROBE_ORIGIN pointed here) and for `acme.localhost` (what a browser on this
 *   machine resolves to loopback, RFC 6761). A `.localhost` request reaches the gateway as the ALB
 *   would pass it: Host the real hostname, and the page's local origin as `https://<real host>`
 *   (the gateway's controlUi.allowedOrigins); any other Origin unchanged (refused as in production).
 * - A target the fake registered (the task's ENI address) is reached through the Unix socket of
 *   the gateway that task runs (the launcher's bridge into the task's namespace); a target with no
 *   running gateway is left out, so its route answers 503 as an ALB with no healthy target does.
 * - The rules are read every `pollMs`; a changed configuration is checked (`haproxy -c`) and
 *   loaded by SIGUSR2 (open WebSockets survive).
 * Not modelled: DNS (HAProxy matches the Host header; the fake's Route 53 record is not consulted).
 */
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { FakeAws } from '../fake-aws';
import type { OpenClawTaskRuntime } from '../openclaw-runtime';
import { renderHaproxyConfig, routesFromFake, type LocalBackend, type LocalRoute } from './haproxy-config';
import { LocalIngress } from './local-ingress';

/** The client address the gateways see for a browser on this machine (TEST-NET-1; see loopbackClientAddress). */
export const LOOPBACK_CLIENT_STAND_IN = '192.0.2.10';

/** A free loopback port (bound to 0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RealGatewayIngressOptions {
  readonly port: number;
  readonly domain: string;
  readonly listenerArns: readonly string[];
  readonly pollMs?: number;
}

export class RealGatewayIngress {
  private readonly haproxy: LocalIngress;
  private timer: NodeJS.Timeout | undefined;
  private current = '';
  /** Configurations loaded so far (the first start included). */
  reloads = 0;
  lastError: string | undefined;

  constructor(
    private readonly fake: FakeAws,
    private readonly runtime: OpenClawTaskRuntime,
    private readonly options: RealGatewayIngressOptions,
  ) {
    this.haproxy = new LocalIngress(options.port);
  }

  get origin(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** `http://acme.localhost:<port>` for the ALB host `acme.<domain>`. */
  localUrl(albHost: string): string {
    return `http://${this.localHost(albHost)}:${this.options.port}`;
  }

  private localHost(albHost: string): string {
    const suffix = `.${this.options.domain}`;
    return albHost.endsWith(suffix) ? `${albHost.slice(0, -suffix.length)}.localhost` : albHost;
  }

  /** The gateway socket of the running task whose ENI has `address`. */
  private resolve(address: string): LocalBackend | undefined {
    const task = this.fake.ecs.tasks.find((t) => t.eni.privateIp === address && t.stoppedAt === undefined);
    const gateway = task ? this.runtime.launched.find((g) => g.taskArn === task.arn && !g.stopped) : undefined;
    return gateway ? { socketPath: join(gateway.handle.workDir, 'gateway.sock') } : undefined;
  }

  routes(): LocalRoute[] {
    const resolve = (address: string) => this.resolve(address);
    return this.options.listenerArns.flatMap((arn) => {
      const alb = routesFromFake(this.fake.ingress.elb, arn, (h) => h, resolve);
      const local = alb.map((r) => ({
        ...r,
        host: this.localHost(r.host),
        rewrite: { host: r.host, origin: { from: this.localUrl(r.host), to: `https://${r.host}` } },
      }));
      return [...alb, ...local];
    });
  }

  render(): string {
    return renderHaproxyConfig({ port: this.options.port, routes: this.routes(), loopbackClientAddress: LOOPBACK_CLIENT_STAND_IN });
  }

  async start(): Promise<void> {
    this.current = this.render();
    await this.haproxy.start(this.current);
    this.reloads = 1;
    this.timer = setInterval(() => {
      if (!this.syncing) void this.sync();
    }, this.options.pollMs ?? 250);
    this.timer.unref();
  }

  private syncing: Promise<void> | undefined;

  /**
   * Reloads HAProxy when the fake's rules or targets changed; resolves once HAProxy serves the
   * rules as they were when called (LocalIngress.reload waits for the new worker). One at a time:
   * a call during a reload waits for it, then syncs again.
   */
  sync(): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        const next = this.render();
        if (next === this.current) return;
        await this.haproxy.reload(next);
        this.current = next;
        this.reloads++;
        this.lastError = undefined;
      } catch (err) {
        // Kept and shown by the demo; the previous configuration stays in force.
        const message = err instanceof Error ? err.message : String(err);
        if (message !== this.lastError) console.error(`local ingress: the fake's rules could not be loaded, the previous configuration stays: ${message}`);
        this.lastError = message;
      }
    };
    const next = (this.syncing ?? Promise.resolve()).then(run);
    const mine = next.finally(() => {
      if (this.syncing === mine) this.syncing = undefined;
    });
    this.syncing = mine;
    return mine;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.syncing;
    await this.haproxy.stop();
  }
}
