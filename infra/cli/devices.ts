/**
 * `octw tenants devices list|approve ID ...` (issue 12 item 6): the owner's browser, opening the
 * tenant's Control UI through its endpoint with the gateway token, is a new device OpenClaw holds
 * back ("pairing required") until someone approves it. These commands are that someone, for the
 * operator: the pending device requests of the tenant's gateway (`device.pair.list`) and the
 * approval of one (`device.pair.approve`), through `wss://<tenant>.<domain>/` as the platform
 * operator's device (functions/domain/operator-device.ts).
 *
 * OpenClaw approves a device only for a caller holding every scope the device asked for, and the
 * Control UI asks for the operator set including `operator.admin`; so the operator device is paired
 * with that set (docs/ingress.md, "Owner approval in the Control UI", says what this costs).
 * Narrowed here: only a request for the `operator` role is approved (never a node, which could run
 * commands on a machine), and only one the list shows as pending now (requests expire after five
 * minutes; the browser renews its request while its page stays open).
 */
import * as z from 'zod';
import type { CommandContext } from './context';
import { RefusedError, UsageError } from './errors';
import { table } from './format';
import { parseTenantId } from './inputs';
import type { GatewayRpc } from './gateway-rpc';
import { connectTenantGateway, endpointUrl, explainGatewayRefusal } from './pairing';
import { OPERATOR_DEVICE_SCOPES } from '../../functions/domain/operator-device';

const PendingDeviceSchema = z
  .object({
    requestId: z.string().min(1),
    deviceId: z.string().min(1),
    displayName: z.string().optional(),
    platform: z.string().optional(),
    clientId: z.string().optional(),
    clientMode: z.string().optional(),
    browserOrigin: z.string().optional(),
    role: z.string().optional(),
    roles: z.array(z.string()).optional(),
    scopes: z.array(z.string()).optional(),
    remoteIp: z.string().optional(),
    isRepair: z.boolean().optional(),
    ts: z.number(),
  })
  .loose();
const PairedDeviceSchema = z.object({ deviceId: z.string().min(1), displayName: z.string().optional(), clientId: z.string().optional(), role: z.string().optional(), scopes: z.array(z.string()).optional() }).loose();
export const DevicePairListSchema = z.object({ pending: z.array(PendingDeviceSchema), paired: z.array(PairedDeviceSchema) }).loose();
export const DevicePairApproveSchema = z.object({ requestId: z.string().min(1), device: z.object({ deviceId: z.string().min(1) }).loose() }).loose();
export type PendingDevice = z.infer<typeof PendingDeviceSchema>;

/** OpenClaw's device-pairing request lifetime (docs/gateway/pairing.md of the pinned release). */
export const DEVICE_REQUEST_TTL_MS = 5 * 60 * 1000;

export interface DevicesArgs {
  readonly action: string | undefined;
  readonly id: string | undefined;
  readonly requestId: string | undefined;
  readonly endpoint?: string | undefined;
}

/** How a command reaches the tenant's gateway (the real one: connectTenantGateway; tests hand in another). */
export type GatewayConnector = (ctx: CommandContext, tenantId: string, endpoint: string | undefined, scopes: readonly string[]) => Promise<GatewayRpc>;

export async function runDevices(ctx: CommandContext, args: DevicesArgs, connect: GatewayConnector = connectTenantGateway): Promise<void> {
  if (args.action !== 'list' && args.action !== 'approve') {
    throw new UsageError(args.action === undefined ? 'missing command after "tenants devices": list or approve' : `unknown command "tenants devices ${args.action}"`);
  }
  const tenantId = parseTenantId(args.id);
  if (args.action === 'list' && args.requestId !== undefined) throw new UsageError(`unexpected argument "${args.requestId}" for "octw tenants devices list"`);
  if (args.action === 'approve' && (args.requestId === undefined || args.requestId.trim() === '')) {
    throw new UsageError('missing REQUEST: octw tenants devices approve ID REQUEST (the request id "octw tenants devices list ID" shows)');
  }
  if (args.endpoint !== undefined) endpointUrl({ ingress: undefined }, args.endpoint);

  const rpc = await connect(ctx, tenantId, args.endpoint, OPERATOR_DEVICE_SCOPES);
  try {
    // The gateway lists only requests that have not expired (it renews one while its browser keeps retrying).
    const listed = await rpc.call('device.pair.list', {}, DevicePairListSchema);
    if (args.action === 'list') return printList(ctx, tenantId, listed.pending);
    const requestId = args.requestId!.trim();
    const request = listed.pending.find((r) => r.requestId === requestId);
    if (!request) {
      throw new RefusedError(
        'TenantStateConflictError',
        `tenant "${tenantId}" has no pending device request "${requestId}": wrong id, already decided, or expired (device requests live ${DEVICE_REQUEST_TTL_MS / 60_000} minutes unless the browser keeps its page open; see "octw tenants devices list ${tenantId}")`,
      );
    }
    const roles = new Set([...(request.roles ?? []), ...(request.role ? [request.role] : [])]);
    if (roles.size === 0 || [...roles].some((r) => r !== 'operator')) {
      throw new RefusedError(
        'TenantStateConflictError',
        `device request "${requestId}" asks for role ${[...roles].join(', ') || '(none)'}: the platform approves only operator devices (a browser or an app); a node is approved on the gateway by its owner`,
      );
    }
    const approved = await rpc.call('device.pair.approve', { requestId }, DevicePairApproveSchema).catch((err: unknown) => {
      // Listed a moment ago, gone now: it expired (or someone decided it) in between.
      if (err instanceof Error && /unknown requestId|policy changed/i.test(err.message)) {
        throw new RefusedError('TenantStateConflictError', `device request "${requestId}" of tenant "${tenantId}" expired or was decided before the approval: reload the Control UI and list again`);
      }
      throw err;
    });
    const shown = { requestId: approved.requestId, deviceId: approved.device.deviceId, client: request.clientId ?? null, scopes: request.scopes ?? [] };
    if (ctx.json) ctx.emit({ tenantId, approved: shown });
    else ctx.print(`approved device ${shown.deviceId.slice(0, 12)} (${shown.client ?? 'unknown client'}; ${shown.scopes.join(' ') || 'no scopes'}) on tenant ${tenantId}\n`);
  } catch (err) {
    throw explainGatewayRefusal(err, tenantId);
  } finally {
    rpc.close();
  }
}

function printList(ctx: CommandContext, tenantId: string, pending: readonly PendingDevice[]): void {
  if (ctx.json) return ctx.emit({ tenantId, pending });
  if (pending.length === 0) return ctx.print(`no pending device requests on tenant ${tenantId}\n`);
  ctx.print(
    table(
      ['REQUEST', 'DEVICE', 'CLIENT', 'ROLE', 'SCOPES', 'FROM', 'ORIGIN'],
      pending.map((p) => [p.requestId, p.deviceId.slice(0, 12), [p.clientId, p.platform].filter(Boolean).join('/'), p.role ?? (p.roles ?? []).join(','), (p.scopes ?? []).join(','), p.remoteIp ?? '-', p.browserOrigin ?? '-']),
    ),
  );
}
