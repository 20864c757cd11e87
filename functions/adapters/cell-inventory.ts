/**
 * Every per-tenant resource of the account that says it is this cell's (issue 13, orphan sweep):
 * security groups in the cell VPC, access points on the cell file system, task roles under
 * /octw/tenants/ named for the cell, secrets under the cell's prefix, services in the cell cluster, and
 * with ingress the tenants' target groups (octw-*) and their listener rules on the cell's shards.
 * A resource is listed only when its `octw:cell` tag is exactly this cell, its `octw:managed-by`
 * exactly `octw` and its `octw:tenant` a valid tenant id: anything else is not ours to judge.
 * Removal re-reads the resource's tags by id first and deletes only on an exact match.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { DeleteSecurityGroupCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { DescribeServicesCommand, ListServicesCommand } from '@aws-sdk/client-ecs';
import type { EFSClient } from '@aws-sdk/client-efs';
import { DeleteAccessPointCommand, DescribeAccessPointsCommand } from '@aws-sdk/client-efs';
import type { IAMClient } from '@aws-sdk/client-iam';
import { ListRolesCommand, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { ForeignResourceError, ResourceBusyError } from '../domain/errors';
import { cellNamePrefix, cellSecretPrefix, MANAGED_BY, TAG_CELL, TAG_MANAGED_BY, TAG_TENANT, tagsOf, TENANT_ROLE_PATH } from '../domain/naming';
import { TENANT_ID_PATTERN } from '../domain/tenant';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';
import type { GatewayServices } from './gateway-service';
import type { TaskRoles } from './task-roles';
import { deleteTenantSecret } from './tenant-owned-secret';
import { classifyIngressError, type ElbV2Port } from './ingress-routes';
import type { IngressSettings } from '../domain/ingress';

export const RESOURCE_KINDS = ['security-group', 'access-point', 'task-role', 'secret', 'service', 'target-group', 'listener-rule'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface CellResource {
  kind: ResourceKind;
  /** Group id, access point id, role name, secret name, service name, target group ARN, listener rule ARN. */
  id: string;
  tenantId: string;
}

export interface CellInventoryConfig {
  cell: string;
  vpcId: string;
  fileSystemId: string;
  clusterName: string;
  secretRecoveryDays: number;
}

/** The tenant a resource's tags name when they say exactly "this cell, managed by octw"; undefined otherwise. */
export function ownTenantOf(tags: ReadonlyMap<string, string>, cell: string): string | undefined {
  if (tags.get(TAG_CELL) !== cell || tags.get(TAG_MANAGED_BY) !== MANAGED_BY) return undefined;
  const tenant = tags.get(TAG_TENANT);
  return tenant !== undefined && TENANT_ID_PATTERN.test(tenant) ? tenant : undefined;
}

export class CellInventory {
  constructor(
    private readonly c: { ec2: EC2Client; efs: EFSClient; iam: IAMClient; sm: SecretsManagerClient; ecs: ECSClient },
    private readonly cfg: CellInventoryConfig,
    private readonly adapters: { roles: Pick<TaskRoles, 'delete'>; services: Pick<GatewayServices, 'delete'> },
    /** The cell's ingress (its shards' listener rules and the tenants' target groups); absent: no ingress. */
    private readonly ingress?: { elb: ElbV2Port; settings: Pick<IngressSettings, 'shards'> },
  ) {}

  async list(): Promise<CellResource[]> {
    const parts = await Promise.all([this.securityGroups(), this.accessPoints(), this.roles(), this.secrets(), this.services(), this.listenerRules(), this.targetGroups()]);
    // Rules before target groups: a group is removable only once no rule forwards to it.
    return parts.flat();
  }

  /** Tags of ELBv2 resources, 20 ARNs a call (DescribeTags' limit). */
  private async elbTags(elb: ElbV2Port, arns: readonly string[]): Promise<Map<string, Map<string, string>>> {
    const out = new Map<string, Map<string, string>>();
    for (let i = 0; i < arns.length; i += 20) {
      let page;
      try {
        page = await elb.describeTags({ ResourceArns: arns.slice(i, i + 20) });
      } catch (err) {
        throw classifyIngressError(err, 'ELBv2 DescribeTags');
      }
      for (const d of page.TagDescriptions ?? []) if (d.ResourceArn) out.set(d.ResourceArn, tagsOf(d.Tags));
    }
    return out;
  }

  /** The ELBv2 resources among `arns` whose tags say they are one of this cell's tenants'. */
  private async ownElbResources(elb: ElbV2Port, kind: 'target-group' | 'listener-rule', arns: readonly string[]): Promise<CellResource[]> {
    const tags = await this.elbTags(elb, arns);
    return arns.flatMap((arn) => {
      const tenantId = ownTenantOf(tags.get(arn) ?? new Map(), this.cfg.cell);
      return tenantId ? [{ kind, id: arn, tenantId }] : [];
    });
  }

