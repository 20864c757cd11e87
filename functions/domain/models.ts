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
import * as z from '../shared/zod';
import { createHash } from 'node:crypto';
import { CredentialGenerationSchema } from './channels';
import { CREDENTIAL_NAME_PATTERN, names, type TenantRef } from './naming';

/**
 * A tenant's request to use its own key for one of its plan's `apiKey: "tenant"` providers: the
 * credential is a reference (its name under `octw/tenants/<cell>/<id>/credentials/`, the full
 * secret name, or its ARN), never the key. The update claim verifies it (prefix + tags,
 * adapters/tenant-credentials.ts) and records the secret's ARN.
 */
export const ModelKeyRequestSchema = z.strictObject({
    provider: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'provider must be a model provider id of the plan' })),
    credential: z.string().check(z.minLength(1)).check(z.maxLength(2048)),
  });
export type ModelKeyRequest = z.infer<typeof ModelKeyRequestSchema>;

export const ModelKeysRequestSchema = z
  .array(ModelKeyRequestSchema).check(z.maxLength(8)).check(z.refine((keys) => new Set(keys.map((k) => k.provider)).size === keys.length, { error: 'modelKeys names a provider twice' }));

/**
 * A tenant's key as recorded: the provider, the verified credential secret's ARN, and the
 * provider's endpoint (host, port of the plan's baseUrl when the key was set), which the tenant's
 * egress policy allows (origin `model:<provider>`, functions/domain/tenant-egress.ts).
 */
export const TenantModelKeySchema = z.strictObject({
    provider: z.string(),
    secretArn: z.string().check(z.startsWith('arn:')),
    endpoint: z.strictObject({ host: z.string().check(z.minLength(1)).check(z.maxLength(253)), port: z.int().check(z.gte(1)).check(z.lte(65535)) }),
    /** How often the key's value was rotated (absent: never); in the config hash, never the value. */
    generation: z.optional(CredentialGenerationSchema),
  });
export type TenantModelKey = z.infer<typeof TenantModelKeySchema>;

/** A credential reference given by its short name: the full secret name under the tenant's prefix. */
export function credentialReference(t: TenantRef, credential: string): string {
  return CREDENTIAL_NAME_PATTERN.test(credential) ? names.credentialSecret(t, credential) : credential;
}

/** Host and port of a provider's base URL (the default port of its scheme when none is given). */
export function providerEndpoint(baseUrl: string): { host: string; port: number } {
  const u = new URL(baseUrl);
  return { host: u.hostname.toLowerCase(), port: u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443 };
}

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
