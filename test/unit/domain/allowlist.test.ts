import fc from 'fast-check';
import {
  cidrsOverlap,
  countSecurityGroupRules,
  diffRules,
  formatCidr,
  MAX_EGRESS_RULES_PER_GROUP,
  parseCidr,
  PLATFORM_EGRESS_RULE_COUNT,
  ruleKey,
  toIpPermissions,
  validateAllowlist,
  type AllowlistContext,
  type AllowlistIssue,
  type IpPermissionSpec,
} from '../../../functions/domain/allowlist';
import { ValidationError } from '../../../functions/domain/errors';
import type { EgressRule } from '../../../functions/domain/tenant';

const VPC4 = '10.0.0.0/16';
const VPC6 = '2600:1f18:abcd:1200::/56';
const APPROVED = { id: 'pl-0123abcd', name: 'partner-apis', maxEntries: 1, entries: ['198.51.100.0/24'] };
const CTX: AllowlistContext = { vpcCidrs: [VPC4, VPC6], maxRules: 50, approvedPrefixLists: [APPROVED] };

function cidrRule(cidr: string, ports: EgressRule['ports'] = [443], protocol: 'tcp' | 'udp' = 'tcp', description = ''): EgressRule {
  return { cidr, ports, protocol, description };
}

/** Validates untrusted input the way the intake does (the function is typed, the data is not). */
function validate(rules: unknown, ctx: unknown = CTX): AllowlistIssue[] {
  return validateAllowlist(rules as EgressRule[], ctx as AllowlistContext);
}

/** An expected issue whose message matches a pattern (or contains a text). */
function issue(path: string, message: RegExp | string): AllowlistIssue {
  return { path, message: (typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message)) as string };
}

function issuesFor(cidr: string): AllowlistIssue[] {
  return validate([cidrRule('203.0.113.0/24'), cidrRule(cidr)]);
}

function canonical(text: string): string {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(r.reason);
  return formatCidr(r.cidr);
}

describe('parseCidr / formatCidr', () => {
  it('accepts IPv4 CIDR notation', () => {
    expect(canonical('203.0.113.0/24')).toBe('203.0.113.0/24');
  });

  it('writes IPv6 in RFC 5952 form: lowercase, no leading zeros, longest zero run as "::"', () => {
    expect(canonical('2001:0DB8:0000:0000:0000:0000:0000:0000/32')).toBe('2001:db8::/32');
    expect(canonical('2001:db8:0:0:1:0:0:1/128')).toBe('2001:db8::1:0:0:1/128');
  });

  it('does not compress a single zero group', () => {
    expect(canonical('2001:db8:0:1:1:1:1:1/128')).toBe('2001:db8:0:1:1:1:1:1/128');
  });

  it('compresses the first of two equally long zero runs', () => {
    expect(canonical('2001:0:0:1:0:0:1:1/128')).toBe('2001::1:0:0:1:1/128');
  });

  it('parses "::" at the start and the end, and alone', () => {
    expect(canonical('::1/128')).toBe('::1/128');
    expect(canonical('2001:db8::/48')).toBe('2001:db8::/48');
    expect(canonical('::/0')).toBe('::/0');
  });

  it('parses a trailing dotted IPv4 part in IPv6', () => {
    const r = parseCidr('::ffff:1.2.3.4/128');
    expect(r.ok && r.cidr.network).toBe(0xffff01020304n);
  });

  it.each([
    ['10.1.2.256/24', /octet 256 is out of range 0-255/],
    ['10.1.2/24', /four dot-separated octets/],
    ['010.1.2.0/24', /leading zero/],
    ['10.1.2.0/33', /prefix \/33, out of range 0-32/],
    ['2001:db8::/129', /prefix \/129, out of range 0-128/],
    ['10.1.2.0/024', /not a number/],
    ['10.1.2.0/-1', /not a number/],
    ['10.1.2.0/24/8', /more than one "\/"/],
    ['1:2:3:4:5:6:7:8:9/128', /9 groups/],
    ['1:2:3:4:5:6:7/128', /7 groups/],
    ['1::2::3/64', /"::" may appear only once/],
    ['12345::/16', /not 1-4 hex digits/],
    ['fe80::1%eth0/64', /zone ids/],
    ['1.2.3.4::/64', /embedded IPv4 address may only end/],
    [':1:2:3:4:5:6:7/128', /empty group/],
    ['10.1.2.0/24 ', /whitespace/],
    ['example.com/24', /not valid IPv4 CIDR notation/],
    ['', /must not be empty/],
  ])('refuses %j with a reason', (text, reason) => {
    const r = parseCidr(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('refuses host bits and says which network was meant', () => {
    const r = parseCidr('10.1.2.3/24');
    expect(!r.ok && r.reason).toMatch(/host bits set \(did you mean 10\.1\.2\.0\/24\?\)/);
  });

  it('refuses IPv6 host bits and suggests the canonical network', () => {
    const r = parseCidr('2001:DB8::1/32');
    expect(!r.ok && r.reason).toMatch(/did you mean 2001:db8::\/32\?/);
  });

  it('refuses a bare address and suggests the single-address block', () => {
    const r = parseCidr('203.0.113.7');
    expect(!r.ok && r.reason).toMatch(/did you mean 203\.0\.113\.7\/32\?/);
  });

  it('refuses a value that is not a string', () => {
    expect(parseCidr(42).ok).toBe(false);
  });

  it('round-trips every canonical IPv6 block through its text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 }), (addr, prefix) => {
        const mask = prefix === 0 ? 0n : (((1n << 128n) - 1n) << BigInt(128 - prefix)) & ((1n << 128n) - 1n);
        const text = formatCidr({ version: 6, network: addr & mask, prefix });
        const back = parseCidr(text);
        expect(back.ok && back.cidr).toEqual({ version: 6, network: addr & mask, prefix });
        expect(back.ok && formatCidr(back.cidr)).toBe(text);
      }),
    );
  });

  it('reports overlap only within one IP version', () => {
    const a = parseCidr('10.0.0.0/8');
    const b = parseCidr('10.20.0.0/16');
    const c = parseCidr('::a00:0/104');
    if (!a.ok || !b.ok || !c.ok) throw new Error('fixture');
    expect(cidrsOverlap(a.cidr, b.cidr)).toBe(true);
    expect(cidrsOverlap(b.cidr, a.cidr)).toBe(true);
    expect(cidrsOverlap(a.cidr, c.cidr)).toBe(false);
  });
});

