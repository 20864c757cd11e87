/**
 * Helpers shared by the workflow tests: signups, and reading what a tenant owns back from the fake.
 */
import { TRANSITIONAL_STATUSES } from '../../functions/domain/lifecycle';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { FaultKind, ServiceName } from '../local-cloud/fake-aws';
import { startLocalCloud } from '../local-cloud/local-cloud';
import type { LocalCloud } from '../local-cloud/local-cloud';
import { ACTIVE_TENANT_RESOURCE_TYPES, signupFor } from '../local-cloud/samples';

export { ACTIVE_TENANT_RESOURCE_TYPES, signupFor };

/** Provisions through the event path and waits until everything has settled. */
export async function provision(cloud: LocalCloud, tenantId: string, overrides: Record<string, unknown> = {}) {
  await cloud.signup(signupFor(tenantId, overrides));
  await cloud.settle();
  return cloud.tenant(tenantId);
}

/** Resource types still present for the tenant (by tag), sorted, for readable failures. */
export function leftovers(cloud: LocalCloud, tenantId: string): string[] {
  return cloud.fake
    .resourcesByTenant(tenantId)
    .filter((r) => r.tags['octw:cell'] === cloud.cell.cellId)
    .map((r) => `${r.type} ${r.id}`)
    .sort();
}

export function executionsOf(cloud: LocalCloud, tenantId: string) {
  return cloud.sfn.list().filter((e) => e.name.includes(`-${tenantId}-`) || e.name.endsWith(`-${tenantId}`) || e.name === tenantId);
}


export const resourceTypes = (cloud: LocalCloud, tenantId: string): string[] =>
  leftovers(cloud, tenantId).map((r) => r.split(' ')[0]!);

/** Starts a lifecycle workflow as the console or CLI would and waits for it to end. */
export async function runWorkflow(
  cloud: LocalCloud,
  stateMachine: 'DeprovisionTenant' | 'SuspendTenant' | 'ResumeTenant' | 'UpdateTenant',
  input: unknown,
  name?: string,
) {
  const { executionArn } = await cloud.sfn.startExecution(stateMachine, input, name);
  return cloud.sfn.waitForExecution(executionArn);
}

/** Lifecycle event detail-types emitted for the tenant, in order. */
export function lifecycleEventsOf(cloud: LocalCloud, tenantId: string): string[] {
  return cloud.bus.events
    .filter((e) => e.source === process.env.EVENT_SOURCE && (e.detail as { tenantId?: string }).tenantId === tenantId)
    .map((e) => e['detail-type']);
}

export const gatewaySecretName = (tenantId: string) => `octw/tenants/local/${tenantId}/gateway-token`;

/** The tenant's log group in the fake (found by its tags), if any. */
export function tenantLogGroup(cloud: LocalCloud, tenantId: string) {
  const ref = cloud.fake.resourcesByTenant(tenantId).find((r) => r.type === 'AWS::Logs::LogGroup');
  return ref ? cloud.fake.logGroup(ref.id) : undefined;
}

/**
 * What a deprovisioned tenant may still own: nothing, except its gateway-token secret while it is
 * scheduled for deletion (restorable during the recovery window, as AWS counts it) and its log
 * group, kept with its retention until the tenant is purged (the evidence of what it did).
 * Returns the leftovers that break that rule.
 */
export function leftoversAfterDeprovision(cloud: LocalCloud, tenantId: string): string[] {
  const secret = cloud.fake.secret(gatewaySecretName(tenantId));
  return leftovers(cloud, tenantId).filter(
    (r) =>
      !(r.startsWith('AWS::SecretsManager::Secret ') && secret?.deletionDate !== undefined) &&
      !(r.startsWith('AWS::Logs::LogGroup ') && tenantLogGroup(cloud, tenantId)?.retentionInDays !== undefined),
  );
}

