/**
 * A tenant's egress policy by host name (issue 10): the host entries a tenant may reach through
 * the cell's egress proxy, their validation, the plan bounds, the presets and the difference
 * between two policies. Pure domain code: no AWS SDK (node:url only, for IDN → punycode).
 *
 * Input entries: `{"host": "api.telegram.org", "ports": [443]}`, `{"host": "*.slack.com", "ports": [443]}`
 * or `{"preset": "telegram"}`. Output: `HostRule[]`, canonical, merged by host, sorted, presets
 * expanded (stored expanded: a later change of a preset reaches a tenant only by an explicit update).
 *
 * Host rules (the reason of each refusal is in the issue message):
 * - canonical form: lowercase, IDN as punycode (`domainToASCII`, UTS #46), no trailing dot;
 *   input in another case or in Unicode is accepted and stored canonical;
 * - a wildcard only as the whole leftmost label (`*.example.com`): it matches one or more labels
 *   in front of the suffix, never the suffix itself; the suffix needs at least two labels
 *   (`*.com` is refused). Public suffixes of more than one label (`*.co.uk`) are not detected:
 *   a plan that is not "any public host" bounds wildcards by its own patterns;
 * - no IP literals (IPv4 in any WHATWG form: a name whose last label is numeric or hex, IPv6);
 * - no single-label names; no special-use or internal suffixes (INTERNAL_SUFFIXES: `.internal`,
 *   `.local`, `.localhost`, `.home.arpa`, RFC 6761 names...), no name under the cell's private
 *   zones (context), no instance-metadata names (single-label `instance-data` / `metadata`, or
 *   under `.internal`: all refused by the two rules before);
 * - no AWS service endpoints (AWS_ENDPOINT_SUFFIXES: `amazonaws.com`, `amazonaws.com.cn`,
 *   `api.aws`, `on.aws`...): the platform reaches the AWS services its tasks need through VPC
 *   endpoints whose policies bind them to the account; the same service through the proxy would
 *   let a tenant write to any account's bucket or queue (exfiltration past the endpoint policy).
 *   A plan may list exact endpoint names it allows (`awsEndpointExceptions`, no wildcards);
 * - ports: integers 1-65535, at most MAX_PORTS_PER_RULE per entry; 80 means plain HTTP
 *   (forwarded as HTTP by the proxy), every other port is reached with CONNECT + TLS;
 * - at most `plan.maxHostRules` rules after expansion and merging.
 * What this cannot see: a public name that resolves to a private address (DNS rebinding,
 * `*.nip.io`). The proxy refuses those destinations after resolution (its `deniedDestinations`).
 */
import { domainToASCII } from 'node:url';
import * as z from '../shared/zod';
import { ValidationError } from './errors';
import presetsData from './egress-presets.json';

export const MAX_PORTS_PER_RULE = 8;
/** The port whose entries the proxy forwards as plain HTTP. */
export const PLAIN_HTTP_PORT = 80;

/** Special-use and internal suffixes never allowed (the name itself or anything under it). */
export const INTERNAL_SUFFIXES: readonly { suffix: string; reason: string }[] = [
  { suffix: 'localhost', reason: 'loopback name (RFC 6761)' },
  { suffix: 'local', reason: 'multicast DNS name (RFC 6762)' },
  { suffix: 'internal', reason: 'private-use name (.internal: EC2 instance names and metadata, e.g. instance-data.ec2.internal)' },
  { suffix: 'intranet', reason: 'private-use name' },
  { suffix: 'lan', reason: 'private-use name' },
  { suffix: 'corp', reason: 'private-use name' },
  { suffix: 'home', reason: 'private-use name' },
  { suffix: 'private', reason: 'private-use name' },
  { suffix: 'home.arpa', reason: 'home network name (RFC 8375)' },
  { suffix: 'arpa', reason: 'infrastructure name (reverse DNS)' },
  { suffix: 'test', reason: 'special-use name (RFC 6761)' },
  { suffix: 'example', reason: 'special-use name (RFC 6761)' },
  { suffix: 'invalid', reason: 'special-use name (RFC 6761)' },
  { suffix: 'onion', reason: 'special-use name (RFC 7686)' },
  { suffix: 'alt', reason: 'special-use name (RFC 9476)' },
];

