import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision } from './support';

/** The cell's default egress rules (cdk.json `defaultEgressAllowlist`) land in every tenant's group. */
let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud({
    env: { DEFAULT_EGRESS_ALLOWLIST_JSON: JSON.stringify([{ cidr: '192.0.2.10/32', ports: [3128], description: 'cell egress proxy' }]) },
  });
});
afterAll(async () => {
  await cloud.stop();
});

describe('cell default egress allowlist', () => {
  it("adds the cell's default rules next to the platform rules and the tenant's own", async () => {
    const record = await provision(cloud, 'with-defaults');
    expect(record?.status).toBe('ACTIVE');
    const sg = cloud.fake.securityGroup(record!.resources.securityGroupId!)!;
    const cidrs = sg.rules.filter((r) => r.isEgress && r.cidrIpv4).map((r) => `${r.cidrIpv4}:${r.fromPort}`).sort();
    expect(cidrs).toEqual(['192.0.2.10/32:3128', '203.0.113.0/24:443']);
  });

  it("keeps the defaults when a tenant's own allowlist is emptied by an update", async () => {
    const record = await cloud.tenant('with-defaults');
    const { executionArn } = await cloud.sfn.startExecution('UpdateTenant', { tenantId: 'with-defaults', egressAllowlist: [] }, `update-with-defaults-v${record!.version}`);
    expect((await cloud.sfn.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
    const sg = cloud.fake.securityGroup(record!.resources.securityGroupId!)!;
    expect(sg.rules.filter((r) => r.isEgress && r.cidrIpv4).map((r) => r.cidrIpv4)).toEqual(['192.0.2.10/32']);
  });
});