/** Egress rules of the tenant's security group as "proto from-to target", sorted. */
export function egressRulesOf(cloud: LocalCloud, tenantId: string): string[] {
  const sg = cloud.fake.securityGroup(`octw-local--${tenantId}`);
  return (sg?.rules ?? [])
    .filter((r) => r.isEgress)
    .map((r) => `${r.ipProtocol} ${r.fromPort}-${r.toPort} ${r.cidrIpv4 ?? r.cidrIpv6 ?? r.prefixListId ?? r.referencedGroupId}`)
    .sort();
}

/** The service's desired count, running count and the revision its primary deployment runs. */
export function serviceState(cloud: LocalCloud, tenantId: string) {
  const svc = cloud.fake.ecsService(`octw-local--${tenantId}`);
  if (!svc) return undefined;
  const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
  return {
    status: svc.status,
    desiredCount: svc.desiredCount,
    revision: primary?.taskDefinitionArn.split('/').pop(),
  };
}

/** The handler's error message inside a failed execution's cause (Lambda's JSON), or the cause itself. */
export function causeMessage(snapshot: { cause?: string }): string {
  try {
    const parsed = JSON.parse(snapshot.cause ?? '') as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : (snapshot.cause ?? '');
  } catch {
    return snapshot.cause ?? '';
  }
}

// ---------------------------------------------------------------------------------------------
// Fault matrix of the lifecycle workflows (used by test-slow/workflows/lifecycle-faults-*.test.ts, one file per kind)

export type LifecycleWorkflow = 'DeprovisionTenant' | 'SuspendTenant' | 'ResumeTenant' | 'UpdateTenant';

/** Every AWS call each workflow makes on a clean run (checked against a real run in test-slow/workflows/lifecycle-faults-transient). */
export const LIFECYCLE_CALLS: Readonly<Record<LifecycleWorkflow, readonly (readonly [ServiceName, string])[]>> = {
  DeprovisionTenant: [
    ['EventBridge', 'PutEvents'],
    ['ECS', 'DescribeServices'],
    ['ECS', 'DeleteService'],
    ['ECS', 'ListTaskDefinitions'],
    ['ECS', 'DescribeTaskDefinition'],
    ['ECS', 'DeregisterTaskDefinition'],
    ['ECS', 'DeleteTaskDefinitions'],
    ['IAM', 'GetRole'],
    ['IAM', 'ListRolePolicies'],
    ['IAM', 'DeleteRolePolicy'],
    ['IAM', 'DeleteRole'],
    ['Bedrock', 'ListInferenceProfiles'],
    ['Bedrock', 'ListTagsForResource'],
    ['Bedrock', 'DeleteInferenceProfile'],
    ['SecretsManager', 'DescribeSecret'],
    ['SecretsManager', 'DeleteSecret'],
    // The tenant's credential secrets (channel tokens, provider keys) under its prefix.
    ['SecretsManager', 'ListSecrets'],
    ['EFS', 'DescribeAccessPoints'],
    ['EFS', 'DeleteAccessPoint'],
    ['EC2', 'DescribeSecurityGroups'],
    ['EC2', 'DeleteSecurityGroup'],
  ],
  SuspendTenant: [
    ['EventBridge', 'PutEvents'],
    ['ECS', 'UpdateService'],
    ['ECS', 'DescribeServices'],
  ],
  ResumeTenant: [
    ['EventBridge', 'PutEvents'],
    ['ECS', 'UpdateService'],
    ['ECS', 'DescribeServices'],
  ],
  UpdateTenant: [
    ['EventBridge', 'PutEvents'],
    ['EC2', 'DescribeSecurityGroups'],
    ['EC2', 'DescribeManagedPrefixLists'],
    ['EC2', 'DescribeSecurityGroupRules'],
    ['EC2', 'AuthorizeSecurityGroupEgress'],
    ['EC2', 'RevokeSecurityGroupEgress'],
    ['Bedrock', 'ListInferenceProfiles'],
    ['Bedrock', 'CreateInferenceProfile'],
    ['Bedrock', 'ListTagsForResource'],
    ['IAM', 'GetRole'],
    ['IAM', 'PutRolePolicy'],
    ['ECS', 'ListTaskDefinitions'],
    ['ECS', 'DescribeTaskDefinition'],
    ['ECS', 'RegisterTaskDefinition'],
    ['ECS', 'UpdateService'],
    ['ECS', 'DescribeServices'],
  ],
};

