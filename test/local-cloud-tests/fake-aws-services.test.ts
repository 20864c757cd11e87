import { CreateLogGroupCommand, DeleteLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand, PutRetentionPolicyCommand, ResourceAlreadyExistsException, ResourceNotFoundException as LogsNotFound } from '@aws-sdk/client-cloudwatch-logs';
import {
  AccessPointAlreadyExists,
  AccessPointLimitExceeded,
  AccessPointNotFound,
  CreateAccessPointCommand,
  DeleteAccessPointCommand,
  DescribeAccessPointsCommand,
  FileSystemNotFound,
} from '@aws-sdk/client-efs';
import type { CreateAccessPointCommandInput } from '@aws-sdk/client-efs';
import {
  CreateRoleCommand,
  DeleteConflictException,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { clients, errorOf, FS, setUp } from '../local-cloud/fake-aws/testing';

const { efs, iam, sm, logs } = clients;
let h: Harness;
afterEach(() => h.uninstall());

function apInput(token: string, uid = 10001, tenant = 'acme'): CreateAccessPointCommandInput {
  return {
    ClientToken: token,
    FileSystemId: FS,
    PosixUser: { Uid: uid, Gid: uid },
    RootDirectory: { Path: `/tenants/${tenant}`, CreationInfo: { OwnerUid: uid, OwnerGid: uid, Permissions: '0700' } },
    Tags: [{ Key: 'octw:tenant', Value: tenant }],
  };
}

describe('EFS access points', () => {
  beforeEach(() => {
    h = setUp({ latencies: { accessPointCreateMs: 1_000 } });
  });

  it('creates an access point with an AWS-shaped id, creating then available', async () => {
    const ap = await efs.send(new CreateAccessPointCommand(apInput('tok-acme')));
    expect(ap.AccessPointId).toMatch(/^fsap-[0-9a-f]{17}$/);
    expect(ap.AccessPointArn).toBe(`arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/${ap.AccessPointId!}`);
    expect(ap.LifeCycleState).toBe('creating');
    h.clock.advance(1_000);
    const d = await efs.send(new DescribeAccessPointsCommand({ AccessPointId: ap.AccessPointId! }));
    expect(d.AccessPoints![0]!.LifeCycleState).toBe('available');
  });

  it('answers a reused ClientToken with AccessPointAlreadyExists naming the existing access point (AWS behaviour), creating nothing', async () => {
    const first = await efs.send(new CreateAccessPointCommand(apInput('tok-acme')));
    for (const input of [apInput('tok-acme'), apInput('tok-acme', 20002)]) {
      const err = await errorOf(() => efs.send(new CreateAccessPointCommand(input)));
      expect(err).toBeInstanceOf(AccessPointAlreadyExists);
      expect((err as AccessPointAlreadyExists).AccessPointId).toBe(first.AccessPointId);
      expect(err.$metadata?.httpStatusCode).toBe(409);
    }
    expect(h.fake.accessPointsOf(FS)).toHaveLength(1);
  });

  it('in idempotent mode returns the same access point for the same token and parameters, and IdempotentParameterMismatch otherwise', async () => {
    h.uninstall();
    h = setUp({ efs: { clientTokenReplay: 'idempotent' } });
    const first = await efs.send(new CreateAccessPointCommand(apInput('tok-acme')));
    const again = await efs.send(new CreateAccessPointCommand(apInput('tok-acme')));
    expect(again.AccessPointId).toBe(first.AccessPointId);
    const err = await errorOf(() => efs.send(new CreateAccessPointCommand(apInput('tok-acme', 20002))));
    expect(err.name).toBe('IdempotentParameterMismatch');
    expect(h.fake.accessPointsOf(FS)).toHaveLength(1);
  });

  it('refuses beyond the per-file-system cap with AccessPointLimitExceeded, and an unknown file system with FileSystemNotFound', async () => {
    h.uninstall();
    h = setUp({ limits: { accessPointsPerFileSystem: 2 } });
    await efs.send(new CreateAccessPointCommand(apInput('a')));
    await efs.send(new CreateAccessPointCommand(apInput('b')));
    expect(await errorOf(() => efs.send(new CreateAccessPointCommand(apInput('c'))))).toBeInstanceOf(AccessPointLimitExceeded);
    const err = await errorOf(() => efs.send(new CreateAccessPointCommand({ ...apInput('d'), FileSystemId: 'fs-00000000000000000' })));
    expect(err).toBeInstanceOf(FileSystemNotFound);
  });

  it('pages DescribeAccessPoints by FileSystemId with MaxResults and NextToken', async () => {
    for (let n = 0; n < 5; n++) await efs.send(new CreateAccessPointCommand(apInput(`tok-${n}`, 10000 + n, `t${n}`)));
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const page = await efs.send(new DescribeAccessPointsCommand({ FileSystemId: FS, MaxResults: 2, ...(next ? { NextToken: next } : {}) }));
      seen.push(...page.AccessPoints!.map((a) => a.AccessPointId!));
      next = page.NextToken;
      pages++;
    } while (next);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
  });

  it('deletes an access point; describing or deleting it again answers AccessPointNotFound', async () => {
    const ap = await efs.send(new CreateAccessPointCommand(apInput('tok')));
    await efs.send(new DeleteAccessPointCommand({ AccessPointId: ap.AccessPointId! }));
    expect(await errorOf(() => efs.send(new DescribeAccessPointsCommand({ AccessPointId: ap.AccessPointId! })))).toBeInstanceOf(AccessPointNotFound);
    expect(await errorOf(() => efs.send(new DeleteAccessPointCommand({ AccessPointId: ap.AccessPointId! })))).toBeInstanceOf(AccessPointNotFound);
    expect(h.fake.resourcesByTenant('acme')).toEqual([]);
  });
});

