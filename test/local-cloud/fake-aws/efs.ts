/** EFS access points. Errors: EFS API Reference, CreateAccessPoint / DescribeAccessPoints. */
import type * as efs from '@aws-sdk/client-efs';
import {
  AccessPointAlreadyExists,
  AccessPointLimitExceeded,
  AccessPointNotFound,
  BadRequest,
  FileSystemNotFound,
} from '@aws-sdk/client-efs';
import type { ResourceRef, TagMap } from './core';
import { deepEqual, mergeTags, tagRecord, tagsFromKeyValue, toKeyValue } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta, serviceError } from './errors';
import { paginate } from './ec2';

export interface AccessPoint {
  readonly accessPointId: string;
  readonly accessPointArn: string;
  readonly fileSystemId: string;
  readonly clientToken: string;
  readonly posixUser?: efs.PosixUser;
  readonly rootDirectory?: efs.RootDirectory;
  readonly tags: TagMap;
  readonly createdAt: number;
  /** The create request minus ClientToken, for the idempotency comparison. */
  readonly request: unknown;
}

export class EfsFake implements EmulatedService {
  readonly name = 'EFS' as const;
  readonly accessPoints = new Map<string, AccessPoint>();

  constructor(private readonly ctx: ServiceContext) {}

  readonly operations = {
    CreateAccessPoint: op((i: efs.CreateAccessPointCommandInput): efs.CreateAccessPointCommandOutput => this.create(i)),
    DescribeAccessPoints: op((i: efs.DescribeAccessPointsCommandInput): efs.DescribeAccessPointsCommandOutput => this.describe(i)),
    DeleteAccessPoint: op((i: efs.DeleteAccessPointCommandInput): efs.DeleteAccessPointCommandOutput => {
      this.must(i.AccessPointId);
      this.accessPoints.delete(i.AccessPointId!);
      return { $metadata: {} };
    }),
    TagResource: op((i: efs.TagResourceCommandInput): efs.TagResourceCommandOutput => {
      mergeTags(this.byResourceId(i.ResourceId).tags, tagsFromKeyValue(i.Tags));
      return { $metadata: {} };
    }),
    ListTagsForResource: op((i: efs.ListTagsForResourceCommandInput): efs.ListTagsForResourceCommandOutput => {
      const { page, next } = paginate(toKeyValue(this.byResourceId(i.ResourceId).tags), i.MaxResults, i.NextToken);
      return { $metadata: {}, Tags: page, ...(next ? { NextToken: next } : {}) };
    }),
  };

  private must(id: string | undefined): AccessPoint {
    const ap = id ? this.accessPoints.get(id) : undefined;
    if (!ap) {
      throw new AccessPointNotFound({ ErrorCode: 'AccessPointNotFound', message: `Access point '${id ?? ''}' does not exist.`, $metadata: meta(404) });
    }
    return ap;
  }

  private byResourceId(id: string | undefined): AccessPoint {
    if (id?.startsWith('arn:')) return this.must(id.split('/').pop());
    return this.must(id);
  }

  private mustFileSystem(id: string | undefined): string {
    if (!id || !this.ctx.config.fileSystemIds.includes(id)) {
      throw new FileSystemNotFound({ ErrorCode: 'FileSystemNotFound', message: `File system '${id ?? ''}' does not exist.`, $metadata: meta(404) });
    }
    return id;
  }

