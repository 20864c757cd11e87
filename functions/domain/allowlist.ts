/**
 * A tenant's egress allowlist: validation (what may never be allowed) and its expansion into
 * security-group egress rules (SDK-agnostic), plus the difference between two rule sets so the
 * Network handler can update a group in place.
 *
 * Pure domain code: no AWS SDK imports. IP parsing is done here with BigInt (IPv4, IPv6 with
 * `::` compression and a trailing dotted IPv4 part), so the checks do not depend on the
 * resolver or on node:net's leniency.
 *
 * Refused, always (see RESERVED_RANGES for the exact list and the reason of each):
 * - text that is not IPv4/IPv6 CIDR notation, a bare address without prefix, prefixes out of
 *   range, leading zeros in IPv4 octets, host bits set (with the network the caller meant);
 * - 0.0.0.0/0 and ::/0, and any prefix shorter than /8 (IPv4) or /16 (IPv6). Why those bounds:
 *   covering the whole address space with /8 blocks takes 256 rules and with /16 blocks tens of
 *   thousands, far beyond the 60 rules a group holds, so "the whole internet" can never be
 *   reached by splitting it up, while the widest published service ranges (/8 to /12 for IPv4)
 *   remain expressible;
 * - anything overlapping a VPC CIDR of the cell (it would reach other tenants' tasks);
 * - link-local and metadata ranges (IMDS 169.254.169.254, ECS task metadata 169.254.170.2,
 *   Time Sync, the link-local Route 53 Resolver, fd00:ec2::/32, fe80::/10), loopback,
 *   multicast, 0.0.0.0/8, 240.0.0.0/4 (reserved and broadcast), ::/8 (unspecified, loopback,
 *   IPv4-mapped and -compatible addresses) and the NAT64 prefixes (they translate to IPv4 and
 *   would bypass the IPv4 checks: use the IPv4 CIDR). Fargate has no agent address range of its
 *   own beyond link-local 169.254.170.2, which the link-local refusal covers;
 * - ports outside 1..65535 or ranges whose `from` exceeds `to`; duplicate rules; more rules
 *   than the plan allows or than fit in a security group next to the platform's own rules.
 * - anything overlapping a protected network (`vpcCidrs`: every CIDR of the cell VPC and every
 *   network reachable from it, cdk.json `protectedCidrs`), even where the operator allowed it;
 * - private and shared address space (RFC 1918, 100.64.0.0/10, 198.18.0.0/15, IPv6 ULA fc00::/7,
 *   see PRIVATE_RANGES) unless the block lies inside a range the operator allowed
 *   (`allowedPrivateCidrs`, cdk.json): internal networks are unreachable unless asked for;
 * - a `prefixListId` the operator has not approved (cdk.json `approvedPrefixLists`; AWS-managed
 *   service lists can never be approved). An approved list counts as its max entries per port
 *   entry against the rule budget, as EC2 counts it.
 */
import { ValidationError } from './errors';
import type { EgressRule } from './tenant';

/** Outbound rules a security group may hold (AWS default quota, "rules per security group"). */
export const MAX_EGRESS_RULES_PER_GROUP = 60;
/**
 * Outbound rules the platform adds to every tenant group besides the allowlist:
 * 2049/tcp to the EFS security group, 443/tcp to the VPC-endpoint security group,
 * 443/tcp to the S3 gateway-endpoint prefix list, and the egress proxy's port to its load
 * balancer's security group (issue 10; counted whether or not the cell has a proxy, so a tenant's
 * budget does not shrink when the proxy is switched on).
 */
export const PLATFORM_EGRESS_RULE_COUNT = 4;
/** Shortest IPv4 prefix an allowlist entry may have. */
export const MIN_IPV4_PREFIX = 8;
/** Shortest IPv6 prefix an allowlist entry may have. */
export const MIN_IPV6_PREFIX = 16;

export type AllowlistIssue = { path: string /* e.g. "egressAllowlist[2].cidr" */; message: string };

