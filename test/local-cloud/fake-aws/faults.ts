/** Fault injection: scheduled faults on the Nth call of an operation, plus a random fault rate. */
import { Rng, type ServiceName as CoreServiceName } from './core';
import type { IngressServiceName } from './ingress-errors';

/** Every emulated service, the ingress ones (ELBv2, Route 53) included. */
type ServiceName = CoreServiceName | IngressServiceName;

/** `throttle` answers the service's own throttling error, as if its bucket were empty. */
export type FaultKind = 'transient' | 'permanent' | 'crashAfterSuccess' | 'throttle';

export interface FaultSpec {
  readonly service: ServiceName;
  readonly operation: string;
  /** 1-based, counted from the moment of injection: 1 (default) = the next call. */
  readonly nth?: number;
  readonly kind: FaultKind;
  /** How many consecutive calls from the nth on fail (default 1). */
  readonly times?: number;
}

interface Scheduled {
  readonly spec: FaultSpec;
  readonly firstCall: number;
  readonly lastCall: number;
}

export class Faults {
  private readonly scheduled: Scheduled[] = [];
  private readonly calls = new Map<string, number>();
  /** Every fault that fired, in order. */
  readonly fired: { service: ServiceName; operation: string; kind: FaultKind; call: number }[] = [];

  constructor(
    private rng: Rng,
    public faultRate: number,
  ) {}

  /** Sets the random fault rate and restarts its draws from `seed` (a reproducible run). */
  setRandom(faultRate: number, seed: number): void {
    this.faultRate = faultRate;
    this.rng = new Rng(seed);
  }

  inject(spec: FaultSpec): void {
    const key = `${spec.service}:${spec.operation}`;
    const seen = this.calls.get(key) ?? 0;
    const nth = spec.nth ?? 1;
    const times = spec.times ?? 1;
    if (nth < 1 || times < 1) throw new Error('AWS fake: nth and times are 1-based counts');
    this.scheduled.push({ spec, firstCall: seen + nth, lastCall: seen + nth + times - 1 });
  }

  clear(): void {
    this.scheduled.length = 0;
  }

  /**
   * Counts the call and returns the fault to apply to it, if any: a scheduled one, else one drawn
   * at the random rate. For a caller that has no retry of its own (the fake called directly).
   */
  next(service: ServiceName, operation: string): FaultKind | undefined {
    return this.nextScheduled(service, operation) ?? this.nextRandom(service, operation);
  }

  /**
   * Counts one call as the caller made it (an SDK `send`) and returns its scheduled fault, if any.
   * A scheduled fault is what the caller sees after the SDK's own retries: it is decided once per
   * `send`, above the SDK's retry.
   */
  nextScheduled(service: ServiceName, operation: string): FaultKind | undefined {
    const key = `${service}:${operation}`;
    const call = (this.calls.get(key) ?? 0) + 1;
    this.calls.set(key, call);
    const hit = this.scheduled.find(
      (s) => s.spec.service === service && s.spec.operation === operation && call >= s.firstCall && call <= s.lastCall,
    );
    if (hit) this.fired.push({ service, operation, kind: hit.spec.kind, call });
    return hit?.spec.kind;
  }

  /**
   * The random fault of one attempt on the wire (AWS's 5xx), drawn at `faultRate`. The SDK's
   * standard retry sees it as AWS would send it, so it retries it as it would in AWS.
   */
  nextRandom(service: ServiceName, operation: string): FaultKind | undefined {
    if (!(this.faultRate > 0 && this.rng.next() < this.faultRate)) return undefined;
    this.fired.push({ service, operation, kind: 'transient', call: this.calls.get(`${service}:${operation}`) ?? 0 });
    return 'transient';
  }

  /** Calls counted so far for an operation. */
  count(service: ServiceName, operation: string): number {
    return this.calls.get(`${service}:${operation}`) ?? 0;
  }
}
