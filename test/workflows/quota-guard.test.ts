/**
 * Issue 13.5, the quota guard, through the local cloud (real provision ASL, real handlers, DynamoDB
 * Local, the fake's Service Quotas and the usage it counts from its own state): a cell at one of its
 * limits refuses the next signup with the reason, a TenantQuotaRefused event and nothing created.
 */
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { executionsOf, leftovers, provision } from './support';

let cloud: LocalCloud;
let lifecycle: (event: unknown, context: ReturnType<typeof lambdaContextFor>) => Promise<unknown>;

beforeAll(async () => {
  cloud = await startLocalCloud({ env: { QUOTA_GUARD_JSON: JSON.stringify({ enabled: true, accessPointsPerFileSystem: 10_000 }) } });
  lifecycle = (await import('../../functions/handlers/lifecycle')).handler;
});
afterAll(async () => {
  await cloud.stop();
});
afterEach(() => {
  cloud.fake.serviceQuotas.clearApplied();
  cloud.fake.iam.otherRoles = 0;
});

const refusedEvents = (tenantId: string) =>
  cloud.bus.events.filter((e) => e['detail-type'] === 'TenantQuotaRefused' && (e.detail as { tenantId?: string }).tenantId === tenantId);

/** Calls that would have created something for the tenant, from its provision run. */
const creations = (tenantId: string) =>
  cloud.fake.calls.filter(
    (c) => /^(Create|Register|Put|Authorize|Run|Tag)/.test(c.operation) && c.service !== 'EventBridge' && c.invocation?.executionName?.includes(tenantId),
  );

describe('quota guard before provisioning', () => {
  it('lets a tenant through while every quota has room, reading Service Quotas and the live usage', async () => {
    const record = await provision(cloud, 'quota-first');
    expect(record?.status).toBe('ACTIVE');
    const reads = new Set(cloud.fake.calls.filter((c) => c.invocation?.stateName === 'Register').map((c) => `${c.service}:${c.operation}`));
    for (const call of [
      'ServiceQuotas:GetServiceQuota',
      'ServiceQuotas:GetAWSDefaultServiceQuota',
      'CloudWatch:GetMetricData',
      'IAM:GetAccountSummary',
      'EC2:DescribeSecurityGroups',
      'EC2:DescribeNetworkInterfaces',
      'EC2:DescribeSubnets',
      'EFS:DescribeAccessPoints',
    ]) {
      expect(reads).toContain(call);
    }
    expect(refusedEvents('quota-first')).toHaveLength(0);
    // The creation filter below sees a provisioned tenant's calls (so its empty answer means something).
    expect(creations('quota-first').map((c) => c.operation)).toEqual(expect.arrayContaining(['CreateSecurityGroup', 'CreateAccessPoint', 'CreateRole', 'CreateService']));
  });

  it('refuses the next signup when the cell is at its security-group limit: FAILED with the reason, event, nothing created', async () => {
    const groups = cloud.fake.ec2.groups.size;
    // The account's applied value: exactly what exists now, so one more group does not fit.
    cloud.fake.serviceQuotas.setApplied('vpc', 'L-E79EC296', groups);

    const record = (await provision(cloud, 'quota-refused')) as TenantRecord;
    expect(record.status).toBe('FAILED');
    expect(record.lastError?.name).toBe('QuotaExceededError');
    expect(record.lastError?.message).toContain('VPC security groups per Region');
    expect(record.lastError?.message).toContain(`${groups} used + 1 needed > limit ${groups} (vpc/L-E79EC296, applied)`);
    expect(record.lastError?.message).toContain('Nothing was created');

    const [event] = refusedEvents('quota-refused');
    expect(event?.detail).toMatchObject({
      tenantId: 'quota-refused',
      cell: 'local',
      plan: 'standard',
      quotas: [{ quota: 'securityGroups', code: 'vpc/L-E79EC296', limit: groups, usage: groups, need: 1 }],
    });
    expect(refusedEvents('quota-refused')).toHaveLength(1);

    expect(leftovers(cloud, 'quota-refused')).toEqual([]);
    expect(creations('quota-refused').map((c) => `${c.service}:${c.operation}`)).toEqual([]);
    expect(cloud.fake.ec2.groups.size).toBe(groups);
    expect(executionsOf(cloud, 'quota-refused').map((e) => e.status)).toEqual(['FAILED']);
  });

  it('refuses on IAM roles counted account-wide (other workloads included) and on the vCPU in use', async () => {
    cloud.fake.iam.otherRoles = 1000 - cloud.fake.iam.roles.size;
    const record = await provision(cloud, 'quota-roles');
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError?.message).toContain('IAM roles per account: 1000 used + 1 needed > limit 1000 (iam/L-FE177D64, default)');
    cloud.fake.iam.otherRoles = 0;

    // One ACTIVE standard tenant runs 1 vCPU: an applied limit of 1.5 leaves no room for another.
    cloud.fake.serviceQuotas.setApplied('fargate', 'L-3032A538', 1.5);
    const vcpu = await provision(cloud, 'quota-vcpu');
    expect(vcpu?.status).toBe('FAILED');
    expect(vcpu?.lastError?.message).toContain('Fargate On-Demand vCPU resource count: 1 used + 1 needed > limit 1.50');
    expect(leftovers(cloud, 'quota-vcpu')).toEqual([]);
  });

  it('lets the refused tenant through once the quota is raised (an operator reprovision)', async () => {
    const { executionArn } = await cloud.sfn.startExecution('ProvisionTenant', { tenantId: 'quota-refused', reprovision: true }, 'reprovision-quota-refused');
    await cloud.sfn.waitForExecution(executionArn);
    await cloud.settle();
    expect((await cloud.tenant('quota-refused'))?.status).toBe('ACTIVE');
  });

  it('answers quotaCheck for other workflows (a rollout) without creating anything, and publishes headroom', async () => {
    cloud.fake.serviceQuotas.setApplied('fargate', 'L-3032A538', 10);
    const check = (await lifecycle({ action: 'quotaCheck', needs: { fargateOnDemandVcpu: 16 } }, lambdaContextFor('Lifecycle', 'qc-1'))) as {
      enabled: boolean;
      ok: boolean;
      refusals: { id: string; reason: string }[];
    };
    expect(check).toMatchObject({ enabled: true, ok: false });
    expect(check.refusals.map((r) => r.id)).toEqual(['fargateOnDemandVcpu']);
    const ok = (await lifecycle({ action: 'quotaCheck', needs: { fargateOnDemandVcpu: 1 } }, lambdaContextFor('Lifecycle', 'qc-2'))) as { ok: boolean };
    expect(ok.ok).toBe(true);

    const out = (await lifecycle({ action: 'quotaHeadroom' }, lambdaContextFor('Lifecycle', 'qh-1'))) as { headroom: { id: string; limit: number; usage: number; headroomPercent: number }[] };
    const vcpu = out.headroom.find((h) => h.id === 'fargateOnDemandVcpu');
    expect(vcpu).toMatchObject({ limit: 10 });
    expect(vcpu!.headroomPercent).toBeLessThan(100);
    expect(out.headroom.map((h) => h.id)).toEqual(expect.arrayContaining(['iamRoles', 'securityGroups', 'networkInterfaces', 'subnetAddresses', 'efsAccessPoints']));
    expect(out.headroom.map((h) => h.id)).not.toContain('targetGroups');
  });
});
