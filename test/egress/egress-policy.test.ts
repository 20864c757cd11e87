import fc from 'fast-check';
import {
  canonicalHost,
  diffHostRules,
  EgressPlanBoundsSchema,
  hostMatches,
  hostPatternCovers,
  parseHostPolicy,
  PRESETS,
  validateHostPolicy,
  type EgressPlanBounds,
  type HostPolicyContext,
} from '../../functions/domain/egress-policy';
import { ValidationError } from '../../functions/domain/errors';

const ANY: EgressPlanBounds = EgressPlanBoundsSchema.parse({ maxHostRules: 20, allow: { anyPublicHost: true, ports: [443, 80] } });
const CTX: HostPolicyContext = { plan: ANY, privateZones: ['cell-1.octw.example.com'] };

function issuesOf(input: unknown, ctx: HostPolicyContext = CTX): string[] {
  const r = validateHostPolicy(input, ctx);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('host entries: canonical form', () => {
  it('lowercases and converts IDN to punycode', () => {
    expect(parseHostPolicy([{ host: 'API.Telegram.ORG', ports: [443] }], CTX)).toEqual([{ host: 'api.telegram.org', ports: [443], origin: ['tenant'] }]);
    expect(parseHostPolicy([{ host: 'bücher.example.de', ports: [443] }], CTX)[0]?.host).toBe('xn--bcher-kva.example.de');
    expect(parseHostPolicy([{ host: '*.Slack.com', ports: [443] }], CTX)[0]?.host).toBe('*.slack.com');
  });

  it.each([
    ['a*.slack.com', 'not the whole leftmost label'],
    ['api.*.slack.com', 'not the whole leftmost label'],
    ['*', 'not the whole leftmost label'],
    ['*.com', 'wildcard over a top-level domain'],
    ['telegram', 'single-label'],
    ['instance-data', 'single-label'],
    ['metadata.google.internal', '.internal'],
    ['instance-data.ec2.internal', '.internal'],
    ['printer.local', '.local'],
    ['foo.localhost', '.localhost'],
    ['router.home.arpa', '.home.arpa'],
    ['db.cell-1.octw.example.com', 'private zone'],
    ['*.octw.example.com', 'private zone'],
    ['1.2.3.4', 'IP literal'],
    ['169.254.169.254', 'IP literal'],
    ['0x7f.1', 'IP literal'],
    ['2130706433', 'IP literal'],
    ['[::1]', 'IP literal'],
    ['fd00:ec2::254', 'IP literal'],
    ['api.telegram.org.', 'ends with "."'],
    ['https://api.telegram.org', 'bare name'],
    ['api.telegram.org:443', 'has a port'],
    ['-bad.example.com', 'labels are'],
    ['s3.amazonaws.com', 'AWS service endpoint'],
    ['mybucket.s3.eu-west-1.amazonaws.com', 'AWS service endpoint'],
    ['*.amazonaws.com', 'AWS service endpoint'],
    ['abc.lambda-url.eu-west-1.on.aws', 'AWS service endpoint'],
    ['', 'must not be empty'],
  ])('refuses %s (%s)', (host, reason) => {
    const issues = issuesOf([{ host, ports: [443] }]);
    expect(issues.join('\n')).toContain(reason);
  });

  it('refuses a wildcard that covers an AWS domain from above only at two labels: *.com is refused as a TLD wildcard', () => {
    expect(issuesOf([{ host: '*.com', ports: [443] }]).join()).toContain('top-level');
  });

  it('lets a plan allow one exact AWS endpoint, never a wildcard', () => {
    const plan = EgressPlanBoundsSchema.parse({ ...ANY, awsEndpointExceptions: ['bedrock-runtime.us-west-2.amazonaws.com', '*.amazonaws.com'] });
    expect(issuesOf([{ host: 'bedrock-runtime.us-west-2.amazonaws.com', ports: [443] }], { ...CTX, plan })).toEqual([]);
    expect(issuesOf([{ host: '*.amazonaws.com', ports: [443] }], { ...CTX, plan }).join()).toContain('AWS service endpoint');
    expect(issuesOf([{ host: 'sqs.us-west-2.amazonaws.com', ports: [443] }], { ...CTX, plan }).join()).toContain('AWS service endpoint');
  });

  it('checks ports and entry shape', () => {
    expect(issuesOf([{ host: 'a.example.com', ports: [] }]).join()).toContain('non-empty');
    expect(issuesOf([{ host: 'a.example.com', ports: [0] }]).join()).toContain('1-65535');
    expect(issuesOf([{ host: 'a.example.com', ports: [443.5] }]).join()).toContain('1-65535');
    expect(issuesOf([{ host: 'a.example.com', ports: [443], extra: 1 }]).join()).toContain('expected {host, ports} or {preset}');
    expect(issuesOf('nope').join()).toContain('must be an array');
  });

  it('property: canonical form is idempotent and always passes canonicalHost again', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 2, maxLength: 4 }), fc.boolean(), (labels, wild) => {
        const input = `${wild ? '*.' : ''}${labels.join('.')}`;
        const a = canonicalHost(input.toUpperCase());
        if (!a.ok) return;
        const b = canonicalHost(a.host);
        expect(b).toEqual(a);
      }),
    );
  });

  it('property: no accepted host is an IPv4 address in dotted, decimal or hex form', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (ip, n) => {
        for (const text of [ip, String(n), `0x${n.toString(16)}`]) expect(issuesOf([{ host: text, ports: [443] }]).join()).toContain('IP literal');
      }),
    );
  });
});

