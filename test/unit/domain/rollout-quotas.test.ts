/** What a rollout adds to the cell's quotas (functions/domain/rollout-quotas.ts). */
import { rolloutQuotaNeeds, surgeTasks } from '../../../functions/domain/rollout-quotas';

const standard = { id: 'standard', cpu: 1024, spot: false };
const pro = { id: 'pro', cpu: 2048, spot: false };
const tiny = { id: 'tiny', cpu: 512, spot: false };
const spotPro = { id: 'spot-pro', cpu: 2048, spot: true };
const active = (n: number, plan = standard, maximumPercent = 100) =>
  Array.from({ length: n }, (_, i) => ({ tenantId: `t-${i}`, status: 'ACTIVE', plan, service: { desiredCount: 1, maximumPercent } }));

describe('surgeTasks', () => {
  it.each([
    [1, 100, 0],
    [1, 200, 1],
    [1, 150, 0],
    [2, 150, 1],
    [0, 200, 0],
  ])('desired %i, maximumPercent %i → %i extra', (desired, max, extra) => expect(surgeTasks(desired, max)).toBe(extra));
});

describe('rolloutQuotaNeeds', () => {
  it("needs nothing for an image rollout over the platform's services (maximumPercent 100)", () => {
    expect(rolloutQuotaNeeds({ tenants: active(50), concurrency: 40 }).needs).toEqual({});
  });

  it('needs the surge of the tenants updated at once, not of every tenant', () => {
    const { needs, basis } = rolloutQuotaNeeds({ tenants: active(50, standard, 200), concurrency: 40 });
    expect(needs).toEqual({ fargateOnDemandVcpu: 40, networkInterfaces: 40, subnetAddresses: 40 });
    expect(basis).toMatchObject({ concurrency: 40, surgeTasksPerTenant: [1], surgeTasks: 40 });
  });

  it('counts the largest surges first when services differ, on the new plan', () => {
    const tenants = [...active(3, standard, 100), { tenantId: 'big', status: 'ACTIVE', plan: standard, service: { desiredCount: 1, maximumPercent: 200 } }];
    expect(rolloutQuotaNeeds({ tenants, concurrency: 1, targetPlan: pro }).needs).toEqual({ fargateOnDemandVcpu: 4 + 2, networkInterfaces: 1, subnetAddresses: 1 });
  });

  it('needs the growth of a bigger plan for every ACTIVE tenant, nothing for SUSPENDED ones or a smaller plan', () => {
    const tenants = [...active(3), { tenantId: 's', status: 'SUSPENDED', plan: standard, service: { desiredCount: 0, maximumPercent: 200 } }];
    expect(rolloutQuotaNeeds({ tenants, concurrency: 2, targetPlan: pro })).toMatchObject({ needs: { fargateOnDemandVcpu: 3 }, basis: { planGrowthTenants: 3, planGrowthVcpu: 3 } });
    expect(rolloutQuotaNeeds({ tenants, concurrency: 2, targetPlan: tiny }).needs).toEqual({});
    expect(rolloutQuotaNeeds({ tenants: active(2, pro), concurrency: 2, targetPlan: pro }).needs).toEqual({});
  });

  it('needs the whole target vCPU on the new capacity class when the plan moves to Spot', () => {
    expect(rolloutQuotaNeeds({ tenants: active(2), concurrency: 1, targetPlan: spotPro }).needs).toEqual({ fargateSpotVcpu: 4 });
  });

  describe('Bedrock application inference profiles of a plan change', () => {
    const withModels = (id: string, bedrockModels: string[]) => ({ id, cpu: 1024, spot: false, bedrockModels });
    const one = withModels('one', ['m1']);
    const two = withModels('two', ['m1', 'm2']);
    const swapped = withModels('swapped', ['m3']);
    const byok = withModels('byok', []);
    const on = (n: number, plan: ReturnType<typeof withModels>) =>
      Array.from({ length: n }, (_, i) => ({ tenantId: `t-${i}`, status: 'ACTIVE', plan, service: { desiredCount: 1, maximumPercent: 100 } }));

    it('needs one profile per added model for every ACTIVE tenant moved, none for SUSPENDED ones', () => {
      const tenants = [...on(5, one), { tenantId: 's', status: 'SUSPENDED', plan: one, service: { desiredCount: 0, maximumPercent: 100 } }];
      expect(rolloutQuotaNeeds({ tenants, concurrency: 2, targetPlan: two }).needs).toEqual({ applicationInferenceProfiles: 5 });
      expect(rolloutQuotaNeeds({ tenants: on(5, byok), concurrency: 2, targetPlan: two }).needs).toEqual({ applicationInferenceProfiles: 10 });
    });

    it('counts a swapped model only while the tenants updated at once hold both profiles', () => {
      // one → swapped: net 0 per tenant; the 3 updated at once hold their new profile before the old one goes.
      expect(rolloutQuotaNeeds({ tenants: on(50, one), concurrency: 3, targetPlan: swapped }).needs).toEqual({ applicationInferenceProfiles: 3 });
      // two → swapped: a drop of 2 for one added; still the new one is made first.
      expect(rolloutQuotaNeeds({ tenants: on(50, two), concurrency: 1, targetPlan: swapped }).needs).toEqual({ applicationInferenceProfiles: 1 });
    });

    it('needs no profile for a plan that drops models, keeps them, or has none', () => {
      expect(rolloutQuotaNeeds({ tenants: on(5, two), concurrency: 2, targetPlan: one }).needs).toEqual({});
      expect(rolloutQuotaNeeds({ tenants: on(5, one), concurrency: 2, targetPlan: { ...one, id: 'one-bigger', cpu: 1024 } }).needs).toEqual({});
      expect(rolloutQuotaNeeds({ tenants: on(5, one), concurrency: 2, targetPlan: byok }).needs).toEqual({});
      expect(rolloutQuotaNeeds({ tenants: on(5, two), concurrency: 2 }).needs).toEqual({});
    });
  });
});
