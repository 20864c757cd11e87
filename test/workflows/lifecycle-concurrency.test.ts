import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import {
  ACTIVE_TENANT_RESOURCE_TYPES,
  causeMessage,
  egressRulesOf,
  leftoversAfterDeprovision,
  provision,
  resourceTypes,
  runWorkflow,
  serviceState,
  signupFor,
} from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

/** Starts `start` the moment an execution of `stateMachine` for the tenant enters `state`; resolves with its result. */
function whenStateEntered<T>(stateMachine: string, state: string, start: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = cloud.sfn.onProgress((e) => {
      if (e.kind === 'StateEntered' && e.stateMachineName === stateMachine && e.state === state) {
        unsubscribe();
        start().then(resolve, reject);
      }
    });
  });
}

const audited = async (tenantId: string) => (await cloud.store.listAudit(tenantId, 50)).map((a) => `${a.from}->${a.to}`).reverse();

describe('one workflow per tenant at a time', () => {
  it('refuses a deprovision that arrives while the tenant is being provisioned, and the provisioning finishes', async () => {
    const tenantId = 'mid-build';
    const deprovision = whenStateEntered('ProvisionTenant', 'CreateTenantResources', () =>
      runWorkflow(cloud, 'DeprovisionTenant', { tenantId }),
    );
    const provisionArn = await cloud.startProvision(signupFor(tenantId), `console-${tenantId}`);
    const [refused, provisioned] = await Promise.all([deprovision, cloud.sfn.waitForExecution(provisionArn)]);

    expect(refused.error).toBe('TenantStateConflictError');
    expect(causeMessage(refused)).toMatch(/cannot startDeprovision a tenant that is PROVISIONING/);
    expect(provisioned.status).toBe('SUCCEEDED');
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
    expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
    expect(await audited(tenantId)).toEqual(['-->REQUESTED', 'REQUESTED->PROVISIONING', 'PROVISIONING->ACTIVE']);
  });

  it('lets exactly one of two updates started at once win; the loser changes nothing', async () => {
    const tenantId = 'two-editors';
    await provision(cloud, tenantId);
    const a = { tenantId, egressAllowlist: [{ cidr: '192.0.2.0/28', ports: [443] }] };
    const b = { tenantId, plan: 'pro', egressAllowlist: [{ cidr: '198.51.100.0/24', ports: [8443] }] };

    const results = await Promise.all([runWorkflow(cloud, 'UpdateTenant', a), runWorkflow(cloud, 'UpdateTenant', b)]);

    const winners = results.filter((r) => r.status === 'SUCCEEDED');
    const losers = results.filter((r) => r.status !== 'SUCCEEDED');
    expect(winners).toHaveLength(1);
    expect(losers.map((r) => r.error)).toEqual(['TenantStateConflictError']);
    const won = JSON.parse(winners[0]!.input) as typeof b;
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'ACTIVE', plan: won.plan ?? 'standard' });
    expect(record?.egressAllowlist.map((r) => ('cidr' in r ? r.cidr : r.prefixListId))).toEqual([won.egressAllowlist[0]!.cidr]);
    // The rules are exactly the winner's: nothing of the loser's request reached the security group.
    expect(egressRulesOf(cloud, tenantId).filter((r) => !r.includes(' sg-') && !r.includes(' pl-'))).toEqual([
      `tcp ${won.egressAllowlist[0]!.ports[0]}-${won.egressAllowlist[0]!.ports[0]} ${won.egressAllowlist[0]!.cidr}`,
    ]);
    expect((await audited(tenantId)).filter((t) => t === 'ACTIVE->UPDATING')).toHaveLength(1);
  });

  it('serialises a suspend and a deprovision started at once: one runs, the other is refused, the end state is whole', async () => {
    const tenantId = 'torn-between';
    await provision(cloud, tenantId);

    const [suspend, deprovision] = await Promise.all([
      runWorkflow(cloud, 'SuspendTenant', { tenantId }),
      runWorkflow(cloud, 'DeprovisionTenant', { tenantId }),
    ]);

    expect([suspend.status, deprovision.status].sort()).toEqual(['FAILED', 'SUCCEEDED']);
    const record = await cloud.tenant(tenantId);
    if (suspend.status === 'SUCCEEDED') {
      expect(deprovision.error).toBe('TenantStateConflictError');
      expect(record?.status).toBe('SUSPENDED');
      expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
      expect(serviceState(cloud, tenantId)?.desiredCount).toBe(0);
    } else {
      expect(suspend.error).toBe('TenantStateConflictError');
      expect(record?.status).toBe('DEPROVISIONED');
      expect(leftoversAfterDeprovision(cloud, tenantId)).toEqual([]);
    }
  });

  it('refuses an update that arrives while the tenant is being suspended', async () => {
    const tenantId = 'going-dark';
    await provision(cloud, tenantId);
    const update = whenStateEntered('SuspendTenant', 'WaitForSteady', () => runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'pro' }));
    const [suspended, refused] = await Promise.all([runWorkflow(cloud, 'SuspendTenant', { tenantId }), update]);

    expect(suspended.status).toBe('SUCCEEDED');
    expect(refused.error).toBe('TenantStateConflictError');
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'SUSPENDED', plan: 'standard' });
    expect(cloud.fake.taskDefinition(`octw-local--${tenantId}`)?.revision).toBe(1);
  });

  it('runs a request repeated under the same execution name once', async () => {
    const tenantId = 'asked-twice';
    await provision(cloud, tenantId);
    const name = `suspend-${tenantId}-v1`;
    const [first, second] = await Promise.all([
      cloud.sfn.startExecution('SuspendTenant', { tenantId }, name),
      cloud.sfn.startExecution('SuspendTenant', { tenantId }, name),
    ]);
    expect(second.executionArn).toBe(first.executionArn);
    expect((await cloud.sfn.waitForExecution(first.executionArn)).status).toBe('SUCCEEDED');
    expect((await audited(tenantId)).filter((t) => t === 'ACTIVE->SUSPENDING')).toHaveLength(1);
  });
});
