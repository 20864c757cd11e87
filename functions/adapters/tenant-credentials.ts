/**
 * Tenant-owned credentials (contract 4): channel tokens and bring-your-own provider keys, stored by
 * the caller (the CLI for the operator) as Secrets Manager secrets named
 * `octw/tenants/<cell>/<tenantId>/credentials/<name>` and tagged `octw:cell` / `octw:tenant`.
 *
 * The workflow never reads a credential's value: it receives a reference (name or ARN), and before
 * the reference is recorded or placed in a task definition it checks, with DescribeSecret (metadata
 * only), that the secret is this tenant's of this cell: the name under the tenant's own prefix AND
 * both tags. Anything else is refused: another tenant's or another cell's secret, a secret outside
 * the prefix (the gateway token, the platform's own), one scheduled for deletion, one that does not
 * exist. ECS then injects the value (execution role) as an env var; the config references it.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeleteSecretCommand, DescribeSecretCommand, ListSecretsCommand, type SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { ForeignResourceError, ValidationError } from '../domain/errors';
import { CREDENTIAL_NAME_PATTERN, ownershipProblems, referenceName, tagsOf, tenantCredentialPrefix, type TenantRef } from '../domain/naming';
import { awsCall } from '../shared/aws-errors';
import { classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

/** The port the update use case calls (so it can be tested without Secrets Manager). */
export interface CredentialVerifier {
  /** Resolves `reference` to the ARN of a secret that is `tenant`'s; throws ForeignResourceError / ValidationError otherwise. */
  verify(reference: string, tenant: TenantRef, path: string): Promise<string>;
}

/** Why a secret (as DescribeSecret shows it) is not a credential of `tenant`; empty when it is. */
export function credentialProblems(secret: { Name?: string | undefined; Tags?: { Key?: string; Value?: string }[] | undefined; DeletedDate?: Date | undefined }, tenant: TenantRef): string[] {
  const problems: string[] = [];
  const prefix = tenantCredentialPrefix(tenant);
  const name = secret.Name ?? '';
  if (!name.startsWith(prefix) || !CREDENTIAL_NAME_PATTERN.test(name.slice(prefix.length))) {
    problems.push(`its name "${name}" is not under ${prefix}<name>`);
  }
  problems.push(...ownershipProblems(tagsOf(secret.Tags), tenant).map((p) => `its tag ${p}`));
  if (secret.DeletedDate !== undefined) problems.push('it is scheduled for deletion');
  return problems;
}

export { referenceName } from '../domain/naming';

export class TenantCredentials implements CredentialVerifier {
  constructor(private readonly sm: SecretsManagerClient) {}

  async verify(reference: string, tenant: TenantRef, path: string): Promise<string> {
    // The reference itself must already name the tenant's prefix (no AWS call for anything else,
    // and the function's IAM statement names only credential secrets of its own cell).
    const named = credentialProblems({ Name: referenceName(reference), Tags: [{ Key: 'octw:cell', Value: tenant.cell }, { Key: 'octw:tenant', Value: tenant.tenantId }] }, tenant);
    if (named.length > 0) {
      throw new ForeignResourceError(`update refused: ${path}: secret "${reference}" is not a credential of tenant "${tenant.tenantId}" in cell "${tenant.cell}": ${named.join('; ')}`);
    }
    let secret;
    try {
      secret = await this.sm.send(new DescribeSecretCommand({ SecretId: reference }));
    } catch (err) {
      if (hasAwsErrorCode(err, 'ResourceNotFoundException')) {
        throw new ValidationError(`update refused: ${path}: no secret "${reference}"`, [{ path, message: `no secret "${reference}"` }], { cause: err });
      }
      throw classifyAwsError(err, 'SecretsManager DescribeSecret');
    }
    const problems = credentialProblems(secret, tenant);
    if (problems.length > 0 || !secret.ARN) {
      // The reference names a secret that is not this tenant's credential: never used, never recorded.
      throw new ForeignResourceError(
        `update refused: ${path}: secret "${reference}" is not a credential of tenant "${tenant.tenantId}" in cell "${tenant.cell}": ${problems.join('; ') || 'no ARN'}`,
      );
    }
    return secret.ARN;
  }
}

/** What a sweep of a tenant's credentials did (names only, never values). */
export interface CredentialSweep {
  /** Scheduled for deletion (or deleted) by this sweep. */
  deleted: string[];
  /** Already scheduled for deletion before this sweep. */
  alreadyScheduled: string[];
  /** Under the tenant's prefix but not tagged as its own: left alone, and reported. */
  foreign: { name: string; problems: string[] }[];
}

/**
 * Deletes every credential secret of a tenant (contract 1): everything under
 * `octw/tenants/<cell>/<tenantId>/credentials/` whose `octw:cell` and `octw:tenant` tags are this
 * cell's and this tenant's, found by ListSecrets (name prefix, case-sensitive) plus the references
 * the tenant record still holds (ListSecrets may lag a few minutes behind a new secret). A secret
 * under the prefix with anyone else's tags is never touched: it is returned in `foreign`.
 * `recoveryDays` schedules the deletion (restorable until then), as the gateway token's at deprovision.
 */
export class TenantCredentialSweeper {
  constructor(private readonly sm: SecretsManagerClient) {}

  async deleteAll(tenant: TenantRef, opts: { recoveryDays: number; referenced?: readonly string[] }): Promise<CredentialSweep> {
    const prefix = tenantCredentialPrefix(tenant);
    const found = new Map<string, Pick<SecretListEntry, 'ARN' | 'Name' | 'Tags' | 'DeletedDate'>>();
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await awsCall('SecretsManager ListSecrets', () =>
        this.sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100, ...(token !== undefined ? { NextToken: token } : {}) })),
      );
      for (const s of page.SecretList ?? []) if (s.Name?.startsWith(prefix) && s.ARN) found.set(s.Name, s);
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    for (const ref of opts.referenced ?? []) {
      if (!referenceName(ref).startsWith(prefix) || found.has(referenceName(ref))) continue;
      try {
        const d = await this.sm.send(new DescribeSecretCommand({ SecretId: ref }));
        if (d.Name?.startsWith(prefix) && d.ARN) found.set(d.Name, d);
      } catch (err) {
        if (!hasAwsErrorCode(err, 'ResourceNotFoundException')) throw classifyAwsError(err, 'SecretsManager DescribeSecret');
      }
    }
    const out: CredentialSweep = { deleted: [], alreadyScheduled: [], foreign: [] };
    for (const [name, s] of [...found.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const problems = ownershipProblems(tagsOf(s.Tags), tenant);
      if (problems.length > 0) {
        out.foreign.push({ name, problems });
        continue;
      }
      if (s.DeletedDate !== undefined) {
        out.alreadyScheduled.push(name);
        continue;
      }
      try {
        await this.sm.send(new DeleteSecretCommand({ SecretId: s.ARN, RecoveryWindowInDays: opts.recoveryDays }));
        out.deleted.push(name);
      } catch (err) {
        if (hasAwsErrorCode(err, 'ResourceNotFoundException')) continue;
        // Already scheduled meanwhile: AWS answers InvalidRequestException for a second DeleteSecret with a window.
        if (hasAwsErrorCode(err, 'InvalidRequestException')) {
          out.alreadyScheduled.push(name);
          continue;
        }
        throw classifyAwsError(err, 'SecretsManager DeleteSecret');
      }
    }
    return out;
  }
}
