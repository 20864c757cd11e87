/**
 * The gateway's `openclaw.json`, rendered by the provisioner as a pure function of tenant + plan.
 * The task mounts it read-only (OPENCLAW_CONFIG_PATH), so the agent cannot rewrite it.
 *
 * Pure domain code: no AWS SDK imports.
 *
 * Sources for the key names (checked 2026 era, openclaw/openclaw `src/config`):
 * - `gateway.{mode,bind,port,auth.{mode,token,rateLimit},controlUi.{enabled,allowedOrigins},tools.deny}`,
 *   `discovery.mdns.mode`, `update.{checkOnStart,auto.enabled}`, `plugins.allow`,
 *   `channels.defaults.groupPolicy`: src/config/zod-schema.ts (OpenClawSchema).
 * - `tools.{profile,deny,fs.workspaceOnly,exec.mode,elevated.enabled}`, `agents.defaults.sandbox.mode`:
 *   src/config/zod-schema.agent-runtime.ts (`tools.exec.mode` is the current key; it may not be
 *   combined with the older `tools.exec.security` / `tools.exec.ask`).
 * - `session.dmScope`, `commands.{config,bash,restart}`: src/config/zod-schema.session.ts.
 * - SecretRef `{ source: "env", provider: "default", id }`: src/config/types.secrets.ts and
 *   docs.openclaw.ai/gateway/secrets/secretref-contract; `gateway.auth.token` is on the supported
 *   SecretRef surface (docs.openclaw.ai/reference/secretref-credential-surface).
 * - Bedrock provider `amazon-bedrock`, `api: "bedrock-converse-stream"`, `auth: "aws-sdk"`,
 *   `baseUrl`, `models[{id,name}]`, `agents.defaults.model.primary: "amazon-bedrock/<id>"`:
 *   docs/providers/bedrock.md and the models provider schema (model `id` and `name` required).
 * - Tool groups (`group:runtime`, `group:fs`, `group:automation`, `group:nodes`, `group:ui`) and
 *   profiles (`minimal` = session_status only; `messaging` = group:messaging + own-session tools):
 *   docs.openclaw.ai/tools.
 * Every key is checked against the pinned release (functions/domain/openclaw-release.ts) by
 * `npm run conformance`: `openclaw config validate` (strict schema), `openclaw security audit`, and a
 * real gateway started from the registered task definition. Hardened baseline adopted from the
 * release's docs/gateway/security/hardened-baseline.md: `tools.sessions.visibility`,
 * `tools.agentToAgent.enabled: false`, `sessions_send`/`sessions_spawn` denied; every boolean
 * `commands.*` switch of the release's schema set explicitly; `models.catalogRefresh.enabled: false`
 * (else the gateway fetches catalog.openclaw.ai at start).
 */
import * as z from '../shared/zod';
import { CHANNEL_HARDENING, renderChannels, type TenantChannel } from './channels';
import { canonicalJson } from './config-hash';
import { modelProviderKeyEnv } from './models';
import { IMAGE_APP_DIR as APP_DIR, PACKAGED_PLUGINS } from './openclaw-release';
import { GATEWAY_PORT } from './naming';
import { ingressGatewayKeys } from './ingress';
import type { Plan, TenantId } from './tenant';

export { modelProviderKeyEnv } from './models';

/** Env var the gateway reads its token from; ECS injects it from the tenant's secret. */
export const GATEWAY_TOKEN_ENV = 'OPENCLAW_GATEWAY_TOKEN';

/**
 * The token as a SecretRef (resolved at activation into memory, never written back to disk),
 * not `${OPENCLAW_GATEWAY_TOKEN}` interpolation, which upgrades and doctor runs have been seen
 * to persist as plaintext.
 */
export const GATEWAY_TOKEN_REF = { source: 'env', provider: 'default', id: GATEWAY_TOKEN_ENV } as const;

/**
 * `messaging`, not `minimal`: a tenant gateway exists to converse over its channels, and
 * `minimal` (session_status only) takes away the message tool. Everything `messaging` adds acts
 * inside this tenant's own gateway (its sessions, its channels), which is the trust boundary;
 * the deny list below removes the groups that reach the host or the network beyond it.
 */
export const TOOLS_PROFILE = 'messaging';

/**
 * Tool groups and tools denied regardless of profile (deny wins over allow and profile). The two
 * session tools are OpenClaw's hardened baseline: sending into and spawning other sessions.
 */
export const DENIED_TOOL_GROUPS = ['group:automation', 'group:fs', 'group:nodes', 'group:runtime', 'group:ui', 'sessions_send', 'sessions_spawn'] as const;

