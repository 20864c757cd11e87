/**
 * The critical-path floor of one provisioning: the ASL's success path walked state by state
 * (Parallel = the longest branch), each Task costing the modelled latencies of the AWS calls of
 * its successful invocation, with the unavoidable waits AWS imposes as constraints:
 * - IAM propagation: ECS RegisterTaskDefinition/CreateService cannot succeed before
 *   CreateRole ended + iamPropagationMs;
 * - Fargate start: the DescribeServices that sees the service steady cannot end before
 *   CreateService ended + taskStartMs;
 * - EFS: the DescribeAccessPoints that sees `available` cannot end before CreateAccessPoint
 *   ended + accessPointCreateMs.
 * Repeated polls (the same operation called back to back in one invocation) count once; failed
 * attempts, retries and backoff pauses count zero; calls that overlapped in real time (Promise.all)
 * run in parallel in the floor too. Lambda invocation and state-transition overheads count zero.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { CallRecord } from './harness';
import { callLatencyMs, type ModelLatencies } from './model';

const StateSchema = z.looseObject({
  Type: z.string(),
  Next: z.string().optional(),
  Default: z.string().optional(),
  End: z.boolean().optional(),
  Choices: z.array(z.looseObject({ Next: z.string() })).optional(),
  get Branches() {
    return z.array(MachineSchema).optional();
  },
});
const MachineSchema = z.looseObject({ StartAt: z.string(), States: z.record(z.string(), StateSchema) });
type Machine = z.infer<typeof MachineSchema>;

export function loadProvisionAsl(): Machine {
  return MachineSchema.parse(JSON.parse(readFileSync(join(__dirname, '..', 'state-machines', 'provision-tenant.asl.json'), 'utf8')));
}

/** Number of steps from `name` to a Succeed/End state, avoiding Fail states; Infinity if none. */
function distanceToSuccess(m: Machine, name: string, seen = new Set<string>()): number {
  const s = m.States[name];
  if (!s || seen.has(name)) return Infinity;
  if (s.Type === 'Fail') return Infinity;
  if (s.Type === 'Succeed' || s.End) return 0;
  const next = [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next)].filter((n): n is string => n !== undefined);
  const inner = new Set(seen).add(name);
  return 1 + Math.min(...next.map((n) => distanceToSuccess(m, n, inner)));
}

/** The success path of a machine: at each Choice the target closest to a Succeed state. */
export function successPath(m: Machine): string[] {
  const path: string[] = [];
  let current: string | undefined = m.StartAt;
  while (current) {
    path.push(current);
    const s: z.infer<typeof StateSchema> | undefined = m.States[current];
    if (!s || s.Type === 'Succeed' || s.End) break;
    if (s.Type === 'Choice') {
      const targets: string[] = [...(s.Choices ?? []).map((c): string => c.Next), ...(s.Default ? [s.Default] : [])];
      current = targets.sort((a, b) => distanceToSuccess(m, a) - distanceToSuccess(m, b))[0];
    } else current = s.Next;
  }
  return path;
}

export interface FloorCall {
  readonly state: string;
  readonly service: string;
  readonly operation: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly constraint?: string;
}

export interface Floor {
  readonly totalMs: number;
  readonly calls: FloorCall[];
  /** Human-readable derivation, one line per state on the path. */
  readonly lines: string[];
}

/** The calls of one invocation, polls collapsed (consecutive repeats of one operation count once). */
function collapse(calls: CallRecord[]): CallRecord[] {
  const okOrLast = calls.filter((c) => c.ok || c.errorName === 'ResourceNotFoundException');
  const out: CallRecord[] = [];
  for (const c of okOrLast) {
    const prev = out[out.length - 1];
    if (prev && prev.service === c.service && prev.operation === c.operation && c.operation.startsWith('Describe')) out[out.length - 1] = c;
    else out.push(c);
  }
  return out;
}

