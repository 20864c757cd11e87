/**
 * `octw tenants pairing list|approve ID ...` (issue 12 item 6): the DM pairing requests of a
 * tenant's channels (`dmPolicy: "pairing"`), listed and approved through the tenant's own endpoint
 * `https://<tenant>.<domain>` with the gateway's WebSocket API (`channels.pairing.list`,
 * `channels.pairing.approve`: what the Control UI's "DM access requests" use).
 *
 * The gateway token is read from the tenant's secret with the operator's AWS credentials and used
 * only in the connect frame, as the platform operator's device (functions/domain/operator-device.ts,
 * paired by the task at start). The gateway's API approves by request id, not by the code the
 * sender got: OpenClaw keeps codes out of its API on purpose (the request id is an opaque hash), so
 * `approve` takes the REQUEST id `list` shows (sender id and name identify whom it is for).
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { TenantStore } from '../../functions/adapters/tenant-store';
import { names } from '../../functions/domain/naming';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { CommandContext } from './context';
import { DM_PAIRING_SCOPES } from '../../functions/domain/operator-device';
import { GatewayCallError, connectOperator, type GatewayRpc } from './gateway-rpc';
import { awsCodeOf, AwsCallError, RefusedError, UsageError } from './errors';
import { table } from './format';
import { parseTenantId } from './inputs';

const PairingRequestSchema = z
  .object({
    requestId: z.string().min(1),
    channel: z.string().min(1),
    accountId: z.string().min(1),
    senderId: z.string().min(1),
    senderLabel: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .loose();
export const PairingListSchema = z
  .object({
    accounts: z.array(z.object({ channel: z.string(), accountId: z.string() }).loose()),
    requests: z.array(PairingRequestSchema),
  })
  .loose();
export const PairingApproveSchema = z.object({ requestId: z.string().min(1), senderId: z.string().min(1) }).loose();
export type PairingRequest = z.infer<typeof PairingRequestSchema>;

export interface PairingArgs {
  readonly action: string | undefined;
  readonly id: string | undefined;
  readonly requestId: string | undefined;
  readonly channel?: string | undefined;
  /** Overrides `https://<tenant host>` (a local or private endpoint); http(s) origin. */
  readonly endpoint?: string | undefined;
}

export async function runPairing(ctx: CommandContext, args: PairingArgs): Promise<void> {
  if (args.action !== 'list' && args.action !== 'approve') {
    throw new UsageError(args.action === undefined ? 'missing command after "tenants pairing": list or approve' : `unknown command "tenants pairing ${args.action}"`);
  }
  const tenantId = parseTenantId(args.id);
  if (args.action === 'list' && args.requestId !== undefined) throw new UsageError(`unexpected argument "${args.requestId}" for "octw tenants pairing list"`);
  if (args.action === 'approve' && (args.requestId === undefined || args.requestId.trim() === '')) {
    throw new UsageError('missing REQUEST: octw tenants pairing approve ID REQUEST (the request id "octw tenants pairing list ID" shows)');
  }
  const channel = args.channel?.trim().toLowerCase();
  if (channel !== undefined && !/^[a-z][a-z0-9-]{0,63}$/.test(channel)) throw new UsageError(`--channel "${args.channel}" is not a channel id`);

  // A bad --endpoint is a usage error before anything is read.
  if (args.endpoint !== undefined) endpointUrl({ ingress: undefined }, args.endpoint);
  const rpc = await connectTenantGateway(ctx, tenantId, args.endpoint, DM_PAIRING_SCOPES);
  try {
    const listed = await rpc.call('channels.pairing.list', channel ? { channel } : {}, PairingListSchema);
    if (args.action === 'list') return printList(ctx, tenantId, listed.requests, listed.accounts.length);
    const requestId = args.requestId!.trim();
    const request = listed.requests.find((r) => r.requestId === requestId);
    if (!request) {
      throw new RefusedError(
        'TenantStateConflictError',
        `tenant "${tenantId}" has no pending pairing request "${requestId}"${channel ? ` on ${channel}` : ''} (requests expire after an hour; see "octw tenants pairing list ${tenantId}")`,
      );
    }
    const approved = await rpc.call('channels.pairing.approve', { channel: request.channel, accountId: request.accountId, requestId }, PairingApproveSchema);
    if (ctx.json) ctx.emit({ tenantId, approved: { requestId: approved.requestId, channel: request.channel, accountId: request.accountId, senderId: approved.senderId } });
    else ctx.print(`approved ${request.channel} sender ${approved.senderId} (request ${approved.requestId}) on tenant ${tenantId}\n`);
  } catch (err) {
    throw explainGatewayRefusal(err, tenantId);
  } finally {
    rpc.close();
  }
}

