/**
 * `octw tenants channels list|add|remove ID`: a tenant's channels, changed only through the update
 * workflow (a channel change is an update, with its audit entry; a failed update restores them).
 *
 * Credentials never pass through the workflow: `add` reads each credential's value from a file or
 * stdin (never argv), stores it as a secret under the tenant's own prefix
 * (`octw/tenants/<cell>/<id>/credentials/<type>-<field>`, tagged octw:cell / octw:tenant) and starts
 * the update with the secret's NAME only. The workflow checks the reference (prefix and tags) and
 * ECS injects the value into the tenant's container. `remove` starts the update without the channel
 * and, once it succeeded (--wait), schedules that channel's credential secrets for deletion.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { DeleteSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { credentialProblems } from '../../functions/adapters/tenant-credentials';
import { putTenantSecretTracked } from '../../functions/adapters/tenant-owned-secret';
import { ForeignResourceError } from '../../functions/domain/errors';
import { TenantStore } from '../../functions/adapters/tenant-store';
import {
  BUILTIN_CHANNELS,
  ChannelRequestSchema,
  CREDENTIAL_FIELD,
  channelCredentialName,
  describeChannel,
  isBuiltinChannel,
  secretNameOfArn,
  type ChannelRequestInput,
} from '../../functions/domain/channels';
import { names, type TenantRef } from '../../functions/domain/naming';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { Plan } from '../../functions/domain/tenant';
import { awsCodeOf, AwsCallError, RefusedError, UsageError } from './errors';
import type { CommandContext } from './context';
import { table } from './format';
import { parseTenantId, validate } from './inputs';
import { runOperation, type OperationArgs } from './operations';

export interface ChannelArgs {
  readonly action: string | undefined;
  readonly id: string | undefined;
  readonly type?: string | undefined;
  /** `field=PATH` or `field=-` (stdin); repeated per credential. */
  readonly credentials?: readonly string[] | undefined;
  readonly allowFrom?: string | undefined;
  readonly groups?: string | undefined;
  /** Discord role ids whose members may talk in the listed guilds. */
  readonly roles?: string | undefined;
  readonly wait: boolean;
  readonly pollIntervalMs: number;
}

/** Reads all of stdin (a credential given as `field=-`). */
export type StdinReader = () => Promise<string>;

export async function runChannels(ctx: CommandContext, args: ChannelArgs, readStdin: StdinReader): Promise<void> {
  if (args.action !== 'add') {
    for (const [flag, v] of [['--allow-from', args.allowFrom], ['--groups', args.groups], ['--roles', args.roles]] as const) {
      if (v !== undefined) throw new UsageError(`option ${flag} applies to "octw tenants channels add" only`);
    }
    if (args.action !== 'rotate' && args.credentials !== undefined) throw new UsageError('option --credential applies to "octw tenants channels add" and "rotate" only');
    if (args.action === 'list' && args.type !== undefined) throw new UsageError('option --type does not apply to "octw tenants channels list"');
  }
  switch (args.action) {
    case 'list':
      return listChannels(ctx, args.id);
    case 'add':
      return addChannel(ctx, args, readStdin);
    case 'remove':
      return removeChannel(ctx, args);
    case 'rotate':
      return rotateChannel(ctx, args, readStdin);
    default:
      throw new UsageError(args.action === undefined ? 'missing command after "tenants channels": list, add, rotate or remove' : `unknown command "tenants channels ${args.action}"`);
  }
}