export interface AllowlistContext {
  /**
   * The protected networks: every CIDR of the cell's VPC (IPv4 and IPv6) and any other network
   * tenants must never reach (peered VPCs, transit gateway, on-premises: cdk.json `protectedCidrs`).
   */
  vpcCidrs: string[];
  /** The plan's `maxAllowlistRules`: security-group rules the allowlist may expand to. */
  maxRules: number;
  /** Ranges of private or shared address space tenants may reach (cdk.json `allowedPrivateCidrs`). @default none */
  allowedPrivateCidrs?: readonly string[];
  /** The prefix lists tenants may name (cdk.json `approvedPrefixLists`). @default none */
  approvedPrefixLists?: readonly ApprovedPrefixList[];
}

/** A customer-managed prefix list the operator approved for tenant allowlists. */
export interface ApprovedPrefixList {
  /** `pl-...` */
  id: string;
  /** Its name in EC2 (documentation, and the AWS-managed check: `com.amazonaws.*` is refused). */
  name: string;
  /** Its max entries: what EC2 counts per rule referencing it against the group's rule quota. */
  maxEntries: number;
  /** Its entries (CIDRs), checked as tenant CIDRs are. */
  entries: readonly string[];
}

/** One security-group egress rule, independent of the EC2 SDK types. Exactly one target is set. */
export interface IpPermissionSpec {
  protocol: 'tcp' | 'udp';
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  description: string;
}

export interface RuleDiff {
  /** Rules in `desired` whose key is not in `current`: authorize them. */
  add: IpPermissionSpec[];
  /** Rules in `current` whose key is not in `desired`: revoke them. */
  remove: IpPermissionSpec[];
  /** Rules present in both whose description differs (the `desired` version): update the description only. */
  updateDescription: IpPermissionSpec[];
}

// ---------------------------------------------------------------------------------------------
// IP and CIDR parsing
// ---------------------------------------------------------------------------------------------

export type IpVersion = 4 | 6;

/** A CIDR block: `network` is its first address (host bits clear). */
export interface Cidr {
  version: IpVersion;
  network: bigint;
  prefix: number;
}

export type CidrParseResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

function maskOf(version: IpVersion, prefix: number): bigint {
  const bits = BigInt(BITS[version]);
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all << (bits - BigInt(prefix))) & all;
}

/** Parses dotted-quad IPv4 (no leading zeros: "010" is octal to some parsers). */
function parseIpv4(text: string): bigint | string {
  const parts = text.split('.');
  if (parts.length !== 4) return `"${text}" is not an IPv4 address (expected four dot-separated octets)`;
  let value = 0n;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return `octet "${part}" is not a number 0-255`;
    if (part.length > 1 && part.startsWith('0')) return `octet "${part}" has a leading zero (ambiguous: some parsers read it as octal)`;
    const n = Number(part);
    if (n > 255) return `octet ${n} is out of range 0-255`;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Parses IPv6 text: `::` compression, a trailing dotted IPv4 part; no zone ids. */
function parseIpv6(text: string): bigint | string {
  const s = text.toLowerCase();
  if (s.includes('%')) return 'zone ids ("%...") are not allowed in a CIDR';
  if (!/^[0-9a-f:.]+$/.test(s)) return `"${text}" has characters other than hex digits, ":" and "."`;
  const halves = s.split('::');
  if (halves.length > 2) return '"::" may appear only once';
  const parseGroups = (part: string, v4TailAllowed: boolean): number[] | string => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i += 1) {
      const g = groups[i] ?? '';
      if (g.includes('.')) {
        if (!v4TailAllowed || i !== groups.length - 1) return 'an embedded IPv4 address may only end the address';
        const v4 = parseIpv4(g);
        if (typeof v4 === 'string') return v4;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-f]{1,4}$/.test(g)) return g === '' ? 'empty group (a lone ":" at the start or end?)' : `group "${g}" is not 1-4 hex digits`;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? '', halves.length === 1);
  if (typeof head === 'string') return head;
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '', true) : [];
  if (typeof tail === 'string') return tail;
  let groups: number[];
  if (halves.length === 1) {
    if (head.length !== 8) return `has ${head.length} groups; an IPv6 address has 8 (or uses "::")`;
    groups = head;
  } else {
    if (head.length + tail.length > 7) return 'has too many groups for "::" to stand for any';
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
function formatIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i -= 1) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of a CIDR block (IPv6 per RFC 5952). */
export function formatCidr(cidr: Cidr): string {
  return `${cidr.version === 4 ? formatIpv4(cidr.network) : formatIpv6(cidr.network)}/${cidr.prefix}`;
}

