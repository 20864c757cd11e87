/**
 * Faults for the real DynamoDB Local. DynamoDB Local never fails; DynamoDB does. This plug-in makes
 * the handlers' DynamoDB calls fail the way DynamoDB fails, at a random rate, on the wire: a
 * middleware placed right after the SDK's `retryMiddleware`, so the SDK's own standard retry sees
 * each fault as it would see DynamoDB's and retries what it would retry.
 *
 * Kinds, as DynamoDB answers them:
 * - `throttle`: ProvisionedThroughputExceededException (400; the SDK retries it as throttling);
 * - `internal`: InternalServerError (500; retried as a server error);
 * - `conflict`: a transaction that collides with another one: TransactWriteItems and
 *   TransactGetItems fail with TransactionCanceledException, reason `TransactionConflict` (400, not
 *   retried by the SDK), a single-item write with TransactionConflictException (400, not retried);
 * - `lostResponse`: the request reaches DynamoDB and is applied, and the response is lost (the
 *   socket times out): the SDK retries the request, which then meets its own earlier write.
 *
 * Only calls made inside a handler invocation (the local cloud's invocation context) are faulted:
 * a test's own reads of the table are not.
 */
import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Rng } from './fake-aws/core';
import { currentInvocation } from './invocation-context';

export type DynamoFaultKind = 'throttle' | 'internal' | 'conflict' | 'lostResponse';

export const DYNAMO_FAULT_KINDS: readonly DynamoFaultKind[] = ['throttle', 'internal', 'conflict', 'lostResponse'];

export interface DynamoFaultOptions {
  /** Probability (0..1) that one attempt on the wire fails. */
  readonly rate: number;
  readonly seed: number;
  /** Which kinds to draw from (default: all). */
  readonly kinds?: readonly DynamoFaultKind[];
}

export interface FiredDynamoFault {
  readonly operation: string;
  readonly kind: DynamoFaultKind | ScheduledDynamoFaultKind;
  readonly handler?: string;
  readonly site?: string;
  /** True for a scheduled fault (the matrices'), false for one drawn at the random rate. */
  readonly scheduled?: boolean;
}

/** One DynamoDB call made inside a handler invocation (each call once, whatever its attempts). */
export interface DynamoCall {
  readonly operation: string;
  readonly handler: string;
  /** The state that invoked the handler, or the handler's name for an invocation outside a state machine. */
  readonly site: string;
  readonly executionName?: string;
}

/**
 * A fault for the next call at one site (the fault matrices'). How each kind meets the SDK:
 * - `throttle`: every attempt of that one call is throttled, so the caller sees
 *   ProvisionedThroughputExceededException once the SDK's retries are spent;
 * - `conflict`: the call fails once with the transaction conflict (the SDK does not retry it);
 * - `lostResponse`: the first attempt is applied and its response lost; the SDK retries, and the
 *   retry meets its own write;
 * - `lostResponseAll`: every attempt is applied and its response lost: the caller sees the
 *   timeout although the write happened (a Lambda that dies right after its write).
 */
export type ScheduledDynamoFaultKind = 'throttle' | 'conflict' | 'lostResponse' | 'lostResponseAll';

export const SCHEDULED_DYNAMO_FAULT_KINDS: readonly ScheduledDynamoFaultKind[] = ['throttle', 'conflict', 'lostResponse', 'lostResponseAll'];

export interface ScheduledDynamoFault {
  readonly site: string;
  readonly operation: string;
  readonly kind: ScheduledDynamoFaultKind;
}

export interface DynamoFaults {
  /** Every fault that fired, in order. */
  readonly fired: FiredDynamoFault[];
  /** Every call made inside an invocation, in order. */
  readonly calls: DynamoCall[];
  /** Fails the next call at (site, operation) as the kind says; fires once. */
  schedule(fault: ScheduledDynamoFault): void;
  /** Scheduled faults that have not fired yet. */
  readonly pending: readonly ScheduledDynamoFault[];
  /** Changes the rate (0 stops faulting), and optionally the kinds and the seed of the draws. */
  setRate(rate: number, options?: { kinds?: readonly DynamoFaultKind[]; seed?: number }): void;
  uninstall(): void;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const TRANSACTIONS = new Set(['TransactWriteItems', 'TransactGetItems']);

interface MiddlewareStackLike {
  addRelativeTo(middleware: unknown, options: { relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean }): void;
}

type Next = (args: unknown) => Promise<unknown>;

const MIDDLEWARE_NAME = 'octwDynamoDbFaults';

function dynamoError(name: string, message: string, status: number, extra: Record<string, unknown> = {}): Error {
  const err = new DynamoDBServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
    message,
  });
  return Object.assign(err, extra);
}

