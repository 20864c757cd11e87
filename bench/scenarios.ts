/**
 * The two workflow scenarios: one provisioning (per Fargate start latency) and a burst of N signups.
 */
import { inferenceProfilesOf } from '../functions/domain/quotas';
import { LOCAL_PLANS } from '../test/local-cloud/env';
import { resolveConfig, THROTTLE_GROUPS, type ServiceName } from '../test/local-cloud/fake-aws';
import { ACTIVE_TENANT_RESOURCE_TYPES, signupFor } from '../test/local-cloud/samples';
import { computeFloor, type Floor } from './floor';
import { startBenchCloud, type CallRecord } from './harness';
import { callLatencyMs, type ModelLatencies } from './model';

const SFN_START_EXECUTION_MS = callLatencyMs('SFN', 'StartExecution');

export interface SingleResult {
  readonly taskStartS: number;
  readonly status: string;
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  readonly retries: Record<string, number>;
  readonly awsCalls: Record<string, number>;
  readonly awsCallsFailed: Record<string, number>;
  readonly awsCallsTotal: number;
  readonly measuredS: number;
  readonly floorS: number;
  readonly ratio: number;
  readonly dynamoDbRealOnPathS: number;
  readonly floor: Floor;
  readonly calls: CallRecord[];
  readonly latencies: ModelLatencies;
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
}

export async function runSingle(scale: number, taskStartMs: number, tenantId: string): Promise<SingleResult> {
  const bench = await startBenchCloud({ scale, latencies: { taskStartMs } });
  try {
    const { cloud, recorder } = bench;
    const t0 = Date.now();
    await cloud.signup(signupFor(tenantId));
    await cloud.settle();
    const execution = cloud.sfn.list().find((e) => e.name.includes(tenantId));
    if (!execution) throw new Error(`no execution for ${tenantId}`);
    const end = recorder.progress.find((p) => p.executionName === execution.name && (p.kind === 'ExecutionSucceeded' || p.kind === 'ExecutionFailed'));
    const record = await cloud.tenant(tenantId);
    const calls = recorder.calls.filter((c) => c.handler === 'Intake' || c.executionName === execution.name);
    const intakeInvocations = new Set(calls.filter((c) => c.handler === 'Intake').map((c) => c.invocationId)).size;
    const measuredS = ((end?.timestamp ?? Date.now()) - t0) / scale / 1000;
    const floor = computeFloor(calls, execution.name, bench.latencies, SFN_START_EXECUTION_MS);
    const lastIntake = calls.filter((c) => c.handler === 'Intake').at(-1);
    const dynamoDbRealOnPathS =
      calls.filter((c) => c.service === 'DynamoDB' && (c.invocationId === lastIntake?.invocationId || c.executionName === execution.name)).reduce((s, c) => s + (c.end - c.start), 0) /
      scale /
      1000;
    return {
      taskStartS: taskStartMs / 1000,
      status: record?.status ?? 'missing',
      stateTransitions: execution.counters.stateTransitions,
      lambdaInvocations: execution.counters.taskInvocations + intakeInvocations,
      retries: countBy(
        recorder.progress.filter((p) => p.executionName === execution.name && p.kind === 'StateRetried'),
        (p) => `${p.state ?? '?'}:${p.error ?? '?'}`,
      ),
      awsCalls: countBy(calls, (c) => c.service),
      awsCallsFailed: countBy(
        calls.filter((c) => !c.ok),
        (c) => `${c.service}:${c.operation}:${c.errorName ?? '?'}`,
      ),
      awsCallsTotal: calls.length,
      measuredS,
      floorS: floor.totalMs / 1000,
      ratio: measuredS / (floor.totalMs / 1000),
      dynamoDbRealOnPathS,
      floor,
      calls,
      latencies: bench.latencies,
    };
  } finally {
    await bench.stop();
  }
}

export interface BucketFloor {
  readonly bucket: string;
  readonly burst: number;
  readonly refillPerSecond: number;
  readonly callsPerTenant: number;
  readonly firstCallEndS: number;
  readonly tailS: number;
  readonly floorS: number;
}

