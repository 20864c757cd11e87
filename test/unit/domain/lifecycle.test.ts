import { TRANSITIONS, TRANSITIONAL_STATUSES, canApply, onceHeldData, refusal, signupRefusal } from '../../../functions/domain/lifecycle';
import { TENANT_STATUSES } from '../../../functions/domain/tenant';

describe('lifecycle table', () => {
  it('gives every transitional status a way to a resting status, so no tenant can be stuck', () => {
    for (const status of TRANSITIONAL_STATUSES) {
      const exits = Object.values(TRANSITIONS).filter((t) => (t.from as readonly string[]).includes(status));
      expect(exits.length).toBeGreaterThanOrEqual(2); // success and failure
      expect(exits.some((t) => !TRANSITIONAL_STATUSES.includes(t.to))).toBe(true);
    }
  });

  it('lets a FAILED tenant be provisioned again or deprovisioned', () => {
    expect(canApply('request', 'FAILED')).toBe(true);
    expect(canApply('startDeprovision', 'FAILED')).toBe(true);
  });

  it('refuses to deprovision a tenant that is provisioning and says why', () => {
    expect(canApply('startDeprovision', 'PROVISIONING')).toBe(false);
    expect(refusal('startDeprovision', 'PROVISIONING')).toBe(
      'cannot startDeprovision a tenant that is PROVISIONING; allowed from ACTIVE | SUSPENDED | FAILED',
    );
  });

  it('only lets workflows claim tenants from resting states', () => {
    for (const t of Object.values(TRANSITIONS).filter((t) => t.claims)) {
      for (const from of t.from) expect(TRANSITIONAL_STATUSES).not.toContain(from);
    }
  });

  it('uses only known statuses and one event name per transition', () => {
    const events = new Set<string>();
    for (const t of Object.values(TRANSITIONS)) {
      expect(TENANT_STATUSES).toContain(t.to);
      for (const f of t.from) expect(TENANT_STATUSES).toContain(f);
      expect(events.has(t.event)).toBe(false);
      events.add(t.event);
    }
  });

  it('never leaves PURGED', () => {
    expect(Object.values(TRANSITIONS).some((t) => (t.from as readonly string[]).includes('PURGED'))).toBe(false);
  });
});

describe('signup admission of an existing tenant (issue 8 finding 1)', () => {
  const failedFirst = {
    tenantId: 'acme-tools',
    status: 'FAILED' as const,
    ownerEmail: 'Ops@Acme-Tools.example',
    transitions: { REQUESTED: 't0', PROVISIONING: 't1', FAILED: 't2' },
  };

  it('admits only the same owner retrying a FAILED first provisioning (email compared case-insensitively)', () => {
    expect(signupRefusal(failedFirst, 'ops@acme-tools.example')).toBeUndefined();
    expect(signupRefusal(failedFirst, 'mallory@attacker.example')).toMatch(/belongs to another owner/);
  });

  it.each([
    ['was ACTIVE', { ACTIVE: 't3' }],
    ['was deprovisioned (a deprovision ran, then failed)', { DEPROVISIONING: 't3' }],
  ])('refuses even the same owner when the tenant %s: it may hold data, only an operator re-provisions it', (_what, extra) => {
    const record = { ...failedFirst, transitions: { ...failedFirst.transitions, ...extra } };
    expect(onceHeldData(record)).toBe(true);
    expect(signupRefusal(record, failedFirst.ownerEmail)).toMatch(/may hold data.*octw tenants reprovision acme-tools/);
  });

  it.each(['REQUESTED', 'PROVISIONING', 'ACTIVE', 'SUSPENDED', 'DEPROVISIONED', 'PURGED'] as const)('refuses a %s tenant', (status) => {
    expect(signupRefusal({ ...failedFirst, status }, failedFirst.ownerEmail)).toMatch(new RegExp(`already exists \\(${status}\\)`));
  });
});