/**
 * Denied over the gateway's HTTP `POST /tools/invoke`, by exact name: that list takes neither `"*"`
 * nor `group:*` (the pinned release compares normalized tool names; with `deny: ["*"]` the token
 * holder could still invoke sessions_list, session_status and message). Every built-in tool of the
 * release's tool groups and profiles (docs gateway/config-tools/tool-policy.md); the conformance
 * suite checks that the running gateway refuses them.
 */
export const GATEWAY_HTTP_DENIED_TOOLS = [
  'agents_list', 'apply_patch', 'ask_user', 'automations', 'bash', 'browser', 'canvas', 'code_execution',
  'computer', 'conversations_list', 'conversations_send', 'conversations_turn', 'create_goal', 'cron',
  'dashboard', 'dismiss_task', 'edit', 'exec', 'gateway', 'get_goal', 'heartbeat_respond', 'image_generate',
  'memory_get', 'memory_search', 'message', 'music_generate', 'nodes', 'openclaw', 'pdf', 'plugins',
  'portal', 'process', 'progress_card', 'read', 'screen', 'session_status', 'sessions', 'sessions_history',
  'sessions_list', 'sessions_search', 'sessions_send', 'sessions_spawn', 'sessions_yield', 'show_widget',
  'skill_workshop', 'subagents', 'suggest_task', 'terminal', 'theme', 'tts', 'update_goal', 'video_generate',
  'view_image', 'web_fetch', 'web_search', 'write', 'x_search',
] as const;

/**
 * Every boolean switch under `commands` in the pinned release's schema, set explicitly. Text
 * commands (/new, /status, ...) stay on: they are how a channel user steers their own session;
 * native (menu) registration and skill commands are off; everything that reaches config, shell,
 * MCP, plugins, debug overrides or restarts is off.
 */
export const COMMANDS = {
  native: false,
  nativeSkills: false,
  text: true,
  bash: false,
  config: false,
  mcp: false,
  plugins: false,
  debug: false,
  restart: false,
} as const;

/** The bundled plugin that provides the Bedrock model provider. */
export const BEDROCK_PROVIDER_ID = 'amazon-bedrock';

/**
 * Settings every channel entry carries (functions/domain/channels.ts): OpenClaw has no global
 * `configWrites` key (it is per channel, default on), so it is set per channel.
 */
export { CHANNEL_HARDENING };

/**
 * A rendered `channels.<type>` entry: the hardening is required (literal values), credentials only
 * as SecretRefs (a string credential would be a value in the config); the rest is type-specific.
 */
const RenderedChannelSchema = z.catchall(z
  .object({
    enabled: z.literal(true),
    configWrites: z.literal(false),
    dmPolicy: z.literal('pairing'),
    groupPolicy: z.literal('allowlist'),
  }), z.unknown()).check(z.superRefine((entry, ctx) => {
    for (const key of ['botToken', 'appToken', 'token', 'userToken', 'signingSecret']) {
      const v = (entry as Record<string, unknown>)[key];
      if (v !== undefined && !SecretRefSchema.safeParse(v).success) ctx.addIssue({ code: 'custom', path: [key], message: `${key} must be a SecretRef, never a value` });
    }
  }));

const SecretRefSchema = z.strictObject({ source: z.literal('env'), provider: z.literal('default'), id: z.string().check(z.regex(/^[A-Z][A-Z0-9_]{0,127}$/)) });

const BedrockModelSchema = z.strictObject({ id: z.string().check(z.minLength(1)), name: z.string().check(z.minLength(1)) });

const BedrockProviderSchema = z.strictObject({
    baseUrl: z.url(),
    api: z.literal('bedrock-converse-stream'),
    auth: z.literal('aws-sdk'),
    models: z.array(BedrockModelSchema).check(z.minLength(1)),
  });

const CustomProviderSchema = z.strictObject({
    baseUrl: z.url(),
    api: z.enum(['openai-completions', 'anthropic-messages']),
    apiKey: z.optional(SecretRefSchema),
    models: z.array(BedrockModelSchema).check(z.minLength(1)),
  });

