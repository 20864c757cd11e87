/**
 * `octw tenants restore ID --recovery-point ARN [--wait]` and
 * `octw tenants export ID --to s3://bucket/prefix --kms-key ARN [--wait]` (issue 13.4): start the
 * RestoreTenant / ExportTenant workflows and follow them. The checks that matter run in the workflows
 * too (the CLI's are for a clear message before anything starts).
 *
 * Both print a warning: the tenant's state directory holds its OAuth tokens in plain text (OpenClaw's
 * SQLite state), so a backup, a restore's source and an export are credentials.
 */
import { createHash } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseExportTarget } from '../../functions/adapters/export-store';
import { ValidationError } from '../../functions/domain/errors';
import { TenantIdSchema } from '../../functions/domain/tenant';
import type { StateMachineKey } from '../../functions/handlers/catalogue';
import type { CommandContext } from './context';
import { awsCodeOf, AwsCallError, UsageError, WorkflowFailedError } from './errors';
import { follow } from './operations';

export const CREDENTIAL_NOTE =
  "note: the tenant's state directory holds its OAuth tokens in plain text (SQLite): backups and exports are credentials; keep them encrypted and readable only by those who may act as the tenant";

const RECOVERY_POINT = /^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:recovery-point:[A-Za-z0-9-]+$/;

export interface BackupArgs {
  readonly id: string | undefined;
  readonly recoveryPoint?: string | undefined;
  readonly to?: string | undefined;
  readonly kmsKey?: string | undefined;
  readonly wait: boolean;
  readonly pollIntervalMs: number;
}

export async function runRestore(ctx: CommandContext, args: BackupArgs): Promise<void> {
  const tenantId = tenantIdOf(args.id, 'restore');
  if (!args.recoveryPoint) throw new UsageError('octw tenants restore needs --recovery-point ARN (an AWS Backup recovery point of this cell\'s vault)');
  if (!RECOVERY_POINT.test(args.recoveryPoint)) throw new UsageError(`--recovery-point must be an AWS Backup recovery point ARN, got "${args.recoveryPoint}"`);
  const input = { tenantId, recoveryPointArn: args.recoveryPoint };
  await startAndFollow(ctx, 'RestoreTenant', `restore-${tenantId}-${digest(input)}`, input, args);
}

export async function runExport(ctx: CommandContext, args: BackupArgs): Promise<void> {
  const tenantId = tenantIdOf(args.id, 'export');
  if (!args.to) throw new UsageError('octw tenants export needs --to s3://bucket/prefix');
  try {
    parseExportTarget(args.to, args.kmsKey);
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(err.message);
    throw err;
  }
  const input = { tenantId, to: args.to, kmsKeyArn: args.kmsKey };
  // An export may be repeated on purpose: the name carries the time as well as the request.
  const now = (ctx.io.now ?? Date.now)();
  await startAndFollow(ctx, 'ExportTenant', `export-${tenantId}-${digest({ ...input, now })}`, input, args);
}

function tenantIdOf(id: string | undefined, verb: string): string {
  if (!id) throw new UsageError(`octw tenants ${verb} needs a tenant ID`);
  const parsed = TenantIdSchema.safeParse(id);
  if (!parsed.success) throw new UsageError(`"${id}" is not a tenant id`);
  return parsed.data;
}

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12);

async function startAndFollow(ctx: CommandContext, key: StateMachineKey, name: string, input: unknown, args: BackupArgs): Promise<void> {
  const stateMachineArn = await ctx.config.stateMachineArn(key, () => ctx.clients.region());
  let executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  let alreadyStarted = false;
  try {
    const out = await ctx.clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    executionArn = out.executionArn ?? executionArn;
  } catch (err) {
    if (awsCodeOf(err) !== 'ExecutionAlreadyExists') {
      throw new AwsCallError(awsCodeOf(err) ?? 'StartExecutionError', `StartExecution ${stateMachineArn}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    alreadyStarted = true;
  }
  ctx.note(CREDENTIAL_NOTE);
  ctx.note(`${key} ${alreadyStarted ? 'already started' : 'started'} as ${name}`);
  ctx.print(`${executionArn}\n`);
  const started = { workflow: key, executionName: name, executionArn, alreadyStarted, warning: CREDENTIAL_NOTE.replace(/^note: /, '') };
  if (!args.wait) {
    if (ctx.json) ctx.emit(started);
    return;
  }
  const end = await follow(ctx, executionArn, args.pollIntervalMs);
  if (ctx.json) ctx.emit({ ...started, ...end });
  else ctx.print(`${end.status}\n`);
  if (end.status !== 'SUCCEEDED') {
    throw new WorkflowFailedError(`${key} ${name} ended ${end.status}${end.error ? `: ${end.error}` : ''}${end.cause ? ` (${end.cause.slice(0, 500)})` : ''}`);
  }
}
