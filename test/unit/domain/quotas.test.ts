import { cellQuotaIds, evaluateQuotas, headroomOf, inferenceProfilesOf, QuotaGuardSettingsSchema, scaleNeeds, tenantNeeds, type QuotaReading } from '../../../functions/domain/quotas';

const reading = (id: QuotaReading['id'], limit: number, usage: number): QuotaReading => ({ id, limit, usage, source: 'applied' });

describe('tenantNeeds', () => {
  it('returns one of each resource, the plan vCPU on its capacity class, and the group rules', () => {
    const needs = tenantNeeds({ cpu: 2048, spot: false }, { ingress: false, egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443, 8443] }] });
    expect(needs).toEqual({
      fargateOnDemandVcpu: 2,
      iamRoles: 1,
      securityGroups: 1,
      rulesPerSecurityGroup: 4 + 2,
      networkInterfaces: 1,
      subnetAddresses: 1,
      efsAccessPoints: 1,
    });
    expect(tenantNeeds({ cpu: 1024, spot: true }, { ingress: true })).toMatchObject({ fargateSpotVcpu: 1, targetGroups: 1 });
    expect(tenantNeeds({ cpu: 1024, spot: true }, { ingress: true })).not.toHaveProperty('fargateOnDemandVcpu');
  });

  it('needs one Bedrock application inference profile per distinct plan model, none on a plan without Bedrock models', () => {
    const sonnet = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
    const haiku = 'anthropic.claude-haiku-4-5-20251001-v1:0';
    expect(tenantNeeds({ cpu: 1024, spot: false, bedrockModels: [sonnet] }, { ingress: false }).applicationInferenceProfiles).toBe(1);
    expect(tenantNeeds({ cpu: 1024, spot: false, bedrockModels: [sonnet, haiku] }, { ingress: false }).applicationInferenceProfiles).toBe(2);
    // The same model twice is one profile (its name and client token are the model's).
    expect(inferenceProfilesOf({ bedrockModels: [sonnet, sonnet] })).toBe(1);
    // Models of the tenant's own providers (its key): no profile, no need at all.
    expect(tenantNeeds({ cpu: 1024, spot: false, bedrockModels: [] }, { ingress: false })).not.toHaveProperty('applicationInferenceProfiles');
    expect(tenantNeeds({ cpu: 1024, spot: false }, { ingress: false })).not.toHaveProperty('applicationInferenceProfiles');
  });
});

describe('application inference profiles', () => {
  const cfg = (limit: number, usage: number): QuotaReading => ({ id: 'applicationInferenceProfiles', limit, usage, source: 'config' });

  it('refuses a tenant whose plan models do not fit, counting the profiles in flight, and names the configured limit', () => {
    const needs = { applicationInferenceProfiles: 2 };
    expect(evaluateQuotas(needs, [cfg(1000, 998)])).toEqual([]);
    const [r] = evaluateQuotas(needs, [cfg(1000, 999)]);
    expect(r).toMatchObject({ id: 'applicationInferenceProfiles', limit: 1000, usage: 999, reserved: 0, need: 2 });
    expect(r).not.toHaveProperty('code');
    expect(r?.reason).toBe('Application inference profiles per account: 999 used + 2 needed > limit 1000 (config)');
    // Three other tenants of the plan being provisioned reserve 6 profiles not yet created.
    const [held] = evaluateQuotas(needs, [cfg(1000, 994)], scaleNeeds(needs, 3));
    expect(held?.reason).toBe('Application inference profiles per account: 994 used + 6 reserved by provisioning in flight + 2 needed > limit 1000 (config)');
    expect(evaluateQuotas(needs, [cfg(1000, 994)], scaleNeeds(needs, 4))).toHaveLength(1);
    expect(evaluateQuotas(needs, [cfg(1000, 994)], scaleNeeds(needs, 2))).toEqual([]);
  });

  it('never refuses a tenant that needs no profile, however full the quota', () => {
    const needs = tenantNeeds({ cpu: 1024, spot: false, bedrockModels: [] }, { ingress: false });
    expect(evaluateQuotas(needs, [cfg(1000, 1000)], scaleNeeds({ applicationInferenceProfiles: 1 }, 50))).toEqual([]);
  });

  it('is published (and alarmed) only by a cell with a plan that has Bedrock models', () => {
    expect(cellQuotaIds([{ spot: false, bedrockModels: ['m'] }], false)).toContain('applicationInferenceProfiles');
    expect(cellQuotaIds([{ spot: false, bedrockModels: [] }, { spot: false }], false)).not.toContain('applicationInferenceProfiles');
  });

  it('takes its limit from the guard settings: AWS default 1,000, a positive integer', () => {
    expect(QuotaGuardSettingsSchema.parse({ enabled: true }).applicationInferenceProfiles).toBe(1000);
    expect(QuotaGuardSettingsSchema.parse({ enabled: true, applicationInferenceProfiles: 3000 }).applicationInferenceProfiles).toBe(3000);
    expect(QuotaGuardSettingsSchema.safeParse({ enabled: true, applicationInferenceProfiles: 0 }).success).toBe(false);
    expect(QuotaGuardSettingsSchema.safeParse({ enabled: true, applicationInferenceProfiles: 1.5 }).success).toBe(false);
  });
});