  /** Target groups named octw-* tagged for this cell's tenants. */
  private async targetGroups(): Promise<CellResource[]> {
    if (!this.ingress) return [];
    const { elb } = this.ingress;
    const arns: string[] = [];
    let marker: string | undefined;
    do {
      let page;
      try {
        page = await elb.describeTargetGroups({ PageSize: 400, ...(marker ? { Marker: marker } : {}) });
      } catch (err) {
        throw classifyIngressError(err, 'ELBv2 DescribeTargetGroups');
      }
      arns.push(...(page.TargetGroups ?? []).filter((t) => t.TargetGroupName?.startsWith('octw-') && t.TargetGroupArn).map((t) => t.TargetGroupArn!));
      marker = page.NextMarker;
    } while (marker);
    return this.ownElbResources(elb, 'target-group', arns);
  }

  /** Listener rules on the cell's shards tagged for this cell's tenants. */
  private async listenerRules(): Promise<CellResource[]> {
    if (!this.ingress) return [];
    const { elb, settings } = this.ingress;
    const arns: string[] = [];
    for (const shard of settings.shards) {
      let marker: string | undefined;
      do {
        let page;
        try {
          page = await elb.describeRules({ ListenerArn: shard.listenerArn, PageSize: 400, ...(marker ? { Marker: marker } : {}) });
        } catch (err) {
          throw classifyIngressError(err, 'ELBv2 DescribeRules');
        }
        arns.push(...(page.Rules ?? []).filter((r) => !r.IsDefault && r.RuleArn).map((r) => r.RuleArn!));
        marker = page.NextMarker;
      } while (marker);
    }
    return this.ownElbResources(elb, 'listener-rule', arns);
  }