describe('wildcards', () => {
  it('match one or more labels in front of the suffix, never the suffix itself', () => {
    expect(hostMatches('*.slack.com', 'wss-primary.slack.com')).toBe(true);
    expect(hostMatches('*.slack.com', 'a.b.slack.com')).toBe(true);
    expect(hostMatches('*.slack.com', 'slack.com')).toBe(false);
    expect(hostMatches('*.slack.com', 'evilslack.com')).toBe(false);
    expect(hostPatternCovers('*.slack.com', '*.files.slack.com')).toBe(true);
    expect(hostPatternCovers('*.slack.com', '*.slack.com')).toBe(true);
    expect(hostPatternCovers('*.files.slack.com', '*.slack.com')).toBe(false);
    expect(hostPatternCovers('api.telegram.org', 'api.telegram.org')).toBe(true);
    expect(hostPatternCovers('api.telegram.org', '*.telegram.org')).toBe(false);
  });
});

describe('plan bounds', () => {
  const bounded: HostPolicyContext = {
    privateZones: [],
    plan: EgressPlanBoundsSchema.parse({ maxHostRules: 3, allow: { hosts: [{ host: '*.example.com', ports: [443] }], presets: ['telegram'] } }),
  };

  it('accepts entries inside the plan patterns and allowed presets', () => {
    expect(parseHostPolicy([{ host: 'api.example.com', ports: [443] }, { preset: 'telegram' }], bounded)).toEqual([
      { host: 'api.example.com', ports: [443], origin: ['tenant'] },
      { host: 'api.telegram.org', ports: [443], origin: ['preset:telegram'] },
    ]);
  });

  it('refuses a host outside the plan patterns, a port outside them, and a preset the plan does not list', () => {
    expect(issuesOf([{ host: 'api.other.com', ports: [443] }], bounded).join()).toContain('outside the plan');
    expect(issuesOf([{ host: 'example.com', ports: [443] }], bounded).join()).toContain('outside the plan');
    expect(issuesOf([{ host: 'api.example.com', ports: [80] }], bounded).join()).toContain('outside the plan');
    expect(issuesOf([{ preset: 'slack' }], bounded).join()).toContain('not allowed by the plan');
    expect(issuesOf([{ preset: 'nope' }], bounded).join()).toContain('unknown preset');
  });

  it('refuses more rules than the plan maximum, counted after expansion', () => {
    const input = [{ preset: 'telegram' }, { host: 'a.example.com', ports: [443] }, { host: 'b.example.com', ports: [443] }, { host: 'c.example.com', ports: [443] }];
    expect(issuesOf(input, bounded).join()).toContain('expands to 4 host rules; the plan allows at most 3');
  });

  it('any-public-host plans bound the ports', () => {
    const only443 = { ...CTX, plan: EgressPlanBoundsSchema.parse({ maxHostRules: 5, allow: { anyPublicHost: true, ports: [443] } }) };
    expect(issuesOf([{ host: 'example.org', ports: [80] }], only443).join()).toContain('outside the plan');
  });

  it('throws a ValidationError naming every issue', () => {
    expect(() => parseHostPolicy([{ host: 'x.local', ports: [443] }, { preset: 'nope' }], CTX)).toThrow(ValidationError);
  });
});

describe('presets', () => {
  it('cover the channels and model providers OpenClaw supports, each entry with its source, each valid', () => {
    for (const name of ['telegram', 'slack', 'discord', 'whatsapp', 'msteams', 'matrix', 'anthropic', 'openai']) expect(PRESETS[name]).toBeDefined();
    for (const [name, p] of Object.entries(PRESETS)) {
      for (const e of p.entries) expect(e.source.length).toBeGreaterThan(10);
      expect(issuesOf([{ preset: name }], { ...CTX, plan: { ...ANY, maxHostRules: 50 } })).toEqual([]);
    }
  });

  it('are stored expanded and merged with the tenant entries for the same host', () => {
    const rules = parseHostPolicy([{ preset: 'slack' }, { host: 'slack.com', ports: [80] }], CTX);
    expect(rules).toEqual([
      { host: '*.slack.com', ports: [443], origin: ['preset:slack'] },
      { host: 'slack.com', ports: [80, 443], origin: ['preset:slack', 'tenant'] },
    ]);
  });
});

describe('diff', () => {
  it('lists added and removed host:port pairs', () => {
    const a = parseHostPolicy([{ host: 'a.example.com', ports: [443, 80] }, { preset: 'telegram' }], CTX);
    const b = parseHostPolicy([{ host: 'a.example.com', ports: [443] }, { host: 'b.example.com', ports: [443] }], CTX);
    expect(diffHostRules(a, b)).toEqual({
      add: [{ host: 'b.example.com', port: 443 }],
      remove: [
        { host: 'a.example.com', port: 80 },
        { host: 'api.telegram.org', port: 443 },
      ],
    });
    expect(diffHostRules(b, b)).toEqual({ add: [], remove: [] });
  });
});
