/**
 * Channels: how a tenant's gateway talks to its users (Telegram, Slack in socket mode, Discord, or
 * another channel plugin the tenant image carries and the plan allows). Pure domain code.
 *
 * A channel is stored on the tenant record as references only: its type, its non-secret settings
 * (who may talk to it, which groups), and for each credential the ARN of a Secrets Manager secret
 * under the tenant's own prefix (`octw/tenants/<cell>/<id>/credentials/<name>`), never a value.
 * ECS injects each credential as `OCTW_CHANNEL_<TYPE>_<FIELD>`, and `openclaw.json` references
 * that env var with a SecretRef.
 *
 * Keys checked against the pinned release (openclaw 2026.9.6, `openclaw config schema`, docs
 * `gateway/config-channels/*.md`, `channels/<type>/access-control.md`):
 * - every channel: `enabled`, `configWrites` (per channel; there is no global switch), `dmPolicy`
 *   (`pairing` | `allowlist` | `open` | `disabled`), `allowFrom`, `groupPolicy` (`open` |
 *   `disabled` | `allowlist`); `channels.<type>` is strict (unknown keys rejected).
 * - telegram: `botToken` (SecretRef accepted); groups are `groups.<chatId>.requireMention` (the map
 *   itself is the group allowlist: no map = every group blocked under `allowlist`; `"*"` would admit
 *   every group, so it is never rendered).
 * - slack: `mode: "socket"`, `botToken` + `appToken` (both required in socket mode, SecretRefs
 *   accepted), root `requireMention`, `channels.<id>.requireMention` (the map is the allowlist).
 * - discord: `token` (SecretRef accepted), `guilds.<id>.requireMention` (the map is the allowlist),
 *   `guilds.<id>.users` / `.roles` (who in the guild may talk; docs channels/discord/access-control.md).
 * - SecretRef `{ source: "env", provider: "default", id: "^[A-Z][A-Z0-9_]{0,127}$" }`.
 * The release's env fallbacks (`TELEGRAM_BOT_TOKEN`, `SLACK_BOT_TOKEN`, `DISCORD_BOT_TOKEN`, ...)
 * are never used: the platform's own names (`OCTW_CHANNEL_*`) cannot be picked up by accident.
 */
import * as z from '../shared/zod';
import { PRESETS } from './egress-policy';
import { ValidationError } from './errors';

/** The hardening every rendered channel carries (OpenClaw's recommendations for hosted gateways). */
export const CHANNEL_HARDENING = { configWrites: false, dmPolicy: 'pairing', groupPolicy: 'allowlist' } as const;

/** A channel type / plugin id: OpenClaw's `channels.<id>` key. */
export const CHANNEL_TYPE = /^[a-z][a-z0-9-]{0,31}$/;
/** A credential field name as OpenClaw's config names it (botToken, appToken, token, ...). */
export const CREDENTIAL_FIELD = /^[a-z][a-zA-Z0-9]{0,31}$/;

/**
 * A reference to a credential secret as the caller gives it: the secret's name or ARN (never its
 * value). The workflow resolves and verifies it (adapters/tenant-credentials.ts).
 */
export const CredentialRefInputSchema = z
  .string().check(z.minLength(1)).check(z.maxLength(2048)).check(z.regex(/^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]+$/, {
    error: 'a credential must be a Secrets Manager secret name or ARN (the value itself is never accepted)',
  }));

/** A credential's rotation counter (see StoredCredentialSchema). */
export const CredentialGenerationSchema = z.int().check(z.gte(1)).check(z.lte(1_000_000));

/** A verified credential as stored: the secret's full ARN (what ECS `valueFrom` takes). */
export const StoredCredentialSchema = z.strictObject({
    secretArn: z.string().check(z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/)),
    /**
     * How often the secret's value was rotated (absent: never). Part of the config hash, so a
     * rotation registers a new task revision and ECS injects the new value; never the value itself.
     */
    generation: z.optional(CredentialGenerationSchema),
  });
export type StoredCredential = z.infer<typeof StoredCredentialSchema>;

const TELEGRAM_USER = /^\d{1,20}$/;
const TELEGRAM_GROUP = /^-\d{1,20}$/;
const SLACK_USER = /^[UW][A-Z0-9]{2,20}$/;
const SLACK_CHANNEL = /^[CG][A-Z0-9]{2,20}$/;
const SNOWFLAKE = /^\d{15,21}$/;

const idList = (re: RegExp, what: string) =>
  z._default(z
    .array(z.string().check(z.regex(re, { error: `${what}` }))).check(z.maxLength(100)).check(z.refine((l) => new Set(l).size === l.length, { error: 'entries must not repeat' })), []);

