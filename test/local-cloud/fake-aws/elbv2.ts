/**
 * Elastic Load Balancing v2 (Application Load Balancers): target groups, listener rules, tags.
 *
 * Behaviour and errors from the ELBv2 API Reference (CreateTargetGroup, CreateRule, ModifyRule,
 * DeleteRule, DeleteTargetGroup, DescribeRules, DescribeTargetGroups, DescribeTags) and quotas from
 * "Quotas for your Application Load Balancers":
 * - target groups per Region 3,000 (`TooManyTargetGroups`);
 * - target groups per ALB 100, not adjustable: a rule that would make the ALB forward to a 101st
 *   distinct target group fails with `TooManyUniqueTargetGroupsPerLoadBalancer`;
 * - rules per ALB 100 excluding default rules (`TooManyRules`);
 * - a priority already used on the listener: `PriorityInUse`; priorities 1-50,000;
 * - a target group serves one load balancer (`TargetGroupAssociationLimit`);
 * - CreateTargetGroup with an existing name and the same settings returns that target group
 *   ("If you attempt to create multiple target groups with the same settings, each call
 *   succeeds"); different settings: `DuplicateTargetGroupName`;
 * - DeleteTargetGroup of a group a rule still forwards to: `ResourceInUse`; of an unknown ARN: success.
 * - more than 5 condition values in a rule: `ValidationError` (the SDK models no exception for it;
 *   the exact AWS code is unconfirmed).
 * Model independent of the SDK types: inputs are read as plain objects.
 */
import type { Rng, TagMap } from './core';
import { deepEqual, tagRecord, tagsFromKeyValue, toKeyValue } from './core';
import type { IngressResourceRef } from './ingress-errors';
import { elbError } from './ingress-errors';

export interface ElbLimits {
  readonly targetGroupsPerRegion: number;
  readonly targetGroupsPerLoadBalancer: number;
  readonly rulesPerLoadBalancer: number;
  readonly conditionValuesPerRule: number;
}

export const DEFAULT_ELB_LIMITS: ElbLimits = {
  targetGroupsPerRegion: 3_000,
  targetGroupsPerLoadBalancer: 100,
  rulesPerLoadBalancer: 100,
  conditionValuesPerRule: 5,
};

export interface KeyValue {
  Key?: string;
  Value?: string;
}

export interface Condition {
  Field?: string;
  HostHeaderConfig?: { Values?: string[] };
  HttpHeaderConfig?: { HttpHeaderName?: string; Values?: string[] };
  Values?: string[];
}

export interface Action {
  Type?: string;
  Order?: number;
  TargetGroupArn?: string;
  ForwardConfig?: { TargetGroups?: { TargetGroupArn?: string; Weight?: number }[] };
  FixedResponseConfig?: { StatusCode?: string; ContentType?: string; MessageBody?: string };
  AuthenticateOidcConfig?: Record<string, unknown>;
}

export interface FakeTargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly tags: TagMap;
  /** Targets registered by ECS (address → port). */
  readonly targets: Map<string, number>;
}

export interface FakeRule {
  readonly arn: string;
  readonly listenerArn: string;
  priority: number;
  conditions: Condition[];
  actions: Action[];
  readonly tags: TagMap;
}

export interface FakeListener {
  readonly arn: string;
  readonly loadBalancerArn: string;
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly defaultActions: Action[];
}

export interface FakeLoadBalancer {
  readonly arn: string;
  readonly name: string;
  readonly dnsName: string;
  readonly canonicalHostedZoneId: string;
}

const TG_NAME = /^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

export class ElbV2Fake {
  readonly name = 'ELBv2' as const;
  readonly loadBalancers = new Map<string, FakeLoadBalancer>();
  readonly listeners = new Map<string, FakeListener>();
  readonly targetGroups = new Map<string, FakeTargetGroup>();
  readonly rules = new Map<string, FakeRule>();

  constructor(
    private readonly rng: Rng,
    private readonly account: string,
    private readonly region: string,
    readonly limits: ElbLimits = DEFAULT_ELB_LIMITS,
  ) {}

