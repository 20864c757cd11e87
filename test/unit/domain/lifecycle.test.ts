import { TRANSITIONS, TRANSITIONAL_STATUSES, canApply, refusal } from '../../../functions/domain/lifecycle';
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
