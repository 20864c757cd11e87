import { ConfigError, DEFAULT_PLANS, egressSettingsOf, parseConfig } from '../../infra/config';
import { cdkJsonContext } from './synth';

const existingVpc = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.20.0.0/16',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
};

const errorOf = (context: Record<string, unknown>): string => {
  try {
    parseConfig(context);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig', () => {
  it('accepts the context committed in cdk.json', () => {
    expect(parseConfig(cdkJsonContext()).cellId).toBe('cell-1');
  });

  it('documents a default for every key, so an empty context synthesizes cell-1', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      cellId: 'cell-1',
      prefix: 'octw-cell-1',
      stackName: 'Octw-cell-1',
      tableName: 'octw-cell-1-tenants',
      clusterName: 'octw-cell-1',
      eventBus: 'dedicated',
      eventBusName: 'octw-cell-1',
      eventSource: 'octw.tenants',
      signupSource: 'octw.signup',
      azCount: 3,
      privateSubnetCidrMask: 19,
      tenantLogRetentionDays: 30,
      plans: DEFAULT_PLANS,
    });
    expect(c.existingVpc).toBeUndefined();
  });

  it('refuses a cell default allowlist entry that would reach the VPC, naming the entry', () => {
    expect(errorOf({ defaultEgressAllowlist: [{ cidr: '10.64.3.0/24', ports: [443] }] })).toMatch(/defaultEgressAllowlist.*\[0\]\.cidr.*VPC/);
    expect(errorOf({ defaultEgressAllowlist: [{ cidr: '0.0.0.0/0', ports: [443] }] })).toMatch(/defaultEgressAllowlist/);
    expect(parseConfig({ defaultEgressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443] }] }).defaultEgressAllowlist).toHaveLength(1);
  });

  describe('egress settings (issue 8, findings 4 and 5)', () => {
    const partner = { id: 'pl-0abc1234def567890', name: 'partner-apis', maxEntries: 4, entries: ['198.51.100.0/24'] };

    it('protects the VPC CIDR by default and adds protectedCidrs to it', () => {
      expect(egressSettingsOf(parseConfig({})).protectedCidrs).toEqual(['10.64.0.0/16']);
      expect(egressSettingsOf(parseConfig({ existingVpc, protectedCidrs: ['10.21.0.0/16', 'fd00:1::/48'] })).protectedCidrs).toEqual([
        '10.20.0.0/16',
        '10.21.0.0/16',
        'fd00:1::/48',
      ]);
      expect(errorOf({ protectedCidrs: ['10.21.0.0'] })).toMatch(/protectedCidrs.*\[1\] is invalid/);
    });

    it('refuses a default allowlist entry in a protected network or unallowed private space', () => {
      expect(errorOf({ protectedCidrs: ['172.31.0.0/16'], allowedPrivateCidrs: ['172.16.0.0/12'], defaultEgressAllowlist: [{ cidr: '172.31.4.0/24', ports: [443] }] })).toMatch(
        /defaultEgressAllowlist.*protected network 172\.31\.0\.0\/16/,
      );
      expect(errorOf({ defaultEgressAllowlist: [{ cidr: '192.168.1.0/24', ports: [3128] }] })).toMatch(/defaultEgressAllowlist.*RFC 1918/);
      expect(parseConfig({ allowedPrivateCidrs: ['192.168.1.0/24'], defaultEgressAllowlist: [{ cidr: '192.168.1.0/24', ports: [3128] }] }).defaultEgressAllowlist).toHaveLength(1);
    });

    it('refuses allowedPrivateCidrs outside private space or touching a protected network', () => {
      expect(errorOf({ allowedPrivateCidrs: ['203.0.113.0/24'] })).toMatch(/allowedPrivateCidrs.*\[0\].*not inside private or shared address space/);
      expect(errorOf({ allowedPrivateCidrs: ['10.0.0.0/8'] })).toMatch(/allowedPrivateCidrs.*overlaps the protected network 10\.64\.0\.0\/16/);
    });

    it('accepts an approved customer-managed list and refuses AWS-managed, overfull or unsafe ones', () => {
      expect(parseConfig({ approvedPrefixLists: [partner] }).approvedPrefixLists).toEqual([partner]);
      expect(errorOf({ approvedPrefixLists: [{ ...partner, name: 'com.amazonaws.us-east-1.dynamodb' }] })).toMatch(/approvedPrefixLists.*\[0\]\.name.*AWS-managed/);
      expect(errorOf({ approvedPrefixLists: [{ ...partner, maxEntries: 1, entries: ['198.51.100.0/24', '203.0.113.0/24'] }] })).toMatch(/2 entries exceed the list's maxEntries 1/);
      expect(errorOf({ approvedPrefixLists: [{ ...partner, entries: ['10.64.1.0/24'] }] })).toMatch(/approvedPrefixLists.*entries\[0\].*protected network/);
      expect(errorOf({ approvedPrefixLists: [{ ...partner, entries: ['172.20.0.0/16'] }] })).toMatch(/entries\[0\].*RFC 1918/);
      expect(errorOf({ approvedPrefixLists: [{ ...partner, entries: ['0.0.0.0/0'] }] })).toMatch(/entries\[0\].*whole IPv4 internet/);
      expect(errorOf({ approvedPrefixLists: [{ ...partner, maxEntries: 58 }] })).toMatch(/maxEntries.*58 entries do not fit.*56 rules remain/);
    });

    it('counts an approved list by its max entries in the cell defaults', () => {
      expect(errorOf({ approvedPrefixLists: [{ ...partner, maxEntries: 30 }], defaultEgressAllowlist: [{ prefixListId: partner.id, ports: [443, 8443] }] })).toMatch(
        /defaultEgressAllowlist.*expands to 60/,
      );
    });
  });

  it('derives every name from the cell id', () => {
    const c = parseConfig({ cellId: 'eu-2' });
    expect([c.tableName, c.clusterName, c.eventBusName, c.stackName]).toEqual(['octw-eu-2-tenants', 'octw-eu-2', 'octw-eu-2', 'Octw-eu-2']);
  });

  it('uses the account default bus when eventBus is "default"', () => {
    expect(parseConfig({ eventBus: 'default', eventBusName: 'ignored' }).eventBusName).toBe('default');
  });

  it('reads numbers, booleans and JSON given as strings with -c key=value', () => {
    const c = parseConfig({ azCount: '2', createVpcEndpoints: 'false', existingVpc: JSON.stringify(existingVpc) });
    expect([c.azCount, c.createVpcEndpoints, c.existingVpc?.vpcId]).toEqual([2, false, existingVpc.vpcId]);
  });

  it('refuses an unpinned plan image, naming the key', () => {
    const plans = [{ ...DEFAULT_PLANS[0], image: 'ghcr.io/openclaw/openclaw:latest' }];
    expect(errorOf({ plans })).toMatch(/plans\.0\.image: image must be pinned by digest/);
  });

  it('refuses, at synth, a plan that names no model the gateway can use', () => {
    const plans = [{ ...DEFAULT_PLANS[0], bedrockModels: [], modelProviders: [] }];
    expect(errorOf({ plans })).toMatch(/plans\.0: a plan must name at least one model/);
  });

  it('refuses, at synth, a plan without plugins (an empty plugins.allow lets every plugin load)', () => {
    expect(errorOf({ plans: [{ ...DEFAULT_PLANS[0], plugins: [] }] })).toMatch(/plans\.0\.plugins: plugins must list at least one plugin/);
  });

  it('refuses duplicate plan ids', () => {
    expect(errorOf({ plans: [DEFAULT_PLANS[0], DEFAULT_PLANS[0]] })).toMatch(/plans: plan ids must be unique/);
  });

  it('refuses a log retention CloudWatch does not offer', () => {
    expect(errorOf({ tenantLogRetentionDays: 31 })).toMatch(/tenantLogRetentionDays: must be one of/);
  });

  it('refuses a cell id that could not prefix AWS names', () => {
    expect(errorOf({ cellId: 'Cell_1' })).toMatch(/cellId:/);
    // "--" separates cell and tenant in tenant resource names (issue 8, finding 2).
    expect(errorOf({ cellId: 'cell--1' })).toMatch(/cellId:.*--/);
  });

  it('refuses an existing VPC without one subnet and one route table per AZ', () => {
    expect(errorOf({ existingVpc: { ...existingVpc, privateSubnetRouteTableIds: ['rtb-0123456789abcdef0'] } })).toMatch(/existingVpc/);
  });

  it('refuses more NAT gateways than AZs and subnets larger than the VPC', () => {
    expect(errorOf({ azCount: 2, natGateways: 3 })).toMatch(/natGateways/);
    expect(errorOf({ vpcCidr: '10.0.0.0/20', privateSubnetCidrMask: 19 })).toMatch(/privateSubnetCidrMask/);
  });

  it('lists every bad key at once', () => {
    const message = errorOf({ azCount: 7, secretRecoveryDays: 1 });
    expect(message).toMatch(/azCount/);
    expect(message).toMatch(/secretRecoveryDays/);
  });

  it('ignores context keys that belong to CDK itself', () => {
    expect(() => parseConfig({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:bundling-stacks': [] })).not.toThrow();
  });
});
