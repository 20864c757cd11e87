/**
 * The tenant's route through the ingress tier, as workflow steps:
 * - `ensure` (mode staging | live | maintenance): target group, host rule, DNS record; the
 *   placement goes on the tenant record (a staging route gets a fresh staging token, kept on the
 *   placement until the route goes live);
 * - `verify`: an authenticated handshake with the gateway through the staging route (the tenant
 *   becomes ACTIVE only after it passes);
 * - `apply`: the recorded route again in its recorded mode with the tenant's current OIDC provider
 *   (`authenticate-oidc` before `forward` on a live route; the client secret read at that moment);
 * - `remove`: rule, record, target group (after the service is gone).
 * When the cell has no ingress (INGRESS_SETTINGS_JSON `{"enabled":false}`), every action is a no-op
 * that says so: the workflows are the same with and without ingress.
 */
import { randomBytes } from 'node:crypto';
import * as z from '../shared/zod';
import type { IngressRoutes } from '../adapters/ingress-routes';
import { GatewayUnhealthyError } from '../domain/errors';
import type { IngressPlacement, TenantOidc } from '../domain/ingress';
import { STAGING_HEADER, TenantOidcSchema } from '../domain/ingress';
import { TenantIdSchema, TenantStatusSchema } from '../domain/tenant';
import type { TenantId, TenantStatus } from '../domain/tenant';
import { makeHandler } from '../shared/handler';

/** Where the placement lives: the tenant record (field `ingress`), written only by the holding execution. */
export interface IngressPlacementStore {
  /** Throws TenantStateConflictError unless `executionArn` holds the tenant (`teardown`: and it is being torn down). */
  read(tenantId: TenantId, executionArn: string, teardown?: boolean): Promise<{ placement?: IngressPlacement; oidc?: TenantOidc; status?: TenantStatus }>;
  write(tenantId: TenantId, executionArn: string, placement: IngressPlacement | null): Promise<void>;
}

/** An authenticated handshake with the gateway at `url` (WebSocket connect with the gateway token). */
export interface GatewayProbe {
  handshake(input: { url: string; headers: Record<string, string>; tenantId: TenantId }): Promise<{ ok: boolean; detail: string }>;
}

export interface IngressHandlerDeps {
  readonly routes: IngressRoutes;
  readonly store: IngressPlacementStore;
  readonly probe: GatewayProbe;
}

const Base = { tenantId: TenantIdSchema, executionArn: z.string().check(z.minLength(1)) };
const StagingToken = z.string().check(z.regex(/^[A-Za-z0-9_-]{16,128}$/));
export const IngressInputSchema = z.discriminatedUnion('action', [
  z.strictObject({
      action: z.literal('ensure'),
      ...Base,
      mode: z.enum(['staging', 'live', 'maintenance']),
      /** Default for `staging`: the recorded staging token, else a new random one. */
      stagingToken: z.optional(StagingToken),
      /** Only while the tenant is in this status (a step that puts things back must not undo a finished transition). */
      ifStatus: z.optional(TenantStatusSchema),
      /** Only change an existing route, never create one (resume of a tenant provisioned before the cell had ingress). */
      onlyIfRouted: z._default(z.boolean(), false),
    }),
  /**
   * The recorded route again, in its recorded mode, with the tenant's current OIDC provider (an
   * update that changed it, and that update's restore). No route: nothing to do.
   */
  z.strictObject({ action: z.literal('apply'), ...Base }),
  z.strictObject({ action: z.literal('verify'), ...Base, stagingToken: z.optional(StagingToken) }),
  z.strictObject({ action: z.literal('remove'), ...Base }),
]);
export type IngressInput = z.infer<typeof IngressInputSchema>;

export function makeIngressHandler(deps: IngressHandlerDeps) {
  return makeHandler('Ingress', IngressInputSchema, async (input) => {
    const { placement, oidc, status } = await deps.store.read(input.tenantId, input.executionArn, input.action === 'remove');
    if (input.action === 'ensure') {
      if (input.ifStatus && status !== input.ifStatus) return { skipped: `tenant is ${status ?? 'unknown'}, not ${input.ifStatus}` };
      // Only provisioning creates a route (staging, before the service exists, so ECS registers the
      // task in it): a tenant provisioned before the cell had ingress has none, and its service no
      // load balancer; suspend and resume leave it so.
      if (!placement && (input.mode !== 'staging' || input.onlyIfRouted)) return { skipped: `tenant ${input.tenantId} has no ingress route` };
      const stagingToken =
        input.mode === 'staging' ? (input.stagingToken ?? placement?.stagingToken ?? randomBytes(24).toString('base64url')) : undefined;
      const p = await deps.routes.ensureRoute({
        tenantId: input.tenantId,
        mode: input.mode,
        ...(stagingToken ? { stagingToken } : {}),
        ...(oidc ? { oidc: TenantOidcSchema.parse(oidc) } : {}),
        ...(placement ? { placement } : {}),
      });
      const recorded: IngressPlacement = { ...p, ...(stagingToken ? { stagingToken } : {}) };
      await deps.store.write(input.tenantId, input.executionArn, recorded);
      // The staging token stays out of the workflow's history.
      const { stagingToken: _hidden, ...visible } = recorded;
      return { ingress: visible };
    }
    if (input.action === 'apply') {
      if (!placement) return { skipped: `tenant ${input.tenantId} has no ingress route` };
      const p = await deps.routes.ensureRoute({
        tenantId: input.tenantId,
        mode: placement.mode,
        ...(placement.stagingToken ? { stagingToken: placement.stagingToken } : {}),
        ...(oidc ? { oidc: TenantOidcSchema.parse(oidc) } : {}),
        placement,
      });
      await deps.store.write(input.tenantId, input.executionArn, { ...p, ...(placement.stagingToken ? { stagingToken: placement.stagingToken } : {}) });
      return { ingress: { hostname: p.hostname, mode: p.mode, oidc: oidc ? oidc.issuer : 'none' } };
    }
    if (input.action === 'verify') {
      if (!placement) return { skipped: `tenant ${input.tenantId} has no ingress route` };
      const token = input.stagingToken ?? placement.stagingToken;
      if (!token) throw new GatewayUnhealthyError(`tenant ${input.tenantId}'s route is ${placement.mode}, not staging: nothing to verify`);
      const r = await deps.probe.handshake({ url: `https://${placement.hostname}/`, headers: { [STAGING_HEADER]: token }, tenantId: input.tenantId });
      if (!r.ok) throw new GatewayUnhealthyError(`authenticated handshake with ${placement.hostname} through the ingress failed: ${r.detail}`);
      return { verified: placement.hostname };
    }
    const removed = await deps.routes.removeRoute(input.tenantId, placement);
    await deps.store.write(input.tenantId, input.executionArn, null);
    return { removed };
  });
}

/** The handler of a cell without ingress: every action succeeds and changes nothing. */
export function makeIngressOffHandler() {
  return makeHandler('Ingress', IngressInputSchema, (input) => Promise.resolve({ ingress: 'off' as const, action: input.action }));
}
