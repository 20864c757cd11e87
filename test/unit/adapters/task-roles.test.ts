import { CreateRoleCommand, DeleteRoleCommand, EntityAlreadyExistsException, GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { ForeignResourceError, ResourceConflictError } from '../../../functions/domain/errors';
import { bedrockResources, TaskRoles, tenantPolicy, trustPolicy } from '../../../functions/adapters/task-roles';

const iam = mockClient(IAMClient);
const FS = 'arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1';
const PROFILE = 'arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/abc123';
const BOUNDARY = 'arn:aws:iam::111122223333:policy/octw-tenant-boundary';
const roles = new TaskRoles(new IAMClient({ region: 'eu-west-1' }), { cell: 'cell-1', permissionsBoundaryArn: BOUNDARY, fileSystemArn: FS, clusterName: 'octw-cell-1' });
const spec = { tenantId: 'acme', cell: 'cell-1', accessPointArn: `${FS.replace(':file-system/fs-1', '')}:access-point/fsap-1`, bedrock: { profiles: { 'anthropic.claude-x-v1:0': PROFILE } } };
const ourTags = [
  { Key: 'octw:tenant', Value: 'acme' },
  { Key: 'octw:cell', Value: 'cell-1' },
  { Key: 'octw:access-point', Value: 'fsap-1' },
];
const ourRole = { RoleName: 'octw-cell-1--acme', RoleId: 'R', Arn: 'arn:aws:iam::111122223333:role/octw/tenants/octw-cell-1--acme', Path: '/octw/tenants/', CreateDate: new Date(), PermissionsBoundary: { PermissionsBoundaryArn: BOUNDARY }, Tags: ourTags };

afterEach(() => {
  iam.reset();
});

describe('TaskRoles.ensure', () => {
  it('creates the role under /octw/tenants/ with the boundary and a trust limited to ECS tasks of the cell cluster', async () => {
    iam.on(CreateRoleCommand).resolves({ Role: ourRole });
    iam.on(PutRolePolicyCommand).resolves({});
    await expect(roles.ensure(spec)).resolves.toEqual({ roleName: 'octw-cell-1--acme', roleArn: ourRole.Arn, roleCreatedAt: ourRole.CreateDate.toISOString() });
    expect(iam).toHaveReceivedCommandWith(CreateRoleCommand, {
      RoleName: 'octw-cell-1--acme',
      Path: '/octw/tenants/',
      PermissionsBoundary: BOUNDARY,
      AssumeRolePolicyDocument: JSON.stringify(trustPolicy({ partition: 'aws', region: 'eu-west-1', account: '111122223333' }, 'octw-cell-1')),
      // What the permissions boundary reads through aws:PrincipalTag.
      Tags: [{ Key: 'octw:tenant', Value: 'acme' }, { Key: 'octw:cell', Value: 'cell-1' }, { Key: 'octw:managed-by', Value: 'octw' }, { Key: 'octw:access-point', Value: 'fsap-1' }],
    });
    expect(iam).toHaveReceivedCommandWith(PutRolePolicyCommand, { RoleName: 'octw-cell-1--acme', PolicyName: 'octw-cell-1--acme', PolicyDocument: JSON.stringify(tenantPolicy(spec, FS)) });
  });

  it("adopts nothing of another cell: a role under the name tagged for another cell is refused, untouched", async () => {
    iam.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: 'exists', $metadata: {} }));
    iam.on(GetRoleCommand).resolves({ Role: { ...ourRole, Tags: [ourTags[0]!, { Key: 'octw:cell', Value: 'cell-2' }] } });
    await expect(roles.ensure(spec)).rejects.toBeInstanceOf(ForeignResourceError);
    await expect(roles.putPolicy(spec)).rejects.toBeInstanceOf(ForeignResourceError);
    await expect(roles.delete('acme')).rejects.toBeInstanceOf(ForeignResourceError);
    expect(iam).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(iam).not.toHaveReceivedCommand(DeleteRoleCommand);
  });

  it('refuses a role without tags, or with another tenant\'s', async () => {
    iam.on(GetRoleCommand).resolves({ Role: { ...ourRole, Tags: [] } });
    await expect(roles.delete('acme')).rejects.toBeInstanceOf(ForeignResourceError);
    iam.on(GetRoleCommand).resolves({ Role: { ...ourRole, Tags: [{ Key: 'octw:tenant', Value: 'acme2' }, ourTags[1]!] } });
    await expect(roles.delete('acme')).rejects.toBeInstanceOf(ForeignResourceError);
    expect(iam).not.toHaveReceivedCommand(DeleteRoleCommand);
  });

  it('refuses a role made for another access point (the boundary would deny its mounts, and its tag cannot be changed)', async () => {
    iam.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: 'exists', $metadata: {} }));
    iam.on(GetRoleCommand).resolves({ Role: { ...ourRole, Tags: [ourTags[0]!, ourTags[1]!, { Key: 'octw:access-point', Value: 'fsap-old' }] } });
    await expect(roles.ensure(spec)).rejects.toThrow(/octw:access-point=fsap-old, not fsap-1/);
    expect(iam).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });

  it('refuses to act for a tenant of another cell', async () => {
    await expect(roles.ensure({ ...spec, cell: 'cell-2' })).rejects.toBeInstanceOf(ForeignResourceError);
    expect(iam).not.toHaveReceivedCommand(CreateRoleCommand);
  });

  it('adopts an existing role of the tenant after a crash (EntityAlreadyExists) and re-puts its policy', async () => {
    iam.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: 'exists', $metadata: {} }));
    iam.on(GetRoleCommand).resolves({ Role: ourRole });
    iam.on(PutRolePolicyCommand).resolves({});
    await expect(roles.ensure(spec)).resolves.toMatchObject({ roleArn: ourRole.Arn });
    expect(iam).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
  });

  it('refuses a role with the same name but without the boundary', async () => {
    iam.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: 'exists', $metadata: {} }));
    iam.on(GetRoleCommand).resolves({ Role: { ...ourRole, PermissionsBoundary: undefined } });
    await expect(roles.ensure(spec)).rejects.toBeInstanceOf(ResourceConflictError);
    expect(iam).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });
});