describe('evaluateQuotas', () => {
  it('returns no refusal when usage plus need fits the limit exactly', () => {
    expect(evaluateQuotas({ securityGroups: 1 }, [reading('securityGroups', 10, 9)])).toEqual([]);
  });

  it('refuses when usage plus need exceeds the limit, naming the quota, its code and the figures', () => {
    const [r] = evaluateQuotas({ securityGroups: 1 }, [reading('securityGroups', 10, 10)]);
    expect(r).toMatchObject({ id: 'securityGroups', code: 'vpc/L-E79EC296', limit: 10, usage: 10, need: 1 });
    expect(r?.reason).toBe('VPC security groups per Region: 10 used + 1 needed > limit 10 (vpc/L-E79EC296, applied)');
  });

  it('counts what provisioning in flight reserves, so two racing signups cannot both take the last slot', () => {
    expect(evaluateQuotas({ efsAccessPoints: 1 }, [reading('efsAccessPoints', 10, 8)])).toEqual([]);
    const [r] = evaluateQuotas({ efsAccessPoints: 1 }, [reading('efsAccessPoints', 10, 8)], scaleNeeds({ efsAccessPoints: 1 }, 2));
    expect(r?.reason).toContain('8 used + 2 reserved by provisioning in flight + 1 needed > limit 10');
  });

  it('checks a per-tenant bound (rules in the tenant group) against the limit alone, never usage or reservations', () => {
    const needs = { rulesPerSecurityGroup: 61 };
    expect(evaluateQuotas(needs, [reading('rulesPerSecurityGroup', 60, 0)], scaleNeeds(needs, 5))[0]?.reason).toBe(
      'Inbound or outbound rules per security group: the tenant needs 61, the limit is 60 (vpc/L-0EA8095F)',
    );
    expect(evaluateQuotas({ rulesPerSecurityGroup: 60 }, [reading('rulesPerSecurityGroup', 60, 0)], { rulesPerSecurityGroup: 600 })).toEqual([]);
    expect(scaleNeeds(needs, 5).rulesPerSecurityGroup).toBe(61);
  });

  it('ignores quotas the workload does not need', () => {
    expect(evaluateQuotas({}, [reading('targetGroups', 0, 5)])).toEqual([]);
  });
});

describe('headroomOf', () => {
  it('returns what is left and its share of the limit, never below zero', () => {
    expect(headroomOf([reading('iamRoles', 1000, 900), reading('securityGroups', 10, 12)])).toEqual([
      { id: 'iamRoles', limit: 1000, usage: 900, headroom: 100, headroomPercent: 10 },
      { id: 'securityGroups', limit: 10, usage: 12, headroom: 0, headroomPercent: 0 },
    ]);
  });
});
