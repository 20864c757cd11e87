/** The tenant's host policy: what the proxy enforces (effectiveHostRules) and how signups and updates are checked against the plan. */
import type { HostRule } from '../../../functions/domain/egress-policy';
import { cellPrivateZones, effectiveHostRules, hostPolicyContext, hostRulesAsEntries, mergeHostRules, storedRulesIssues } from '../../../functions/domain/tenant-egress';
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
