/**
 * Issue 8, findings 4 and 5, through the real workflows: a tenant must not reach, through its
 * allowlist, a prefix list the operator did not approve (AWS-managed service lists above all), nor
 * private or shared address space (a secondary VPC CIDR, a peered VPC, a transit gateway or
 * on-premises range) unless the operator allowed that range.
 */
import { LOCAL_CELL } from '../local-cloud/env';
import { DYNAMODB_PREFIX_LIST_ID, S3_PREFIX_LIST_ID, startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { egressRulesOf, executionsOf, leftovers, provision, runWorkflow, signupFor } from './support';

/** A customer-managed list the operator approved in cdk.json (`approvedPrefixLists`). */
const PARTNER_LIST = { id: 'pl-0abc1234def567890', name: 'partner-apis', maxEntries: 4, entries: ['198.51.100.0/24', '203.0.113.128/25'] };

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud({
    fake: { limits: { prefixListMaxEntries: { [S3_PREFIX_LIST_ID]: 1, [DYNAMODB_PREFIX_LIST_ID]: 1, [PARTNER_LIST.id]: PARTNER_LIST.maxEntries } } },
    env: {
      EGRESS_SETTINGS_JSON: JSON.stringify({
        // The VPC's primary CIDR, a secondary CIDR and a peered VPC.
        protectedCidrs: [LOCAL_CELL.vpcCidr, '10.41.0.0/16', '172.31.0.0/16'],
        // The operator lets tenants reach one on-premises service range on purpose.
        allowedPrivateCidrs: ['192.168.50.0/24'],
        approvedPrefixLists: [PARTNER_LIST],
      }),
    },
  });
});
afterAll(async () => {
  await cloud.stop();
});

const rejectionOf = (tenantId: string): string =>
  (
    cloud.bus.events.find((e) => e['detail-type'] === 'TenantSignupRejected' && (e.detail as { tenantId?: string }).tenantId === tenantId)
      ?.detail as { reasons?: string[] } | undefined
  )?.reasons?.join(' ') ?? '(not rejected)';

async function expectRefusedSignup(tenantId: string, egressAllowlist: unknown[], reason: RegExp) {
  await cloud.signup(signupFor(tenantId, { egressAllowlist }));
  await cloud.settle();
  expect(await cloud.tenant(tenantId)).toBeUndefined();
  expect(executionsOf(cloud, tenantId)).toHaveLength(0);
  expect(leftovers(cloud, tenantId)).toEqual([]);
  expect(rejectionOf(tenantId)).toMatch(reason);
}

describe('finding 4: prefix lists in a tenant allowlist', () => {
  it('refuses a signup naming the AWS-managed DynamoDB prefix list (before the fix it went ACTIVE with egress to all of DynamoDB)', async () => {
    await expectRefusedSignup('pl-dynamo', [{ prefixListId: DYNAMODB_PREFIX_LIST_ID, ports: [443] }], /prefixListId.*not one the operator approved/);
  });

  it('refuses the S3 list too, although every group already reaches it on 443: a tenant may not widen it to other ports', async () => {
    await expectRefusedSignup('pl-s3', [{ prefixListId: S3_PREFIX_LIST_ID, ports: [8443] }], /not one the operator approved/);
  });

  it('provisions a tenant naming an approved list and applies it', async () => {
    const record = await provision(cloud, 'pl-partner', { egressAllowlist: [{ prefixListId: PARTNER_LIST.id, ports: [443] }] });
    expect(record?.status).toBe('ACTIVE');
    expect(egressRulesOf(cloud, 'pl-partner')).toContain(`tcp 443-443 ${PARTNER_LIST.id}`);
  });

  it('counts an approved list by its max entries against the plan budget (standard: 10 rules; 3 ports x 4 entries = 12)', async () => {
    await expectRefusedSignup('pl-budget', [{ prefixListId: PARTNER_LIST.id, ports: [443, 8443, 9443] }], /expands to 12 security-group rules.*at most 10/);
  });
});

describe('finding 5: protected and private address space', () => {
  it('refuses a peered range listed in protectedCidrs (before the fix: ACTIVE, with a route into the peer)', async () => {
    await expectRefusedSignup('peer-reach', [{ cidr: '172.31.16.0/20', ports: [443] }], /overlaps the protected network 172\.31\.0\.0\/16/);
  });

  it('refuses a secondary VPC CIDR', async () => {
    await expectRefusedSignup('secondary-reach', [{ cidr: '10.41.8.0/24', ports: [5432] }], /protected network 10\.41\.0\.0\/16/);
  });

  it.each([
    ['rfc1918-172', '172.16.0.0/16', /private address space \(RFC 1918, 172\.16\.0\.0\/12\)/],
    ['rfc1918-10', '10.99.0.0/16', /RFC 1918, 10\.0\.0\.0\/8/],
    ['rfc1918-192', '192.168.7.0/24', /RFC 1918, 192\.168\.0\.0\/16/],
    ['cgnat', '100.64.1.0/24', /shared address space \(RFC 6598, 100\.64\.0\.0\/10/],
    ['benchmark', '198.18.0.0/24', /198\.18\.0\.0\/15/],
    ['ula-range', 'fd12:3456::/32', /unique local IPv6 \(fc00::\/7/],
  ])('refuses %s (%s), private or shared space the operator did not allow', async (tenantId, cidr, reason) => {
    await expectRefusedSignup(tenantId, [{ cidr, ports: [443] }], reason);
  });

  it('provisions a private range the operator explicitly allowed', async () => {
    const record = await provision(cloud, 'onprem-allowed', { egressAllowlist: [{ cidr: '192.168.50.0/25', ports: [443] }] });
    expect(record?.status).toBe('ACTIVE');
    expect(egressRulesOf(cloud, 'onprem-allowed')).toContain('tcp 443-443 192.168.50.0/25');
  });

  it('refuses an update that adds 172.16.0.0/16 to an ACTIVE tenant and leaves its group as it was', async () => {
    const record = await provision(cloud, 'update-private');
    expect(record?.status).toBe('ACTIVE');
    const before = egressRulesOf(cloud, 'update-private');
    const done = await runWorkflow(cloud, 'UpdateTenant', {
      tenantId: 'update-private',
      egressAllowlist: [{ cidr: '172.16.0.0/16', ports: [443] }],
    });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ValidationError');
    expect(JSON.stringify(done.cause)).toMatch(/RFC 1918/);
    expect((await cloud.tenant('update-private'))?.status).toBe('ACTIVE');
    expect(egressRulesOf(cloud, 'update-private')).toEqual(before);
  });
});
