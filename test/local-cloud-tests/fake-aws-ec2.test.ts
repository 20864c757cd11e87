import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2ServiceException,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { clients, errorOf, setUp, VPC } from '../local-cloud/fake-aws/testing';

const { ec2 } = clients;
let h: Harness;
beforeEach(() => {
  h = setUp();
});
afterEach(() => h.uninstall());

async function createGroup(name = 'octw-acme', tenant = 'acme'): Promise<string> {
  const out = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: name,
      Description: 'tenant',
      VpcId: VPC,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'octw:tenant', Value: tenant }] }],
    }),
  );
  return out.GroupId!;
}

describe('EC2 security groups', () => {
  it('creates a group with an AWS-shaped id and the default allow-all IPv4 egress rule', async () => {
    const id = await createGroup();
    expect(id).toMatch(/^sg-[0-9a-f]{17}$/);
    const rules = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] }));
    expect(rules.SecurityGroupRules).toEqual([
      expect.objectContaining({ IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0', FromPort: -1, ToPort: -1 }),
    ]);
    expect(rules.SecurityGroupRules![0]!.SecurityGroupRuleId).toMatch(/^sgr-[0-9a-f]{17}$/);
  });

  it('refuses a second group with the same name in the same VPC with InvalidGroup.Duplicate', async () => {
    await createGroup();
    const err = await errorOf(() => createGroup());
    expect(err).toBeInstanceOf(EC2ServiceException);
    expect(err.name).toBe('InvalidGroup.Duplicate');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('finds groups by group-name, vpc-id and tag filters, and answers InvalidGroup.NotFound for an unknown id', async () => {
    const id = await createGroup('octw-acme', 'acme');
    await createGroup('octw-other', 'other');
    const byName = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['octw-acme'] }, { Name: 'vpc-id', Values: [VPC] }] }),
    );
    expect(byName.SecurityGroups!.map((g) => g.GroupId)).toEqual([id]);
    const byTag = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:octw:tenant', Values: ['other'] }] }));
    expect(byTag.SecurityGroups!.map((g) => g.GroupName)).toEqual(['octw-other']);
    const err = await errorOf(() => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-00000000000000000'] })));
    expect(err.name).toBe('InvalidGroup.NotFound');
  });

  it('knows the AWS-managed S3 and DynamoDB lists as AWS does: named com.amazonaws.<region>.<service>, owned by "AWS"', async () => {
    const out = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'owner-id', Values: ['AWS'] }] }));
    expect(out.PrefixLists!.map((l) => [l.PrefixListName, l.OwnerId, l.PrefixListArn?.split(':')[4]]).sort()).toEqual([
      ['com.amazonaws.us-east-1.dynamodb', 'AWS', 'aws'],
      ['com.amazonaws.us-east-1.s3', 'AWS', 'aws'],
    ]);
    const err = await errorOf(() => ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: ['pl-00000000'] })));
    expect(err.name).toBe('InvalidPrefixListId.NotFound');
  });

  it('authorizes egress to CIDRs, prefix lists and groups, and reflects them in DescribeSecurityGroups', async () => {
    const id = await createGroup();
    const efsSg = await createGroup('efs', 'platform');
    const lists = await ec2.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] }),
    );
    const s3 = lists.PrefixLists![0]!.PrefixListId!;
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: id,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '203.0.113.0/24' }], PrefixListIds: [{ PrefixListId: s3 }] },
          { IpProtocol: 'tcp', FromPort: 2049, ToPort: 2049, UserIdGroupPairs: [{ GroupId: efsSg }] },
        ],
      }),
    );
    const g = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0]!;
    const https = g.IpPermissionsEgress!.find((p) => p.FromPort === 443)!;
    expect(https.IpRanges).toEqual([{ CidrIp: '203.0.113.0/24' }]);
    expect(https.PrefixListIds).toEqual([{ PrefixListId: s3 }]);
    expect(g.IpPermissionsEgress!.find((p) => p.FromPort === 2049)!.UserIdGroupPairs![0]!.GroupId).toBe(efsSg);
  });

  it('refuses a rule that already exists with InvalidPermission.Duplicate, including the default egress rule', async () => {
    const id = await createGroup();
    const err = await errorOf(() =>
      ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })),
    );
    expect(err.name).toBe('InvalidPermission.Duplicate');
  });

  it('refuses rules beyond 60 per direction, counting a prefix list as its max entries', async () => {
    h.uninstall();
    h = setUp({ limits: { prefixListMaxEntries: { 'pl-0123456789abcdef0': 10 } } });
    const id = await createGroup();
    // 1 default egress rule + 49 CIDR rules = 50; a prefix list of max 10 entries makes 60: allowed.
    const cidrs = Array.from({ length: 49 }, (_, n) => ({ CidrIp: `198.51.100.${n}/32` }));
    await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: cidrs }] }));
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: 'pl-0123456789abcdef0' }] }],
      }),
    );
    const err = await errorOf(() =>
      ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '192.0.2.1/32' }] }] })),
    );
    expect(err.name).toBe('RulesPerSecurityGroupLimitExceeded');
    expect(h.fake.securityGroup(id)!.rules).toHaveLength(51);
  });

  it('revokes the default egress rule by IpPermissions and answers InvalidPermission.NotFound the second time', async () => {
    const id = await createGroup();
    const revoke = () =>
      ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const out = await revoke();
    expect(out.Return).toBe(true);
    expect(h.fake.securityGroup(id)!.rules).toHaveLength(0);
    expect((await errorOf(revoke)).name).toBe('InvalidPermission.NotFound');
  });

  it('revokes by SecurityGroupRuleIds and answers InvalidSecurityGroupRuleId.NotFound for an unknown id', async () => {
    const id = await createGroup();
    const ruleId = h.fake.securityGroup(id)!.rules[0]!.id;
    await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: id, SecurityGroupRuleIds: [ruleId] }));
    const err = await errorOf(() => ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: id, SecurityGroupRuleIds: [ruleId] })));
    expect(err.name).toBe('InvalidSecurityGroupRuleId.NotFound');
  });

  it('deletes a group, after which describe and delete answer InvalidGroup.NotFound and inspection no longer lists it', async () => {
    const id = await createGroup();
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
    expect((await errorOf(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })))).name).toBe('InvalidGroup.NotFound');
    expect(h.fake.resourcesByTenant('acme')).toEqual([]);
  });
});
