/**
 * EC2 security groups and rules, managed prefix lists, tags.
 * Error codes: EC2 API Reference, "Error codes for the Amazon EC2 API".
 */
import type * as ec2 from '@aws-sdk/client-ec2';
import { AWS_MANAGED_PREFIX_LISTS } from './config';
import type { ResourceRef, TagMap } from './core';
import { mergeTags, tagRecord, tagsFromKeyValue, toKeyValue } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { ec2Error } from './errors';
import type { Ec2Network } from './ec2-network';

export interface SecurityGroupRule {
  readonly id: string;
  readonly groupId: string;
  readonly isEgress: boolean;
  /** `-1`, `tcp`, `udp`, `icmp` or a protocol number. */
  readonly ipProtocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly prefixListId?: string;
  readonly referencedGroupId?: string;
  readonly description?: string;
  readonly tags: TagMap;
}

export interface SecurityGroup {
  readonly groupId: string;
  readonly groupName: string;
  readonly description: string;
  readonly vpcId: string;
  readonly tags: TagMap;
  readonly rules: SecurityGroupRule[];
}

/** Asked by DeleteSecurityGroup: is an ENI (of a live or draining task) still using the group? */
export type EniUsage = (groupId: string) => string | undefined;

const PROTOCOL_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', all: '-1' };

export class Ec2Fake implements EmulatedService {
  readonly name = 'EC2' as const;
  readonly groups = new Map<string, SecurityGroup>();
  private eniUsage: EniUsage = () => undefined;

  constructor(private readonly ctx: ServiceContext) {}

  private mustNetwork(): Ec2Network {
    if (!this.network) throw new Error('EC2 fake: no network model set');
    return this.network;
  }

  setEniUsage(fn: EniUsage): void {
    this.eniUsage = fn;
  }

  /** Issue 13.5: network interfaces and subnets (ec2-network.ts), set by FakeAws. */
  network?: Ec2Network;

  readonly operations = {
    CreateSecurityGroup: op((i: ec2.CreateSecurityGroupCommandInput): ec2.CreateSecurityGroupCommandOutput => this.createGroup(i)),
    DescribeSecurityGroups: op((i: ec2.DescribeSecurityGroupsCommandInput): ec2.DescribeSecurityGroupsCommandOutput => this.describeGroups(i)),
    DescribeSecurityGroupRules: op((i: ec2.DescribeSecurityGroupRulesCommandInput): ec2.DescribeSecurityGroupRulesCommandOutput => this.describeRules(i)),
    AuthorizeSecurityGroupEgress: op((i: ec2.AuthorizeSecurityGroupEgressCommandInput): ec2.AuthorizeSecurityGroupEgressCommandOutput =>
      this.authorize(true, i.GroupId, i.IpPermissions, i.TagSpecifications),
    ),
    AuthorizeSecurityGroupIngress: op((i: ec2.AuthorizeSecurityGroupIngressCommandInput): ec2.AuthorizeSecurityGroupIngressCommandOutput =>
      this.authorize(false, i.GroupId, i.IpPermissions, i.TagSpecifications),
    ),
    RevokeSecurityGroupEgress: op((i: ec2.RevokeSecurityGroupEgressCommandInput): ec2.RevokeSecurityGroupEgressCommandOutput =>
      this.revoke(true, i.GroupId, i.IpPermissions, i.SecurityGroupRuleIds),
    ),
    RevokeSecurityGroupIngress: op((i: ec2.RevokeSecurityGroupIngressCommandInput): ec2.RevokeSecurityGroupIngressCommandOutput =>
      this.revoke(false, i.GroupId, i.IpPermissions, i.SecurityGroupRuleIds),
    ),
    DeleteSecurityGroup: op((i: ec2.DeleteSecurityGroupCommandInput): ec2.DeleteSecurityGroupCommandOutput => this.deleteGroup(i)),
    DescribeManagedPrefixLists: op((i: ec2.DescribeManagedPrefixListsCommandInput): ec2.DescribeManagedPrefixListsCommandOutput =>
      this.describePrefixLists(i),
    ),
    DescribeNetworkInterfaces: op((i: ec2.DescribeNetworkInterfacesCommandInput): ec2.DescribeNetworkInterfacesCommandOutput => this.mustNetwork().describeNetworkInterfaces(i)),
    DescribeSubnets: op((i: ec2.DescribeSubnetsCommandInput): ec2.DescribeSubnetsCommandOutput => this.mustNetwork().describeSubnets(i)),
    CreateTags: op((i: ec2.CreateTagsCommandInput): ec2.CreateTagsCommandOutput => this.createTags(i)),
  };

