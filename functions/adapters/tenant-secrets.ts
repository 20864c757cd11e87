/**
 * The tenant's gateway-token secret (Secrets Manager) and its log group (CloudWatch Logs). Both are
 * named per cell, and adopted, restored or deleted only when their `octw:cell` and `octw:tenant`
 * tags are this cell's and this tenant's (ForeignResourceError otherwise).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { DescribeSecretCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ForeignResourceError, TransientAwsError } from '../domain/errors';
import { names, ownershipProblems, tenantTags } from '../domain/naming';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';
import { deleteTenantSecret, describeSecret, putTenantSecret } from './tenant-owned-secret';

/** 32 random bytes as 64 hex characters. */
export const newGatewayToken = (): string => randomBytes(32).toString('hex');

/**
 * The secret version id (ClientRequestToken) of a tenant's token for one provisioning generation:
 * deterministic, so a retried step recognises the version it already wrote, and different for
 * every generation, so a new generation never finds its token already there.
 */
export function tokenVersionId(cell: string, tenantId: string, generation: number): string {
  const h = createHash('sha256').update(`octw-gateway-token#${cell}#${tenantId}#${generation}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class GatewaySecrets {
  constructor(
    private readonly sm: SecretsManagerClient,
    /** The cell these secrets belong to: in their names, their tags, and checked on every adopt and delete. */
    private readonly cell: string,
    private readonly newToken: () => string = newGatewayToken,
  ) {}

  async describe(tenantId: string): Promise<DescribeSecretCommandOutput | undefined> {
    return describeSecret(this.sm, names.secret({ cell: this.cell, tenantId }));
  }

  /**
   * Creates the token secret for this provisioning generation. A secret of this cell's tenant left
   * from an earlier generation (a failed rollback, a failed deprovision) is adopted (restored if
   * scheduled for deletion) and given a fresh random value: a token is never carried over to a new
   * generation or a new owner. Repeating the step within one generation changes nothing (the
   * version id is the generation's, tokenVersionId).
   */
  async ensure(tenantId: string, generation: number): Promise<string> {
    return putTenantSecret(this.sm, { cell: this.cell, tenantId }, {
      name: names.secret({ cell: this.cell, tenantId }),
      description: `OCTW gateway token of tenant ${tenantId}`,
      value: this.newToken,
      versionId: tokenVersionId(this.cell, tenantId, generation),
    });
  }

  /**
   * Deletes the secret. With `recoveryDays` it can be restored until then (deprovision); without,
   * it is deleted at once (compensation of a provisioning that never served anyone).
   */
  async delete(tenantId: string, opts: { recoveryDays?: number }): Promise<'deleted' | 'absent'> {
    return deleteTenantSecret(this.sm, { cell: this.cell, tenantId }, names.secret({ cell: this.cell, tenantId }), opts);
  }
}

export class TenantLogGroups {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    /** The cell these log groups belong to: in their names, their tags, and checked on every adopt and delete. */
    private readonly cell: string,
    private readonly retentionDays: number,
  ) {}

  async ensure(tenantId: string): Promise<string> {
    const logGroupName = names.logGroup({ cell: this.cell, tenantId });
    try {
      await this.logs.send(
        new CreateLogGroupCommand({
          logGroupName,
          tags: Object.fromEntries(tenantTags(tenantId, this.cell).map((t) => [t.key, t.value])),
        }),
      );
    } catch (err) {
      if (!hasAwsErrorCode(err, 'ResourceAlreadyExistsException')) throw classifyAwsError(err, 'Logs CreateLogGroup');
      // It exists (a retried step, or someone else's): adopt it only if it is ours.
      const arn = await this.arnOf(logGroupName);
      if (!arn) throw new TransientAwsError(`log group ${logGroupName} exists but cannot be read yet`, { cause: err });
      await this.verify(arn, logGroupName, tenantId);
    }
    await awsCall('Logs PutRetentionPolicy', () =>
      this.logs.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: this.retentionDays })),
    );
    return logGroupName;
  }

  async exists(tenantId: string): Promise<boolean> {
    return (await this.arnOf(names.logGroup({ cell: this.cell, tenantId }))) !== undefined;
  }

  /** The log group's ARN (without the `:*` suffix), or undefined if there is none of that exact name. */
  private async arnOf(logGroupName: string): Promise<string | undefined> {
    const out = await awsCall('Logs DescribeLogGroups', () =>
      this.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName, limit: 5 })),
    );
    const group = (out.logGroups ?? []).find((g) => g.logGroupName === logGroupName);
    return group ? (group.logGroupArn ?? group.arn?.replace(/:\*$/, '')) : undefined;
  }

  /** Refuses a log group that is not this cell's tenant's (its tags say so). */
  private async verify(arn: string, logGroupName: string, tenantId: string): Promise<void> {
    const out = await awsCall('Logs ListTagsForResource', () => this.logs.send(new ListTagsForResourceCommand({ resourceArn: arn })));
    const foreign = ownershipProblems(new Map(Object.entries(out.tags ?? {})), { cell: this.cell, tenantId });
    if (foreign.length > 0) {
      throw new ForeignResourceError(`log group ${logGroupName} is not tenant "${tenantId}" of cell "${this.cell}" (${foreign.join(', ')}); not touching it`);
    }
  }

  async delete(tenantId: string): Promise<'deleted' | 'absent'> {
    const logGroupName = names.logGroup({ cell: this.cell, tenantId });
    const arn = await this.arnOf(logGroupName);
    if (!arn) return 'absent';
    await this.verify(arn, logGroupName, tenantId);
    try {
      await this.logs.send(new DeleteLogGroupCommand({ logGroupName }));
      return 'deleted';
    } catch (err) {
      if (hasAwsErrorCode(err, 'ResourceNotFoundException')) return 'absent';
      throw classifyAwsError(err, 'Logs DeleteLogGroup');
    }
  }
}
