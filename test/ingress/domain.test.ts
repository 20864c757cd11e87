import {
  chooseShard,
  IngressSettingsSchema,
  ingressGatewayKeys,
  nextFreePriority,
  preferredPriority,
  ruleActions,
  ruleConditions,
  shardCapacity,
  STAGING_HEADER,
  targetGroupName,
  tenantHostname,
  tenantIngressPermission,
  tenantOrigin,
} from '../../functions/domain/ingress';
import type { IngressShard, ShardUsage } from '../../functions/domain/ingress';

const shard = (id: string): IngressShard => ({ id, listenerArn: `arn:aws:elasticloadbalancing:us-east-1:1:listener/app/${id}/a/b`, dnsName: `${id}.elb.amazonaws.com`, canonicalHostedZoneId: 'Z35SXDOTRQ7X7K' });

describe('tenant hostname and origin', () => {
  it('returns <tenant>.<domain> and the https origin', () => {
    expect(tenantHostname('acme', 'cell-1.example.com')).toBe('acme.cell-1.example.com');
    expect(tenantOrigin('acme', 'cell-1.example.com')).toBe('https://acme.cell-1.example.com');
  });

  it('refuses an invalid tenant id or a domain with a wildcard, upper case or one label', () => {
    expect(() => tenantHostname('Acme', 'example.com')).toThrow();
    expect(() => tenantHostname('acme', '*.example.com')).toThrow(/DNS name/);
    expect(() => tenantHostname('acme', 'Example.com')).toThrow(/lower case/);
    expect(() => tenantHostname('acme', 'localhost')).toThrow(/two labels/);
  });
});

describe('targetGroupName', () => {
  it('returns a 32-character ELBv2-valid name, stable per (cell, tenant) and different across cells and tenants', () => {
    const n = targetGroupName('cell-1', 'a-tenant-with-a-thirty-two-chars');
    expect(n).toHaveLength(32);
    expect(n).toMatch(/^[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]$/);
    expect(targetGroupName('cell-1', 'acme')).toBe(targetGroupName('cell-1', 'acme'));
    expect(targetGroupName('cell-2', 'acme')).not.toBe(targetGroupName('cell-1', 'acme'));
    expect(targetGroupName('cell-1', 'acme2')).not.toBe(targetGroupName('cell-1', 'acme'));
  });
});

describe('priorities', () => {
  it('spreads preferred priorities over 1..50000', () => {
    const ps = ['acme', 'bravo', 'charlie', 'delta', 'echo'].map((t) => preferredPriority('cell-1', t));
    for (const p of ps) expect(p).toBeGreaterThanOrEqual(1);
    for (const p of ps) expect(p).toBeLessThanOrEqual(50_000);
    expect(new Set(ps).size).toBe(ps.length);
  });

  it('returns the first free priority at or after the start, wrapping past 50000', () => {
    expect(nextFreePriority(new Set([5, 6]), 5)).toBe(7);
    expect(nextFreePriority(new Set([50_000]), 50_000)).toBe(1);
    expect(nextFreePriority(new Set(), 42)).toBe(42);
  });
});

describe('chooseShard', () => {
  const shards = [shard('alb-1'), shard('alb-2'), shard('alb-3')];
  const usage = (rules: number, tgs = rules): ShardUsage => ({ shardId: '', rules, targetGroups: tgs });

  it('places first-fit: the first shard with room for one more rule and target group', () => {
    const u = new Map([['alb-1', usage(100)], ['alb-2', usage(40)]]);
    expect(chooseShard(shards, u, 100)?.id).toBe('alb-2');
  });

  it('caps a shard at 100 target groups even when the account allows 200 rules', () => {
    const u = new Map([['alb-1', usage(100, 100)]]);
    expect(chooseShard(shards, u, 200)?.id).toBe('alb-2');
    expect(shardCapacity(200)).toBe(100);
    expect(shardCapacity(50)).toBe(50);
  });

  it('skips excluded shards and returns undefined when every shard is full', () => {
    expect(chooseShard(shards, new Map(), 100, new Set(['alb-1']))?.id).toBe('alb-2');
    const full = new Map(shards.map((s) => [s.id, usage(100)]));
    expect(chooseShard(shards, full, 100)).toBeUndefined();
  });
});

