/**
 * The local ingress: the fake ALB's listener rules rendered as an HAProxy 2.6 configuration,
 * so `http://<tenant>.localhost:<port>` reaches the tenant's gateway the way
 * `https://<tenant>.<cell domain>` does through the ALB shard: the same rules, in the same
 * priority order, exact host match, the staging header, the maintenance page, 404 for any other
 * host. WebSockets pass through (HAProxy switches to tunnel mode on Upgrade; `timeout tunnel`
 * matches the ALB idle timeout the CDK sets).
 *
 * Not modelled locally: `authenticate-oidc` (there is no identity provider on the machine); a rule
 * with it is rendered as a 501 so it is never silently served without authentication.
 */
import type { Action, ElbV2Fake, FakeRule } from '../fake-aws/elbv2';
import { forwardTargets } from '../fake-aws/elbv2';

/**
 * Where a target is reached locally: an IPv4 address and port, or a Unix socket (a real gateway
 * in its own network namespace is reachable from the host only through its bridge socket,
 * conformance/lib/launch-gateway.ts; HAProxy connects to it with `unix@`).
 */
export type LocalBackend = { readonly address: string; readonly port: number } | { readonly socketPath: string };

/** Maps a target the fake has registered (address, port) to where it is reached locally; undefined: not reachable (left out). */
export type TargetResolver = (address: string, port: number) => LocalBackend | undefined;

export type LocalRouteAction =
  | { readonly kind: 'forward'; readonly backends: readonly LocalBackend[] }
  | { readonly kind: 'fixed'; readonly status: number; readonly contentType: string; readonly body: string };

export interface LocalRoute {
  readonly priority: number;
  /** Host as the browser sends it locally, without the port: `acme.localhost`. */
  readonly host: string;
  /** Header name → value that must also match (the staging header). */
  readonly headers: Readonly<Record<string, string>>;
  readonly action: LocalRouteAction;
  /**
   * Presents the request to the gateway as the ALB would (TLS and DNS stand-ins): the Host header
   * becomes `host` (the tenant's real hostname), and an Origin exactly equal to `origin.from` (the
   * page's local origin, `http://acme.localhost:8080`) becomes `origin.to` (`https://acme.<domain>`,
   * what gateway.controlUi.allowedOrigins lists). Any other Origin passes unchanged (and is refused
   * by the gateway as in production).
   */
  readonly rewrite?: { readonly host: string; readonly origin?: { readonly from: string; readonly to: string } };
}

const HOST = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HEADER_NAME = /^[a-z0-9-]{1,64}$/;
const HEADER_VALUE = /^[A-Za-z0-9_-]{1,128}$/;
const ADDRESS = /^(\d{1,3}\.){3}\d{1,3}$/;
// sun_path holds 108 bytes with the terminating NUL; no spaces or quotes (nothing to escape).
const ORIGIN = /^https?:\/\/[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/;
const SOCKET_PATH = /^\/[A-Za-z0-9._/-]{1,106}$/;

/**
 * Reads the fake's rules on one listener into local routes. `localHost` maps a rule's host
 * (`acme.cell-1.example.com`) to the local one (`acme.localhost`).
 */
export function routesFromFake(elb: ElbV2Fake, listenerArn: string, localHost: (albHost: string) => string, resolve?: TargetResolver): LocalRoute[] {
  const rules = [...elb.rules.values()].filter((r) => r.listenerArn === listenerArn).sort((a, b) => a.priority - b.priority);
  return rules.flatMap((rule) => {
    const hosts = rule.conditions.filter((c) => c.Field === 'host-header').flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? []);
    const headers: Record<string, string> = {};
    for (const c of rule.conditions) {
      if (c.Field === 'http-header' && c.HttpHeaderConfig?.HttpHeaderName) headers[c.HttpHeaderConfig.HttpHeaderName.toLowerCase()] = c.HttpHeaderConfig.Values?.[0] ?? '';
    }
    const action = localAction(elb, rule, resolve);
    return hosts.map((h) => ({ priority: rule.priority, host: localHost(h.toLowerCase()), headers, action }));
  });
}

