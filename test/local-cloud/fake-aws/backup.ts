/**
 * AWS Backup, the part a per-tenant restore uses (issue 13.4), over a REAL directory standing in for
 * each file system's root: a recovery point is a copy of that directory (ownership and modes kept,
 * as EFS backups keep POSIX metadata), and an item-level restore copies the named items from it into
 * `aws-backup-restore_<ISO datetime>/` off the root, as AWS Backup does for EFS. Behaviour and errors
 * from the AWS Backup API Reference and the client's modelled exceptions (@aws-sdk/client-backup 3.1092.0):
 * - DescribeRecoveryPoint: an unknown ARN, or one not in the named vault: ResourceNotFoundException;
 * - StartRestoreJob: an unknown recovery point: ResourceNotFoundException; no IamRoleArn or Metadata:
 *   MissingParameterValueException; `newFileSystem`="false" without a known `file-system-id`, or
 *   `ItemsToRestore` not a JSON array of 1-5 absolute paths: InvalidParameterValueException; the same
 *   IdempotencyToken answers the same job;
 * - DescribeRestoreJob: unknown id: ResourceNotFoundException. A job is PENDING, then RUNNING for
 *   `restoreJobMs`, then COMPLETED (its items copied when it is first seen completed) or FAILED
 *   (`failNextRestore(message)`), on the fake's clock.
 */
import * as bk from '@aws-sdk/client-backup';
import { chmodSync, copyFileSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceRef } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta } from './errors';

interface RecoveryPoint {
  readonly arn: string;
  readonly vaultName: string;
  readonly fileSystemId: string;
  readonly snapshotDir: string;
  readonly createdAt: number;
}

interface RestoreJob {
  readonly id: string;
  readonly recoveryPointArn: string;
  readonly fileSystemId: string;
  readonly items: readonly string[];
  readonly createdAt: number;
  readonly token?: string;
  readonly failure?: string;
  copied: boolean;
}

const notFound = (message: string) => new bk.ResourceNotFoundException({ message, $metadata: meta(400) });
const invalid = (message: string) => new bk.InvalidParameterValueException({ message, $metadata: meta(400) });
const missing = (message: string) => new bk.MissingParameterValueException({ message, $metadata: meta(400) });

/** Copies a tree keeping owners, modes and symbolic links (as an EFS backup and restore do). */
export function copyTreePreserving(src: string, dst: string): void {
  const s = lstatSync(src);
  if (s.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dst);
  } else if (s.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    for (const name of readdirSync(src)) copyTreePreserving(join(src, name), join(dst, name));
    chmodSync(dst, s.mode & 0o7777);
  } else if (s.isFile()) {
    copyFileSync(src, dst);
    chmodSync(dst, s.mode & 0o7777);
  } else {
    return;
  }
  try {
    lchownSync(dst, s.uid, s.gid);
  } catch {
    // Not root: ownership cannot be kept (the restore's verification then refuses the copy, as it should).
  }
}

export class BackupFake implements EmulatedService {
  readonly name = 'Backup' as const;
  readonly recoveryPoints = new Map<string, RecoveryPoint>();
  readonly jobs = new Map<string, RestoreJob>();
  private readonly roots = new Map<string, string>();
  /** How long a restore job runs on the fake's clock. */
  restoreJobMs = 0;
  private nextFailure: string | undefined;

  constructor(private readonly ctx: ServiceContext) {}

  /** The real directory standing in for a file system's root. */
  setFileSystemRoot(fileSystemId: string, dir: string): void {
    this.roots.set(fileSystemId, dir);
  }

  /** A completed backup of the file system now (what the cell's backup plan makes daily). */
  createRecoveryPoint(fileSystemId: string, vaultName: string): string {
    const root = this.roots.get(fileSystemId);
    if (!root) throw new Error(`Backup fake: no root directory set for ${fileSystemId}`);
    const arn = `arn:aws:backup:${this.ctx.config.region}:${this.ctx.config.account}:recovery-point:${this.ctx.rng.uuid()}`;
    const snapshotDir = mkdtempSync(join(tmpdir(), 'octw-fake-backup-'));
    copyTreePreserving(root, join(snapshotDir, 'fs'));
    this.recoveryPoints.set(arn, { arn, vaultName, fileSystemId, snapshotDir: join(snapshotDir, 'fs'), createdAt: this.ctx.now() });
    return arn;
  }

  /** The next restore job ends FAILED with this message. */
  failNextRestore(message: string): void {
    this.nextFailure = message;
  }

  private fsArn(id: string): string {
    return `arn:aws:elasticfilesystem:${this.ctx.config.region}:${this.ctx.config.account}:file-system/${id}`;
  }