describe('rule shapes', () => {
  it('matches only the exact host when live, and also the staging header while staging', () => {
    expect(ruleConditions('acme.d.com', 'live')).toEqual([{ Field: 'host-header', HostHeaderConfig: { Values: ['acme.d.com'] } }]);
    const staging = ruleConditions('acme.d.com', 'staging', 'tok_abcdefghijklmnop');
    expect(staging[1]).toEqual({ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: STAGING_HEADER, Values: ['tok_abcdefghijklmnop'] } });
    expect(() => ruleConditions('acme.d.com', 'staging')).toThrow(/staging token/);
  });

  it('forwards to the tenant target group, behind authenticate-oidc when configured, and answers 503 in maintenance', () => {
    expect(ruleActions('live', 'tg-a')).toEqual([{ Type: 'forward', Order: 1, TargetGroupArn: 'tg-a' }]);
    const oidc = { issuer: 'https://idp.example.com', authorizationEndpoint: 'https://idp.example.com/a', tokenEndpoint: 'https://idp.example.com/t', userInfoEndpoint: 'https://idp.example.com/u', clientId: 'cid' };
    const withOidc = ruleActions('live', 'tg-a', { config: oidc, clientSecret: 's3cret', tenantId: 'acme' });
    expect(withOidc.map((a) => a.Type)).toEqual(['authenticate-oidc', 'forward']);
    expect(withOidc[0]!.AuthenticateOidcConfig).toMatchObject({ ClientId: 'cid', ClientSecret: 's3cret', Issuer: 'https://idp.example.com' });
    const m = ruleActions('maintenance', 'tg-a');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } });
  });
});

describe('ingressGatewayKeys', () => {
  it('trusts exactly the ingress subnets as proxies and allows exactly the tenant origin', () => {
    const keys = ingressGatewayKeys('acme', { domain: 'cell-1.example.com', ingressCidrs: ['10.0.0.0/24', '10.0.1.0/24'] });
    expect(keys).toEqual({ trustedProxies: ['10.0.0.0/24', '10.0.1.0/24'], controlUi: { enabled: true, allowedOrigins: ['https://acme.cell-1.example.com'] } });
  });

  it('refuses 0.0.0.0/0 (every client could spoof X-Forwarded-For) and a non-CIDR', () => {
    expect(() => ingressGatewayKeys('acme', { domain: 'd.example.com', ingressCidrs: ['0.0.0.0/0'] })).toThrow(/every address/);
    expect(() => ingressGatewayKeys('acme', { domain: 'd.example.com', ingressCidrs: ['not-a-cidr'] })).toThrow();
  });
});

describe('IngressSettingsSchema', () => {
  const base = { cell: 'cell-1', domain: 'cell-1.example.com', hostedZoneId: 'Z0123456789ABC', vpcId: 'vpc-1', shards: [shard('alb-1')], ingressCidrs: ['10.0.0.0/24'] };

  it('defaults rulesPerShard to the AWS default of 100', () => {
    expect(IngressSettingsSchema.parse(base).rulesPerShard).toBe(100);
  });

  it('says what is wrong: no shard, duplicate shard ids, a bad zone id', () => {
    expect(() => IngressSettingsSchema.parse({ ...base, shards: [] })).toThrow(/at least one shard/);
    expect(() => IngressSettingsSchema.parse({ ...base, shards: [shard('alb-1'), shard('alb-1')] })).toThrow(/unique/);
    expect(() => IngressSettingsSchema.parse({ ...base, hostedZoneId: 'zone' })).toThrow(/hostedZoneId/);
  });
});

describe('tenantIngressPermission', () => {
  it('admits only the ingress security group, only on TCP 18789', () => {
    expect(tenantIngressPermission('sg-0123456789abcdef0')).toEqual({
      IpProtocol: 'tcp', FromPort: 18789, ToPort: 18789, UserIdGroupPairs: [{ GroupId: 'sg-0123456789abcdef0', Description: 'OCTW ingress tier to the gateway' }],
    });
    expect(() => tenantIngressPermission('0.0.0.0/0')).toThrow(/not a security group id/);
  });
});
