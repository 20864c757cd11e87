/**
 * Tenant security groups: `octw-<cell>--<id>` in the cell VPC (which other cells may share), no ingress, the default allow-all egress
 * rule revoked, egress = platform essentials + the tenant's allowlist. Reconciliation applies only
 * the difference between the rules that exist and the rules that should, so it is safe to repeat
 * and doubles as the allowlist update. A group is adopted, changed or deleted only when its
 * `octw:cell` and `octw:tenant` tags are this cell's and this tenant's (ForeignResourceError otherwise).
 */
import type { EC2Client, IpPermission, SecurityGroupRule, Tag } from '@aws-sdk/client-ec2';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { ForeignResourceError, QuotaExceededError, ResourceBusyError, ResourceConflictError } from '../domain/errors';
import { names, ownershipProblems, tagsOf, tenantTags } from '../domain/naming';
import type { EgressRule } from '../domain/tenant';
import { toIpPermissions } from '../domain/allowlist';
import { tenantIngressPermission } from '../domain/ingress';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export interface SecurityGroupConfig {
  /** The cell these groups belong to: in their names, their tags, and checked on every adopt and delete. */
  cell: string;
  vpcId: string;
  region: string;
  efsSecurityGroupId: string;
  endpointsSecurityGroupId: string;
  /** Egress rules every tenant of the cell gets (cdk.json `defaultEgressAllowlist`). */
  defaultAllowlist?: readonly EgressRule[];
  /** The cell's egress proxy (issue 10): tenants may reach its load balancer's group on its port. @default no proxy */
  egressProxy?: { clientSecurityGroupId: string; port: number };
  /** The ingress tier's security group (issue 12): the only source admitted, on the gateway port only. Absent: no ingress at all. */
  ingressSecurityGroupId?: string;
}

/** One egress rule in a form that can be compared with what EC2 reports. */
export interface EgressRuleSpec {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  groupId?: string;
  description: string;
}

export const egressRuleKey = (r: Omit<EgressRuleSpec, 'description'>): string =>
  [r.protocol, r.fromPort, r.toPort, r.cidrIpv4 ?? '', r.cidrIpv6 ?? '', r.prefixListId ?? '', r.groupId ?? ''].join('|');

export class SecurityGroups {
  constructor(
    private readonly ec2: EC2Client,
    private readonly cfg: SecurityGroupConfig,
  ) {}

  /** The rules every tenant needs whatever its allowlist: EFS, VPC endpoints, S3 (image layers), and the egress proxy. */
  async platformRules(): Promise<EgressRuleSpec[]> {
    return [
      { protocol: 'tcp', fromPort: 2049, toPort: 2049, groupId: this.cfg.efsSecurityGroupId, description: 'OCTW platform: EFS' },
      { protocol: 'tcp', fromPort: 443, toPort: 443, groupId: this.cfg.endpointsSecurityGroupId, description: 'OCTW platform: VPC endpoints' },
      { protocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: await this.s3PrefixList(), description: 'OCTW platform: S3 (ECR layers)' },
      ...this.egressProxyRules(),
    ];
  }

  /** [egress-wire] The only route to the internet by host name: the cell's egress proxy (its load balancer's group, its port). */
  egressProxyRules(): EgressRuleSpec[] {
    const p = this.cfg.egressProxy;
    return p ? [{ protocol: 'tcp', fromPort: p.port, toPort: p.port, groupId: p.clientSecurityGroupId, description: 'OCTW platform: egress proxy' }] : [];
  }

  async desiredRules(allowlist: readonly EgressRule[]): Promise<EgressRuleSpec[]> {
    // The cell's defaults and the tenant's own rules, merged and de-duplicated.
    const tenant = toIpPermissions([...(this.cfg.defaultAllowlist ?? []), ...allowlist]).map((p) => ({
      protocol: p.protocol,
      fromPort: p.fromPort,
      toPort: p.toPort,
      ...(p.cidrIpv4 ? { cidrIpv4: p.cidrIpv4 } : {}),
      ...(p.cidrIpv6 ? { cidrIpv6: p.cidrIpv6 } : {}),
      ...(p.prefixListId ? { prefixListId: p.prefixListId } : {}),
      description: p.description,
    }));
    return [...(await this.platformRules()), ...tenant];
  }

