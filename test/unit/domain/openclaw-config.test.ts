import fc from 'fast-check';
import {
  BEDROCK_PROVIDER_ID,
  CHANNEL_HARDENING,
  COMMANDS,
  GATEWAY_HTTP_DENIED_TOOLS,
  GATEWAY_TOKEN_ENV,
  modelProviderKeyEnv,
  OpenClawConfigSchema,
  renderOpenClawConfig,
  serializeOpenClawConfig,
  type OpenClawConfig,
} from '../../../functions/domain/openclaw-config';
import { PlanSchema, type Plan } from '../../../functions/domain/tenant';

const IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'a'.repeat(64)}`;

const STUB = { id: 'stub', baseUrl: 'http://127.0.0.1:18790/v1', api: 'openai-completions', models: [{ id: 'octw-stub-1', name: 'Stub' }] } as const;

/** A plan with one custom-provider model and the memory plugin; overrides as given. */
function plan(overrides: Partial<Record<keyof Plan, unknown>> = {}): Plan {
  return PlanSchema.parse({ id: 'standard', cpu: 1024, memoryMiB: 2048, image: IMAGE, maxAllowlistRules: 10, modelProviders: [STUB], plugins: ['memory-core'], ...overrides });
}

const MODELS = ['anthropic.claude-sonnet-4-5-v1:0', 'amazon.nova-lite-v1:0'];
const bedrockPlan = (models: string[] = MODELS) => plan({ bedrockModels: models, modelProviders: [], plugins: ['amazon-bedrock', 'memory-core'] });

/** The tenant's application inference profile ARN for the i-th Bedrock model (as the Identity step records them). */
const profileArn = (i: number) => `arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/prof${i}`;
const profilesOf = (p: Plan) => Object.fromEntries(p.bedrockModels.map((m, i) => [m, profileArn(i)]));

function render(p: Plan = plan(), extra: { gatewayPort?: number; region?: string; keyedProviders?: string[] } = {}): OpenClawConfig {
  return renderOpenClawConfig({
    tenantId: 'acme-corp',
    plan: p,
    region: extra.region ?? 'eu-west-1',
    gatewayPort: extra.gatewayPort,
    models: { inferenceProfiles: profilesOf(p), keyedProviders: extra.keyedProviders ?? [] },
  });
}

describe('renderOpenClawConfig: hardened defaults', () => {
  const cfg = render();

  it('matches the strict schema of what the provisioner renders', () => {
    expect(() => OpenClawConfigSchema.parse(cfg)).not.toThrow();
  });

  it('runs the gateway in local mode', () => {
    expect(cfg.gateway.mode).toBe('local');
  });

  it('binds to the LAN so the task ENI is reachable (loopback would be unreachable in awsvpc)', () => {
    expect(cfg.gateway.bind).toBe('lan');
  });

  it('listens on 18789 by default', () => {
    expect(cfg.gateway.port).toBe(18789);
  });

  it('uses the given gateway port when one is passed', () => {
    expect(render(plan(), { gatewayPort: 28789 }).gateway.port).toBe(28789);
  });

  it('refuses a gateway port outside 1-65535', () => {
    expect(() => render(plan(), { gatewayPort: 70000 })).toThrow(RangeError);
  });

  it('authenticates with a token', () => {
    expect(cfg.gateway.auth.mode).toBe('token');
  });

  it('takes the token from OPENCLAW_GATEWAY_TOKEN through an env SecretRef, not ${VAR} interpolation', () => {
    expect(cfg.gateway.auth.token).toEqual({ source: 'env', provider: 'default', id: 'OPENCLAW_GATEWAY_TOKEN' });
  });

  it('rate-limits failed authentication, loopback included', () => {
    expect(cfg.gateway.auth.rateLimit).toEqual({ maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: false });
  });

  it('trusts no browser origin: the Control UI is off and its origin list is empty', () => {
    expect(cfg.gateway.controlUi).toEqual({ enabled: false, allowedOrigins: [] });
  });

  it('never allows a wildcard origin (the schema refuses one)', () => {
    const withWildcard = structuredClone(cfg) as { gateway: { controlUi: { allowedOrigins: string[] } } };
    withWildcard.gateway.controlUi.allowedOrigins = ['*'];
    expect(OpenClawConfigSchema.safeParse(withWildcard).success).toBe(false);
  });

  it('disables the operator terminal (a host shell)', () => {
    expect(cfg.gateway.terminal).toEqual({ enabled: false });
  });

  it('denies tools over the HTTP /tools/invoke endpoint by name (that list takes no "*" nor groups)', () => {
    expect(cfg.gateway.tools.deny).toEqual([...GATEWAY_HTTP_DENIED_TOOLS]);
    expect(cfg.gateway.tools.deny).not.toContain('*');
    expect(cfg.gateway.tools.deny.filter((t) => t.startsWith('group:'))).toEqual([]);
    for (const tool of ['session_status', 'sessions_list', 'sessions_history', 'message', 'memory_search', 'sessions_send', 'sessions_spawn', 'gateway', 'cron', 'exec']) {
      expect(cfg.gateway.tools.deny).toContain(tool);
    }
  });

  it('turns mDNS discovery off', () => {
    expect(cfg.discovery.mdns.mode).toBe('off');
  });

  it('uses the messaging tools profile', () => {
    expect(cfg.tools.profile).toBe('messaging');
  });

  it('denies the automation, filesystem, nodes, runtime and UI tool groups, and sessions_send/sessions_spawn (hardened baseline)', () => {
    expect([...cfg.tools.deny].sort()).toEqual(['group:automation', 'group:fs', 'group:nodes', 'group:runtime', 'group:ui', 'sessions_send', 'sessions_spawn']);
  });

  it("restricts session tools to the caller's own session (default \"all\" reaches other senders' sessions)", () => {
    expect(cfg.tools.sessions).toEqual({ visibility: 'self' });
  });

  it('turns agent-to-agent session access off', () => {
    expect(cfg.tools.agentToAgent).toEqual({ enabled: false });
  });

  it('restricts file tools to the workspace', () => {
    expect(cfg.tools.fs.workspaceOnly).toBe(true);
  });

  it('denies exec with the current key only (tools.exec.mode, never mixed with security/ask)', () => {
    expect(cfg.tools.exec).toEqual({ mode: 'deny' });
  });

  it('turns elevated tools off', () => {
    expect(cfg.tools.elevated.enabled).toBe(false);
  });

  it("turns OpenClaw's own sandbox off: the Fargate task is the boundary and no engine socket exists", () => {
    expect(cfg.agents.defaults.sandbox.mode).toBe('off');
  });

  it('scopes direct-message sessions per channel and peer', () => {
    expect(cfg.session.dmScope).toBe('per-channel-peer');
  });

  it('defaults channel group policy to allowlist', () => {
    expect(cfg.channels.defaults.groupPolicy).toBe('allowlist');
  });

  it('exports per-channel hardening with config writes off, for channels added later', () => {
    expect(CHANNEL_HARDENING).toEqual({ configWrites: false, dmPolicy: 'pairing', groupPolicy: 'allowlist' });
  });

  it('sets every commands.* switch explicitly: text commands on, everything reaching config, shell, MCP, plugins, debug or restart off', () => {
    expect(cfg.commands).toEqual({ native: false, nativeSkills: false, text: true, bash: false, config: false, mcp: false, plugins: false, debug: false, restart: false });
    expect(cfg.commands).toEqual(COMMANDS);
  });

  it("allows exactly the plan's plugins, never an empty list (which OpenClaw reads as no allowlist)", () => {
    expect(cfg.plugins.allow).toEqual(['memory-core']);
    const emptied = structuredClone(cfg) as { plugins: { allow: string[] } };
    emptied.plugins.allow = [];
    expect(OpenClawConfigSchema.safeParse(emptied).success).toBe(false);
  });

  it('turns the hosted model catalogue refresh off (it calls catalog.openclaw.ai at start)', () => {
    expect(cfg.models.catalogRefresh).toEqual({ enabled: false });
  });

  it('turns automatic updates and update checks off', () => {
    expect(cfg.update).toEqual({ checkOnStart: false, auto: { enabled: false } });
  });

  it('turns the audit log on', () => {
    expect(cfg.logging.audit.enabled).toBe(true);
  });

  it('sets no retired dangerous keys', () => {
    const text = serializeOpenClawConfig(cfg);
    expect(text).not.toMatch(/dangerouslyDisableDeviceAuth|allowInsecureAuth|dangerouslyAllowHostHeaderOriginFallback/);
  });
});

describe('renderOpenClawConfig: custom model providers', () => {
  it('renders the provider with its baseUrl, api and models, and makes its first model the default', () => {
    const cfg = render();
    expect(cfg.models.providers).toEqual({ stub: { baseUrl: STUB.baseUrl, api: 'openai-completions', models: [{ id: 'octw-stub-1', name: 'Stub' }] } });
    expect(cfg.agents.defaults.model).toEqual({ primary: 'stub/octw-stub-1' });
  });

  it("references the tenant's own key by env SecretRef once the tenant gave one, and makes that provider the default", () => {
    const byok = plan({ bedrockModels: MODELS, plugins: ['amazon-bedrock', 'memory-core'], modelProviders: [STUB, { ...STUB, id: 'anthropic', api: 'anthropic-messages', baseUrl: 'https://api.anthropic.com', apiKey: 'tenant' }] });
    const without = render(byok);
    expect(without.models.providers.anthropic).not.toHaveProperty('apiKey');
    expect(without.agents.defaults.model.primary).toBe(`amazon-bedrock/${profileArn(0)}`);
    const keyed = render(byok, { keyedProviders: ['anthropic'] });
    expect(keyed.models.providers.anthropic).toMatchObject({ api: 'anthropic-messages', apiKey: { source: 'env', provider: 'default', id: 'OCTW_MODEL_ANTHROPIC_API_KEY' } });
    expect(keyed.agents.defaults.model.primary).toBe('anthropic/octw-stub-1');
    expect(modelProviderKeyEnv('my-router')).toBe('OCTW_MODEL_MY_ROUTER_API_KEY');
  });

  it('gives a key only to a provider that takes a tenant key, whatever the tenant claims', () => {
    const cfg = render(plan(), { keyedProviders: ['stub'] });
    expect(cfg.models.providers.stub).not.toHaveProperty('apiKey');
  });

  it("prefers the plan's Bedrock model (through the tenant's profile) as the default when the plan has both kinds", () => {
    const cfg = render(plan({ bedrockModels: MODELS, plugins: ['amazon-bedrock', 'memory-core'] }));
    expect(cfg.agents.defaults.model.primary).toBe(`amazon-bedrock/${profileArn(0)}`);
    expect(Object.keys(cfg.models.providers).sort()).toEqual(['amazon-bedrock', 'stub']);
  });
});

describe('PlanSchema: a plan the gateway can run', () => {
  const base = { id: 'p', cpu: 1024, memoryMiB: 2048, image: IMAGE, maxAllowlistRules: 10 };

  it('refuses a plan that names no model (the gateway would fall back to a provider it has no key for)', () => {
    const r = PlanSchema.safeParse({ ...base, plugins: ['memory-core'] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/at least one model/);
  });

  it('refuses a plan without plugins: an empty plugins.allow lets every plugin load', () => {
    const r = PlanSchema.safeParse({ ...base, modelProviders: [STUB], plugins: [] });
    expect(r.success).toBe(false);
    expect(PlanSchema.safeParse({ ...base, modelProviders: [STUB] }).success).toBe(false);
  });

  it('refuses a plugin that neither the pinned release bundles nor the platform knows', () => {
    expect(PlanSchema.safeParse({ ...base, modelProviders: [STUB], plugins: ['memory-core', 'totally-unknown'] }).success).toBe(false);
  });

  it('refuses Bedrock models without the amazon-bedrock plugin', () => {
    expect(PlanSchema.safeParse({ ...base, bedrockModels: MODELS, plugins: ['memory-core'] }).success).toBe(false);
  });

  it('refuses a plan that names a provider key: a platform-owned key would reach every tenant container', () => {
    const r = PlanSchema.safeParse({ ...base, modelProviders: [{ ...STUB, apiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:octw/model-keys/router-AbCdEf' }], plugins: ['memory-core'] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/platform-owned key/);
  });

  it('refuses a guardrail or token budget on a plan without Bedrock', () => {
    expect(PlanSchema.safeParse({ ...base, modelProviders: [STUB], plugins: ['memory-core'], monthlyTokenBudget: 1000 }).success).toBe(false);
    expect(PlanSchema.safeParse({ ...base, modelProviders: [STUB], plugins: ['memory-core'], bedrockGuardrail: { id: 'abc', version: '1' } }).success).toBe(false);
    expect(PlanSchema.safeParse({ ...base, bedrockModels: MODELS, plugins: ['amazon-bedrock'], bedrockGuardrail: { id: 'abc', version: 'latest' } }).success).toBe(false);
  });

  it('refuses a custom provider named amazon-bedrock, a non-http(s) baseUrl, or a provider with no model', () => {
    expect(PlanSchema.safeParse({ ...base, modelProviders: [{ ...STUB, id: 'amazon-bedrock' }], plugins: ['memory-core'] }).success).toBe(false);
    expect(PlanSchema.safeParse({ ...base, modelProviders: [{ ...STUB, baseUrl: 'file:///etc/passwd' }], plugins: ['memory-core'] }).success).toBe(false);
    expect(PlanSchema.safeParse({ ...base, modelProviders: [{ ...STUB, models: [] }], plugins: ['memory-core'] }).success).toBe(false);
  });
});

describe('renderOpenClawConfig: Bedrock', () => {

  it('configures the amazon-bedrock provider with bedrock-converse-stream when the plan has models', () => {
    const provider = render(bedrockPlan()).models.providers[BEDROCK_PROVIDER_ID];
    expect(provider?.api).toBe('bedrock-converse-stream');
  });

  it('authorises Bedrock through the AWS SDK chain (the task role), with no key in the config', () => {
    const provider = render(bedrockPlan()).models.providers[BEDROCK_PROVIDER_ID];
    expect(provider && 'auth' in provider ? provider.auth : undefined).toBe('aws-sdk');
    expect(Object.keys(provider ?? {}).sort()).toEqual(['api', 'auth', 'baseUrl', 'models']);
  });

  it("calls Bedrock in the cell's Region", () => {
    const provider = render(bedrockPlan(), { region: 'ap-southeast-2' }).models.providers[BEDROCK_PROVIDER_ID];
    expect(provider?.baseUrl).toBe('https://bedrock-runtime.ap-southeast-2.amazonaws.com');
  });

  it('refuses a Region name that is not one (it would end up in a URL)', () => {
    expect(() => render(bedrockPlan(), { region: 'evil.example.com/x' })).toThrow(RangeError);
  });

  it("lists exactly the plan's models, in order, each addressed by the tenant's own inference profile", () => {
    const provider = render(bedrockPlan()).models.providers[BEDROCK_PROVIDER_ID];
    expect(provider?.models).toEqual(MODELS.map((id, i) => ({ id: profileArn(i), name: id })));
  });

  it('refuses to render Bedrock for a tenant without a profile for every plan model (the role could not invoke it)', () => {
    const p = bedrockPlan();
    expect(() => renderOpenClawConfig({ tenantId: 'acme-corp', plan: p, region: 'eu-west-1', models: { inferenceProfiles: { [MODELS[0]!]: profileArn(0) } } })).toThrow(/no inference profile for amazon.nova-lite-v1:0/);
    expect(() => renderOpenClawConfig({ tenantId: 'acme-corp', plan: p, region: 'eu-west-1' })).toThrow(RangeError);
  });

  it("does not render the plan's guardrail into the amazon-bedrock plugin's config (its schema takes no such key); IAM enforces it", () => {
    const guarded = plan({ bedrockModels: MODELS, modelProviders: [], plugins: ['amazon-bedrock'], bedrockGuardrail: { id: 'gr1', version: '2' } });
    const cfg = render(guarded);
    expect(cfg.plugins).not.toHaveProperty('entries');
    expect(serializeOpenClawConfig(cfg)).not.toMatch(/guardrail|gr1/);
    // The same config as without a guardrail: only the role policy differs (test/unit/adapters/task-roles.test.ts).
    expect(cfg).toEqual(render(plan({ ...guarded, bedrockGuardrail: undefined })));
  });

  it("makes the plan's first model (its tenant profile) the default", () => {
    expect(render(bedrockPlan()).agents.defaults.model).toEqual({ primary: `amazon-bedrock/${profileArn(0)}` });
  });

  it("allows the plan's plugins, the Bedrock provider among them", () => {
    expect(render(bedrockPlan()).plugins.allow).toEqual(['amazon-bedrock', 'memory-core']);
  });

  it('keeps every hardened default when Bedrock is on', () => {
    const off = render(plan());
    const on = render(bedrockPlan());
    expect({ ...on, models: undefined, agents: undefined, plugins: undefined }).toEqual({ ...off, models: undefined, agents: undefined, plugins: undefined });
    expect(on.agents.defaults.sandbox).toEqual(off.agents.defaults.sandbox);
    expect(() => OpenClawConfigSchema.parse(on)).not.toThrow();
  });
});

describe('serializeOpenClawConfig', () => {
  it('gives byte-identical text for the same tenant and plan', () => {
    const a = serializeOpenClawConfig(render(bedrockPlan()));
    const b = serializeOpenClawConfig(render(bedrockPlan([...MODELS])));
    expect(a).toBe(b);
  });

  it('does not depend on the key order of the object it is given', () => {
    const cfg = render(bedrockPlan());
    const reversed = JSON.parse(JSON.stringify(cfg), function (this: unknown, _k: string, v: unknown) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      return Object.fromEntries(Object.entries(v).reverse());
    }) as OpenClawConfig;
    expect(serializeOpenClawConfig(reversed)).toBe(serializeOpenClawConfig(cfg));
  });

  it('writes keys in sorted order with a trailing newline', () => {
    const text = serializeOpenClawConfig(render());
    expect(text.endsWith('}\n')).toBe(true);
    const topKeys = [...text.matchAll(/^ {2}"([^"]+)":/gm)].map((m) => m[1]);
    expect(topKeys).toEqual([...topKeys].sort());
  });

  it('round-trips through JSON.parse to the rendered object', () => {
    const cfg = render(bedrockPlan());
    expect(OpenClawConfigSchema.parse(JSON.parse(serializeOpenClawConfig(cfg)))).toEqual(cfg);
  });

  it('renders a schema-valid, deterministic config for any plan', () => {
    const modelId = fc.stringMatching(/^[a-zA-Z0-9.:-]{1,40}$/);
    fc.assert(
      fc.property(fc.array(modelId, { maxLength: 5 }), fc.integer({ min: 1, max: 65535 }), (models, port) => {
        const p = plan({ bedrockModels: models, plugins: ['amazon-bedrock', 'memory-core'] });
        const cfg = render(p, { gatewayPort: port });
        expect(OpenClawConfigSchema.safeParse(cfg).success).toBe(true);
        expect(serializeOpenClawConfig(render(p, { gatewayPort: port }))).toBe(serializeOpenClawConfig(cfg));
      }),
    );
  });
});

describe('renderOpenClawConfig: no secrets', () => {
  const SECRET = 'f3a9c0ffee1234567890abcdef1234567890abcd';
  const previous = process.env[GATEWAY_TOKEN_ENV];

  beforeAll(() => {
    process.env[GATEWAY_TOKEN_ENV] = SECRET;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env[GATEWAY_TOKEN_ENV];
    else process.env[GATEWAY_TOKEN_ENV] = previous;
  });

  it('never contains the token value, even when it is in the environment', () => {
    const text = serializeOpenClawConfig(render(bedrockPlan()));
    expect(text).not.toContain(SECRET);
  });

  it('references the token only by its env var name', () => {
    const text = serializeOpenClawConfig(render());
    expect(text).toContain('"id": "OPENCLAW_GATEWAY_TOKEN"');
    expect(text).not.toContain('${');
  });

  it('holds no credential fields (API keys, AWS keys, passwords)', () => {
    const text = serializeOpenClawConfig(render(bedrockPlan()));
    expect(text).not.toMatch(/apiKey|password|accessKey|secretKey|sessionToken|AKIA/i);
  });
});
