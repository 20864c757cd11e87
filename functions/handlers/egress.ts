/**
 * The tenant's egress-proxy credential and policy item (issue 10), the only writer of the cell's
 * egress policy table: `ensure` (provisioning), `apply` (update and its rollback), `delete`
 * (deprovision and compensation). With no proxy in the cell (EGRESS_PROXY_JSON `{"enabled":false}`)
 * every action is a no-op that says so.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import { EgressPolicyStore } from '../adapters/egress-policy-store';
import { ProxyCredentialSecrets } from '../adapters/proxy-credentials';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';
import { applyEgressPolicy, ensureEgress, removeEgress, type EgressDeps } from '../usecases/egress';

const env = loadEnv([vars.EGRESS_PROXY_JSON]);
const { store, cell } = lifecycleDepsFromEnv();
const proxy = env.EGRESS_PROXY_JSON;
const deps: EgressDeps | undefined = proxy.enabled
  ? {
      proxy,
      policies: new EgressPolicyStore(
        DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG), { marshallOptions: { removeUndefinedValues: true } }),
        proxy.policyTableName,
      ),
      secrets: new ProxyCredentialSecrets(new SecretsManagerClient(CLIENT_CONFIG), cell),
      store,
    }
  : undefined;

const Input = z.object({
  action: z.enum(['ensure', 'apply', 'delete']),
  tenantId: z.string().check(z.minLength(1)),
  executionArn: z.string().check(z.minLength(1)),
});

export const handler = makeHandler('Egress', Input, async ({ action, tenantId, executionArn }) => {
  const record = action === 'delete' ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  if (!deps) return { egressProxy: 'off' };
  if (action === 'ensure') return ensureEgress(deps, record, executionArn);
  if (action === 'apply') return applyEgressPolicy(deps, record, executionArn);
  return removeEgress(deps, record, executionArn);
});