export function computeFloor(calls: readonly CallRecord[], executionName: string, lat: ModelLatencies, startExecutionMs: number): Floor {
  const asl = loadProvisionAsl();
  const floorCalls: FloorCall[] = [];
  const lines: string[] = [];
  const marks: Record<string, number> = {};

  /** Model-time schedule of one invocation's calls starting at `t0`; returns its end. */
  const schedule = (state: string, inv: CallRecord[], t0: number): number => {
    const kept = collapse(inv);
    const ends: number[] = [];
    let end = t0;
    kept.forEach((c, j) => {
      let start = t0;
      kept.forEach((d, i) => {
        if (i < j && d.end <= c.start) start = Math.max(start, ends[i]!);
      });
      let e = start + callLatencyMs(c.service, c.operation);
      let constraint: string | undefined;
      const key = `${c.service}:${c.operation}`;
      if ((key === 'ECS:RegisterTaskDefinition' || key === 'ECS:CreateService') && marks.roleReady !== undefined && e < marks.roleReady) {
        e = marks.roleReady;
        constraint = `IAM propagation (CreateRole end + ${lat.iamPropagationMs / 1000} s)`;
      }
      if (key === 'ECS:DescribeServices' && state.startsWith('WaitForGateway') && marks.serviceReady !== undefined && e < marks.serviceReady) {
        e = marks.serviceReady;
        constraint = `Fargate start (CreateService end + ${lat.taskStartMs / 1000} s)`;
      }
      if (key === 'EFS:DescribeAccessPoints' && marks.apReady !== undefined && e < marks.apReady) {
        e = marks.apReady;
        constraint = `access point available (CreateAccessPoint end + ${lat.accessPointCreateMs / 1000} s)`;
      }
      if (key === 'IAM:CreateRole') marks.roleReady = e + lat.iamPropagationMs;
      if (key === 'ECS:CreateService') marks.serviceReady = e + lat.taskStartMs;
      if (key === 'EFS:CreateAccessPoint') marks.apReady = e + lat.accessPointCreateMs;
      ends.push(e);
      end = Math.max(end, e);
      floorCalls.push({ state, service: c.service, operation: c.operation, startMs: start, endMs: e, ...(constraint ? { constraint } : {}) });
    });
    const summary = kept.map((c) => `${c.service}:${c.operation}`).join(' → ');
    lines.push(`${state.padEnd(26)} ${(t0 / 1000).toFixed(2).padStart(7)} → ${(end / 1000).toFixed(2).padStart(7)} s  ${summary}`);
    return end;
  };

  const lastInvocation = (predicate: (c: CallRecord) => boolean): CallRecord[] => {
    const mine = calls.filter(predicate);
    const last = mine[mine.length - 1];
    return last ? mine.filter((c) => c.invocationId === last.invocationId) : [];
  };

  const walk = (m: Machine, t0: number): number => {
    let t = t0;
    for (const name of successPath(m)) {
      const s = m.States[name]!;
      if (s.Type === 'Task') {
        t = schedule(name, lastInvocation((c) => c.executionName === executionName && c.stateName === name), t);
        // Issue 14.1: the wait makes no AWS call (it is resumed by the deployment's ECS event), so the
        // Fargate start constrains the state itself.
        if (name.startsWith('WaitForGateway') && marks.serviceReady !== undefined && t < marks.serviceReady) {
          lines.push(`${name.padEnd(26)} ${(t / 1000).toFixed(2).padStart(7)} → ${(marks.serviceReady / 1000).toFixed(2).padStart(7)} s  Fargate start (CreateService end + ${lat.taskStartMs / 1000} s), resumed by its ECS event`);
          t = marks.serviceReady;
        }
      } else if (s.Type === 'Parallel') {
        lines.push(`${name} (Parallel: the longest branch counts)`);
        t = Math.max(t, ...(s.Branches ?? []).map((b) => walk(b, t)));
      }
    }
    return t;
  };

  // Signup → intake (SQS → Lambda) → StartExecution → the execution.
  let t = schedule('Intake', lastInvocation((c) => c.handler === 'Intake'), 0);
  t += startExecutionMs;
  lines.push(`${'SFN StartExecution'.padEnd(26)} ${((t - startExecutionMs) / 1000).toFixed(2).padStart(7)} → ${(t / 1000).toFixed(2).padStart(7)} s  (modelled as one write call)`);
  t = walk(asl, t);
  return { totalMs: t, calls: floorCalls, lines };
}