  async find(tenantId: string): Promise<{ groupId: string; tags: Tag[] } | undefined> {
    const out = await awsCall('EC2 DescribeSecurityGroups', () =>
      this.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [this.cfg.vpcId] },
            { Name: 'group-name', Values: [names.securityGroup({ cell: this.cfg.cell, tenantId })] },
          ],
        }),
      ),
    );
    const group = out.SecurityGroups?.[0];
    return group?.GroupId ? { groupId: group.GroupId, tags: group.Tags ?? [] } : undefined;
  }

  /** Creates (or finds) the group and makes its rules exactly the desired ones. Returns the group id. */
  async ensure(tenantId: string, cell: string, allowlist: readonly EgressRule[]): Promise<string> {
    if (cell !== this.cfg.cell) throw new ForeignResourceError(`tenant "${tenantId}" is of cell "${cell}", not this cell "${this.cfg.cell}"`);
    let found = await this.find(tenantId);
    if (!found) {
      try {
        const out = await this.ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: names.securityGroup({ cell, tenantId }),
            Description: `OCTW tenant ${tenantId} gateway (egress allowlist only)`,
            VpcId: this.cfg.vpcId,
            TagSpecifications: [
              {
                ResourceType: 'security-group',
                Tags: [...tenantTags(tenantId, cell).map((t) => ({ Key: t.key, Value: t.value })), { Key: 'Name', Value: names.securityGroup({ cell, tenantId }) }],
              },
            ],
          }),
        );
        found = { groupId: out.GroupId!, tags: tenantTags(tenantId, cell).map((t) => ({ Key: t.key, Value: t.value })) };
      } catch (err) {
        if (!hasAwsErrorCode(err, 'InvalidGroup.Duplicate')) throw classifyAwsError(err, 'EC2 CreateSecurityGroup');
        found = await this.find(tenantId);
        if (!found) throw classifyAwsError(err, 'EC2 CreateSecurityGroup (duplicate but not found)');
      }
    }
    this.verify(found, tenantId);
    await this.reconcile(found.groupId, await this.desiredRules(allowlist));
    await this.reconcileIngress(found.groupId);
    return found.groupId;
  }

  /** Revokes what should not be there (incl. AWS's default allow-all egress and any ingress), adds what is missing. */
  async reconcile(groupId: string, desired: EgressRuleSpec[]): Promise<{ added: number; removed: number }> {
    const rules = await this.rules(groupId);
    const desiredKeys = new Map(desired.map((r) => [egressRuleKey(r), r]));
    const existingEgress = new Map<string, SecurityGroupRule>();
    const revokeEgress: string[] = [];
    for (const rule of rules) {
      // Ingress is reconcileIngress's.
      if (!rule.IsEgress) continue;
      const key = egressRuleKey(specOf(rule));
      if (desiredKeys.has(key) && !existingEgress.has(key)) existingEgress.set(key, rule);
      else revokeEgress.push(rule.SecurityGroupRuleId!);
    }
    const missing = [...desiredKeys.entries()].filter(([k]) => !existingEgress.has(k)).map(([, r]) => r);

    // Add first, then revoke: an update never opens a window with less than the platform rules.
    for (const batch of chunk(missing, 20)) {
      try {
        await this.ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: batch.map(toIpPermission) }));
      } catch (err) {
        if (hasAwsErrorCode(err, 'RulesPerSecurityGroupLimitExceeded')) {
          throw new QuotaExceededError(`security group ${groupId}: the allowlist does not fit in one security group (60 rules, prefix lists count as their max entries)`, { cause: err });
        }
        if (!hasAwsErrorCode(err, 'InvalidPermission.Duplicate')) throw classifyAwsError(err, 'EC2 AuthorizeSecurityGroupEgress');
        // A batch is atomic; on a duplicate (a retried step) add the rules one at a time.
        for (const rule of batch) {
          await this.ec2
            .send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [toIpPermission(rule)] }))
            .catch((e: unknown) => {
              if (!hasAwsErrorCode(e, 'InvalidPermission.Duplicate')) throw classifyAwsError(e, 'EC2 AuthorizeSecurityGroupEgress');
            });
        }
      }
    }
    if (revokeEgress.length > 0) {
      await this.ec2
        .send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, SecurityGroupRuleIds: revokeEgress }))
        .catch((e: unknown) => {
          if (!hasAwsErrorCode(e, 'InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound')) throw classifyAwsError(e, 'EC2 RevokeSecurityGroupEgress');
        });
    }
    return { added: missing.length, removed: revokeEgress.length };
  }

  /**
   * The group's INGRESS (issue 12): exactly one rule, TCP on the gateway port from the ingress
   * tier's security group, when the cell has ingress; none otherwise. Any other ingress rule
   * (added by hand, or left from another configuration) is revoked.
   */
  async reconcileIngress(groupId: string): Promise<{ added: number; removed: number }> {
    const wanted = this.cfg.ingressSecurityGroupId ? tenantIngressPermission(this.cfg.ingressSecurityGroupId) : undefined;
    const rules = (await this.rules(groupId)).filter((r) => !r.IsEgress);
    const isWanted = (r: SecurityGroupRule) =>
      wanted !== undefined &&
      r.IpProtocol === wanted.IpProtocol &&
      r.FromPort === wanted.FromPort &&
      r.ToPort === wanted.ToPort &&
      r.ReferencedGroupInfo?.GroupId === wanted.UserIdGroupPairs[0]!.GroupId &&
      !r.CidrIpv4 &&
      !r.CidrIpv6 &&
      !r.PrefixListId;
    const keep = rules.find(isWanted);
    const revokeIngress = rules.filter((r) => r !== keep).map((r) => r.SecurityGroupRuleId!);
    let added = 0;
    if (wanted && !keep) {
      try {
        await this.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [wanted] }));
        added = 1;
      } catch (err) {
        if (!hasAwsErrorCode(err, 'InvalidPermission.Duplicate')) throw classifyAwsError(err, 'EC2 AuthorizeSecurityGroupIngress');
      }
    }
    if (revokeIngress.length > 0) {
      await this.ec2
        .send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: revokeIngress }))
        .catch((e: unknown) => {
          if (!hasAwsErrorCode(e, 'InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound')) throw classifyAwsError(e, 'EC2 RevokeSecurityGroupIngress');
        });
    }
    return { added, removed: revokeIngress.length };
  }

  async rules(groupId: string): Promise<SecurityGroupRule[]> {
    const rules: SecurityGroupRule[] = [];
    let token: string | undefined;
    do {
      const out = await awsCall('EC2 DescribeSecurityGroupRules', () =>
        this.ec2.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }], NextToken: token, MaxResults: 1000 }),
        ),
      );
      rules.push(...(out.SecurityGroupRules ?? []));
      token = out.NextToken;
    } while (token);
    return rules;
  }

  /** Refuses a group that is not this cell's tenant's (its tags say so). */
  private verify(group: { groupId: string; tags: Tag[] }, tenantId: string): void {
    const foreign = ownershipProblems(tagsOf(group.tags), { cell: this.cfg.cell, tenantId });
    if (foreign.length > 0) {
      throw new ForeignResourceError(`security group ${group.groupId} is not tenant "${tenantId}" of cell "${this.cfg.cell}" (${foreign.join(', ')}); not touching it`);
    }
  }

  /** The group with that id, or undefined if it does not exist. */
  private async byId(groupId: string): Promise<{ groupId: string; tags: Tag[] } | undefined> {
    try {
      const out = await this.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
      const group = out.SecurityGroups?.[0];
      return group?.GroupId ? { groupId: group.GroupId, tags: group.Tags ?? [] } : undefined;
    } catch (err) {
      if (hasAwsErrorCode(err, 'InvalidGroup.NotFound', 'InvalidGroupId.NotFound')) return undefined;
      throw classifyAwsError(err, 'EC2 DescribeSecurityGroups');
    }
  }

  /** Deletes the tenant's group. 'absent' if it was not there; ResourceBusyError while an ENI still uses it. */
  async delete(tenantId: string, knownGroupId?: string): Promise<'deleted' | 'absent'> {
    const group = knownGroupId ? ((await this.byId(knownGroupId)) ?? (await this.find(tenantId))) : await this.find(tenantId);
    if (!group) return 'absent';
    this.verify(group, tenantId);
    const groupId = group.groupId;
    try {
      await this.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
      return 'deleted';
    } catch (err) {
      if (hasAwsErrorCode(err, 'InvalidGroup.NotFound', 'InvalidGroupId.NotFound')) return 'absent';
      if (hasAwsErrorCode(err, 'DependencyViolation')) {
        throw new ResourceBusyError(`security group ${groupId} is still in use (the task's network interface has not been released yet)`, { cause: err });
      }
      throw classifyAwsError(err, 'EC2 DeleteSecurityGroup');
    }
  }

  private async s3PrefixList(): Promise<string> {
    const name = `com.amazonaws.${this.cfg.region}.s3`;
    const out = await awsCall('EC2 DescribeManagedPrefixLists', () =>
      this.ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [name] }] })),
    );
    const id = out.PrefixLists?.[0]?.PrefixListId;
    if (!id) throw new ResourceConflictError(`managed prefix list ${name} not found in this region`);
    return id;
  }
}

