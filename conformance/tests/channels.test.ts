/**
 * Channels with the real OpenClaw (issue 11, item 5): a tenant on the offline plan gets each channel
 * through the real update workflow in the local cloud (credential secrets under its own prefix,
 * referenced by name), and the task definition the workflow registered is started as ECS would:
 * - for each channel type alone (Telegram, Slack in socket mode, Discord): the config the init
 *   container writes passes `openclaw config validate` with no warning;
 * - with each channel type: the gateway starts healthy offline, its credentials injected as the
 *   task definition's `secrets`, the channel plugin loaded and trusted (Slack and Discord through the
 *   install records the plugin-init container writes), and stays healthy while the channel cannot
 *   connect (no network: every outbound attempt is counted and dropped).
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as ecs from '@aws-sdk/client-ecs';
import { BUILTIN_CHANNELS, channelCredentialName, type BuiltinChannelType } from '../../functions/domain/channels';
import { names, tenantTagMap } from '../../functions/domain/naming';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { LOCAL_CELL, LOCAL_PLANS, LOCAL_REGION } from '../../test/local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../../test/local-cloud/local-cloud';
import { provision, runWorkflow } from '../../test/workflows/support';
import { injectedSecrets, registeredTaskDefinition } from '../lib/local-cloud-task';
import { launchGateway, type GatewayHandle } from '../lib/launch-gateway';
import { PACKAGED_PLUGINS } from '../../functions/domain/openclaw-release';
import { accepted, audit, LOCAL_MODEL_STUB_PORT, OPENCLAW, recordTiming, validate } from '../lib/support';

const HEALTH_BUDGET_MS = 180_000;
/** How long the gateway is watched staying healthy while its channels fail to connect. */
const STAY_HEALTHY_MS = 30_000;

const TOKENS: Record<string, string> = {
  botToken: '7000000001:AAconformance-not-a-real-telegram-token',
  appToken: 'xapp-1-conformance-not-a-real-app-token',
  token: 'conformance.not-a-real-discord-token.0000',
};
const SETTINGS: Record<BuiltinChannelType, Record<string, string[]>> = {
  telegram: { allowFrom: ['123456789'], groups: ['-1001234567890'] },
  slack: { allowFrom: ['U0123ABCD'], channels: ['C0123ABCD'] },
  discord: { allowFrom: ['123456789012345678'], guilds: ['123456789012345678'], roles: ['223456789012345678'] },
};

let cloud: LocalCloud;
const sm = new SecretsManagerClient({ region: LOCAL_REGION });
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud?.stop();
});

/** Provisions a tenant on the offline plan and gives it `types` through the update workflow. */
async function tenantWith(tenantId: string, types: BuiltinChannelType[]): Promise<TenantRecord> {
  const record = await provision(cloud, tenantId, { plan: 'offline', egressAllowlist: [] });
  expect(record?.status).toBe('ACTIVE');
  const tenant = { cell: LOCAL_CELL.cellId, tenantId };
  const channels = [];
  for (const type of types) {
    const credentials: Record<string, string> = {};
    for (const field of BUILTIN_CHANNELS[type].credentials) {
      const name = names.credentialSecret(tenant, channelCredentialName(type, field));
      const value = type === 'slack' && field === 'botToken' ? 'xoxb-conformance-not-a-real-bot-token' : (TOKENS[field] as string);
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: value, Tags: Object.entries(tenantTagMap(tenant)).map(([Key, Value]) => ({ Key, Value })) }));
      credentials[field] = name;
    }
    channels.push({ type, settings: SETTINGS[type], credentials });
  }
  const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, channels });
  expect(done.status).toBe('SUCCEEDED');
  const updated = (await cloud.tenant(tenantId))!;
  expect(updated.channels?.map((c) => c.type).sort()).toEqual([...types].sort());
  return updated;
}

const registered = (record: TenantRecord) => registeredTaskDefinition(cloud.fake, record);
const secretsOf = (td: ecs.RegisterTaskDefinitionCommandInput) => injectedSecrets(cloud.fake, td);

async function launch(record: TenantRecord, startGateway: boolean): Promise<GatewayHandle> {
  const td = registered(record);
  const ap = cloud.fake.accessPoint(record.resources.accessPointId!)!;
  return launchGateway(td, {
    secrets: secretsOf(td),
    posixUser: { uid: ap.posixUser!.Uid!, gid: ap.posixUser!.Gid! },
    modelStubPorts: [LOCAL_MODEL_STUB_PORT],
    id: `${record.tenantId}-${process.pid}`,
    startGateway,
    removeWorkDirOnStop: true,
  });
}

