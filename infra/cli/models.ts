/**
 * `octw tenants models ID [--provider P (--key-file F | --remove)]`: a tenant's own model provider
 * keys (bring your own key). Without --provider: lists the providers the tenant has a key for (the
 * secret's name and the provider's endpoint, never a value). With --key-file (a path, or "-" for
 * stdin; never argv): stores the key as the tenant's credential secret under
 * `octw/tenants/<cell>/<id>/credentials/<provider>-api-key`, tagged octw:cell/octw:tenant, then
 * starts an update naming it by reference (the workflow verifies prefix and tags). --remove starts
 * an update without the provider's key (the secret stays: the operator deletes it when done).
 * --key-file for a provider the tenant has a key for is refused unless --rotate is given: --rotate
 * puts the new value into the key's secret and rolls it out (an update carrying only the key's
 * rotation counter).
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { checkAgainstPlan, putExisting, runUpdateRemovingCreated, storeCredentialTracked } from './channels';
import { secretNameOfArn } from '../../functions/domain/channels';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { TenantStore } from '../../functions/adapters/tenant-store';
import { names } from '../../functions/domain/naming';
import type { ModelKeyRequest, TenantModelKey } from '../../functions/domain/models';
import type { CommandContext } from './context';
import { RefusedError, UsageError } from './errors';
import { parseTenantId } from './inputs';
import { runOperation, type OperationArgs } from './operations';

export interface ModelsArgs {
  readonly id: string | undefined;
  readonly provider?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly remove?: boolean | undefined;
  /** With --key-file: put a new value into the provider's existing key secret and roll it out (rotation). */
  readonly rotate?: boolean | undefined;
  readonly wait: boolean;
  readonly pollIntervalMs: number;
}

const PROVIDER = /^[a-z][a-z0-9-]{0,31}$/;

export async function runModels(ctx: CommandContext, args: ModelsArgs): Promise<void> {
  const tenantId = parseTenantId(args.id);
  if (args.provider === undefined) {
    if (args.keyFile !== undefined || args.remove === true || args.rotate === true) throw new UsageError('--key-file, --rotate and --remove need --provider');
    return listModelKeys(ctx, tenantId);
  }
  if (!PROVIDER.test(args.provider)) throw new UsageError(`--provider "${args.provider}" is not a model provider id`);
  if ((args.keyFile === undefined) === (args.remove !== true)) throw new UsageError('give exactly one of --key-file (a path, or - for stdin) and --remove');
  if (args.rotate === true && args.keyFile === undefined) throw new UsageError('--rotate takes the new key with --key-file (a path, or - for stdin)');
  const record = await new TenantStore(ctx.clients.doc, ctx.config.tableName()).get(tenantId);
  if (!record) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist`);
  const existing = (record.modelKeys ?? []).find((k) => k.provider === args.provider);
  if (args.rotate === true) return rotateKey(ctx, record, existing, args);
  if (existing && args.keyFile !== undefined) {
    throw new UsageError(`tenant "${tenantId}" already has a key for provider "${args.provider}": --rotate replaces its value (and rolls it out); nothing was stored`);
  }
  // The tenant's own cell (its record says which), so the credential lands under its prefix.
  const cell = record.cell;
  const others: ModelKeyRequest[] = (record.modelKeys ?? []).filter((k) => k.provider !== args.provider).map((k) => ({ provider: k.provider, credential: k.secretArn }));
  let modelKeys = others;
  const created: string[] = [];
  if (args.keyFile !== undefined) {
    const value = (await readKey(ctx, args.keyFile)).trim();
    if (value.length === 0) throw new UsageError(`--key-file ${args.keyFile}: the key is empty`);
    const provider = args.provider;
    // Nothing is stored for a provider the plan takes no key for (when the CLI knows the plan; the workflow checks again).
    checkAgainstPlan(ctx, record.plan, (p) => p.modelProviders.some((m) => m.id === provider && m.apiKey === 'tenant'), `a key of provider "${provider}"`);
    const credential = `${provider}-api-key`;
    const name = names.credentialSecret({ cell, tenantId }, credential);
    const stored = await storeCredentialTracked(ctx.clients.sm, name, value, { cell, tenantId });
    if (stored.created) created.push(name);
    ctx.note(`stored the key of ${provider} for ${tenantId} as ${name}`);
    modelKeys = [...others, { provider, credential }];
  } else if (others.length === (record.modelKeys ?? []).length) {
    throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" has no key for provider "${args.provider}"`);
  }
  const op: OperationArgs = { operation: 'update', id: tenantId, modelKeys, wait: args.wait, pollIntervalMs: args.pollIntervalMs };
  await runUpdateRemovingCreated(ctx, { cell, tenantId }, created, op);
}

/**
 * `--rotate`: puts the new key into the secret the tenant's key for the provider already uses, then
 * starts an update that carries only the key's next generation (never the value): the config hash
 * changes, a new task revision is rolled out and ECS injects the new key. Audited; a failed update
 * restores the previous generation and revision.
 */
async function rotateKey(ctx: CommandContext, record: TenantRecord, existing: TenantModelKey | undefined, args: ModelsArgs): Promise<void> {
  if (!existing) throw new RefusedError('TenantStateConflictError', `tenant "${record.tenantId}" has no key for provider "${args.provider ?? ''}" to rotate (store one with --key-file)`);
  if (record.status !== 'ACTIVE') throw new RefusedError('TenantStateConflictError', `tenant "${record.tenantId}" is ${record.status}: a rotation is an update, which needs ACTIVE; nothing was stored`);
  const value = (await readKey(ctx, args.keyFile!)).trim();
  if (value.length === 0) throw new UsageError(`--key-file ${args.keyFile!}: the key is empty`);
  const name = secretNameOfArn(existing.secretArn);
  await putExisting(ctx, name, value, { cell: record.cell, tenantId: record.tenantId });
  ctx.note(`put a new key of ${existing.provider} into ${name}`);
  const credentialGenerations = { [`modelKeys.${existing.provider}`]: (existing.generation ?? 0) + 1 };
  await runOperation(ctx, { operation: 'update', id: record.tenantId, credentialGenerations, wait: args.wait, pollIntervalMs: args.pollIntervalMs });
}

async function listModelKeys(ctx: CommandContext, tenantId: string): Promise<void> {
  const record = await new TenantStore(ctx.clients.doc, ctx.config.tableName()).get(tenantId);
  if (!record) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist`);
  const keys = (record.modelKeys ?? []).map((k) => ({ provider: k.provider, secret: k.secretArn, endpoint: `${k.endpoint.host}:${k.endpoint.port}` }));
  if (ctx.json) return ctx.emit({ tenantId, plan: record.plan, modelKeys: keys, inferenceProfiles: record.resources.inferenceProfiles ?? {} });
  ctx.print(keys.length === 0 ? `${tenantId}: no provider key of its own (plan ${record.plan})\n` : keys.map((k) => `${k.provider}\t${k.endpoint}\t${k.secret}\n`).join(''));
  for (const [model, arn] of Object.entries(record.resources.inferenceProfiles ?? {})) ctx.print(`bedrock\t${model}\t${arn}\n`);
}

async function readKey(ctx: CommandContext, path: string): Promise<string> {
  if (path === '-') {
    if (!ctx.io.readStdin) throw new UsageError('--key-file -: no standard input to read the key from');
    return ctx.io.readStdin();
  }
  const cwd = ctx.io.cwd ?? process.cwd();
  try {
    return await readFile(isAbsolute(path) ? path : join(cwd, path), 'utf8');
  } catch (err) {
    throw new UsageError(`--key-file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