  private newId(prefix: string): string {
    return `${prefix}-${this.ctx.rng.hex(17)}`;
  }

  private arnOf(kind: string, id: string): string {
    return `arn:aws:ec2:${this.ctx.config.region}:${this.ctx.config.account}:${kind}/${id}`;
  }

  private tagsFor(specs: ec2.TagSpecification[] | undefined, resourceType: string): TagMap {
    const tags: TagMap = new Map();
    for (const s of specs ?? []) if (s.ResourceType === resourceType) mergeTags(tags, tagsFromKeyValue(s.Tags));
    return tags;
  }

  private mustGroup(groupId: string | undefined): SecurityGroup {
    const g = groupId ? this.groups.get(groupId) : undefined;
    if (!g) throw ec2Error('InvalidGroup.NotFound', `The security group '${groupId ?? ''}' does not exist`);
    return g;
  }

  private createGroup(i: ec2.CreateSecurityGroupCommandInput): ec2.CreateSecurityGroupCommandOutput {
    const vpcs = this.ctx.config.vpcs;
    const vpcId = i.VpcId ?? vpcs.find((v) => v.isDefault)?.vpcId;
    if (!vpcId) throw ec2Error('VPCIdNotSpecified', 'No default VPC for this user');
    if (!vpcs.some((v) => v.vpcId === vpcId)) throw ec2Error('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    if (!i.GroupName || !i.Description) throw ec2Error('MissingParameter', 'The request must contain the parameter groupName and groupDescription');
    if (i.GroupName.toLowerCase().startsWith('sg-')) throw ec2Error('InvalidParameterValue', "Group names may not be in the format sg-*.");
    for (const g of this.groups.values()) {
      if (g.vpcId === vpcId && g.groupName === i.GroupName) {
        throw ec2Error('InvalidGroup.Duplicate', `The security group '${i.GroupName}' already exists for VPC '${vpcId}'`);
      }
    }
    const groupId = this.newId('sg');
    const tags = this.tagsFor(i.TagSpecifications, 'security-group');
    const group: SecurityGroup = { groupId, groupName: i.GroupName, description: i.Description, vpcId, tags, rules: [] };
    // AWS adds the default allow-all IPv4 egress rule to every new VPC security group
    // (VPC User Guide, "Security group rules": "a default outbound rule that allows all outbound traffic").
    group.rules.push({ id: this.newId('sgr'), groupId, isEgress: true, ipProtocol: '-1', fromPort: -1, toPort: -1, cidrIpv4: '0.0.0.0/0', tags: new Map() });
    this.groups.set(groupId, group);
    return { $metadata: {}, GroupId: groupId, Tags: toKeyValue(tags), SecurityGroupArn: this.arnOf('security-group', groupId) };
  }

  private matchesFilters(g: SecurityGroup, filters: ec2.Filter[] | undefined): boolean {
    for (const f of filters ?? []) {
      const values = f.Values ?? [];
      const name = f.Name ?? '';
      let actual: string | undefined;
      if (name === 'group-name') actual = g.groupName;
      else if (name === 'group-id') actual = g.groupId;
      else if (name === 'vpc-id') actual = g.vpcId;
      else if (name.startsWith('tag:')) actual = g.tags.get(name.slice(4));
      else if (name === 'tag-key') {
        if (!values.some((v) => g.tags.has(v))) return false;
        continue;
      } else throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      if (actual === undefined || !values.some((v) => globMatch(v, actual))) return false;
    }
    return true;
  }

  private toIpPermissions(g: SecurityGroup, egress: boolean): ec2.IpPermission[] {
    const byKey = new Map<string, ec2.IpPermission>();
    for (const r of g.rules.filter((x) => x.isEgress === egress)) {
      const key = `${r.ipProtocol}|${r.fromPort}|${r.toPort}`;
      let p = byKey.get(key);
      if (!p) {
        p = { IpProtocol: r.ipProtocol, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] };
        if (r.ipProtocol !== '-1') Object.assign(p, { FromPort: r.fromPort, ToPort: r.toPort });
        byKey.set(key, p);
      }
      const d = r.description !== undefined ? { Description: r.description } : {};
      if (r.cidrIpv4) p.IpRanges!.push({ CidrIp: r.cidrIpv4, ...d });
      if (r.cidrIpv6) p.Ipv6Ranges!.push({ CidrIpv6: r.cidrIpv6, ...d });
      if (r.prefixListId) p.PrefixListIds!.push({ PrefixListId: r.prefixListId, ...d });
      if (r.referencedGroupId) p.UserIdGroupPairs!.push({ GroupId: r.referencedGroupId, UserId: this.ctx.config.account, ...d });
    }
    return [...byKey.values()];
  }

