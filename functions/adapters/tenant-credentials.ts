/**
 * Tenant-owned credential secrets (contract 4): a workflow receives only a credential's name and,
 * before anything uses it, checks that it is this tenant's of this cell: the secret's name is
 * exactly `octw/tenants/<cell>/<tenantId>/credentials/<name>` and its tags `octw:cell` and
 * `octw:tenant` are this cell's and this tenant's. The value is never read here (DescribeSecret
 * only): ECS injects it into the tenant's container.
 *
 * NOTE for the merge: branch channels owns this module; this is the same check written by the
 * models work against the same module name (the coordinator keeps one).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ForeignResourceError, ValidationError } from '../domain/errors';
import { tenantCredentialSecretName } from '../domain/models';
import { ownershipProblems, tagsOf, type TenantRef } from '../domain/naming';
import { classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export interface VerifiedCredential {
  name: string;
  arn: string;
}

/**
 * Resolves a tenant credential by its short name and verifies it is the tenant's own.
 * ValidationError: no such credential (or scheduled for deletion); ForeignResourceError: a secret
 * under that name whose tags name another tenant or cell.
 */
export async function verifyTenantCredential(secrets: SecretsManagerClient, t: TenantRef, credential: string): Promise<VerifiedCredential> {
  const name = tenantCredentialSecretName(t, credential);
  let out;
  try {
    out = await secrets.send(new DescribeSecretCommand({ SecretId: name }));
  } catch (err) {
    if (hasAwsErrorCode(err, 'ResourceNotFoundException')) {
      throw new ValidationError(`tenant "${t.tenantId}" has no credential "${credential}" (secret ${name}); store it first (octw tenants models set ... --key-file)`, [
        { path: 'credential', message: `no secret ${name}` },
      ]);
    }
    throw classifyAwsError(err, 'Secrets Manager DescribeSecret');
  }
  // The name, not a prefix match: DescribeSecret also takes a partial ARN, and the caller must get
  // exactly the secret under this tenant's credentials prefix.
  if (out.Name !== name || !out.ARN) {
    throw new ForeignResourceError(`secret ${out.Name ?? '?'} is not the credential ${name} of tenant "${t.tenantId}"; not using it`);
  }
  const foreign = ownershipProblems(tagsOf(out.Tags), t);
  if (foreign.length > 0) {
    throw new ForeignResourceError(`secret ${name} is not tenant "${t.tenantId}" of cell "${t.cell}" (${foreign.join(', ')}); not using it`);
  }
  if (out.DeletedDate) {
    throw new ValidationError(`credential ${name} of tenant "${t.tenantId}" is scheduled for deletion`, [{ path: 'credential', message: 'scheduled for deletion' }]);
  }
  return { name, arn: out.ARN };
}
