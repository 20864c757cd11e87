/**
 * Exit codes of `octw` and the errors that map to them. Scripts rely on these numbers: never
 * renumber them.
 *
 *   0  ok
 *   1  the workflow ran and ended FAILED, TIMED_OUT or ABORTED (only with --wait)
 *   2  usage or validation error (bad arguments, bad input file, missing configuration)
 *   3  not found, or refused by the tenant's state (nothing was started)
 *   4  AWS error (access denied, throttled, missing table or state machine, network, ...)
 *   5-8  `octw audit` (and `octw fleet reconcile`) ran and found a failing check; the code is the
 *        worst finding's severity: 5 low, 6 medium, 7 high, 8 critical (0: every check passed)
 */
import { TenantNotFoundError, TenantStateConflictError, ValidationError, OctwError } from '../../functions/domain/errors';

export const EXIT = {
  ok: 0,
  workflowFailed: 1,
  usage: 2,
  refused: 3,
  aws: 4,
  findingLow: 5,
  findingMedium: 6,
  findingHigh: 7,
  findingCritical: 8,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad arguments, a bad input file or missing configuration. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A tenant that does not exist, or whose state does not allow the operation. */
export class RefusedError extends Error {
  constructor(
    override readonly name: 'TenantNotFoundError' | 'TenantStateConflictError',
    message: string,
  ) {
    super(message);
  }
}

/** The execution ended FAILED, TIMED_OUT or ABORTED. */
export class WorkflowFailedError extends Error {
  override readonly name = 'WorkflowFailedError';
}

/** An AWS call failed; `name` is the AWS error code. */
export class AwsCallError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ClassifiedError {
  readonly code: ExitCode;
  readonly name: string;
  readonly message: string;
}

/** Maps anything thrown by a command to an exit code and a stable error name. */
export function classify(err: unknown): ClassifiedError {
  if (err instanceof UsageError || err instanceof ValidationError) return { code: EXIT.usage, name: err.name, message: err.message };
  if (err instanceof RefusedError || err instanceof TenantNotFoundError || err instanceof TenantStateConflictError) {
    return { code: EXIT.refused, name: err.name, message: err.message };
  }
  if (err instanceof WorkflowFailedError) return { code: EXIT.workflowFailed, name: err.name, message: err.message };
  if (err instanceof AwsCallError) return { code: EXIT.aws, name: err.name, message: err.message };
  if (err instanceof OctwError) {
    // Throttled/Transient/PermanentAwsError from the shared adapters: keep the AWS code if there is one.
    const code = awsCodeOf(err.cause);
    return { code: EXIT.aws, name: code ?? err.name, message: err.message };
  }
  if (err instanceof Error && /^Region is missing/.test(err.message)) {
    // The SDK found no region in flags, environment or profile: a configuration error, not an AWS one.
    return { code: EXIT.usage, name: 'UsageError', message: 'no AWS region: give --region, or set AWS_REGION or a region in the AWS profile' };
  }
  const code = awsCodeOf(err);
  if (code !== undefined) return { code: EXIT.aws, name: code, message: err instanceof Error ? err.message : String(err) };
  if (err instanceof Error) return { code: EXIT.aws, name: err.name || 'Error', message: err.message };
  return { code: EXIT.aws, name: 'Error', message: String(err) };
}

/** The AWS error code of an SDK error (it carries `$metadata`), or a Node network error code. */
export function awsCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  if ('$metadata' in err && 'name' in err && typeof err.name === 'string') return err.name;
  if ('code' in err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) return err.code;
  return undefined;
}
