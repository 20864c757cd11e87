/**
 * Fidelity of the ELBv2 and Route 53 fakes: AWS's error codes, the shape the SDK v3 clients give
 * them (measured against client-elastic-load-balancing-v2 3.1142.0 and client-route-53 3.1169.0,
 * see ingress-errors.ts), quotas, and the trace.
 */
import { IngressFake } from '../local-cloud/fake-aws/ingress';

const ZONE = 'Z0123456789ABCDEFGHIJ';

function setUp(limits: ConstructorParameters<typeof IngressFake>[0] = {}) {
  const fake = new IngressFake({ now: () => Date.UTC(2026, 0, 1), ...limits });
  fake.route53.addHostedZone(ZONE, 'cell-1.example.com');
  const a = fake.elb.addLoadBalancer('alb-a');
  const b = fake.elb.addLoadBalancer('alb-b');
  const http = fake.elb.addLoadBalancer('alb-http', 'HTTP');
  return { fake, a, b, http };
}

type Err = Error & { Code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
async function errorOf(p: Promise<unknown>): Promise<Err> {
  try {
    await p;
  } catch (e) {
    return e as Err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

const tgInput = (name: string, extra: Record<string, unknown> = {}) => ({ Name: name, Protocol: 'HTTP', Port: 18789, VpcId: 'vpc-1', TargetType: 'ip', ...extra });

async function tg(fake: IngressFake, name: string): Promise<string> {
  const out = (await fake.call('ELBv2', 'CreateTargetGroup', tgInput(name))) as { TargetGroups: { TargetGroupArn: string }[] };
  return out.TargetGroups[0]!.TargetGroupArn;
}

function rule(listenerArn: string, priority: number, host: string, tgArn?: string) {
  return {
    ListenerArn: listenerArn,
    Priority: priority,
    Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
    Actions: tgArn ? [{ Type: 'forward', Order: 1, TargetGroupArn: tgArn }] : [{ Type: 'fixed-response', Order: 1, FixedResponseConfig: { StatusCode: '503' } }],
  };
}

describe('ELBv2 fake: errors as the SDK shapes them', () => {
  it('raises PriorityInUse as PriorityInUseException with Code, client fault and HTTP 400', async () => {
    const { fake, a } = setUp();
    const t = await tg(fake, 'tg-a');
    await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 7, 'a.example.com', t));
    const err = await errorOf(fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 7, 'b.example.com', t)));
    expect({ name: err.name, Code: err.Code, fault: err.$fault, status: err.$metadata?.httpStatusCode }).toEqual({
      name: 'PriorityInUseException', Code: 'PriorityInUse', fault: 'client', status: 400,
    });
  });

  it('names unmodelled codes by the code itself (ValidationError for a priority out of 1-50000)', async () => {
    const { fake, a } = setUp();
    const err = await errorOf(fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 50_001, 'a.example.com')));
    expect([err.name, err.Code]).toEqual(['ValidationError', 'ValidationError']);
  });

  it('records failed and successful calls in the trace, with the OIDC client secret redacted', async () => {
    const { fake, a } = setUp();
    const t = await tg(fake, 'tg-a');
    await fake.call('ELBv2', 'CreateRule', {
      ...rule(a.listenerArn, 1, 'a.example.com', t),
      Actions: [
        { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { ClientId: 'c', ClientSecret: 'topsecret', Issuer: 'https://i' } },
        { Type: 'forward', Order: 2, TargetGroupArn: t },
      ],
    });
    await errorOf(fake.call('ELBv2', 'DeleteRule', { RuleArn: 'arn:nope' }));
    expect(fake.calls.map((c) => [c.service, c.operation, c.outcome, c.error?.name])).toEqual([
      ['ELBv2', 'CreateTargetGroup', 'ok', undefined],
      ['ELBv2', 'CreateRule', 'ok', undefined],
      ['ELBv2', 'DeleteRule', 'error', 'RuleNotFoundException'],
    ]);
    expect(JSON.stringify(fake.calls)).not.toContain('topsecret');
  });
});

