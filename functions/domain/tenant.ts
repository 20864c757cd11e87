/**
 * What a tenant is: identifiers, the signup request, the plan catalogue and the record
 * kept in DynamoDB. Pure domain code: no AWS SDK imports here.
 */
import * as z from '../shared/zod';
import { BUILTIN_CHANNELS, BUILTIN_CHANNEL_TYPES, ChannelPluginSchema, isBuiltinChannel } from './channels';
import { IngressOidcRequestSchema } from './ingress-oidc';
import { KNOWN_PLUGINS } from './openclaw-release';
import { EgressPlanBoundsSchema, HostEntryInputSchema, type EgressPlanBounds } from './egress-policy';

/** Words that may not be tenant ids: they collide with platform names or read as something else. */
export const RESERVED_TENANT_IDS: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'api', 'aws', 'cell', 'default', 'internal', 'octw', 'openclaw',
  'platform', 'root', 'system', 'tenant', 'tenants', 'test', 'www',
]);

export const TENANT_ID_PATTERN = /^[a-z][a-z0-9-]{2,30}[a-z0-9]$/;

export const TenantIdSchema = z
  .string({ error: 'tenantId must be a string' }).check(z.regex(TENANT_ID_PATTERN, {
    error: 'tenantId must be 4-32 characters of a-z, 0-9 and "-", start with a letter and not end with "-"',
  })).check(z.refine((id) => !id.includes('--'), { error: 'tenantId must not contain "--"' })).check(z.refine((id) => !RESERVED_TENANT_IDS.has(id), { error: 'tenantId is a reserved word' }));
export type TenantId = z.infer<typeof TenantIdSchema>;

const PortSchema = z.int({ error: 'port must be an integer' }).check(z.gte(1, { error: 'port must be 1-65535' })).check(z.lte(65535, {
  error: 'port must be 1-65535',
}));

/** A port or an inclusive port range, e.g. 443 or {from: 8000, to: 8100}. */
export const PortSpecSchema = z.union([
  PortSchema,
  z.strictObject({ from: PortSchema, to: PortSchema }).check(z.refine((r) => r.from <= r.to, { error: 'port range "from" must not exceed "to"' })),
]);
export type PortSpec = z.infer<typeof PortSpecSchema>;

const DescriptionSchema = z._default(z
  .string().check(z.maxLength(200, { error: 'description must be at most 200 characters' })).check(z.regex(/^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/, { error: 'description has characters EC2 does not accept' })), '');

const PortsSchema = z.array(PortSpecSchema).check(z.minLength(1, { error: 'ports must list at least one port' })).check(z.maxLength(10));

export const CidrRuleSchema = z.strictObject({ cidr: z.string(), ports: PortsSchema, protocol: z._default(z.enum(['tcp', 'udp']), 'tcp'), description: DescriptionSchema });
export const PrefixListRuleSchema = z.strictObject({
    prefixListId: z.string().check(z.regex(/^pl-[0-9a-f]{8,17}$/, { error: 'prefixListId must look like pl-0123abcd' })),
    ports: PortsSchema,
    protocol: z._default(z.enum(['tcp', 'udp']), 'tcp'),
    description: DescriptionSchema,
  });
export const EgressRuleSchema = z.union([CidrRuleSchema, PrefixListRuleSchema]);
export type CidrRule = z.infer<typeof CidrRuleSchema>;
export type PrefixListRule = z.infer<typeof PrefixListRuleSchema>;
export type EgressRule = z.infer<typeof EgressRuleSchema>;

/** The detail of a `TenantSignedUp` event, and the input of a provision run started by hand. */
export const SignupRequestSchema = z.strictObject({
    tenantId: TenantIdSchema,
    displayName: z.string().check(z.trim()).check(z.minLength(1, { error: 'displayName must not be empty' })).check(z.maxLength(120)),
    ownerEmail: z.email({ error: 'ownerEmail must be an email address' }).check(z.maxLength(254)),
    plan: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'plan must be a plan id such as "standard"' })),
    egressAllowlist: z._default(z.array(EgressRuleSchema).check(z.maxLength(50, { error: 'egressAllowlist has more than 50 entries' })), []),
    /**
     * Hosts the tenant may reach through the cell's egress proxy (issue 10): `{host, ports}` or
     * `{preset}` entries, checked against the plan's `egress` bounds and stored expanded (HostRule[]).
     */
    hostAllowlist: z._default(z.array(HostEntryInputSchema).check(z.maxLength(100, { error: 'hostAllowlist has more than 100 entries' })), []),
    /**
     * The tenant's own OIDC provider in front of its endpoint (issue 12; only in a cell with ingress):
     * issuer, endpoints, client id and a reference to the tenant credential secret with the client secret.
     */
    ingressOidc: z.optional(IngressOidcRequestSchema),
    idempotencyKey: z.optional(z.string().check(z.minLength(1)).check(z.maxLength(128))),
  });
export type SignupRequest = z.infer<typeof SignupRequestSchema>;
export type SignupRequestInput = z.input<typeof SignupRequestSchema>;