  private async securityGroups(): Promise<CellResource[]> {
    const out: CellResource[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('EC2 DescribeSecurityGroups', () =>
        this.c.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [this.cfg.vpcId] },
              { Name: `tag:${TAG_CELL}`, Values: [this.cfg.cell] },
            ],
            NextToken: token,
            MaxResults: 1000,
          }),
        ),
      );
      for (const g of page.SecurityGroups ?? []) {
        const tenantId = ownTenantOf(tagsOf(g.Tags), this.cfg.cell);
        if (tenantId && g.GroupId) out.push({ kind: 'security-group', id: g.GroupId, tenantId });
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  private async accessPoints(): Promise<CellResource[]> {
    const out: CellResource[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('EFS DescribeAccessPoints', () =>
        this.c.efs.send(new DescribeAccessPointsCommand({ FileSystemId: this.cfg.fileSystemId, NextToken: token, MaxResults: 1000 })),
      );
      for (const a of page.AccessPoints ?? []) {
        if (a.LifeCycleState === 'deleting' || a.LifeCycleState === 'deleted') continue;
        const tenantId = ownTenantOf(tagsOf(a.Tags), this.cfg.cell);
        if (tenantId && a.AccessPointId) out.push({ kind: 'access-point', id: a.AccessPointId, tenantId });
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  private async roles(): Promise<CellResource[]> {
    const out: CellResource[] = [];
    let marker: string | undefined;
    const prefix = cellNamePrefix(this.cfg.cell);
    do {
      const page = await awsCall('IAM ListRoles', () => this.c.iam.send(new ListRolesCommand({ PathPrefix: TENANT_ROLE_PATH, Marker: marker, MaxItems: 1000 })));
      for (const r of page.Roles ?? []) {
        if (!r.RoleName?.startsWith(prefix)) continue;
        // ListRoles leaves the tags out: read them.
        const tags = await awsCall('IAM ListRoleTags', () => this.c.iam.send(new ListRoleTagsCommand({ RoleName: r.RoleName }))).catch((err: unknown) => {
          if (hasAwsErrorCode(err, 'NoSuchEntityException', 'NoSuchEntity')) return undefined;
          throw err;
        });
        const tenantId = tags ? ownTenantOf(tagsOf(tags.Tags), this.cfg.cell) : undefined;
        // Name and tags must tell the same tenant: a role whose tag names another tenant is not judged.
        if (tenantId && r.RoleName === `${prefix}${tenantId}`) out.push({ kind: 'task-role', id: r.RoleName, tenantId });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }

  private async secrets(): Promise<CellResource[]> {
    const out: CellResource[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('SecretsManager ListSecrets', () =>
        this.c.sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [cellSecretPrefix(this.cfg.cell)] }], NextToken: token, MaxResults: 100 })),
      );
      for (const s of page.SecretList ?? []) {
        const tenantId = ownTenantOf(tagsOf(s.Tags), this.cfg.cell);
        // Name and tags must tell the same tenant (octw/tenants/<cell>/<tenant>/...): a secret retagged
        // to another tenant is not judged (and never deleted as that tenant's).
        if (tenantId && s.Name?.startsWith(`${cellSecretPrefix(this.cfg.cell)}${tenantId}/`)) out.push({ kind: 'secret', id: s.Name, tenantId });
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  private async services(): Promise<CellResource[]> {
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall('ECS ListServices', () => this.c.ecs.send(new ListServicesCommand({ cluster: this.cfg.clusterName, nextToken: token, maxResults: 100 })));
      arns.push(...(page.serviceArns ?? []));
      token = page.nextToken;
    } while (token);
    const out: CellResource[] = [];
    for (let i = 0; i < arns.length; i += 10) {
      const page = await awsCall('ECS DescribeServices', () =>
        this.c.ecs.send(new DescribeServicesCommand({ cluster: this.cfg.clusterName, services: arns.slice(i, i + 10), include: ['TAGS'] })),
      );
      for (const s of page.services ?? []) {
        if (s.status !== 'ACTIVE') continue;
        const tenantId = ownTenantOf(tagsOf(s.tags), this.cfg.cell);
        if (tenantId && s.serviceName) out.push({ kind: 'service', id: s.serviceName, tenantId });
      }
    }
    return out;
  }

  /** Removes one orphan, after re-reading its tags. 'absent' if it is already gone; ResourceBusyError while it is in use. */
  async remove(r: CellResource): Promise<'deleted' | 'absent'> {
    switch (r.kind) {
      case 'security-group': {
        let tags;
        try {
          tags = (await this.c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [r.id] }))).SecurityGroups?.[0]?.Tags;
        } catch (err) {
          if (hasAwsErrorCode(err, 'InvalidGroup.NotFound', 'InvalidGroupId.NotFound')) return 'absent';
          throw classifyAwsError(err, 'EC2 DescribeSecurityGroups');
        }
        this.sameOwner(r, tagsOf(tags));
        try {
          await this.c.ec2.send(new DeleteSecurityGroupCommand({ GroupId: r.id }));
          return 'deleted';
        } catch (err) {
          if (hasAwsErrorCode(err, 'InvalidGroup.NotFound', 'InvalidGroupId.NotFound')) return 'absent';
          if (hasAwsErrorCode(err, 'DependencyViolation')) throw new ResourceBusyError(`security group ${r.id} is still in use`, { cause: err });
          throw classifyAwsError(err, 'EC2 DeleteSecurityGroup');
        }
      }
      case 'access-point': {
        let ap;
        try {
          ap = (await this.c.efs.send(new DescribeAccessPointsCommand({ AccessPointId: r.id }))).AccessPoints?.[0];
        } catch (err) {
          if (hasAwsErrorCode(err, 'AccessPointNotFound')) return 'absent';
          throw classifyAwsError(err, 'EFS DescribeAccessPoints');
        }
        if (!ap) return 'absent';
        this.sameOwner(r, tagsOf(ap.Tags));
        try {
          // The tenant's files stay on the file system (purge removes them).
          await this.c.efs.send(new DeleteAccessPointCommand({ AccessPointId: r.id }));
          return 'deleted';
        } catch (err) {
          if (hasAwsErrorCode(err, 'AccessPointNotFound')) return 'absent';
          throw classifyAwsError(err, 'EFS DeleteAccessPoint');
        }
      }
      // By deterministic name: the adapters check the tags before they delete.
      case 'task-role':
        return this.adapters.roles.delete(r.tenantId);
      case 'service':
        return (await this.adapters.services.delete(r.tenantId)) === 'absent' ? 'absent' : 'deleted';
      case 'secret':
        return deleteTenantSecret(this.c.sm, { cell: this.cfg.cell, tenantId: r.tenantId }, r.id, { recoveryDays: this.cfg.secretRecoveryDays });
      case 'target-group':
      case 'listener-rule': {
        if (!this.ingress) throw new ForeignResourceError(`the cell has no ingress; ${r.kind} ${r.id} is not touched`);
        const { elb } = this.ingress;
        const tags = await this.elbTags(elb, [r.id]).catch((err: unknown) => {
          if (hasAwsErrorCode(err, 'TargetGroupNotFound', 'RuleNotFound') || hasAwsErrorCode((err as Error).cause, 'TargetGroupNotFound', 'RuleNotFound')) return undefined;
          throw err;
        });
        if (!tags?.has(r.id)) return 'absent';
        this.sameOwner(r, tags.get(r.id)!);
        try {
          // A rule goes before its target group: a group still used by a rule is ResourceInUse (busy, retried next run).
          if (r.kind === 'listener-rule') await elb.deleteRule({ RuleArn: r.id });
          else await elb.deleteTargetGroup({ TargetGroupArn: r.id });
          return 'deleted';
        } catch (err) {
          if (hasAwsErrorCode(err, 'TargetGroupNotFound', 'RuleNotFound')) return 'absent';
          throw classifyIngressError(err, `ELBv2 Delete ${r.kind}`);
        }
      }
    }
  }

  private sameOwner(r: CellResource, tags: ReadonlyMap<string, string>): void {
    if (ownTenantOf(tags, this.cfg.cell) !== r.tenantId) {
      throw new ForeignResourceError(`${r.kind} ${r.id} is no longer tagged for tenant "${r.tenantId}" of cell "${this.cfg.cell}"; not touching it`);
    }
  }
}
