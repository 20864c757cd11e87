/**
 * The tenant's route through the ingress tier, as workflow steps:
 * - `ensure` (mode staging | live | maintenance): target group, host rule, DNS record; the
 *   placement goes on the tenant record;
 * - `verify`: an authenticated handshake with the gateway through the staging route (the tenant
 *   becomes ACTIVE only after it passes);
 * - `remove`: rule, record, target group (after the service is gone).
 *
 * Not wired yet (issue 12, integration round): the SDK clients are bound in the module that
 * exports `handler` (`makeIngressHandler(depsFromEnv())`) once @aws-sdk/client-elastic-load-balancing-v2
 * and @aws-sdk/client-route-53 are installed; the placement store is the tenant store.
 */
import * as z from 'zod';
import type { IngressRoutes } from '../adapters/ingress-routes';
import { GatewayUnhealthyError } from '../domain/errors';
import type { IngressPlacement, TenantOidc } from '../domain/ingress';
import { STAGING_HEADER, TenantOidcSchema } from '../domain/ingress';
import { TenantIdSchema } from '../domain/tenant';
import type { TenantId } from '../domain/tenant';
import { makeHandler } from '../shared/handler';

/** Where the placement lives: the tenant record (field `ingress`), written only by the holding execution. */
export interface IngressPlacementStore {
  read(tenantId: TenantId, executionArn: string): Promise<{ placement?: IngressPlacement; oidc?: TenantOidc }>;
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

const Base = { tenantId: TenantIdSchema, executionArn: z.string().min(1) };
export const IngressInputSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('ensure'), ...Base, mode: z.enum(['staging', 'live', 'maintenance']), stagingToken: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/).optional() }).strict(),
  z.object({ action: z.literal('verify'), ...Base, stagingToken: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/) }).strict(),
  z.object({ action: z.literal('remove'), ...Base }).strict(),
]);
export type IngressInput = z.infer<typeof IngressInputSchema>;

export function makeIngressHandler(deps: IngressHandlerDeps) {
  return makeHandler('Ingress', IngressInputSchema, async (input) => {
    const { placement, oidc } = await deps.store.read(input.tenantId, input.executionArn);
    if (input.action === 'ensure') {
      const p = await deps.routes.ensureRoute({
        tenantId: input.tenantId,
        mode: input.mode,
        ...(input.stagingToken ? { stagingToken: input.stagingToken } : {}),
        ...(oidc ? { oidc: TenantOidcSchema.parse(oidc) } : {}),
        ...(placement ? { placement } : {}),
      });
      await deps.store.write(input.tenantId, input.executionArn, p);
      return { ingress: p };
    }
    if (input.action === 'verify') {
      if (!placement) throw new GatewayUnhealthyError(`tenant ${input.tenantId} has no ingress route to verify`);
      const r = await deps.probe.handshake({ url: `https://${placement.hostname}/`, headers: { [STAGING_HEADER]: input.stagingToken }, tenantId: input.tenantId });
      if (!r.ok) throw new GatewayUnhealthyError(`authenticated handshake with ${placement.hostname} through the ingress failed: ${r.detail}`);
      return { verified: placement.hostname };
    }
    const removed = await deps.routes.removeRoute(input.tenantId, placement);
    await deps.store.write(input.tenantId, input.executionArn, null);
    return { removed };
  });
}