/** Parses CIDR notation strictly; the reason explains what is wrong and, where it can, what was meant. */
export function parseCidr(text: unknown): CidrParseResult {
  if (typeof text !== 'string') return { ok: false, reason: 'must be a string in CIDR notation, e.g. 203.0.113.0/24' };
  if (text.length === 0) return { ok: false, reason: 'must not be empty' };
  if (text.length > 64) return { ok: false, reason: 'is too long to be a CIDR block' };
  if (/\s/.test(text)) return { ok: false, reason: `"${text}" contains whitespace` };
  const slash = text.split('/');
  if (slash.length > 2) return { ok: false, reason: `"${text}" has more than one "/"` };
  const [addrText = '', prefixText] = slash;
  const version: IpVersion = addrText.includes(':') ? 6 : 4;
  const addr = version === 4 ? parseIpv4(addrText) : parseIpv6(addrText);
  if (typeof addr === 'string') return { ok: false, reason: `"${text}" is not valid IPv${version} CIDR notation: ${addr}` };
  const bits = BITS[version];
  if (prefixText === undefined) {
    const single = formatCidr({ version, network: addr, prefix: bits });
    return { ok: false, reason: `"${text}" is an address, not a CIDR block (did you mean ${single}?)` };
  }
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return { ok: false, reason: `"${text}" has prefix "/${prefixText}", which is not a number 0-${bits}` };
  const prefix = Number(prefixText);
  if (prefix > bits) return { ok: false, reason: `"${text}" has prefix /${prefix}, out of range 0-${bits} for IPv${version}` };
  const network = addr & maskOf(version, prefix);
  if (network !== addr) {
    return { ok: false, reason: `"${text}" has host bits set (did you mean ${formatCidr({ version, network, prefix })}?)` };
  }
  return { ok: true, cidr: { version, network, prefix } };
}

/** Whether two blocks share at least one address (always false across IP versions). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.version !== b.version) return false;
  const shorter = Math.min(a.prefix, b.prefix);
  const mask = maskOf(a.version, shorter);
  return (a.network & mask) === (b.network & mask);
}

function mustParse(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`allowlist: invalid built-in CIDR ${text}: ${r.reason}`);
  return r.cidr;
}

/** Ranges no allowlist entry may touch, with the reason given to the caller. */
export const RESERVED_RANGES: readonly { cidr: string; reason: string }[] = [
  { cidr: '0.0.0.0/8', reason: '"this network" (0.0.0.0/8), not a destination' },
  { cidr: '127.0.0.0/8', reason: 'loopback (127.0.0.0/8)' },
  {
    cidr: '169.254.0.0/16',
    reason:
      'link-local (169.254.0.0/16): instance metadata (IMDS) 169.254.169.254, ECS task metadata 169.254.170.2, ' +
      'Time Sync 169.254.169.123, Route 53 Resolver 169.254.169.253',
  },
  { cidr: '224.0.0.0/4', reason: 'multicast (224.0.0.0/4)' },
  { cidr: '240.0.0.0/4', reason: 'reserved (240.0.0.0/4, includes broadcast 255.255.255.255)' },
  // The NAT64 prefixes lie inside ::/8; they come first so their more specific reason is the one reported.
  { cidr: '64:ff9b::/96', reason: 'NAT64 (64:ff9b::/96) translates to IPv4 and would bypass the IPv4 checks; use the IPv4 CIDR' },
  { cidr: '64:ff9b:1::/48', reason: 'local-use NAT64 (64:ff9b:1::/48) translates to IPv4; use the IPv4 CIDR' },
  { cidr: '::/8', reason: 'reserved IPv6 (::/8: unspecified, loopback ::1, IPv4-mapped and IPv4-compatible addresses; use the IPv4 CIDR)' },
  { cidr: 'fd00:ec2::/32', reason: 'AWS IPv6 metadata range (fd00:ec2::/32: IMDS fd00:ec2::254, DNS, Time Sync)' },
  { cidr: 'fe80::/10', reason: 'IPv6 link-local (fe80::/10)' },
  { cidr: 'ff00::/8', reason: 'IPv6 multicast (ff00::/8)' },
];
const RESERVED: readonly { cidr: Cidr; reason: string }[] = RESERVED_RANGES.map((r) => ({ cidr: mustParse(r.cidr), reason: r.reason }));

