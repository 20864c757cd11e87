import { evaluateQuotas, headroomOf, scaleNeeds, tenantNeeds, type QuotaReading } from '../../../functions/domain/quotas';

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