/** AWS service endpoint domains: reached privately through VPC endpoints, never through the proxy. */
export const AWS_ENDPOINT_SUFFIXES: readonly string[] = ['amazonaws.com', 'amazonaws.com.cn', 'api.aws', 'on.aws', 'aws.dev', 'amazonaws-us-gov.com'];

export type HostEntryInput = { host: string; ports: number[] } | { preset: string };

/** One canonical rule: `host` is an exact name or `*.suffix`; `ports` sorted, unique. */
export interface HostRule {
  host: string;
  ports: number[];
  /** Where the rule came from: "tenant" and/or "preset:<name>" (and "channel:<type>" / "model:<provider>" for derived rules). */
  origin: string[];
}

export const HostRuleSchema = z.strictObject({
    host: z.string().check(z.minLength(1)).check(z.maxLength(253)),
    ports: z.array(z.int().check(z.gte(1)).check(z.lte(65535))).check(z.minLength(1)).check(z.maxLength(MAX_PORTS_PER_RULE)),
    /** "tenant", "preset:<name>"; rules derived from other tenant fields carry "channel:<type>" / "model:<provider>" (functions/domain/tenant-egress.ts). */
    origin: z.array(z.string().check(z.regex(/^(tenant|(preset|channel|model):[a-z0-9-]+)$/))).check(z.minLength(1)),
  });

/**
 * The shape of one input entry (signup, update): `{host, ports}` or `{preset}`. Only the shape:
 * what the host and ports may be, and what the plan allows, is checked by `validateHostPolicy`
 * (which gives each refusal its reason).
 */
export const HostEntryInputSchema = z.union(
  [
    z.strictObject({ host: z.string().check(z.maxLength(300)), ports: z.array(z.number()).check(z.maxLength(64)) }),
    z.strictObject({ preset: z.string().check(z.maxLength(64)) }),
  ],
  { error: 'a host allowlist entry is {"host": "api.example.com", "ports": [443]} or {"preset": "telegram"}' },
);

const PlanHostPatternSchema = z.strictObject({ host: z.string().check(z.minLength(1)).check(z.maxLength(253)), ports: z.array(z.int().check(z.gte(1)).check(z.lte(65535))).check(z.minLength(1)).check(z.maxLength(MAX_PORTS_PER_RULE)) });

/** What a plan lets its tenants allow. Parsed from cdk.json (infra/config.ts, in a later round). */
export const EgressPlanBoundsSchema = z.strictObject({
    /** Rules a tenant's host policy may hold after expansion and merging. */
    maxHostRules: z.int().check(z.gte(0)).check(z.lte(200)),
    /** Either any public host on the listed ports, or the listed host patterns and presets. */
    allow: z.union([
      z.strictObject({ anyPublicHost: z.literal(true), ports: z.array(z.int().check(z.gte(1)).check(z.lte(65535))).check(z.minLength(1)).check(z.maxLength(MAX_PORTS_PER_RULE)) }),
      z.strictObject({ hosts: z._default(z.array(PlanHostPatternSchema), []), presets: z._default(z.array(z.string()), []) }),
    ]),
    /** Exact AWS endpoint names tenants of this plan may reach through the proxy (no wildcards). */
    awsEndpointExceptions: z._default(z.array(z.string()), []),
  });
export type EgressPlanBounds = z.infer<typeof EgressPlanBoundsSchema>;

export interface HostPolicyContext {
  plan: EgressPlanBounds;
  /** The cell's private DNS zones (e.g. "cell-1.octw.internal", the proxy's own zone): never allowed. */
  privateZones: readonly string[];
  /** Defaults to the bundled presets file. */
  presets?: PresetCatalogue;
}

export type HostPolicyIssue = { path: string; message: string };

