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
});
