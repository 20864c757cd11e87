/**
 * The fault matrix of the ingress steps of provisioning (issue 12): every call the route steps
 * (PrepareRoute, VerifyRoute, OpenRoute) and the tenant security group's ingress rule add, failed
 * in each way the fake fails a call. Transient, throttled and crashed-after-success calls still end
 * ACTIVE with exactly one route; a permanent one ends FAILED with nothing left (route, target
 * group, DNS record included). Used by ingress-faults-*.test.ts.
 */
import type { FaultKind } from '../local-cloud/fake-aws';
import type { IngressServiceName } from '../local-cloud/fake-aws/ingress-errors';
import type { ServiceName } from '../local-cloud/fake-aws';
import { LOCAL_INGRESS_DOMAIN, LOCAL_INGRESS_ZONE_ID, startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { executionsOf, provision, resourceTypes } from './support';
import { tenantFor } from './fault-matrix';

/** The calls ingress adds to a provisioning (checked against a real run below). */
export const INGRESS_PROVISION_CALLS: readonly (readonly [ServiceName | IngressServiceName, string])[] = [
  ['EC2', 'AuthorizeSecurityGroupIngress'],
  ['ELBv2', 'CreateTargetGroup'],
  ['ELBv2', 'DescribeTags'],
  ['ELBv2', 'DescribeRules'],
  ['ELBv2', 'CreateRule'],
  ['ELBv2', 'ModifyRule'],
  ['Route53', 'ChangeResourceRecordSets'],
  ['SecretsManager', 'GetSecretValue'],
];

const INGRESS_TYPES = ['AWS::ElasticLoadBalancingV2::ListenerRule', 'AWS::ElasticLoadBalancingV2::TargetGroup'];

export function describeIngressFaultMatrix(kinds: readonly FaultKind[]): void {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startLocalCloud({ ingress: { shards: 2 } });
  });
  afterAll(async () => {
    await cloud.stop();
  });

  const routeOf = (tenantId: string) => ({
    rules: [...cloud.fake.ingress.elb.rules.values()].filter((r) => r.tags.get('octw:tenant') === tenantId),
    targetGroups: [...cloud.fake.ingress.elb.targetGroups.values()].filter((t) => t.tags.get('octw:tenant') === tenantId),
    record: cloud.fake.ingress.route53.record(LOCAL_INGRESS_ZONE_ID, `${tenantId}.${LOCAL_INGRESS_DOMAIN}`),
  });

  const cases = kinds.flatMap((kind) => INGRESS_PROVISION_CALLS.map(([service, operation], index) => ({ kind, service, operation, index })));
  describe.each(cases)('$kind fault in $service $operation', ({ kind, service, operation, index }) => {
    const tenantId = tenantFor(kind, 50 + index, operation);
    it(kind === 'permanent' ? 'ends FAILED with the cause recorded and nothing left behind, route included' : 'still ends ACTIVE with exactly one live route', async () => {
      cloud.fake.inject({ service, operation, kind });
      const record = await provision(cloud, tenantId);
      expect(cloud.fake.faults.fired.some((f) => f.service === service && f.operation === operation && f.kind === kind)).toBe(true);
      expect(executionsOf(cloud, tenantId)).toHaveLength(1);
      const route = routeOf(tenantId);
      if (kind === 'permanent') {
        expect(record?.status).toBe('FAILED');
        expect(record?.lastError?.message).toBeTruthy();
        expect(resourceTypes(cloud, tenantId)).toEqual([]);
        expect(route.rules).toEqual([]);
        expect(route.targetGroups).toEqual([]);
        expect(route.record).toBeUndefined();
      } else {
        expect(record?.status).toBe('ACTIVE');
        expect(record?.ingress?.mode).toBe('live');
        expect(route.rules).toHaveLength(1);
        expect(route.targetGroups).toHaveLength(1);
        expect(route.record).toBeDefined();
        expect(resourceTypes(cloud, tenantId).filter((t) => INGRESS_TYPES.includes(t))).toEqual(INGRESS_TYPES);
      }
    });
  });

  if (kinds.includes('transient')) {
    it('covers every call ingress adds to a provisioning', async () => {
      cloud.fake.calls.length = 0;
      await provision(cloud, 'ingress-baseline');
      const made = new Set(cloud.fake.calls.map((c) => `${c.service} ${c.operation}`));
      for (const [s, o] of INGRESS_PROVISION_CALLS) expect(made).toContain(`${s} ${o}`);
      const ingressMade = [...made].filter((c) => c.startsWith('ELBv2 ') || c.startsWith('Route53 '));
      expect(ingressMade.sort()).toEqual(INGRESS_PROVISION_CALLS.filter(([s]) => s === 'ELBv2' || s === 'Route53').map(([s, o]) => `${s} ${o}`).sort());
    });
  }
}