/** The update every matrix run asks for: it changes the allowlist, the plan's models and the revision. */
export const MATRIX_UPDATE = {
  plan: 'pro',
  egressAllowlist: [{ cidr: '192.0.2.0/28', ports: [443], description: 'billing API' }],
} as const;

const SHORT: Record<LifecycleWorkflow, string> = { DeprovisionTenant: 'dep', SuspendTenant: 'sus', ResumeTenant: 'res', UpdateTenant: 'upd' };
const KIND: Partial<Record<FaultKind, string>> = { crashAfterSuccess: 'crash' };

/** A tenant ready for the workflow: ACTIVE, or SUSPENDED for a resume. Returns its record. */
export async function tenantReadyFor(cloud: LocalCloud, workflow: LifecycleWorkflow, tenantId: string) {
  const record = await provision(cloud, tenantId);
  if (record?.status !== 'ACTIVE') throw new Error(`setup: ${tenantId} is ${record?.status ?? 'missing'} after provisioning`);
  if (workflow === 'ResumeTenant') {
    const suspended = await runWorkflow(cloud, 'SuspendTenant', { tenantId }, `setup-suspend-${tenantId}`);
    if (suspended.status !== 'SUCCEEDED') throw new Error(`setup: suspend of ${tenantId} ${suspended.status}`);
  }
  return cloud.tenant(tenantId);
}

export const inputFor = (workflow: LifecycleWorkflow, tenantId: string) =>
  workflow === 'UpdateTenant' ? { tenantId, ...MATRIX_UPDATE } : { tenantId };

/** Asserts the end state of a clean run of the workflow. */
export async function expectCompleted(cloud: LocalCloud, workflow: LifecycleWorkflow, tenantId: string): Promise<void> {
  const record = await cloud.tenant(tenantId);
  switch (workflow) {
    case 'DeprovisionTenant':
      expect(record?.status).toBe('DEPROVISIONED');
      expect(leftoversAfterDeprovision(cloud, tenantId)).toEqual([]);
      return;
    case 'SuspendTenant':
      expect(record?.status).toBe('SUSPENDED');
      expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
      expect(serviceState(cloud, tenantId)).toEqual({ status: 'ACTIVE', desiredCount: 0, revision: `octw-local--${tenantId}:1` });
      return;
    case 'ResumeTenant':
      expect(record?.status).toBe('ACTIVE');
      expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
      expect(serviceState(cloud, tenantId)).toEqual({ status: 'ACTIVE', desiredCount: 1, revision: `octw-local--${tenantId}:1` });
      return;
    case 'UpdateTenant':
      expect(record).toMatchObject({ status: 'ACTIVE', plan: 'pro' });
      expect(record?.previous).toBeUndefined();
      // Exactly one new revision, running, and the rules of the new allowlist.
      expect(cloud.fake.taskDefinition(`octw-local--${tenantId}`)?.revision).toBe(2);
      expect(serviceState(cloud, tenantId)).toEqual({ status: 'ACTIVE', desiredCount: 1, revision: `octw-local--${tenantId}:2` });
      expect(egressRulesOf(cloud, tenantId).filter((r) => r.includes('192.0.2.0/28') || r.includes('203.0.113.0/24'))).toEqual([
        'tcp 443-443 192.0.2.0/28',
      ]);
      return;
  }
}

