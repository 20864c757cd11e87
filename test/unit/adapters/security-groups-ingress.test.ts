/**
 * The tenant security group's INGRESS (issue 12), against the stateful EC2 fake: exactly one rule,
 * TCP on the gateway port from the ingress tier's security group; anything else that appears
 * (a hand-made rule, another tenant's group, the whole internet) is revoked by the next reconcile.
 */
import { AuthorizeSecurityGroupIngressCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SecurityGroups } from '../../../functions/adapters/security-groups';
import { FakeAws, installFakeAws } from '../../local-cloud/fake-aws';

const VPC = 'vpc-0123456789abcdef0';
let fake: FakeAws;
let uninstall: () => void;
let platform: { efs: string; endpoints: string; ingress: string };
const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' } });

const group = (name: string) => (fake.ec2.operations.CreateSecurityGroup({ GroupName: name, Description: name, VpcId: VPC }) as { GroupId: string }).GroupId;
const groupsFor = (ingressSecurityGroupId?: string) =>
  new SecurityGroups(ec2, {
    cell: 'cell-1',
    vpcId: VPC,
    region: 'us-east-1',
    efsSecurityGroupId: platform.efs,
    endpointsSecurityGroupId: platform.endpoints,
    ...(ingressSecurityGroupId ? { ingressSecurityGroupId } : {}),
  });
const ingressOf = (groupId: string) =>
  fake
    .securityGroup(groupId)!
    .rules.filter((r) => !r.isEgress)
    .map((r) => `${r.ipProtocol} ${r.fromPort}-${r.toPort} ${r.referencedGroupId ?? r.cidrIpv4}`);

beforeEach(() => {
  fake = new FakeAws({ vpcs: [{ vpcId: VPC, cidr: '10.40.0.0/16' }], timeScale: 0 });
  uninstall = installFakeAws(fake);
  platform = { efs: group('octw-cell-1-efs'), endpoints: group('octw-cell-1-endpoints'), ingress: group('octw-cell-1-ingress') };
});
afterEach(() => uninstall());

describe('tenant security group ingress', () => {
  it('admits only the ingress tier, only on the gateway port', async () => {
    const id = await groupsFor(platform.ingress).ensure('acme', 'cell-1', []);
    expect(ingressOf(id)).toEqual([`tcp 18789-18789 ${platform.ingress}`]);
  });

  it('revokes what else appears (the internet on 22, another tenant group on the gateway port, the ingress tier on another port) and keeps the one rule, once', async () => {
    const groups = groupsFor(platform.ingress);
    const id = await groups.ensure('acme', 'cell-1', []);
    const other = await groups.ensure('other', 'cell-1', []);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          { IpProtocol: 'tcp', FromPort: 18789, ToPort: 18789, UserIdGroupPairs: [{ GroupId: other }] },
          { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: platform.ingress }] },
        ],
      }),
    );
    expect(ingressOf(id)).toHaveLength(4);
    await groups.ensure('acme', 'cell-1', []);
    expect(ingressOf(id)).toEqual([`tcp 18789-18789 ${platform.ingress}`]);
  });

  it('has no ingress at all when the cell has no ingress, and loses it when ingress is switched off', async () => {
    const id = await groupsFor(platform.ingress).ensure('acme', 'cell-1', []);
    expect(ingressOf(id)).toHaveLength(1);
    await groupsFor(undefined).ensure('acme', 'cell-1', []);
    expect(ingressOf(id)).toEqual([]);
    const fresh = await groupsFor(undefined).ensure('fresh', 'cell-1', []);
    expect(ingressOf(fresh)).toEqual([]);
  });
});