/** Exactly the shape this module renders (strict: an unexpected key is a test failure). */
export const OpenClawConfigSchema = z.strictObject({
    gateway: z.strictObject({
        mode: z.literal('local'),
        bind: z.literal('lan'),
        port: z.int().check(z.gte(1)).check(z.lte(65535)),
        auth: z.strictObject({
            mode: z.literal('token'),
            token: SecretRefSchema,
            rateLimit: z.strictObject({ maxAttempts: z.int().check(z.positive()), windowMs: z.int().check(z.positive()), lockoutMs: z.int().check(z.positive()), exemptLoopback: z.boolean() }),
          }),
        /** Issue 12: the ingress subnets (the ALB nodes), so the auth rate limiter sees real client addresses. */
        trustedProxies: z.optional(z.array(z.cidrv4().check(z.refine((c) => !c.endsWith('/0'), { error: 'trustedProxies must never trust every address' }))).check(z.minLength(1))),
        controlUi: z.strictObject({
            enabled: z.boolean(),
            allowedOrigins: z.array(z.string().check(z.refine((o) => o !== '*' && !o.includes('*'), { error: 'allowedOrigins must never contain a wildcard' }))),
          }),
        terminal: z.strictObject({ enabled: z.literal(false) }),
        tools: z.strictObject({ deny: z.array(z.string()).check(z.minLength(1)) }),
      }),
    discovery: z.strictObject({ mdns: z.strictObject({ mode: z.literal('off') }) }),
    tools: z.strictObject({
        profile: z.enum(['minimal', 'messaging']),
        deny: z.array(z.string()),
        fs: z.strictObject({ workspaceOnly: z.literal(true) }),
        exec: z.strictObject({ mode: z.literal('deny') }),
        elevated: z.strictObject({ enabled: z.literal(false) }),
        sessions: z.strictObject({ visibility: z.literal('self') }),
        agentToAgent: z.strictObject({ enabled: z.literal(false) }),
      }),
    agents: z.strictObject({
        defaults: z.strictObject({
            sandbox: z.strictObject({ mode: z.literal('off') }),
            model: z.strictObject({ primary: z.string().check(z.minLength(1)) }),
          }),
      }),
    session: z.strictObject({ dmScope: z.literal('per-channel-peer') }),
    channels: z.catchall(z
      .object({ defaults: z.strictObject({ groupPolicy: z.literal('allowlist') }) }), z.unknown()).check(z.superRefine((channels, ctx) => {
        for (const [type, entry] of Object.entries(channels)) {
          if (type === 'defaults') continue;
          const r = RenderedChannelSchema.safeParse(entry);
          if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [type, ...issue.path] });
        }
      })),
    commands: z.strictObject({
        native: z.literal(false),
        nativeSkills: z.literal(false),
        text: z.literal(true),
        bash: z.literal(false),
        config: z.literal(false),
        mcp: z.literal(false),
        plugins: z.literal(false),
        debug: z.literal(false),
        restart: z.literal(false),
      }),
    // Non-empty: OpenClaw reads an empty allow list as "no allowlist" (every plugin it finds loads).
    plugins: z.strictObject({
        allow: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
        // Image paths of packaged (npm) plugins: selected in config, they outrank any copy in the state dir.
        load: z.optional(z.strictObject({ paths: z.array(z.string().check(z.startsWith(`${APP_DIR}/node_modules/`))).check(z.minLength(1)) })),
      }),
    update: z.strictObject({ checkOnStart: z.literal(false), auto: z.strictObject({ enabled: z.literal(false) }) }),
    logging: z.strictObject({ audit: z.strictObject({ enabled: z.literal(true) }) }),
    models: z.strictObject({
        catalogRefresh: z.strictObject({ enabled: z.literal(false) }),
        providers: z.record(z.string(), z.union([BedrockProviderSchema, CustomProviderSchema])),
      }),
  });
export type OpenClawConfig = z.infer<typeof OpenClawConfigSchema>;

/** The tenant's side of its models: what the platform created or verified for it. */
export interface TenantModels {
  /** Plan Bedrock model id → ARN of the tenant's application inference profile for it (Identity step). */
  inferenceProfiles?: Readonly<Record<string, string>>;
  /** Plan providers (`apiKey: "tenant"`) for which the tenant's own key is injected (verified credential). */
  keyedProviders?: readonly string[];
}

export interface RenderOpenClawConfigInput {
  tenantId: TenantId;
  plan: Plan;
  /** AWS Region of the cell; Bedrock is called in this Region (through its VPC endpoint). */
  region: string;
  /** Defaults to 18789; the container command's `--port` must match. */
  gatewayPort?: number;
  /** Required when the plan names Bedrock models: the gateway calls only the tenant's own profiles. */
  models?: TenantModels;
  /** The tenant's channels (references only); each becomes `channels.<type>` and adds its plugin. */
  channels?: readonly TenantChannel[];
  /** The cell's ingress (issue 12), when it has one: the tenant is reached at https://<tenant>.<domain> through proxies in these CIDRs. */
  ingress?: { readonly domain: string; readonly ingressCidrs: readonly string[] };
}