/** Asserts that a failed run put the tenant back where it was (or FAILED for a deprovision), with the cause recorded. */
export async function expectRolledBack(
  cloud: LocalCloud,
  workflow: LifecycleWorkflow,
  tenantId: string,
  before: TenantRecord | undefined,
): Promise<void> {
  const record = await cloud.tenant(tenantId);
  expect(record?.lastError?.message).toBeTruthy();
  switch (workflow) {
    case 'DeprovisionTenant':
      expect(record?.status).toBe('FAILED');
      return;
    case 'SuspendTenant':
      expect(record?.status).toBe('ACTIVE');
      expect(serviceState(cloud, tenantId)?.desiredCount).toBe(1);
      expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
      return;
    case 'ResumeTenant':
      expect(record?.status).toBe('SUSPENDED');
      expect(serviceState(cloud, tenantId)?.desiredCount).toBe(0);
      expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
      return;
    case 'UpdateTenant':
      expect(record).toMatchObject({
        status: 'ACTIVE',
        plan: before?.plan,
        egressAllowlist: before?.egressAllowlist,
        configHash: before?.configHash,
        resources: before?.resources,
      });
      expect(record?.previous).toBeUndefined();
      expect(serviceState(cloud, tenantId)).toMatchObject({ status: 'ACTIVE', desiredCount: 1, revision: `octw-local--${tenantId}:1` });
      expect(egressRulesOf(cloud, tenantId).filter((r) => r.includes('192.0.2.0/28') || r.includes('203.0.113.0/24'))).toEqual([
        'tcp 443-443 203.0.113.0/24',
      ]);
      expect(cloud.fake.role(`octw-local--${tenantId}`)?.policies.get(`octw-local--${tenantId}`)).not.toContain('haiku');
      return;
  }
}

/**
 * One describe per (workflow, call): the fault is injected on the next such call and the workflow
 * must still complete (transient, crashAfterSuccess) or end where it started with the cause
 * recorded (permanent); never in a transitional state, never with a resource too many.
 */
export function describeLifecycleFaultMatrix(kind: FaultKind, workflows: readonly LifecycleWorkflow[]): void {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startLocalCloud();
  });
  afterAll(async () => {
    await cloud.stop();
  });

  const cases = workflows.flatMap((workflow) =>
    LIFECYCLE_CALLS[workflow].map(([service, operation], index) => ({ workflow, service, operation, index })),
  );
  describe.each(cases)(`${kind} fault in $service $operation during $workflow`, ({ workflow, service, operation, index }) => {
    const tenantId = `${KIND[kind] ?? kind.slice(0, 4)}-${SHORT[workflow]}-${index}`;
    const outcome = kind === 'permanent' ? 'ends where it started (FAILED for a deprovision) with the cause recorded' : 'still completes with nothing extra';

    it(outcome, async () => {
      const before = await tenantReadyFor(cloud, workflow, tenantId);
      const fired = cloud.fake.faults.fired.length;
      cloud.fake.inject({ service, operation, kind });
      const done = await runWorkflow(cloud, workflow, inputFor(workflow, tenantId));
      expect(cloud.fake.faults.fired.slice(fired)).toContainEqual(expect.objectContaining({ service, operation, kind }));
      expect(TRANSITIONAL_STATUSES).not.toContain((await cloud.tenant(tenantId))?.status);
      if (kind !== 'permanent') {
        expect(done.status).toBe('SUCCEEDED');
        await expectCompleted(cloud, workflow, tenantId);
        return;
      }
      expect(done.status).toBe('FAILED');
      await expectRolledBack(cloud, workflow, tenantId, before);
      if (workflow === 'DeprovisionTenant') {
        // Nothing is stuck: FAILED is deprovisioned by the next request.
        const again = await runWorkflow(cloud, workflow, { tenantId }, `again-${tenantId}`);
        expect(again.status).toBe('SUCCEEDED');
        await expectCompleted(cloud, workflow, tenantId);
      }
    });
  });

  if (kind === 'transient') {
    it.each(workflows)('covers every call a clean %s run makes', async (workflow) => {
      const tenantId = `base-${SHORT[workflow]}`;
      await tenantReadyFor(cloud, workflow, tenantId);
      const from = cloud.fake.calls.length;
      expect((await runWorkflow(cloud, workflow, inputFor(workflow, tenantId))).status).toBe('SUCCEEDED');
      const made = new Set(cloud.fake.calls.slice(from).map((c) => `${c.service} ${c.operation}`));
      expect([...made].sort()).toEqual(LIFECYCLE_CALLS[workflow].map(([s, o]) => `${s} ${o}`).sort());
    });
  }
}
