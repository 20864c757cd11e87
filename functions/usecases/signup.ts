/**
 * Validating a signup: shape (zod), plan, and allowlist rules. Pure apart from the deps passed in.
 */
import * as z from '../shared/zod';
import type { TenantChannel } from '../domain/channels';
import { ValidationError } from '../domain/errors';
import { countSecurityGroupRules, validateAllowlist, MAX_EGRESS_RULES_PER_GROUP, PLATFORM_EGRESS_RULE_COUNT } from '../domain/allowlist';
import { configHash } from '../domain/config-hash';
import type { EgressSettings } from '../domain/egress-settings';
import { validateHostPolicy, type HostRule } from '../domain/egress-policy';
import type { TenantModelKey } from '../domain/models';
import { oidcClientSecretName, oidcSettings, type IngressOidcRequest, type TenantOidcRef } from '../domain/ingress';
import { SignupRequestSchema, type EgressRule, type Plan, type SignupRequest } from '../domain/tenant';
import { cellPrivateZones, hostPolicyContext, storedRulesIssues } from '../domain/tenant-egress';

export interface SignupContext {
  plans: readonly Plan[];
  /** Every network tenants must never reach: the VPC CIDRs and cdk.json `protectedCidrs`. */
  vpcCidrs: readonly string[];
  /** The cell's default egress rules, which every tenant's security group also holds. */
  defaultAllowlist: readonly EgressRule[];
  /** Private or shared ranges the operator lets tenants reach. @default none */
  allowedPrivateCidrs?: readonly string[];
  /** Prefix lists the operator approved for tenant allowlists. @default none */
  approvedPrefixLists?: EgressSettings['approvedPrefixLists'];
  /** The cell's private DNS zones, never allowed as proxy destinations. @default none */
  privateZones?: readonly string[];
  /** Set when the cell has ingress (tenant endpoints): only then may a tenant name an OIDC provider. @default no ingress */
  ingress?: { readonly cell: string };
}

/** The validation context of a cell from its handler configuration (env VPC_CIDR, EGRESS_SETTINGS_JSON, ...). */
export function signupContextOf(
  plans: readonly Plan[],
  vpcCidrs: readonly string[],
  defaultAllowlist: readonly EgressRule[],
  egress: EgressSettings,
  cell?: string,
  ingressEnabled = false,
): SignupContext {
  return {
    ...(cell ? { privateZones: cellPrivateZones(cell) } : {}),
    ...(cell && ingressEnabled ? { ingress: { cell } } : {}),
    plans,
    vpcCidrs: [...new Set([...vpcCidrs, ...egress.protectedCidrs])],
    defaultAllowlist,
    allowedPrivateCidrs: egress.allowedPrivateCidrs,
    approvedPrefixLists: egress.approvedPrefixLists,
  };
}

export interface ValidSignup {
  request: SignupRequest;
  plan: Plan;
  /** The request's host allowlist, validated against the plan and expanded. */
  hostAllowlist: HostRule[];
  /** The tenant's OIDC provider with the full name of its client-secret credential (checked by name only here). */
  ingressOidc?: TenantOidcRef;
  configHash: string;
}

/** Parses and validates a signup; throws ValidationError listing every problem with its field. */
export function validateSignup(raw: unknown, ctx: SignupContext): ValidSignup {
  const parsed = SignupRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    throw new ValidationError(`signup refused: ${describe(issues)}`, issues);
  }
  const request = parsed.data;
  const { plan, hostAllowlist } = validateTenantConfig(request, ctx, 'signup refused');
  const ingressOidc = request.ingressOidc ? tenantOidcRef(request.ingressOidc, request.tenantId, ctx, 'signup refused') : undefined;
  return { request, plan, hostAllowlist, ...(ingressOidc ? { ingressOidc } : {}), configHash: tenantConfigHash({ ...request, hostAllowlist }, plan) };
}

/**
 * A requested OIDC provider as the tenant record holds it: refused (ValidationError) where the cell
 * has no ingress, or when `clientSecret` does not name a credential under the tenant's own prefix.
 */
export function tenantOidcRef(request: IngressOidcRequest, tenantId: string, ctx: Pick<SignupContext, 'ingress'>, refused: string): TenantOidcRef {
  const ingress = requireIngress(ctx, refused);
  const secret = oidcClientSecretName({ cell: ingress.cell, tenantId }, request.clientSecret);
  if ('problem' in secret) {
    const issues = [{ path: 'ingressOidc.clientSecret', message: secret.problem }];
    throw new ValidationError(`${refused}: ${describe(issues)}`, issues);
  }
  return { ...oidcSettings(request), clientSecretName: secret.name };
}

/** The cell's ingress, or a ValidationError: an OIDC provider (set or removed) needs a tenant endpoint. */
export function requireIngress(ctx: Pick<SignupContext, 'ingress'>, refused: string): { readonly cell: string } {
  if (ctx.ingress) return ctx.ingress;
  const issues = [{ path: 'ingressOidc', message: 'this cell has no ingress (cdk.json "ingress"): there is no tenant endpoint to put an OIDC provider in front of' }];
  throw new ValidationError(`${refused}: ${describe(issues)}`, issues);
}

