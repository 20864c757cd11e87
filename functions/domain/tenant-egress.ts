/**
 * What the cell's egress proxy enforces for one tenant (issue 10), decided in ONE place.
 *
 * The tenant record keeps `hostAllowlist`: the host rules of its signup or last update, expanded
 * (functions/domain/egress-policy.ts). Other features may need hosts of their own (a channel's API,
 * a model provider's endpoint): they add them HERE, as rules derived from their record fields with
 * origin `channel:<type>` / `model:<provider>`, united with the tenant's own rules. Nothing else
 * writes the egress policy table: the network step writes `effectiveHostRules(record)` for the
 * tenant (functions/adapters/egress-policy-store.ts).
 *
 * Pure domain code: no AWS SDK.
 */
import type { EgressPlanBounds, HostEntryInput, HostPolicyContext, HostRule } from './egress-policy';
import { PRESETS, validateHostPolicy } from './egress-policy';
import { BUILTIN_CHANNELS, isBuiltinChannel } from './channels';
import { NO_HOST_EGRESS } from './tenant';

/** The record fields the effective policy is derived from (a structural subset of TenantRecord). */
export interface TenantEgressFields {
  hostAllowlist: readonly HostRule[];
  /** The tenant's channels (owner: channels): each adds its egress preset's hosts, origin `channel:<type>`. */
  channels?: readonly { type: string; egressPreset?: string | undefined }[] | undefined;
  /** The tenant's own provider keys (owner: models): each adds its provider's endpoint, origin `model:<provider>`. */
  modelKeys?: readonly { provider: string; endpoint: { host: string; port: number } }[] | undefined;
}

/**
 * The rules the proxy enforces for this tenant: its own host allowlist, united (by host, ports and
 * origins merged) with the rules other record fields imply. Sorted by host; deterministic.
 */
export function effectiveHostRules(record: TenantEgressFields): HostRule[] {
  return mergeHostRules([record.hostAllowlist, channelHostRules(record.channels ?? []), modelHostRules(record.modelKeys ?? [])]);
}

/**
 * The hosts a tenant's own model providers need [models]: the endpoint of each provider it gave a
 * key for, origin `model:<provider>`. Removing the key removes the host (unless another origin
 * names it). Bedrock is reached through the cell's VPC endpoint, never the proxy.
 */
export function modelHostRules(keys: readonly { provider: string; endpoint: { host: string; port: number } }[]): HostRule[] {
  return keys.map((k) => ({ host: k.endpoint.host, ports: [k.endpoint.port], origin: [`model:${k.provider}`] }));
}

/**
 * The hosts a tenant's channels need: each channel's egress preset (a built-in type's own, or the
 * one the plan declared for a channel plugin, recorded on the channel), origin `channel:<type>`.
 * Removing the channel removes them (unless the tenant's own rules name the same host).
 */
export function channelHostRules(channels: readonly { type: string; egressPreset?: string | undefined }[]): HostRule[] {
  return channels.flatMap((c) => {
    const preset = c.egressPreset ?? (isBuiltinChannel(c.type) ? BUILTIN_CHANNELS[c.type].preset : undefined);
    if (preset === undefined) return [];
    const entries = PRESETS[preset]?.entries;
    if (!entries) throw new RangeError(`channel "${c.type}" names egress preset "${preset}", which is not in functions/domain/egress-presets.json`);
    return entries.map((e) => ({ host: e.host, ports: [...e.ports].sort((a, b) => a - b), origin: [`channel:${c.type}`] }));
  });
}

/**
 * The plan's `maxHostRules` bounds what the proxy enforces for the tenant: its own rules AND the
 * hosts its channels and model providers add (merged: a host named twice counts once). A change
 * that would take the effective count over the bound is refused; one that does not grow the count
 * (on the same plan) is not, so a tenant already over a bound lowered later can still change other
 * things. Returns the issues (empty when allowed).
 */
export function effectiveHostRuleIssues(
  current: TenantEgressFields,
  next: TenantEgressFields,
  plan: { egress?: EgressPlanBounds | undefined },
  planChanged: boolean,
): { path: string; message: string }[] {
  const max = (plan.egress ?? NO_HOST_EGRESS).maxHostRules;
  const after = effectiveHostRules(next);
  const before = effectiveHostRules(current);
  if (after.length <= max || (!planChanged && after.length <= before.length)) return [];
  const added = after.filter((r) => !before.some((b) => b.host === r.host)).map((r) => `${r.host} (${r.origin.join(', ')})`);
  return [
    {
      path: 'hostAllowlist',
      message: `the tenant's egress would need ${after.length} host rules (its own plus its channels' and model providers' hosts); the plan allows at most ${max}${added.length > 0 ? `; new: ${added.join(', ')}` : ''}`,
    },
  ];
}

/** Unites several rule lists: one rule per host, ports and origins merged and sorted. */
export function mergeHostRules(lists: readonly (readonly HostRule[])[]): HostRule[] {
  const merged = new Map<string, { ports: Set<number>; origin: Set<string> }>();
  for (const list of lists) {
    for (const rule of list) {
      const cur = merged.get(rule.host) ?? { ports: new Set<number>(), origin: new Set<string>() };
      for (const p of rule.ports) cur.ports.add(p);
      for (const o of rule.origin) cur.origin.add(o);
      merged.set(rule.host, cur);
    }
  }
  return [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([host, v]) => ({ host, ports: [...v.ports].sort((a, b) => a - b), origin: [...v.origin].sort() }));
}

/**
 * The cell's private DNS zones, never allowed as destinations: the proxy's own zone
 * (`<cell>.octw.internal`, infra/constructs/egress-proxy.ts). `.internal` is refused as a whole
 * anyway; the zone is listed so the refusal names it.
 */
export function cellPrivateZones(cell: string): string[] {
  return [`${cell}.octw.internal`];
}

/** The validation context of a tenant's host policy on a plan in a cell. */
export function hostPolicyContext(plan: { egress?: EgressPlanBounds | undefined }, privateZones: readonly string[]): HostPolicyContext {
  return { plan: plan.egress ?? NO_HOST_EGRESS, privateZones };
}

/**
 * Stored rules as input entries again (presets by name, the tenant's own hosts with their ports), so
 * a stored policy can be checked against another plan's bounds when only the plan changes.
 */
export function hostRulesAsEntries(rules: readonly HostRule[]): HostEntryInput[] {
  const presets = new Set<string>();
  const entries: HostEntryInput[] = [];
  for (const rule of rules) {
    for (const origin of rule.origin) {
      if (origin === 'tenant') entries.push({ host: rule.host, ports: [...rule.ports] });
      else if (origin.startsWith('preset:')) presets.add(origin.slice('preset:'.length));
    }
  }
  return [...[...presets].sort().map((preset) => ({ preset })), ...entries];
}

/** Issues of stored rules under `ctx` (e.g. a new plan), by the same rules as new input. */
export function storedRulesIssues(rules: readonly HostRule[], ctx: HostPolicyContext): { path: string; message: string }[] {
  const r = validateHostPolicy(hostRulesAsEntries(rules), ctx);
  return r.ok ? [] : r.issues;
}
