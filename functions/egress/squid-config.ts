/**
 * Renders the egress proxy's Squid 5 (`squid-openssl`) configuration. `squid.conf` holds only
 * global settings (it does not change when a tenant's policy changes); the per-tenant decision is
 * Squid's `external_acl_type` helper (acl-helper.ts, policy-map.ts) reading the policy map file,
 * and the credentials are the `basic_ncsa_auth` file (re-read by the helper when its mtime changes).
 * Pure: the caller (policy-sync.ts) writes the files atomically. No `squid -k reconfigure` on a
 * policy change: Squid refuses new connections while it reconfigures.
 *
 * What the generated configuration enforces (tests: test/egress/squid-proxy.test.ts, real Squid):
 * - every request authenticates with proxy basic auth: user = tenant id, password = the tenant's
 *   random secret, stored as SHA-512 crypt; the tenant is known by its credential, not its address;
 * - `CONNECT` only to a host and port of that tenant's rules (ports other than 80);
 * - plain HTTP (any method but CONNECT) only to a host whose rule lists port 80, on port 80;
 * - IP-literal destinations refused; destinations resolving into `deniedDestinations` refused
 *   (the cell's VPC, RFC 1918, link-local/metadata, loopback: DNS rebinding, `*.nip.io`);
 * - TLS: `ssl_bump peek` at step 1 reads the ClientHello without decrypting; at step 2 the
 *   tunnel is spliced only when the SNI matches the same rule as the CONNECT host (for an exact
 *   rule: SNI = CONNECT host); otherwise terminated (no fronting by SNI; a ClientHello without SNI
 *   is terminated too). Never bumped;
 * - everything else denied, including when the helper fails, times out or has no policy (an
 *   `allow` line matches only on the helper's OK); a denial is one JSON line (tenant, host, port,
 *   reason, the helper's detail) in the denial log.
 * Not enforced here: the HTTP Host header inside TLS (cannot be read without decrypting).
 */
import type { HostRule } from '../domain/egress-policy';
import { PLAIN_HTTP_PORT } from '../domain/egress-policy';
import type { PolicyMapFile } from './policy-map';
import { TENANT_ID_PATTERN } from '../domain/tenant';

export interface ProxyTenantPolicy {
  tenantId: string;
  /** SHA-512 crypt (`$6$...`) of the tenant's proxy password. */
  credentialHash: string;
  rules: readonly HostRule[];
}

export interface SquidRenderOptions {
  listen: { address: string; port: number };
  /** Absolute paths of the files Squid reads and writes. */
  paths: {
    passwdFile: string;
    /** The policy map (policy-map.ts PolicyMapFile) the ACL helper reads. */
    policyFile: string;
    /** Self-signed certificate and key `ssl-bump` requires; never presented for an allowed tunnel (never bumped). */
    bumpCert: string;
    bumpKey: string;
    pidFile: string;
    cacheLog: string;
    /** Every transaction, one JSON line; "stdio:/dev/stdout" style targets are accepted. */
    accessLog: string;
    /** Denials only, one JSON line each. */
    denyLog: string;
    coredumpDir: string;
  };
  /** Squid's own hosts file (tests map names to loopback); default /etc/hosts. */
  hostsFile?: string;
  /** Resolvers Squid asks (the proxy resolves destinations itself); default: /etc/resolv.conf. */
  dnsNameservers?: readonly string[];
  /** Destinations refused after resolution (CIDRs). */
  deniedDestinations: readonly string[];
  /** How long Squid trusts a verified credential (a rotated password stays valid this long). */
  credentialsTtlSeconds: number;
  /** basic_ncsa_auth processes. */
  authChildren: number;
  /** Seconds Squid waits for open connections on shutdown / restart. */
  shutdownLifetimeSeconds: number;
  /** The helper binary (Debian path by default). */
  ncsaAuthProgram?: string;
  /** The policy helper: command (e.g. ["/usr/bin/node", "/opt/octw/acl-helper.mjs"]; the policy file is appended). */
  aclHelper: {
    command: readonly string[];
    /** Seconds Squid caches an answer (positive and negative): the bound on how long a change takes once the file is swapped. */
    ttlSeconds: number;
    /** Helper processes (each answers `concurrency` questions at a time). */
    children: number;
    concurrency: number;
  };
}