describe('IAM roles', () => {
  beforeEach(() => {
    h = setUp();
  });
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });

  it('creates a role with path and boundary, and refuses the same name in another case with EntityAlreadyExistsException', async () => {
    const out = await iam.send(
      new CreateRoleCommand({
        RoleName: 'octw-tenant-acme',
        Path: '/octw/tenants/',
        AssumeRolePolicyDocument: trust,
        PermissionsBoundary: 'arn:aws:iam::123456789012:policy/octw-boundary',
        Tags: [{ Key: 'octw:tenant', Value: 'acme' }],
      }),
    );
    expect(out.Role!.Arn).toBe('arn:aws:iam::123456789012:role/octw/tenants/octw-tenant-acme');
    const got = await iam.send(new GetRoleCommand({ RoleName: 'octw-tenant-acme' }));
    expect(got.Role!.PermissionsBoundary!.PermissionsBoundaryArn).toBe('arn:aws:iam::123456789012:policy/octw-boundary');
    const err = await errorOf(() => iam.send(new CreateRoleCommand({ RoleName: 'OCTW-TENANT-ACME', AssumeRolePolicyDocument: trust })));
    expect(err).toBeInstanceOf(EntityAlreadyExistsException);
    expect(err.$metadata?.httpStatusCode).toBe(409);
  });

  it('refuses DeleteRole with DeleteConflictException while an inline policy exists, then deletes; GetRole answers NoSuchEntityException', async () => {
    await iam.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: trust }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'p', PolicyDocument: policy }));
    const doc = await iam.send(new GetRolePolicyCommand({ RoleName: 'r', PolicyName: 'p' }));
    expect(JSON.parse(decodeURIComponent(doc.PolicyDocument!))).toEqual(JSON.parse(policy));
    expect(await errorOf(() => iam.send(new DeleteRoleCommand({ RoleName: 'r' })))).toBeInstanceOf(DeleteConflictException);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'r', PolicyName: 'p' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'r' }));
    expect(await errorOf(() => iam.send(new GetRoleCommand({ RoleName: 'r' })))).toBeInstanceOf(NoSuchEntityException);
  });

  it("enforces the platform's deny: an existing tenant role's octw:tenant, octw:cell and octw:access-point tags never change (AccessDenied)", async () => {
    const tags = [
      { Key: 'octw:tenant', Value: 'acme' },
      { Key: 'octw:cell', Value: 'cell-1' },
      { Key: 'octw:access-point', Value: 'fsap-1' },
    ];
    // CreateRole with the tags works: the role has no tags before.
    await iam.send(new CreateRoleCommand({ RoleName: 'octw-cell-1--acme', Path: '/octw/tenants/', AssumeRolePolicyDocument: trust, Tags: tags }));
    for (const attempt of [
      () => iam.send(new TagRoleCommand({ RoleName: 'octw-cell-1--acme', Tags: [{ Key: 'octw:tenant', Value: 'victim' }] })),
      () => iam.send(new TagRoleCommand({ RoleName: 'octw-cell-1--acme', Tags: [{ Key: 'octw:access-point', Value: 'fsap-victim' }] })),
      () => iam.send(new UntagRoleCommand({ RoleName: 'octw-cell-1--acme', TagKeys: ['octw:cell'] })),
    ]) {
      const err = await errorOf(attempt);
      expect(err.name).toBe('AccessDenied');
      expect(err.message).toMatch(/explicit deny/);
      expect(err.$metadata?.httpStatusCode).toBe(403);
    }
    expect(h.fake.role('octw-cell-1--acme')!.tags).toEqual(new Map(tags.map((t) => [t.Key, t.Value])));
    // Other tags stay free to change.
    await iam.send(new TagRoleCommand({ RoleName: 'octw-cell-1--acme', Tags: [{ Key: 'cost-centre', Value: '42' }] }));
    await iam.send(new UntagRoleCommand({ RoleName: 'octw-cell-1--acme', TagKeys: ['cost-centre'] }));
  });
});