/**
 * The tenant's gateway, connected as the platform operator's device asking for `scopes`, through its
 * endpoint (or `endpoint`): refused when the tenant is missing, not ACTIVE or has no endpoint.
 */
export async function connectTenantGateway(ctx: CommandContext, tenantId: string, endpoint: string | undefined, scopes: readonly string[]): Promise<GatewayRpc> {
  const record = await tenantRecord(ctx, tenantId);
  const url = endpointUrl(record, endpoint);
  const token = await gatewayToken(ctx, record);
  try {
    return await connectOperator({ url, token, scopes });
  } catch (err) {
    throw explainGatewayRefusal(err, tenantId);
  }
}

async function tenantRecord(ctx: CommandContext, tenantId: string): Promise<TenantRecord> {
  const r = await new TenantStore(ctx.clients.doc, ctx.config.tableName()).get(tenantId);
  if (!r) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist in ${ctx.config.tableName()}`);
  if (r.status !== 'ACTIVE') throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" is ${r.status}: its gateway is reachable only when ACTIVE`);
  if (!r.ingress) {
    throw new RefusedError('TenantStateConflictError', `tenant "${tenantId}" has no endpoint: ingress is off in its cell (cdk.json "ingress"), so its gateway cannot be reached from outside`);
  }
  return r;
}

/** `wss://<tenant host>/`, or the override's origin with ws(s). */
export function endpointUrl(record: Pick<TenantRecord, 'ingress'>, override: string | undefined): string {
  if (override === undefined) {
    if (!record.ingress) throw new RefusedError('TenantStateConflictError', 'the tenant has no endpoint (ingress off)');
    return `wss://${record.ingress.hostname}/`;
  }
  let u: URL;
  try {
    u = new URL(override);
  } catch {
    throw new UsageError(`--endpoint "${override}" is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError(`--endpoint "${override}" must be an http(s) origin`);
  return `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}/`;
}

async function gatewayToken(ctx: CommandContext, record: TenantRecord): Promise<string> {
  const secretId = record.resources?.secretArn ?? names.secret({ cell: record.cell, tenantId: record.tenantId });
  try {
    const out = await ctx.clients.sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new AwsCallError('ResourceNotFoundException', `the gateway token secret of tenant "${record.tenantId}" has no value`);
    return out.SecretString;
  } catch (err) {
    if (err instanceof AwsCallError) throw err;
    const code = awsCodeOf(err) ?? 'Error';
    // The SDK's message names the secret, never its value.
    throw new AwsCallError(code, `cannot read the gateway token of tenant "${record.tenantId}": ${code}${err instanceof Error ? `: ${err.message}` : ''}`, { cause: err });
  }
}

/** The gateway's refusals in the operator's terms. */
export function explainGatewayRefusal(err: unknown, tenantId: string): unknown {
  if (!(err instanceof GatewayCallError)) return err;
  if (err.detailCode === 'AUTH_TOKEN_MISMATCH' || /token mismatch/i.test(err.message)) {
    return new RefusedError('TenantStateConflictError', `tenant "${tenantId}"'s gateway refused its token from the secret (${err.message}): the running task has another token; redeploy the tenant`);
  }
  if (err.code === 'NOT_PAIRED' || /pairing required/i.test(err.message)) {
    return new RefusedError(
      'TenantStateConflictError',
      `tenant "${tenantId}"'s gateway has not paired the platform operator's device (${err.message}): the task pairs it at start when ingress is on; a task started before that needs a redeploy ("octw tenants reprovision ${tenantId}")`,
    );
  }
  if (/missing scope/i.test(err.message)) {
    return new RefusedError('TenantStateConflictError', `tenant "${tenantId}"'s gateway did not grant the operator device what this command needs (${err.message}): a task started before its pairing script asked for it needs a redeploy`);
  }
  if (/no longer exists/i.test(err.message)) return new RefusedError('TenantStateConflictError', `tenant "${tenantId}": ${err.message} (expired or already decided)`);
  return new RefusedError('TenantStateConflictError', `tenant "${tenantId}"'s gateway refused: ${err.message}`);
}

function printList(ctx: CommandContext, tenantId: string, requests: readonly PairingRequest[], accounts: number): void {
  if (ctx.json) return ctx.emit({ tenantId, requests });
  if (accounts === 0) return ctx.print(`tenant ${tenantId} has no channel account with DM pairing\n`);
  if (requests.length === 0) return ctx.print(`no pending pairing requests on tenant ${tenantId}\n`);
  const sender = (r: PairingRequest) => [r.senderId, r.metadata?.name ?? r.metadata?.username].filter(Boolean).join(' ');
  ctx.print(
    table(
      ['REQUEST', 'CHANNEL', 'ACCOUNT', 'SENDER', 'EXPIRES'],
      requests.map((r) => [r.requestId, r.channel, r.accountId, sender(r), r.expiresAt]),
    ),
  );
}