/** Destinations no tenant reaches through the proxy, whatever its policy (plus the cell's VPC CIDRs). */
// Not listed, on purpose: `::ffff:0:0/96` (Squid reads an IPv4-mapped range as 0.0.0.0/0 and, overlapping 0.0.0.0/8,
// drops it with a warning; Squid compares mapped destinations as IPv4, which the IPv4 ranges cover) and
// `fd00:ec2::/32` (inside fc00::/7). test/egress/sidecar.test.ts fails on any such Squid warning.
export const DEFAULT_DENIED_DESTINATIONS: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/3',
  '::/127',
  '64:ff9b::/96',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

export class PolicyRenderError extends Error {
  override readonly name = 'PolicyRenderError';
}

const CRYPT = /^\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/;
const CANONICAL_HOST = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const CIDR_TEXT = /^[0-9a-f:.]+\/\d{1,3}$/i;
const SAFE_PATH = /^[A-Za-z0-9_./:-]+$/;

function checkPath(label: string, p: string): string {
  if (!SAFE_PATH.test(p)) throw new PolicyRenderError(`${label} path "${p}" has characters Squid's configuration cannot hold`);
  return p;
}

/** JSON log line: every variable value URL-escaped (%#) so a client-chosen name cannot break the JSON. */
const LOG_FIELDS =
  '"ts":%ts.%03tu,"tenant":"%#un","client":"%>a","method":"%rm","host":"%#>rd","port":"%>rP","status":%>Hs,' +
  '"squid":"%Ss","sni":"%#ssl::>sni","reason":"%#{reason}note","policy":"%#ea","bytesOut":%>st,"bytesIn":%<st,"ms":%tr';

