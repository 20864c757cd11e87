/**
 * Validating a signup: shape (zod), plan, and allowlist rules. Pure apart from the deps passed in.
 */
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import { countSecurityGroupRules, validateAllowlist, MAX_EGRESS_RULES_PER_GROUP, PLATFORM_EGRESS_RULE_COUNT } from '../domain/allowlist';
import { configHash } from '../domain/config-hash';
import type { EgressSettings } from '../domain/egress-settings';
import type { ModelKeyRef } from '../domain/models';
import { SignupRequestSchema, type EgressRule, type Plan, type SignupRequest } from '../domain/tenant';

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
}

/** The validation context of a cell from its handler configuration (env VPC_CIDR, EGRESS_SETTINGS_JSON, ...). */
export function signupContextOf(
  plans: readonly Plan[],
  vpcCidrs: readonly string[],
  defaultAllowlist: readonly EgressRule[],
  egress: EgressSettings,
): SignupContext {
  return {
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
  const plan = validateTenantConfig(request, ctx, 'signup refused');
  return { request, plan, configHash: tenantConfigHash(request, plan) };
}

/**
 * The checks a tenant's configuration passes whether it comes from a signup or an update: the plan
 * exists, and the allowlist is valid against the VPC CIDRs within the plan's rule budget.
 * Returns the plan; throws ValidationError (message prefixed with `refused`) listing every problem.
 */
export function validateTenantConfig(
  config: Pick<SignupRequest, 'plan' | 'egressAllowlist'> & { modelKeys?: readonly ModelKeyRef[] },
  ctx: SignupContext,
  refused: string,
): Plan {
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
  if (allowlistIssues.length > 0) {
    throw new ValidationError(`${refused}: ${describe(allowlistIssues)}`, allowlistIssues);
  }
  const keyIssues = modelKeyIssues(config.modelKeys ?? [], plan);
  if (keyIssues.length > 0) throw new ValidationError(`${refused}: ${describe(keyIssues)}`, keyIssues);
  return plan;
}

/** A tenant may reference a key only for a provider of its plan that takes the tenant's own key. */
export function modelKeyIssues(keys: readonly ModelKeyRef[], plan: Plan): { path: string; message: string }[] {
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
  request: Pick<SignupRequest, 'plan' | 'egressAllowlist'> & { imageOverride?: string | undefined; modelKeys?: readonly ModelKeyRef[] },
  plan: Plan,
): string {
  // Without an override or keys the hash is what it was before they existed (undefined is dropped).
  const modelKeys = request.modelKeys && request.modelKeys.length > 0 ? request.modelKeys : undefined;
  return configHash({ plan, egressAllowlist: request.egressAllowlist, imageOverride: request.imageOverride, modelKeys });
}

/** Parses operator input with `schema`; a ValidationError (message prefixed with `refused`) lists every problem. */
export function parseRequest<S extends z.ZodType>(schema: S, raw: unknown, refused: string): z.infer<S> {
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