describe('ELBv2 fake: target groups', () => {
  it('returns the same group for the same name and settings, DuplicateTargetGroupName for other settings, ValidationError for a bad name', async () => {
    const { fake } = setUp();
    const first = await tg(fake, 'octw-abc');
    expect(await tg(fake, 'octw-abc')).toBe(first);
    const dup = await errorOf(fake.call('ELBv2', 'CreateTargetGroup', tgInput('octw-abc', { Port: 8080 })));
    expect(dup.name).toBe('DuplicateTargetGroupNameException');
    const bad = await errorOf(fake.call('ELBv2', 'CreateTargetGroup', tgInput('x'.repeat(33))));
    expect(bad.Code).toBe('ValidationError');
    expect((await errorOf(fake.call('ELBv2', 'CreateTargetGroup', tgInput('-lead')))).Code).toBe('ValidationError');
  });

  it('answers TooManyTargetGroups at the Region quota (3,000 by default)', async () => {
    const { fake } = setUp({ elbLimits: { targetGroupsPerRegion: 2 } });
    await tg(fake, 'one');
    await tg(fake, 'two');
    expect((await errorOf(fake.call('ELBv2', 'CreateTargetGroup', tgInput('three')))).name).toBe('TooManyTargetGroupsException');
    expect(new IngressFake().elb.limits.targetGroupsPerRegion).toBe(3_000);
  });

  it('refuses to delete a group a rule forwards to (ResourceInUse), deletes it once free, and ignores an unknown ARN', async () => {
    const { fake, a } = setUp();
    const t = await tg(fake, 'tg-a');
    const r = (await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 1, 'a.example.com', t))) as { Rules: { RuleArn: string }[] };
    expect((await errorOf(fake.call('ELBv2', 'DeleteTargetGroup', { TargetGroupArn: t }))).name).toBe('ResourceInUseException');
    await fake.call('ELBv2', 'DeleteRule', { RuleArn: r.Rules[0]!.RuleArn });
    await fake.call('ELBv2', 'DeleteTargetGroup', { TargetGroupArn: t });
    await fake.call('ELBv2', 'DeleteTargetGroup', { TargetGroupArn: t });
    expect(fake.elb.targetGroups.size).toBe(0);
  });

  it('answers TargetGroupNotFound for unknown names and DescribeTags of an unknown group', async () => {
    const { fake } = setUp();
    expect((await errorOf(fake.call('ELBv2', 'DescribeTargetGroups', { Names: ['nope'] }))).name).toBe('TargetGroupNotFoundException');
    expect((await errorOf(fake.call('ELBv2', 'DescribeTags', { ResourceArns: ['arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1'] }))).name).toBe('TargetGroupNotFoundException');
  });
});

