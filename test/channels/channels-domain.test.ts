/**
 * Channels in the domain: each type's own schema, what a plan allows, the rendered openclaw.json part
 * (hardening, SecretRefs, plugins.allow, packaged plugin paths), the ECS secrets, and the egress presets.
 */
import {
  channelCredentialEnv,
  channelPresets,
  channelSecretEnv,
  describeChannel,
  validateChannels,
  type TenantChannel,
} from '../../functions/domain/channels';
import { ValidationError } from '../../functions/domain/errors';
import { OpenClawConfigSchema, renderOpenClawConfig, serializeOpenClawConfig } from '../../functions/domain/openclaw-config';
import { renderTaskDefinition } from '../../functions/domain/task-definition';
import { PlanCatalogueSchema, type Plan } from '../../functions/domain/tenant';
import { LOCAL_PLANS } from '../local-cloud/env';

const base = LOCAL_PLANS.find((p) => p.id === 'offline')!;
const plan = (over: Partial<Plan> = {}): Plan => PlanCatalogueSchema.parse([{ ...base, channels: ['telegram', 'slack', 'discord'], ...over }])[0]!;
const arn = (n: string, tenant = 't1') => `arn:aws:secretsmanager:us-east-1:123456789012:secret:octw/tenants/local/${tenant}/credentials/${n}-AbCdEf`;
const TELEGRAM: TenantChannel = { type: 'telegram', settings: { allowFrom: ['123456789'], groups: ['-1001234567890'] }, credentials: { botToken: { secretArn: arn('telegram-bot-token') } } };
const SLACK: TenantChannel = {
  type: 'slack',
  settings: { allowFrom: [], channels: ['C0123ABCD'] },
  credentials: { appToken: { secretArn: arn('slack-app-token') }, botToken: { secretArn: arn('slack-bot-token') } },
};
const DISCORD: TenantChannel = {
  type: 'discord',
  settings: { allowFrom: ['223456789012345678'], guilds: ['123456789012345678'], roles: ['323456789012345678'] },
  credentials: { token: { secretArn: arn('discord-token') } },
};
const render = (channels: TenantChannel[], p = plan()) => renderOpenClawConfig({ tenantId: 't1', plan: p, region: 'us-east-1', channels });

