import { ConfigError, DEFAULT_PLANS, parseConfig } from '../../infra/config';
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