  /** Seeds an ALB with one listener (the platform creates them with CDK); returns the listener ARN. */
  addLoadBalancer(name: string, protocol: 'HTTP' | 'HTTPS' = 'HTTPS'): { loadBalancer: FakeLoadBalancer; listenerArn: string } {
    const id = this.rng.hex(16);
    const arn = `arn:aws:elasticloadbalancing:${this.region}:${this.account}:loadbalancer/app/${name}/${id}`;
    const lb: FakeLoadBalancer = { arn, name, dnsName: `${name}-${this.rng.digits(10)}.${this.region}.elb.amazonaws.com`, canonicalHostedZoneId: 'Z35SXDOTRQ7X7K' };
    this.loadBalancers.set(arn, lb);
    const listenerArn = `arn:aws:elasticloadbalancing:${this.region}:${this.account}:listener/app/${name}/${id}/${this.rng.hex(16)}`;
    this.listeners.set(listenerArn, {
      arn: listenerArn,
      loadBalancerArn: arn,
      protocol,
      defaultActions: [{ Type: 'fixed-response', Order: 1, FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'Not found' } }],
    });
    return { loadBalancer: lb, listenerArn };
  }

  readonly operations: Readonly<Record<string, (input: never) => unknown>> = {
    CreateTargetGroup: (i: { Name?: string; Tags?: KeyValue[] } & Record<string, unknown>) => this.createTargetGroup(i),
    DescribeTargetGroups: (i: { Names?: string[]; TargetGroupArns?: string[]; LoadBalancerArn?: string }) => this.describeTargetGroups(i),
    DeleteTargetGroup: (i: { TargetGroupArn?: string }) => this.deleteTargetGroup(i.TargetGroupArn),
    DescribeTags: (i: { ResourceArns?: string[] }) => ({
      TagDescriptions: (i.ResourceArns ?? []).map((arn) => ({ ResourceArn: arn, Tags: toKeyValue(this.taggable(arn).tags) })),
    }),
    AddTags: (i: { ResourceArns?: string[]; Tags?: KeyValue[] }) => {
      for (const arn of i.ResourceArns ?? []) for (const [k, v] of tagsFromKeyValue(i.Tags)) this.taggable(arn).tags.set(k, v);
      return {};
    },
    DescribeRules: (i: { ListenerArn?: string; RuleArns?: string[]; Marker?: string; PageSize?: number }) => this.describeRules(i),
    CreateRule: (i: { ListenerArn?: string; Priority?: number; Conditions?: Condition[]; Actions?: Action[]; Tags?: KeyValue[] }) => this.createRule(i),
    ModifyRule: (i: { RuleArn?: string; Conditions?: Condition[]; Actions?: Action[] }) => this.modifyRule(i),
    DeleteRule: (i: { RuleArn?: string }) => {
      this.mustRule(i.RuleArn);
      this.rules.delete(i.RuleArn!);
      return {};
    },
    RegisterTargets: (i: { TargetGroupArn?: string; Targets?: { Id?: string; Port?: number }[] }) => {
      const tg = this.mustTargetGroup(i.TargetGroupArn);
      for (const t of i.Targets ?? []) if (t.Id) tg.targets.set(t.Id, t.Port ?? Number(tg.settings.Port));
      return {};
    },
    DeregisterTargets: (i: { TargetGroupArn?: string; Targets?: { Id?: string }[] }) => {
      const tg = this.mustTargetGroup(i.TargetGroupArn);
      for (const t of i.Targets ?? []) if (t.Id) tg.targets.delete(t.Id);
      return {};
    },
  };

  // ---------- target groups ----------

  private createTargetGroup(i: { Name?: string; Tags?: KeyValue[] } & Record<string, unknown>): unknown {
    const name = i.Name ?? '';
    if (!TG_NAME.test(name)) {
      throw elbError('ValidationError', `Target group name '${name}' can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen`);
    }
    const { Name: _n, Tags: _t, ...settings } = i;
    const existing = [...this.targetGroups.values()].find((t) => t.name === name);
    if (existing) {
      if (!deepEqual(existing.settings, settings)) throw elbError('DuplicateTargetGroupName', 'A target group with the same name exists, but with different settings');
      return { TargetGroups: [this.describeTg(existing)] };
    }
    if (this.targetGroups.size >= this.limits.targetGroupsPerRegion) {
      throw elbError('TooManyTargetGroups', 'You have reached the limit on the number of target groups for your AWS account.');
    }
    const arn = `arn:aws:elasticloadbalancing:${this.region}:${this.account}:targetgroup/${name}/${this.rng.hex(16)}`;
    const tg: FakeTargetGroup = { arn, name, settings, tags: tagsFromKeyValue(i.Tags), targets: new Map() };
    this.targetGroups.set(arn, tg);
    return { TargetGroups: [this.describeTg(tg)] };
  }

  private describeTg(tg: FakeTargetGroup): Record<string, unknown> {
    return { TargetGroupArn: tg.arn, TargetGroupName: tg.name, ...tg.settings, LoadBalancerArns: this.loadBalancersOf(tg.arn) };
  }

  private describeTargetGroups(i: { Names?: string[]; TargetGroupArns?: string[]; LoadBalancerArn?: string }): unknown {
    if (i.Names) {
      const found = i.Names.map((n) => [...this.targetGroups.values()].find((t) => t.name === n));
      if (found.some((t) => !t)) throw elbError('TargetGroupNotFound', `One or more target groups not found`);
      return { TargetGroups: found.map((t) => this.describeTg(t!)) };
    }
    if (i.TargetGroupArns) return { TargetGroups: i.TargetGroupArns.map((a) => this.describeTg(this.mustTargetGroup(a))) };
    const all = [...this.targetGroups.values()].filter((t) => !i.LoadBalancerArn || this.loadBalancersOf(t.arn).includes(i.LoadBalancerArn));
    return { TargetGroups: all.map((t) => this.describeTg(t)) };
  }

  private deleteTargetGroup(arn: string | undefined): unknown {
    if (!arn || !this.targetGroups.has(arn)) return {};
    if (this.loadBalancersOf(arn).length > 0) throw elbError('ResourceInUse', `Target group '${arn}' is currently in use by a listener or a rule`);
    this.targetGroups.delete(arn);
    return {};
  }

  private mustTargetGroup(arn: string | undefined): FakeTargetGroup {
    const tg = arn ? this.targetGroups.get(arn) : undefined;
    if (!tg) throw elbError('TargetGroupNotFound', `Target groups '${arn ?? ''}' not found`);
    return tg;
  }

  /** Load balancers whose listener rules (or default actions) forward to the target group. */
  loadBalancersOf(tgArn: string): string[] {
    const lbs = new Set<string>();
    for (const l of this.listeners.values()) if (forwardTargets(l.defaultActions).includes(tgArn)) lbs.add(l.loadBalancerArn);
    for (const r of this.rules.values()) if (forwardTargets(r.actions).includes(tgArn)) lbs.add(this.listeners.get(r.listenerArn)!.loadBalancerArn);
    return [...lbs];
  }

  // ---------- rules ----------

  private mustListener(arn: string | undefined): FakeListener {
    const l = arn ? this.listeners.get(arn) : undefined;
    if (!l) throw elbError('ListenerNotFound', `Listener '${arn ?? ''}' not found`);
    return l;
  }

  private mustRule(arn: string | undefined): FakeRule {
    const r = arn ? this.rules.get(arn) : undefined;
    if (!r) throw elbError('RuleNotFound', `One or more rules not found`);
    return r;
  }

  private taggable(arn: string): { tags: TagMap } {
    const t = this.targetGroups.get(arn) ?? this.rules.get(arn);
    if (t) return t;
    if (arn.includes(':listener-rule/')) throw elbError('RuleNotFound', 'One or more rules not found');
    throw elbError('TargetGroupNotFound', `Target groups '${arn}' not found`);
  }

  rulesOfLoadBalancer(lbArn: string): FakeRule[] {
    return [...this.rules.values()].filter((r) => this.listeners.get(r.listenerArn)!.loadBalancerArn === lbArn);
  }

  /** Checks a rule's conditions and actions as CreateRule/ModifyRule do, for `lbArn`, ignoring `self`. */
  private validate(lbArn: string, listener: FakeListener, conditions: Condition[], actions: Action[], self?: string): void {
    const values = conditions.reduce((n, c) => n + (c.HostHeaderConfig?.Values?.length ?? 0) + (c.HttpHeaderConfig?.Values?.length ?? 0) + (c.Values?.length ?? 0), 0);
    if (conditions.length === 0) throw elbError('ValidationError', 'A rule must have at least one condition');
    if (values > this.limits.conditionValuesPerRule) throw elbError('ValidationError', `A rule can only have '${this.limits.conditionValuesPerRule}' condition values`);
    if (actions.length === 0) throw elbError('ValidationError', 'A rule must have at least one action');
    const last = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0)).at(-1)!;
    if (!['forward', 'fixed-response', 'redirect'].includes(last.Type ?? '')) {
      throw elbError('InvalidLoadBalancerAction', 'The last action must be a forward, fixed-response or redirect action');
    }
    if (actions.some((a) => a.Type === 'authenticate-oidc') && listener.protocol !== 'HTTPS') {
      throw elbError('InvalidLoadBalancerAction', 'Authenticate actions are only supported on HTTPS listeners');
    }
    const wanted = forwardTargets(actions);
    for (const tgArn of wanted) {
      this.mustTargetGroup(tgArn);
      const others = this.loadBalancersOf(tgArn).filter((lb) => lb !== lbArn);
      if (others.length > 0) throw elbError('TargetGroupAssociationLimit', `The following target groups cannot be associated with more than one load balancer: ${tgArn}`);
    }
    const current = new Set<string>();
    for (const l of this.listeners.values()) if (l.loadBalancerArn === lbArn) for (const t of forwardTargets(l.defaultActions)) current.add(t);
    for (const r of this.rulesOfLoadBalancer(lbArn)) if (r.arn !== self) for (const t of forwardTargets(r.actions)) current.add(t);
    const after = new Set([...current, ...wanted]);
    if (after.size > this.limits.targetGroupsPerLoadBalancer && after.size > current.size) {
      throw elbError('TooManyUniqueTargetGroupsPerLoadBalancer', `You have reached the limit on the number of unique target groups per load balancer across all listeners`);
    }
  }

  private createRule(i: { ListenerArn?: string; Priority?: number; Conditions?: Condition[]; Actions?: Action[]; Tags?: KeyValue[] }): unknown {
    const listener = this.mustListener(i.ListenerArn);
    const priority = i.Priority ?? 0;
    if (!Number.isInteger(priority) || priority < 1 || priority > 50_000) throw elbError('ValidationError', `Priority '${priority}' must be between 1 and 50000`);
    const lbArn = listener.loadBalancerArn;
    if ([...this.rules.values()].some((r) => r.listenerArn === listener.arn && r.priority === priority)) {
      throw elbError('PriorityInUse', `Priority '${priority}' is currently in use`);
    }
    if (this.rulesOfLoadBalancer(lbArn).length >= this.limits.rulesPerLoadBalancer) {
      throw elbError('TooManyRules', 'You have reached the limit on the number of rules per load balancer');
    }
    const conditions = structuredClone(i.Conditions ?? []);
    const actions = structuredClone(i.Actions ?? []);
    this.validate(lbArn, listener, conditions, actions);
    const arn = listener.arn.replace(':listener/', ':listener-rule/') + `/${this.rng.hex(16)}`;
    const rule: FakeRule = { arn, listenerArn: listener.arn, priority, conditions, actions, tags: tagsFromKeyValue(i.Tags) };
    this.rules.set(arn, rule);
    return { Rules: [describeRule(rule)] };
  }

  private modifyRule(i: { RuleArn?: string; Conditions?: Condition[]; Actions?: Action[] }): unknown {
    const rule = this.mustRule(i.RuleArn);
    const listener = this.mustListener(rule.listenerArn);
    const conditions = i.Conditions ? structuredClone(i.Conditions) : rule.conditions;
    const actions = i.Actions ? structuredClone(i.Actions) : rule.actions;
    this.validate(listener.loadBalancerArn, listener, conditions, actions, rule.arn);
    rule.conditions = conditions;
    rule.actions = actions;
    return { Rules: [describeRule(rule)] };
  }

  private describeRules(i: { ListenerArn?: string; RuleArns?: string[]; Marker?: string; PageSize?: number }): unknown {
    let rules: Record<string, unknown>[];
    if (i.RuleArns) {
      rules = i.RuleArns.map((a) => describeRule(this.mustRule(a)));
    } else {
      const listener = this.mustListener(i.ListenerArn);
      const own = [...this.rules.values()].filter((r) => r.listenerArn === listener.arn).sort((a, b) => a.priority - b.priority);
      rules = [
        ...own.map(describeRule),
        { RuleArn: `${listener.arn.replace(':listener/', ':listener-rule/')}/default`, Priority: 'default', Conditions: [], Actions: structuredClone(listener.defaultActions), IsDefault: true },
      ];
    }
    const pageSize = i.PageSize ?? 400;
    const start = i.Marker ? Number(Buffer.from(i.Marker, 'base64').toString()) : 0;
    const page = rules.slice(start, start + pageSize);
    const next = start + pageSize < rules.length ? Buffer.from(String(start + pageSize)).toString('base64') : undefined;
    return { Rules: page, ...(next ? { NextMarker: next } : {}) };
  }

  // ---------- evaluation and inspection ----------

  /**
   * Where a request with this Host (and headers) goes on a listener, as the ALB evaluates rules:
   * in priority order, the first rule whose every condition matches, else the default action.
   * Host matching is case-insensitive, as ALB's host-header condition is.
   */
  route(listenerArn: string, host: string, headers: Readonly<Record<string, string>> = {}): { kind: 'forward'; targetGroupArn: string; rule: FakeRule } | { kind: 'fixed'; status: string; rule?: FakeRule } {
    const listener = this.mustListener(listenerArn);
    const rules = [...this.rules.values()].filter((r) => r.listenerArn === listenerArn).sort((a, b) => a.priority - b.priority);
    const lowerHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    for (const rule of rules) {
      const matches = rule.conditions.every((c) => {
        if (c.Field === 'host-header') return (c.HostHeaderConfig?.Values ?? c.Values ?? []).some((v) => v.toLowerCase() === host.toLowerCase());
        if (c.Field === 'http-header') {
          const v = lowerHeaders[(c.HttpHeaderConfig?.HttpHeaderName ?? '').toLowerCase()];
          return v !== undefined && (c.HttpHeaderConfig?.Values ?? []).includes(v);
        }
        return false;
      });
      if (!matches) continue;
      return outcome(rule.actions, rule);
    }
    return outcome(listener.defaultActions, undefined);
  }

  resources(): IngressResourceRef[] {
    return [
      ...[...this.targetGroups.values()].map((t) => ({ service: 'ELBv2' as const, type: 'AWS::ElasticLoadBalancingV2::TargetGroup', id: t.arn, arn: t.arn, tags: tagRecord(t.tags) })),
      ...[...this.rules.values()].map((r) => ({ service: 'ELBv2' as const, type: 'AWS::ElasticLoadBalancingV2::ListenerRule', id: r.arn, arn: r.arn, tags: tagRecord(r.tags) })),
    ];
  }
}

function outcome(actions: Action[], rule: FakeRule | undefined): { kind: 'forward'; targetGroupArn: string; rule: FakeRule } | { kind: 'fixed'; status: string; rule?: FakeRule } {
  const last = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0)).at(-1);
  const tg = last ? forwardTargets([last])[0] : undefined;
  if (tg && rule) return { kind: 'forward', targetGroupArn: tg, rule };
  return { kind: 'fixed', status: last?.FixedResponseConfig?.StatusCode ?? '503', ...(rule ? { rule } : {}) };
}

export function forwardTargets(actions: readonly Action[]): string[] {
  const out: string[] = [];
  for (const a of actions) {
    if (a.Type !== 'forward') continue;
    if (a.TargetGroupArn) out.push(a.TargetGroupArn);
    for (const t of a.ForwardConfig?.TargetGroups ?? []) if (t.TargetGroupArn) out.push(t.TargetGroupArn);
  }
  return out;
}

function describeRule(r: FakeRule): Record<string, unknown> {
  return { RuleArn: r.arn, Priority: String(r.priority), Conditions: structuredClone(r.conditions), Actions: structuredClone(r.actions), IsDefault: false };
}