describe('validateChannels', () => {
  it('accepts each built-in type with its own settings and exactly its credentials', () => {
    const out = validateChannels(
      [
        { type: 'telegram', settings: { groups: ['-100123'] }, credentials: { botToken: 'octw/tenants/local/t1/credentials/telegram-bot-token' } },
        { type: 'slack', settings: {}, credentials: { botToken: 'a', appToken: 'b' } },
        { type: 'discord', settings: { guilds: ['123456789012345678'], roles: ['323456789012345678'] }, credentials: { token: 'c' } },
      ],
      plan(),
      'update refused',
    );
    expect(out.map((c) => c.settings)).toEqual([
      { allowFrom: [], groups: ['-100123'] },
      { allowFrom: [], channels: [] },
      { allowFrom: [], guilds: ['123456789012345678'], roles: ['323456789012345678'] },
    ]);
  });

  it('refuses Discord guilds without a member restriction (users by allowFrom, or roles): every member of the server could talk to the agent', () => {
    let err: unknown;
    try {
      validateChannels([{ type: 'discord', settings: { guilds: ['123456789012345678'] }, credentials: { token: 'c' } }], plan(), 'update refused');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([{ path: 'channels[0].settings.guilds', message: expect.stringMatching(/guilds need allowFrom .* or roles/) }]);
    expect(validateChannels([{ type: 'discord', settings: { guilds: ['123456789012345678'], allowFrom: ['223456789012345678'] }, credentials: { token: 'c' } }], plan(), 'x')).toHaveLength(1);
    expect(() => validateChannels([{ type: 'discord', settings: { roles: ['not-a-role'] }, credentials: { token: 'c' } }], plan(), 'x')).toThrow(/roles entries are Discord role ids/);
  });

  it('refuses a type the plan does not allow, settings of another type, an unknown key, and missing or extra credentials, each with its path', () => {
    let err: unknown;
    try {
      validateChannels(
        [
          { type: 'discord', settings: { channels: ['C0123ABCD'] }, credentials: {} },
          { type: 'telegram', settings: { groups: ['12345'], dmPolicy: 'open' }, credentials: { botToken: 'x', appToken: 'y' } },
        ],
        plan({ channels: ['telegram', 'discord'] }),
        'update refused',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const paths = (err as ValidationError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['channels[0].settings', 'channels[0].credentials.token', 'channels[1].settings.groups.0', 'channels[1].settings', 'channels[1].credentials.appToken']));
    expect(() => validateChannels([{ type: 'slack', settings: {}, credentials: { botToken: 'a', appToken: 'b' } }], plan({ channels: ['telegram'] }), 'update refused')).toThrow(
      /plan "offline" does not allow channel "slack"/,
    );
  });

  it('takes a channel plugin the plan declares, with the credential fields the plan names', () => {
    const p = plan({ channels: [], channelPlugins: [{ type: 'matrix', plugin: 'memory-core', credentials: ['accessToken'], preset: 'matrix' }] });
    expect(validateChannels([{ type: 'matrix', settings: {}, credentials: { accessToken: 'r' } }], p, 'x')).toHaveLength(1);
    expect(() => validateChannels([{ type: 'matrix', settings: { dmPolicy: 'open' }, credentials: { accessToken: 'r' } }], p, 'x')).toThrow(ValidationError);
  });
});

describe('PlanSchema channels', () => {
  it('refuses a channel plugin the image does not carry and a built-in type declared as a plugin', () => {
    expect(() => plan({ channelPlugins: [{ type: 'irc', plugin: 'not-a-plugin', credentials: [] }] })).toThrow(/does not carry/);
    expect(() => plan({ channelPlugins: [{ type: 'telegram', plugin: 'telegram', credentials: [] }] })).toThrow(/built in/);
  });
});

describe('renderOpenClawConfig with channels', () => {
  it('renders every channel with the hardening, mention required in each listed group, credentials as env SecretRefs only', () => {
    const cfg = render([TELEGRAM, SLACK, DISCORD]);
    expect(OpenClawConfigSchema.parse(cfg)).toEqual(cfg);
    const ch = cfg.channels as Record<string, Record<string, unknown>>;
    for (const type of ['telegram', 'slack', 'discord']) {
      expect(ch[type]).toMatchObject({ enabled: true, configWrites: false, dmPolicy: 'pairing', groupPolicy: 'allowlist' });
    }
    expect(ch.telegram).toMatchObject({ groups: { '-1001234567890': { requireMention: true } }, botToken: { source: 'env', provider: 'default', id: 'OCTW_CHANNEL_TELEGRAM_BOT_TOKEN' } });
    expect(ch.slack).toMatchObject({ mode: 'socket', requireMention: true, channels: { C0123ABCD: { requireMention: true } } });
    expect(ch.slack!.appToken).toEqual({ source: 'env', provider: 'default', id: 'OCTW_CHANNEL_SLACK_APP_TOKEN' });
    // Each listed Discord guild admits only the listed users and roles (no broad_members audit finding).
    expect(ch.discord).toMatchObject({
      allowFrom: ['223456789012345678'],
      guilds: { '123456789012345678': { requireMention: true, users: ['223456789012345678'], roles: ['323456789012345678'] } },
      token: { id: 'OCTW_CHANNEL_DISCORD_TOKEN' },
    });
    // No wildcard group: "*" would admit every group.
    expect(serializeOpenClawConfig(cfg)).not.toContain('"*"');
    // Never a secret value or even a secret name in the config.
    expect(serializeOpenClawConfig(cfg)).not.toMatch(/secretsmanager|credentials\//);
  });

  it('renders no Discord guild for a record from before the member rule (guilds, no users or roles): closed, never open to every member', () => {
    const legacy: TenantChannel = { ...DISCORD, settings: { allowFrom: [], guilds: ['123456789012345678'] } };
    const ch = render([legacy]).channels as Record<string, Record<string, unknown>>;
    expect(ch.discord).toMatchObject({ enabled: true, groupPolicy: 'allowlist' });
    expect(ch.discord).not.toHaveProperty('guilds');
  });

  it('adds each channel plugin to plugins.allow only while the tenant has the channel, with the image path of packaged plugins', () => {
    expect(render([]).plugins).toEqual({ allow: ['memory-core'] });
    expect(render([TELEGRAM]).plugins).toEqual({ allow: ['memory-core', 'telegram'] });
    expect(render([TELEGRAM, SLACK, DISCORD]).plugins).toEqual({
      allow: ['memory-core', 'discord', 'slack', 'telegram'],
      load: { paths: ['/app/node_modules/@openclaw/discord', '/app/node_modules/@openclaw/slack'] },
    });
    // Removing a channel removes its entry and its plugin.
    const without = render([TELEGRAM, DISCORD]);
    expect(Object.keys(without.channels).sort()).toEqual(['defaults', 'discord', 'telegram']);
    expect(without.plugins.allow).not.toContain('slack');
  });

  it('renders no group map when no group is listed (every group blocked under allowlist)', () => {
    const cfg = render([{ ...TELEGRAM, settings: { allowFrom: [], groups: [] } }]);
    expect((cfg.channels as Record<string, Record<string, unknown>>).telegram).not.toHaveProperty('groups');
  });

  it('refuses to render a channel the plan no longer allows', () => {
    expect(() => render([SLACK], plan({ channels: ['telegram'] }))).toThrow(/does not allow channel "slack"/);
  });
});

describe('channel credentials in the task definition', () => {
  it('injects each credential by its verified ARN under OCTW_CHANNEL_<TYPE>_<FIELD>, never in plain environment', () => {
    expect(channelCredentialEnv('slack', 'appToken')).toBe('OCTW_CHANNEL_SLACK_APP_TOKEN');
    expect(channelCredentialEnv('nextcloud-talk', 'botSecret')).toBe('OCTW_CHANNEL_NEXTCLOUD_TALK_BOT_SECRET');
    expect(channelSecretEnv([TELEGRAM, SLACK])).toEqual([
      { name: 'OCTW_CHANNEL_SLACK_APP_TOKEN', valueFrom: arn('slack-app-token') },
      { name: 'OCTW_CHANNEL_SLACK_BOT_TOKEN', valueFrom: arn('slack-bot-token') },
      { name: 'OCTW_CHANNEL_TELEGRAM_BOT_TOKEN', valueFrom: arn('telegram-bot-token') },
    ]);
    const td = renderTaskDefinition({
      tenantId: 't1', cell: 'local', plan: plan(), region: 'us-east-1', fileSystemId: 'fs-1', accessPointId: 'fsap-1', posixUser: { uid: 100_001, gid: 100_001 },
      taskRoleArn: 'r', executionRoleArn: 'e', secretArn: 's', logGroupName: 'l', openclawConfigJson: '{}', configHash: 'h', channels: [TELEGRAM],
    });
    const gw = td.containerDefinitions.find((c) => c.name === 'gateway')!;
    expect(gw.secrets).toContainEqual({ name: 'OCTW_CHANNEL_TELEGRAM_BOT_TOKEN', valueFrom: arn('telegram-bot-token') });
    expect(gw.environment.map((e) => e.name)).not.toContain('OCTW_CHANNEL_TELEGRAM_BOT_TOKEN');
  });
});

describe('channel presets and operator view', () => {
  it('names the egress preset of each channel and shows credentials by secret name only', () => {
    expect(channelPresets([TELEGRAM, SLACK, DISCORD], plan())).toEqual([
      { type: 'telegram', preset: 'telegram' },
      { type: 'slack', preset: 'slack' },
      { type: 'discord', preset: 'discord' },
    ]);
    expect(describeChannel(TELEGRAM).credentials).toEqual({ botToken: 'octw/tenants/local/t1/credentials/telegram-bot-token' });
  });
});
