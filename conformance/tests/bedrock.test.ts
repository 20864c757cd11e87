/**
 * A tenant on a plan with Bedrock and a Telegram channel (issue 11, done-when), with the real OpenClaw:
 * the task definition and openclaw.json the platform renders (Bedrock through the tenant's
 * application inference profile, Telegram with its token by SecretRef, the plugin-init container),
 * started as ECS would start it.
 *
 * What this file PROVES, with the real OpenClaw 2026.9.6:
 * - the rendered config passes `openclaw config validate`; its only warning, while the package set
 *   lacks the Bedrock provider plugin, is the accepted "plugins.allow: plugin not installed:
 *   amazon-bedrock" (the plan's guardrail is not rendered: IAM enforces it, see renderModels);
 * - `openclaw security audit`: no critical finding, every warning accepted with a reason;
 * - started, the gateway logs exactly the recorded known failure (a run-time install of the missing
 *   provider, refused), and what it does next is reported: exit non-zero (seen under load) or stay up
 *   with Telegram and no Bedrock provider (seen on an idle host, healthy).
 *
 * What it does NOT prove (the known gap, `knownGaps` in conformance/accepted-findings.json): that a
 * Bedrock model answers, or that the gateway starts healthy WITH the provider. The provider plugin
 * (`@openclaw/amazon-bedrock-provider`, plugin id `amazon-bedrock`) is not bundled in 2026.9.6 and not
 * on npm (every name 404s); it is published on ClawHub only. image/Dockerfile installs it from ClawHub
 * at image build with OpenClaw's own installer (not built here: no container engine, no network but
 * npm). Code fetched from public repositories may not be committed or built into the package set,
 * and CI reaches neither ClawHub nor GitHub. The day the package set carries the provider, the start
 * test below switches to "starts healthy and stays healthy" and asks for the gap entry's removal.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TenantChannel } from '../../functions/domain/channels';
import { PLUGIN_INIT_CONTAINER } from '../../functions/domain/plugin-install-records';
import { PlanCatalogueSchema, type Plan } from '../../functions/domain/tenant';
import { LOCAL_PLANS } from '../../test/local-cloud/env';
import { launchGateway, type GatewayHandle } from '../lib/launch-gateway';
import { OPENCLAW_APP_DIR } from '../lib/paths';
import { accepted, audit, POSIX_USER, recordTiming, SECRET_ARN, taskDefinitionFor, validate } from '../lib/support';

const TOKEN = 'b'.repeat(48);
const TELEGRAM_TOKEN = '7000000002:AAconformance-not-a-real-telegram-token';
const TELEGRAM_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:octw/tenants/local/conformance/credentials/telegram-bot-token-AbCdEf';
const HEALTH_BUDGET_MS = 180_000;
const STAY_HEALTHY_MS = 30_000;
/** How long a gateway without the provider is given to fail (observed: exit after 100-180 s on a loaded host). */
const FAILURE_BUDGET_MS = 420_000;

const offline = LOCAL_PLANS.find((p) => p.id === 'offline')!;
const plan: Plan = PlanCatalogueSchema.parse([
  { ...offline, id: 'bedrock-telegram', bedrockModels: ['anthropic.claude-sonnet-4-5-20250929-v1:0'], modelProviders: [], plugins: ['amazon-bedrock', 'memory-core'], channels: ['telegram'] },
])[0]!;
const TELEGRAM: TenantChannel = { type: 'telegram', settings: { allowFrom: ['123456789'], groups: [] }, credentials: { botToken: { secretArn: TELEGRAM_ARN } } };
const td = taskDefinitionFor(plan, 'conformance', [TELEGRAM]);
const secrets = { [SECRET_ARN]: TOKEN, [TELEGRAM_ARN]: TELEGRAM_TOKEN };

/** Whether the installed package set carries the Bedrock provider plugin. */
const PROVIDER_PRESENT = existsSync(join(OPENCLAW_APP_DIR, 'node_modules', '@openclaw', 'amazon-bedrock-provider', 'openclaw.plugin.json'));
const gap = () => ((accepted() as { knownGaps?: { id: string; plugin: string; expectedFailure: string }[] }).knownGaps ?? []).find((g) => g.plugin === 'amazon-bedrock');

