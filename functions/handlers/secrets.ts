/**
 * The tenant's gateway-token secret and log group: create both, or delete both.
 * `delete` with mode "compensate" removes the secret at once (it never served anyone);
 * mode "deprovision" keeps it recoverable for SECRET_RECOVERY_DAYS.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { GatewaySecrets, TenantLogGroups } from '../adapters/tenant-secrets';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import { makeHandler } from '../shared/handler';
import { traced } from '../shared/powertools';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';

const env = loadEnv(['SECRET_RECOVERY_DAYS', 'LOG_RETENTION_DAYS']);
const { store, cell } = lifecycleDepsFromEnv();
const secrets = new GatewaySecrets(traced(new SecretsManagerClient({})), cell);
const logGroups = new TenantLogGroups(traced(new CloudWatchLogsClient({})), cell, env.LOG_RETENTION_DAYS);

const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('ensure'), tenantId: z.string().min(1), executionArn: z.string().min(1) }),
  z.object({
    action: z.literal('delete'),
    tenantId: z.string().min(1),
    executionArn: z.string().min(1),
    mode: z.enum(['compensate', 'deprovision']),
  }),
]);

export const handler = makeHandler('Secrets', Input, async (input) => {
  const { tenantId, executionArn } = input;
  // The record is not needed beyond the check that this execution holds the tenant.
  await (input.action === 'delete' ? requireHeldForTeardown(store, tenantId, executionArn) : requireHeld(store, tenantId, executionArn));
  if (input.action === 'ensure') {
    const [secretArn, logGroupName] = await Promise.all([secrets.ensure(tenantId), logGroups.ensure(tenantId)]);
    await store.setResources(tenantId, executionArn, { secretArn, logGroupName });
    return { secretArn, logGroupName };
  }
  const secret = await secrets.delete(tenantId, input.mode === 'deprovision' ? { recoveryDays: env.SECRET_RECOVERY_DAYS } : {});
  const logGroup = await logGroups.delete(tenantId);
  await store.setResources(tenantId, executionArn, { secretArn: null, logGroupName: null });
  return { secret, logGroup };
});
