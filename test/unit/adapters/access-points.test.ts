import { AccessPointAlreadyExists, CreateAccessPointCommand, DeleteAccessPointCommand, DescribeAccessPointsCommand, EFSClient } from '@aws-sdk/client-efs';
import { mockClient } from 'aws-sdk-client-mock';
import { ForeignResourceError, ResourceConflictError } from '../../../functions/domain/errors';
import { AccessPoints } from '../../../functions/adapters/access-points';

const efs = mockClient(EFSClient);
const noSleep = () => Promise.resolve();
const aps = new AccessPoints(new EFSClient({ region: 'eu-west-1' }), 'fs-1', 'cell-1', noSleep);
const spec = { tenantId: 'acme', cell: 'cell-1', uid: 200001, gid: 200001, generation: 2 };
const described = (over: Record<string, unknown> = {}) => ({
  AccessPointId: 'fsap-1',
  AccessPointArn: 'arn:aws:elasticfilesystem:eu-west-1:1:access-point/fsap-1',
  RootDirectory: { Path: '/tenants/acme' },
  PosixUser: { Uid: 200001, Gid: 200001 },
  Tags: [
    { Key: 'octw:tenant', Value: 'acme' },
    { Key: 'octw:cell', Value: 'cell-1' },
  ],
  LifeCycleState: 'available' as const,
  ...over,
});

afterEach(() => {
  efs.reset();
});

describe('AccessPoints.ensure', () => {
  it('creates /tenants/<id> owned by the tenant uid/gid with mode 0700, with a client token per generation', async () => {
    efs.on(CreateAccessPointCommand).resolves(described({ LifeCycleState: 'creating' }));
    efs.on(DescribeAccessPointsCommand).resolvesOnce({ AccessPoints: [described({ LifeCycleState: 'creating' })] }).resolves({ AccessPoints: [described()] });
    await expect(aps.ensure(spec)).resolves.toEqual({ accessPointId: 'fsap-1', accessPointArn: described().AccessPointArn });
    expect(efs).toHaveReceivedCommandWith(CreateAccessPointCommand, {
      ClientToken: 'octw-cell-1--acme-g2',
      FileSystemId: 'fs-1',
      PosixUser: { Uid: 200001, Gid: 200001 },
      RootDirectory: { Path: '/tenants/acme', CreationInfo: { OwnerUid: 200001, OwnerGid: 200001, Permissions: '0700' } },
    });
    expect(efs).toHaveReceivedCommandTimes(DescribeAccessPointsCommand, 2);
  });

  it('adopts the access point named by AccessPointAlreadyExists when a step is repeated', async () => {
    efs.on(CreateAccessPointCommand).rejects(new AccessPointAlreadyExists({ message: 'exists', ErrorCode: 'AccessPointAlreadyExists', AccessPointId: 'fsap-1', $metadata: {} }));
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [described()] });
    await expect(aps.ensure(spec)).resolves.toMatchObject({ accessPointId: 'fsap-1' });
    expect(efs).toHaveReceivedCommandWith(DescribeAccessPointsCommand, { AccessPointId: 'fsap-1' });
  });

  it("refuses an existing access point whose root or owner is not the tenant's", async () => {
    efs.on(CreateAccessPointCommand).rejects(new AccessPointAlreadyExists({ message: 'exists', ErrorCode: 'AccessPointAlreadyExists', AccessPointId: 'fsap-1', $metadata: {} }));
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [described({ PosixUser: { Uid: 1, Gid: 1 } })] });
    await expect(aps.ensure(spec)).rejects.toBeInstanceOf(ResourceConflictError);
  });
});

describe('AccessPoints: another cell\'s access point', () => {
  const foreign = described({ Tags: [{ Key: 'octw:tenant', Value: 'acme' }, { Key: 'octw:cell', Value: 'cell-2' }] });
  it('is neither adopted nor deleted, even when its id is the one recorded', async () => {
    efs.on(CreateAccessPointCommand).rejects(new AccessPointAlreadyExists({ message: 'exists', ErrorCode: 'AccessPointAlreadyExists', AccessPointId: 'fsap-1', $metadata: {} }));
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [foreign] });
    await expect(aps.ensure(spec)).rejects.toBeInstanceOf(ForeignResourceError);
    await expect(aps.delete('acme', 'fsap-1')).rejects.toBeInstanceOf(ForeignResourceError);
    expect(efs).not.toHaveReceivedCommand(DeleteAccessPointCommand);
  });
  it('is not found by the tag scan', async () => {
    efs.on(DescribeAccessPointsCommand).resolves({ AccessPoints: [foreign] });
    await expect(aps.delete('acme')).resolves.toBe('absent');
    expect(efs).not.toHaveReceivedCommand(DeleteAccessPointCommand);
  });
});
