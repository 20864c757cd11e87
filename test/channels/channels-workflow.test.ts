/**
 * Channels through the real update workflow (local cloud): a channel change is an update with its
 * audit entry, refused when the plan does not allow it, a no-op when nothing changes, and put back
 * (with the previous revision) when the new revision fails its health check.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { names, tenantTagMap } from '../../functions/domain/naming';
import { effectiveHostRules } from '../../functions/domain/tenant-egress';
import { LOCAL_CELL, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { causeMessage, lifecycleEventsOf, provision, runWorkflow } from '../workflows/support';

jest.setTimeout(60_000);

let cloud: LocalCloud;
const sm = new SecretsManagerClient({ region: LOCAL_REGION });
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

/** Stores a credential as the tenant's secret (as the CLI does) and returns its name. */
async function credential(tenantId: string, name: string): Promise<string> {
  const tenant = { cell: LOCAL_CELL.cellId, tenantId };
  const Name = names.credentialSecret(tenant, name);
  await sm.send(new CreateSecretCommand({ Name, SecretString: `value-of-${name}`, Tags: Object.entries(tenantTagMap(tenant)).map(([Key, Value]) => ({ Key, Value })) }));
  return Name;
}

const gatewayOf = (tenantId: string, revision: number) =>
  cloud.fake.taskDefinition(`octw-local--${tenantId}`, revision)?.input.containerDefinitions?.find((c) => c.name === 'gateway');
const configOf = (tenantId: string, revision: number) =>
  JSON.parse(cloud.fake.taskDefinition(`octw-local--${tenantId}`, revision)?.input.containerDefinitions?.find((c) => c.name === 'config-init')?.environment?.find((e) => e.name === 'OPENCLAW_CONFIG_JSON')?.value ?? '{}') as {
    channels: Record<string, unknown>;
    plugins: { allow: string[]; load?: { paths: string[] } };
  };

describe('adding and removing channels', () => {
  const tenantId = 'chan-flow';
  beforeAll(async () => {
    await provision(cloud, tenantId);
  });

  it('adds Slack and Telegram in one update: config entries, plugins, credential env vars, hosts, audit entry', async () => {
    const slackBot = await credential(tenantId, 'slack-bot-token');
    const slackApp = await credential(tenantId, 'slack-app-token');
    const telegram = await credential(tenantId, 'telegram-bot-token');
    const done = await runWorkflow(cloud, 'UpdateTenant', {
      tenantId,
      channels: [
        { type: 'slack', settings: { channels: ['C0123ABCD'] }, credentials: { botToken: slackBot, appToken: slackApp } },
        { type: 'telegram', credentials: { botToken: telegram } },
      ],
    });
    expect(done.status).toBe('SUCCEEDED');
    const record = (await cloud.tenant(tenantId))!;
    expect(record.channels?.map((c) => c.type)).toEqual(['slack', 'telegram']);
    expect(record.resources.taskDefinitionArn).toMatch(/:2$/);
    const cfg = configOf(tenantId, 2);
    expect(Object.keys(cfg.channels).sort()).toEqual(['defaults', 'slack', 'telegram']);
    expect(cfg.plugins.allow).toEqual(expect.arrayContaining(['slack', 'telegram']));
    expect(cfg.plugins.load).toEqual({ paths: ['/app/node_modules/@openclaw/slack'] });
    expect(gatewayOf(tenantId, 2)?.secrets?.map((s) => s.name).filter((n) => n?.startsWith('OCTW_CHANNEL_')).sort()).toEqual([
      'OCTW_CHANNEL_SLACK_APP_TOKEN',
      'OCTW_CHANNEL_SLACK_BOT_TOKEN',
      'OCTW_CHANNEL_TELEGRAM_BOT_TOKEN',
    ]);
    const hosts = effectiveHostRules({ hostAllowlist: record.hostAllowlist, channels: record.channels });
    expect(hosts.filter((r) => r.origin.includes('channel:telegram')).map((r) => r.host)).toEqual(['api.telegram.org']);
    expect(hosts.filter((r) => r.origin.includes('channel:slack')).map((r) => r.host).sort()).toEqual(['*.slack.com', 'slack.com']);
    const audit = await cloud.store.listAudit(tenantId, 5);
    expect(audit.find((a) => a.transition === 'startUpdate')?.changes).toEqual(['channels: +slack +telegram']);
  });

  it('is a no-op when the same channels are asked for again', async () => {
    const record = (await cloud.tenant(tenantId))!;
    const channels = record.channels!.map((c) => ({ type: c.type, settings: c.settings, credentials: Object.fromEntries(Object.entries(c.credentials).map(([f, v]) => [f, v.secretArn])) }));
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, channels });
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ claim: { changed: false } });
    expect(await cloud.tenant(tenantId)).toEqual(record);
  });

  it('removes Slack: its entry, plugin, load path, env vars and hosts go; Telegram stays', async () => {
    const record = (await cloud.tenant(tenantId))!;
    const telegram = record.channels!.find((c) => c.type === 'telegram')!;
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, channels: [{ type: 'telegram', credentials: { botToken: telegram.credentials.botToken!.secretArn } }] });
    expect(done.status).toBe('SUCCEEDED');
    const after = (await cloud.tenant(tenantId))!;
    const cfg = configOf(tenantId, 3);
    expect(Object.keys(cfg.channels).sort()).toEqual(['defaults', 'telegram']);
    expect(cfg.plugins.allow).not.toContain('slack');
    expect(cfg.plugins.load).toBeUndefined();
    expect(gatewayOf(tenantId, 3)?.secrets?.map((s) => s.name)).not.toContain('OCTW_CHANNEL_SLACK_BOT_TOKEN');
    expect(effectiveHostRules({ hostAllowlist: after.hostAllowlist, channels: after.channels }).some((r) => r.origin.includes('channel:slack'))).toBe(false);
  });

  it('refuses a plan change to a plan that does not allow a channel the tenant has, changing nothing', async () => {
    const before = await cloud.tenant(tenantId);
    // The local plans all allow the three channels; a channel plugin the plan does not declare is refused the same way.
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, channels: [{ type: 'matrix', credentials: {} }] });
    expect(done.error).toBe('ValidationError');
    expect(causeMessage(done)).toMatch(/plan "standard" does not allow channel "matrix"/);
    expect(await cloud.tenant(tenantId)).toEqual(before);
  });
});

describe('a channel update whose revision fails its health check', () => {
  const tenantId = 'chan-rollback';
  let done: Awaited<ReturnType<typeof runWorkflow>>;
  beforeAll(async () => {
    await provision(cloud, tenantId);
    const token = await credential(tenantId, 'discord-token');
    cloud.fake.ecs.failHealthFor(`octw-local--${tenantId}:2`);
    done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, channels: [{ type: 'discord', settings: { guilds: ['123456789012345678'], roles: ['323456789012345678'] }, credentials: { token } }] });
  });

  it('ends UpdateFailed with the previous channels (none) and revision restored, ACTIVE', async () => {
    expect(done.error).toBe('UpdateFailed');
    const record = (await cloud.tenant(tenantId))!;
    expect(record.status).toBe('ACTIVE');
    expect(record.channels).toEqual([]);
    expect(record.resources.taskDefinitionArn).toMatch(/:1$/);
    expect(lifecycleEventsOf(cloud, tenantId).slice(-2)).toEqual(['TenantUpdateStarted', 'TenantUpdateFailed']);
  });
});
