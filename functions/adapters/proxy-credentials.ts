/**
 * The tenant's egress-proxy URL secret (issue 10): `octw/tenants/<cell>/<tenant>/egress-proxy`, its
 * value the whole proxy URL with the tenant's password, injected into the gateway by ECS. A separate
 * secret rather than a JSON key of the gateway-token secret: its value changes on its own schedule
 * (every provisioning), the gateway-token secret's format is read as a plain string by the task
 * definition, the conformance launcher and the local task runtime, and it stays out of the way of
 * the channel credential secrets. Cost: one more secret per tenant ($0.40 a month at list price).
 *
 * Adopted, rotated or deleted only when its `octw:cell` and `octw:tenant` tags are this cell's and
 * this tenant's. This adapter never reads a secret value.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { names } from '../domain/naming';
import { deleteTenantSecret, putTenantSecret } from './tenant-owned-secret';

export class ProxyCredentialSecrets {
  constructor(
    private readonly sm: SecretsManagerClient,
    private readonly cell: string,
  ) {}

  /** Stores `value` (the proxy URL) as the secret's current value, creating or adopting the secret. Returns its ARN. */
  async put(tenantId: string, value: string): Promise<string> {
    return putTenantSecret(this.sm, { cell: this.cell, tenantId }, {
      name: names.proxySecret({ cell: this.cell, tenantId }),
      description: `OCTW egress proxy URL (with credential) of tenant ${tenantId}`,
      value: () => value,
    });
  }

  /** Deletes the secret at once: the credential is worthless once the tenant's policy item is gone. */
  async delete(tenantId: string): Promise<'deleted' | 'absent'> {
    return deleteTenantSecret(this.sm, { cell: this.cell, tenantId }, names.proxySecret({ cell: this.cell, tenantId }));
  }
}
