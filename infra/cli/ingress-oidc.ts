/**
 * `octw tenants ingress ID [--oidc-issuer URL --oidc-authorization-endpoint URL
 *   --oidc-token-endpoint URL --oidc-userinfo-endpoint URL --client-id ID --client-secret-file F|-
 *   | --no-oidc]` (issue 12): the tenant's own OIDC provider in front of its endpoint (ALB
 * `authenticate-oidc`). Without options: shows the endpoint and its provider (never a secret).
 * The client secret is read from a file or stdin (never argv), stored as the tenant's credential
 * secret `octw/tenants/<cell>/<id>/credentials/ingress-oidc-client-secret` (tagged octw:cell /
 * octw:tenant), and the update names it by reference: the workflow verifies prefix and tags, and
 * the Ingress function reads the value only when it puts the rule. Every URL must be https (zod,
 * the same schema the workflow uses). `--no-oidc` removes the provider (the secret stays until
 * deprovision's credential sweep, or the operator deletes it).
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { TenantStore } from '../../functions/adapters/tenant-store';
import { IngressOidcRequestSchema, OIDC_CLIENT_SECRET_CREDENTIAL } from '../../functions/domain/ingress';
import { names } from '../../functions/domain/naming';
import { runUpdateRemovingCreated, storeCredentialTracked } from './channels';
import type { CommandContext } from './context';
import { RefusedError, UsageError } from './errors';
import { parseTenantId } from './inputs';
import type { OperationArgs } from './operations';

export interface IngressOidcArgs {
  readonly id: string | undefined;
  readonly issuer?: string | undefined;
  readonly authorizationEndpoint?: string | undefined;
  readonly tokenEndpoint?: string | undefined;
  readonly userInfoEndpoint?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecretFile?: string | undefined;
  readonly noOidc?: boolean | undefined;
  readonly wait: boolean;
  readonly pollIntervalMs: number;
}

export async function runIngressOidc(ctx: CommandContext, args: IngressOidcArgs): Promise<void> {
  const tenantId = parseTenantId(args.id);
  const settings = [args.issuer, args.authorizationEndpoint, args.tokenEndpoint, args.userInfoEndpoint, args.clientId, args.clientSecretFile];
  const given = settings.some((v) => v !== undefined);
  if (args.noOidc === true && given) throw new UsageError('--no-oidc removes the provider: it takes none of the --oidc-* / --client-* options');
  const record = await new TenantStore(ctx.clients.doc, ctx.config.tableName()).get(tenantId);
  if (!record) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist`);
  if (!given && args.noOidc !== true) {
    const shown = { tenantId, endpoint: record.ingress ? `https://${record.ingress.hostname}` : null, mode: record.ingress?.mode ?? null, oidc: record.ingressOidc ?? null };
    if (ctx.json) return ctx.emit(shown);
    ctx.print(`${tenantId}\t${shown.endpoint ?? 'no endpoint'}\t${shown.mode ?? '-'}\t${record.ingressOidc ? `oidc ${record.ingressOidc.issuer} client ${record.ingressOidc.clientId}` : 'no oidc'}\n`);
    return;
  }
  if (!record.ingress) throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" has no endpoint (its cell has no ingress, or it has no route yet): there is nothing to put an OIDC provider in front of`);
  const cell = record.cell;
  const created: string[] = [];
  let ingressOidc: OperationArgs['ingressOidc'] = null;
  if (args.noOidc !== true) {
    if (args.clientSecretFile === undefined) throw new UsageError('--client-secret-file is required (a path, or - for stdin; never the secret on the command line)');
    const missing = (['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userInfoEndpoint', 'clientId'] as const).filter((k) => args[k] === undefined);
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((k) => FLAG[k]).join(', ')} (the ALB takes every endpoint explicitly)`);
    const request = {
      issuer: args.issuer,
      authorizationEndpoint: args.authorizationEndpoint,
      tokenEndpoint: args.tokenEndpoint,
      userInfoEndpoint: args.userInfoEndpoint,
      clientId: args.clientId,
      clientSecret: OIDC_CLIENT_SECRET_CREDENTIAL,
    };
    // Checked before the secret is stored: nothing is written for settings the workflow would refuse.
    const parsed = IngressOidcRequestSchema.safeParse(request);
    if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${FLAG[String(i.path[0]) as keyof typeof FLAG] ?? String(i.path[0])}: ${i.message}`).join('; '));
    const value = (await readSecret(ctx, args.clientSecretFile)).trim();
    if (value.length === 0) throw new UsageError(`--client-secret-file ${args.clientSecretFile}: the client secret is empty`);
    const name = names.credentialSecret({ cell, tenantId }, OIDC_CLIENT_SECRET_CREDENTIAL);
    const stored = await storeCredentialTracked(ctx.clients.sm, name, value, { cell, tenantId });
    if (stored.created) created.push(name);
    ctx.note(`stored the OIDC client secret of ${tenantId} as ${name}`);
    ingressOidc = parsed.data;
  } else if (!record.ingressOidc) {
    throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" has no OIDC provider`);
  }
  const op: OperationArgs = { operation: 'update', id: tenantId, ingressOidc, wait: args.wait, pollIntervalMs: args.pollIntervalMs };
  await runUpdateRemovingCreated(ctx, { cell, tenantId }, created, op);
}

const FLAG = {
  issuer: '--oidc-issuer',
  authorizationEndpoint: '--oidc-authorization-endpoint',
  tokenEndpoint: '--oidc-token-endpoint',
  userInfoEndpoint: '--oidc-userinfo-endpoint',
  clientId: '--client-id',
  clientSecret: '--client-secret-file',
} as const;

async function readSecret(ctx: CommandContext, path: string): Promise<string> {
  if (path === '-') {
    if (!ctx.io.readStdin) throw new UsageError('--client-secret-file -: no standard input to read the client secret from');
    return ctx.io.readStdin();
  }
  const cwd = ctx.io.cwd ?? process.cwd();
  try {
    return await readFile(isAbsolute(path) ? path : join(cwd, path), 'utf8');
  } catch (err) {
    throw new UsageError(`--client-secret-file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