/** Validates the tenants and renders the files that change with the policy: the credential file and the policy map. */
export function renderTenantFiles(tenants: readonly ProxyTenantPolicy[], version: string): { passwd: string; policyMap: string } {
  const seen = new Set<string>();
  const map: PolicyMapFile = { version, tenants: {} };
  const passwd: string[] = [];
  for (const t of tenants) {
    if (!TENANT_ID_PATTERN.test(t.tenantId) || t.tenantId.includes('--')) throw new PolicyRenderError(`tenant id "${t.tenantId}" is not a valid tenant id`);
    if (seen.has(t.tenantId)) throw new PolicyRenderError(`tenant "${t.tenantId}" appears twice`);
    seen.add(t.tenantId);
    if (!CRYPT.test(t.credentialHash)) throw new PolicyRenderError(`tenant "${t.tenantId}": credentialHash is not a SHA-512 crypt ($6$) hash`);
    for (const r of t.rules) {
      if (!CANONICAL_HOST.test(r.host)) throw new PolicyRenderError(`tenant "${t.tenantId}": host "${r.host}" is not canonical (validate with egress-policy first)`);
      if (!r.ports.length || r.ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new PolicyRenderError(`tenant "${t.tenantId}": host "${r.host}" has invalid ports`);
    }
    passwd.push(`${t.tenantId}:${t.credentialHash}`);
    map.tenants[t.tenantId] = t.rules.map((r) => ({ host: r.host, ports: [...r.ports] }));
  }
  return { passwd: passwd.length ? `${passwd.join('\n')}\n` : '', policyMap: `${JSON.stringify(map)}\n` };
}

/** Renders `squid.conf` (global settings only: the same for every policy). Throws PolicyRenderError on input it must not trust. */
export function renderSquidConfig(o: SquidRenderOptions): string {
  for (const c of o.deniedDestinations) if (!CIDR_TEXT.test(c)) throw new PolicyRenderError(`deniedDestinations entry "${c}" is not a CIDR`);
  const p = o.paths;
  for (const [k, v] of Object.entries(p)) checkPath(k, v);
  if (o.hostsFile) checkPath('hostsFile', o.hostsFile);
  if (!o.aclHelper.command.length) throw new PolicyRenderError('aclHelper.command is empty');
  for (const c of o.aclHelper.command) checkPath('aclHelper.command', c);
  const h = o.aclHelper;
  for (const [k, v] of Object.entries({ ttlSeconds: h.ttlSeconds, children: h.children, concurrency: h.concurrency })) {
    if (!Number.isInteger(v) || v < 1 || v > 1000) throw new PolicyRenderError(`aclHelper.${k} must be an integer 1-1000`);
  }
  const L: string[] = [];
  const add = (...lines: string[]) => L.push(...lines);
  add(
    '# Generated by functions/egress/squid-config.ts: do not edit. OCTW egress proxy (issue 10).',
    '# Global settings only: the per-tenant decision is the octw_policy helper reading the policy map.',
    `http_port ${o.listen.address}:${o.listen.port} ssl-bump tls-cert=${p.bumpCert} tls-key=${p.bumpKey} generate-host-certificates=off`,
    `pid_filename ${p.pidFile}`,
    `coredump_dir ${p.coredumpDir}`,
    `cache_log ${p.cacheLog}`,
    'cache deny all',
    'cache_mem 8 MB',
    'pinger_enable off',
    'logfile_rotate 0',
    'via off',
    'forwarded_for delete',
    'httpd_suppress_version_string on',
    'visible_hostname octw-egress',
    `shutdown_lifetime ${o.shutdownLifetimeSeconds} seconds`,
    `hosts_file ${o.hostsFile ?? '/etc/hosts'}`,
    ...(o.dnsNameservers?.length ? [`dns_nameservers ${o.dnsNameservers.join(' ')}`] : []),
    `logformat octw_access {"event":"egress",${LOG_FIELDS}}`,
    `logformat octw_denied {"event":"egress_denied",${LOG_FIELDS}}`,
    '',
    '# Authentication: one credential per tenant (user = tenant id); basic_ncsa_auth re-reads the file when it changes.',
    `auth_param basic program ${o.ncsaAuthProgram ?? '/usr/lib/squid/basic_ncsa_auth'} ${p.passwdFile}`,
    `auth_param basic children ${o.authChildren} startup=1 idle=1`,
    'auth_param basic realm octw-egress',
    `auth_param basic credentialsttl ${o.credentialsTtlSeconds} seconds`,
    'authenticate_ttl 60 seconds',
    'acl authed proxy_auth REQUIRED',
    '',
    '# The per-tenant policy: one helper question per (phase, tenant, host, port, SNI), answers cached ttl seconds.',
    '# The phase (connect/tls/http) is the acl argument; the access lines below guarantee its method (%rm is not set at http_access).',
    '# OK only when the policy map allows it; ERR (no match) for everything else, BH, overload or a missing map: the allow lines do not match.',
    `external_acl_type octw_policy ttl=${h.ttlSeconds} negative_ttl=${h.ttlSeconds} children-max=${h.children} children-startup=1 children-idle=1 ` +
      `concurrency=${h.concurrency} queue-size=${h.children * h.concurrency * 4} %DATA %un %>rd %>rP %ssl::>sni ${h.command.join(' ')} ${p.policyFile}`,
    'acl policy_connect external octw_policy connect',
    'acl policy_tls external octw_policy tls',
    'acl policy_http external octw_policy http',
    '',
    '# Reasons, recorded on the transaction (annotate_transaction always matches) and logged as %{reason}note.',
    'acl r_auth annotate_transaction reason=no_valid_credential',
    'acl r_ip annotate_transaction reason=ip_literal',
    'acl r_dst annotate_transaction reason=private_destination',
    'acl r_none annotate_transaction reason=not_in_policy',
    'acl r_sni annotate_transaction reason=sni_mismatch',
    'acl r_ok annotate_transaction reason=allowed',
    'acl allowed_note note reason allowed',
    'acl has_reason note reason',
    `access_log ${p.accessLog} logformat=octw_access`,
    // A denial is a transaction with a reason other than "allowed" (Squid's own error-page exchange inside a refused CONNECT has none).
    `access_log ${p.denyLog} logformat=octw_denied has_reason !allowed_note`,
    '',
    'acl step1 at_step SslBump1',
    'acl step2 at_step SslBump2',
    'acl http_proto proto HTTP',
    `acl plain_port port ${PLAIN_HTTP_PORT}`,
    // An IPv4 literal in any notation Squid accepts, or an IPv6 literal (with or without brackets).
    'acl ip_literal dstdom_regex -n ^[0-9.]+$ ^\\[?[0-9a-fA-F:.]+\\]?$ ^0[xX][0-9a-fA-F.]+$',
    ...(o.deniedDestinations.length ? [`acl denied_dst dst ${o.deniedDestinations.join(' ')}`] : []),
    '',
    'http_access deny manager',
    'http_access deny r_auth !all',
    'http_access deny !authed',
    'http_access deny ip_literal r_ip',
    ...(o.deniedDestinations.length ? ['http_access deny denied_dst r_dst'] : []),
    'http_access allow CONNECT !plain_port policy_connect r_ok',
    'http_access allow !CONNECT http_proto plain_port policy_http r_ok',
    'http_access deny r_none',
    '',
    '# TLS: read the ClientHello (peek), splice only when its SNI matches the rule the CONNECT host matched.',
    'ssl_bump peek step1',
    'ssl_bump splice step2 policy_tls',
    'ssl_bump terminate r_sni',
    '',
  );
  return `${L.join('\n')}\n`;
}
