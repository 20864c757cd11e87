/**
 * The per-tenant egress decision, outside squid.conf (issue 10, to-do 1): the sidecar writes the
 * cell's policies as one JSON file (`PolicyMapFile`, swapped atomically by rename), Squid asks its
 * `external_acl_type` helper (acl-helper.ts) about each CONNECT, each step-2 ClientHello and each
 * plain-HTTP request, and the helper answers from this module. A policy change therefore needs no
 * `squid -k reconfigure` (which refuses new connections of every tenant while Squid re-reads).
 *
 * Pure: no I/O. Fails closed: no map (missing, unreadable, invalid) = every request denied.
 */
import * as z from '../shared/zod';

/** The port whose rules the proxy forwards as plain HTTP (functions/domain/egress-policy.ts PLAIN_HTTP_PORT). */
const PLAIN_HTTP_PORT = 80;

const HOST = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** The file the sidecar writes: tenant id → its canonical rules (host + ports only). */
export const PolicyMapFileSchema = z.strictObject({
    version: z.string().check(z.minLength(1)).check(z.maxLength(128)),
    tenants: z.record(z.string().check(z.regex(/^[a-z0-9-]{1,63}$/)), z.array(z.strictObject({ host: z.string().check(z.regex(HOST)), ports: z.array(z.int().check(z.gte(1)).check(z.lte(65535))).check(z.minLength(1)) }))),
  });
export type PolicyMapFile = z.infer<typeof PolicyMapFileSchema>;

interface TenantTable {
  exact: Map<string, ReadonlySet<number>>;
  wild: { suffix: string; ports: ReadonlySet<number> }[];
}
export interface CompiledPolicy {
  version: string;
  tenants: Map<string, TenantTable>;
}

export function compilePolicy(raw: unknown): CompiledPolicy {
  const file = PolicyMapFileSchema.parse(raw);
  const tenants = new Map<string, TenantTable>();
  for (const [id, rules] of Object.entries(file.tenants)) {
    const t: TenantTable = { exact: new Map(), wild: [] };
    for (const r of rules) {
      if (r.host.startsWith('*.')) t.wild.push({ suffix: r.host.slice(1), ports: new Set(r.ports) });
      else t.exact.set(r.host, new Set([...(t.exact.get(r.host) ?? []), ...r.ports]));
    }
    tenants.set(id, t);
  }
  return { version: file.version, tenants };
}

/** Where Squid asks: `connect` = http_access for CONNECT; `tls` = ssl_bump step 2 (SNI known); `http` = http_access for plain HTTP. */
export type Phase = 'connect' | 'tls' | 'http';
export interface PolicyQuery {
  phase: Phase;
  /** Authenticated proxy user (the tenant id); undefined when Squid sent '-'. */
  user: string | undefined;
  host: string | undefined;
  port: number | undefined;
  sni: string | undefined;
}
export type PolicyReason = 'allowed' | 'policy_unavailable' | 'unknown_tenant' | 'not_in_policy' | 'sni_missing' | 'sni_mismatch' | 'bad_request';
export interface PolicyDecision {
  ok: boolean;
  reason: PolicyReason;
}

const LABEL = /^[a-z0-9-]+$/;

/** `*.example.com` (suffix ".example.com") matches one or more labels in front of the suffix, never the apex. */
function underWildcard(name: string, suffix: string): boolean {
  if (!name.endsWith(suffix)) return false;
  const front = name.slice(0, -suffix.length);
  return front.length > 0 && front.split('.').every((l) => LABEL.test(l));
}

/** The rule a host matches for a port: the exact rule first, then a wildcard. */
function matchRule(t: TenantTable, host: string, port: number): { exact: true } | { exact: false; suffix: string } | undefined {
  if (t.exact.get(host)?.has(port)) return { exact: true };
  const w = t.wild.find((x) => x.ports.has(port) && underWildcard(host, x.suffix));
  return w ? { exact: false, suffix: w.suffix } : undefined;
}

export function decide(policy: CompiledPolicy | undefined, q: PolicyQuery): PolicyDecision {
  const deny = (reason: PolicyReason): PolicyDecision => ({ ok: false, reason });
  if (!policy) return deny('policy_unavailable');
  if (!q.user || !q.host || q.port === undefined || !Number.isInteger(q.port)) return deny('bad_request');
  const t = policy.tenants.get(q.user);
  if (!t) return deny('unknown_tenant');
  const host = q.host.toLowerCase();
  // squid.conf asks 'http' only for plain-HTTP requests, 'connect' and 'tls' only for CONNECT tunnels.
  if (q.phase === 'http') {
    if (q.port !== PLAIN_HTTP_PORT) return deny('not_in_policy');
    return matchRule(t, host, q.port) ? { ok: true, reason: 'allowed' } : deny('not_in_policy');
  }
  if (q.port === PLAIN_HTTP_PORT) return deny('not_in_policy');
  const rule = matchRule(t, host, q.port);
  if (!rule) return deny('not_in_policy');
  if (q.phase === 'connect') return { ok: true, reason: 'allowed' };
  // tls: the ClientHello's SNI must match the same rule the CONNECT host matched (no fronting by SNI).
  if (!q.sni) return deny('sni_missing');
  const sni = q.sni.toLowerCase();
  const same = rule.exact ? sni === host : underWildcard(sni, rule.suffix);
  return same ? { ok: true, reason: 'allowed' } : deny('sni_mismatch');
}

function token(v: string | undefined): string | undefined {
  if (v === undefined || v === '' || v === '-') return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return undefined;
  }
}

/**
 * One request line of Squid's external ACL protocol with concurrency: `<channel> <phase> <user> <host> <port> <sni>`
 * (squid-config.ts: FORMAT `%DATA %un %>rd %>rP %ssl::>sni`, values URL-escaped, '-' when unknown).
 * Returns the reply line (`<channel> OK|ERR log=<reason>`); anything unparseable is denied.
 */
export function answerLine(policy: CompiledPolicy | undefined, line: string): string {
  const parts = line.trim().split(/\s+/);
  const channel = /^\d+$/.test(parts[0] ?? '') ? parts[0] : '0';
  const [, phaseRaw, user, host, port, sni] = parts;
  const phase = phaseRaw === 'connect' || phaseRaw === 'tls' || phaseRaw === 'http' ? phaseRaw : undefined;
  const portNum = token(port);
  const d: PolicyDecision =
    phase && parts.length === 6
      ? decide(policy, { phase, user: token(user), host: token(host)?.replace(/^\[|\]$/g, ''), port: portNum && /^\d+$/.test(portNum) ? Number(portNum) : undefined, sni: token(sni) })
      : { ok: false, reason: 'bad_request' };
  return `${channel} ${d.ok ? 'OK' : 'ERR'} log=${d.reason}`;
}
