/** Token buckets, refilled lazily from the clock (no timers). */
import type { Clock, ServiceName } from './core';
import type { BucketConfig, FakeAwsConfig } from './config';
import { THROTTLE_GROUPS } from './config';

interface BucketState {
  tokens: number;
  updatedAt: number;
  readonly config: BucketConfig;
}

export class Throttler {
  private readonly buckets = new Map<string, BucketState>();
  enabled: boolean;

  constructor(
    private readonly config: FakeAwsConfig['throttling'],
    private readonly clock: Clock,
  ) {
    this.enabled = config.enabled;
  }

  /** Takes one token; false when the bucket is empty (the call is throttled). */
  take(service: ServiceName, operation: string): boolean {
    if (!this.enabled) return true;
    const group = THROTTLE_GROUPS[service][operation];
    const key = `${service}:${group?.group ?? operation}`;
    const base = this.config.buckets[key] ?? group?.bucket;
    if (!base) return true;
    let state = this.buckets.get(key);
    const now = this.clock.now();
    if (!state) {
      const config = { burst: base.burst * this.config.scale, refillPerSecond: base.refillPerSecond * this.config.scale * (this.config.refillScale ?? 1) };
      state = { tokens: config.burst, updatedAt: now, config };
      this.buckets.set(key, state);
    }
    const elapsed = Math.max(0, now - state.updatedAt) / 1000;
    state.tokens = Math.min(state.config.burst, state.tokens + elapsed * state.config.refillPerSecond);
    state.updatedAt = now;
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }
}
