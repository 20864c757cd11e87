/**
 * Per-tenant restore and export (issue 13.4, cdk.json `backup`), as the Restore function receives
 * them (BACKUP_JSON). The vault is the cell's (infra/constructs/storage.ts); the restore role is the
 * one AWS Backup assumes for the restore job (passed with iam:PassRole).
 */
import * as z from '../shared/zod';

export const BackupSettingsSchema = z.strictObject({
    vaultName: z.string().check(z.regex(/^[a-zA-Z0-9\-_.]{2,50}$/)),
    restoreRoleArn: z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\//)),
    /** Where the Restore function's access point on the file system's root (uid 0) is mounted. */
    fileSystemMountPath: z.string().check(z.regex(/^\/[^\0]*$/)),
    resumeStateMachineArn: z.string().check(z.regex(/^arn:aws[a-z-]*:states:/)),
    /** An export larger than this is refused (the function holds one file in memory at a time; Lambda's 15 minutes bound the rest). */
    maxExportBytes: z._default(z.int().check(z.positive()), 2 * 1024 ** 3),
  });
export type BackupSettings = z.infer<typeof BackupSettingsSchema>;