describe('Secrets Manager', () => {
  beforeEach(() => {
    h = setUp();
  });

  it('creates a secret whose ARN ends in a 6-character suffix and refuses the name again with ResourceExistsException', async () => {
    const out = await sm.send(new CreateSecretCommand({ Name: 'octw/tenants/acme/gateway-token', SecretString: 'x', Tags: [{ Key: 'octw:tenant', Value: 'acme' }] }));
    expect(out.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:octw\/tenants\/acme\/gateway-token-[A-Za-z0-9]{6}$/);
    expect(await errorOf(() => sm.send(new CreateSecretCommand({ Name: 'octw/tenants/acme/gateway-token', SecretString: 'y' })))).toBeInstanceOf(
      ResourceExistsException,
    );
  });

  it('accepts a repeated CreateSecret with the same ClientRequestToken and value as the same secret', async () => {
    const input = { Name: 's', SecretString: 'v', ClientRequestToken: '11111111-1111-4111-a111-111111111111' };
    const first = await sm.send(new CreateSecretCommand(input));
    const again = await sm.send(new CreateSecretCommand(input));
    expect(again.ARN).toBe(first.ARN);
    expect(await errorOf(() => sm.send(new CreateSecretCommand({ ...input, SecretString: 'other' })))).toBeInstanceOf(ResourceExistsException);
  });

  it('keeps a secret scheduled for deletion recoverable, refuses re-creating its name, and restores it', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v', Tags: [{ Key: 'octw:tenant', Value: 'acme' }] }));
    const del = await sm.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }));
    expect(del.DeletionDate!.getTime()).toBe(h.clock.now() + 7 * 86_400_000);
    expect(h.fake.resourcesByTenant('acme')).toEqual([expect.objectContaining({ type: 'AWS::SecretsManager::Secret', state: 'PendingDeletion' })]);
    const err = await errorOf(() => sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' })));
    expect(err).toBeInstanceOf(InvalidRequestException);
    expect(err.message).toBe("You can't create this secret because a secret with this name is already scheduled for deletion.");
    await sm.send(new RestoreSecretCommand({ SecretId: 's' }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).DeletedDate).toBeUndefined();
  });

  it('PutSecretValue adds an AWSCURRENT version (the old one AWSPREVIOUS); a repeated token is ignored with the same value and refused with another', async () => {
    const v1 = '11111111-1111-4111-a111-111111111111';
    const v2 = '22222222-2222-4222-a222-222222222222';
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'old', ClientRequestToken: v1 }));
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'new', ClientRequestToken: v2 }));
    expect(put).toMatchObject({ VersionId: v2, VersionStages: ['AWSCURRENT'] });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).VersionIdsToStages).toEqual({ [v2]: ['AWSCURRENT'], [v1]: ['AWSPREVIOUS'] });
    expect(h.fake.secret('s')?.secretString).toBe('new');
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'new', ClientRequestToken: v2 }));
    const err = await errorOf(() => sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'other', ClientRequestToken: v2 })));
    expect(err).toBeInstanceOf(ResourceExistsException);
    expect(h.fake.secret('s')?.secretString).toBe('new');
  });

  it('refuses PutSecretValue on a secret scheduled for deletion with InvalidRequestException', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }));
    const err = await errorOf(() => sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'w' })));
    expect(err).toBeInstanceOf(InvalidRequestException);
    expect(err.message).toBe("You can't perform this operation on the secret because it was marked for deletion.");
  });

  it('removes a secret at once with ForceDeleteWithoutRecovery, and after the recovery window otherwise', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));
    await sm.send(new CreateSecretCommand({ Name: 'b', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'a', ForceDeleteWithoutRecovery: true }));
    expect(await errorOf(() => sm.send(new DescribeSecretCommand({ SecretId: 'a' })))).toBeInstanceOf(ResourceNotFoundException);
    await sm.send(new DeleteSecretCommand({ SecretId: 'b', RecoveryWindowInDays: 7 }));
    h.clock.advance(7 * 86_400_000);
    expect(await errorOf(() => sm.send(new DescribeSecretCommand({ SecretId: 'b' })))).toBeInstanceOf(ResourceNotFoundException);
    await sm.send(new CreateSecretCommand({ Name: 'b', SecretString: 'v' }));
  });

  it('GetSecretValue reads AWSCURRENT by name, full or partial ARN, AWSPREVIOUS by stage, and refuses what AWS refuses', async () => {
    const v1 = '11111111-1111-4111-a111-111111111111';
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'octw/tenants/c/t/credentials/x', SecretString: 'one', ClientRequestToken: v1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'octw/tenants/c/t/credentials/x', SecretString: 'two' }));
    for (const id of ['octw/tenants/c/t/credentials/x', ARN!, ARN!.slice(0, -7)]) {
      expect(await sm.send(new GetSecretValueCommand({ SecretId: id }))).toMatchObject({ SecretString: 'two', VersionStages: ['AWSCURRENT'], ARN });
    }
    expect(await sm.send(new GetSecretValueCommand({ SecretId: ARN!, VersionStage: 'AWSPREVIOUS' }))).toMatchObject({ SecretString: 'one', VersionId: v1 });
    expect(await errorOf(() => sm.send(new GetSecretValueCommand({ SecretId: 'octw/tenants/c/t/credentials/y' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await errorOf(() => sm.send(new GetSecretValueCommand({ SecretId: ARN!, VersionStage: 'NOPE' })))).toBeInstanceOf(ResourceNotFoundException);
    await sm.send(new DeleteSecretCommand({ SecretId: ARN!, RecoveryWindowInDays: 7 }));
    const err = await errorOf(() => sm.send(new GetSecretValueCommand({ SecretId: ARN! })));
    expect(err).toBeInstanceOf(InvalidRequestException);
    expect(err.message).toBe("You can't perform this operation on the secret because it was marked for deletion.");
  });

  it('generates a password of the requested length from the allowed characters', async () => {
    const out = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 48, ExcludePunctuation: true, ExcludeUppercase: true }));
    expect(out.RandomPassword).toMatch(/^[a-z0-9]{48}$/);
  });
});

