/** Fault injection: scheduled faults on the Nth call of an operation, plus a random fault rate. */
import type { Rng, ServiceName as CoreServiceName } from './core';
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
    private readonly rng: Rng,
    public faultRate: number,
  ) {}

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

  /** Counts the call and returns the fault to apply to it, if any. */
  next(service: ServiceName, operation: string): FaultKind | undefined {
    const key = `${service}:${operation}`;
    const call = (this.calls.get(key) ?? 0) + 1;
    this.calls.set(key, call);
    const hit = this.scheduled.find(
      (s) => s.spec.service === service && s.spec.operation === operation && call >= s.firstCall && call <= s.lastCall,
    );
    let kind: FaultKind | undefined = hit?.spec.kind;
    if (!kind && this.faultRate > 0 && this.rng.next() < this.faultRate) kind = 'transient';
    if (kind) this.fired.push({ service, operation, kind, call });
    return kind;
  }

  /** Calls counted so far for an operation. */
  count(service: ServiceName, operation: string): number {
    return this.calls.get(`${service}:${operation}`) ?? 0;
  }
}