/** Non-secret settings of each built-in channel type: who may talk to the bot and where. */
export const TelegramSettingsSchema = z.strictObject({
    /** Numeric Telegram user ids admitted without pairing (DMs) and as group senders. */
    allowFrom: idList(TELEGRAM_USER, 'allowFrom entries are numeric Telegram user ids'),
    /** Group / supergroup chat ids (negative numbers) the bot may answer in, when mentioned. */
    groups: idList(TELEGRAM_GROUP, 'groups entries are negative Telegram chat ids such as -1001234567890'),
  });
export const SlackSettingsSchema = z.strictObject({
    allowFrom: idList(SLACK_USER, 'allowFrom entries are Slack user ids such as U0123ABCD'),
    /** Slack channel ids the bot may answer in, when mentioned. */
    channels: idList(SLACK_CHANNEL, 'channels entries are Slack channel ids such as C0123ABCD'),
  });
/** Discord settings as stored (records written before `roles` and the member rule parse too). */
export const DiscordSettingsFieldsSchema = z.strictObject({
    /** Discord user ids admitted without pairing (DMs) and, in the listed guilds, as senders (`guilds.<id>.users`). */
    allowFrom: idList(SNOWFLAKE, 'allowFrom entries are Discord user ids (snowflakes)'),
    /** Discord server (guild) ids the bot may answer in, when mentioned. */
    guilds: idList(SNOWFLAKE, 'guilds entries are Discord server ids (snowflakes)'),
    /** Discord role ids whose members may talk to the bot in the listed guilds (`guilds.<id>.roles`). */
    roles: idList(SNOWFLAKE, 'roles entries are Discord role ids (snowflakes)'),
  });
/**
 * Discord settings as a request gives them: a listed guild needs a member restriction (users by
 * `allowFrom`, or `roles`), else every member of the guild could reach the agent (OpenClaw's audit:
 * `channels.discord.allowlisted_groups.broad_members`).
 */
export const DiscordSettingsSchema = DiscordSettingsFieldsSchema.check(z.refine((s) => s.guilds.length === 0 || s.allowFrom.length > 0 || s.roles.length > 0, {
  error: 'guilds need allowFrom (Discord user ids) or roles (Discord role ids): without either, every member of a listed server could talk to the agent',
  path: ['guilds'],
}));
/** Settings of a channel plugin declared by the plan: none beyond the hardening (pairing DMs, no groups). */
export const PluginChannelSettingsSchema = z.strictObject({});

/** What each built-in type needs: its plugin, the credential fields OpenClaw reads, its egress preset. */
export const BUILTIN_CHANNELS = {
  telegram: { plugin: 'telegram', credentials: ['botToken'], preset: 'telegram', settings: TelegramSettingsSchema },
  slack: { plugin: 'slack', credentials: ['botToken', 'appToken'], preset: 'slack', settings: SlackSettingsSchema },
  discord: { plugin: 'discord', credentials: ['token'], preset: 'discord', settings: DiscordSettingsSchema },
} as const;
export type BuiltinChannelType = keyof typeof BUILTIN_CHANNELS;
export const BUILTIN_CHANNEL_TYPES = Object.keys(BUILTIN_CHANNELS) as BuiltinChannelType[];
export const isBuiltinChannel = (type: string): type is BuiltinChannelType => Object.hasOwn(BUILTIN_CHANNELS, type);

/**
 * Another channel plugin the plan allows (e.g. `matrix`, `msteams`), declared by the operator in
 * the plan: which plugin provides it, which credential fields its `channels.<type>` entry takes
 * (each rendered as a SecretRef), and which egress preset holds its hosts. Rendered with the
 * hardening only (DMs by pairing, no group): the platform knows no more of its schema.
 */
export const ChannelPluginSchema = z.strictObject({
    type: z.string().check(z.regex(CHANNEL_TYPE, { error: 'channel type must be 1-32 of a-z, 0-9 and "-"' })),
    plugin: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,63}$/)),
    credentials: z._default(z.array(z.string().check(z.regex(CREDENTIAL_FIELD))).check(z.maxLength(4)), []),
    /** Egress preset (functions/domain/egress-presets.json) with the channel's hosts. */
    preset: z.optional(z
      .string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/)).check(z.refine((p) => Object.hasOwn(PRESETS, p), { error: 'preset must name an egress preset of functions/domain/egress-presets.json' }))),
  }).check(z.refine((c) => !isBuiltinChannel(c.type), { error: 'telegram, slack and discord are built in: list them in the plan\'s channels, not as channel plugins' }));
export type ChannelPlugin = z.infer<typeof ChannelPluginSchema>;

/** What a channel type means for one plan: built in, or declared by the plan. */
export interface ChannelTypeSpec {
  type: string;
  plugin: string;
  credentials: readonly string[];
  preset?: string | undefined;
  settings: z.ZodMiniType;
}