describe('validateAllowlist', () => {
  it('accepts public IPv4 and IPv6 blocks and a prefix list with valid ports', () => {
    expect(
      validate([
        cidrRule('203.0.113.0/24', [443, { from: 8000, to: 8100 }]),
        cidrRule('2a05:d018::/36', [443], 'udp'),
        { prefixListId: 'pl-0123abcd', ports: [443], protocol: 'tcp', description: 'partner' },
      ]),
    ).toEqual([]);
  });

  it('accepts an empty allowlist', () => {
    expect(validate([])).toEqual([]);
  });

  it('refuses a malformed CIDR with the field path and the reason', () => {
    const issues = validate([cidrRule('203.0.113.0/24'), cidrRule('203.0.113.0/24', [80]), cidrRule('10.1.2.256/24')]);
    expect(issues).toEqual([issue('egressAllowlist[2].cidr', /^cidr "10\.1\.2\.256\/24" .*octet 256 is out of range/)]);
  });

  it('refuses a CIDR with host bits set and says "did you mean 10.1.2.0/24?"', () => {
    expect(issuesFor('10.1.2.3/24')).toEqual([issue('egressAllowlist[1].cidr', 'did you mean 10.1.2.0/24?')]);
  });

  it('refuses a prefix out of range', () => {
    expect(issuesFor('203.0.113.0/40')[0]?.message).toMatch(/prefix \/40, out of range 0-32/);
  });

  it('refuses 0.0.0.0/0 as egress to the whole internet', () => {
    expect(issuesFor('0.0.0.0/0')).toEqual([issue('egressAllowlist[1].cidr', /whole IPv4 internet/)]);
  });

  it('refuses ::/0 as egress to the whole internet', () => {
    expect(issuesFor('::/0')).toEqual([issue('egressAllowlist[1].cidr', /whole IPv6 internet/)]);
  });

  it.each(['0.0.0.0/1', '128.0.0.0/1', '64.0.0.0/2', '2.0.0.0/7'])('refuses %s as broader than /8', (cidr) => {
    expect(issuesFor(cidr)).toEqual([issue('egressAllowlist[1].cidr', /broader than \/8/)]);
  });

  it.each(['2000::/3', '2a00::/15'])('refuses %s as broader than /16', (cidr) => {
    expect(issuesFor(cidr)).toEqual([issue('egressAllowlist[1].cidr', /broader than \/16/)]);
  });

  it('accepts a /8 (IPv4) and a /16 (IPv6), the widest blocks allowed', () => {
    expect(issuesFor('3.0.0.0/8')).toEqual([]);
    expect(issuesFor('2a05::/16')).toEqual([]);
  });

  it.each([
    ['10.0.5.0/24', 'inside the VPC'],
    ['10.0.0.0/8', 'containing the VPC'],
    ['10.0.255.255/32', 'the last VPC address'],
    ['2600:1f18:abcd:1234::/64', 'inside the VPC IPv6 block'],
    ['2600:1f18::/32', 'containing the VPC IPv6 block'],
  ])('refuses %s (%s) because it would reach other tenants', (cidr) => {
    expect(issuesFor(cidr)).toEqual([issue('egressAllowlist[1].cidr', /overlaps the protected network .*would reach other tenants/)]);
  });

  it('accepts the block right next to the VPC where the operator allowed that private range', () => {
    const allowed = { ...CTX, allowedPrivateCidrs: ['10.0.0.0/8'] };
    expect(validate([cidrRule('10.1.0.0/16')], allowed)).toEqual([]);
    // The allowance never opens the protected network inside it.
    expect(validate([cidrRule('10.0.1.0/24')], allowed)).toEqual([issue('egressAllowlist[0].cidr', /protected network 10\.0\.0\.0\/16/)]);
  });

  it.each([
    ['169.254.169.254/32', /instance metadata \(IMDS\)/],
    ['169.254.170.2/32', /ECS task metadata 169\.254\.170\.2/],
    ['169.254.0.0/16', /link-local/],
    ['fd00:ec2::254/128', /AWS IPv6 metadata range/],
    ['fe80::1/128', /IPv6 link-local/],
    ['fe80::/64', /IPv6 link-local/],
    ['127.0.0.1/32', /loopback/],
    ['::1/128', /reserved IPv6/],
    ['224.0.0.251/32', /multicast/],
    ['ff02::fb/128', /IPv6 multicast/],
    ['0.1.2.0/24', /this network/],
    ['255.255.255.255/32', /broadcast/],
    ['::ffff:203.0.113.0/120', /IPv4-mapped/],
    ['64:ff9b::cb00:7100/120', /NAT64/],
    ['64:ff9b:1::/64', /local-use NAT64/],
    ['::/96', /IPv4-compatible/],
  ])('refuses %s (%s) as a never-allowed range', (cidr, reason) => {
    const issues = issuesFor(cidr);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toEqual(issue('egressAllowlist[1].cidr', reason));
    expect(issues[0]?.message).toMatch(/never allowed/);
  });

  it('refuses an IPv4-mapped address that would point into the VPC', () => {
    expect(issuesFor('::ffff:10.0.0.5/128')[0]?.message).toMatch(/IPv4-mapped/);
  });

  it.each([
    [0, 'ports[0]', /out of range: ports are integers 1-65535/],
    [65536, 'ports[0]', /out of range/],
    [1.5, 'ports[0]', /out of range/],
    ['443', 'ports[0]', /must be a port number or \{from, to\}/],
    [{ from: 0, to: 10 }, 'ports[0].from', /"from" 0 is out of range/],
    [{ from: 10, to: 70000 }, 'ports[0].to', /"to" 70000 is out of range/],
    [{ from: 500, to: 400 }, 'ports[0]', /"from" must not exceed "to"/],
  ])('refuses port %j', (port, path, message) => {
    expect(validate([{ cidr: '203.0.113.0/24', ports: [port] }])).toEqual([issue(`egressAllowlist[0].${path}`, message)]);
  });

  it('accepts the extreme ports 1 and 65535 and a one-port range', () => {
    expect(validate([cidrRule('203.0.113.0/24', [1, 65535, { from: 8080, to: 8080 }])])).toEqual([]);
  });

  it('refuses a rule without ports', () => {
    expect(validate([{ cidr: '203.0.113.0/24', ports: [] }])).toEqual([issue('egressAllowlist[0].ports', /at least one port/)]);
  });

  it('refuses a protocol other than tcp or udp', () => {
    expect(validate([{ cidr: '203.0.113.0/24', ports: [443], protocol: 'icmp' }])).toEqual([issue('egressAllowlist[0].protocol', /"tcp" or "udp"/)]);
  });

  it('refuses a rule with both a cidr and a prefix list', () => {
    expect(validate([{ cidr: '203.0.113.0/24', prefixListId: 'pl-0123abcd', ports: [443] }])[0]).toEqual(issue('egressAllowlist[0]', /not both/));
  });

  it('refuses a rule with neither a cidr nor a prefix list', () => {
    expect(validate([{ ports: [443] }])[0]).toEqual(issue('egressAllowlist[0]', /"cidr" or a "prefixListId"/));
  });

  it('refuses a malformed prefix list id', () => {
    expect(validate([{ prefixListId: 'pl-XYZ', ports: [443] }])).toEqual([issue('egressAllowlist[0].prefixListId', /pl-0123abcd/)]);
  });

  it('refuses a description EC2 would reject', () => {
    expect(validate([{ cidr: '203.0.113.0/24', ports: [443], description: 'naïve <script>' }])).toEqual([issue('egressAllowlist[0].description', /EC2 accepts/)]);
  });

  it('refuses a duplicate rule and names the first one', () => {
    expect(validate([cidrRule('203.0.113.0/24'), cidrRule('203.0.113.0/24')])).toEqual([
      { path: 'egressAllowlist[1].ports[0]', message: 'duplicates egressAllowlist[0].ports[0] (same protocol, ports and destination)' },
    ]);
  });

  it('refuses duplicates written differently (IPv6 case and zeros)', () => {
    expect(validate([cidrRule('2a05:d018::/36'), cidrRule('2A05:D018:0:0::/36')])).toEqual([issue('egressAllowlist[1].ports[0]', /duplicates egressAllowlist\[0\]/)]);
  });

  it('refuses the same port twice in one rule', () => {
    expect(validate([cidrRule('203.0.113.0/24', [443, 443])])).toEqual([issue('egressAllowlist[0].ports[1]', /duplicates egressAllowlist\[0\]\.ports\[0\]/)]);
  });

  it('treats the default protocol as tcp when finding duplicates', () => {
    expect(validate([{ cidr: '203.0.113.0/24', ports: [443] }, cidrRule('203.0.113.0/24', [443], 'tcp')])).toHaveLength(1);
  });

  it('does not call tcp and udp on the same port duplicates', () => {
    expect(validate([cidrRule('203.0.113.0/24', [53], 'tcp'), cidrRule('203.0.113.0/24', [53], 'udp')])).toEqual([]);
  });

  it("refuses more rules than the plan allows (each destination × port entry is one rule)", () => {
    const rules = [cidrRule('203.0.113.0/24', [80, 443, 8443]), cidrRule('198.51.100.0/24', [80, 443, 8443])];
    expect(validate(rules, { ...CTX, maxRules: 5 })).toEqual([issue('egressAllowlist', /expands to 6 security-group rules .*at most 5/)]);
    expect(validate(rules, { ...CTX, maxRules: 6 })).toEqual([]);
  });

  it('counts an approved prefix list as its max entries per port entry, as EC2 does', () => {
    expect(countSecurityGroupRules([{ prefixListId: 'pl-0123abcd', ports: [80, 443] }], [APPROVED])).toBe(2);
    expect(validate([{ prefixListId: 'pl-0123abcd', ports: [80, 443] }], { ...CTX, maxRules: 1 })[0]?.message).toMatch(/expands to 2/);
    const wide = { ...APPROVED, maxEntries: 5 };
    expect(countSecurityGroupRules([{ prefixListId: 'pl-0123abcd', ports: [80, 443] }], [wide])).toBe(10);
    const ctx = { ...CTX, approvedPrefixLists: [wide], maxRules: 9 };
    expect(validate([{ prefixListId: 'pl-0123abcd', ports: [80, 443] }], ctx)).toEqual([issue('egressAllowlist', /expands to 10 .*at most 9/)]);
  });

  it(`refuses an allowlist that does not fit in a security group next to the ${PLATFORM_EGRESS_RULE_COUNT} platform rules`, () => {
    const fits = MAX_EGRESS_RULES_PER_GROUP - PLATFORM_EGRESS_RULE_COUNT;
    const ports = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i);
    const big = { vpcCidrs: CTX.vpcCidrs, maxRules: 1000 };
    expect(validate([cidrRule('203.0.113.0/24', ports(fits))], big)).toEqual([]);
    expect(validate([cidrRule('203.0.113.0/24', ports(fits + 1))], big)).toEqual([
      issue('egressAllowlist', /with the 4 platform rules that exceeds the 60 outbound rules/),
    ]);
  });

  it('fails closed when the VPC CIDRs are missing', () => {
    expect(validate([cidrRule('203.0.113.0/24')], { vpcCidrs: [], maxRules: 10 })).toEqual([issue('vpcCidrs', /cannot be checked/)]);
  });

  it('fails closed when a VPC CIDR is invalid', () => {
    expect(validate([], { vpcCidrs: ['10.0.0.1/16'], maxRules: 10 })).toEqual([issue('vpcCidrs[0]', /invalid/)]);
  });

  it('fails closed when the plan limit is not a number', () => {
    expect(validate([], { vpcCidrs: [VPC4] })).toEqual([issue('egressAllowlist', /at most undefined/)]);
  });

  it('refuses input that is not a list', () => {
    expect(validate({ cidr: '203.0.113.0/24' })).toEqual([{ path: 'egressAllowlist', message: 'egressAllowlist must be a list of rules' }]);
  });

  it('refuses an entry that is not an object', () => {
    expect(validate(['203.0.113.0/24'])[0]).toEqual(issue('egressAllowlist[0]', /must be an object/));
  });

  it('reports every problem of every rule, not only the first', () => {
    const issues = validate([cidrRule('0.0.0.0/0'), { cidr: '10.0.1.0/24', ports: [0] }]);
    expect(issues.map((i) => i.path)).toEqual(['egressAllowlist[0].cidr', 'egressAllowlist[1].cidr', 'egressAllowlist[1].ports[0]']);
  });
});

