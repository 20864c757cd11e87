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
