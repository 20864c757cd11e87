/**
 * The fault matrix of the provision workflow: every AWS control-plane call it makes, failed in
 * each way the fake can fail it. Used by the three provision-faults-*.test.ts files (one per kind,
 * so jest can run them in parallel).
 */
import type { FaultKind, ServiceName } from '../local-cloud/fake-aws';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { ACTIVE_TENANT_RESOURCE_TYPES, executionsOf, provision, resourceTypes } from './support';

/** Every call of a successful provisioning (checked against a real run in provision-faults-transient). */
export const PROVISION_CALLS: readonly (readonly [ServiceName, string])[] = [
  ['EventBridge', 'PutEvents'],
  ['EC2', 'DescribeSecurityGroups'],
  ['EC2', 'CreateSecurityGroup'],
  ['EC2', 'DescribeManagedPrefixLists'],
  ['EC2', 'DescribeSecurityGroupRules'],
  ['EC2', 'AuthorizeSecurityGroupEgress'],
  ['EC2', 'RevokeSecurityGroupEgress'],
  ['EFS', 'CreateAccessPoint'],
  ['EFS', 'DescribeAccessPoints'],
  ['Bedrock', 'ListInferenceProfiles'],
  ['Bedrock', 'CreateInferenceProfile'],
  ['Bedrock', 'ListTagsForResource'],
  ['IAM', 'CreateRole'],
  ['IAM', 'PutRolePolicy'],
  ['SecretsManager', 'DescribeSecret'],
  ['SecretsManager', 'CreateSecret'],
  ['CloudWatchLogs', 'CreateLogGroup'],
  ['CloudWatchLogs', 'PutRetentionPolicy'],
  ['ECS', 'ListTaskDefinitions'],
  ['ECS', 'RegisterTaskDefinition'],
  ['ECS', 'DescribeServices'],
  ['ECS', 'CreateService'],
];

const slug = (s: string) => s.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
/** A tenant id per (kind, call): the index keeps truncated names unique. */
export const tenantFor = (kind: FaultKind, index: number, operation: string) =>
  `${kind === 'crashAfterSuccess' ? 'crash' : kind.slice(0, 5)}-${index}-${slug(operation)}`.slice(0, 32).replace(/-+$/, '');

export function describeFaultMatrix(kind: FaultKind): void {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startLocalCloud();
  });
  afterAll(async () => {
    await cloud.stop();
  });

  describe.each(PROVISION_CALLS.map(([s, o], index) => ({ service: s, operation: o, index })))(
    `${kind} fault in $service $operation`,
    ({ service, operation, index }) => {
    const tenantId = tenantFor(kind, index, operation);

    it(kind === 'permanent' ? 'ends FAILED with the cause recorded and nothing left behind' : 'still ends ACTIVE with exactly one of each resource', async () => {
      cloud.fake.inject({ service, operation, kind });
      const record = await provision(cloud, tenantId);
      expect(cloud.fake.faults.fired.some((f) => f.service === service && f.operation === operation && f.kind === kind)).toBe(true);
      expect(executionsOf(cloud, tenantId)).toHaveLength(1);
      if (kind === 'permanent') {
        expect(record?.status).toBe('FAILED');
        expect(record?.lastError?.message).toBeTruthy();
        expect(resourceTypes(cloud, tenantId)).toEqual([]);
      } else {
        expect(record?.status).toBe('ACTIVE');
        expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
        expect(cloud.fake.taskDefinition(`octw-local--${tenantId}`)?.revision).toBe(1);
      }
    });
    },
  );

  if (kind === 'transient') {
    it('covers every call a provisioning makes', async () => {
      cloud.fake.calls.length = 0;
      await provision(cloud, 'matrix-baseline');
      const made = new Set(cloud.fake.calls.map((c) => `${c.service} ${c.operation}`));
      expect([...made].sort()).toEqual(PROVISION_CALLS.map(([s, o]) => `${s} ${o}`).sort());
    });
  }
}