  private describeGroups(i: ec2.DescribeSecurityGroupsCommandInput): ec2.DescribeSecurityGroupsCommandOutput {
    let groups = [...this.groups.values()];
    if (i.GroupIds?.length) {
      groups = i.GroupIds.map((id) => this.mustGroup(id));
    }
    if (i.GroupNames?.length) {
      for (const n of i.GroupNames) {
        if (!groups.some((g) => g.groupName === n)) throw ec2Error('InvalidGroup.NotFound', `The security group '${n}' does not exist in default VPC`);
      }
      groups = groups.filter((g) => i.GroupNames!.includes(g.groupName));
    }
    groups = groups.filter((g) => this.matchesFilters(g, i.Filters));
    const { page, next } = paginate(groups, i.MaxResults, i.NextToken);
    return {
      $metadata: {},
      SecurityGroups: page.map((g) => ({
        GroupId: g.groupId,
        GroupName: g.groupName,
        Description: g.description,
        VpcId: g.vpcId,
        OwnerId: this.ctx.config.account,
        SecurityGroupArn: this.arnOf('security-group', g.groupId),
        Tags: toKeyValue(g.tags),
        IpPermissions: this.toIpPermissions(g, false),
        IpPermissionsEgress: this.toIpPermissions(g, true),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  private toRuleShape(r: SecurityGroupRule): ec2.SecurityGroupRule {
    return {
      SecurityGroupRuleId: r.id,
      GroupId: r.groupId,
      GroupOwnerId: this.ctx.config.account,
      IsEgress: r.isEgress,
      IpProtocol: r.ipProtocol,
      FromPort: r.fromPort,
      ToPort: r.toPort,
      ...(r.cidrIpv4 ? { CidrIpv4: r.cidrIpv4 } : {}),
      ...(r.cidrIpv6 ? { CidrIpv6: r.cidrIpv6 } : {}),
      ...(r.prefixListId ? { PrefixListId: r.prefixListId } : {}),
      ...(r.referencedGroupId ? { ReferencedGroupInfo: { GroupId: r.referencedGroupId, UserId: this.ctx.config.account } } : {}),
      ...(r.description !== undefined ? { Description: r.description } : {}),
      Tags: toKeyValue(r.tags),
      SecurityGroupRuleArn: this.arnOf('security-group-rule', r.id),
    };
  }

  private describeRules(i: ec2.DescribeSecurityGroupRulesCommandInput): ec2.DescribeSecurityGroupRulesCommandOutput {
    let rules = [...this.groups.values()].flatMap((g) => g.rules);
    if (i.SecurityGroupRuleIds?.length) rules = rules.filter((r) => i.SecurityGroupRuleIds!.includes(r.id));
    for (const f of i.Filters ?? []) {
      const values = f.Values ?? [];
      if (f.Name === 'group-id') rules = rules.filter((r) => values.includes(r.groupId));
      else if (f.Name === 'security-group-rule-id') rules = rules.filter((r) => values.includes(r.id));
      else if (f.Name?.startsWith('tag:')) rules = rules.filter((r) => values.includes(r.tags.get(f.Name!.slice(4)) ?? '\u0000'));
      else throw ec2Error('InvalidParameterValue', `The filter '${f.Name ?? ''}' is invalid`);
    }
    const { page, next } = paginate(rules, i.MaxResults, i.NextToken);
    return { $metadata: {}, SecurityGroupRules: page.map((r) => this.toRuleShape(r)), ...(next ? { NextToken: next } : {}) };
  }

  /** Expands IpPermissions into one candidate rule per target, as AWS stores them. */
  private expand(groupId: string, isEgress: boolean, perms: ec2.IpPermission[] | undefined): Omit<SecurityGroupRule, 'id' | 'tags'>[] {
    const out: Omit<SecurityGroupRule, 'id' | 'tags'>[] = [];
    for (const p of perms ?? []) {
      const raw = (p.IpProtocol ?? '').toLowerCase();
      const ipProtocol = PROTOCOL_NAMES[raw] ?? raw;
      if (!ipProtocol) throw ec2Error('MissingParameter', 'The request must contain the parameter ipProtocol');
      const all = ipProtocol === '-1';
      if (!all && (ipProtocol === 'tcp' || ipProtocol === 'udp') && (p.FromPort === undefined || p.ToPort === undefined)) {
        throw ec2Error('InvalidParameterValue', `Invalid value 'null' for fromPort. You must specify a fromPort for ${ipProtocol}`);
      }
      const fromPort = all ? -1 : (p.FromPort ?? -1);
      const toPort = all ? -1 : (p.ToPort ?? -1);
      const base = { groupId, isEgress, ipProtocol, fromPort, toPort };
      const desc = (d: string | undefined) => (d !== undefined ? { description: d } : {});
      for (const r of p.IpRanges ?? []) {
        if (!r.CidrIp || !isCidr4(r.CidrIp)) throw ec2Error('InvalidParameterValue', `CIDR block ${r.CidrIp ?? ''} is malformed`);
        out.push({ ...base, cidrIpv4: r.CidrIp, ...desc(r.Description) });
      }
      for (const r of p.Ipv6Ranges ?? []) {
        if (!r.CidrIpv6 || !r.CidrIpv6.includes(':')) throw ec2Error('InvalidParameterValue', `CIDR block ${r.CidrIpv6 ?? ''} is malformed`);
        out.push({ ...base, cidrIpv6: r.CidrIpv6, ...desc(r.Description) });
      }
      for (const r of p.PrefixListIds ?? []) {
        if (!r.PrefixListId || this.prefixListWeight(r.PrefixListId) === undefined) {
          throw ec2Error('InvalidPrefixListId.NotFound', `The prefix list ID '${r.PrefixListId ?? ''}' does not exist`);
        }
        out.push({ ...base, prefixListId: r.PrefixListId, ...desc(r.Description) });
      }
      for (const r of p.UserIdGroupPairs ?? []) {
        if (!r.GroupId || !this.groups.has(r.GroupId)) throw ec2Error('InvalidGroup.NotFound', `The security group '${r.GroupId ?? ''}' does not exist`);
        out.push({ ...base, referencedGroupId: r.GroupId, ...desc(r.Description) });
      }
    }
    return out;
  }

  private prefixListWeight(id: string): number | undefined {
    return this.ctx.config.limits.prefixListMaxEntries[id];
  }

  private sameTarget(a: Omit<SecurityGroupRule, 'id' | 'tags'>, b: Omit<SecurityGroupRule, 'id' | 'tags'>): boolean {
    return (
      a.isEgress === b.isEgress &&
      a.ipProtocol === b.ipProtocol &&
      a.fromPort === b.fromPort &&
      a.toPort === b.toPort &&
      a.cidrIpv4 === b.cidrIpv4 &&
      a.cidrIpv6 === b.cidrIpv6 &&
      a.prefixListId === b.prefixListId &&
      a.referencedGroupId === b.referencedGroupId
    );
  }

  /** Rule-limit usage of a direction: a prefix list counts as its max entries. */
  ruleUsage(g: SecurityGroup, isEgress: boolean, extra: Omit<SecurityGroupRule, 'id' | 'tags'>[] = []): number {
    return [...g.rules.filter((r) => r.isEgress === isEgress), ...extra].reduce(
      (n, r) => n + (r.prefixListId ? (this.prefixListWeight(r.prefixListId) ?? 1) : 1),
      0,
    );
  }

  private authorize(
    isEgress: boolean,
    groupId: string | undefined,
    perms: ec2.IpPermission[] | undefined,
    tagSpecs: ec2.TagSpecification[] | undefined,
  ): ec2.AuthorizeSecurityGroupEgressCommandOutput {
    const g = this.mustGroup(groupId);
    const candidates = this.expand(g.groupId, isEgress, perms);
    if (candidates.length === 0) throw ec2Error('MissingParameter', 'No IpPermissions given');
    for (const [idx, c] of candidates.entries()) {
      const dup = g.rules.some((r) => this.sameTarget(r, c)) || candidates.slice(0, idx).some((o) => this.sameTarget(o, c));
      if (dup) {
        const target = c.cidrIpv4 ?? c.cidrIpv6 ?? c.prefixListId ?? c.referencedGroupId ?? '';
        throw ec2Error(
          'InvalidPermission.Duplicate',
          `the specified rule "peer: ${target}, ${c.ipProtocol.toUpperCase()}, from port: ${c.fromPort}, to port: ${c.toPort}, ALLOW" already exists`,
        );
      }
    }
    if (this.ruleUsage(g, isEgress, candidates) > this.ctx.config.limits.rulesPerSecurityGroupDirection) {
      throw ec2Error('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
    }
    const tags = this.tagsFor(tagSpecs, 'security-group-rule');
    const added = candidates.map((c) => ({ ...c, id: this.newId('sgr'), tags: new Map(tags) }));
    g.rules.push(...added);
    return { $metadata: {}, Return: true, SecurityGroupRules: added.map((r) => this.toRuleShape(r)) };
  }

  private revoke(
    isEgress: boolean,
    groupId: string | undefined,
    perms: ec2.IpPermission[] | undefined,
    ruleIds: string[] | undefined,
  ): ec2.RevokeSecurityGroupEgressCommandOutput {
    const g = this.mustGroup(groupId);
    const vpcIsDefault = this.ctx.config.vpcs.find((v) => v.vpcId === g.vpcId)?.isDefault === true;
    const toRemove: SecurityGroupRule[] = [];
    for (const id of ruleIds ?? []) {
      const r = g.rules.find((x) => x.id === id && x.isEgress === isEgress);
      if (!r) throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
      toRemove.push(r);
    }
    const unknown: ec2.IpPermission[] = [];
    for (const c of this.expand(g.groupId, isEgress, perms)) {
      const r = g.rules.find((x) => this.sameTarget(x, c));
      if (r) toRemove.push(r);
      else if (vpcIsDefault) {
        // Default VPC: "no error is returned, and the output describes the rules that were not revoked".
        unknown.push({ IpProtocol: c.ipProtocol, FromPort: c.fromPort, ToPort: c.toPort });
      } else {
        throw ec2Error('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
      }
    }
    if (toRemove.length === 0 && unknown.length === 0) throw ec2Error('MissingParameter', 'No IpPermissions or SecurityGroupRuleIds given');
    for (const r of toRemove) g.rules.splice(g.rules.indexOf(r), 1);
    return {
      $metadata: {},
      Return: true,
      ...(unknown.length ? { UnknownIpPermissions: unknown } : {}),
      RevokedSecurityGroupRules: toRemove.map((r) => ({
        SecurityGroupRuleId: r.id,
        GroupId: r.groupId,
        IsEgress: r.isEgress,
        IpProtocol: r.ipProtocol,
        FromPort: r.fromPort,
        ToPort: r.toPort,
        ...(r.cidrIpv4 ? { CidrIpv4: r.cidrIpv4 } : {}),
        ...(r.cidrIpv6 ? { CidrIpv6: r.cidrIpv6 } : {}),
        ...(r.prefixListId ? { PrefixListId: r.prefixListId } : {}),
        ...(r.referencedGroupId ? { ReferencedGroupId: r.referencedGroupId } : {}),
      })),
    };
  }

  private deleteGroup(i: ec2.DeleteSecurityGroupCommandInput): ec2.DeleteSecurityGroupCommandOutput {
    const g = i.GroupId
      ? this.mustGroup(i.GroupId)
      : [...this.groups.values()].find((x) => x.groupName === i.GroupName);
    if (!g) throw ec2Error('InvalidGroup.NotFound', `The security group '${i.GroupName ?? ''}' does not exist in default VPC`);
    const eni = this.eniUsage(g.groupId);
    if (eni) throw ec2Error('DependencyViolation', `resource ${g.groupId} has a dependent object`);
    const referencing = [...this.groups.values()].find((o) => o !== g && o.rules.some((r) => r.referencedGroupId === g.groupId));
    if (referencing) throw ec2Error('DependencyViolation', `resource ${g.groupId} has a dependent object`);
    this.groups.delete(g.groupId);
    return { $metadata: {}, Return: true, GroupId: g.groupId };
  }

  private describePrefixLists(i: ec2.DescribeManagedPrefixListsCommandInput): ec2.DescribeManagedPrefixListsCommandOutput {
    const region = this.ctx.config.region;
    const lists: ec2.ManagedPrefixList[] = Object.entries(this.ctx.config.limits.prefixListMaxEntries).map(([id, max]) => {
      const service = AWS_MANAGED_PREFIX_LISTS[id];
      return {
        PrefixListId: id,
        PrefixListName: service ? `com.amazonaws.${region}.${service}` : id,
        AddressFamily: 'IPv4',
        MaxEntries: max,
        State: 'create-complete',
        OwnerId: service ? 'AWS' : this.ctx.config.account,
        PrefixListArn: service ? `arn:aws:ec2:${region}:aws:prefix-list/${id}` : this.arnOf('prefix-list', id),
        Version: 1,
        Tags: [],
      };
    });
    let out = lists;
    if (i.PrefixListIds?.length) {
      for (const id of i.PrefixListIds) {
        if (!lists.some((l) => l.PrefixListId === id)) throw ec2Error('InvalidPrefixListId.NotFound', `The prefix list ID '${id}' does not exist`);
      }
      out = out.filter((l) => i.PrefixListIds!.includes(l.PrefixListId!));
    }
    for (const f of i.Filters ?? []) {
      const values = f.Values ?? [];
      if (f.Name === 'prefix-list-name') out = out.filter((l) => values.includes(l.PrefixListName!));
      else if (f.Name === 'prefix-list-id') out = out.filter((l) => values.includes(l.PrefixListId!));
      else if (f.Name === 'owner-id') out = out.filter((l) => values.includes(l.OwnerId!));
      else throw ec2Error('InvalidParameterValue', `The filter '${f.Name ?? ''}' is invalid`);
    }
    return { $metadata: {}, PrefixLists: out };
  }

  private createTags(i: ec2.CreateTagsCommandInput): ec2.CreateTagsCommandOutput {
    const tags = tagsFromKeyValue(i.Tags);
    for (const id of i.Resources ?? []) {
      if (id.startsWith('sg-')) mergeTags(this.mustGroup(id).tags, tags);
      else if (id.startsWith('sgr-')) {
        const r = [...this.groups.values()].flatMap((g) => g.rules).find((x) => x.id === id);
        if (!r) throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
        mergeTags(r.tags, tags);
      } else throw ec2Error('InvalidID', `The ID '${id}' is not valid`);
    }
    return { $metadata: {} };
  }

  resources(): ResourceRef[] {
    return [...this.groups.values()].map((g) => ({
      service: 'EC2',
      type: 'AWS::EC2::SecurityGroup',
      id: g.groupId,
      arn: this.arnOf('security-group', g.groupId),
      tags: tagRecord(g.tags),
    }));
  }
}

function isCidr4(cidr: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

/** Opaque NextToken = base64 of the offset, as good as AWS's for a caller. */
export function paginate<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined): { page: T[]; next?: string } {
  let start = 0;
  if (nextToken) {
    const decoded = Number(Buffer.from(nextToken, 'base64').toString('utf8').replace(/^offset:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw new InvalidTokenError();
    start = decoded;
  }
  const size = maxResults ?? items.length;
  const page = items.slice(start, start + size);
  const end = start + size;
  return end < items.length ? { page, next: Buffer.from(`offset:${end}`).toString('base64') } : { page };
}

/** Each service maps this to its own invalid-token error. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}