/** A tenant configuration to validate: a host allowlist as input entries, or as stored rules (checked against the plan again). */
export type TenantConfigInput = Pick<SignupRequest, 'plan' | 'egressAllowlist'> &
  ({ hostAllowlist: SignupRequest['hostAllowlist'] } | { storedHostAllowlist: readonly HostRule[] });

/**
 * The checks a tenant's configuration passes whether it comes from a signup or an update: the plan
 * exists, the allowlist is valid against the VPC CIDRs within the plan's rule budget, and the host
 * allowlist is within the plan's egress bounds. Returns the plan and the expanded host rules;
 * throws ValidationError (message prefixed with `refused`) listing every problem.
 */
export function validateTenantConfig(
  config: TenantConfigInput,
  ctx: SignupContext,
  refused: string,
): { plan: Plan; hostAllowlist: HostRule[] } {
  const plan = ctx.plans.find((p) => p.id === config.plan);
  if (!plan) {
    const issues = [
      { path: 'plan', message: `unknown plan "${config.plan}"; known plans: ${ctx.plans.map((p) => p.id).join(', ')}` },
    ];
    throw new ValidationError(`${refused}: ${describe(issues)}`, issues);
  }
  // The plan caps the tenant's own rules; the group must also hold the platform's and the cell defaults.
  const maxRules = Math.min(
    plan.maxAllowlistRules,
    MAX_EGRESS_RULES_PER_GROUP - PLATFORM_EGRESS_RULE_COUNT - countSecurityGroupRules(ctx.defaultAllowlist, ctx.approvedPrefixLists),
  );
  const allowlistIssues = validateAllowlist(config.egressAllowlist, {
    vpcCidrs: [...ctx.vpcCidrs],
    maxRules,
    allowedPrivateCidrs: ctx.allowedPrivateCidrs ?? [],
    approvedPrefixLists: ctx.approvedPrefixLists ?? [],
  }).map(
    (i) => ({ path: i.path.startsWith('egressAllowlist') ? i.path : `egressAllowlist${i.path}`, message: i.message }),
  );
  const hostCtx = hostPolicyContext(plan, ctx.privateZones ?? []);
  let hostAllowlist: HostRule[] = [];
  const hostIssues: { path: string; message: string }[] = [];
  if ('storedHostAllowlist' in config) {
    hostAllowlist = [...config.storedHostAllowlist];
    for (const i of storedRulesIssues(hostAllowlist, hostCtx)) {
      hostIssues.push({ path: i.path, message: `the tenant's current host allowlist does not fit plan "${plan.id}": ${i.message}` });
    }
  } else {
    const r = validateHostPolicy(config.hostAllowlist, hostCtx);
    if (r.ok) hostAllowlist = r.rules;
    else hostIssues.push(...r.issues);
  }
  const issues = [...allowlistIssues, ...hostIssues];
  if (issues.length > 0) {
    throw new ValidationError(`${refused}: ${describe(issues)}`, issues);
  }
  return { plan, hostAllowlist };
}

/** A tenant may reference a key only for a provider of its plan that takes the tenant's own key. */
export function modelKeyIssues(keys: readonly { provider: string }[], plan: Plan): { path: string; message: string }[] {
  return keys.flatMap((k, i) => {
    const provider = plan.modelProviders.find((p) => p.id === k.provider);
    if (!provider) {
      const known = plan.modelProviders.filter((p) => p.apiKey === 'tenant').map((p) => p.id);
      return [{ path: `modelKeys[${i}].provider`, message: `plan "${plan.id}" has no model provider "${k.provider}"${known.length > 0 ? `; it takes keys for: ${known.join(', ')}` : '; it takes no tenant key'}` }];
    }
    if (provider.apiKey !== 'tenant') return [{ path: `modelKeys[${i}].provider`, message: `model provider "${k.provider}" of plan "${plan.id}" takes no key` }];
    return [];
  });
}

/** What the running gateway is built from: if it changes, the tenant needs an update. */
export function tenantConfigHash(
  request: Pick<SignupRequest, 'plan' | 'egressAllowlist'> & {
    hostAllowlist: readonly HostRule[];
    imageOverride?: string | undefined;
    channels?: readonly TenantChannel[] | undefined;
    modelKeys?: readonly TenantModelKey[] | undefined;
  },
  plan: Plan,
): string {
  // Without an override, a host policy or channels the hash is what it was before they existed (undefined is dropped).
  return configHash({
    plan,
    egressAllowlist: request.egressAllowlist,
    imageOverride: request.imageOverride,
    hostAllowlist: request.hostAllowlist.length > 0 ? request.hostAllowlist : undefined,
    channels: request.channels && request.channels.length > 0 ? request.channels : undefined,
    modelKeys: request.modelKeys && request.modelKeys.length > 0 ? request.modelKeys : undefined,
  });
}

/** Parses operator input with `schema`; a ValidationError (message prefixed with `refused`) lists every problem. */
export function parseRequest<S extends z.ZodMiniType>(schema: S, raw: unknown, refused: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    throw new ValidationError(`${refused}: ${describe(issues)}`, issues);
  }
  return parsed.data;
}

/** A best-effort tenant id for audit records of refused input (never used as a name). */
export function rawTenantId(raw: unknown): string {
  const id = z.object({ tenantId: z.string() }).safeParse(raw);
  return id.success ? id.data.tenantId.slice(0, 64) : '(none)';
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '') || '(input)';
}

function describe(issues: readonly { path: string; message: string }[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
