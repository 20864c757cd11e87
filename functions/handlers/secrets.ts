/**
 * The tenant's gateway-token secret and log group, named per cell and touched only when their
 * `octw:cell` and `octw:tenant` tags are this cell's and this tenant's.
 * - `ensure`: create both (a token left from an earlier generation is replaced by a fresh one).
 * - `delete` mode "compensate" (a failed provisioning): removes the secret at once (it never served
 *   anyone) and the log group, unless the tenant was ACTIVE before (its logs are kept for purge).
 * - `delete` mode "deprovision": schedules the secret for deletion (recoverable for
 *   SECRET_RECOVERY_DAYS) and keeps the log group, with its retention, as the record of what the
 *   tenant did, until purge. Schedules the tenant's credential secrets (channel tokens, its own
 *   provider keys: everything under `.../<tenantId>/credentials/` tagged as its own) for deletion the
 *   same way: a deprovisioned tenant has no gateway that could use them, and keeping live third-party
 *   tokens through the data-retention period would only widen what a leak exposes; the recovery
 *   window undoes a mistaken deprovision. A secret under the prefix with another tenant's or cell's
 *   tags is left alone and reported (log warning, audit item `credentialsDeleted`).
 * - `purgeLogGroup` (purge workflow): deletes the log group of a DEPROVISIONED tenant.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from '../shared/zod';
import { TenantCredentialSweeper } from '../adapters/tenant-credentials';
import { GatewaySecrets, TenantLogGroups } from '../adapters/tenant-secrets';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { TenantStateConflictError } from '../domain/errors';
import { TenantIdSchema } from '../domain/tenant';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { logger } from '../shared/powertools';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';

const env = loadEnv([vars.SECRET_RECOVERY_DAYS, vars.LOG_RETENTION_DAYS]);
const { store, cell } = lifecycleDepsFromEnv();
const sm = new SecretsManagerClient(CLIENT_CONFIG);
const secrets = new GatewaySecrets(sm, cell);
const credentials = new TenantCredentialSweeper(sm);
const logGroups = new TenantLogGroups(new CloudWatchLogsClient(CLIENT_CONFIG), cell, env.LOG_RETENTION_DAYS);

const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('ensure'), tenantId: z.string().check(z.minLength(1)), executionArn: z.string().check(z.minLength(1)) }),
  z.object({ action: z.literal('purgeLogGroup'), tenantId: TenantIdSchema }),
  z.object({
    action: z.literal('delete'),
    tenantId: z.string().check(z.minLength(1)),
    executionArn: z.string().check(z.minLength(1)),
    mode: z.enum(['compensate', 'deprovision']),
  }),
]);

export const handler = makeHandler('Secrets', Input, async (input) => {
  if (input.action === 'purgeLogGroup') {
    const record = await store.require(input.tenantId);
    if (record.status !== 'DEPROVISIONED') {
      throw new TenantStateConflictError(
        `refusing to delete the log group of tenant "${input.tenantId}": it is ${record.status}; only a DEPROVISIONED tenant's logs are purged`,
      );
    }
    return { logGroup: await logGroups.delete(input.tenantId) };
  }
  const { tenantId, executionArn } = input;
  const record = input.action === 'delete' ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  if (input.action === 'ensure') {
    const [secretArn, logGroupName] = await Promise.all([
      secrets.ensure(tenantId, record.generation),
      logGroups.ensure(tenantId),
    ]);
    await store.setResources(tenantId, executionArn, { secretArn, logGroupName });
    return { secretArn, logGroupName };
  }
  const secret = await secrets.delete(tenantId, input.mode === 'deprovision' ? { recoveryDays: env.SECRET_RECOVERY_DAYS } : {});
  let credentialSweep;
  if (input.mode === 'deprovision') {
    const referenced = [...(record.channels ?? []).flatMap((c) => Object.values(c.credentials).map((v) => (typeof v === 'string' ? v : v.secretArn))), ...(record.modelKeys ?? []).map((k) => k.secretArn), ...(record.ingressOidc ? [record.ingressOidc.clientSecretName] : [])];
    credentialSweep = await credentials.deleteAll({ tenantId, cell }, { recoveryDays: env.SECRET_RECOVERY_DAYS, referenced });
    if (credentialSweep.foreign.length > 0) {
      logger.warn('secrets under the tenant\'s credential prefix are not its own: left alone', { tenantId, foreign: credentialSweep.foreign });
    }
    if (credentialSweep.deleted.length > 0 || credentialSweep.foreign.length > 0) {
      const changes = [
        ...credentialSweep.deleted.map((n) => `credential scheduled for deletion: ${n}`),
        ...credentialSweep.foreign.map((f) => `credential NOT deleted, not this tenant's: ${f.name} (${f.problems.join('; ')})`),
      ];
      await store.appendAudit(record, { transition: 'credentialsDeleted', executionArn, detail: { changes, credentials: credentialSweep } });
    }
  }
  // A deprovisioned tenant's logs, or those of one that served before, stay until purge.
  const keepLogs = input.mode === 'deprovision' || record.transitions.ACTIVE !== undefined;
  const logGroup = keepLogs ? 'kept' : await logGroups.delete(tenantId);
  await store.setResources(tenantId, executionArn, { secretArn: null, ...(keepLogs ? {} : { logGroupName: null }) });
  return { secret, logGroup, ...(credentialSweep ? { credentials: credentialSweep } : {}) };
});