/**
 * Ingress keys of `gateway` (issue 12; contract 3, owned by ingress): behind the cell's ingress the
 * gateway trusts the ingress subnets as proxies (X-Forwarded-For from the ALB gives the client
 * address to OpenClaw's auth rate limiter) and its Control UI accepts exactly one browser origin,
 * the tenant's own `https://<tenant>.<domain>`. Token auth is untouched: nothing here changes
 * `gateway.auth`. Without ingress the Control UI stays off with no origin.
 */
export function ingressGatewayConfig(
  tenantId: TenantId,
  ingress: RenderOpenClawConfigInput['ingress'],
): Pick<OpenClawConfig['gateway'], 'controlUi'> & { trustedProxies?: string[] } {
  if (!ingress) return { controlUi: { enabled: false, allowedOrigins: [] } };
  const keys = ingressGatewayKeys(tenantId, { domain: ingress.domain, ingressCidrs: [...ingress.ingressCidrs] });
  return { trustedProxies: keys.trustedProxies, controlUi: { enabled: true, allowedOrigins: [...keys.controlUi.allowedOrigins] } };
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * `provider/model` of the tenant's default model: a provider the tenant brought its own key for
 * (it pays, it chose), else the plan's first Bedrock model (through the tenant's profile), else the
 * first keyless provider, else the first provider that takes a tenant key (none given yet).
 */
export function primaryModel(plan: Plan, models: TenantModels = {}): string {
  const keyed = plan.modelProviders.find((p) => models.keyedProviders?.includes(p.id));
  if (keyed) return `${keyed.id}/${keyed.models[0]!.id}`;
  const [bedrock] = plan.bedrockModels;
  if (bedrock) return `${BEDROCK_PROVIDER_ID}/${models.inferenceProfiles?.[bedrock] ?? bedrock}`;
  const provider = plan.modelProviders.find((p) => p.apiKey === 'none') ?? plan.modelProviders[0];
  const [model] = provider?.models ?? [];
  if (!provider || !model) throw new RangeError(`plan "${plan.id}" names no model: the gateway could not answer`);
  return `${provider.id}/${model.id}`;
}

/**
 * The models part of `openclaw.json` (contract 3: owned by the models work): `models.providers`,
 * the default model (the plan's guardrail is enforced by IAM, not rendered). Bedrock models are addressed by the
 * tenant's application inference profile ARN (OpenClaw accepts a profile ARN as a Bedrock model
 * ref, docs/providers/bedrock.md), so every call is attributed to the tenant and the task role,
 * scoped to those ARNs, refuses any other model. Keys are SecretRefs to env vars ECS injects.
 */
export function renderModels(input: RenderOpenClawConfigInput): {
  models: OpenClawConfig['models'];
  primary: string;
} {
  const { plan } = input;
  const tenantModels = input.models ?? {};
  const providers: OpenClawConfig['models']['providers'] = {};
  if (plan.bedrockModels.length > 0) {
    if (!REGION.test(input.region)) throw new RangeError(`region "${input.region}" is not an AWS Region name`);
    const missing = plan.bedrockModels.filter((m) => !tenantModels.inferenceProfiles?.[m]);
    if (missing.length > 0) {
      throw new RangeError(`tenant "${input.tenantId}" has no inference profile for ${missing.join(', ')}: the task role may invoke Bedrock only through the tenant's profiles`);
    }
    providers[BEDROCK_PROVIDER_ID] = {
      // The standard Regional hostname; with the cell's interface endpoint (private DNS on)
      // it resolves to the endpoint, so inference never leaves the VPC.
      baseUrl: `https://bedrock-runtime.${input.region}.amazonaws.com`,
      api: 'bedrock-converse-stream',
      // Default AWS SDK credential chain = the ECS task role; no key in the config.
      auth: 'aws-sdk',
      models: plan.bedrockModels.map((id) => ({ id: tenantModels.inferenceProfiles![id]!, name: id })),
    };
  }
  for (const p of plan.modelProviders) {
    const keyed = p.apiKey === 'tenant' && (tenantModels.keyedProviders ?? []).includes(p.id);
    providers[p.id] = {
      baseUrl: p.baseUrl,
      api: p.api,
      ...(keyed ? { apiKey: { source: 'env' as const, provider: 'default' as const, id: modelProviderKeyEnv(p.id) } } : {}),
      models: p.models.map((m) => ({ id: m.id, name: m.name })),
    };
  }
  // The plan's Bedrock guardrail is NOT rendered: the amazon-bedrock plugin's config schema
  // (openclaw.plugin.json: additionalProperties false, no `guardrail` key in every published version
  // we could read) would reject it, and a rejected config stops the gateway. The guardrail is
  // enforced by IAM alone (functions/adapters/task-roles.ts: every InvokeModel*/Converse* must carry
  // bedrock:GuardrailIdentifier = the plan's guardrail), so a call without it is denied: closed.
  return {
    models: { catalogRefresh: { enabled: false }, providers },
    primary: primaryModel(plan, tenantModels),
  };
}