  private state(job: RestoreJob): 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' {
    const now = this.ctx.now();
    if (now < job.createdAt + this.restoreJobMs) return now === job.createdAt ? 'PENDING' : 'RUNNING';
    if (job.failure) return 'FAILED';
    if (!job.copied) {
      const point = this.recoveryPoints.get(job.recoveryPointArn)!;
      const target = join(this.roots.get(job.fileSystemId)!, `aws-backup-restore_${new Date(job.createdAt).toISOString()}`);
      for (const item of job.items) {
        const from = join(point.snapshotDir, item);
        if (!lstatSafe(from)) continue;
        const to = join(target, item);
        mkdirSync(join(to, '..'), { recursive: true });
        copyTreePreserving(from, to);
      }
      job.copied = true;
    }
    return 'COMPLETED';
  }

  readonly operations = {
    DescribeRecoveryPoint: op((i: bk.DescribeRecoveryPointCommandInput): bk.DescribeRecoveryPointCommandOutput => {
      const p = i.RecoveryPointArn ? this.recoveryPoints.get(i.RecoveryPointArn) : undefined;
      if (!p || p.vaultName !== i.BackupVaultName) throw notFound(`Recovery point ${i.RecoveryPointArn ?? ''} not found in vault ${i.BackupVaultName ?? ''}.`);
      return {
        $metadata: {},
        RecoveryPointArn: p.arn,
        BackupVaultName: p.vaultName,
        ResourceArn: this.fsArn(p.fileSystemId),
        ResourceType: 'EFS',
        Status: 'COMPLETED',
        CreationDate: new Date(p.createdAt),
      };
    }),
    StartRestoreJob: op((i: bk.StartRestoreJobCommandInput): bk.StartRestoreJobCommandOutput => {
      if (!i.RecoveryPointArn || !i.Metadata) throw missing('RecoveryPointArn and Metadata are required.');
      if (!i.IamRoleArn) throw missing('IamRoleArn is required to restore an EFS recovery point.');
      const point = this.recoveryPoints.get(i.RecoveryPointArn);
      if (!point) throw notFound(`Recovery point ${i.RecoveryPointArn} not found.`);
      if (i.IdempotencyToken) {
        const same = [...this.jobs.values()].find((j) => j.token === i.IdempotencyToken);
        if (same) return { $metadata: {}, RestoreJobId: same.id };
      }
      const fsId = i.Metadata['file-system-id'];
      if (i.Metadata.newFileSystem === 'false' && (!fsId || !this.roots.has(fsId))) {
        throw invalid(`Invalid file-system-id ${fsId ?? '(missing)'}: restoring to an existing file system needs the id of one that exists.`);
      }
      let items: unknown;
      try {
        items = JSON.parse(i.Metadata.ItemsToRestore ?? '[]');
      } catch {
        throw invalid('ItemsToRestore must be a JSON array of paths.');
      }
      if (!Array.isArray(items) || items.length < 1 || items.length > 5 || !items.every((x) => typeof x === 'string' && x.startsWith('/'))) {
        throw invalid('ItemsToRestore must hold one to five absolute paths.');
      }
      const id = this.ctx.rng.uuid().toUpperCase();
      const failure = this.nextFailure;
      this.nextFailure = undefined;
      this.jobs.set(id, {
        id,
        recoveryPointArn: point.arn,
        fileSystemId: fsId ?? point.fileSystemId,
        items: items as string[],
        createdAt: this.ctx.now(),
        ...(i.IdempotencyToken ? { token: i.IdempotencyToken } : {}),
        ...(failure ? { failure } : {}),
        copied: false,
      });
      return { $metadata: {}, RestoreJobId: id };
    }),
    DescribeRestoreJob: op((i: bk.DescribeRestoreJobCommandInput): bk.DescribeRestoreJobCommandOutput => {
      const job = i.RestoreJobId ? this.jobs.get(i.RestoreJobId) : undefined;
      if (!job) throw notFound(`Restore job ${i.RestoreJobId ?? ''} not found.`);
      const status = this.state(job);
      return {
        $metadata: {},
        RestoreJobId: job.id,
        RecoveryPointArn: job.recoveryPointArn,
        Status: status,
        CreationDate: new Date(job.createdAt),
        ResourceType: 'EFS',
        ...(status === 'FAILED' ? { StatusMessage: job.failure } : {}),
        ...(status === 'COMPLETED' || status === 'FAILED' ? { CompletionDate: new Date(job.createdAt + this.restoreJobMs) } : {}),
      };
    }),
  };

  resources(): ResourceRef[] {
    return [];
  }
}

function lstatSafe(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