describe('trustPolicy', () => {
  it("admits ECS tasks of the cell's own cluster only, not any ECS resource of the account", () => {
    const trust = trustPolicy({ partition: 'aws', region: 'eu-west-1', account: '111122223333' }, 'octw-cell-1');
    const condition = trust.Statement[0]!.Condition!;
    expect(condition.StringEquals).toEqual({ 'aws:SourceAccount': '111122223333' });
    expect(condition.ArnLike!['aws:SourceArn']).toEqual([
      'arn:aws:ecs:eu-west-1:111122223333:task/octw-cell-1/*',
      'arn:aws:ecs:eu-west-1:111122223333:cluster/octw-cell-1',
    ]);
    expect(JSON.stringify(trust)).not.toContain(':111122223333:*"');
  });
});

describe('tenantPolicy', () => {
  const policy = tenantPolicy(spec, FS);
  it('lets the role mount the file system only through its own access point', () => {
    expect(policy.Statement[0]).toEqual({
      Sid: 'OwnAccessPointOnly',
      Effect: 'Allow',
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Resource: FS,
      Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': spec.accessPointArn } },
    });
  });
  it('grants its own secret only, and Bedrock only through its own inference profiles of its plan models', () => {
    expect(policy.Statement[1]?.Resource).toBe('arn:aws:secretsmanager:eu-west-1:111122223333:secret:octw/tenants/cell-1/acme/gateway-token-??????');
    expect(policy.Statement[2]).toEqual({ Sid: 'OwnInferenceProfilesOnly', Effect: 'Allow', Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], Resource: [PROFILE] });
    expect(policy.Statement[3]).toEqual({
      Sid: 'PlanModelsThroughOwnProfilesOnly',
      Effect: 'Allow',
      Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      Resource: ['arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-x-v1:0'],
      Condition: { StringEquals: { 'bedrock:InferenceProfileArn': [PROFILE] } },
    });
    expect(policy.Statement).toHaveLength(4);
    expect(tenantPolicy({ ...spec, bedrock: { profiles: {} } }, FS).Statement.map((s) => s.Sid)).toEqual(['OwnAccessPointOnly', 'OwnGatewayTokenOnly']);
    const { bedrock: _none, ...withoutBedrock } = spec;
    expect(tenantPolicy(withoutBedrock, FS).Statement.map((s) => s.Sid)).toEqual(['OwnAccessPointOnly', 'OwnGatewayTokenOnly']);
  });
  it('with a plan guardrail, every invocation must carry it (bedrock:GuardrailIdentifier) and the role may apply it', () => {
    const guarded = tenantPolicy({ ...spec, bedrock: { profiles: { 'us.anthropic.claude-x-v1:0': PROFILE }, guardrail: { id: 'gr1abc', version: '3' } } }, FS);
    const guard = 'arn:aws:bedrock:eu-west-1:111122223333:guardrail/gr1abc';
    expect(guarded.Statement[2]?.Condition).toEqual({ StringEquals: { 'bedrock:GuardrailIdentifier': `${guard}:3` } });
    expect(guarded.Statement[3]?.Condition).toEqual({ StringEquals: { 'bedrock:InferenceProfileArn': [PROFILE], 'bedrock:GuardrailIdentifier': `${guard}:3` } });
    // A cross-Region profile routes to the model in several Regions.
    expect(guarded.Statement[3]?.Resource).toEqual(['arn:aws:bedrock:*::foundation-model/anthropic.claude-x-v1:0']);
    expect(guarded.Statement[4]).toEqual({ Sid: 'PlanGuardrail', Effect: 'Allow', Action: 'bedrock:ApplyGuardrail', Resource: guard });
  });
  it('maps a cross-region inference profile to its profile ARN and the underlying model', () => {
    expect(bedrockResources(['us.anthropic.claude-x-v1:0'], { partition: 'aws', region: 'us-east-1', account: '111122223333' })).toEqual([
      'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-x-v1:0',
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-x-v1:0',
    ]);
  });
});
