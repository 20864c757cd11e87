/**
 * The quota guard and Amazon Bedrock application inference profiles (the defect of the 2,000-signup
 * burst: tenants past the account's profile quota were claimed, got their security group, access
 * point, role and so on, and only failed at the Bedrock step, then were rolled back). Through the
 * local cloud (real provision ASL, real handlers, DynamoDB Local, the fake's Bedrock with its account
 * quota of application profiles set to 3, and the guard configured with the same limit, as an
 * operator sets `quotaGuard.applicationInferenceProfiles` to the account's value): a tenant whose
 * plan's models do not fit is refused at the guard with the reason, a TenantQuotaRefused event and
 * nothing created; a tenant on a plan without Bedrock models (bring your own key) is not concerned.
 */
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { LOCAL_PLANS } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { executionsOf, leftovers, provision, signupFor } from './support';

const PROFILE_QUOTA = 3;
let cloud: LocalCloud;
let lifecycle: (event: unknown, context: ReturnType<typeof lambdaContextFor>) => Promise<unknown>;

beforeAll(async () => {
  cloud = await startLocalCloud({
    fake: { limits: { applicationInferenceProfiles: PROFILE_QUOTA } },
    env: { QUOTA_GUARD_JSON: JSON.stringify({ enabled: true, applicationInferenceProfiles: PROFILE_QUOTA }) },
  });
  lifecycle = (await import('../../functions/handlers/lifecycle')).handler;
});
afterAll(async () => {
  await cloud.stop();
});

const modelsOf = (plan: string) => LOCAL_PLANS.find((p) => p.id === plan)!.bedrockModels.length;

const refusedEvents = (tenantId: string) =>
  cloud.bus.events.filter((e) => e['detail-type'] === 'TenantQuotaRefused' && (e.detail as { tenantId?: string }).tenantId === tenantId);

/** Calls that would have created something for the tenant, from its provision runs (as test/workflows/quota-guard.test.ts). */
const creations = (tenantId: string) =>
  cloud.fake.calls.filter(
    (c) => /^(Create|Register|Put|Authorize|Run|Tag)/.test(c.operation) && c.service !== 'EventBridge' && c.invocation?.executionName?.includes(tenantId),
  );

/** Bedrock refusing a profile over the account's quota: what the guard is there to prevent. */
const bedrockQuotaErrors = () => cloud.fake.calls.filter((c) => c.operation === 'CreateInferenceProfile' && c.error?.name === 'ServiceQuotaExceededException');

const expectRefusedAtGuard = (record: TenantRecord, tenantId: string) => {
  expect(record.status).toBe('FAILED');
  expect(record.lastError?.name).toBe('QuotaExceededError');
  expect(record.lastError?.message).toContain('Application inference profiles per account');
  expect(record.lastError?.message).toContain('Nothing was created');
  expect(refusedEvents(tenantId)).toHaveLength(1);
  expect(creations(tenantId).map((c) => `${c.service}:${c.operation}`)).toEqual([]);
  expect(leftovers(cloud, tenantId)).toEqual([]);
  expect(executionsOf(cloud, tenantId).map((e) => e.status)).toEqual(['FAILED']);
};

