/**
 * A tenant's route through the ingress tier: its target group, its listener rule on one ALB
 * shard (exact host `<tenant>.<cell domain>`), and its Route 53 alias record.
 *
 * Written against two small ports shaped like the ELBv2 and Route 53 APIs (inputs and outputs
 * are the SDK's, narrowed), so the SDK binding is one line per call (see `elbV2PortFromClient`
 * in the integration notes of docs/ingress.md) and tests can drive it against the AWS fake.
 *
 * Every step is idempotent: the target group name is derived (same settings → same group), the
 * rule is found by its host before one is created, the record is UPSERTed. Nothing is adopted
 * without its `octw:tenant` / `octw:cell` tags matching. Rule priorities are unique because the
 * listener enforces it (`PriorityInUse`); a collision moves to the next free priority.
 */
import { QuotaExceededError, ResourceBusyError, ResourceConflictError } from '../domain/errors';
import type { IngressPlacement, IngressSettings, IngressShard, RouteMode, RuleAction, RuleCondition, ShardUsage, TenantOidc } from '../domain/ingress';
import {
  chooseShard,
  GATEWAY_PORT,
  nextFreePriority,
  preferredPriority,
  ruleActions,
  ruleConditions,
  shardCapacity,
  targetGroupName,
  tenantHostname,
} from '../domain/ingress';
import { MANAGED_BY, TAG_CELL, TAG_MANAGED_BY, TAG_TENANT } from '../domain/naming';
import type { TenantId } from '../domain/tenant';
import { awsErrorCode, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

// ---------- ports ----------

export interface Tag {
  Key: string;
  Value?: string;
}

export interface TargetGroupOut {
  TargetGroupArn?: string;
  TargetGroupName?: string;
  LoadBalancerArns?: string[];
}

export interface RuleOut {
  RuleArn?: string;
  Priority?: string;
  Conditions?: {
    Field?: string;
    Values?: string[];
    HostHeaderConfig?: { Values?: string[] };
    HttpHeaderConfig?: { HttpHeaderName?: string; Values?: string[] };
  }[];
  Actions?: {
    Type?: string;
    TargetGroupArn?: string;
    Order?: number;
    ForwardConfig?: { TargetGroups?: { TargetGroupArn?: string }[] };
    AuthenticateOidcConfig?: { Issuer?: string; ClientId?: string };
  }[];
  IsDefault?: boolean;
}

type Mutable<T> = T extends readonly (infer U)[] ? Mutable<U>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;

export interface CreateTargetGroupInput {
  Name: string;
  Protocol: 'HTTP';
  ProtocolVersion: 'HTTP1';
  Port: number;
  VpcId: string;
  TargetType: 'ip';
  HealthCheckProtocol: 'HTTP';
  HealthCheckPath: string;
  HealthCheckIntervalSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
  Matcher: { HttpCode: string };
  Tags: Tag[];
}

/** The ELBv2 calls ingress makes, with the SDK's input and output shapes (narrowed). */
export interface ElbV2Port {
  createTargetGroup(input: CreateTargetGroupInput): Promise<{ TargetGroups?: TargetGroupOut[] }>;
  describeTargetGroups(input: { Names?: string[]; TargetGroupArns?: string[]; Marker?: string; PageSize?: number }): Promise<{ TargetGroups?: TargetGroupOut[]; NextMarker?: string }>;
  deleteTargetGroup(input: { TargetGroupArn: string }): Promise<unknown>;
  describeTags(input: { ResourceArns: string[] }): Promise<{ TagDescriptions?: { ResourceArn?: string; Tags?: { Key?: string; Value?: string }[] }[] }>;
  describeRules(input: { ListenerArn?: string; RuleArns?: string[]; Marker?: string; PageSize?: number }): Promise<{ Rules?: RuleOut[]; NextMarker?: string }>;
  createRule(input: { ListenerArn: string; Priority: number; Conditions: Mutable<RuleCondition>[]; Actions: Mutable<RuleAction>[]; Tags: Tag[] }): Promise<{ Rules?: RuleOut[] }>;
  modifyRule(input: { RuleArn: string; Conditions: Mutable<RuleCondition>[]; Actions: Mutable<RuleAction>[] }): Promise<{ Rules?: RuleOut[] }>;
  deleteRule(input: { RuleArn: string }): Promise<unknown>;
}

export interface AliasRecord {
  Name: string;
  Type: 'A';
  AliasTarget: { HostedZoneId: string; DNSName: string; EvaluateTargetHealth: boolean };
}

export interface Route53Port {
  changeResourceRecordSets(input: { HostedZoneId: string; ChangeBatch: { Comment?: string; Changes: { Action: 'CREATE' | 'DELETE' | 'UPSERT'; ResourceRecordSet: AliasRecord }[] } }): Promise<unknown>;
  listResourceRecordSets(input: { HostedZoneId: string; StartRecordName: string; StartRecordType: 'A'; MaxItems: number }): Promise<{
    ResourceRecordSets?: { Name?: string; Type?: string; AliasTarget?: { HostedZoneId?: string; DNSName?: string; EvaluateTargetHealth?: boolean } }[];
  }>;
}

/** Reads a tenant's OIDC client secret (a tenant secret in Secrets Manager). */
export interface OidcSecretReader {
  clientSecret(tenantId: TenantId): Promise<string>;
}

export interface EnsureRouteInput {
  readonly tenantId: TenantId;
  readonly mode: RouteMode;
  /** Required for `staging`: the value of the x-octw-staging header the activation check sends. */
  readonly stagingToken?: string;
  readonly oidc?: TenantOidc;
  /** What the tenant record says, if anything: checked first, then the shards are searched. */
  readonly placement?: IngressPlacement;
}

const PRIORITY_ATTEMPTS = 8;

export class IngressRoutes {
  constructor(
    private readonly elb: ElbV2Port,
    private readonly dns: Route53Port,
    private readonly settings: IngressSettings,
    private readonly secrets: OidcSecretReader,
    /** Where a tenant's priority search starts; default: a hash of (cell, tenant). Tests pass `() => 1` to force contention. */
    private readonly priorityStart: (cell: string, id: TenantId) => number = preferredPriority,
  ) {}

  private tags(tenantId: TenantId): Tag[] {
    return [
      { Key: TAG_TENANT, Value: tenantId },
      { Key: TAG_CELL, Value: this.settings.cell },
      { Key: TAG_MANAGED_BY, Value: MANAGED_BY },
    ];
  }

  /** Throws ResourceConflictError unless `arn` carries this tenant's and this cell's tags. */
  private async requireOwnTags(arn: string, tenantId: TenantId, what: string): Promise<void> {
    const out = await this.call('DescribeTags', () => this.elb.describeTags({ ResourceArns: [arn] }));
    const tags = new Map((out.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    if (tags.get(TAG_TENANT) !== tenantId || tags.get(TAG_CELL) !== this.settings.cell) {
      throw new ResourceConflictError(
        `${what} ${arn} is not tagged ${TAG_TENANT}=${tenantId}, ${TAG_CELL}=${this.settings.cell} (found ${TAG_TENANT}=${tags.get(TAG_TENANT) ?? '-'}, ${TAG_CELL}=${tags.get(TAG_CELL) ?? '-'}): refusing to adopt it`,
      );
    }
  }

  private async call<T>(context: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifyIngressError(err, context);
    }
  }

  /** The tenant's target group (IP targets, HTTP to the gateway port, health check /healthz); returns its ARN. */
  async ensureTargetGroup(tenantId: TenantId): Promise<string> {
    const name = targetGroupName(this.settings.cell, tenantId);
    const input: CreateTargetGroupInput = {
      Name: name,
      Protocol: 'HTTP',
      ProtocolVersion: 'HTTP1',
      Port: GATEWAY_PORT,
      VpcId: this.settings.vpcId,
      TargetType: 'ip',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 15,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200' },
      Tags: this.tags(tenantId),
    };
    let arn: string | undefined;
    try {
      const out = await this.elb.createTargetGroup(input);
      arn = out.TargetGroups?.[0]?.TargetGroupArn;
    } catch (err) {
      if (!hasAwsErrorCode(err, 'DuplicateTargetGroupName')) throw classifyIngressError(err, 'ELBv2 CreateTargetGroup');
      const found = await this.call('ELBv2 DescribeTargetGroups', () => this.elb.describeTargetGroups({ Names: [name] }));
      arn = found.TargetGroups?.[0]?.TargetGroupArn;
    }
    if (!arn) throw new ResourceConflictError(`ELBv2 returned no target group for ${name}`);
    // Same name and settings return the existing group: it is ours only if its tags say so.
    await this.requireOwnTags(arn, tenantId, 'target group');
    return arn;
  }

  private async rulesOf(listenerArn: string): Promise<RuleOut[]> {
    const rules: RuleOut[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('ELBv2 DescribeRules', () => this.elb.describeRules({ ListenerArn: listenerArn, PageSize: 400, ...(marker ? { Marker: marker } : {}) }));
      rules.push(...(page.Rules ?? []));
      marker = page.NextMarker;
    } while (marker);
    return rules.filter((r) => !r.IsDefault);
  }

  /** The rule that routes `hostname`, on whichever shard holds it. */
  private async findRule(hostname: string, placement: IngressPlacement | undefined): Promise<{ shard: IngressShard; rule: RuleOut } | undefined> {
    if (placement) {
      const shard = this.settings.shards.find((s) => s.id === placement.shardId);
      if (shard) {
        try {
          const out = await this.elb.describeRules({ RuleArns: [placement.ruleArn] });
          const rule = out.Rules?.[0];
          if (rule && hostsOf(rule).includes(hostname)) return { shard, rule };
        } catch (err) {
          if (!hasAwsErrorCode(err, 'RuleNotFound')) throw classifyIngressError(err, 'ELBv2 DescribeRules');
        }
      }
    }
    for (const shard of this.settings.shards) {
      const rule = (await this.rulesOf(shard.listenerArn)).find((r) => hostsOf(r).includes(hostname));
      if (rule) return { shard, rule };
    }
    return undefined;
  }

  private async desired(input: EnsureRouteInput, hostname: string, targetGroupArn: string): Promise<{ conditions: Mutable<RuleCondition>[]; actions: Mutable<RuleAction>[] }> {
    const conditions = ruleConditions(hostname, input.mode, input.stagingToken) as Mutable<RuleCondition>[];
    let oidc: Parameters<typeof ruleActions>[2];
    // A staging route is private already (host AND the staging header): the activation check's
    // handshake must reach the gateway, not the tenant's IdP. Only the live route authenticates.
    if (input.oidc && input.mode === 'live') {
      oidc = { config: input.oidc, clientSecret: await this.secrets.clientSecret(input.tenantId), tenantId: input.tenantId };
    }
    const actions = ruleActions(input.mode, targetGroupArn, oidc) as Mutable<RuleAction>[];
    return { conditions, actions };
  }

  /**
   * Creates or reconciles the tenant's route in `mode` and its DNS record; returns the placement
   * to record on the tenant record.
   */
  async ensureRoute(input: EnsureRouteInput): Promise<IngressPlacement> {
    const hostname = tenantHostname(input.tenantId, this.settings.domain);
    const targetGroupArn = await this.ensureTargetGroup(input.tenantId);
    const { conditions, actions } = await this.desired(input, hostname, targetGroupArn);

    const found = await this.findRule(hostname, input.placement);
    let shard: IngressShard;
    let ruleArn: string;
    let priority: number;
    if (found) {
      await this.requireOwnTags(found.rule.RuleArn!, input.tenantId, 'listener rule');
      await this.call('ELBv2 ModifyRule', () => this.elb.modifyRule({ RuleArn: found.rule.RuleArn!, Conditions: conditions, Actions: actions }));
      shard = found.shard;
      ruleArn = found.rule.RuleArn!;
      priority = Number(found.rule.Priority);
    } else {
      ({ shard, ruleArn, priority } = await this.createRule(input.tenantId, conditions, actions));
    }
    await this.upsertRecord(hostname, shard);
    return { shardId: shard.id, hostname, priority, targetGroupArn, ruleArn, mode: input.mode };
  }

  /**
   * Puts the recorded route back in place (the reconcile's repair of a drifted rule or DNS record):
   * the rule at the recorded ARN gets the conditions and actions its mode and the tenant's OIDC
   * provider render, forwarding to the recorded target group; the DNS record is UPSERTed to the
   * recorded shard. Never creates a rule or a target group (the placement on the record would no
   * longer match): a missing one, a rule no longer routing the tenant's host, or one not tagged as
   * the tenant's is refused with ResourceConflictError (an operator's, or an update's, job).
   */
  async reapplyRoute(input: EnsureRouteInput & { placement: IngressPlacement }): Promise<void> {
    const p = input.placement;
    const hostname = tenantHostname(input.tenantId, this.settings.domain);
    if (p.hostname !== hostname) throw new ResourceConflictError(`recorded hostname ${p.hostname} is not ${hostname}`);
    const shard = this.settings.shards.find((s) => s.id === p.shardId);
    if (!shard) throw new ResourceConflictError(`recorded shard ${p.shardId} is not one of cell ${this.settings.cell}'s`);
    let rule: RuleOut | undefined;
    try {
      rule = (await this.elb.describeRules({ RuleArns: [p.ruleArn] })).Rules?.[0];
    } catch (err) {
      if (!hasAwsErrorCode(err, 'RuleNotFound')) throw classifyIngressError(err, 'ELBv2 DescribeRules');
    }
    if (!rule) throw new ResourceConflictError(`listener rule ${p.ruleArn} is gone: not recreated by a repair`);
    if (!hostsOf(rule).includes(hostname)) throw new ResourceConflictError(`listener rule ${p.ruleArn} no longer routes ${hostname}: not rewritten by a repair`);
    await this.requireOwnTags(p.ruleArn, input.tenantId, 'listener rule');
    await this.requireOwnTags(p.targetGroupArn, input.tenantId, 'target group');
    const { conditions, actions } = await this.desired({ ...input, mode: p.mode }, hostname, p.targetGroupArn);
    await this.call('ELBv2 ModifyRule', () => this.elb.modifyRule({ RuleArn: p.ruleArn, Conditions: conditions, Actions: actions }));
    await this.upsertRecord(hostname, shard);
  }

  private async createRule(
    tenantId: TenantId,
    conditions: Mutable<RuleCondition>[],
    actions: Mutable<RuleAction>[],
  ): Promise<{ shard: IngressShard; ruleArn: string; priority: number }> {
    const full = new Set<string>();
    const capacity = shardCapacity(this.settings.rulesPerShard);
    for (;;) {
      const usage = new Map<string, ShardUsage>();
      const rulesByShard = new Map<string, RuleOut[]>();
      // First-fit: read shards in order until one has room (reads stop at the first fit).
      let shard: IngressShard | undefined;
      for (const s of this.settings.shards) {
        if (full.has(s.id)) continue;
        const rules = await this.rulesOf(s.listenerArn);
        rulesByShard.set(s.id, rules);
        usage.set(s.id, { shardId: s.id, rules: rules.length, targetGroups: new Set(rules.flatMap((r) => (r.Actions ?? []).map((a) => a.TargetGroupArn).filter(Boolean))).size });
        shard = chooseShard([s], usage, capacity, full);
        if (shard) break;
        full.add(s.id);
      }
      if (!shard) {
        throw new QuotaExceededError(
          `every ingress shard of cell ${this.settings.cell} is full (${this.settings.shards.length} shards × ${capacity} tenants): add a shard to the cell's ingress configuration`,
        );
      }
      const used = new Set((rulesByShard.get(shard.id) ?? []).map((r) => Number(r.Priority)));
      let priority = nextFreePriority(used, this.priorityStart(this.settings.cell, tenantId));
      let moved = false;
      for (let attempt = 0; attempt < PRIORITY_ATTEMPTS; attempt++) {
        try {
          const out = await this.elb.createRule({ ListenerArn: shard.listenerArn, Priority: priority, Conditions: conditions, Actions: actions, Tags: this.tags(tenantId) });
          const ruleArn = out.Rules?.[0]?.RuleArn;
          if (!ruleArn) throw new ResourceConflictError('ELBv2 CreateRule returned no rule');
          return { shard, ruleArn, priority };
        } catch (err) {
          if (hasAwsErrorCode(err, 'PriorityInUse')) {
            // Someone took it between our read and our write: re-read and take the next free one.
            for (const r of await this.rulesOf(shard.listenerArn)) used.add(Number(r.Priority));
            used.add(priority);
            priority = nextFreePriority(used, priority);
            continue;
          }
          if (hasAwsErrorCode(err, 'TooManyRules', 'TooManyUniqueTargetGroupsPerLoadBalancer')) {
            full.add(shard.id);
            moved = true;
            break;
          }
          throw classifyIngressError(err, 'ELBv2 CreateRule');
        }
      }
      if (!moved) throw new ResourceBusyError(`ELBv2 CreateRule: priority still in use after ${PRIORITY_ATTEMPTS} attempts on ${shard.id}`);
    }
  }

  private aliasRecord(hostname: string, shard: IngressShard): AliasRecord {
    return { Name: `${hostname}.`, Type: 'A', AliasTarget: { HostedZoneId: shard.canonicalHostedZoneId, DNSName: `dualstack.${shard.dnsName}.`, EvaluateTargetHealth: false } };
  }

  private async upsertRecord(hostname: string, shard: IngressShard): Promise<void> {
    await this.call('Route53 ChangeResourceRecordSets', () =>
      this.dns.changeResourceRecordSets({
        HostedZoneId: this.settings.hostedZoneId,
        ChangeBatch: { Comment: `octw ingress ${hostname}`, Changes: [{ Action: 'UPSERT', ResourceRecordSet: this.aliasRecord(hostname, shard) }] },
      }),
    );
  }

  /**
   * Removes the tenant's rule, DNS record and target group; each absent part is skipped, so a
   * re-run after a crash finishes the job. The target group goes last: ECS must have released it
   * (the service is deleted first); while it is still in use this throws ResourceBusyError (retried).
   */
  async removeRoute(tenantId: TenantId, placement?: IngressPlacement): Promise<{ rule: boolean; record: boolean; targetGroup: boolean }> {
    const hostname = tenantHostname(tenantId, this.settings.domain);
    const found = await this.findRule(hostname, placement);
    if (found) {
      await this.requireOwnTags(found.rule.RuleArn!, tenantId, 'listener rule');
      try {
        await this.elb.deleteRule({ RuleArn: found.rule.RuleArn! });
      } catch (err) {
        if (!hasAwsErrorCode(err, 'RuleNotFound')) throw classifyIngressError(err, 'ELBv2 DeleteRule');
      }
    }
    const record = await this.deleteRecord(hostname);
    let targetGroup = false;
    const name = targetGroupName(this.settings.cell, tenantId);
    let tgArn: string | undefined;
    try {
      tgArn = (await this.elb.describeTargetGroups({ Names: [name] })).TargetGroups?.[0]?.TargetGroupArn;
    } catch (err) {
      if (!hasAwsErrorCode(err, 'TargetGroupNotFound')) throw classifyIngressError(err, 'ELBv2 DescribeTargetGroups');
    }
    if (tgArn) {
      await this.requireOwnTags(tgArn, tenantId, 'target group');
      await this.call('ELBv2 DeleteTargetGroup', () => this.elb.deleteTargetGroup({ TargetGroupArn: tgArn }));
      targetGroup = true;
    }
    return { rule: found !== undefined, record, targetGroup };
  }

  private async deleteRecord(hostname: string): Promise<boolean> {
    const name = `${hostname}.`;
    const out = await this.call('Route53 ListResourceRecordSets', () =>
      this.dns.listResourceRecordSets({ HostedZoneId: this.settings.hostedZoneId, StartRecordName: name, StartRecordType: 'A', MaxItems: 1 }),
    );
    const rr = out.ResourceRecordSets?.[0];
    if (!rr || rr.Name?.toLowerCase() !== name || rr.Type !== 'A' || !rr.AliasTarget?.DNSName || !rr.AliasTarget.HostedZoneId) return false;
    // Only a record that points at one of this cell's shards is ours to delete.
    const ours = this.settings.shards.some((s) => rr.AliasTarget!.DNSName!.toLowerCase() === `dualstack.${s.dnsName}.`.toLowerCase());
    if (!ours) throw new ResourceConflictError(`DNS record ${name} does not point at an ingress shard of cell ${this.settings.cell}: refusing to delete it`);
    try {
      await this.dns.changeResourceRecordSets({
        HostedZoneId: this.settings.hostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'DELETE',
              ResourceRecordSet: { Name: rr.Name, Type: 'A', AliasTarget: { HostedZoneId: rr.AliasTarget.HostedZoneId, DNSName: rr.AliasTarget.DNSName, EvaluateTargetHealth: rr.AliasTarget.EvaluateTargetHealth ?? false } },
            },
          ],
        },
      });
    } catch (err) {
      // Deleted in between (a concurrent re-run): the record is gone, which is what we want.
      if (hasAwsErrorCode(err, 'InvalidChangeBatch') && /not found/.test((err as Error).message)) return false;
      throw classifyIngressError(err, 'Route53 ChangeResourceRecordSets');
    }
    return true;
  }
}

