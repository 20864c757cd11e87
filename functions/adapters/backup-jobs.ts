/**
 * AWS Backup for one tenant's directory (issue 13.4): the recovery point an operator names, an
 * item-level restore of `/tenants/<id>` into the cell's own file system, and the job's state.
 *
 * StartRestoreJob metadata for EFS (AWS Backup API Reference, StartRestoreJob "Metadata"):
 * `file-system-id` (the file system backed up), `newFileSystem` = "false" (restore into it),
 * `Encrypted` = "true", `ItemsToRestore` = a JSON array of one to five paths relative to the file
 * system's root (here only `/tenants/<id>`), plus an `IdempotencyToken` so a retried step starts no
 * second job. AWS Backup puts the items under `aws-backup-restore_<datetime>` off the root.
 */
import {
  DescribeRecoveryPointCommand,
  DescribeRestoreJobCommand,
  StartRestoreJobCommand,
  type BackupClient,
} from '@aws-sdk/client-backup';
import { ValidationError } from '../domain/errors';
import { awsCall } from '../shared/aws-errors';

export interface RecoveryPoint {
  readonly arn: string;
  readonly resourceArn: string;
  readonly status: string;
  readonly createdAt: string | undefined;
}

export type RestoreJobState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'ABORTED' | 'FAILED';

export class BackupJobs {
  constructor(
    private readonly backup: Pick<BackupClient, 'send'>,
    private readonly settings: { vaultName: string; restoreRoleArn: string; fileSystemId: string; fileSystemArn: string },
  ) {}

  /** The recovery point, refused unless it is a completed backup of this cell's file system. */
  async recoveryPoint(arn: string): Promise<RecoveryPoint> {
    const out = await awsCall('Backup DescribeRecoveryPoint', () =>
      this.backup.send(new DescribeRecoveryPointCommand({ BackupVaultName: this.settings.vaultName, RecoveryPointArn: arn })),
    );
    if (out.ResourceArn !== this.settings.fileSystemArn) {
      throw new ValidationError(`recovery point ${arn} is a backup of ${out.ResourceArn ?? '(unknown)'}, not of this cell's file system ${this.settings.fileSystemArn}`);
    }
    if (out.Status !== 'COMPLETED') throw new ValidationError(`recovery point ${arn} is ${out.Status ?? 'in an unknown state'}, not COMPLETED`);
    return { arn, resourceArn: out.ResourceArn, status: out.Status, createdAt: out.CreationDate?.toISOString() };
  }

  async startItemRestore(recoveryPointArn: string, tenantId: string, idempotencyToken: string): Promise<string> {
    const out = await awsCall('Backup StartRestoreJob', () =>
      this.backup.send(
        new StartRestoreJobCommand({
          RecoveryPointArn: recoveryPointArn,
          IamRoleArn: this.settings.restoreRoleArn,
          ResourceType: 'EFS',
          IdempotencyToken: idempotencyToken,
          Metadata: {
            'file-system-id': this.settings.fileSystemId,
            newFileSystem: 'false',
            Encrypted: 'true',
            ItemsToRestore: JSON.stringify([`/tenants/${tenantId}`]),
          },
        }),
      ),
    );
    if (!out.RestoreJobId) throw new Error('Backup StartRestoreJob answered no RestoreJobId');
    return out.RestoreJobId;
  }

  async restoreJob(id: string): Promise<{ state: RestoreJobState; createdAt: number; message?: string }> {
    const out = await awsCall('Backup DescribeRestoreJob', () => this.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: id })));
    const state: RestoreJobState = out.Status ?? 'PENDING';
    return { state, createdAt: out.CreationDate?.getTime() ?? 0, ...(out.StatusMessage ? { message: out.StatusMessage } : {}) };
  }
}
