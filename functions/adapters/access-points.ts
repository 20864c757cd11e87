/**
 * Tenant EFS access points: root /tenants/<id>, the tenant's uid/gid, mode 0700.
 * CreateAccessPoint is idempotent through its ClientToken (one per cell, tenant and generation).
 * An access point is adopted or deleted only when its `octw:cell` and `octw:tenant` tags are this
 * cell's and this tenant's (ForeignResourceError otherwise).
 */
import type { AccessPointDescription, EFSClient } from '@aws-sdk/client-efs';
import { CreateAccessPointCommand, DeleteAccessPointCommand, DescribeAccessPointsCommand } from '@aws-sdk/client-efs';
import { ForeignResourceError, QuotaExceededError, ResourceConflictError, TransientAwsError } from '../domain/errors';
import { names, ownershipProblems, tagsOf, tenantTags } from '../domain/naming';
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
    /** The cell these access points belong to: in their tags, and checked on every adopt and delete. */
    private readonly cell: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async ensure(spec: AccessPointSpec): Promise<AccessPointRef> {
    if (spec.cell !== this.cell) throw new ForeignResourceError(`tenant "${spec.tenantId}" is of cell "${spec.cell}", not this cell "${this.cell}"`);
    let ap: AccessPointDescription | undefined;
    try {
      const out = await this.efs.send(
        new CreateAccessPointCommand({
          ClientToken: `${names.service(spec)}-g${spec.generation}`,
          FileSystemId: this.fileSystemId,
          PosixUser: { Uid: spec.uid, Gid: spec.gid },
          RootDirectory: {
            Path: names.accessPointRoot(spec.tenantId),
            CreationInfo: { OwnerUid: spec.uid, OwnerGid: spec.gid, Permissions: '0700' },
          },
          Tags: [...tenantTags(spec.tenantId, spec.cell).map((t) => ({ Key: t.key, Value: t.value })), { Key: 'Name', Value: names.service(spec) }],
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

  /** Scans the file system's access points for the tenant's (by its cell and tenant tags). Used when no id was recorded. */
  async find(tenantId: string): Promise<AccessPointDescription | undefined> {
    let token: string | undefined;
    do {
      const out = await awsCall('EFS DescribeAccessPoints', () =>
        this.efs.send(new DescribeAccessPointsCommand({ FileSystemId: this.fileSystemId, NextToken: token, MaxResults: 1000 })),
      );
      const hit = out.AccessPoints?.find(
        (a) =>
          ownershipProblems(tagsOf(a.Tags), { cell: this.cell, tenantId }).length === 0 && a.LifeCycleState !== 'deleting' && a.LifeCycleState !== 'deleted',
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
    const ap = knownId ? ((await this.byId(knownId)) ?? (await this.find(tenantId))) : await this.find(tenantId);
    if (!ap?.AccessPointId) return 'absent';
    this.verifyOwner(ap, tenantId);
    try {
      await this.efs.send(new DeleteAccessPointCommand({ AccessPointId: ap.AccessPointId }));
      return 'deleted';
    } catch (err) {
      if (hasAwsErrorCode(err, 'AccessPointNotFound')) return 'absent';
      throw classifyAwsError(err, 'EFS DeleteAccessPoint');
    }
  }

  private verifyOwner(ap: AccessPointDescription, tenantId: string): void {
    const foreign = ownershipProblems(tagsOf(ap.Tags), { cell: this.cell, tenantId });
    if (foreign.length > 0) {
      throw new ForeignResourceError(`access point ${ap.AccessPointId ?? '?'} is not tenant "${tenantId}" of cell "${this.cell}" (${foreign.join(', ')}); not touching it`);
    }
  }

  private verify(ap: AccessPointDescription, spec: AccessPointSpec): void {
    this.verifyOwner(ap, spec.tenantId);
    const problems: string[] = [];
    if (ap.FileSystemId !== undefined && ap.FileSystemId !== this.fileSystemId) problems.push(`file system ${ap.FileSystemId}`);
    if (ap.RootDirectory?.Path !== names.accessPointRoot(spec.tenantId)) problems.push(`root ${ap.RootDirectory?.Path ?? '?'}`);
    if (ap.PosixUser?.Uid !== spec.uid || ap.PosixUser?.Gid !== spec.gid) problems.push(`posix user ${ap.PosixUser?.Uid ?? '?'}:${ap.PosixUser?.Gid ?? '?'}`);
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