/**
 * Private and shared address space: internal networks live here (secondary VPC CIDRs, peered VPCs,
 * transit gateway attachments, VPN and Direct Connect routes). Refused unless the operator allows a
 * range (`allowedPrivateCidrs`), so a network the operator forgot to list in `protectedCidrs` is
 * still out of reach.
 */
export const PRIVATE_RANGES: readonly { cidr: string; reason: string }[] = [
  { cidr: '10.0.0.0/8', reason: 'private address space (RFC 1918, 10.0.0.0/8)' },
  { cidr: '172.16.0.0/12', reason: 'private address space (RFC 1918, 172.16.0.0/12)' },
  { cidr: '192.168.0.0/16', reason: 'private address space (RFC 1918, 192.168.0.0/16)' },
  { cidr: '100.64.0.0/10', reason: 'shared address space (RFC 6598, 100.64.0.0/10, carrier-grade NAT and internal networks)' },
  { cidr: '198.18.0.0/15', reason: 'benchmarking address space (RFC 2544, 198.18.0.0/15, often used for internal networks)' },
  { cidr: 'fc00::/7', reason: 'unique local IPv6 (fc00::/7, the IPv6 private address space)' },
];
const PRIVATE: readonly { cidr: Cidr; reason: string }[] = PRIVATE_RANGES.map((r) => ({ cidr: mustParse(r.cidr), reason: r.reason }));

/** Whether `inner` lies wholly inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.version === inner.version && outer.prefix <= inner.prefix && cidrsOverlap(outer, inner);
}

/** Names of AWS-managed prefix lists (`com.amazonaws.<region>.s3`, `com.amazonaws.global.cloudfront...`). */
export const AWS_MANAGED_PREFIX_LIST_NAME = /^com\.amazonaws?\./i;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const PREFIX_LIST_ID = /^pl-[0-9a-f]{8,17}$/;
/** Characters EC2 accepts in a rule description (max 255). */
const EC2_DESCRIPTION = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
}

/** A port spec as an inclusive range, or an issue message. */
function checkPortSpec(spec: unknown, path: string, issues: AllowlistIssue[]): { from: number; to: number } | undefined {
  if (typeof spec === 'number') {
    if (isPort(spec)) return { from: spec, to: spec };
    issues.push({ path, message: `port ${describeValue(spec)} is out of range: ports are integers 1-65535` });
    return undefined;
  }
  if (isRecord(spec)) {
    let ok = true;
    for (const end of ['from', 'to'] as const) {
      if (!isPort(spec[end])) {
        issues.push({ path: `${path}.${end}`, message: `port range "${end}" ${describeValue(spec[end])} is out of range: ports are integers 1-65535` });
        ok = false;
      }
    }
    if (!ok) return undefined;
    const from = spec.from as number;
    const to = spec.to as number;
    if (from > to) {
      issues.push({ path, message: `port range from ${from} to ${to} is empty: "from" must not exceed "to"` });
      return undefined;
    }
    return { from, to };
  }
  issues.push({ path, message: `port entry ${describeValue(spec)} must be a port number or {from, to}` });
  return undefined;
}

/** What `checkCidr` checks a block against besides the fixed rules. */
interface CidrPolicy {
  /** Protected networks: never reachable. */
  protectedCidrs: readonly Cidr[];
  /** Ranges of private/shared space the operator allowed. */
  allowedPrivate: readonly Cidr[];
}