const PLUGIN_ID = /^[a-z][a-z0-9-]{0,63}$/;
const MODEL_ID = /^[a-zA-Z0-9._:/-]{1,128}$/;

/**
 * A model provider of OpenAI- or Anthropic-compatible API (OpenClaw `models.providers.<id>`): a
 * named vendor (Anthropic, OpenAI) or any compatible base URL (a self-hosted server, a router).
 * `apiKey: "tenant"`: the tenant brings its own key (a tenant credential secret it references, see
 * domain/models.ts); `"none"`: the endpoint needs no key. A plan never carries a key: a key the
 * platform owns would be placed in every tenant's container, where the agent can read it.
 */
export const ModelProviderSchema = z.strictObject({
    id: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'model provider id must be 1-32 of a-z, 0-9 and "-", starting with a letter' })),
    baseUrl: z.url({ protocol: /^https?$/, error: 'model provider baseUrl must be an http(s) URL' }),
    api: z.enum(['openai-completions', 'anthropic-messages']),
    apiKey: z._default(z.enum(['none', 'tenant']), 'none'),
    apiKeySecretArn: z.optional(z
      .never({
        error: 'a plan may not name a provider key (apiKeySecretArn): a platform-owned key would be placed in every tenant container; use apiKey: "tenant" (the tenant brings its own key) or Bedrock (the task role)',
      })),
    models: z.array(z.strictObject({ id: z.string().check(z.regex(MODEL_ID)), name: z.string().check(z.minLength(1)).check(z.maxLength(128)) })).check(z.minLength(1, { error: 'a model provider must list at least one model' })),
  }).check(z.refine((p) => p.id !== 'amazon-bedrock', { error: 'model provider id "amazon-bedrock" is reserved for bedrockModels' }));
export type ModelProvider = z.infer<typeof ModelProviderSchema>;

/** A plan without `egress` bounds lets its tenants allow no host through the proxy. */
export const NO_HOST_EGRESS: EgressPlanBounds = { maxHostRules: 0, allow: { hosts: [], presets: [] }, awsEndpointExceptions: [] };