// ---------------------------------------------------------------------------------------------
// Presets
// ---------------------------------------------------------------------------------------------

const PresetEntrySchema = z.strictObject({ host: z.string(), ports: z.array(z.int().check(z.gte(1)).check(z.lte(65535))).check(z.minLength(1)), source: z.string().check(z.minLength(10)) });
export const PresetCatalogueSchema = z.record(
  z.string().check(z.regex(/^[a-z][a-z0-9-]{1,31}$/)),
  z.strictObject({ description: z.string(), entries: z.array(PresetEntrySchema).check(z.minLength(1)) }),
);
export type PresetCatalogue = z.infer<typeof PresetCatalogueSchema>;

/** The bundled presets (functions/domain/egress-presets.json), checked at load. */
export const PRESETS: PresetCatalogue = PresetCatalogueSchema.parse(presetsData.presets);

// ---------------------------------------------------------------------------------------------
// Host names
// ---------------------------------------------------------------------------------------------

export type HostParseResult = { ok: true; host: string; wildcard: boolean; suffix: string } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function endsWithName(name: string, suffix: string): boolean {
  return name === suffix || name.endsWith(`.${suffix}`);
}

/**
 * Canonical form of a host pattern, or why it is not acceptable as a public destination
 * (IP literal, wildcard misuse, malformed label). Internal names are checked by `checkHost`.
 */