function checkCidr(value: unknown, path: string, policy: CidrPolicy, issues: AllowlistIssue[]): Cidr | undefined {
  const parsed = parseCidr(value);
  if (!parsed.ok) {
    issues.push({ path, message: `cidr ${parsed.reason}` });
    return undefined;
  }
  const { cidr } = parsed;
  const text = formatCidr(cidr);
  if (cidr.prefix === 0) {
    issues.push({ path, message: `cidr "${text}" allows egress to the whole ${cidr.version === 4 ? 'IPv4' : 'IPv6'} internet; list the destinations the tenant needs instead` });
    return undefined;
  }
  const min = cidr.version === 4 ? MIN_IPV4_PREFIX : MIN_IPV6_PREFIX;
  if (cidr.prefix < min) {
    issues.push({
      path,
      message: `cidr "${text}" is broader than /${min}: so wide a block reaches a large part of the internet by accident; list narrower destinations (IPv4 /${MIN_IPV4_PREFIX} or longer, IPv6 /${MIN_IPV6_PREFIX} or longer)`,
    });
    return undefined;
  }
  let ok = true;
  // One reason is enough: report the first (most specific) reserved range the block touches.
  const reserved = RESERVED.find((r) => cidrsOverlap(cidr, r.cidr));
  if (reserved) {
    issues.push({ path, message: `cidr "${text}" overlaps ${reserved.reason}; egress there is never allowed` });
    ok = false;
  }
  let isProtected = false;
  for (const v of policy.protectedCidrs) {
    if (cidrsOverlap(cidr, v)) {
      issues.push({
        path,
        message: `cidr "${text}" overlaps the protected network ${formatCidr(v)} (the cell VPC or a network reachable from it, cdk.json protectedCidrs): it would reach other tenants or internal systems`,
      });
      ok = false;
      isProtected = true;
    }
  }
  if (!isProtected && !reserved) {
    const space = PRIVATE.find((r) => cidrsOverlap(cidr, r.cidr));
    if (space && !policy.allowedPrivate.some((a) => cidrContains(a, cidr))) {
      issues.push({
        path,
        message: `cidr "${text}" is in ${space.reason}: internal networks are not reachable from a tenant unless the operator allows the range (cdk.json allowedPrivateCidrs)`,
      });
      ok = false;
    }
  }
  return ok ? cidr : undefined;
}

/**
 * Number of security-group rules `rules` expands to, as EC2 counts them: one per (destination ×
 * port entry), where a prefix list weighs its max entries (taken from `approvedPrefixLists`; a list
 * not in it counts as 1, but validation refuses it anyway).
 */
export function countSecurityGroupRules(rules: readonly unknown[], approvedPrefixLists: readonly ApprovedPrefixList[] = []): number {
  let n = 0;
  for (const rule of rules) {
    if (!isRecord(rule) || !Array.isArray(rule.ports)) continue;
    const list = typeof rule.prefixListId === 'string' ? approvedPrefixLists.find((l) => l.id === rule.prefixListId) : undefined;
    n += rule.ports.length * (list ? list.maxEntries : 1);
  }
  return n;
}

function parseCidrList(input: unknown, name: string, issues: AllowlistIssue[], required: boolean): Cidr[] {
  const out: Cidr[] = [];
  if (input === undefined && !required) return out;
  if (!Array.isArray(input) || (required && input.length === 0)) {
    // Fail closed: without the protected ranges the isolation check cannot be made.
    issues.push({ path: name, message: `the ${name} are missing, so overlap with other tenants and internal networks cannot be checked` });
    return out;
  }
  input.forEach((text, i) => {
    const r = parseCidr(text);
    if (r.ok) out.push(r.cidr);
    else issues.push({ path: `${name}[${i}]`, message: `${name}[${i}] is invalid (${r.reason}), so overlap cannot be checked` });
  });
  return out;
}

/**
 * The operator's egress settings themselves (checked at synth): every protected CIDR parses; every
 * allowed private range lies in private or shared space and touches no protected network; every
 * approved prefix list is customer-managed (not `com.amazonaws.*`), holds at most its max entries,
 * and each entry passes the checks a tenant CIDR passes. Empty means valid.
 */