describe('ELBv2 fake: listener rules and quotas', () => {
  it('answers TooManyRules at 100 rules per load balancer (default rules not counted)', async () => {
    const { fake, a } = setUp();
    for (let i = 1; i <= 100; i++) await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, i, `h${i}.example.com`));
    const err = await errorOf(fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 101, 'h101.example.com')));
    expect([err.name, err.Code]).toEqual(['TooManyRulesException', 'TooManyRules']);
  });

  it('answers TooManyUniqueTargetGroupsPerLoadBalancer at a 101st distinct target group, even with the rules quota raised to 200', async () => {
    const { fake, a } = setUp({ elbLimits: { rulesPerLoadBalancer: 200 } });
    for (let i = 1; i <= 100; i++) await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, i, `h${i}.example.com`, await tg(fake, `tg-${i}`)));
    const extra = await tg(fake, 'tg-101');
    const err = await errorOf(fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 101, 'h101.example.com', extra)));
    expect(err.name).toBe('TooManyUniqueTargetGroupsPerLoadBalancerException');
    // A further rule to an already-used group is fine: the quota counts distinct groups.
    const reuse = (await fake.call('ELBv2', 'DescribeTargetGroups', { Names: ['tg-1'] })) as { TargetGroups: { TargetGroupArn: string }[] };
    await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 102, 'h1b.example.com', reuse.TargetGroups[0]!.TargetGroupArn));
  });

  it('answers TargetGroupAssociationLimit when a group of one ALB is used on another, TargetGroupNotFound and ListenerNotFound for unknown ARNs', async () => {
    const { fake, a, b } = setUp();
    const t = await tg(fake, 'tg-a');
    await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 1, 'a.example.com', t));
    expect((await errorOf(fake.call('ELBv2', 'CreateRule', rule(b.listenerArn, 1, 'a.example.com', t)))).name).toBe('TargetGroupAssociationLimitException');
    expect((await errorOf(fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 2, 'b.example.com', 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/gone/1')))).name).toBe('TargetGroupNotFoundException');
    expect((await errorOf(fake.call('ELBv2', 'CreateRule', rule('arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2', 1, 'a.example.com')))).name).toBe('ListenerNotFoundException');
  });

  it('refuses authenticate-oidc on an HTTP listener and more than 5 condition values', async () => {
    const { fake, a, http } = setUp();
    const t = await tg(fake, 'tg-a');
    const oidc = { ...rule(http.listenerArn, 1, 'a.example.com', t), Actions: [{ Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: {} }, { Type: 'forward', Order: 2, TargetGroupArn: t }] };
    expect((await errorOf(fake.call('ELBv2', 'CreateRule', oidc))).name).toBe('InvalidLoadBalancerActionException');
    const six = { ...rule(a.listenerArn, 1, 'a.example.com', t), Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['1', '2', '3', '4', '5', '6'] } }] };
    expect((await errorOf(fake.call('ELBv2', 'CreateRule', six))).Code).toBe('ValidationError');
  });

  it('lists rules by priority with the default rule last ("default"), in pages', async () => {
    const { fake, a } = setUp();
    for (const p of [30, 10, 20]) await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, p, `h${p}.example.com`));
    const first = (await fake.call('ELBv2', 'DescribeRules', { ListenerArn: a.listenerArn, PageSize: 2 })) as { Rules: { Priority: string }[]; NextMarker?: string };
    const second = (await fake.call('ELBv2', 'DescribeRules', { ListenerArn: a.listenerArn, PageSize: 2, Marker: first.NextMarker })) as { Rules: { Priority: string; IsDefault: boolean }[]; NextMarker?: string };
    expect([...first.Rules, ...second.Rules].map((r) => r.Priority)).toEqual(['10', '20', '30', 'default']);
    expect(second.NextMarker).toBeUndefined();
  });

  it('evaluates rules as the ALB does: lowest priority first, every condition must match, host case-insensitive, else the default action', async () => {
    const { fake, a } = setUp();
    const t1 = await tg(fake, 'tg-1');
    const t2 = await tg(fake, 'tg-2');
    await fake.call('ELBv2', 'CreateRule', { ...rule(a.listenerArn, 5, 'x.example.com', t1), Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['x.example.com'] } }, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-k', Values: ['v'] } }] });
    await fake.call('ELBv2', 'CreateRule', rule(a.listenerArn, 9, 'x.example.com', t2));
    expect(fake.elb.route(a.listenerArn, 'X.Example.com', { 'X-K': 'v' })).toMatchObject({ kind: 'forward', targetGroupArn: t1 });
    expect(fake.elb.route(a.listenerArn, 'x.example.com')).toMatchObject({ kind: 'forward', targetGroupArn: t2 });
    expect(fake.elb.route(a.listenerArn, 'y.example.com')).toMatchObject({ kind: 'fixed', status: '404' });
  });
});

