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
import type { DescribeSecretCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, PutSecretValueCommand, RestoreSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ForeignResourceError, TransientAwsError } from '../domain/errors';
import { names, ownershipProblems, tagsOf, tenantTags } from '../domain/naming';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export class ProxyCredentialSecrets {
  constructor(
    private readonly sm: SecretsManagerClient,
    private readonly cell: string,
  ) {}

  private name(tenantId: string): string {
    return names.proxySecret({ cell: this.cell, tenantId });
  }

  private async describe(tenantId: string): Promise<DescribeSecretCommandOutput | undefined> {
    try {
      return await this.sm.send(new DescribeSecretCommand({ SecretId: this.name(tenantId) }));
    } catch (err) {
      if (hasAwsErrorCode(err, 'ResourceNotFoundException')) return undefined;
      throw classifyAwsError(err, 'SecretsManager DescribeSecret');
    }
  }

  private verify(secret: DescribeSecretCommandOutput, tenantId: string): void {
    const foreign = ownershipProblems(tagsOf(secret.Tags), { cell: this.cell, tenantId });
    if (foreign.length > 0) {
      throw new ForeignResourceError(`secret ${secret.Name ?? '?'} is not tenant "${tenantId}" of cell "${this.cell}" (${foreign.join(', ')}); not touching it`);
    }
  }

  /** Stores `value` (the proxy URL) as the secret's current value, creating or adopting the secret. Returns its ARN. */
  async put(tenantId: string, value: string): Promise<string> {
    const existing = await this.describe(tenantId);
    if (existing?.ARN) return this.replace(existing, tenantId, value);
    try {
      const out = await this.sm.send(
        new CreateSecretCommand({
          Name: this.name(tenantId),
          Description: `OCTW egress proxy URL (with credential) of tenant ${tenantId}`,
          SecretString: value,
          Tags: tenantTags(tenantId, this.cell).map((t) => ({ Key: t.key, Value: t.value })),
        }),
      );
      if (!out.ARN) throw new TransientAwsError('SecretsManager CreateSecret returned no ARN');
      return out.ARN;
    } catch (err) {
      if (hasAwsErrorCode(err, 'ResourceExistsException', 'InvalidRequestException')) {
        const again = await this.describe(tenantId);
        if (again?.ARN) return this.replace(again, tenantId, value);
      }
      throw classifyAwsError(err, 'SecretsManager CreateSecret');
    }
  }

  private async replace(secret: DescribeSecretCommandOutput, tenantId: string, value: string): Promise<string> {
    this.verify(secret, tenantId);
    if (secret.DeletedDate) await awsCall('SecretsManager RestoreSecret', () => this.sm.send(new RestoreSecretCommand({ SecretId: secret.ARN })));
    await awsCall('SecretsManager PutSecretValue', () => this.sm.send(new PutSecretValueCommand({ SecretId: secret.ARN, SecretString: value })));
    return secret.ARN!;
  }

  /** Deletes the secret at once: the credential is worthless once the tenant's policy item is gone. */
  async delete(tenantId: string): Promise<'deleted' | 'absent'> {
    const existing = await this.describe(tenantId);
    if (!existing?.ARN) return 'absent';
    this.verify(existing, tenantId);
    try {
      await this.sm.send(new DeleteSecretCommand({ SecretId: existing.ARN, ForceDeleteWithoutRecovery: true }));
      return 'deleted';
    } catch (err) {
      if (hasAwsErrorCode(err, 'ResourceNotFoundException')) return 'absent';
      throw classifyAwsError(err, 'SecretsManager DeleteSecret');
    }
  }
}
