import fc from 'fast-check';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { LOCAL_PLANS } from '../local-cloud/env';
import { ACTIVE_TENANT_RESOURCE_TYPES, resourceTypes } from './support';

const PROFILE = 'AWS::Bedrock::ApplicationInferenceProfile';

/**
 * Property: whatever a signup event carries, the system either provisions an ACTIVE tenant or
 * refuses it with a reason naming a field — no exception escapes the intake (nothing dead-lettered),
 * no execution fails, and a refused signup leaves no record and no resource.
 */
let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

let run = 0;
const validId = fc.stringMatching(/^[a-z0-9]{1,8}$/).map((s) => `p${++run}-${s}`);
const invalidId = fc.oneof(
  fc.constantFrom('', 'ab', 'Acme-Corp', 'admin', '1abc', 'abc-', 'a_b_c', 'a'.repeat(40), 'x--y'),
  fc.integer(),
  fc.constant(null),
);
const goodCidr = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 15 })).map(([a, b]) => `198.51.${a}.${b * 16}/28`);
const badCidr = fc.constantFrom('0.0.0.0/0', '::/0', '10.40.1.0/24', '169.254.169.254/32', '127.0.0.1/32', '198.51.100.7/24', 'not-a-cidr', '300.1.1.1/32', '2001:db8::/8');
const port = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 65535 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 70000, -1, 1.5) });
const entry = fc.record({
  cidr: fc.oneof({ weight: 3, arbitrary: goodCidr }, { weight: 1, arbitrary: badCidr }),
  ports: fc.array(port, { minLength: 1, maxLength: 3 }),
  description: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('api', 'webhook relay') }, { weight: 1, arbitrary: fc.constant('bad\u0000char') }),
});
const signup = fc.record(
  {
    tenantId: fc.oneof({ weight: 3, arbitrary: validId }, { weight: 1, arbitrary: invalidId }),
    displayName: fc.oneof({ weight: 6, arbitrary: fc.constant('A Tenant') }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
    ownerEmail: fc.oneof({ weight: 6, arbitrary: fc.constant('ops@tenant.example') }, { weight: 1, arbitrary: fc.constant('not-an-email') }),
    plan: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('standard', 'pro') }, { weight: 1, arbitrary: fc.constant('platinum') }),
    egressAllowlist: fc.array(entry, { maxLength: 3 }),
  },
  { requiredKeys: ['tenantId', 'plan'] },
);

const outcomes = { provisioned: 0, refused: 0 };

describe('signup inputs (property-based)', () => {
  afterAll(() => {
    // The generator must really exercise both outcomes, or the property proves little.
    expect(outcomes.provisioned).toBeGreaterThanOrEqual(5);
    expect(outcomes.refused).toBeGreaterThanOrEqual(5);
  });

  it('are either provisioned to ACTIVE or refused with a reason, never half-made', async () => {
    await fc.assert(
      fc.asyncProperty(signup, async (input) => {
        const rejectedBefore = cloud.bus.events.filter((e) => e['detail-type'] === 'TenantSignupRejected').length;
        await cloud.signup(input);
        await cloud.settle();
        expect(cloud.bus.deadLetters).toEqual([]);
        expect(cloud.sfn.list().filter((e) => e.status !== 'SUCCEEDED')).toEqual([]);
        const id = typeof input.tenantId === 'string' ? input.tenantId : undefined;
        const record = id && /^[a-z]/.test(id) ? await cloud.tenant(id) : undefined;
        if (record) {
          outcomes.provisioned += 1;
          expect(record.status).toBe('ACTIVE');
          // One Bedrock inference profile per model of the tenant's plan; everything else as for any ACTIVE tenant.
          const types = resourceTypes(cloud, record.tenantId);
          expect(types.filter((t) => t !== PROFILE)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES.filter((t) => t !== PROFILE));
          expect(types.filter((t) => t === PROFILE)).toHaveLength(LOCAL_PLANS.find((p) => p.id === record.plan)!.bedrockModels.length);
        } else {
          outcomes.refused += 1;
          const rejected = cloud.bus.events.filter((e) => e['detail-type'] === 'TenantSignupRejected');
          expect(rejected.length).toBe(rejectedBefore + 1);
          const reasons = (rejected[rejected.length - 1]?.detail as { reasons: string[] }).reasons;
          expect(reasons.length).toBeGreaterThan(0);
          for (const r of reasons) expect(r).toMatch(/^[a-zA-Z(][\w.[\]()]*: .+/);
          if (id) expect(cloud.fake.resourcesByTenant(id)).toEqual([]);
        }
      }),
      { numRuns: 40, seed: 20261125 },
    );
  }, 120_000);
});
