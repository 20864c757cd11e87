/**
 * Small building blocks shared by every emulated service: the clock, a seeded random source,
 * AWS-shaped identifiers and tag helpers.
 */

/** The fake reads time only through this, so tests can move time without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: `clock.advance(5_000)`. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** mulberry32: tiny, seedable, good enough for ids and fault dice. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
  alnum(length: number): string {
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let out = '';
    for (let i = 0; i < length; i++) out += chars[Math.floor(this.next() * chars.length)];
    return out;
  }
  digits(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 10).toString();
    return out;
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** Services the fake emulates, named as the trace and fault injection name them. */
export type ServiceName = 'EC2' | 'ECS' | 'EFS' | 'IAM' | 'SecretsManager' | 'CloudWatchLogs' | 'EventBridge' | 'Bedrock' | 'CloudWatch' | 'ServiceQuotas' | 'Backup' | 'S3';

/** Tags normalised to a map; every service's own tag shape converts to and from it. */
export type TagMap = Map<string, string>;

export function tagsFromKeyValue(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): TagMap {
  const m: TagMap = new Map();
  for (const t of tags ?? []) if (t.Key !== undefined) m.set(t.Key, t.Value ?? '');
  return m;
}

export function tagsFromLowerKeyValue(tags: readonly { key?: string | undefined; value?: string | undefined }[] | undefined): TagMap {
  const m: TagMap = new Map();
  for (const t of tags ?? []) if (t.key !== undefined) m.set(t.key, t.value ?? '');
  return m;
}

export function tagsFromRecord(tags: Record<string, string> | undefined): TagMap {
  return new Map(Object.entries(tags ?? {}));
}

export function toKeyValue(tags: TagMap): { Key: string; Value: string }[] {
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

export function toLowerKeyValue(tags: TagMap): { key: string; value: string }[] {
  return [...tags].map(([key, value]) => ({ key, value }));
}

export function mergeTags(target: TagMap, extra: TagMap): void {
  for (const [k, v] of extra) target.set(k, v);
}

/** Structural equality for plain request objects (order of object keys ignored, array order kept). */
export function deepEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

export function stableStringify(value: unknown): string {
  return JSON.stringify(normalise(value));
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v);
    }
    return out;
  }
  return value;
}

/** A resource as the inspection API lists it. */
export interface ResourceRef {
  readonly service: ServiceName | 'ELBv2' | 'Route53';
  /** e.g. `AWS::EC2::SecurityGroup`, CloudFormation-style. */
  readonly type: string;
  /** The id callers use: group id, role name, ARN... */
  readonly id: string;
  readonly arn?: string;
  readonly tags: Record<string, string>;
  /** e.g. `DRAINING`, `PendingDeletion`; absent when plainly live. */
  readonly state?: string;
}

export function tagRecord(tags: TagMap): Record<string, string> {
  return Object.fromEntries(tags);
}
