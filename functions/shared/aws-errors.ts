/**
 * Turns AWS SDK errors into the stable OCTW error names the state machines retry or catch.
 */
import {
  OctwError,
  PermanentAwsError,
  ThrottledError,
  TransientAwsError,
} from '../domain/errors';

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'LimitExceededException', // IAM and Logs use it for rate limits as well as quotas; callers map quota cases first
  'SlowDown',
]);

const TRANSIENT_NAMES = new Set([
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServiceError',
  'InternalServiceErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceFailure',
  'ServerException',
  'ServiceException',
  'Unavailable',
  'ConcurrentModificationException',
  'OperationAbortedException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  // DynamoDB: a single-item write that met an ongoing transaction on the item; retry it.
  'TransactionConflictException',
  'TransactionInProgressException',
]);

/**
 * A cancelled DynamoDB transaction is worth retrying when it was cancelled only because of other
 * traffic (a conflicting transaction, throttling), not because one of its conditions failed.
 */
function transactionCancelKind(err: unknown): 'throttled' | 'transient' | undefined {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (!Array.isArray(reasons)) return undefined;
  const codes = reasons.map((r) => r.Code ?? 'None').filter((c) => c !== 'None');
  if (codes.length === 0 || !codes.every((c) => ['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded'].includes(c))) return undefined;
  return codes.includes('TransactionConflict') ? 'transient' : 'throttled';
}

export interface AwsErrorLike {
  name: string;
  message: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  Code?: string;
}

export function isAwsErrorLike(err: unknown): err is AwsErrorLike {
  return err instanceof Error && typeof err.name === 'string';
}

/** The AWS error code: EC2 puts it in `name` (e.g. "InvalidGroup.Duplicate"), some services in `Code`. */
export function awsErrorCode(err: unknown): string | undefined {
  if (!isAwsErrorLike(err)) return undefined;
  return err.Code ?? err.name;
}

export function hasAwsErrorCode(err: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && codes.includes(code);
}

/** Maps any error to an OctwError; OctwErrors pass through unchanged. */
export function classifyAwsError(err: unknown, context: string): OctwError {
  if (err instanceof OctwError) return err;
  if (!isAwsErrorLike(err)) return new PermanentAwsError(`${context}: ${String(err)}`, { cause: err });
  const code = awsErrorCode(err) ?? 'Unknown';
  const message = `${context}: ${code}: ${err.message}`;
  const cancelled = code === 'TransactionCanceledException' ? transactionCancelKind(err) : undefined;
  if (cancelled === 'throttled' || THROTTLING_NAMES.has(code) || err.$retryable?.throttling === true || err.$metadata?.httpStatusCode === 429) {
    return new ThrottledError(message, { cause: err });
  }
  if (cancelled === 'transient' || TRANSIENT_NAMES.has(code) || err.$fault === 'server' || (err.$metadata?.httpStatusCode ?? 0) >= 500) {
    return new TransientAwsError(message, { cause: err });
  }
  return new PermanentAwsError(message, { cause: err });
}

/** Runs an AWS call and rethrows failures as classified OctwErrors. */
export async function awsCall<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyAwsError(err, context);
  }
}