  private create(i: efs.CreateAccessPointCommandInput): efs.CreateAccessPointCommandOutput {
    const fileSystemId = this.mustFileSystem(i.FileSystemId);
    // Absent ClientToken: the SDK's serialiser fills a fresh UUID (idempotencyToken trait),
    // which this plug-in path bypasses, so do the same here.
    const { ClientToken, ...request } = i;
    const token = ClientToken ?? this.ctx.rng.uuid();
    const existing = [...this.accessPoints.values()].find((a) => a.clientToken === token);
    if (existing) {
      if (this.ctx.config.efs.clientTokenReplay === 'alreadyExists') {
        throw new AccessPointAlreadyExists({
          ErrorCode: 'AccessPointAlreadyExists',
          message: `An access point with the ClientToken '${token}' already exists: ${existing.accessPointId}`,
          AccessPointId: existing.accessPointId,
          $metadata: meta(409),
        });
      }
      if (!deepEqual(existing.request, request)) {
        throw serviceError('EFS', 'IdempotentParameterMismatch', 'The ClientToken was already used with different parameters.', 409);
      }
      return { $metadata: {}, ...this.describeOne(existing) };
    }
    const count = [...this.accessPoints.values()].filter((a) => a.fileSystemId === fileSystemId).length;
    if (count >= this.ctx.config.limits.accessPointsPerFileSystem) {
      throw new AccessPointLimitExceeded({
        ErrorCode: 'AccessPointLimitExceeded',
        message: `You have reached the maximum number of access points (${this.ctx.config.limits.accessPointsPerFileSystem}) for file system ${fileSystemId}.`,
        $metadata: meta(403),
      });
    }
    const accessPointId = `fsap-${this.ctx.rng.hex(17)}`;
    const ap: AccessPoint = {
      accessPointId,
      accessPointArn: `arn:aws:elasticfilesystem:${this.ctx.config.region}:${this.ctx.config.account}:access-point/${accessPointId}`,
      fileSystemId,
      clientToken: token,
      ...(i.PosixUser ? { posixUser: i.PosixUser } : {}),
      rootDirectory: i.RootDirectory ?? { Path: '/' },
      tags: tagsFromKeyValue(i.Tags),
      createdAt: this.ctx.now(),
      request,
    };
    this.accessPoints.set(accessPointId, ap);
    return { $metadata: {}, ...this.describeOne(ap) };
  }

  describeOne(ap: AccessPoint): efs.AccessPointDescription {
    const available = this.ctx.now() >= ap.createdAt + this.ctx.latency('accessPointCreateMs');
    const name = ap.tags.get('Name');
    return {
      ClientToken: ap.clientToken,
      ...(name !== undefined ? { Name: name } : {}),
      Tags: toKeyValue(ap.tags),
      AccessPointId: ap.accessPointId,
      AccessPointArn: ap.accessPointArn,
      FileSystemId: ap.fileSystemId,
      ...(ap.posixUser ? { PosixUser: ap.posixUser } : {}),
      ...(ap.rootDirectory ? { RootDirectory: ap.rootDirectory } : {}),
      OwnerId: this.ctx.config.account,
      LifeCycleState: available ? 'available' : 'creating',
    };
  }

  private describe(i: efs.DescribeAccessPointsCommandInput): efs.DescribeAccessPointsCommandOutput {
    if (i.AccessPointId && i.FileSystemId) {
      throw new BadRequest({ ErrorCode: 'BadRequest', message: 'Specify either AccessPointId or FileSystemId, not both.', $metadata: meta(400) });
    }
    if (i.AccessPointId) return { $metadata: {}, AccessPoints: [this.describeOne(this.must(i.AccessPointId))] };
    let aps = [...this.accessPoints.values()];
    if (i.FileSystemId) {
      this.mustFileSystem(i.FileSystemId);
      aps = aps.filter((a) => a.fileSystemId === i.FileSystemId);
    }
    // DescribeAccessPoints MaxResults defaults to 100 (EFS API Reference).
    const { page, next } = paginate(aps, i.MaxResults ?? 100, i.NextToken);
    return { $metadata: {}, AccessPoints: page.map((a) => this.describeOne(a)), ...(next ? { NextToken: next } : {}) };
  }

  resources(): ResourceRef[] {
    return [...this.accessPoints.values()].map((a) => ({
      service: 'EFS',
      type: 'AWS::EFS::AccessPoint',
      id: a.accessPointId,
      arn: a.accessPointArn,
      tags: tagRecord(a.tags),
    }));
  }
}