describe('a Bedrock + Telegram tenant, config checks', () => {
  let gw: GatewayHandle;
  beforeAll(async () => {
    gw = await launchGateway(td, { secrets, posixUser: POSIX_USER, startGateway: false, id: `bedrock-cfg-${process.pid}`, removeWorkDirOnStop: true });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('renders the Bedrock provider, the Telegram channel and the plugin-init container that declares the provider', () => {
    const cfg = JSON.parse(td.containerDefinitions.find((c) => c.name === 'config-init')!.environment.find((e) => e.name === 'OPENCLAW_CONFIG_JSON')!.value) as {
      models: { providers: Record<string, { api: string; auth: string }> };
      channels: Record<string, unknown>;
      plugins: { allow: string[] };
    };
    expect(cfg.models.providers['amazon-bedrock']).toMatchObject({ api: 'bedrock-converse-stream', auth: 'aws-sdk' });
    expect(Object.keys(cfg.channels).sort()).toEqual(['defaults', 'telegram']);
    expect(cfg.plugins.allow.sort()).toEqual(['amazon-bedrock', 'memory-core', 'telegram']);
    expect(td.containerDefinitions.find((c) => c.name === PLUGIN_INIT_CONTAINER)?.command?.[0]).toContain('/app/node_modules/@openclaw/amazon-bedrock-provider');
  });

  it(`passes openclaw config validate (provider plugin ${PROVIDER_PRESENT ? 'present: no warning' : 'absent: only the accepted "plugin not installed"'})`, async () => {
    const t0 = Date.now();
    const v = await validate(gw);
    recordTiming('config validate (Bedrock + Telegram)', Date.now() - t0);
    expect({ valid: v.valid, code: v.code }).toEqual({ valid: true, code: 0 });
    const got = v.warnings.map((w) => `${w.path}: ${w.message.split(' — ')[0]}`);
    expect(got).toEqual(PROVIDER_PRESENT ? [] : ['plugins.allow: plugin not installed: amazon-bedrock']);
    const ok = accepted().validateWarnings.map((w) => `${w.path}: ${w.message}`);
    for (const w of got) expect(ok).toContain(w);
  });

  it('has no critical audit finding, and every audit warning is accepted with a reason', async () => {
    const t0 = Date.now();
    const a = await audit(gw);
    recordTiming('security audit (Bedrock + Telegram)', Date.now() - t0);
    expect(a.findings.filter((f) => f.severity === 'critical')).toEqual([]);
    const ok = new Set(accepted().auditWarnings.map((w) => w.checkId));
    expect(a.findings.filter((f) => f.severity === 'warn' && !ok.has(f.checkId))).toEqual([]);
  });
});

describe('a Bedrock + Telegram tenant, started', () => {
  let gw: GatewayHandle;
  beforeAll(async () => {
    gw = await launchGateway(td, { secrets, posixUser: POSIX_USER, id: `bedrock-run-${process.pid}`, removeWorkDirOnStop: true });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  if (PROVIDER_PRESENT) {
    it('starts healthy and stays healthy (the gap entry must be gone: the provider is in the package set)', async () => {
      expect(gap()).toBeUndefined();
      const ms = await gw.waitHealthy(HEALTH_BUDGET_MS);
      recordTiming('gateway with Bedrock + Telegram healthy after launch', ms);
      const until = Date.now() + STAY_HEALTHY_MS;
      while (Date.now() < until) {
        expect((await gw.health()).body).toMatchObject({ ok: true });
        await new Promise((r) => setTimeout(r, 5000));
      }
      expect(await gw.runHealthCheck()).toBe(true);
    });
  } else {
    it('logs exactly the failure the recorded gap names while the package set lacks the provider (known gap, not hidden)', async () => {
      const g = gap();
      expect(g).toBeDefined();
      const t0 = Date.now();
      // Wait for the recorded error (the run-time install OpenClaw attempts for the missing provider), or an exit.
      let exit: { code: number | null } | undefined;
      void gw.exited.then((e) => (exit = e));
      while (!gw.logs().includes(g!.expectedFailure) && exit === undefined && Date.now() - t0 < FAILURE_BUDGET_MS) await new Promise((r) => setTimeout(r, 1000));
      recordTiming('gateway with Bedrock + Telegram, no provider plugin: failure logged', Date.now() - t0);
      // What the gateway does next is reported, not asserted: it has exited non-zero (exit 1 or 78 observed
      // under load) or stays up with Telegram but no Bedrock provider (observed on an idle host: no exit in
      // 420 s). Either way the plan's models cannot answer.
      await new Promise((r) => setTimeout(r, 15_000));
      const health = exit === undefined ? await gw.health().catch((e: unknown) => ({ error: String(e) })) : undefined;
      console.log(`bedrock gateway without the provider: ${JSON.stringify({ exit, health })}; log tail:\n${gw.logs().slice(-1500)}`);
      expect(gw.logs()).toContain(g!.expectedFailure);
      if (exit !== undefined) expect(exit.code).not.toBe(0);
    });
  }
});
