/**
 * The Ingress function: the tenant's route steps (functions/usecases/ingress.ts) bound to AWS:
 * ELBv2 and Route 53 clients, the tenant record as placement store, the tenant's OIDC client
 * secret and gateway token from Secrets Manager, the handshake over HTTPS to the tenant's host.
 * A no-op when the cell has no ingress.
 */
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from '../shared/zod';
import { GatewayHandshake, elbV2PortFromClient, route53PortFromClient, TenantOidcSecrets } from '../adapters/ingress-sdk';
import { IngressRoutes } from '../adapters/ingress-routes';
import { TenantStateConflictError } from '../domain/errors';
import { names } from '../domain/naming';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { awsCall } from '../shared/aws-errors';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';
import type { IngressPlacementStore } from '../usecases/ingress';
import { makeIngressHandler, makeIngressOffHandler } from '../usecases/ingress';

const env = loadEnv([vars.INGRESS_SETTINGS_JSON]);
/**
 * Local cloud only: the origin (e.g. `http://127.0.0.1:PORT`) that stands in for the load balancer
 * in the handshake; in AWS it is unset and the handshake goes to `https://<tenant host>`.
 */
const probeOrigin = z.optional(z.url({ protocol: /^https?$/ })).parse(process.env.OCTW_INGRESS_PROBE_ORIGIN || undefined);

function build() {
  if (!env.INGRESS_SETTINGS_JSON.enabled) return makeIngressOffHandler();
  const { settings } = env.INGRESS_SETTINGS_JSON;
  const { store, cell } = lifecycleDepsFromEnv();
  const secretsClient = new SecretsManagerClient(CLIENT_CONFIG);
  const placements: IngressPlacementStore = {
    async read(tenantId, executionArn, teardown) {
      const record = teardown ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
      if (record.cell !== cell) throw new TenantStateConflictError(`tenant "${tenantId}" is of cell "${record.cell}", not "${cell}"`);
      return {
        status: record.status,
        ...(record.ingress ? { placement: record.ingress } : {}),
        ...(record.ingressOidc ? { oidc: { issuer: record.ingressOidc.issuer, authorizationEndpoint: record.ingressOidc.authorizationEndpoint, tokenEndpoint: record.ingressOidc.tokenEndpoint, userInfoEndpoint: record.ingressOidc.userInfoEndpoint, clientId: record.ingressOidc.clientId } } : {}),
      };
    },
    write: (tenantId, executionArn, placement) => store.setIngress(tenantId, executionArn, placement),
  };
  const oidcSecrets = new TenantOidcSecrets(secretsClient, cell, async (tenantId) => (await store.require(tenantId)).ingressOidc?.clientSecretName);
  const routes = new IngressRoutes(
    elbV2PortFromClient(new ElasticLoadBalancingV2Client(CLIENT_CONFIG)),
    route53PortFromClient(new Route53Client(CLIENT_CONFIG)),
    settings,
    oidcSecrets.reader(),
  );
  const tokenOf = async (tenantId: string) => {
    const out = await awsCall('SecretsManager GetSecretValue', () => secretsClient.send(new GetSecretValueCommand({ SecretId: names.secret({ cell, tenantId }) })));
    if (!out.SecretString) throw new TenantStateConflictError(`tenant "${tenantId}" has no gateway token`);
    return out.SecretString;
  };
  return makeIngressHandler({ routes, store: placements, probe: new GatewayHandshake(tokenOf, undefined, probeOrigin) });
}

export const handler = build();