export function canonicalHost(input: unknown): HostParseResult {
  if (typeof input !== 'string') return { ok: false, reason: 'host must be a string such as "api.telegram.org"' };
  if (input.length === 0) return { ok: false, reason: 'host must not be empty' };
  if (input.length > 253) return { ok: false, reason: 'host is longer than 253 characters' };
  if (/[\s/@?#\\]/.test(input)) return { ok: false, reason: `host "${input}" must be a bare name (no scheme, path, user, port or whitespace)` };
  if (input.includes(':') || input.startsWith('[')) return { ok: false, reason: `host "${input}" is an IP literal (IPv6) or has a port: name the host and list ports separately` };
  if (input.endsWith('.')) return { ok: false, reason: `host "${input}" ends with "." (did you mean "${input.replace(/\.+$/, '')}"?)` };
  let wildcard = false;
  let rest = input;
  if (input.startsWith('*.')) {
    wildcard = true;
    rest = input.slice(2);
  }
  if (rest.includes('*')) return { ok: false, reason: `host "${input}" has a "*" that is not the whole leftmost label (write "*.example.com")` };
  const ascii = domainToASCII(rest.toLowerCase());
  if (ascii === '') return { ok: false, reason: `host "${input}" is not a valid domain name (IDNA conversion failed)` };
  const labels = ascii.split('.');
  const last = labels[labels.length - 1] ?? '';
  if (/^(0x[0-9a-f]*|[0-9]+)$/.test(last)) return { ok: false, reason: `host "${input}" is an IP literal (an IPv4 address in some notation): name the host instead` };
  if (ascii.length > 253) return { ok: false, reason: `host "${input}" is longer than 253 characters as punycode` };
  for (const label of labels) {
    if (!LABEL.test(label)) return { ok: false, reason: `host "${input}" has label "${label}": labels are 1-63 of a-z, 0-9 and "-", not starting or ending with "-"` };
  }
  if (labels.length < 2) {
    return { ok: false, reason: wildcard ? `host "${input}" is a wildcard over a top-level domain` : `host "${input}" is a single-label name (internal or top-level)` };
  }
  return { ok: true, host: wildcard ? `*.${ascii}` : ascii, wildcard, suffix: ascii };
}

function checkHost(input: unknown, ctx: HostPolicyContext): HostParseResult {
  const parsed = canonicalHost(input);
  if (!parsed.ok) return parsed;
  const name = parsed.suffix;
  for (const { suffix, reason } of INTERNAL_SUFFIXES) {
    if (endsWithName(name, suffix)) return { ok: false, reason: `host "${parsed.host}" is under .${suffix}: ${reason}, never reachable through the proxy` };
  }
  for (const zone of ctx.privateZones) {
    const z = zone.toLowerCase().replace(/\.$/, '');
    if (z && (endsWithName(name, z) || (parsed.wildcard && endsWithName(z, name)))) {
      return { ok: false, reason: `host "${parsed.host}" is in the cell's private zone ${z}` };
    }
  }
  for (const suffix of AWS_ENDPOINT_SUFFIXES) {
    const covers = endsWithName(name, suffix) || (parsed.wildcard && endsWithName(suffix, name));
    if (!covers) continue;
    if (!parsed.wildcard && ctx.plan.awsEndpointExceptions.includes(parsed.host)) break;
    return {
      ok: false,
      reason:
        `host "${parsed.host}" is an AWS service endpoint (${suffix}): the platform reaches AWS privately through VPC endpoints ` +
        'bound to the account; a plan may list exact endpoint names in awsEndpointExceptions',
    };
  }
  return parsed;
}

/** Whether plan pattern `pattern` covers tenant host `host` (both canonical). */
export function hostPatternCovers(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(2);
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (host.startsWith('*.')) return endsWithName(name, suffix);
  return name.endsWith(`.${suffix}`);
}

/** Whether a canonical rule's host matches a concrete destination name (what the proxy does). */
export function hostMatches(ruleHost: string, destination: string): boolean {
  if (!ruleHost.startsWith('*.')) return ruleHost === destination;
  return destination.endsWith(ruleHost.slice(1));
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkPorts(value: unknown, path: string, issues: HostPolicyIssue[]): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    issues.push({ path, message: 'ports must be a non-empty array of port numbers, e.g. [443]' });
    return undefined;
  }
  if (value.length > MAX_PORTS_PER_RULE) {
    issues.push({ path, message: `ports has ${value.length} entries; at most ${MAX_PORTS_PER_RULE}` });
    return undefined;
  }
  const out: number[] = [];
  for (const [i, p] of value.entries()) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) {
      issues.push({ path: `${path}[${i}]`, message: `port ${JSON.stringify(p)} is not an integer 1-65535` });
      return undefined;
    }
    out.push(p);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

function planAllowsHost(plan: EgressPlanBounds, host: string, ports: number[]): string | undefined {
  const allow = plan.allow;
  if ('anyPublicHost' in allow) {
    const outside = ports.filter((p) => !allow.ports.includes(p));
    return outside.length ? `port(s) ${outside.join(', ')} are outside the plan's ports (${allow.ports.join(', ')})` : undefined;
  }
  for (const pattern of allow.hosts) {
    const canonical = canonicalHost(pattern.host);
    if (!canonical.ok || !hostPatternCovers(canonical.host, host)) continue;
    if (ports.every((p) => pattern.ports.includes(p))) return undefined;
  }
  const names = allow.hosts.map((h) => `${h.host}:${h.ports.join('/')}`);
  return `host "${host}" on port(s) ${ports.join(', ')} is outside the plan's bounds (${names.length ? names.join(', ') : 'no host patterns'}${allow.presets.length ? `; presets ${allow.presets.join(', ')}` : ''})`;
}

function planAllowsPreset(plan: EgressPlanBounds, name: string): boolean {
  return 'anyPublicHost' in plan.allow || plan.allow.presets.includes(name);
}

/** Every issue with `input` (an array of entries), or the canonical rules. Never throws on bad input. */
export function validateHostPolicy(input: unknown, ctx: HostPolicyContext): { ok: true; rules: HostRule[] } | { ok: false; issues: HostPolicyIssue[] } {
  const issues: HostPolicyIssue[] = [];
  const presets = ctx.presets ?? PRESETS;
  if (!Array.isArray(input)) return { ok: false, issues: [{ path: 'hostAllowlist', message: 'must be an array of {host, ports} or {preset} entries' }] };
  const merged = new Map<string, { ports: Set<number>; origin: Set<string> }>();
  const add = (host: string, ports: number[], origin: string) => {
    const cur = merged.get(host) ?? { ports: new Set<number>(), origin: new Set<string>() };
    for (const p of ports) cur.ports.add(p);
    cur.origin.add(origin);
    merged.set(host, cur);
  };
  for (const [i, entry] of input.entries()) {
    const path = `hostAllowlist[${i}]`;
    if (!isRecord(entry)) {
      issues.push({ path, message: 'entry must be an object {host, ports} or {preset}' });
      continue;
    }
    const keys = Object.keys(entry).sort().join(',');
    if (keys === 'preset') {
      const name = entry.preset;
      const preset = typeof name === 'string' ? presets[name] : undefined;
      if (typeof name !== 'string' || !preset) {
        issues.push({ path: `${path}.preset`, message: `unknown preset ${JSON.stringify(name)}; known: ${Object.keys(presets).sort().join(', ')}` });
        continue;
      }
      if (!planAllowsPreset(ctx.plan, name)) {
        issues.push({ path: `${path}.preset`, message: `preset "${name}" is not allowed by the plan` });
        continue;
      }
      for (const [j, e] of preset.entries.entries()) {
        const h = checkHost(e.host, ctx);
        if (!h.ok) {
          issues.push({ path: `${path}.preset(${name}).entries[${j}]`, message: h.reason });
          continue;
        }
        add(h.host, [...new Set(e.ports)].sort((a, b) => a - b), `preset:${name}`);
      }
      continue;
    }
    if (keys !== 'host,ports') {
      issues.push({ path, message: `entry has keys {${keys}}; expected {host, ports} or {preset}` });
      continue;
    }
    const h = checkHost(entry.host, ctx);
    if (!h.ok) issues.push({ path: `${path}.host`, message: h.reason });
    const ports = checkPorts(entry.ports, `${path}.ports`, issues);
    if (!h.ok || !ports) continue;
    const outside = planAllowsHost(ctx.plan, h.host, ports);
    if (outside) {
      issues.push({ path, message: outside });
      continue;
    }
    add(h.host, ports, 'tenant');
  }
  const rules: HostRule[] = [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([host, v]) => ({ host, ports: [...v.ports].sort((a, b) => a - b), origin: [...v.origin].sort() }));
  for (const r of rules) {
    if (r.ports.length > MAX_PORTS_PER_RULE) issues.push({ path: 'hostAllowlist', message: `host "${r.host}" has ${r.ports.length} ports after merging; at most ${MAX_PORTS_PER_RULE}` });
  }
  if (rules.length > ctx.plan.maxHostRules) {
    issues.push({ path: 'hostAllowlist', message: `expands to ${rules.length} host rules; the plan allows at most ${ctx.plan.maxHostRules}` });
  }
  return issues.length ? { ok: false, issues } : { ok: true, rules };
}

/** As `validateHostPolicy`, throwing a `ValidationError` listing every issue. */
export function parseHostPolicy(input: unknown, ctx: HostPolicyContext): HostRule[] {
  const r = validateHostPolicy(input, ctx);
  if (!r.ok) throw new ValidationError(`host allowlist is invalid: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, r.issues);
  return r.rules;
}

/** Key of a rule for diffing: host and one port. */
function pairs(rules: readonly HostRule[]): Map<string, { host: string; port: number }> {
  const m = new Map<string, { host: string; port: number }>();
  for (const r of rules) for (const port of r.ports) m.set(`${r.host}:${port}`, { host: r.host, port });
  return m;
}

/** What changes between two stored policies, per (host, port) pair, sorted: for the update workflow and its audit event. */
export function diffHostRules(current: readonly HostRule[], desired: readonly HostRule[]): { add: { host: string; port: number }[]; remove: { host: string; port: number }[] } {
  const cur = pairs(current);
  const des = pairs(desired);
  const sorted = (xs: { host: string; port: number }[]) => xs.sort((a, b) => (a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1));
  return {
    add: sorted([...des.entries()].filter(([k]) => !cur.has(k)).map(([, v]) => v)),
    remove: sorted([...cur.entries()].filter(([k]) => !des.has(k)).map(([, v]) => v)),
  };
}