describe('validateAllowlist properties', () => {
  const vpcNetwork = 0x0a000000; // 10.0.0.0/16
  const ipv4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');

  it('refuses every CIDR inside the VPC range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 16, max: 32 }), (offset, prefix) => {
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const cidr = `${ipv4(((vpcNetwork + offset) & mask) >>> 0)}/${prefix}`;
        const issues = validate([cidrRule(cidr)]);
        expect(issues).toContainEqual(issue('egressAllowlist[0].cidr', /overlaps the protected network 10\.0\.0\.0\/16/));
      }),
    );
  });

  it('refuses every block that contains the VPC range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 16 }), (prefix) => {
        const mask = (0xffffffff << (32 - prefix)) >>> 0;
        const issues = validate([cidrRule(`${ipv4((vpcNetwork & mask) >>> 0)}/${prefix}`)]);
        expect(issues.some((i) => /overlaps the protected network/.test(i.message))).toBe(true);
      }),
    );
  });

  const publicSlash24 = fc
    .tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
    // Not reserved, not private or shared space (RFC 1918, 100.64.0.0/10, 198.18.0.0/15).
    .filter(
      ([a, b]) =>
        a !== 10 && a !== 127 && !(a === 169 && b === 254) && !(a === 172 && b >= 16 && b < 32) && !(a === 192 && b === 168) &&
        !(a === 100 && b >= 64 && b < 128) && !(a === 198 && (b === 18 || b === 19)),
    )
    .map(([a, b, c]) => `${a}.${b}.${c}.0/24`);
  const port = fc.integer({ min: 1, max: 65535 });
  const portSpec = fc.oneof(port, fc.tuple(port, port).map(([x, y]) => ({ from: Math.min(x, y), to: Math.max(x, y) })));

  it('accepts any public /24 outside the reserved ranges with valid ports', () => {
    fc.assert(
      fc.property(publicSlash24, portSpec, fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'), (cidr, spec, protocol) => {
        expect(validate([cidrRule(cidr, [spec], protocol)])).toEqual([]);
      }),
    );
  });

  const cidrish = fc.oneof(
    fc.string(),
    publicSlash24,
    fc.constantFrom('0.0.0.0/0', '::/0', '10.0.0.0/16', '169.254.169.254/32', 'fe80::/10', '::ffff:1.2.3.4/128', '1::2::3/64', '10.1.2.3/24'),
    fc.jsonValue(),
  );
  const ruleish = fc.record(
    {
      cidr: cidrish,
      prefixListId: fc.oneof(fc.string(), fc.constant('pl-0123abcd'), fc.jsonValue()),
      ports: fc.oneof(fc.array(fc.oneof(portSpec, fc.jsonValue(), fc.record({ from: fc.jsonValue(), to: fc.jsonValue() }))), fc.jsonValue()),
      protocol: fc.oneof(fc.constantFrom('tcp', 'udp', 'icmp'), fc.jsonValue()),
      description: fc.oneof(fc.string(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );

  it('never throws for arbitrary JSON-ish input and always returns well-formed issues', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.array(fc.oneof(ruleish, fc.jsonValue()), { maxLength: 8 }), fc.jsonValue()),
        fc.oneof(fc.constant<unknown>(CTX), fc.record({ vpcCidrs: fc.oneof(fc.array(cidrish), fc.jsonValue()), maxRules: fc.jsonValue() }), fc.jsonValue()),
        (rules, ctx) => {
          const issues = validate(rules, ctx);
          expect(Array.isArray(issues)).toBe(true);
          for (const issue of issues) {
            expect(typeof issue.path).toBe('string');
            expect(issue.message.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('expands every allowlist it accepts without throwing, within the rule budget', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(publicSlash24, fc.array(portSpec, { minLength: 1, maxLength: 4 })), { maxLength: 6 }), (entries) => {
        const rules = entries.map(([cidr, ports]) => cidrRule(cidr, ports));
        fc.pre(validate(rules).length === 0);
        const perms = toIpPermissions(rules);
        expect(perms.length).toBe(countSecurityGroupRules(rules));
        expect(perms.length + PLATFORM_EGRESS_RULE_COUNT).toBeLessThanOrEqual(MAX_EGRESS_RULES_PER_GROUP);
      }),
    );
  });
});