/** The channel types a plan allows, with what each needs. */
export function channelSpecs(plan: { channels?: readonly string[]; channelPlugins?: readonly ChannelPlugin[] }): Map<string, ChannelTypeSpec> {
  const specs = new Map<string, ChannelTypeSpec>();
  for (const type of plan.channels ?? []) {
    if (isBuiltinChannel(type)) specs.set(type, { type, ...BUILTIN_CHANNELS[type] });
  }
  for (const p of plan.channelPlugins ?? []) specs.set(p.type, { ...p, settings: PluginChannelSettingsSchema });
  return specs;
}

/** A channel as an update requests it: type, settings, credential references (names or ARNs). */
export const ChannelRequestSchema = z.strictObject({
    type: z.string().check(z.regex(CHANNEL_TYPE, { error: 'channel type must be 1-32 of a-z, 0-9 and "-"' })),
    settings: z._default(z.record(z.string(), z.unknown()), {}),
    credentials: z._default(z.record(z.string().check(z.regex(CREDENTIAL_FIELD)), CredentialRefInputSchema), {}),
  });
export type ChannelRequest = z.infer<typeof ChannelRequestSchema>;
export type ChannelRequestInput = z.input<typeof ChannelRequestSchema>;

export const ChannelListRequestSchema = z
  .array(ChannelRequestSchema).check(z.maxLength(8, { error: 'at most 8 channels' })).check(z.refine((l) => new Set(l.map((c) => c.type)).size === l.length, { error: 'a channel type may appear once' }));

/** A channel as stored on the tenant record: settings parsed by the type's schema, credentials verified. */
export const TenantChannelSchema = z.strictObject({
    type: z.string().check(z.regex(CHANNEL_TYPE)),
    settings: z.record(z.string(), z.unknown()),
    credentials: z.record(z.string().check(z.regex(CREDENTIAL_FIELD)), StoredCredentialSchema),
    /** For a plan-declared channel plugin: the egress preset its hosts come from (built-in types have their own). */
    egressPreset: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/))),
  });
export type TenantChannel = z.infer<typeof TenantChannelSchema>;

/**
 * Checks requested channels against what the plan allows: each type allowed, its settings valid by
 * its own schema, exactly its credential fields given. Returns the channels with parsed settings
 * (credentials still unverified references); throws ValidationError listing every problem.
 */