/**
 * Burst floor of one throttle bucket: the bucket is full until the first provisioning reaches it
 * (`firstCallEndS` in the single floor schedule), then hands out `burst` tokens at once and
 * `refillPerSecond` after that; the last of N × k calls therefore ends no earlier than
 * first + (N·k − burst) / refill, and that tenant still needs `tailS` (the single floor after its
 * last call in this bucket) to reach ACTIVE.
 */
export function bucketFloors(single: SingleResult, n: number): BucketFloor[] {
  const okCalls = single.calls.filter((c) => c.ok && c.service !== 'DynamoDB');
  const groups = new Map<string, { burst: number; refill: number; ops: Set<string> }>();
  for (const c of okCalls) {
    const g = THROTTLE_GROUPS[c.service as ServiceName][c.operation];
    if (!g) continue;
    const key = `${c.service}:${g.group}`;
    const entry = groups.get(key) ?? { burst: g.bucket.burst, refill: g.bucket.refillPerSecond, ops: new Set<string>() };
    entry.ops.add(c.operation);
    groups.set(key, entry);
  }
  const out: BucketFloor[] = [];
  for (const [bucket, g] of groups) {
    const service = bucket.split(':')[0]!;
    const inFloor = single.floor.calls.filter((c) => c.service === service && g.ops.has(c.operation));
    // Unavoidable calls: those of the floor schedule (retries and repeated polls excluded).
    const k = inFloor.length;
    const first = Math.min(...inFloor.map((c) => c.endMs)) / 1000;
    const last = Math.max(...inFloor.map((c) => c.endMs)) / 1000;
    const tail = single.floorS - last;
    const drain = Math.max(0, n * k - g.burst) / g.refill;
    out.push({
      bucket: `${bucket} (${[...g.ops].join(', ')})`,
      burst: g.burst,
      refillPerSecond: g.refill,
      callsPerTenant: k,
      firstCallEndS: Number.isFinite(first) ? first : 0,
      tailS: Number.isFinite(tail) ? tail : 0,
      floorS: (Number.isFinite(first) ? first : 0) + drain + (Number.isFinite(tail) ? tail : 0),
    });
  }
  return out.sort((a, b) => b.floorS - a.floorS);
}

export interface BurstResult {
  readonly n: number;
  readonly active: number;
  readonly failed: Record<string, number>;
  readonly tenantsWithDuplicateExecutions: number;
  readonly tenantsWithDuplicateResources: number;
  readonly leakedResources: string[];
  readonly makespanS: number;
  readonly realS: number;
  readonly throttledCalls: Record<string, number>;
  readonly stateTransitionsTotal: number;
  readonly failedCauses: Record<string, number>;
  /** The AWS SDK's "socket usage at capacity" warnings printed during the run (issue 14.3: none). */
  readonly socketPoolWarnings: number;
  /** Lambda tasks the workflows invoked (Intake not included). */
  readonly lambdaInvocations: number;
  /** DynamoDB Local's load during the burst (real time). */
  readonly dynamoDb: { readonly calls: number; readonly meanRealMs: number; readonly timeouts: number };
}

/** Counts (and still prints) the SDK's socket-pool warnings while `run` runs. */
async function countingSocketWarnings<T>(run: () => Promise<T>): Promise<{ result: T; warnings: number }> {
  const original = console.warn;
  let warnings = 0;
  console.warn = (...args: unknown[]) => {
    if (args.some((a) => typeof a === 'string' && a.includes('socket usage at capacity'))) warnings += 1;
    original(...args);
  };
  try {
    return { result: await run(), warnings };
  } finally {
    console.warn = original;
  }
}

/** The fake's (AWS's default) quota of Bedrock application inference profiles per account and Region. */
export const DEFAULT_PROFILE_QUOTA = resolveConfig().limits.applicationInferenceProfiles;
/** Profiles one bench tenant can hold at most: one per model of the largest local plan. */
const PROFILES_PER_TENANT_AT_MOST = Math.max(...LOCAL_PLANS.map(inferenceProfilesOf));

/**
 * The account quota of application inference profiles for a burst of `n`: AWS's default, or, for a
 * burst that could not fit in it, what an operator hosting that many platform-paid tenants raises it to.
 */
export const burstProfileQuota = (n: number): number => Math.max(DEFAULT_PROFILE_QUOTA, n * PROFILES_PER_TENANT_AT_MOST);

