/**
 * Tenant EFS access points: root /tenants/<id>, the tenant's uid/gid, mode 0700.
 * CreateAccessPoint is idempotent through its ClientToken (one per tenant generation).
 */
import type { AccessPointDescription, EFSClient } from '@aws-sdk/client-efs';
import { CreateAccessPointCommand, DeleteAccessPointCommand, DescribeAccessPointsCommand } from '@aws-sdk/client-efs';
import { QuotaExceededError, ResourceConflictError, TransientAwsError } from '../domain/errors';
import { names, TAG_TENANT, tenantTags } from '../domain/naming';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export interface AccessPointSpec {
  tenantId: string;
  cell: string;
  uid: number;
  gid: number;
  generation: number;
}

export interface AccessPointRef {
  accessPointId: string;
  accessPointArn: string;
}

export class AccessPoints {
  constructor(
    private readonly efs: EFSClient,
    private readonly fileSystemId: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async ensure(spec: AccessPointSpec): Promise<AccessPointRef> {
    let ap: AccessPointDescription | undefined;
    try {
      const out = await this.efs.send(
        new CreateAccessPointCommand({
          ClientToken: `octw-${spec.tenantId}-g${spec.generation}`,
          FileSystemId: this.fileSystemId,
          PosixUser: { Uid: spec.uid, Gid: spec.gid },
          RootDirectory: {
            Path: names.accessPointRoot(spec.tenantId),
            CreationInfo: { OwnerUid: spec.uid, OwnerGid: spec.gid, Permissions: '0700' },
          },
          Tags: [...tenantTags(spec.tenantId, spec.cell).map((t) => ({ Key: t.key, Value: t.value })), { Key: 'Name', Value: `octw-${spec.tenantId}` }],
        }),
      );
      ap = out;
    } catch (err) {
      if (hasAwsErrorCode(err, 'AccessPointLimitExceeded')) {
        throw new QuotaExceededError(`file system ${this.fileSystemId} has reached its access point limit; this cell is full`, { cause: err });
      }
      if (!hasAwsErrorCode(err, 'AccessPointAlreadyExists')) throw classifyAwsError(err, 'EFS CreateAccessPoint');
      // EFS answers a replayed ClientToken with AccessPointAlreadyExists naming the access point
      // (observed: aws/aws-cli#6198; the EFS CSI driver adopts it the same way).
      const existingId = (err as { AccessPointId?: string }).AccessPointId;
      ap = existingId ? await this.byId(existingId) : await this.find(spec.tenantId);
      if (!ap) throw classifyAwsError(err, 'EFS CreateAccessPoint (exists but not found)');
    }
    this.verify(ap, spec);
    await this.waitAvailable(ap.AccessPointId!);
    return { accessPointId: ap.AccessPointId!, accessPointArn: ap.AccessPointArn! };
  }

  /** Scans the file system's access points for the tenant's (by tag). Used when no id was recorded. */
  async find(tenantId: string): Promise<AccessPointDescription | undefined> {
    let token: string | undefined;
    do {
      const out = await awsCall('EFS DescribeAccessPoints', () =>
        this.efs.send(new DescribeAccessPointsCommand({ FileSystemId: this.fileSystemId, NextToken: token, MaxResults: 1000 })),
      );
      const hit = out.AccessPoints?.find(
        (a) => a.Tags?.some((t) => t.Key === TAG_TENANT && t.Value === tenantId) && a.LifeCycleState !== 'deleting' && a.LifeCycleState !== 'deleted',
      );
      if (hit) return hit;
      token = out.NextToken;
    } while (token);
    return undefined;
  }

  async byId(id: string): Promise<AccessPointDescription | undefined> {
    try {
      const out = await this.efs.send(new DescribeAccessPointsCommand({ AccessPointId: id }));
      return out.AccessPoints?.[0];
    } catch (err) {
      if (hasAwsErrorCode(err, 'AccessPointNotFound')) return undefined;
      throw classifyAwsError(err, 'EFS DescribeAccessPoints');
    }
  }

  async delete(tenantId: string, knownId?: string): Promise<'deleted' | 'absent'> {
    const id = knownId ?? (await this.find(tenantId))?.AccessPointId;
    if (!id) return 'absent';
    try {
      await this.efs.send(new DeleteAccessPointCommand({ AccessPointId: id }));
      return 'deleted';
    } catch (err) {
      if (hasAwsErrorCode(err, 'AccessPointNotFound')) return knownId ? this.delete(tenantId) : 'absent';
      throw classifyAwsError(err, 'EFS DeleteAccessPoint');
    }
  }

  private verify(ap: AccessPointDescription, spec: AccessPointSpec): void {
    const problems: string[] = [];
    if (ap.RootDirectory?.Path !== names.accessPointRoot(spec.tenantId)) problems.push(`root ${ap.RootDirectory?.Path ?? '?'}`);
    if (ap.PosixUser?.Uid !== spec.uid || ap.PosixUser?.Gid !== spec.gid) problems.push(`posix user ${ap.PosixUser?.Uid ?? '?'}:${ap.PosixUser?.Gid ?? '?'}`);
    if (!ap.Tags?.some((t) => t.Key === TAG_TENANT && t.Value === spec.tenantId)) problems.push('tenant tag');
    if (problems.length > 0) {
      throw new ResourceConflictError(`access point ${ap.AccessPointId ?? '?'} for tenant "${spec.tenantId}" does not match: ${problems.join(', ')}`);
    }
  }

  private async waitAvailable(id: string): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const out = await awsCall('EFS DescribeAccessPoints', () => this.efs.send(new DescribeAccessPointsCommand({ AccessPointId: id })));
      const state = out.AccessPoints?.[0]?.LifeCycleState;
      if (state === 'available') return;
      if (state === 'error') throw new TransientAwsError(`access point ${id} is in state error`);
      await this.sleep(Math.min(200 * 2 ** attempt, 2000));
    }
    throw new TransientAwsError(`access point ${id} did not become available in time`);
  }
}
