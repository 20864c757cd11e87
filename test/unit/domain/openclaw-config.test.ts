import fc from 'fast-check';
import {
  BEDROCK_PROVIDER_ID,
  CHANNEL_HARDENING,
  GATEWAY_TOKEN_ENV,
  OpenClawConfigSchema,
  renderOpenClawConfig,
  serializeOpenClawConfig,
  type OpenClawConfig,
} from '../../../functions/domain/openclaw-config';
import { PlanSchema, type Plan } from '../../../functions/domain/tenant';

const IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'a'.repeat(64)}`;

function plan(overrides: Partial<Plan> = {}): Plan {
  return PlanSchema.parse({ id: 'standard', cpu: 1024, memoryMiB: 2048, image: IMAGE, maxAllowlistRules: 10, ...overrides });
}

const MODELS = ['anthropic.claude-sonnet-4-5-v1:0', 'amazon.nova-lite-v1:0'];

function render(p: Plan = plan(), extra: { gatewayPort?: number; region?: string } = {}): OpenClawConfig {
  return renderOpenClawConfig({ tenantId: 'acme-corp', plan: p, region: extra.region ?? 'eu-west-1', gatewayPort: extra.gatewayPort });
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

  it('denies every tool over the HTTP /tools/invoke endpoint', () => {
    expect(cfg.gateway.tools.deny).toEqual(['*']);
  });

  it('turns mDNS discovery off', () => {
    expect(cfg.discovery.mdns.mode).toBe('off');
  });

  it('uses the messaging tools profile', () => {
    expect(cfg.tools.profile).toBe('messaging');
  });

  it('denies the automation, filesystem, nodes, runtime and UI tool groups', () => {
    expect([...cfg.tools.deny].sort()).toEqual(['group:automation', 'group:fs', 'group:nodes', 'group:runtime', 'group:ui']);
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

  it('disables the /config, /bash and /restart chat commands', () => {
    expect(cfg.commands).toEqual({ config: false, bash: false, restart: false });
  });

  it('allows no plugin when the plan has no Bedrock models', () => {
    expect(cfg.plugins.allow).toEqual([]);
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

describe('renderOpenClawConfig: Bedrock', () => {
  it('configures no model provider and no default model when the plan has no Bedrock models', () => {
    const cfg = render(plan({ bedrockModels: [] }));
    expect(cfg.models).toBeUndefined();
    expect(cfg.agents.defaults.model).toBeUndefined();
  });

  it('configures the amazon-bedrock provider with bedrock-converse-stream when the plan has models', () => {
    const provider = render(plan({ bedrockModels: MODELS })).models?.providers[BEDROCK_PROVIDER_ID];
    expect(provider?.api).toBe('bedrock-converse-stream');
  });

  it('authorises Bedrock through the AWS SDK chain (the task role), with no key in the config', () => {
    const provider = render(plan({ bedrockModels: MODELS })).models?.providers[BEDROCK_PROVIDER_ID];
    expect(provider?.auth).toBe('aws-sdk');
    expect(Object.keys(provider ?? {}).sort()).toEqual(['api', 'auth', 'baseUrl', 'models']);
  });

  it("calls Bedrock in the cell's Region", () => {
    const provider = render(plan({ bedrockModels: MODELS }), { region: 'ap-southeast-2' }).models?.providers[BEDROCK_PROVIDER_ID];
    expect(provider?.baseUrl).toBe('https://bedrock-runtime.ap-southeast-2.amazonaws.com');
  });

  it('refuses a Region name that is not one (it would end up in a URL)', () => {
    expect(() => render(plan({ bedrockModels: MODELS }), { region: 'evil.example.com/x' })).toThrow(RangeError);
  });

  it("lists exactly the plan's models, in order", () => {
    const provider = render(plan({ bedrockModels: MODELS })).models?.providers[BEDROCK_PROVIDER_ID];
    expect(provider?.models).toEqual(MODELS.map((id) => ({ id, name: id })));
  });

  it("makes the plan's first model the default", () => {
    expect(render(plan({ bedrockModels: MODELS })).agents.defaults.model).toEqual({ primary: `amazon-bedrock/${MODELS[0]}` });
  });

  it('allows the Bedrock provider plugin, and only it', () => {
    expect(render(plan({ bedrockModels: MODELS })).plugins.allow).toEqual(['amazon-bedrock']);
  });

  it('keeps every hardened default when Bedrock is on', () => {
    const off = render(plan());
    const on = render(plan({ bedrockModels: MODELS }));
    expect({ ...on, models: undefined, agents: undefined, plugins: undefined }).toEqual({ ...off, models: undefined, agents: undefined, plugins: undefined });
    expect(on.agents.defaults.sandbox).toEqual(off.agents.defaults.sandbox);
    expect(() => OpenClawConfigSchema.parse(on)).not.toThrow();
  });
});

describe('serializeOpenClawConfig', () => {
  it('gives byte-identical text for the same tenant and plan', () => {
    const a = serializeOpenClawConfig(render(plan({ bedrockModels: MODELS })));
    const b = serializeOpenClawConfig(render(plan({ bedrockModels: [...MODELS] })));
    expect(a).toBe(b);
  });

  it('does not depend on the key order of the object it is given', () => {
    const cfg = render(plan({ bedrockModels: MODELS }));
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
    const cfg = render(plan({ bedrockModels: MODELS }));
    expect(OpenClawConfigSchema.parse(JSON.parse(serializeOpenClawConfig(cfg)))).toEqual(cfg);
  });

  it('renders a schema-valid, deterministic config for any plan', () => {
    const modelId = fc.stringMatching(/^[a-zA-Z0-9.:-]{1,40}$/);
    fc.assert(
      fc.property(fc.array(modelId, { maxLength: 5 }), fc.integer({ min: 1, max: 65535 }), (models, port) => {
        const p = plan({ bedrockModels: models });
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
    const text = serializeOpenClawConfig(render(plan({ bedrockModels: MODELS })));
    expect(text).not.toContain(SECRET);
  });

  it('references the token only by its env var name', () => {
    const text = serializeOpenClawConfig(render());
    expect(text).toContain('"id": "OPENCLAW_GATEWAY_TOKEN"');
    expect(text).not.toContain('${');
  });

  it('holds no credential fields (API keys, AWS keys, passwords)', () => {
    const text = serializeOpenClawConfig(render(plan({ bedrockModels: MODELS })));
    expect(text).not.toMatch(/apiKey|password|accessKey|secretKey|sessionToken|AKIA/i);
  });
});