/**
 * Renders the hardened `openclaw.json` for a tenant. Pure: the same input gives an equal object
 * (and, through `serializeOpenClawConfig`, byte-identical text). Holds no secret: the gateway
 * token and any model-provider key are referenced by env var, Bedrock is authorised by the task
 * role through the AWS SDK.
 */
export function renderOpenClawConfig(input: RenderOpenClawConfigInput): OpenClawConfig {
  const port = input.gatewayPort ?? GATEWAY_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`gatewayPort ${port} is not a port 1-65535`);
  const { plan } = input;
  if (plan.plugins.length === 0) throw new RangeError(`plan "${plan.id}" allows no plugin: an empty plugins.allow means "no allowlist" to OpenClaw`);
  const models = renderModels(input);

  const channels = renderChannelsPart(input.channels ?? [], plan);

  return {
    gateway: {
      mode: 'local',
      bind: 'lan',
      port,
      auth: {
        mode: 'token',
        token: { ...GATEWAY_TOKEN_REF },
        // OpenClaw's defaults (10 failures per minute, 5 minutes lockout) made explicit; loopback
        // is not exempt: inside the task only the gateway and its init container use it.
        rateLimit: { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: false },
      },
      // Without ingress no browser origin is trusted: the Control UI (which can edit config) is
      // off, and the origin list is empty, never "*". With ingress: exactly the tenant's origin.
      ...ingressGatewayConfig(input.tenantId, input.ingress),
      terminal: { enabled: false },
      // Nothing may be invoked through the HTTP /tools/invoke endpoint (conformance checks it).
      tools: { deny: [...GATEWAY_HTTP_DENIED_TOOLS] },
    },
    discovery: { mdns: { mode: 'off' } },
    tools: {
      profile: TOOLS_PROFILE,
      deny: [...DENIED_TOOL_GROUPS],
      fs: { workspaceOnly: true },
      exec: { mode: 'deny' },
      elevated: { enabled: false },
      // A session's tools reach only that session: with dmScope per-channel-peer, every sender has
      // their own session, and the default ("all") would let one read and steer another's.
      sessions: { visibility: 'self' },
      agentToAgent: { enabled: false },
    },
    agents: {
      // The Fargate task is the sandbox: OpenClaw's Docker/Podman backends would need an engine socket.
      defaults: { sandbox: { mode: 'off' }, model: { primary: models.primary } },
    },
    session: { dmScope: 'per-channel-peer' },
    channels: { defaults: { groupPolicy: CHANNEL_HARDENING.groupPolicy }, ...channels.entries },
    commands: { ...COMMANDS },
    plugins: channels.plugins,
    update: { checkOnStart: false, auto: { enabled: false } },
    logging: { audit: { enabled: true } },
    models: models.models,
  };
}

/**
 * The channel part (contract 3, owner: channels): `channels.<type>` entries with the hardening and
 * SecretRefs, and `plugins.allow` = the plan's plugins plus each channel's plugin (removed with the
 * channel), with `plugins.load.paths` naming the image's copy of every packaged (npm) plugin allowed.
 */
export function renderChannelsPart(channels: readonly TenantChannel[], plan: Plan): { entries: Record<string, z.infer<typeof RenderedChannelSchema>>; plugins: OpenClawConfig['plugins'] } {
  const { entries, plugins } = renderChannels(channels, plan);
  const allow = [...plan.plugins, ...plugins.filter((p) => !plan.plugins.includes(p))];
  const paths = allow.filter((p) => Object.hasOwn(PACKAGED_PLUGINS, p)).map((p) => `${APP_DIR}/node_modules/${PACKAGED_PLUGINS[p] as string}`);
  return {
    entries: entries as Record<string, z.infer<typeof RenderedChannelSchema>>,
    plugins: { allow, ...(paths.length > 0 ? { load: { paths } } : {}) },
  };
}

/** The file's text: keys sorted at every depth, 2-space indent, trailing newline. */
export function serializeOpenClawConfig(cfg: OpenClawConfig): string {
  return `${canonicalJson(cfg, 2)}\n`;
}