/** One entry of the plan catalogue (configured in cdk.json context, passed to handlers as JSON). */
export const PlanSchema = z.strictObject({
    id: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/)),
    /** Fargate CPU units: 256 | 512 | 1024 | 2048 | 4096 ... */
    cpu: z.int().check(z.positive()),
    /** MiB; OpenClaw needs at least 2 GiB. */
    memoryMiB: z.int().check(z.gte(2048, { error: 'plan memory must be at least 2048 MiB (OpenClaw crash-loops below 2 GiB)' })),
    /** Image pinned by digest. */
    image: z.string().check(z.regex(/^[a-z0-9.\-/:]+@sha256:[0-9a-f]{64}$/, { error: 'image must be pinned by digest (repo@sha256:...)' })),
    /** Bedrock model ids (or inference-profile ids) this plan may invoke; empty = no Bedrock. Needs the `amazon-bedrock` plugin. */
    bedrockModels: z._default(z.array(z.string().check(z.regex(/^[a-zA-Z0-9.:-]+$/))), []),
    /**
     * Bedrock Guardrail applied to every Bedrock call of the plan's tenants: rendered into the
     * amazon-bedrock plugin's config and enforced by the task role (`bedrock:GuardrailIdentifier`
     * condition: a call without it is denied). @default none
     */
    bedrockGuardrail: z.optional(z.strictObject({
        id: z.string().check(z.regex(/^([a-z0-9]{1,64}|arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:guardrail\/[a-z0-9]+)$/, { error: 'bedrockGuardrail.id must be a guardrail id or ARN' })),
        version: z.string().check(z.regex(/^([1-9][0-9]{0,7}|DRAFT)$/, { error: 'bedrockGuardrail.version must be a version number or "DRAFT"' })),
      })),
    /** Bedrock tokens (input + output) a tenant may use per calendar month (UTC), measured on its inference profiles. @default no budget */
    monthlyTokenBudget: z.optional(z.int().check(z.positive())),
    /** Over the budget: a `TenantBudgetExceeded` event only ("alarm", the default), or also suspend the tenant. */
    overBudgetAction: z.optional(z.enum(['alarm', 'suspend'])),
    /** OpenAI-/Anthropic-compatible model providers (OpenClaw `models.providers`); keyless or tenant-paid. */
    modelProviders: z._default(z.array(ModelProviderSchema), []),
    /**
     * OpenClaw's `plugins.allow` for this plan: exactly the plugins that may load (an empty list
     * would mean "no allowlist" to OpenClaw, so at least one). The plan's image must carry them.
     */
    plugins: z.array(z.string().check(z.regex(PLUGIN_ID, { error: 'plugin ids are 1-64 of a-z, 0-9 and "-"' }))).check(z.minLength(1, { error: 'plugins must list at least one plugin: an empty plugins.allow lets OpenClaw load every plugin it finds' })),
    /**
     * Channel types a tenant on this plan may connect (telegram, slack, discord). A channel's plugin
     * is added to `plugins.allow` only while the tenant has the channel. @default none
     */
    channels: z.optional(z.array(z.enum(BUILTIN_CHANNEL_TYPES as [string, ...string[]], { error: `channels are ${BUILTIN_CHANNEL_TYPES.join(', ')}; other channel plugins go in channelPlugins` }))),
    /** Other channel plugins the plan allows (each with its plugin id, credential fields and egress preset). @default none */
    channelPlugins: z.optional(z.array(ChannelPluginSchema)),
    /** The most allowlist rules (security-group rules after expansion) a tenant on this plan may have. */
    maxAllowlistRules: z.int().check(z.gte(0)).check(z.lte(50)),
    /**
     * What this plan's tenants may allow through the egress proxy (host patterns and presets, or any
     * public host on some ports) and how many host rules. @default NO_HOST_EGRESS: no host may be allowed
     */
    egress: z.optional(EgressPlanBoundsSchema),
    /** Use Fargate Spot capacity. */
    spot: z._default(z.boolean(), false),
    /** EFS usage (GiB) a tenant may reach; measured on a schedule (Usage function). @default no quota */
    efsQuotaGiB: z.optional(z.number().check(z.positive()).check(z.lte(100_000))),
    /** Over the quota: raise the alarm and event only ("alarm", the default), or also suspend the tenant. */
    overQuotaAction: z.optional(z.enum(['alarm', 'suspend'])),
  }).check(z.refine((p) => p.bedrockModels.length + p.modelProviders.reduce((n, m) => n + m.models.length, 0) > 0, {
    error: 'a plan must name at least one model (bedrockModels or modelProviders): without one the gateway falls back to a provider it has no key for and cannot answer',
  })).check(z.refine((p) => p.bedrockModels.length === 0 || p.plugins.includes('amazon-bedrock'), {
    error: 'a plan with bedrockModels must allow the "amazon-bedrock" plugin (and its image must carry it)',
  })).check(z.refine((p) => new Set(p.plugins).size === p.plugins.length, { error: 'plugins must not repeat' })).check(z.refine((p) => p.plugins.every((id) => KNOWN_PLUGINS.has(id)), {
    error: 'plugins names a plugin that neither the pinned OpenClaw release bundles nor the platform knows (see functions/domain/openclaw-release.ts)',
  })).check(z.refine((p) => new Set(p.modelProviders.map((m) => m.id)).size === p.modelProviders.length, { error: 'model provider ids must be unique' })).check(z.refine((p) => (p.bedrockGuardrail === undefined && p.monthlyTokenBudget === undefined) || p.bedrockModels.length > 0, {
    error: 'bedrockGuardrail and monthlyTokenBudget apply to Bedrock: the plan names no bedrockModels',
  })).check(z.refine((p) => new Set([...(p.channels ?? []), ...(p.channelPlugins ?? []).map((c) => c.type)]).size === (p.channels ?? []).length + (p.channelPlugins ?? []).length, {
    error: 'a channel type may appear once in channels and channelPlugins',
  })).check(z.refine((p) => [...(p.channels ?? []).map((t) => (isBuiltinChannel(t) ? BUILTIN_CHANNELS[t].plugin : t)), ...(p.channelPlugins ?? []).map((c) => c.plugin)].every((id) => KNOWN_PLUGINS.has(id)), {
    error: 'a channel names a plugin that the tenant image does not carry (see functions/domain/openclaw-release.ts)',
  }));
export type Plan = z.infer<typeof PlanSchema>;
export const PlanCatalogueSchema = z.array(PlanSchema).check(z.minLength(1));

export const TENANT_STATUSES = [
  'REQUESTED',
  'PROVISIONING',
  'ACTIVE',
  'UPDATING',
  'SUSPENDING',
  'SUSPENDED',
  'RESUMING',
  'FAILED',
  'DEPROVISIONING',
  'DEPROVISIONED',
  'PURGED',
] as const;
export const TenantStatusSchema = z.enum(TENANT_STATUSES);
export type TenantStatus = z.infer<typeof TenantStatusSchema>;

/** Ids and ARNs of everything created for a tenant. Each is set by the step that creates it. */
export const TenantResourcesSchema = z.strictObject({
    securityGroupId: z.optional(z.string()),
    accessPointId: z.optional(z.string()),
    accessPointArn: z.optional(z.string()),
    roleName: z.optional(z.string()),
    roleArn: z.optional(z.string()),
    /** When IAM created the role (its CreateDate): the first registration waits for it to propagate. */
    roleCreatedAt: z.optional(z.string()),
    secretArn: z.optional(z.string()),
    /** The egress-proxy URL secret (issue 10), when the cell has a proxy. */
    proxySecretArn: z.optional(z.string()),
    logGroupName: z.optional(z.string()),
    taskDefinitionArn: z.optional(z.string()),
    previousTaskDefinitionArn: z.optional(z.string()),
    serviceArn: z.optional(z.string()),
    /** The tenant's Bedrock application inference profiles: plan model id → profile ARN. */
    inferenceProfiles: z.optional(z.record(z.string(), z.string())),
  });
export type TenantResources = z.infer<typeof TenantResourcesSchema>;