describe.each(['telegram', 'slack', 'discord'] as const)('a %s channel rendered for the real OpenClaw', (type) => {
  let gw: GatewayHandle;
  let record: TenantRecord;
  beforeAll(async () => {
    record = await tenantWith(`conf-ch-${type}`, [type]);
    gw = await launch(record, false);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('injects each credential as OCTW_CHANNEL_<TYPE>_<FIELD> from the tenant secret, and the config holds only SecretRefs', () => {
    const gateway = registered(record).containerDefinitions?.find((c) => c.name === 'gateway');
    const envs = (gateway?.secrets ?? []).map((s) => s.name).filter((n) => n?.startsWith('OCTW_CHANNEL_'));
    expect(envs.sort()).toEqual(BUILTIN_CHANNELS[type].credentials.map((f) => `OCTW_CHANNEL_${type.toUpperCase()}_${f.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`).sort());
    const config = JSON.stringify(registered(record));
    for (const v of Object.values(TOKENS)) expect(config).not.toContain(v);
  });

  it('passes openclaw config validate with no warning', async () => {
    const t0 = Date.now();
    const v = await validate(gw);
    recordTiming(`config validate (channel ${type})`, Date.now() - t0);
    expect({ valid: v.valid, code: v.code, warnings: v.warnings }).toEqual({ valid: true, code: 0, warnings: [] });
  });

  it('has no critical audit finding and every audit warning accepted; derived install records name only its packaged plugin', async () => {
    const t0 = Date.now();
    const a = await audit(gw);
    recordTiming(`security audit (channel ${type})`, Date.now() - t0);
    expect(a.findings.filter((f) => f.severity === 'critical')).toEqual([]);
    const ok = new Set(accepted().auditWarnings.map((w) => w.checkId));
    expect(a.findings.filter((f) => f.severity === 'warn' && !ok.has(f.checkId))).toEqual([]);
    // Discord's listed guild admits only the tenant's users and roles: no broad-members finding.
    expect(a.findings.map((f) => f.checkId)).not.toContain('channels.discord.allowlisted_groups.broad_members');
    const integrity = a.findings.find((f) => f.checkId === 'plugins.installs_missing_integrity') as { detail?: string } | undefined;
    if (Object.hasOwn(PACKAGED_PLUGINS, type)) expect(integrity?.detail?.split('\n').filter((l) => l.startsWith('- '))).toEqual([`- ${type}`]);
    else expect(integrity).toBeUndefined();
  });
});

/**
 * Started with each channel type. Telegram is bundled in the release (trusted as bundled). Slack and
 * Discord are official npm packages beside the release: this release grants their privileged APIs
 * (durable ingress queue, keyed stores) only with an install record vouching for the loaded copy
 * (else "PluginTrustRefusalError ... reason=record-missing"). The task's plugin-init container
 * declares the image's copies installed (functions/domain/plugin-install-records.ts); the config
 * selects the same copies in plugins.load.paths.
 */
describe.each(['telegram', 'slack', 'discord'] as const)('a gateway with a %s channel, offline', (type) => {
  let gw: GatewayHandle;
  let record: TenantRecord;
  const plan = LOCAL_PLANS.find((p) => p.id === 'offline')!;
  beforeAll(async () => {
    record = await tenantWith(`conf-ch-run-${type}`, [type]);
    gw = await launch(record, true);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it(`answers /healthz with ok:true within ${HEALTH_BUDGET_MS / 1000} s`, async () => {
    const ms = await gw.waitHealthy(HEALTH_BUDGET_MS);
    recordTiming(`gateway with a ${type} channel healthy after launch`, ms);
    expect((await gw.health()).body).toMatchObject({ ok: true });
  });

  it(`loads the plan plugins and the ${type} plugin, no other`, async () => {
    // The line can follow the first healthy answer by a moment: wait for it, then show the log if it never came.
    const listening = /http server listening \((\d+) plugins?: ([^;]*);/;
    for (const start = Date.now(); !listening.test(gw.logs()) && Date.now() - start < 60_000; ) await new Promise((r) => setTimeout(r, 500));
    const m = listening.exec(gw.logs());
    if (!m) console.log(`${type} gateway log (last 4000 characters):\n${gw.logs().slice(-4000)}`);
    expect(m).not.toBeNull();
    const loaded = m![2]!.split(',').map((s) => s.trim()).sort();
    expect(loaded).toEqual([...plan.plugins, type].sort());
  });

  it('trusts the channel plugin: OpenClaw names it trusted (bundled, or an official install at the image copy), no trust refusal', async () => {
    const r = await gw.exec([...OPENCLAW, 'plugins', 'inspect', type, '--json'], { timeoutMs: 300_000 });
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { plugin?: { origin?: string; source?: string; trust?: { reason?: string } } };
    const packaged = Object.hasOwn(PACKAGED_PLUGINS, type);
    expect(json.plugin?.trust?.reason).toBe(packaged ? 'trusted-official' : 'bundled');
    if (packaged) {
      expect(json.plugin?.origin).toBe('config');
      expect(json.plugin?.source?.startsWith(`/app/node_modules/${PACKAGED_PLUGINS[type]!}/`)).toBe(true);
    }
    expect(gw.logs()).not.toMatch(/PluginTrustRefusalError|PLUGIN_TRUST_REFUSED|record-missing/);
  });

  it(`stays healthy for ${STAY_HEALTHY_MS / 1000} s while its channel cannot connect (every attempt dropped in its namespace)`, async () => {
    const until = Date.now() + STAY_HEALTHY_MS;
    while (Date.now() < until) {
      expect((await gw.health()).body).toMatchObject({ ok: true });
      await new Promise((r) => setTimeout(r, 5000));
    }
    expect(await gw.runHealthCheck()).toBe(true);
    expect(gw.logs()).not.toMatch(/PluginTrustRefusalError|PLUGIN_TRUST_REFUSED|record-missing/);
    console.log(`${type} gateway: outbound attempts ${await gw.outboundAttempts()}; DNS queries: ${JSON.stringify(gw.dnsQueries().map((q) => q.name))}`);
  });
});