/** The error of one faulted attempt (`lostResponse` is thrown after the request went through). */
function faultError(kind: DynamoFaultKind, operation: string, itemCount: number): Error {
  switch (kind) {
    case 'throttle':
      return dynamoError(
        'ProvisionedThroughputExceededException',
        'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        400,
      );
    case 'internal':
      return dynamoError('InternalServerError', 'Internal server error', 500);
    case 'conflict':
      if (TRANSACTIONS.has(operation)) {
        const reasons = Array.from({ length: Math.max(1, itemCount) }, (_, i) =>
          i === 0 ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
        );
        return dynamoError(
          'TransactionCanceledException',
          `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
          400,
          { CancellationReasons: reasons },
        );
      }
      return dynamoError('TransactionConflictException', 'Transaction is ongoing for the item', 400);
    case 'lostResponse':
      // What the SDK's node HTTP handler raises when the socket times out: retried as transient.
      return Object.assign(new Error(`Connection timed out after the ${operation} request was sent`), { name: 'TimeoutError' });
  }
}

/** Installs the faults on every DynamoDB client (and document client) in this process. */
export function installDynamoDbFaults(options: DynamoFaultOptions): DynamoFaults {
  let rng = new Rng(options.seed);
  let rate = options.rate;
  let kinds = options.kinds ?? DYNAMO_FAULT_KINDS;
  if (kinds.length === 0) throw new Error('DynamoDB faults: at least one kind');
  const fired: FiredDynamoFault[] = [];
  const wired = new WeakSet<object>();

  const calls: DynamoCall[] = [];
  const pending: ScheduledDynamoFault[] = [];
  /** Calls (their middleware context, shared by every attempt of one call) doomed by a scheduled fault. */
  const doomed = new WeakMap<object, { kind: ScheduledDynamoFaultKind; attempts: number }>();
  const seen = new WeakSet<object>();

  const scheduledAttempt = async (
    plan: { kind: ScheduledDynamoFaultKind; attempts: number },
    operation: string,
    args: { input?: Record<string, unknown> },
    next: Next,
  ): Promise<unknown> => {
    plan.attempts += 1;
    const items = args.input?.TransactItems;
    const count = Array.isArray(items) ? items.length : 1;
    switch (plan.kind) {
      case 'throttle':
        throw faultError('throttle', operation, count);
      case 'conflict':
        if (plan.attempts > 1) return next(args);
        throw faultError('conflict', operation, count);
      case 'lostResponse':
        if (plan.attempts > 1) return next(args);
        await next(args);
        throw faultError('lostResponse', operation, count);
      case 'lostResponseAll':
        await next(args);
        throw faultError('lostResponse', operation, count);
    }
  };

  const middleware =
    () =>
    (next: Next, context: { commandName?: string }) =>
    async (args: { input?: Record<string, unknown> }): Promise<unknown> => {
      const invocation = currentInvocation();
      if (!invocation) return next(args);
      const operation = (context.commandName ?? '').replace(/Command$/, '');
      const site = invocation.stateName ?? invocation.handler;
      if (!seen.has(context)) {
        // The first attempt of this call: record it, and let a scheduled fault claim it.
        seen.add(context);
        calls.push({ operation, handler: invocation.handler, site, ...(invocation.executionName ? { executionName: invocation.executionName } : {}) });
        const at = pending.findIndex((f) => f.site === site && f.operation === operation);
        if (at >= 0) {
          const [fault] = pending.splice(at, 1);
          doomed.set(context, { kind: fault!.kind, attempts: 0 });
          fired.push({ operation, kind: fault!.kind, handler: invocation.handler, site, scheduled: true });
        }
      }
      const plan = doomed.get(context);
      if (plan) return scheduledAttempt(plan, operation, args, next);
      if (!(rate > 0) || rng.next() >= rate) return next(args);
      // A conflict needs a write or a transaction; a lost response needs a write to be interesting.
      const candidates = kinds.filter(
        (k) => (k !== 'conflict' || WRITES.has(operation) || TRANSACTIONS.has(operation)) && (k !== 'lostResponse' || WRITES.has(operation)),
      );
      const kind = candidates.length > 0 ? candidates[Math.floor(rng.next() * candidates.length)]! : undefined;
      if (!kind) return next(args);
      fired.push({ operation, kind, handler: invocation.handler, site });
      const items = args.input?.TransactItems;
      const error = faultError(kind, operation, Array.isArray(items) ? items.length : 1);
      if (kind === 'lostResponse') await next(args);
      throw error;
    };

  const restore: (() => void)[] = [];
  for (const Client of [DynamoDBClient, DynamoDBDocumentClient]) {
    const proto = Client.prototype as { send?: unknown };
    const own = Object.getOwnPropertyDescriptor(proto, 'send');
    const original = proto.send as (this: unknown, ...a: unknown[]) => Promise<unknown>;
    Object.defineProperty(proto, 'send', {
      configurable: true,
      writable: true,
      value(this: { middlewareStack: MiddlewareStackLike }, ...a: unknown[]): Promise<unknown> {
        // A document client shares its DynamoDB client's stack: one middleware per stack.
        if (!wired.has(this.middlewareStack)) {
          this.middlewareStack.addRelativeTo(middleware(), { relation: 'after', toMiddleware: 'retryMiddleware', name: MIDDLEWARE_NAME, override: true });
          wired.add(this.middlewareStack);
        }
        return original.apply(this, a);
      },
    });
    restore.push(() => {
      if (own) Object.defineProperty(proto, 'send', own);
      else delete proto.send;
    });
  }
  return {
    fired,
    calls,
    pending,
    schedule(fault) {
      pending.push(fault);
    },
    setRate(r, more) {
      if (more?.kinds?.length === 0) throw new Error('DynamoDB faults: at least one kind');
      rate = r;
      if (more?.kinds) kinds = more.kinds;
      if (more?.seed !== undefined) rng = new Rng(more.seed);
    },
    uninstall() {
      rate = 0;
      for (const r of restore) r();
    },
  };
}
