/** The tenant's host policy: what the proxy enforces (effectiveHostRules) and how signups and updates are checked against the plan. */
import type { HostRule } from '../../../functions/domain/egress-policy';
import { cellPrivateZones, effectiveHostRuleIssues, effectiveHostRules, hostPolicyContext, hostRulesAsEntries, mergeHostRules, storedRulesIssues } from '../../../functions/domain/tenant-egress';
import { NO_HOST_EGRESS } from '../../../functions/domain/tenant';

const TELEGRAM: HostRule = { host: 'api.telegram.org', ports: [443], origin: ['preset:telegram'] };

describe('effectiveHostRules', () => {
  it('returns the tenant host allowlist, sorted and merged by host', () => {
    const rules = effectiveHostRules({ hostAllowlist: [TELEGRAM, { host: 'api.example.net', ports: [443], origin: ['tenant'] }] });
    expect(rules.map((r) => r.host)).toEqual(['api.example.net', 'api.telegram.org']);
  });

  it('returns nothing for a tenant without a host allowlist', () => {
    expect(effectiveHostRules({ hostAllowlist: [] })).toEqual([]);
  });
});

describe('mergeHostRules', () => {
  it('unites ports and origins of the same host', () => {
    expect(mergeHostRules([[TELEGRAM], [{ host: 'api.telegram.org', ports: [80, 443], origin: ['channel:telegram'] }]])).toEqual([
      { host: 'api.telegram.org', ports: [80, 443], origin: ['channel:telegram', 'preset:telegram'] },
    ]);
  });
});

describe('storedRulesIssues', () => {
  const zones = cellPrivateZones('cell-1');
  it('accepts stored preset rules under a plan that allows the preset', () => {
    const ctx = hostPolicyContext({ egress: { maxHostRules: 5, allow: { hosts: [], presets: ['telegram'] }, awsEndpointExceptions: [] } }, zones);
    expect(storedRulesIssues([TELEGRAM], ctx)).toEqual([]);
  });

  it('refuses stored rules under a plan without egress bounds (nothing allowed)', () => {
    const issues = storedRulesIssues([TELEGRAM], hostPolicyContext({}, zones));
    expect(issues.map((i) => i.message).join(' ')).toMatch(/preset "telegram" is not allowed by the plan/);
    expect(hostPolicyContext({}, zones).plan).toEqual(NO_HOST_EGRESS);
  });

  it('turns stored rules back into entries: presets by name, own hosts with their ports', () => {
    expect(hostRulesAsEntries([TELEGRAM, { host: 'x.example.net', ports: [443], origin: ['tenant'] }])).toEqual([
      { preset: 'telegram' },
      { host: 'x.example.net', ports: [443] },
    ]);
  });
});

describe('effectiveHostRuleIssues (channel and provider hosts count against maxHostRules)', () => {
  const plan = (maxHostRules: number) => ({ egress: { maxHostRules, allow: { hosts: [], presets: ['telegram', 'slack', 'discord'] }, awsEndpointExceptions: [] } });
  const base = { hostAllowlist: [TELEGRAM] };

  it('refuses a channel whose hosts take the effective count over the bound, naming the new hosts', () => {
    const issues = effectiveHostRuleIssues(base, { ...base, channels: [{ type: 'slack' }] }, plan(2), false);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/would need 3 host rules .* at most 2; new: \*\.slack\.com \(channel:slack\), slack\.com \(channel:slack\)/);
  });

  it('counts a host named by the tenant and a channel once', () => {
    expect(effectiveHostRuleIssues(base, { ...base, channels: [{ type: 'telegram' }] }, plan(1), false)).toEqual([]);
  });

  it('refuses a provider key whose endpoint goes over the bound', () => {
    const next = { ...base, modelKeys: [{ provider: 'openai', endpoint: { host: 'api.openai.com', port: 443 } }] };
    expect(effectiveHostRuleIssues(base, next, plan(1), false)[0]?.message).toMatch(/api\.openai\.com \(model:openai\)/);
  });

  it('does not refuse a change that does not grow a count already over the bound, unless the plan changes', () => {
    const over = { ...base, channels: [{ type: 'slack' }] };
    expect(effectiveHostRuleIssues(over, over, plan(1), false)).toEqual([]);
    expect(effectiveHostRuleIssues(over, over, plan(1), true)).toHaveLength(1);
  });

  it('allows nothing on a plan without egress bounds', () => {
    expect(effectiveHostRuleIssues({ hostAllowlist: [] }, { hostAllowlist: [], channels: [{ type: 'telegram' }] }, {}, false)).toHaveLength(1);
  });
});
