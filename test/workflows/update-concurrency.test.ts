/**
 * Issue 8, finding 6: two updates of one tenant must never lose a change. An update's claim is
 * conditional on the record version its target was computed from; the record, the security group
 * and what the tenant runs must agree whatever the interleaving.
 */
import { TenantStore } from '../../functions/adapters/tenant-store';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { egressRulesOf, provision, runWorkflow, serviceState } from './support';

// Several whole workflows per step: allow for a loaded machine (jest's default is 5 s).
jest.setTimeout(60_000);

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

const NEW_IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'0123456789abcdef'.repeat(4)}`;
const PARTNER = { cidr: '203.0.113.0/24', ports: [443], description: 'partner API' };
const BILLING = { cidr: '192.0.2.0/28', ports: [443], description: 'billing API' };

/** The tenant's own egress rules in the security group (platform rules left out), as CIDRs. */
const allowlistInGroup = (tenantId: string) =>
  egressRulesOf(cloud, tenantId)
    .filter((r) => !r.includes(' sg-') && !r.includes(' pl-'))
    .map((r) => r.split(' ')[2])
    .sort();

/** Record, security group and running revision agree. */
async function expectConsistent(tenantId: string) {
  const record = await cloud.tenant(tenantId);
  expect(record?.status).toBe('ACTIVE');
  expect(record?.previous).toBeUndefined();
  const recorded = (record?.egressAllowlist ?? []).map((r) => ('cidr' in r ? r.cidr : r.prefixListId)).sort();
  expect(allowlistInGroup(tenantId)).toEqual(recorded);
  expect(serviceState(cloud, tenantId)?.revision).toBe(record?.resources.taskDefinitionArn?.split('/').pop());
  const td = cloud.fake.taskDefinition(`octw-local--${tenantId}`);
  const image = td?.input.containerDefinitions?.find((c) => c.name !== 'config-init')?.image ?? td?.input.containerDefinitions?.[0]?.image;
  if (record?.imageOverride) expect(image).toBe(record.imageOverride);
  return record!;
}

describe('two updates of one tenant (finding 6)', () => {
  it('does not write back an old allowlist when an image-only update claims after an allowlist update finished', async () => {
    const tenantId = 'late-claim';
    await provision(cloud, tenantId, { egressAllowlist: [PARTNER] });
    const transition = TenantStore.prototype.transition;
    let allowlistRun: ReturnType<typeof runWorkflow> | undefined;
    // The image-only update has read the record and computed its target; before its claim is
    // written (a slow Lambda), a whole allowlist update runs. This interleaving happens in AWS.
    const spy = jest.spyOn(TenantStore.prototype, 'transition').mockImplementation(async function (this: TenantStore, id, name, req) {
      if (name === 'startUpdate' && req.executionArn.endsWith(':image-only') && allowlistRun === undefined) {
        allowlistRun = runWorkflow(cloud, 'UpdateTenant', { tenantId, egressAllowlist: [BILLING] }, 'allowlist-change');
        await allowlistRun;
      }
      return transition.call(this, id, name, req);
    });
    let imageRun;
    try {
      imageRun = await runWorkflow(cloud, 'UpdateTenant', { tenantId, image: NEW_IMAGE }, 'image-only');
    } finally {
      spy.mockRestore();
    }
    expect((await allowlistRun)?.status).toBe('SUCCEEDED');

    const record = await expectConsistent(tenantId);
    // The allowlist change is not lost...
    expect(allowlistInGroup(tenantId)).toEqual([BILLING.cidr]);
    // ...and the image update was applied on top of it (its claim was computed again from the newer record).
    expect(imageRun.status).toBe('SUCCEEDED');
    expect(record.imageOverride).toBe(NEW_IMAGE);
    const audit = (await cloud.store.listAudit(tenantId, 20)).map((a) => `${a.from}->${a.to}`);
    expect(audit.filter((t) => t === 'ACTIVE->UPDATING')).toHaveLength(2);
  });

  it('keeps record, security group and revision in agreement when an image-only and an allowlist update start at once', async () => {
    const tenantId = 'same-moment';
    await provision(cloud, tenantId, { egressAllowlist: [PARTNER] });
    const [image, allowlist] = await Promise.all([
      runWorkflow(cloud, 'UpdateTenant', { tenantId, image: NEW_IMAGE }),
      runWorkflow(cloud, 'UpdateTenant', { tenantId, egressAllowlist: [BILLING] }),
    ]);
    for (const run of [image, allowlist]) {
      if (run.status !== 'SUCCEEDED') expect(run.error).toBe('TenantStateConflictError');
    }
    expect([image.status, allowlist.status]).toContain('SUCCEEDED');
    const record = await expectConsistent(tenantId);
    expect(allowlistInGroup(tenantId)).toEqual(allowlist.status === 'SUCCEEDED' ? [BILLING.cidr] : [PARTNER.cidr]);
    expect(record.imageOverride).toBe(image.status === 'SUCCEEDED' ? NEW_IMAGE : undefined);
  });
});
