/** What every emulated service receives from the fake. */
import type { FakeAwsConfig } from './config';
import type { ResourceRef, Rng, ServiceName } from './core';

export interface ServiceContext {
  readonly config: FakeAwsConfig;
  readonly rng: Rng;
  now(): number;
  /** A configured latency scaled by `timeScale`. */
  latency(name: keyof Omit<FakeAwsConfig['latencies'], 'perCallMs'>): number;
}

export type OpHandler = (input: unknown) => unknown;

/** Wraps a typed handler for the dispatch table (the SDK command already typed its input). */
export function op<I, O>(fn: (input: I) => O): OpHandler {
  return (input: unknown) => fn(input as I);
}

export interface EmulatedService {
  readonly name: ServiceName;
  readonly operations: Readonly<Record<string, OpHandler>>;
  resources(): ResourceRef[];
}