describe('CloudWatch Logs', () => {
  beforeEach(() => {
    h = setUp();
  });

  it('creates, sets retention, lists by prefix and deletes a log group with the service errors', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/octw/tenants/acme', tags: { 'octw:tenant': 'acme' } }));
    expect(await errorOf(() => logs.send(new CreateLogGroupCommand({ logGroupName: '/octw/tenants/acme' })))).toBeInstanceOf(
      ResourceAlreadyExistsException,
    );
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/octw/tenants/acme', retentionInDays: 30 }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/other' }));
    const listed = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/octw/' }));
    expect(listed.logGroups!.map((g) => [g.logGroupName, g.retentionInDays])).toEqual([['/octw/tenants/acme', 30]]);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: '/octw/tenants/acme' }));
    expect(await errorOf(() => logs.send(new DeleteLogGroupCommand({ logGroupName: '/octw/tenants/acme' })))).toBeInstanceOf(LogsNotFound);
    expect(h.fake.resourcesByTenant('acme')).toEqual([]);
  });

  it('lists a log group\'s tags by its ARN without the ":*" suffix (ListTagsForResource), ResourceNotFoundException otherwise', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/octw/tenants/c/acme', tags: { 'octw:tenant': 'acme', 'octw:cell': 'c' } }));
    const [group] = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/octw/tenants/c/acme' }))).logGroups!;
    expect(group!.arn).toBe(`${group!.logGroupArn!}:*`);
    const out = await logs.send(new ListTagsForResourceCommand({ resourceArn: group!.logGroupArn! }));
    expect(out.tags).toEqual({ 'octw:tenant': 'acme', 'octw:cell': 'c' });
    expect(await errorOf(() => logs.send(new ListTagsForResourceCommand({ resourceArn: `${group!.logGroupArn!}-nope` })))).toBeInstanceOf(LogsNotFound);
  });
});
