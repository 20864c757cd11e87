/**
 * Which Lambda invocation the current async call chain belongs to. The local Step Functions
 * runner wraps every handler invocation in `runInvocation`; the AWS fake reads it so that a
 * "crashed after the call succeeded" fault affects only the invocation that made the call,
 * even when parallel branches run handlers concurrently in this one process.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface InvocationContext {
  /** Unique per invocation. */
  readonly invocationId: string;
  /** Handler key from functions/handlers/catalogue.ts, e.g. "Network". */
  readonly handler: string;
  /** Execution name and state name, for progress and traces. */
  readonly executionName?: string;
  readonly stateName?: string;
  /** Set by the fake when an injected crash fires: the runner then fails the invocation as Lambda would. */
  crashed?: { service: string; operation: string };
}

const storage = new AsyncLocalStorage<InvocationContext>();

export function runInvocation<T>(ctx: InvocationContext, fn: () => Promise<T>): Promise<T> {
  return storage.run(ctx, fn);
}

export function currentInvocation(): InvocationContext | undefined {
  return storage.getStore();
}

/** The error a crashed Lambda surfaces to Step Functions. */
export class SimulatedCrashError extends Error {
  override readonly name = 'SimulatedCrashError';
}