export function validateEgressSettings(settings: {
  protectedCidrs: readonly string[];
  allowedPrivateCidrs: readonly string[];
  approvedPrefixLists: readonly ApprovedPrefixList[];
}): AllowlistIssue[] {
  const issues: AllowlistIssue[] = [];
  const protectedCidrs = parseCidrList(settings.protectedCidrs, 'protectedCidrs', issues, true);
  const allowedPrivate: Cidr[] = [];
  settings.allowedPrivateCidrs.forEach((text, i) => {
    const path = `allowedPrivateCidrs[${i}]`;
    const r = parseCidr(text);
    if (!r.ok) {
      issues.push({ path, message: `cidr ${r.reason}` });
      return;
    }
    if (!PRIVATE.some((p) => cidrContains(p.cidr, r.cidr))) {
      issues.push({ path, message: `"${formatCidr(r.cidr)}" is not inside private or shared address space (${PRIVATE_RANGES.map((p) => p.cidr).join(', ')}); only such ranges need allowing` });
      return;
    }
    const hit = protectedCidrs.find((p) => cidrsOverlap(p, r.cidr));
    if (hit) {
      issues.push({ path, message: `"${formatCidr(r.cidr)}" overlaps the protected network ${formatCidr(hit)}: a protected network can never be allowed` });
      return;
    }
    allowedPrivate.push(r.cidr);
  });
  const ids = new Set<string>();
  settings.approvedPrefixLists.forEach((list, i) => {
    const path = `approvedPrefixLists[${i}]`;
    if (!PREFIX_LIST_ID.test(list.id)) issues.push({ path: `${path}.id`, message: `id ${describeValue(list.id)} must look like pl-0123abcd` });
    if (ids.has(list.id)) issues.push({ path: `${path}.id`, message: `prefix list ${list.id} is listed twice` });
    ids.add(list.id);
    if (AWS_MANAGED_PREFIX_LIST_NAME.test(list.name)) {
      issues.push({
        path: `${path}.name`,
        message: `"${list.name}" is an AWS-managed service list: it reaches a whole AWS service in every account (e.g. anyone's S3 buckets or DynamoDB tables), so it cannot be approved for tenants`,
      });
    }
    if (!Number.isInteger(list.maxEntries) || list.maxEntries < 1) issues.push({ path: `${path}.maxEntries`, message: 'maxEntries must be a positive integer' });
    if (list.entries.length === 0) issues.push({ path: `${path}.entries`, message: 'entries must list the CIDRs the prefix list holds' });
    if (list.entries.length > list.maxEntries) {
      issues.push({ path: `${path}.entries`, message: `${list.entries.length} entries exceed the list's maxEntries ${list.maxEntries}` });
    }
    list.entries.forEach((entry, j) => checkCidr(entry, `${path}.entries[${j}]`, { protectedCidrs, allowedPrivate }, issues));
  });
  return issues;
}

/**
 * Every reason the allowlist cannot be applied, each naming its field; empty means valid.
 * Never throws, whatever the input (it is typed for callers, but checked as untrusted JSON).
 */