describe('Route 53 fake', () => {
  const alias = (name: string, dns = 'alb-a.elb.amazonaws.com') => ({ Name: name, Type: 'A', AliasTarget: { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: dns, EvaluateTargetHealth: false } });
  const change = (Action: string, rr: object) => ({ HostedZoneId: ZONE, ChangeBatch: { Changes: [{ Action, ResourceRecordSet: rr }] } });

  it('answers CREATE of an existing record and DELETE of a missing or different one with InvalidChangeBatch, as AWS words it', async () => {
    const { fake } = setUp();
    await fake.call('Route53', 'ChangeResourceRecordSets', change('CREATE', alias('acme.cell-1.example.com')));
    const again = await errorOf(fake.call('Route53', 'ChangeResourceRecordSets', change('CREATE', alias('ACME.cell-1.example.com.'))));
    expect([again.name, again.Code]).toEqual(['InvalidChangeBatch', 'InvalidChangeBatch']);
    expect(again.message).toContain("Tried to create resource record set [name='acme.cell-1.example.com.', type='A'] but it already exists");
    const wrong = await errorOf(fake.call('Route53', 'ChangeResourceRecordSets', change('DELETE', alias('acme.cell-1.example.com', 'other.elb.amazonaws.com'))));
    expect(wrong.message).toContain('but it was not found');
    await fake.call('Route53', 'ChangeResourceRecordSets', change('DELETE', alias('acme.cell-1.example.com')));
    expect(fake.route53.record(ZONE, 'acme.cell-1.example.com')).toBeUndefined();
  });

  it('applies a batch all or nothing, UPSERTs idempotently, and refuses names outside the zone and unknown zones', async () => {
    const { fake } = setUp();
    const batch = { HostedZoneId: ZONE, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: alias('a.cell-1.example.com') }, { Action: 'DELETE', ResourceRecordSet: alias('b.cell-1.example.com') }] } };
    expect((await errorOf(fake.call('Route53', 'ChangeResourceRecordSets', batch))).name).toBe('InvalidChangeBatch');
    expect(fake.route53.record(ZONE, 'a.cell-1.example.com')).toBeUndefined();
    await fake.call('Route53', 'ChangeResourceRecordSets', change('UPSERT', alias('a.cell-1.example.com')));
    await fake.call('Route53', 'ChangeResourceRecordSets', change('UPSERT', alias('a.cell-1.example.com')));
    expect(fake.route53.resources()).toHaveLength(1);
    expect((await errorOf(fake.call('Route53', 'ChangeResourceRecordSets', change('UPSERT', alias('a.other.org'))))).message).toContain('not permitted in zone');
    const nz = await errorOf(fake.call('Route53', 'ChangeResourceRecordSets', { ...change('UPSERT', alias('a.cell-1.example.com')), HostedZoneId: 'ZNOPE' }));
    expect([nz.name, nz.$metadata?.httpStatusCode]).toEqual(['NoSuchHostedZone', 404]);
  });

  it('refuses a record beyond the per-zone quota (10,000 by default)', async () => {
    const { fake } = setUp({ recordsPerZone: 1 });
    await fake.call('Route53', 'ChangeResourceRecordSets', change('CREATE', alias('a.cell-1.example.com')));
    expect((await errorOf(fake.call('Route53', 'ChangeResourceRecordSets', change('CREATE', alias('b.cell-1.example.com'))))).name).toBe('InvalidChangeBatch');
    expect(new IngressFake().route53.recordsPerZone).toBe(10_000);
  });

  it('lists records from a start name in DNS order', async () => {
    const { fake } = setUp();
    for (const n of ['c', 'a', 'b']) await fake.call('Route53', 'ChangeResourceRecordSets', change('CREATE', alias(`${n}.cell-1.example.com`)));
    const out = (await fake.call('Route53', 'ListResourceRecordSets', { HostedZoneId: ZONE, StartRecordName: 'b.cell-1.example.com', StartRecordType: 'A', MaxItems: 1 })) as { ResourceRecordSets: { Name: string }[]; IsTruncated: boolean; NextRecordName?: string };
    expect(out.ResourceRecordSets.map((r) => r.Name)).toEqual(['b.cell-1.example.com.']);
    expect([out.IsTruncated, out.NextRecordName]).toEqual([true, 'c.cell-1.example.com.']);
  });
});
