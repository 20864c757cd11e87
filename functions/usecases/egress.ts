/**
 * The tenant's side of the egress proxy (issue 10): its proxy credential and its policy item.
 * - `ensure` (provisioning, every generation): a fresh random password; the whole proxy URL goes to
 *   the tenant's proxy secret, only its SHA-512 crypt hash to the policy item, with the tenant's
 *   effective host rules. A retried step makes a new password and overwrites both: the last
 *   complete attempt wins, and the gateway task, created after this step, reads that one.
 * - `apply` (an update, or its rollback): the item's rules become the record's, credential kept;
 *   the difference is audited.
 * - `remove` (deprovision, compensation): the item and the secret go.
 * Nothing here returns, logs or emits the password or the URL.
 */
import { randomBytes } from 'node:crypto';
import { diffHostRules } from '../domain/egress-policy';
import type { EnabledEgressProxy } from '../domain/egress-proxy-client';
import { proxyUrl } from '../domain/egress-proxy-client';
import { effectiveHostRules } from '../domain/tenant-egress';
import type { TenantRecord } from '../domain/tenant-record';
import { randomSalt, sha512Crypt } from '../egress/sha512-crypt';
import type { EgressPolicyStore } from '../adapters/egress-policy-store';
import type { ProxyCredentialSecrets } from '../adapters/proxy-credentials';
import type { TenantStore } from '../adapters/tenant-store';

export interface EgressDeps {
  proxy: EnabledEgressProxy;
  policies: Pick<EgressPolicyStore, 'get' | 'put' | 'delete'>;
  secrets: Pick<ProxyCredentialSecrets, 'put' | 'delete'>;
  store: Pick<TenantStore, 'setResources' | 'appendAudit'>;
  /** 32 random bytes, base64url (URL-safe, no padding). */
  newPassword?: () => string;
}

export const newProxyPassword = (): string => randomBytes(32).toString('base64url');

/** A new credential for the tenant and its current policy. Returns what may be logged: the secret ARN and the rule count. */
export async function ensureEgress(deps: EgressDeps, record: TenantRecord, executionArn: string): Promise<{ proxySecretArn: string; rules: number }> {
  const password = (deps.newPassword ?? newProxyPassword)();
  const proxySecretArn = await deps.secrets.put(record.tenantId, proxyUrl(deps.proxy, record.tenantId, password));
  const rules = effectiveHostRules(record);
  await deps.policies.put(record.tenantId, sha512Crypt(password, randomSalt()), rules);
  await deps.store.setResources(record.tenantId, executionArn, { proxySecretArn });
  return { proxySecretArn, rules: rules.length };
}

/** The record's rules into the tenant's item (credential kept), audited as a diff. A tenant without an item gets a credential first. */
export async function applyEgressPolicy(
  deps: EgressDeps,
  record: TenantRecord,
  executionArn: string,
): Promise<{ added: number; removed: number; credential: 'kept' | 'created' }> {
  const current = await deps.policies.get(record.tenantId);
  const desired = effectiveHostRules(record);
  const diff = diffHostRules(current?.rules ?? [], desired);
  if (!current) {
    // Provisioned while the cell had no proxy: the gateway gets the credential with its next task-definition revision.
    await ensureEgress(deps, record, executionArn);
  } else if (diff.add.length > 0 || diff.remove.length > 0 || JSON.stringify(current.rules) !== JSON.stringify(desired)) {
    await deps.policies.put(record.tenantId, current.credentialHash, desired);
  }
  if (diff.add.length > 0 || diff.remove.length > 0) {
    await deps.store.appendAudit(record, { transition: 'egressPolicy', executionArn, detail: { egressPolicy: { add: diff.add, remove: diff.remove } } });
  }
  return { added: diff.add.length, removed: diff.remove.length, credential: current ? 'kept' : 'created' };
}

export async function removeEgress(deps: EgressDeps, record: TenantRecord, executionArn: string): Promise<{ policy: string; secret: string }> {
  const policy = await deps.policies.delete(record.tenantId);
  const secret = await deps.secrets.delete(record.tenantId);
  await deps.store.setResources(record.tenantId, executionArn, { proxySecretArn: null });
  return { policy, secret };
}
