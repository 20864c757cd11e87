import fc from 'fast-check';
import { answerLine, compilePolicy, decide, type PolicyQuery } from '../../functions/egress/policy-map';

const policy = compilePolicy({
  version: 'v1',
  tenants: {
    'tenant-alpha': [
      { host: 'api.telegram.org', ports: [443] },
      { host: '*.slack.com', ports: [443] },
      { host: 'plain.example.org', ports: [80] },
    ],
    'tenant-bravo': [{ host: 'discord.com', ports: [443, 8443] }],
  },
});
const q = (o: Partial<PolicyQuery>): PolicyQuery => ({ phase: 'connect', user: 'tenant-alpha', host: 'api.telegram.org', port: 443, sni: undefined, ...o });

describe('policy map decision (the Squid helper answers from it)', () => {
  it('CONNECT: the tenant, host and port together; another tenant, host or port is refused', () => {
    expect(decide(policy, q({}))).toEqual({ ok: true, reason: 'allowed' });
    expect(decide(policy, q({ host: 'API.Telegram.org' })).ok).toBe(true);
    expect(decide(policy, q({ port: 8443 }))).toEqual({ ok: false, reason: 'not_in_policy' });
    expect(decide(policy, q({ host: 'discord.com' }))).toEqual({ ok: false, reason: 'not_in_policy' });
    expect(decide(policy, q({ user: 'tenant-bravo', host: 'discord.com', port: 8443 })).ok).toBe(true);
    expect(decide(policy, q({ user: 'tenant-charlie' }))).toEqual({ ok: false, reason: 'unknown_tenant' });
    expect(decide(policy, q({ user: undefined }))).toEqual({ ok: false, reason: 'bad_request' });
    // CONNECT to port 80 is never a tunnel, even where the rule names 80.
    expect(decide(policy, q({ host: 'plain.example.org', port: 80 })).ok).toBe(false);
  });

  it('wildcards match one or more labels in front of the suffix, never the apex or a look-alike', () => {
    expect(decide(policy, q({ host: 'hooks.slack.com' })).ok).toBe(true);
    expect(decide(policy, q({ host: 'a.b.slack.com' })).ok).toBe(true);
    expect(decide(policy, q({ host: 'slack.com' })).ok).toBe(false);
    expect(decide(policy, q({ host: 'evilslack.com' })).ok).toBe(false);
    expect(decide(policy, q({ host: 'x.slack.com.evil.net' })).ok).toBe(false);
  });

  it('TLS step 2: the SNI must match the rule the CONNECT host matched; no SNI is refused', () => {
    expect(decide(policy, q({ phase: 'tls', sni: 'api.telegram.org' })).ok).toBe(true);
    expect(decide(policy, q({ phase: 'tls', sni: 'hooks.slack.com' }))).toEqual({ ok: false, reason: 'sni_mismatch' });
    expect(decide(policy, q({ phase: 'tls', sni: undefined }))).toEqual({ ok: false, reason: 'sni_missing' });
    expect(decide(policy, q({ phase: 'tls', host: 'hooks.slack.com', sni: 'files.slack.com' })).ok).toBe(true);
    expect(decide(policy, q({ phase: 'tls', host: 'hooks.slack.com', sni: 'api.telegram.org' })).reason).toBe('sni_mismatch');
  });

  it('plain HTTP only on port 80 to a host whose rule names 80', () => {
    expect(decide(policy, q({ phase: 'http', host: 'plain.example.org', port: 80 })).ok).toBe(true);
    expect(decide(policy, q({ phase: 'http', host: 'api.telegram.org', port: 80 })).ok).toBe(false);
    expect(decide(policy, q({ phase: 'http', host: 'plain.example.org', port: 443 })).ok).toBe(false);
  });

  it('fails closed: no map means every question is refused', () => {
    expect(decide(undefined, q({}))).toEqual({ ok: false, reason: 'policy_unavailable' });
    expect(() => compilePolicy({ version: 'v', tenants: { 'tenant-a': [{ host: 'api.telegram.org all', ports: [443] }] } })).toThrow();
    expect(() => compilePolicy({ version: 'v', tenants: { 'tenant-a': [{ host: 'a.example.com', ports: [0] }] } })).toThrow();
  });

  it("Squid's helper protocol: channel echoed, URL-escaped values decoded, anything malformed refused", () => {
    expect(answerLine(policy, '7 connect tenant-alpha api.telegram.org 443 - ')).toBe('7 OK log=allowed');
    expect(answerLine(policy, '3 tls tenant-alpha api.telegram.org 443 api.telegram.org')).toBe('3 OK log=allowed');
    expect(answerLine(policy, '3 tls tenant-alpha api.telegram.org 443 -')).toBe('3 ERR log=sni_missing');
    expect(answerLine(policy, '4 tls tenant-alpha api.telegram.org 443 api.telegram.org%20x')).toBe('4 ERR log=sni_mismatch');
    expect(answerLine(policy, '5 connect tenant-alpha api.telegram.org 443')).toBe('5 ERR log=bad_request');
    expect(answerLine(policy, '6 bogus tenant-alpha api.telegram.org 443 -')).toBe('6 ERR log=bad_request');
    expect(answerLine(policy, '8 connect tenant-alpha api.telegram.org %zz -')).toBe('8 ERR log=bad_request');
    expect(answerLine(undefined, '9 connect tenant-alpha api.telegram.org 443 -')).toBe('9 ERR log=policy_unavailable');
  });

  it('property: whatever the line, the answer is one line starting with its channel and OK only for an allowed question', () => {
    fc.assert(
      fc.property(fc.nat(99), fc.array(fc.string({ maxLength: 20 }), { maxLength: 8 }), (ch, words) => {
        const line = [String(ch), ...words].join(' ');
        const a = answerLine(policy, line);
        expect(a).toMatch(/^\d+ (OK|ERR) log=[a-z_]+$/);
        if (a.includes(' OK ')) expect(words[0]).toMatch(/^(connect|tls|http)$/);
      }),
    );
  });
});