describe('toIpPermissions', () => {
  it('expands each destination × port entry into one rule, tcp by default', () => {
    expect(toIpPermissions([{ cidr: '203.0.113.0/24', ports: [443, { from: 8000, to: 8100 }], protocol: 'tcp', description: 'api' }])).toEqual([
      { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '203.0.113.0/24', description: 'api' },
      { protocol: 'tcp', fromPort: 8000, toPort: 8100, cidrIpv4: '203.0.113.0/24', description: 'api' },
    ]);
  });

  it('puts IPv6 blocks in cidrIpv6, lowercased and canonical', () => {
    expect(toIpPermissions([cidrRule('2A05:D018:0000::/36', [443], 'udp')])).toEqual([{ protocol: 'udp', fromPort: 443, toPort: 443, cidrIpv6: '2a05:d018::/36', description: '' }]);
  });

  it('puts prefix lists in prefixListId', () => {
    expect(toIpPermissions([{ prefixListId: 'pl-0123abcd', ports: [443], protocol: 'tcp', description: '' }])).toEqual([
      { protocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: 'pl-0123abcd', description: '' },
    ]);
  });

  it('removes duplicates and keeps one', () => {
    expect(toIpPermissions([cidrRule('203.0.113.0/24', [443], 'tcp', 'b'), cidrRule('203.0.113.0/24', [443], 'tcp', 'a')])).toEqual([
      { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '203.0.113.0/24', description: 'a' },
    ]);
  });

  it('returns the same list whatever the order of the rules and ports', () => {
    const rules = [cidrRule('203.0.113.0/24', [443, 80]), cidrRule('2a05:d018::/36', [443]), { prefixListId: 'pl-0123abcd', ports: [8443], protocol: 'udp' as const, description: '' }, cidrRule('198.51.100.0/24', [22])];
    fc.assert(
      fc.property(fc.shuffledSubarray(rules, { minLength: rules.length }), (shuffled) => {
        const withShuffledPorts = shuffled.map((r) => ({ ...r, ports: [...r.ports].reverse() }));
        expect(toIpPermissions(withShuffledPorts)).toEqual(toIpPermissions(rules));
      }),
    );
  });

  it('orders rules by their key', () => {
    const keys = toIpPermissions([cidrRule('203.0.113.0/24', [443, 80]), cidrRule('198.51.100.0/24', [22], 'udp')]).map(ruleKey);
    expect(keys).toEqual([...keys].sort());
  });

  it('throws a ValidationError naming the field for a CIDR it cannot parse', () => {
    expect(() => toIpPermissions([cidrRule('203.0.113.0/24'), cidrRule('10.1.2.3/24')])).toThrow(ValidationError);
    expect(() => toIpPermissions([cidrRule('10.1.2.3/24')])).toThrow(/egressAllowlist\[0\]\.cidr: .*did you mean 10\.1\.2\.0\/24/);
  });
});

