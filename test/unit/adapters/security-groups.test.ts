import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ForeignResourceError, ResourceBusyError } from '../../../functions/domain/errors';
import { SecurityGroups } from '../../../functions/adapters/security-groups';

const ec2 = mockClient(EC2Client);
const groups = new SecurityGroups(new EC2Client({ region: 'eu-west-1' }), {
  cell: 'cell-1',
  vpcId: 'vpc-1',
  region: 'eu-west-1',
  efsSecurityGroupId: 'sg-efs',
  endpointsSecurityGroupId: 'sg-endpoints',
});
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
const tags = [
  { Key: 'octw:tenant', Value: 'acme' },
  { Key: 'octw:cell', Value: 'cell-1' },
];

beforeEach(() => {
  ec2.on(DescribeManagedPrefixListsCommand).resolves({ PrefixLists: [{ PrefixListId: 'pl-s3' }] });
});
afterEach(() => {
  ec2.reset();
});

describe('SecurityGroups.ensure', () => {
  it('creates the group tagged for the tenant, adds platform + allowlist egress and revokes the default allow-all rule', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-new' });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-default', IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' }],
    });
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});

    const id = await groups.ensure('acme', 'cell-1', [{ cidr: '203.0.113.0/24', ports: [443], protocol: 'tcp', description: 'crm' }]);

    expect(id).toBe('sg-new');
    expect(ec2).toHaveReceivedCommandWith(CreateSecurityGroupCommand, {
      GroupName: 'octw-cell-1--acme',
      VpcId: 'vpc-1',
      TagSpecifications: [
        expect.objectContaining({ ResourceType: 'security-group', Tags: expect.arrayContaining([{ Key: 'octw:tenant', Value: 'acme' }, { Key: 'octw:managed-by', Value: 'octw' }]) }),
      ],
    });
    const added = ec2.commandCalls(AuthorizeSecurityGroupEgressCommand).flatMap((c) => c.args[0].input.IpPermissions ?? []);
    expect(added.map((p) => `${p.IpProtocol} ${p.FromPort} ${p.UserIdGroupPairs?.[0]?.GroupId ?? p.PrefixListIds?.[0]?.PrefixListId ?? p.IpRanges?.[0]?.CidrIp}`).sort()).toEqual(
      ['tcp 2049 sg-efs', 'tcp 443 sg-endpoints', 'tcp 443 pl-s3', 'tcp 443 203.0.113.0/24'].sort(),
    );
    expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: 'sg-new', SecurityGroupRuleIds: ['sgr-default'] });
  });

  it('adopts a group created concurrently (InvalidGroup.Duplicate) and changes only the rules that differ', async () => {
    ec2
      .on(DescribeSecurityGroupsCommand)
      .resolvesOnce({ SecurityGroups: [] })
      .resolves({ SecurityGroups: [{ GroupId: 'sg-existing', Tags: tags }] });
    ec2.on(CreateSecurityGroupCommand).rejects(ec2Error('InvalidGroup.Duplicate'));
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        { SecurityGroupRuleId: 'sgr-efs', IsEgress: true, IpProtocol: 'tcp', FromPort: 2049, ToPort: 2049, ReferencedGroupInfo: { GroupId: 'sg-efs' } },
        { SecurityGroupRuleId: 'sgr-vpce', IsEgress: true, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, ReferencedGroupInfo: { GroupId: 'sg-endpoints' } },
        { SecurityGroupRuleId: 'sgr-s3', IsEgress: true, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListId: 'pl-s3' },
        { SecurityGroupRuleId: 'sgr-old', IsEgress: true, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '198.51.100.0/24' },
      ],
    });
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({});
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({});

    await groups.ensure('acme', 'cell-1', [{ cidr: '203.0.113.0/24', ports: [443], protocol: 'tcp', description: '' }]);

    expect(ec2.commandCalls(AuthorizeSecurityGroupEgressCommand).flatMap((c) => c.args[0].input.IpPermissions ?? [])).toEqual([
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '203.0.113.0/24', Description: undefined }] },
    ]);
    expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: 'sg-existing', SecurityGroupRuleIds: ['sgr-old'] });
  });

  it("refuses to touch a group with the tenant's name that is tagged for someone else", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-x', Tags: [{ Key: 'octw:tenant', Value: 'other' }, tags[1]!] }] });
    await expect(groups.ensure('acme', 'cell-1', [])).rejects.toBeInstanceOf(ForeignResourceError);
    expect(ec2).not.toHaveReceivedCommand(AuthorizeSecurityGroupEgressCommand);
  });

  it("refuses the same tenant's group of another cell (a shared VPC), to change or to delete", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-x', Tags: [tags[0]!, { Key: 'octw:cell', Value: 'cell-2' }] }] });
    await expect(groups.ensure('acme', 'cell-1', [])).rejects.toBeInstanceOf(ForeignResourceError);
    await expect(groups.delete('acme', 'sg-x')).rejects.toBeInstanceOf(ForeignResourceError);
    await expect(groups.delete('acme')).rejects.toBeInstanceOf(ForeignResourceError);
    expect(ec2).not.toHaveReceivedCommand(AuthorizeSecurityGroupEgressCommand);
    expect(ec2).not.toHaveReceivedCommand(DeleteSecurityGroupCommand);
  });
});

describe('SecurityGroups.delete', () => {
  it('reports ResourceBusyError while a network interface still uses the group', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-1', Tags: tags }] });
    ec2.on(DeleteSecurityGroupCommand).rejects(ec2Error('DependencyViolation'));
    await expect(groups.delete('acme', 'sg-1')).rejects.toBeInstanceOf(ResourceBusyError);
  });

  it('is done when the group is already gone', async () => {
    ec2.on(DeleteSecurityGroupCommand).rejects(ec2Error('InvalidGroup.NotFound'));
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: ['sg-1'] }).rejects(ec2Error('InvalidGroup.NotFound'));
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    await expect(groups.delete('acme', 'sg-1')).resolves.toBe('absent');
  });
});
