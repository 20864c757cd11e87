/**
 * Helpers shared by the workflow tests: signups, and reading what a tenant owns back from the fake.
 */
import type { LocalCloud } from '../local-cloud/local-cloud';

export function signupFor(tenantId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenantId,
    displayName: `Tenant ${tenantId}`,
    ownerEmail: `ops@${tenantId}.example`,
    plan: 'standard',
    egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443], description: 'partner API' }],
    ...overrides,
  };
}

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
    .map((r) => `${r.type} ${r.id}`)
    .sort();
}

export function executionsOf(cloud: LocalCloud, tenantId: string) {
  return cloud.sfn.list().filter((e) => e.name.includes(`-${tenantId}-`) || e.name.endsWith(`-${tenantId}`) || e.name === tenantId);
}

/** The resource types an ACTIVE tenant owns, one of each. */
export const ACTIVE_TENANT_RESOURCE_TYPES = [
  'AWS::EC2::SecurityGroup',
  'AWS::ECS::Service',
  'AWS::ECS::TaskDefinition',
  'AWS::EFS::AccessPoint',
  'AWS::IAM::Role',
  'AWS::Logs::LogGroup',
  'AWS::SecretsManager::Secret',
];

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

export const gatewaySecretName = (tenantId: string) => `octw/tenants/${tenantId}/gateway-token`;

/**
 * What a deprovisioned tenant may still own: nothing, except its gateway-token secret while it is
 * scheduled for deletion (restorable during the recovery window, as AWS counts it). Returns the
 * leftovers that break that rule.
 */
export function leftoversAfterDeprovision(cloud: LocalCloud, tenantId: string): string[] {
  const secret = cloud.fake.secret(gatewaySecretName(tenantId));
  return leftovers(cloud, tenantId).filter(
    (r) => !(r.startsWith('AWS::SecretsManager::Secret ') && secret?.deletionDate !== undefined),
  );
}

/** Egress rules of the tenant's security group as "proto from-to target", sorted. */
export function egressRulesOf(cloud: LocalCloud, tenantId: string): string[] {
  const sg = cloud.fake.securityGroup(`octw-${tenantId}`);
  return (sg?.rules ?? [])
    .filter((r) => r.isEgress)
    .map((r) => `${r.ipProtocol} ${r.fromPort}-${r.toPort} ${r.cidrIpv4 ?? r.cidrIpv6 ?? r.prefixListId ?? r.referencedGroupId}`)
    .sort();
}

/** The service's desired count, running count and the revision its primary deployment runs. */
export function serviceState(cloud: LocalCloud, tenantId: string) {
  const svc = cloud.fake.ecsService(`octw-${tenantId}`);
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