export function validateAllowlist(rules: EgressRule[], ctx: AllowlistContext): AllowlistIssue[] {
  const base = 'egressAllowlist';
  const issues: AllowlistIssue[] = [];
  const input: unknown = rules;
  if (!Array.isArray(input)) return [{ path: base, message: 'egressAllowlist must be a list of rules' }];

  const vpc = parseCidrList(isRecord(ctx) ? ctx.vpcCidrs : undefined, 'vpcCidrs', issues, true);
  const allowedPrivate = parseCidrList(isRecord(ctx) ? ctx.allowedPrivateCidrs : undefined, 'allowedPrivateCidrs', issues, false);
  const approvedInput: unknown = isRecord(ctx) ? ctx.approvedPrefixLists : undefined;
  const approved: readonly ApprovedPrefixList[] = Array.isArray(approvedInput) ? (approvedInput as ApprovedPrefixList[]) : [];
  const policy: CidrPolicy = { protectedCidrs: vpc, allowedPrivate };

  const seen = new Map<string, string>();
  input.forEach((rule: unknown, i) => {
    const path = `${base}[${i}]`;
    if (!isRecord(rule)) {
      issues.push({ path, message: `rule must be an object with "cidr" or "prefixListId", "ports" and an optional "protocol" and "description", not ${describeValue(rule)}` });
      return;
    }
    const hasCidr = rule.cidr !== undefined;
    const hasPl = rule.prefixListId !== undefined;
    let target: string | undefined;
    if (hasCidr && hasPl) {
      issues.push({ path, message: 'rule must have either "cidr" or "prefixListId", not both' });
    } else if (!hasCidr && !hasPl) {
      issues.push({ path, message: 'rule must have a "cidr" or a "prefixListId"' });
    } else if (hasCidr) {
      const cidr = checkCidr(rule.cidr, `${path}.cidr`, policy, issues);
      if (cidr) target = `${cidr.version === 4 ? 'ipv4' : 'ipv6'}:${formatCidr(cidr)}`;
    } else if (typeof rule.prefixListId !== 'string' || !PREFIX_LIST_ID.test(rule.prefixListId)) {
      issues.push({ path: `${path}.prefixListId`, message: `prefixListId ${describeValue(rule.prefixListId)} must look like pl-0123abcd` });
    } else if (!approved.some((l) => l.id === rule.prefixListId)) {
      const known = approved.map((l) => `${l.id} (${l.name})`).join(', ') || 'none';
      issues.push({
        path: `${path}.prefixListId`,
        message: `prefixListId "${rule.prefixListId}" is not one the operator approved for tenant allowlists (cdk.json approvedPrefixLists; approved: ${known}); AWS-managed service lists are never approved`,
      });
    } else {
      target = `pl:${rule.prefixListId}`;
    }

    let protocol: 'tcp' | 'udp' | undefined = 'tcp';
    if (rule.protocol !== undefined) {
      if (rule.protocol === 'tcp' || rule.protocol === 'udp') protocol = rule.protocol;
      else {
        issues.push({ path: `${path}.protocol`, message: `protocol ${describeValue(rule.protocol)} must be "tcp" or "udp"` });
        protocol = undefined;
      }
    }

    if (rule.description !== undefined) {
      const d = rule.description;
      if (typeof d !== 'string' || d.length > 255 || !EC2_DESCRIPTION.test(d)) {
        issues.push({ path: `${path}.description`, message: 'description must be text of at most 255 characters that EC2 accepts (letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*)' });
      }
    }

    if (!Array.isArray(rule.ports) || rule.ports.length === 0) {
      issues.push({ path: `${path}.ports`, message: 'ports must list at least one port or port range' });
      return;
    }
    rule.ports.forEach((spec: unknown, j) => {
      const portPath = `${path}.ports[${j}]`;
      const range = checkPortSpec(spec, portPath, issues);
      if (!range || !target || !protocol) return;
      const key = `${protocol}|${target}|${range.from}-${range.to}`;
      const first = seen.get(key);
      if (first !== undefined) {
        issues.push({ path: portPath, message: `duplicates ${first} (same protocol, ports and destination)` });
      } else {
        seen.set(key, portPath);
      }
    });
  });

  const count = countSecurityGroupRules(input, approved);
  const maxRules: unknown = isRecord(ctx) ? ctx.maxRules : undefined;
  if (!(typeof maxRules === 'number' && count <= maxRules)) {
    issues.push({
      path: base,
      message: `egressAllowlist expands to ${count} security-group rules (one per destination and port entry, a prefix list counting as its max entries); the plan allows at most ${describeValue(maxRules)}`,
    });
  }
  if (count + PLATFORM_EGRESS_RULE_COUNT > MAX_EGRESS_RULES_PER_GROUP) {
    issues.push({
      path: base,
      message: `egressAllowlist expands to ${count} security-group rules; with the ${PLATFORM_EGRESS_RULE_COUNT} platform rules that exceeds the ${MAX_EGRESS_RULES_PER_GROUP} outbound rules a security group can hold`,
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Expansion and differences
// ---------------------------------------------------------------------------------------------

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}

function canonicalTarget(text: string): string {
  const r = parseCidr(text);
  return r.ok ? formatCidr(r.cidr) : text.trim().toLowerCase();
}

/**
 * Identity of a rule for set operations: protocol, destination (canonicalised, so EC2's text
 * and ours compare equal) and port range; the description is not part of it (EC2 treats two
 * rules differing only in description as duplicates). Keys sort by protocol, destination, ports.
 */
export function ruleKey(rule: IpPermissionSpec): string {
  const target =
    rule.cidrIpv4 !== undefined
      ? `ipv4:${canonicalTarget(rule.cidrIpv4)}`
      : rule.cidrIpv6 !== undefined
        ? `ipv6:${canonicalTarget(rule.cidrIpv6)}`
        : `pl:${(rule.prefixListId ?? '').trim().toLowerCase()}`;
  return `${rule.protocol}|${target}|${pad5(rule.fromPort)}-${pad5(rule.toPort)}`;
}

function byKeyThenDescription(a: { key: string; rule: IpPermissionSpec }, b: { key: string; rule: IpPermissionSpec }): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  const da = a.rule.description;
  const db = b.rule.description;
  return da < db ? -1 : da > db ? 1 : 0;
}

/**
 * Expands validated rules into one `IpPermissionSpec` per (destination × port entry):
 * canonical CIDR text, deterministic order (by `ruleKey`), duplicates removed (the first in that
 * order is kept). Throws a ValidationError on a CIDR it cannot parse: validate first.
 */
export function toIpPermissions(rules: readonly EgressRule[]): IpPermissionSpec[] {
  const expanded: { key: string; rule: IpPermissionSpec }[] = [];
  rules.forEach((rule, i) => {
    const protocol = rule.protocol ?? 'tcp';
    const description = rule.description ?? '';
    let target: Pick<IpPermissionSpec, 'cidrIpv4' | 'cidrIpv6' | 'prefixListId'>;
    if ('cidr' in rule) {
      const parsed = parseCidr(rule.cidr);
      if (!parsed.ok) {
        const path = `egressAllowlist[${i}].cidr`;
        throw new ValidationError(`${path}: cidr ${parsed.reason}`, [{ path, message: `cidr ${parsed.reason}` }]);
      }
      const text = formatCidr(parsed.cidr);
      target = parsed.cidr.version === 4 ? { cidrIpv4: text } : { cidrIpv6: text };
    } else {
      target = { prefixListId: rule.prefixListId };
    }
    for (const port of rule.ports) {
      const [fromPort, toPort] = typeof port === 'number' ? [port, port] : [port.from, port.to];
      const spec: IpPermissionSpec = { protocol, fromPort, toPort, ...target, description };
      expanded.push({ key: ruleKey(spec), rule: spec });
    }
  });
  expanded.sort(byKeyThenDescription);
  const out: IpPermissionSpec[] = [];
  let last: string | undefined;
  for (const { key, rule } of expanded) {
    if (key !== last) out.push(rule);
    last = key;
  }
  return out;
}

/**
 * What to change so that a group holding `current` holds `desired` (compared by `ruleKey`).
 * Pass only allowlist rules: the platform's own rules (to security groups) must be filtered out
 * of `current` by the caller. Each list is sorted by `ruleKey`.
 */
export function diffRules(current: readonly IpPermissionSpec[], desired: readonly IpPermissionSpec[]): RuleDiff {
  const cur = new Map<string, IpPermissionSpec>();
  for (const r of current) cur.set(ruleKey(r), r);
  const des = new Map<string, IpPermissionSpec>();
  for (const r of desired) des.set(ruleKey(r), r);
  const sortedValues = (m: Map<string, IpPermissionSpec>, keep: (k: string, r: IpPermissionSpec) => boolean): IpPermissionSpec[] =>
    [...m.entries()]
      .filter(([k, r]) => keep(k, r))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r);
  return {
    add: sortedValues(des, (k) => !cur.has(k)),
    remove: sortedValues(cur, (k) => !des.has(k)),
    updateDescription: sortedValues(des, (k, r) => cur.has(k) && cur.get(k)?.description !== r.description),
  };
}