async function record(ctx: CommandContext, tenantId: string): Promise<TenantRecord> {
  const r = await new TenantStore(ctx.clients.doc, ctx.config.tableName()).get(tenantId);
  if (!r) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist in ${ctx.config.tableName()}`);
  return r;
}

async function listChannels(ctx: CommandContext, idArg: string | undefined): Promise<void> {
  const tenantId = parseTenantId(idArg);
  const channels = ((await record(ctx, tenantId)).channels ?? []).map(describeChannel);
  if (ctx.json) {
    ctx.emit({ tenantId, channels });
    return;
  }
  if (channels.length === 0) {
    ctx.note(`tenant ${tenantId} has no channel`);
    return;
  }
  ctx.print(table(['TYPE', 'SETTINGS', 'CREDENTIALS (secret names)'], channels.map((c) => [c.type, JSON.stringify(c.settings), Object.entries(c.credentials).map(([f, n]) => `${f}=${n}`).join(' ')])));
}

/** The tenant's current channels as an update request (credentials by the ARNs already verified). */
function currentAsRequest(r: TenantRecord): ChannelRequestInput[] {
  return (r.channels ?? []).map((c) => ({ type: c.type, settings: c.settings, credentials: Object.fromEntries(Object.entries(c.credentials).map(([f, v]) => [f, v.secretArn])) }));
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));

function channelType(type: string | undefined): string {
  if (type === undefined || type === '') throw new UsageError('missing --type (telegram, slack, discord, or a channel plugin the plan allows)');
  return type;
}

async function addChannel(ctx: CommandContext, args: ChannelArgs, readStdin: StdinReader): Promise<void> {
  const tenantId = parseTenantId(args.id);
  const type = channelType(args.type);

  // Settings as the type's own schema reads them (the workflow checks them again against the plan).
  const settings: Record<string, unknown> = {};
  const allowFrom = list(args.allowFrom);
  if (allowFrom) settings.allowFrom = allowFrom;
  const groups = list(args.groups);
  if (groups) settings[type === 'slack' ? 'channels' : type === 'discord' ? 'guilds' : 'groups'] = groups;
  const roles = list(args.roles);
  if (roles) {
    if (type !== 'discord') throw new UsageError('option --roles applies to a discord channel only');
    settings.roles = roles;
  }
  if (isBuiltinChannel(type)) validate(BUILTIN_CHANNELS[type].settings, settings, `${type} settings`);

  // Every credential value is read first (nothing is stored if one is missing or unreadable).
  const values = await readCredentials(ctx, args.credentials ?? [], readStdin);
  if (isBuiltinChannel(type)) {
    const wanted = [...BUILTIN_CHANNELS[type].credentials].sort();
    const given = [...values.keys()].sort();
    if (wanted.join() !== given.join()) throw new UsageError(`channel ${type} takes --credential ${wanted.map((f) => `${f}=FILE`).join(' --credential ')} (got: ${given.join(', ') || 'none'})`);
  }

  // Only now the AWS calls: nothing is stored for input that is refused.
  const current = await record(ctx, tenantId);
  const tenant: TenantRef = { cell: current.cell, tenantId };
  if (!current.channels?.some((c) => c.type === type) && current.status === 'ACTIVE') {
    // Nothing is stored for a channel type the tenant's plan does not allow (when the CLI knows the plan).
    checkAgainstPlan(ctx, current.plan, (p) => (p.channels ?? []).includes(type) || (p.channelPlugins ?? []).some((c) => c.type === type), `channel "${type}"`);
  }
  const credentials: Record<string, string> = {};
  const created: string[] = [];
  try {
    for (const [field, value] of values) {
      const name = names.credentialSecret(tenant, channelCredentialName(type, field));
      const stored = await storeCredentialTracked(ctx.clients.sm, name, value, tenant);
      if (stored.created) created.push(name);
      credentials[field] = name;
      ctx.note(`stored credential ${field} of ${type} as secret ${name}`);
    }
  } catch (err) {
    for (const name of created) await smCall('DeleteSecret', () => ctx.clients.sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })));
    throw err;
  }
  const channel = validate(ChannelRequestSchema, { type, settings, credentials }, `channel ${type}`);
  const channels = [...currentAsRequest(current).filter((c) => c.type !== type), channel];
  // A value put into a secret the tenant's channel already uses takes effect only with a new task
  // revision: its rotation counter goes up (a new secret is a new reference, which is enough).
  const credentialGenerations = rotations(current, type, [...values.keys()].filter((f) => !created.includes(names.credentialSecret(tenant, channelCredentialName(type, f)))));
  await runUpdateRemovingCreated(ctx, tenant, created, {
    operation: 'update',
    id: tenantId,
    channels,
    ...(credentialGenerations ? { credentialGenerations } : {}),
    wait: args.wait,
    pollIntervalMs: args.pollIntervalMs,
  });
}

/** The next generation of each named credential of the tenant's `type` channel that keeps its secret. */
function rotations(current: TenantRecord, type: string, fields: readonly string[]): Record<string, number> | undefined {
  const channel = current.channels?.find((c) => c.type === type);
  const out: Record<string, number> = {};
  for (const f of fields) {
    const cred = channel?.credentials[f];
    if (cred) out[`channels.${type}.${f}`] = (cred.generation ?? 0) + 1;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * `rotate`: puts a new value (file or stdin) into the secret each named credential of the tenant's
 * channel already uses, then starts an update that carries only the credentials' next generations:
 * the config hash changes, a new task revision is rolled out and ECS injects the new value. Audited
 * (`credentials: rotated ...`); a failed update restores the previous generation and revision.
 */
async function rotateChannel(ctx: CommandContext, args: ChannelArgs, readStdin: StdinReader): Promise<void> {
  const tenantId = parseTenantId(args.id);
  const type = channelType(args.type);
  const values = await readCredentials(ctx, args.credentials ?? [], readStdin);
  if (values.size === 0) throw new UsageError('channels rotate takes --credential FIELD=FILE (or FIELD=- for stdin) for each credential to rotate');
  const current = await record(ctx, tenantId);
  const channel = current.channels?.find((c) => c.type === type);
  if (!channel) throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" has no ${type} channel (add it with "octw tenants channels add")`);
  for (const field of values.keys()) {
    if (!channel.credentials[field]) throw new UsageError(`the ${type} channel has no credential "${field}"; it has: ${Object.keys(channel.credentials).join(', ')}`);
  }
  if (current.status !== 'ACTIVE') throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" is ${current.status}: a rotation is an update, which needs ACTIVE; nothing was stored`);
  const tenant: TenantRef = { cell: current.cell, tenantId };
  for (const [field, value] of values) {
    // The secret the record references (verified as the tenant's at the update that set it).
    await putExisting(ctx, secretNameOfArn(channel.credentials[field]!.secretArn), value, tenant);
    ctx.note(`put a new value into ${secretNameOfArn(channel.credentials[field]!.secretArn)} (${type} ${field})`);
  }
  await runOperation(ctx, { operation: 'update', id: tenantId, credentialGenerations: rotations(current, type, [...values.keys()])!, wait: args.wait, pollIntervalMs: args.pollIntervalMs });
}

