import { CreateRoleCommand, EntityAlreadyExistsException, GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { ResourceConflictError } from '../../../functions/domain/errors';
import { bedrockResources, TaskRoles, tenantPolicy, trustPolicy } from '../../../functions/adapters/task-roles';

const iam = mockClient(IAMClient);
const FS = 'arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1';
const BOUNDARY = 'arn:aws:iam::111122223333:policy/octw-tenant-boundary';
const roles = new TaskRoles(new IAMClient({ region: 'eu-west-1' }), { permissionsBoundaryArn: BOUNDARY, fileSystemArn: FS });
const spec = { tenantId: 'acme', cell: 'cell-1', accessPointArn: `${FS.replace(':file-system/fs-1', '')}:access-point/fsap-1`, bedrockModels: ['anthropic.claude-x-v1:0'] };
const ourRole = { RoleName: 'octw-tenant-acme', RoleId: 'R', Arn: 'arn:aws:iam::111122223333:role/octw/tenants/octw-tenant-acme', Path: '/octw/tenants/', CreateDate: new Date(), PermissionsBoundary: { PermissionsBoundaryArn: BOUNDARY }, Tags: [{ Key: 'octw:tenant', Value: 'acme' }] };

afterEach(() => {
  iam.reset();
});

describe('TaskRoles.ensure', () => {
  it('creates the role under /octw/tenants/ with the boundary and a trust limited to ECS tasks of the account', async () => {
    iam.on(CreateRoleCommand).resolves({ Role: ourRole });
    iam.on(PutRolePolicyCommand).resolves({});
    await expect(roles.ensure(spec)).resolves.toEqual({ roleName: 'octw-tenant-acme', roleArn: ourRole.Arn });
    expect(iam).toHaveReceivedCommandWith(CreateRoleCommand, {
      RoleName: 'octw-tenant-acme',
      Path: '/octw/tenants/',
      PermissionsBoundary: BOUNDARY,
      AssumeRolePolicyDocument: JSON.stringify(trustPolicy({ partition: 'aws', region: 'eu-west-1', account: '111122223333' })),
    });
    expect(iam).toHaveReceivedCommandWith(PutRolePolicyCommand, { RoleName: 'octw-tenant-acme', PolicyDocument: JSON.stringify(tenantPolicy(spec, FS)) });
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
  it('grants its own secret only, and Bedrock only for its plan models', () => {
    expect(policy.Statement[1]?.Resource).toBe('arn:aws:secretsmanager:eu-west-1:111122223333:secret:octw/tenants/acme/gateway-token-??????');
    expect(policy.Statement[2]?.Resource).toEqual(['arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-x-v1:0']);
    expect(tenantPolicy({ ...spec, bedrockModels: [] }, FS).Statement.map((s) => s.Sid)).toEqual(['OwnAccessPointOnly', 'OwnGatewayTokenOnly']);
  });
  it('maps a cross-region inference profile to its profile ARN and the underlying model', () => {
    expect(bedrockResources(['us.anthropic.claude-x-v1:0'], { partition: 'aws', region: 'us-east-1', account: '111122223333' })).toEqual([
      'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-x-v1:0',
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-x-v1:0',
    ]);
  });
});