function localAction(elb: ElbV2Fake, rule: FakeRule, resolve: TargetResolver = (address, port) => ({ address, port })): LocalRouteAction {
  const sorted: Action[] = [...rule.actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  if (sorted.some((a) => a.Type === 'authenticate-oidc')) {
    return { kind: 'fixed', status: 501, contentType: 'text/plain', body: 'OIDC authentication is not available in the local ingress' };
  }
  const last = sorted.at(-1);
  if (last?.Type === 'fixed-response') {
    const f = last.FixedResponseConfig ?? {};
    return { kind: 'fixed', status: Number(f.StatusCode ?? 503), contentType: f.ContentType ?? 'text/plain', body: f.MessageBody ?? '' };
  }
  const tg = forwardTargets(sorted)[0];
  const targets = tg ? elb.targetGroups.get(tg)?.targets : undefined;
  return { kind: 'forward', backends: [...(targets ?? new Map<string, number>())].flatMap(([address, port]) => resolve(address, port) ?? []) };
}

function quote(s: string): string {
  // HAProxy 2.6 double-quoted strings: backslash-escape \ " $ (no environment expansion).
  return `"${s.replace(/[\\"$]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`;
}

export interface HaproxyConfigInput {
  readonly bindAddress?: string;
  readonly port: number;
  readonly routes: readonly LocalRoute[];
  /**
   * X-Forwarded-For for a client on loopback (every client here). The pinned gateway refuses a
   * forwarded request whose client address is loopback (403 `proxy_attribution_required`: a proxy
   * on the gateway's host relaying local traffic); behind the ALB the client is an internet address.
   * Set to a documentation address (192.0.2.0/24) to stand in for one. Default: the real address.
   */
  readonly loopbackClientAddress?: string;
  /** Idle timeout for HTTP and WebSocket tunnels, seconds (the ALB shard's idle timeout). */
  readonly idleTimeoutSeconds?: number;
}

/** Renders haproxy.cfg. Every value is checked against a strict pattern first: nothing from a rule can inject configuration. */
export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  const bind = input.bindAddress ?? '127.0.0.1';
  if (!ADDRESS.test(bind)) throw new RangeError(`bind address ${bind} is not an IPv4 address`);
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw new RangeError(`port ${input.port} is not a port`);
  const idle = input.idleTimeoutSeconds ?? 3600;
  const standIn = input.loopbackClientAddress;
  if (standIn !== undefined && !ADDRESS.test(standIn)) throw new RangeError(`loopback client address ${standIn} is not an IPv4 address`);
  const front: string[] = [];
  const backends: string[] = [];
  [...input.routes]
    .sort((a, b) => a.priority - b.priority)
    .forEach((route, i) => {
      if (!HOST.test(route.host)) throw new RangeError(`route host ${JSON.stringify(route.host)} is not a DNS name`);
      const acl = [`{ var(txn.host) -m str ${route.host} }`];
      for (const [name, value] of Object.entries(route.headers)) {
        if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) throw new RangeError(`route header ${name} has a name or value outside the allowed characters`);
        acl.push(`{ req.hdr(${name}) -m str ${value} }`);
      }
      const cond = acl.join(' ');
      if (route.rewrite) {
        const { host, origin } = route.rewrite;
        if (!HOST.test(host)) throw new RangeError(`rewrite host ${JSON.stringify(host)} is not a DNS name`);
        if (origin) {
          if (!ORIGIN.test(origin.from) || !ORIGIN.test(origin.to)) throw new RangeError(`rewrite origin ${JSON.stringify(origin)} is not a pair of http(s) origins`);
          front.push(`  http-request set-header origin ${origin.to} if ${cond} { req.hdr(origin) -m str ${origin.from} }`);
        }
        front.push(`  http-request set-header host ${host} if ${cond}`);
      }
      const name = `r${String(i + 1).padStart(4, '0')}_p${route.priority}`;
      if (route.action.kind === 'fixed') {
        const { status, contentType, body } = route.action;
        if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`status ${status} is not an HTTP status`);
        if (!/^[a-z]+\/[a-z0-9.+-]+$/.test(contentType)) throw new RangeError(`content type ${contentType} is not a media type`);
        front.push(`  http-request return status ${status} content-type ${quote(contentType)} string ${quote(body)} if ${cond}`);
        return;
      }
      front.push(`  use_backend ${name} if ${cond}`);
      backends.push(`backend ${name}`);
      route.action.backends.forEach((b, j) => {
        if ('socketPath' in b) {
          if (!SOCKET_PATH.test(b.socketPath)) throw new RangeError(`backend socket ${JSON.stringify(b.socketPath)} is not an absolute path of at most 107 safe characters`);
          backends.push(`  server s${j + 1} unix@${b.socketPath}`);
          return;
        }
        if (!ADDRESS.test(b.address) || !Number.isInteger(b.port) || b.port < 1 || b.port > 65535) throw new RangeError(`backend ${b.address}:${b.port} is not an IPv4 address and port`);
        backends.push(`  server s${j + 1} ${b.address}:${b.port}`);
      });
      backends.push('');
    });
  return [
    '# Generated by test/local-cloud/ingress/haproxy-config.ts from the fake ALB listener rules. Do not edit.',
    'global',
    '  maxconn 2000',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    `  timeout client ${idle}s`,
    `  timeout server ${idle}s`,
    `  timeout tunnel ${idle}s`,
    '  timeout http-request 10s',
    // As the ALB does: the client address in X-Forwarded-For, which the gateway reads because the
    // ingress is in gateway.trustedProxies.
    standIn ? '  option forwardfor except 127.0.0.0/8' : '  option forwardfor',
    '',
    'frontend ingress',
    `  bind ${bind}:${input.port}`,
    ...(standIn ? [`  http-request set-header x-forwarded-for ${standIn} if { src 127.0.0.0/8 }`] : []),
    // Host without the port, lower case: the ALB's host-header match is case-insensitive.
    '  http-request set-var(txn.host) req.hdr(host),field(1,:),lower',
    ...front,
    '  default_backend unknown_host',
    '',
    ...backends,
    'backend unknown_host',
    '  http-request return status 404 content-type "text/plain" string "Not found"',
    '',
  ].join('\n');
}
