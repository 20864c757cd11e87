/**
 * A secret one tenant owns (Secrets Manager), created with the tenant's `octw:cell` and `octw:tenant`
 * tags, and adopted, restored, given a new value or deleted only when those tags are this cell's
 * and this tenant's (ForeignResourceError otherwise, the secret left as it was). Shared by the
 * gateway-token secret (tenant-secrets.ts), the egress-proxy URL secret (proxy-credentials.ts) and
 * the CLI's tenant credentials (infra/cli/channels.ts storeCredential).
 * Never reads a secret value.
 */
import type { DescribeSecretCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, PutSecretValueCommand, RestoreSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ForeignResourceError, TransientAwsError } from '../domain/errors';
import { ownershipProblems, tagsOf, tenantTags, type TenantRef } from '../domain/naming';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export interface TenantSecretWrite {
  readonly name: string;
  readonly description: string;
  /** The value to write; called once per write (e.g. a fresh random token), never when nothing is written. */
  readonly value: () => string;
  /**
   * The version id (ClientRequestToken) of this write, e.g. one per provisioning generation. A
   * secret that already has this version is adopted as it is (a repeated step writes nothing), and
   * a version written concurrently is accepted. Without it, every call writes a new version.
   */
  readonly versionId?: string;
}

/** The secret of that name, or undefined if there is none (a secret scheduled for deletion is returned, with DeletedDate). */
export async function describeSecret(sm: SecretsManagerClient, name: string): Promise<DescribeSecretCommandOutput | undefined> {
  try {
    return await sm.send(new DescribeSecretCommand({ SecretId: name }));
  } catch (err) {
    if (hasAwsErrorCode(err, 'ResourceNotFoundException')) return undefined;
    throw classifyAwsError(err, 'SecretsManager DescribeSecret');
  }
}

/** Refuses a secret whose tags do not name this tenant of this cell. */
export function verifyTenantSecret(secret: DescribeSecretCommandOutput, owner: TenantRef): void {
  const foreign = ownershipProblems(tagsOf(secret.Tags), owner);
  if (foreign.length > 0) {
    throw new ForeignResourceError(`secret ${secret.Name ?? '?'} is not tenant "${owner.tenantId}" of cell "${owner.cell}" (${foreign.join(', ')}); not touching it`);
  }
}

/**
 * Creates the secret with the tenant's tags and `write.value()`, or adopts the one of that name
 * (a retried step, a crashed attempt, a concurrent one, a secret left by an earlier generation):
 * verified as the tenant's, restored if scheduled for deletion, and given `write.value()` as its
 * current version unless it already has `write.versionId`. Returns the secret's ARN.
 */
export async function putTenantSecret(sm: SecretsManagerClient, owner: TenantRef, write: TenantSecretWrite): Promise<string> {
  return (await putTenantSecretTracked(sm, owner, write)).arn;
}

/** As putTenantSecret; `created` tells whether this call created the secret (false: an existing one was adopted). */
export async function putTenantSecretTracked(sm: SecretsManagerClient, owner: TenantRef, write: TenantSecretWrite): Promise<{ arn: string; created: boolean }> {
  const existing = await describeSecret(sm, write.name);
  if (existing?.ARN) return { arn: await adopt(sm, existing, owner, write), created: false };
  try {
    const out = await sm.send(
      new CreateSecretCommand({
        Name: write.name,
        Description: write.description,
        ...(write.versionId !== undefined ? { ClientRequestToken: write.versionId } : {}),
        SecretString: write.value(),
        Tags: tenantTags(owner.tenantId, owner.cell).map((t) => ({ Key: t.key, Value: t.value })),
      }),
    );
    if (!out.ARN) throw new TransientAwsError('SecretsManager CreateSecret returned no ARN');
    return { arn: out.ARN, created: true };
  } catch (err) {
    // Created concurrently or by a step that crashed after the call (ResourceExistsException), or
    // scheduled for deletion (InvalidRequestException): read it back and adopt it.
    if (hasAwsErrorCode(err, 'ResourceExistsException', 'InvalidRequestException')) {
      const again = await describeSecret(sm, write.name);
      if (again?.ARN) return { arn: await adopt(sm, again, owner, write), created: false };
    }
    throw classifyAwsError(err, 'SecretsManager CreateSecret');
  }
}

async function adopt(sm: SecretsManagerClient, secret: DescribeSecretCommandOutput, owner: TenantRef, write: TenantSecretWrite): Promise<string> {
  verifyTenantSecret(secret, owner);
  const arn = secret.ARN!;
  if (secret.DeletedDate) await awsCall('SecretsManager RestoreSecret', () => sm.send(new RestoreSecretCommand({ SecretId: arn })));
  if (write.versionId !== undefined && secret.VersionIdsToStages?.[write.versionId]) return arn;
  try {
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        ...(write.versionId !== undefined ? { ClientRequestToken: write.versionId } : {}),
        SecretString: write.value(),
      }),
    );
  } catch (err) {
    // The version exists already: this write was made by a concurrent or crashed attempt.
    if (!(write.versionId !== undefined && hasAwsErrorCode(err, 'ResourceExistsException'))) throw classifyAwsError(err, 'SecretsManager PutSecretValue');
  }
  return arn;
}

/**
 * Deletes the tenant's secret of that name after verifying its tags. With `recoveryDays` it can be
 * restored until then (a secret already scheduled for deletion is left scheduled); without, it is
 * deleted at once.
 */
export async function deleteTenantSecret(
  sm: SecretsManagerClient,
  owner: TenantRef,
  name: string,
  opts: { recoveryDays?: number } = {},
): Promise<'deleted' | 'absent'> {
  const existing = await describeSecret(sm, name);
  if (!existing?.ARN) return 'absent';
  verifyTenantSecret(existing, owner);
  if (existing.DeletedDate && opts.recoveryDays !== undefined) return 'deleted';
  try {
    await sm.send(
      new DeleteSecretCommand(
        opts.recoveryDays !== undefined
          ? { SecretId: existing.ARN, RecoveryWindowInDays: opts.recoveryDays }
          : { SecretId: existing.ARN, ForceDeleteWithoutRecovery: true },
      ),
    );
    return 'deleted';
  } catch (err) {
    if (hasAwsErrorCode(err, 'ResourceNotFoundException')) return 'absent';
    throw classifyAwsError(err, 'SecretsManager DeleteSecret');
  }
}
