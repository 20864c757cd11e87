/**
 * Per-tenant restore and export (issue 13.4). The steps of the RestoreTenant workflow
 * (state-machines/restore-tenant.asl.json) and the one step of ExportTenant. This function mounts the
 * file system's ROOT through its own access point (uid 0, mounted at BACKUP_JSON.fileSystemMountPath):
 * AWS Backup restores items into `/aws-backup-restore_<datetime>` off the root, outside `/tenants`, so
 * only a root-level mount can move the restored directory next to the tenant's and swap it in (a
 * rename on one file system: atomic, no copy). A Lambda rather than a one-off Fargate task: the moves
 * are renames and the checks are bounded, well inside 15 minutes; an export is bounded by
 * `maxExportBytes` for the same reason.
 *
 * Actions:
 * - `check` {tenantId, recoveryPointArn}: the tenant is ACTIVE or SUSPENDED and the recovery point a
 *   COMPLETED backup of this cell's file system; answers `wasActive`, uid and gid. Changes nothing.
 * - `startWorkflow` {workflow: suspend|resume, tenantId}: starts SuspendTenant / ResumeTenant under the
 *   name the CLI would use (`suspend-<id>-v<version>`), so a duplicate start is the same run.
 * - `workflowStatus` {executionArn}: RUNNING, SUCCEEDED, FAILED...
 * - `startRestoreJob` {tenantId, recoveryPointArn, executionArn}: the item-level restore (idempotent).
 * - `restoreJobStatus` {restoreJobId}.
 * - `swap` {tenantId, restoreJobId}: locate, stage, verify (owner = tenant uid/gid, not empty), swap.
 * - `export` {tenantId, bucket, prefix, kmsKeyArn}: every file of /tenants/<id> to S3 with SSE-KMS, and
 *   a manifest (paths, sizes, modes, owners). Refuses without a key.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BackupClient } from '@aws-sdk/client-backup';
import { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import * as z from '../shared/zod';
import { BackupJobs } from '../adapters/backup-jobs';
import { ExportStore, parseExportTarget } from '../adapters/export-store';
import { StateMachineStarter } from '../adapters/step-functions';
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { operationExecutionName } from '../domain/operations';
import { TenantIdSchema } from '../domain/tenant';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { tenantStoreFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { awsCall } from '../shared/aws-errors';
import { logger } from '../shared/powertools';
import { cleanRestoreDirectory, exportFiles, locateRestored, stageVerifyAndSwap } from '../usecases/tenant-data';

const env = loadEnv([vars.TABLE_NAME, vars.FILE_SYSTEM_ID, vars.FILE_SYSTEM_ARN, vars.SUSPEND_STATE_MACHINE_ARN, vars.BACKUP_JSON]);
const settings = env.BACKUP_JSON;
const store = tenantStoreFromEnv();
const sfn = new SFNClient(CLIENT_CONFIG);
const workflows = {
  suspend: new StateMachineStarter(sfn, env.SUSPEND_STATE_MACHINE_ARN),
  resume: new StateMachineStarter(sfn, settings.resumeStateMachineArn),
};
const backups = new BackupJobs(new BackupClient(CLIENT_CONFIG), {
  vaultName: settings.vaultName,
  restoreRoleArn: settings.restoreRoleArn,
  fileSystemId: env.FILE_SYSTEM_ID,
  fileSystemArn: env.FILE_SYSTEM_ARN,
});
const exportsTo = new ExportStore(new S3Client(CLIENT_CONFIG));

const RecoveryPointArn = z.string().check(z.regex(/^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:recovery-point:[A-Za-z0-9-]+$/, { error: 'must be an AWS Backup recovery point ARN' }));

const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('check'), tenantId: TenantIdSchema, recoveryPointArn: RecoveryPointArn }),
  z.object({ action: z.literal('startWorkflow'), workflow: z.enum(['suspend', 'resume']), tenantId: TenantIdSchema }),
  z.object({ action: z.literal('workflowStatus'), executionArn: z.string().check(z.minLength(1)) }),
  z.object({ action: z.literal('startRestoreJob'), tenantId: TenantIdSchema, recoveryPointArn: RecoveryPointArn, executionArn: z.string().check(z.minLength(1)) }),
  z.object({ action: z.literal('restoreJobStatus'), restoreJobId: z.string().check(z.minLength(1)) }),
  z.object({ action: z.literal('swap'), tenantId: TenantIdSchema, restoreJobId: z.string().check(z.minLength(1)) }),
  z.object({ action: z.literal('export'), tenantId: TenantIdSchema, to: z.string().check(z.minLength(1)), kmsKeyArn: z.optional(z.string()) }),
]);

export const CREDENTIAL_WARNING =
  "The tenant's state directory holds its OAuth tokens in plain text (OpenClaw's SQLite state): this backup or export is a credential. Keep it encrypted and readable only by those who may act as the tenant.";

export const handler = makeHandler('Restore', Input, async (input) => {
  switch (input.action) {
    case 'check': {
      const record = await store.require(input.tenantId);
      if (record.status !== 'ACTIVE' && record.status !== 'SUSPENDED') {
        throw new TenantStateConflictError(`tenant "${input.tenantId}" is ${record.status}; only an ACTIVE or SUSPENDED tenant's data can be restored`);
      }
      if (record.uid === undefined || record.gid === undefined) throw new TenantStateConflictError(`tenant "${input.tenantId}" has no uid/gid recorded`);
      const point = await backups.recoveryPoint(input.recoveryPointArn);
      return { tenantId: input.tenantId, recoveryPointArn: point.arn, recoveryPointCreatedAt: point.createdAt, wasActive: record.status === 'ACTIVE', uid: record.uid, gid: record.gid };
    }
    case 'startWorkflow': {
      const record = await store.require(input.tenantId);
      const name = operationExecutionName(input.workflow, input.tenantId, record.version);
      return workflows[input.workflow].start(name, JSON.stringify({ tenantId: input.tenantId }));
    }
    case 'workflowStatus': {
      const out = await awsCall('SFN DescribeExecution', () => sfn.send(new DescribeExecutionCommand({ executionArn: input.executionArn })));
      return { executionArn: input.executionArn, status: out.status ?? 'RUNNING' };
    }
    case 'startRestoreJob': {
      // One job per run: the token derives from this execution (≤ 64 characters is not required by Backup; keep it short anyway).
      const token = createHash('sha256').update(`${input.executionArn}|${input.recoveryPointArn}|${input.tenantId}`).digest('hex').slice(0, 48);
      const restoreJobId = await backups.startItemRestore(input.recoveryPointArn, input.tenantId, token);
      return { restoreJobId };
    }
    case 'restoreJobStatus': {
      const job = await backups.restoreJob(input.restoreJobId);
      return { restoreJobId: input.restoreJobId, state: job.state, ...(job.message ? { message: job.message } : {}) };
    }
    case 'swap': {
      const record = await store.require(input.tenantId);
      if (record.status !== 'SUSPENDED') throw new TenantStateConflictError(`tenant "${input.tenantId}" is ${record.status}; its data is swapped only while it is SUSPENDED`);
      if (record.uid === undefined || record.gid === undefined) throw new TenantStateConflictError(`tenant "${input.tenantId}" has no uid/gid recorded`);
      const job = await backups.restoreJob(input.restoreJobId);
      if (job.state !== 'COMPLETED') throw new TenantStateConflictError(`restore job ${input.restoreJobId} is ${job.state}, not COMPLETED`);
      const restored = await locateRestored(settings.fileSystemMountPath, input.tenantId, job.createdAt);
      try {
        const out = await stageVerifyAndSwap(settings.fileSystemMountPath, { tenantId: input.tenantId, uid: record.uid, gid: record.gid }, restored);
        logger.info('tenant data restored', { tenantId: input.tenantId, restoreJobId: input.restoreJobId, entries: out.entries });
        return out;
      } finally {
        if (restored) await cleanRestoreDirectory(settings.fileSystemMountPath, restored);
      }
    }
    case 'export': {
      const target = parseExportTarget(input.to, input.kmsKeyArn);
      await store.require(input.tenantId);
      const { files, skipped } = await exportFiles(settings.fileSystemMountPath, input.tenantId);
      const total = files.reduce((n, f) => n + f.size, 0);
      if (total > settings.maxExportBytes) {
        throw new ValidationError(`tenant "${input.tenantId}" holds ${total} bytes, over this cell's export limit of ${settings.maxExportBytes} bytes`);
      }
      const at = new Date().toISOString();
      const manifest = { tenantId: input.tenantId, exportedAt: at, warning: CREDENTIAL_WARNING, files: [] as unknown[], skipped };
      for (const f of files) {
        const body = await readFile(f.path);
        const key = await exportsTo.put(target, `files/${f.relativePath}`, body);
        manifest.files.push({ key, path: f.relativePath, size: f.size, mode: f.mode.toString(8), uid: f.uid, gid: f.gid, mtime: f.mtime, sha256: createHash('sha256').update(body).digest('hex') });
      }
      const manifestKey = await exportsTo.put(target, 'manifest.json', JSON.stringify(manifest, null, 2), 'application/json');
      return { tenantId: input.tenantId, bucket: target.bucket, manifestKey, files: files.length, bytes: total, skipped, warning: CREDENTIAL_WARNING };
    }
  }
});