export async function runBurst(scale: number, n: number, prefix: string): Promise<BurstResult> {
  const bench = await startBenchCloud({ scale, limits: { applicationInferenceProfiles: burstProfileQuota(n) } });
  try {
    const { cloud, recorder } = bench;
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
    const t0 = Date.now();
    const { warnings: socketPoolWarnings } = await countingSocketWarnings(async () => {
      for (const id of ids) await cloud.signup(signupFor(id));
      await cloud.settle();
    });
    const realS = (Date.now() - t0) / 1000;
    const ends = recorder.progress.filter((p) => p.kind === 'ExecutionSucceeded' || p.kind === 'ExecutionFailed').map((p) => p.timestamp);
    const records = await Promise.all(ids.map((id) => cloud.tenant(id)));
    const statuses = countBy(records, (r) => r?.status ?? 'missing');
    const executions = cloud.sfn.list();
    const tenantOfExecution = (name: string) => ids.find((id) => name === `provision-${id}-g1` || name.includes(`-${id}-`));
    const perTenantExecutions = countBy(executions, (e) => tenantOfExecution(e.name) ?? '?');
    let dupResources = 0;
    for (const id of ids) {
      const types = cloud.fake.resourcesByTenant(id).map((r) => r.type).sort();
      if (types.length > ACTIVE_TENANT_RESOURCE_TYPES.length) dupResources += 1;
    }
    const activeIds = new Set(ids.filter((_, i) => records[i]?.status === 'ACTIVE'));
    const leaked = cloud.fake
      .allResources()
      .filter((r) => r.tags['octw:tenant'] !== undefined && !activeIds.has(r.tags['octw:tenant']))
      .filter((r) => r.state !== 'PendingDeletion' && r.state !== 'DRAINING' && r.state !== 'INACTIVE')
      .map((r) => `${r.tags['octw:tenant']} ${r.type} ${r.id}${r.state ? ` (${r.state})` : ''}`);
    const ddbCalls = recorder.calls.filter((c) => c.service === 'DynamoDB');
    const untagged = cloud.fake.allResources().filter((r) => r.tags['octw:tenant'] === undefined && !/octw-local-(efs|endpoints)/.test(`${r.id} ${r.arn ?? ''}`));
    const failedCauses = countBy(
      records.filter((r) => r?.status === 'FAILED'),
      (r) => {
        const e = (r as unknown as { lastError?: { name?: string; message?: string } }).lastError;
        return `${e?.name ?? '?'}: ${(e?.message ?? '').split(':')[0] ?? ''}`;
      },
    );
    return {
      n,
      active: statuses.ACTIVE ?? 0,
      failed: Object.fromEntries(Object.entries(statuses).filter(([s]) => s !== 'ACTIVE')),
      tenantsWithDuplicateExecutions: Object.entries(perTenantExecutions).filter(([id, c]) => id !== '?' && c > 1).length,
      tenantsWithDuplicateResources: dupResources,
      leakedResources: [...leaked, ...untagged.filter((r) => r.type !== 'AWS::EC2::SecurityGroup').map((r) => `untagged ${r.type} ${r.id}`)],
      makespanS: (Math.max(...ends) - t0) / scale / 1000,
      realS,
      throttledCalls: countBy(
        recorder.calls.filter((c) => !c.ok && /Throttl|TooManyRequests|RequestLimitExceeded/i.test(c.errorName ?? '')),
        (c) => `${c.service}:${c.operation}`,
      ),
      stateTransitionsTotal: executions.reduce((s, e) => s + e.counters.stateTransitions, 0),
      failedCauses,
      socketPoolWarnings,
      lambdaInvocations: executions.reduce((sum, e) => sum + e.counters.taskInvocations, 0),
      dynamoDb: {
        calls: ddbCalls.length,
        meanRealMs: ddbCalls.length === 0 ? 0 : ddbCalls.reduce((sum, c) => sum + (c.end - c.start), 0) / ddbCalls.length,
        timeouts: ddbCalls.filter((c) => !c.ok && c.errorName === 'TimeoutError').length,
      },
    };
  } finally {
    await bench.stop();
  }
}