/**
 * A new value for a credential secret that exists and is the tenant's (tags checked; restored if
 * scheduled for deletion). A secret that no longer exists is not created again here: its ARN would
 * differ from the one the record references.
 */
export async function putExisting(ctx: CommandContext, name: string, value: string, tenant: TenantRef): Promise<void> {
  const d = await smCall('DescribeSecret', () => ctx.clients.sm.send(new DescribeSecretCommand({ SecretId: name }))).catch((err: unknown) => {
    if (err instanceof AwsCallError && err.name === 'ResourceNotFoundException') {
      throw new RefusedError('TenantStateConflictError', `secret ${name} no longer exists: store the credential again (channels add, or models --key-file without --rotate after --remove)`);
    }
    throw err;
  });
  const problems = credentialProblems({ ...d, DeletedDate: undefined }, tenant);
  if (problems.length > 0) throw new RefusedError('TenantStateConflictError', `secret ${name} is not tenant ${tenant.tenantId}'s of cell ${tenant.cell}: ${problems.join('; ')}; nothing was stored`);
  await storeCredential(ctx.clients.sm, name, value, tenant);
}

async function removeChannel(ctx: CommandContext, args: ChannelArgs): Promise<void> {
  const tenantId = parseTenantId(args.id);
  const type = channelType(args.type);
  const current = await record(ctx, tenantId);
  const removed = (current.channels ?? []).find((c) => c.type === type);
  if (!removed) throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" has no ${type} channel`);
  const channels = currentAsRequest(current).filter((c) => c.type !== type);
  await runOperation(ctx, { operation: 'update', id: tenantId, channels, wait: args.wait, pollIntervalMs: args.pollIntervalMs });
  const secrets = Object.values(removed.credentials).map((c) => c.secretArn);
  if (!args.wait) {
    if (secrets.length > 0) ctx.note(`once the update succeeded, delete the credential secrets: ${secrets.map(secretNameOfArn).join(', ')} (or remove with --wait)`);
    return;
  }
  // The update succeeded (runOperation throws otherwise): its credentials are no longer referenced.
  const tenant: TenantRef = { cell: current.cell, tenantId };
  for (const arn of secrets) {
    const d = await smCall('DescribeSecret', () => ctx.clients.sm.send(new DescribeSecretCommand({ SecretId: arn })));
    if (credentialProblems(d, tenant).length > 0) continue;
    await smCall('DeleteSecret', () => ctx.clients.sm.send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 })));
    ctx.note(`scheduled secret ${secretNameOfArn(arn)} for deletion (recoverable for 7 days)`);
  }
}

