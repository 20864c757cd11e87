/**
 * What a tenant's gateway may call as a model, and who pays for it (issue 11, item 3).
 *
 * - Platform-paid: Amazon Bedrock, with the task role, only the plan's `bedrockModels`, in the
 *   cell's Region, through one application inference profile per (tenant, model) so usage and cost
 *   are attributed per tenant (profile tags `octw:cell`/`octw:tenant`; its CloudWatch metrics carry
 *   the profile as `ModelId`). Optional Bedrock Guardrail per plan, optional monthly token budget.
 * - Tenant-paid (bring your own key): a plan provider with `apiKey: "tenant"`; the tenant stores its
 *   key as a tenant credential secret (`octw/tenants/<cell>/<id>/credentials/<name>`, contract 4),
 *   the record keeps only the reference, ECS injects it as `OCTW_MODEL_<PROVIDER>_API_KEY`, and the
 *   config references that env var by SecretRef.
 * - A key that belongs to the platform is never placed in a tenant's container: a plan cannot name
 *   a key (ModelProviderSchema refuses `apiKeySecretArn`), and the only secrets injected for models
 *   are credentials verified to be this tenant's own (tags + name prefix).
 *
 * Pure domain code: no AWS SDK imports.
 */
import * as z from 'zod';
import { createHash } from 'node:crypto';
import type { TenantRef } from './naming';

/** A credential's own name under the tenant's credentials prefix (contract 4). */
export const CREDENTIAL_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Providers the platform knows by name: their API, base URL and the hosts the tenant's egress needs. */
export const KNOWN_MODEL_PROVIDERS = {
  anthropic: { api: 'anthropic-messages', baseUrl: 'https://api.anthropic.com' },
  openai: { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1' },
} as const;

/** A tenant's reference to its own key for one of its plan's `apiKey: "tenant"` providers. */
export const ModelKeyRefSchema = z
  .object({
    provider: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'provider must be a model provider id of the plan' }),
    /** The credential's name under `octw/tenants/<cell>/<tenantId>/credentials/` (never the key itself). */
    credential: z.string().regex(CREDENTIAL_NAME, { error: 'credential must be 1-63 of a-z, 0-9 and "-" (the name under the tenant\'s credentials prefix)' }),
  })
  .strict();
export type ModelKeyRef = z.infer<typeof ModelKeyRefSchema>;

export const ModelKeysSchema = z
  .array(ModelKeyRefSchema)
  .max(8)
  .refine((keys) => new Set(keys.map((k) => k.provider)).size === keys.length, { error: 'modelKeys names a provider twice' });

/** Secrets Manager name of a tenant credential (contract 4). */
export function tenantCredentialSecretName(t: TenantRef, credential: string): string {
  if (!CREDENTIAL_NAME.test(credential)) throw new RangeError(`credential name "${credential}" is not 1-63 of a-z, 0-9 and "-"`);
  return `${tenantCredentialPrefix(t)}${credential}`;
}

/** Every credential secret of the tenant starts with this. */
export const tenantCredentialPrefix = (t: TenantRef) => `octw/tenants/${t.cell}/${t.tenantId}/credentials/`;

/** Env var ECS injects a tenant's key for a provider into. */
export function modelProviderKeyEnv(providerId: string): string {
  return `OCTW_MODEL_${providerId.toUpperCase().replace(/-/g, '_')}_API_KEY`;
}

/**
 * Name of the tenant's application inference profile for one Bedrock model: ≤ 64 characters
 * (5 + 16 cell + 2 + 32 tenant + 1 + 8), of the characters CreateInferenceProfile accepts
 * (`([0-9a-zA-Z:.][ _-]?)+`; no "--", so the cell/tenant separator is "." here). The model is
 * named by a short hash: ids are longer than the budget.
 */
export function inferenceProfileName(t: TenantRef, model: string): string {
  return `octw-${t.cell}.${t.tenantId}.${createHash('sha256').update(model).digest('hex').slice(0, 8)}`;
}

/** The prefix all of a tenant's inference profiles share. */
export const inferenceProfilePrefix = (t: TenantRef) => `octw-${t.cell}.${t.tenantId}.`;

const CROSS_REGION_PREFIX = /^(us|eu|apac|jp|au|ca|global)\.(.+)$/;

/** ARN a tenant's application inference profile copies from: the foundation model, or the system (cross-Region) profile. */
export function bedrockModelSourceArn(model: string, p: { partition: string; region: string; account: string }): string {
  return CROSS_REGION_PREFIX.test(model)
    ? `arn:${p.partition}:bedrock:${p.region}:${p.account}:inference-profile/${model}`
    : `arn:${p.partition}:bedrock:${p.region}::foundation-model/${model}`;
}

/**
 * The foundation-model ARNs a profile for `model` routes to. A cross-Region system profile sends
 * requests to the model in several Regions (AWS: "specify the foundation model in each Region
 * associated with the profile"), so its Region is a wildcard; a foundation model stays in the cell's Region.
 */
export function bedrockFoundationModelArns(model: string, p: { partition: string; region: string }): string[] {
  const cross = CROSS_REGION_PREFIX.exec(model);
  if (cross) return [`arn:${p.partition}:bedrock:*::foundation-model/${cross[2]!}`];
  return [`arn:${p.partition}:bedrock:${p.region}::foundation-model/${model}`];
}

/** A Bedrock Guardrail of a plan: ARN-form identifier used in the IAM condition `bedrock:GuardrailIdentifier`. */
export function guardrailArn(g: { id: string }, p: { partition: string; region: string; account: string }): string {
  return g.id.startsWith('arn:') ? g.id : `arn:${p.partition}:bedrock:${p.region}:${p.account}:guardrail/${g.id}`;
}

/** One model of the plan, bound to the tenant's inference profile for it. */
export interface TenantInferenceProfile {
  model: string;
  arn: string;
}

/** What an over-budget tenant triggers, from its plan. */
export type BudgetVerdict =
  | { over: false; budget: number | undefined }
  | { over: true; budget: number; action: 'alarm' | 'suspend' };

/** Whether `tokens` used this month is over the plan's monthly token budget. No budget: never over. */
export function budgetVerdict(tokens: number, plan: { monthlyTokenBudget?: number | undefined; overBudgetAction?: 'alarm' | 'suspend' | undefined } | undefined): BudgetVerdict {
  if (plan?.monthlyTokenBudget === undefined) return { over: false, budget: undefined };
  if (tokens <= plan.monthlyTokenBudget) return { over: false, budget: plan.monthlyTokenBudget };
  return { over: true, budget: plan.monthlyTokenBudget, action: plan.overBudgetAction ?? 'alarm' };
}

/** The first instant of the calendar month (UTC) of `now`: budgets are per calendar month. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}
