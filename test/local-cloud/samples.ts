/**
 * Sample input shared by the workflow tests and the benchmark: a valid signup, and what an ACTIVE
 * tenant owns in the fake.
 */
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

/** The resource types an ACTIVE tenant owns, one of each. */
export const ACTIVE_TENANT_RESOURCE_TYPES = [
  'AWS::Bedrock::ApplicationInferenceProfile',
  'AWS::EC2::SecurityGroup',
  'AWS::ECS::Service',
  'AWS::ECS::TaskDefinition',
  'AWS::EFS::AccessPoint',
  'AWS::IAM::Role',
  'AWS::Logs::LogGroup',
  'AWS::SecretsManager::Secret',
  // The egress-proxy URL secret (issue 10).
  'AWS::SecretsManager::Secret',
];
