/** Test support (not a test): the ingress adapter's ports bound to the ingress fake, and settings for a cell with N shards. */
import type { ElbV2Port, OidcSecretReader, Route53Port } from '../../functions/adapters/ingress-routes';
import { IngressRoutes } from '../../functions/adapters/ingress-routes';
import type { IngressSettings } from '../../functions/domain/ingress';
import { IngressSettingsSchema } from '../../functions/domain/ingress';
import type { IngressFakeOptions } from '../local-cloud/fake-aws/ingress';
import { IngressFake } from '../local-cloud/fake-aws/ingress';

export const ZONE_ID = 'Z0123456789ABCDEFGHIJ';
export const DOMAIN = 'cell-1.example.com';
export const CELL = 'cell-1';

type Call = (service: 'ELBv2' | 'Route53', operation: string, input: unknown) => Promise<unknown>;

/** The ports as the SDK binding will implement them, one call each, through `call`. */
export function portsOf(call: Call): { elb: ElbV2Port; dns: Route53Port } {
  const e = <T>(op: string) => (input: unknown) => call('ELBv2', op, input) as Promise<T>;
  const r = <T>(op: string) => (input: unknown) => call('Route53', op, input) as Promise<T>;
  return {
    elb: {
      createTargetGroup: e('CreateTargetGroup'),
      describeTargetGroups: e('DescribeTargetGroups'),
      deleteTargetGroup: e('DeleteTargetGroup'),
      describeTags: e('DescribeTags'),
      describeRules: e('DescribeRules'),
      createRule: e('CreateRule'),
      modifyRule: e('ModifyRule'),
      deleteRule: e('DeleteRule'),
    },
    dns: { changeResourceRecordSets: r('ChangeResourceRecordSets'), listResourceRecordSets: r('ListResourceRecordSets') },
  };
}

export interface IngressWorld {
  fake: IngressFake;
  settings: IngressSettings;
  routes: IngressRoutes;
  secrets: Map<string, string>;
}

/** A fake with `shards` ALBs (HTTPS listeners) and the hosted zone, and an adapter over it. */
export function world(shards = 1, options: IngressFakeOptions & { rulesPerShard?: number; call?: (fake: IngressFake) => Call; priorityStart?: () => number } = {}): IngressWorld {
  const fake = new IngressFake({ now: () => Date.UTC(2026, 0, 1), ...options });
  fake.route53.addHostedZone(ZONE_ID, DOMAIN);
  const shardList = Array.from({ length: shards }, (_, i) => {
    const { loadBalancer, listenerArn } = fake.elb.addLoadBalancer(`octw-cell-1-in-${i + 1}`);
    return { id: `alb-${i + 1}`, listenerArn, dnsName: loadBalancer.dnsName, canonicalHostedZoneId: loadBalancer.canonicalHostedZoneId };
  });
  const settings = IngressSettingsSchema.parse({
    cell: CELL,
    domain: DOMAIN,
    hostedZoneId: ZONE_ID,
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    shards: shardList,
    rulesPerShard: options.rulesPerShard ?? 100,
    ingressCidrs: ['10.0.0.0/24', '10.0.1.0/24'],
  });
  const secrets = new Map<string, string>();
  const reader: OidcSecretReader = {
    clientSecret: (id) => {
      const s = secrets.get(id);
      return s ? Promise.resolve(s) : Promise.reject(new Error(`no OIDC client secret for ${id}`));
    },
  };
  const call = options.call?.(fake) ?? ((s, o, i) => fake.call(s, o, i));
  const { elb, dns } = portsOf(call);
  return { fake, settings, routes: new IngressRoutes(elb, dns, settings, reader, options.priorityStart), secrets };
}

/** The tenant whose target group a rule forwards to, read from the target group's tags. */
export function tenantOfTargetGroup(fake: IngressFake, arn: string): string | undefined {
  return fake.elb.targetGroups.get(arn)?.tags.get('octw:tenant');
}
