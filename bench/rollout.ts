/**
 * Issue 13.1: the time of a fleet rollout of a new image over N tenants (default 500) under the
 * fake's rate limits, in MODEL seconds (the run is compressed by `scale`, as the rest of the bench).
 * The tenants are provisioned first (not timed here); then RolloutFleet runs with a canary of
 * `canary` tenants (one at a time) and waves of `wave` tenants, `maxConcurrency` at once.
 *
 * Floor: the larger of
 * - the wave structure: every round of `maxConcurrency` updates takes at least one update's time
 *   (T_u, measured as the first canary's nested UpdateTenant run): (canary + Σ ceil(wave / conc)) × T_u;
 * - the tightest ECS bucket: each tenant's update registers one task definition (taskDefinitionModify)
 *   and updates its service (serviceModify): (N × calls − burst) / refill + T_u for the last tenant.
 */
import { THROTTLE_GROUPS } from '../test/local-cloud/fake-aws';
import { signupFor } from '../test/local-cloud/samples';
import { startBenchCloud } from './harness';

export interface RolloutBenchOptions {
  readonly scale: number;
  readonly tenants: number;
  readonly canary?: number;
  readonly wave?: number;
  readonly maxConcurrency?: number;
}

const s2 = (x: number) => x.toFixed(1);

export async function runRolloutBench(options: RolloutBenchOptions): Promise<string[]> {
  const { scale, tenants: n } = options;
  const canary = options.canary ?? 5;
  const wave = options.wave ?? 100;
  const conc = options.maxConcurrency ?? 40;
  const out: string[] = [`5. Fleet rollout of a new image over ${n} tenants (issue 13.1): canary ${canary} (one at a time), waves of ${wave}, ${conc} at once`];
  const bench = await startBenchCloud({ scale });
  try {
    const { cloud, recorder } = bench;
    const ids = Array.from({ length: n }, (_, i) => `ro-${String(i).padStart(4, '0')}`);
    const p0 = Date.now();
    for (const id of ids) await cloud.signup(signupFor(id));
    await cloud.settle();
    const active = (await Promise.all(ids.map((id) => cloud.tenant(id)))).filter((r) => r?.status === 'ACTIVE').length;
    out.push(`   provisioned ${active}/${n} ACTIVE first (${s2((Date.now() - p0) / 1000)} s real; not part of the figure)`);

    const rolloutId = 'r20261202t000000-bead';
    const image = `ghcr.io/openclaw/openclaw@sha256:${'beadfeed'.repeat(8)}`;
    const callsBefore = recorder.calls.length;
    const t0 = Date.now();
    const { executionArn } = await cloud.sfn.startExecution('RolloutFleet', { rolloutId, request: { image, canary, waveSize: wave, maxConcurrency: conc, tenantIds: ids } }, rolloutId);
    const done = await cloud.sfn.waitForExecution(executionArn);
    const makespanS = (Date.now() - t0) / scale / 1000;
    const updated = (await Promise.all(ids.map((id) => cloud.tenant(id)))).filter((r) => r?.imageOverride === image).length;

    const updates = cloud.sfn.list().filter((e) => e.stateMachineName === 'UpdateTenant' && e.name.startsWith(rolloutId));
    const first = updates.sort((a, b) => a.startDate.getTime() - b.startDate.getTime())[0];
    const tuS = (first?.counters.durationMs ?? 0) / scale / 1000;
    const calls = recorder.calls.slice(callsBefore);
    const throttled = calls.filter((c) => !c.ok && /Throttl|TooManyRequests|RequestLimitExceeded/i.test(c.errorName ?? '')).length;

    const waves = Math.ceil(Math.max(0, n - canary) / wave);
    const rounds = canary + Array.from({ length: waves }, (_, i) => Math.ceil(Math.min(wave, n - canary - i * wave) / conc)).reduce((a, b) => a + b, 0);
    const waveFloorS = rounds * tuS;
    const bucketFloor = (op: 'RegisterTaskDefinition' | 'UpdateService') => {
      const b = THROTTLE_GROUPS.ECS[op]!.bucket;
      return { op, floorS: Math.max(0, n - b.burst) / b.refillPerSecond + tuS, burst: b.burst, refill: b.refillPerSecond };
    };
    const buckets = [bucketFloor('RegisterTaskDefinition'), bucketFloor('UpdateService')].sort((a, b) => b.floorS - a.floorS);
    const floorS = Math.max(waveFloorS, buckets[0]!.floorS);

    out.push(`   rollout ${done.status}; tenants on the new image ${updated}/${n}; nested UpdateTenant runs ${updates.length}; throttled AWS calls ${throttled} (retried)`);
    out.push(`   one update (the first canary's UpdateTenant run) T_u = ${s2(tuS)} s`);
    out.push(`   floor, wave structure: (${canary} canary + ${rounds - canary} rounds of ≤ ${conc}) × T_u = ${rounds} × ${s2(tuS)} = ${s2(waveFloorS)} s`);
    for (const b of buckets) out.push(`   floor, ECS ${b.op} bucket (burst ${b.burst}, ${b.refill}/s): (${n} − ${b.burst}) / ${b.refill} + T_u = ${s2(b.floorS)} s`);
    out.push(`   ROLLOUT TIME for ${n} tenants: ${s2(makespanS)} s model (${s2(makespanS / 60)} min); floor ${s2(floorS)} s; ratio ${(makespanS / Math.max(floorS, 1e-9)).toFixed(2)}`);
    out.push(`   ${updated === n && done.status === 'SUCCEEDED' ? 'MET   ' : 'MISSED'} every tenant rolled: ${updated}/${n}`);
    return out;
  } finally {
    await bench.stop();
  }
}

/** `tsx bench/rollout.ts [--tenants N] [--scale S]`: this section alone. */
if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  void (async () => {
    const { stopDynamo } = await import('./harness');
    try {
      for (const l of await runRolloutBench({ scale: Number(arg('scale') ?? 0.1), tenants: Number(arg('tenants') ?? 500) })) process.stdout.write(`${l}\n`);
    } finally {
      await stopDynamo();
    }
    process.exit(0);
  })();
}