describe('ruleKey', () => {
  const base: IpPermissionSpec = { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv6: '2a05:d018::/36', description: 'x' };

  it('is equal for the same destination written differently', () => {
    expect(ruleKey({ ...base, cidrIpv6: '2A05:D018:0:0:0:0:0:0/36' })).toBe(ruleKey(base));
  });

  it('ignores the description', () => {
    expect(ruleKey({ ...base, description: 'other' })).toBe(ruleKey(base));
  });

  it('differs by protocol, ports and destination', () => {
    const keys = new Set([
      ruleKey(base),
      ruleKey({ ...base, protocol: 'udp' }),
      ruleKey({ ...base, toPort: 444 }),
      ruleKey({ ...base, fromPort: 442 }),
      ruleKey({ ...base, cidrIpv6: '2a05:d019::/36' }),
      ruleKey({ protocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: 'pl-0123abcd', description: 'x' }),
    ]);
    expect(keys.size).toBe(6);
  });
});

describe('diffRules', () => {
  const r = (cidr: string, port: number, description = ''): IpPermissionSpec => ({ protocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: cidr, description });

  it('adds what is missing, removes what is no longer wanted and keeps what is unchanged', () => {
    const diff = diffRules([r('203.0.113.0/24', 443), r('198.51.100.0/24', 22)], [r('203.0.113.0/24', 443), r('192.0.2.0/24', 443)]);
    expect(diff).toEqual({ add: [r('192.0.2.0/24', 443)], remove: [r('198.51.100.0/24', 22)], updateDescription: [] });
  });

  it('updates only the description when nothing else changed', () => {
    expect(diffRules([r('203.0.113.0/24', 443, 'old')], [r('203.0.113.0/24', 443, 'new')])).toEqual({ add: [], remove: [], updateDescription: [r('203.0.113.0/24', 443, 'new')] });
  });

  it('changes nothing when the rules are equal up to CIDR spelling', () => {
    const v6 = (cidr: string): IpPermissionSpec => ({ protocol: 'udp', fromPort: 53, toPort: 53, cidrIpv6: cidr, description: '' });
    expect(diffRules([v6('2A05:D018:0::/36')], [v6('2a05:d018::/36')])).toEqual({ add: [], remove: [], updateDescription: [] });
  });

  const spec = fc
    .record({
      protocol: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
      port: fc.integer({ min: 1, max: 6 }),
      target: fc.constantFrom('203.0.113.0/24', '198.51.100.0/24', '2a05:d018::/36', 'pl-0123abcd'),
      description: fc.constantFrom('', 'a', 'b'),
    })
    .map(({ protocol, port, target, description }): IpPermissionSpec => {
      const t = target.startsWith('pl-') ? { prefixListId: target } : target.includes(':') ? { cidrIpv6: target } : { cidrIpv4: target };
      return { protocol, fromPort: port, toPort: port, ...t, description };
    });
  const ruleSet = fc.uniqueArray(spec, { selector: ruleKey, maxLength: 12 });

  it('applied to a, gives b', () => {
    fc.assert(
      fc.property(ruleSet, ruleSet, (a, b) => {
        const { add, remove, updateDescription } = diffRules(a, b);
        const state = new Map(a.map((x) => [ruleKey(x), x]));
        for (const x of remove) state.delete(ruleKey(x));
        for (const x of add) {
          expect(state.has(ruleKey(x))).toBe(false); // never authorize a rule that is already there
          state.set(ruleKey(x), x);
        }
        for (const x of updateDescription) state.set(ruleKey(x), x);
        const sorted = (m: Iterable<[string, IpPermissionSpec]>) => [...m].sort(([k1], [k2]) => (k1 < k2 ? -1 : 1)).map(([, v]) => v);
        expect(sorted(state)).toEqual(sorted(b.map((x) => [ruleKey(x), x])));
      }),
    );
  });

  it('is empty for a set against itself', () => {
    fc.assert(
      fc.property(ruleSet, (a) => {
        expect(diffRules(a, a)).toEqual({ add: [], remove: [], updateDescription: [] });
      }),
    );
  });
});