/** `field=PATH` / `field=-`: each value read from its file or stdin, never from argv. */
async function readCredentials(ctx: CommandContext, specs: readonly string[], readStdin: StdinReader): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let stdinUsed = false;
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const field = eq > 0 ? spec.slice(0, eq) : '';
    const source = eq > 0 ? spec.slice(eq + 1) : '';
    if (!CREDENTIAL_FIELD.test(field) || source === '') throw new UsageError(`--credential takes FIELD=FILE or FIELD=- (stdin), e.g. botToken=./token.txt; the value itself is never accepted on the command line`);
    if (out.has(field)) throw new UsageError(`--credential ${field} given twice`);
    let text: string;
    if (source === '-') {
      if (stdinUsed) throw new UsageError('only one --credential may be read from stdin');
      stdinUsed = true;
      text = await readStdin();
    } else {
      const full = isAbsolute(source) ? source : resolve(ctx.io.cwd ?? process.cwd(), source);
      try {
        text = await readFile(full, 'utf8');
      } catch (err) {
        const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unreadable';
        throw new UsageError(`--credential ${field}: cannot read ${source} (${code})`);
      }
    }
    // A trailing newline (echo, editors) is not part of a token.
    const value = text.replace(/\r?\n$/, '');
    if (value === '' || /[\r\n]/.test(value)) throw new UsageError(`--credential ${field}: the value must be one non-empty line`);
    out.set(field, value);
  }
  return out;
}

/**
 * Stores a credential value as the tenant's secret, through the platform's one create-or-adopt of a
 * tenant-owned secret (functions/adapters/tenant-owned-secret.ts): created with the tenant's tags,
 * or (if the name exists and is this tenant's) given a new version; a secret scheduled for deletion
 * is restored first. A secret under the name that is not this tenant's is refused and left alone.
 */
export async function storeCredential(sm: SecretsManagerClient, name: string, value: string, tenant: TenantRef): Promise<string> {
  return (await storeCredentialTracked(sm, name, value, tenant)).arn;
}

/** As storeCredential; `created` tells whether this call created the secret (it did not exist before). */
export async function storeCredentialTracked(sm: SecretsManagerClient, name: string, value: string, tenant: TenantRef): Promise<{ arn: string; created: boolean }> {
  try {
    return await putTenantSecretTracked(sm, tenant, { name, description: `OCTW tenant ${tenant.tenantId} credential`, value: () => value });
  } catch (err) {
    if (err instanceof ForeignResourceError) throw new RefusedError('TenantStateConflictError', `${err.message}: nothing was stored`);
    throw err;
  }
}

/**
 * Runs the update that references credentials this command stored. When it created a secret (one
 * that did not exist before), it waits for the update's end even without --wait, and if the update
 * did not succeed (refused by the workflow: a provider or channel the plan does not allow, over the
 * plan's host bound, ...) it deletes each secret it created that the tenant record does not
 * reference (force: it never served anyone), then reports the failure. A secret that existed before
 * is never deleted here.
 */
export async function runUpdateRemovingCreated(ctx: CommandContext, tenant: TenantRef, created: readonly string[], op: OperationArgs): Promise<void> {
  if (created.length === 0) return runOperation(ctx, op);
  if (!op.wait) ctx.note('waiting for the update to end: the credential secret it stored is removed again if the update is refused');
  try {
    await runOperation(ctx, { ...op, wait: true });
  } catch (err) {
    const after = await new TenantStore(ctx.clients.doc, ctx.config.tableName()).get(tenant.tenantId);
    const referenced = JSON.stringify({ channels: after?.channels ?? [], modelKeys: after?.modelKeys ?? [], previous: after?.previous ?? null });
    for (const name of created) {
      const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      if (new RegExp(`secret:${escaped}-[A-Za-z0-9]{6}\\b`).test(referenced)) continue;
      const d = await smCall('DescribeSecret', () => ctx.clients.sm.send(new DescribeSecretCommand({ SecretId: name })));
      if (credentialProblems({ ...d, DeletedDate: undefined }, tenant).length > 0) continue;
      await smCall('DeleteSecret', () => ctx.clients.sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })));
      ctx.note(`removed secret ${name} again: the update did not succeed and the secret did not exist before`);
    }
    throw err;
  }
}

/**
 * Checks a plan rule before anything is stored, when the CLI knows the cell's plan catalogue
 * (OCTW_PLANS_JSON: the same JSON as the functions' PLANS_JSON). Without it the workflow is the only
 * check (and a secret this command created is removed again if it refuses).
 */
export function checkAgainstPlan(ctx: CommandContext, planId: string, allowed: (plan: Plan) => boolean, what: string): void {
  const plans = ctx.config.plans?.();
  if (!plans) return;
  const plan = plans.find((p) => p.id === planId);
  if (!plan) return;
  if (!allowed(plan)) throw new UsageError(`${what} is not allowed by plan "${planId}"; nothing was stored`);
}

async function smCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new AwsCallError(awsCodeOf(err) ?? `${what}Error`, `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