export function validateChannels(
  requested: readonly ChannelRequest[],
  plan: { id: string; channels?: readonly string[]; channelPlugins?: readonly ChannelPlugin[] },
  refused: string,
): ChannelRequest[] {
  const specs = channelSpecs(plan);
  const issues: { path: string; message: string }[] = [];
  const out: ChannelRequest[] = [];
  requested.forEach((c, i) => {
    const at = `channels[${i}]`;
    const spec = specs.get(c.type);
    if (!spec) {
      issues.push({ path: `${at}.type`, message: `plan "${plan.id}" does not allow channel "${c.type}"; it allows: ${[...specs.keys()].join(', ') || 'none'}` });
      return;
    }
    const settings = spec.settings.safeParse(c.settings);
    if (!settings.success) {
      for (const issue of settings.error.issues) issues.push({ path: `${at}.settings${issue.path.map((p) => `.${String(p)}`).join('')}`, message: issue.message });
    }
    const given = Object.keys(c.credentials).sort();
    const wanted = [...spec.credentials].sort();
    for (const f of wanted) if (!given.includes(f)) issues.push({ path: `${at}.credentials.${f}`, message: `channel "${c.type}" needs credential "${f}" (a secret reference)` });
    for (const f of given) if (!wanted.includes(f)) issues.push({ path: `${at}.credentials.${f}`, message: `channel "${c.type}" takes no credential "${f}"; it takes: ${wanted.join(', ') || 'none'}` });
    if (settings.success) out.push({ ...c, settings: settings.data as Record<string, unknown> });
  });
  if (issues.length > 0) throw new ValidationError(`${refused}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  return out;
}

/** The env var ECS injects a channel credential into: `OCTW_CHANNEL_<TYPE>_<FIELD>` (upper snake case). */
export function channelCredentialEnv(type: string, field: string): string {
  const snake = field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return `OCTW_CHANNEL_${type.toUpperCase().replace(/-/g, '_')}_${snake}`;
}

/** The default secret name suffix the CLI stores a channel credential under: `<type>-<field>`. */
export function channelCredentialName(type: string, field: string): string {
  return `${type}-${field.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

/** The ECS `secrets` entries of a tenant's channels: one per credential, by verified ARN. */
export function channelSecretEnv(channels: readonly TenantChannel[]): { name: string; valueFrom: string }[] {
  return [...channels]
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
    .flatMap((c) =>
      Object.keys(c.credentials)
        .sort()
        .map((field) => ({ name: channelCredentialEnv(c.type, field), valueFrom: (c.credentials[field] as StoredCredential).secretArn })),
    );
}

const envRef = (id: string) => ({ source: 'env' as const, provider: 'default' as const, id });
const requireMentionIn = (ids: readonly string[]) => Object.fromEntries(ids.map((id) => [id, { requireMention: true }]));

/** One rendered `channels.<type>` entry (the shape depends on the type; checked by conformance). */
export type RenderedChannel = Record<string, unknown>;

/**
 * The `channels.<type>` entries and the plugins they need, for the tenant's channels. Every entry
 * has the hardening; groups are only those listed, each with a mention required; credentials are
 * SecretRefs to the env vars ECS fills.
 */
export function renderChannels(channels: readonly TenantChannel[], plan: { id: string; channels?: readonly string[]; channelPlugins?: readonly ChannelPlugin[] }): {
  entries: Record<string, RenderedChannel>;
  plugins: string[];
} {
  const specs = channelSpecs(plan);
  const entries: Record<string, RenderedChannel> = {};
  const plugins = new Set<string>();
  for (const c of channels) {
    const spec = specs.get(c.type);
    // A plan change that drops a type is refused at update; a record that still names one is not rendered silently.
    if (!spec) throw new RangeError(`plan "${plan.id}" does not allow channel "${c.type}"`);
    plugins.add(spec.plugin);
    const refs = Object.fromEntries(spec.credentials.map((f) => [f, envRef(channelCredentialEnv(c.type, f))]));
    const base = { enabled: true, ...CHANNEL_HARDENING, ...refs };
    switch (c.type) {
      case 'telegram': {
        const s = TelegramSettingsSchema.parse(c.settings);
        entries.telegram = { ...base, ...(s.allowFrom.length ? { allowFrom: s.allowFrom } : {}), ...(s.groups.length ? { groups: requireMentionIn(s.groups) } : {}) };
        break;
      }
      case 'slack': {
        const s = SlackSettingsSchema.parse(c.settings);
        entries.slack = {
          ...base,
          mode: 'socket',
          requireMention: true,
          ...(s.allowFrom.length ? { allowFrom: s.allowFrom } : {}),
          ...(s.channels.length ? { channels: requireMentionIn(s.channels) } : {}),
        };
        break;
      }
      case 'discord': {
        const s = DiscordSettingsFieldsSchema.parse(c.settings);
        // Each listed guild admits only the listed users and roles. A record from before that rule
        // (guilds, no member restriction) gets no guild at all: closed, never open to every member.
        const members = { ...(s.allowFrom.length ? { users: s.allowFrom } : {}), ...(s.roles.length ? { roles: s.roles } : {}) };
        const guilds = s.guilds.length && Object.keys(members).length ? Object.fromEntries(s.guilds.map((id) => [id, { requireMention: true, ...members }])) : undefined;
        entries.discord = { ...base, ...(s.allowFrom.length ? { allowFrom: s.allowFrom } : {}), ...(guilds ? { guilds } : {}) };
        break;
      }
      default:
        PluginChannelSettingsSchema.parse(c.settings);
        entries[c.type] = base;
    }
  }
  return { entries, plugins: [...plugins].sort() };
}

/** The egress presets a tenant's channels need (origin `channel:<type>`). */
export function channelPresets(channels: readonly Pick<TenantChannel, 'type'>[], plan: { channels?: readonly string[]; channelPlugins?: readonly ChannelPlugin[] }): { type: string; preset: string }[] {
  const specs = channelSpecs(plan);
  return channels.flatMap((c) => {
    const preset = specs.get(c.type)?.preset ?? (isBuiltinChannel(c.type) ? BUILTIN_CHANNELS[c.type].preset : undefined);
    return preset ? [{ type: c.type, preset }] : [];
  });
}

/** A channel as shown to operators: type, settings, and the credential secrets by name only. */
export function describeChannel(c: TenantChannel): { type: string; settings: Record<string, unknown>; credentials: Record<string, string> } {
  return {
    type: c.type,
    settings: c.settings,
    credentials: Object.fromEntries(Object.entries(c.credentials).map(([f, v]) => [f, secretNameOfArn(v.secretArn)])),
  };
}

/** The secret name in a Secrets Manager ARN (without the 6-character suffix AWS appends). */
export function secretNameOfArn(arn: string): string {
  const name = arn.replace(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:/, '');
  return /-[A-Za-z0-9]{6}$/.test(name) && name !== arn ? name.slice(0, -7) : name;
}