export function hostsOf(rule: RuleOut): string[] {
  return (rule.Conditions ?? []).filter((c) => c.Field === 'host-header').flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? []).map((h) => h.toLowerCase());
}

/** Quota errors of ELBv2 and Route 53, by wire code. */
const QUOTA_CODES = new Set(['TooManyTargetGroups', 'TooManyRules', 'TooManyUniqueTargetGroupsPerLoadBalancer', 'TooManyTargets', 'TooManyActions', 'TooManyTags']);

/**
 * ELBv2 / Route 53 errors to OCTW names: quotas → QuotaExceededError, a target group still used by
 * a rule or ECS (`ResourceInUse`) or Route 53's `PriorRequestNotComplete` → ResourceBusyError
 * (retried), `DuplicateTargetGroupName` / `TargetGroupAssociationLimit` → ResourceConflictError;
 * the rest as every adapter does (throttling, transient, permanent).
 */
export function classifyIngressError(err: unknown, context: string) {
  const code = awsErrorCode(err);
  const message = `${context}: ${code ?? 'Unknown'}: ${err instanceof Error ? err.message : String(err)}`;
  if (code && QUOTA_CODES.has(code)) return new QuotaExceededError(message, { cause: err });
  if (code === 'ResourceInUse' || code === 'PriorRequestNotComplete') return new ResourceBusyError(message, { cause: err });
  if (code === 'DuplicateTargetGroupName' || code === 'TargetGroupAssociationLimit') return new ResourceConflictError(message, { cause: err });
  return classifyAwsError(err, context);
}