/** A rule as EC2 reports it, in the comparable form of `egressRuleKey` (also read by the reconcile, usecases/live-state.ts). */
export function specOf(rule: SecurityGroupRule): Omit<EgressRuleSpec, 'description'> {
  return {
    protocol: rule.IpProtocol ?? '-1',
    fromPort: rule.FromPort ?? -1,
    toPort: rule.ToPort ?? -1,
    ...(rule.CidrIpv4 ? { cidrIpv4: rule.CidrIpv4 } : {}),
    ...(rule.CidrIpv6 ? { cidrIpv6: rule.CidrIpv6.toLowerCase() } : {}),
    ...(rule.PrefixListId ? { prefixListId: rule.PrefixListId } : {}),
    ...(rule.ReferencedGroupInfo?.GroupId ? { groupId: rule.ReferencedGroupInfo.GroupId } : {}),
  };
}

function toIpPermission(r: EgressRuleSpec): IpPermission {
  const base: IpPermission = { IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort };
  const Description = r.description || undefined;
  if (r.cidrIpv4) base.IpRanges = [{ CidrIp: r.cidrIpv4, Description }];
  if (r.cidrIpv6) base.Ipv6Ranges = [{ CidrIpv6: r.cidrIpv6, Description }];
  if (r.prefixListId) base.PrefixListIds = [{ PrefixListId: r.prefixListId, Description }];
  if (r.groupId) base.UserIdGroupPairs = [{ GroupId: r.groupId, Description }];
  return base;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