describe('quota guard: Bedrock application inference profiles', () => {
  it('refuses the signup whose plan models no longer fit before anything is created, lets the others through', async () => {
    // Three standard tenants (one model each) fill the account's quota of 3 profiles.
    for (const id of ['aip-1', 'aip-2', 'aip-3']) {
      const record = await provision(cloud, id);
      expect(record?.status).toBe('ACTIVE');
      expect(Object.keys(record?.resources.inferenceProfiles ?? {})).toHaveLength(modelsOf('standard'));
    }
    expect(cloud.fake.bedrock.profiles.size).toBe(PROFILE_QUOTA);
    // The guard read the profiles in use from Bedrock (Register is the guard's step).
    expect(cloud.fake.calls.some((c) => c.invocation?.stateName === 'Register' && c.operation === 'ListInferenceProfiles' && (c.input as { typeEquals?: string }).typeEquals === 'APPLICATION')).toBe(true);

    for (const id of ['aip-4', 'aip-5']) {
      const record = (await provision(cloud, id)) as TenantRecord;
      expectRefusedAtGuard(record, id);
      expect(record.lastError?.message).toContain(`Application inference profiles per account: ${PROFILE_QUOTA} used + 1 needed > limit ${PROFILE_QUOTA} (config)`);
    }
    const [event] = refusedEvents('aip-4');
    expect(event?.detail).toMatchObject({
      tenantId: 'aip-4',
      plan: 'standard',
      quotas: [{ quota: 'applicationInferenceProfiles', limit: PROFILE_QUOTA, usage: PROFILE_QUOTA, need: 1 }],
    });
    expect(bedrockQuotaErrors()).toEqual([]);
    expect(cloud.fake.bedrock.profiles.size).toBe(PROFILE_QUOTA);

    // The scheduled headroom metric reports the quota full (its alarm fires below the threshold).
    const out = (await lifecycle({ action: 'quotaHeadroom' }, lambdaContextFor('Lifecycle', 'qh-aip'))) as { headroom: { id: string }[] };
    expect(out.headroom.find((h) => h.id === 'applicationInferenceProfiles')).toEqual({
      id: 'applicationInferenceProfiles',
      limit: PROFILE_QUOTA,
      usage: PROFILE_QUOTA,
      headroom: 0,
      headroomPercent: 0,
    });
  });

  it('does not refuse a tenant whose plan creates no profile (no Bedrock models: its own key)', async () => {
    expect(modelsOf('offline')).toBe(0);
    const record = await provision(cloud, 'aip-byok', { plan: 'offline', egressAllowlist: [] });
    expect(record?.status).toBe('ACTIVE');
    expect(refusedEvents('aip-byok')).toEqual([]);
  });

  it('counts every model of the plan: two profiles do not fit in the one left', async () => {
    await cloud.sfn.waitForExecution((await cloud.sfn.startExecution('DeprovisionTenant', { tenantId: 'aip-3' }, 'deprovision-aip-3')).executionArn);
    await cloud.settle();
    expect(cloud.fake.bedrock.profiles.size).toBe(PROFILE_QUOTA - 1);

    const pro = (await provision(cloud, 'aip-pro', { plan: 'pro' })) as TenantRecord;
    expectRefusedAtGuard(pro, 'aip-pro');
    expect(pro.lastError?.message).toContain(`${PROFILE_QUOTA - 1} used + 2 needed > limit ${PROFILE_QUOTA}`);

    // One standard tenant still fits.
    expect((await provision(cloud, 'aip-6'))?.status).toBe('ACTIVE');
    expect(bedrockQuotaErrors()).toEqual([]);
  });

  it('a burst of signups with room for two: each tenant ACTIVE or refused at the guard, none failed half-way, nothing leaked', async () => {
    for (const id of ['aip-1', 'aip-2']) {
      await cloud.sfn.waitForExecution((await cloud.sfn.startExecution('DeprovisionTenant', { tenantId: id }, `deprovision-${id}`)).executionArn);
    }
    await cloud.settle();
    expect(cloud.fake.bedrock.profiles.size).toBe(PROFILE_QUOTA - 2);

    const ids = ['aip-b1', 'aip-b2', 'aip-b3', 'aip-b4', 'aip-b5'];
    await Promise.all(ids.map((id) => cloud.signup(signupFor(id))));
    await cloud.settle();
    const records = await Promise.all(ids.map(async (id) => (await cloud.tenant(id)) as TenantRecord));
    const active = records.filter((r) => r.status === 'ACTIVE');
    // The guard counts the tenants being provisioned as reservations: at most the two that fit pass.
    expect(active.length).toBeLessThanOrEqual(2);
    for (const r of records) {
      if (r.status !== 'ACTIVE') expectRefusedAtGuard(r, r.tenantId);
    }
    expect(bedrockQuotaErrors()).toEqual([]);
    expect(cloud.fake.bedrock.profiles.size).toBe(PROFILE_QUOTA - 2 + active.length);
  });
});
