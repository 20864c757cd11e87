/**
 * The contract between the ASL files, the handler catalogue and the error module: the same files
 * CDK deploys and the local cloud runs must be valid ASL, call only catalogued functions, and
 * retry or catch only error names that handlers (or Step Functions / Lambda) really produce.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import validator from 'asl-validator';
import { ERROR_NAMES } from '../../functions/domain/errors';
import { HANDLERS, STATE_MACHINES, substitutionKey, type HandlerKey } from '../../functions/handlers/catalogue';

const DIR = join(__dirname, '../../state-machines');
const KNOWN_ERRORS = new Set<string>(Object.values(ERROR_NAMES));
const isKnownError = (name: string) => KNOWN_ERRORS.has(name) || name.startsWith('Lambda.') || name.startsWith('States.');

const TOKEN_WAIT = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

interface State {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Parameters?: { FunctionName?: string; action?: string };
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number; MaxAttempts?: number; MaxDelaySeconds?: number; JitterStrategy?: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Branches?: { States: Record<string, State> }[];
}
interface Definition {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

function allStates(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, s]) => [[name, s] as [string, State], ...(s.Branches ?? []).flatMap((b) => allStates(b.States))]);
}

const machines = Object.entries(STATE_MACHINES).map(([key, spec]) => {
  const text = readFileSync(join(DIR, spec.file), 'utf8');
  return { key, spec, text, definition: JSON.parse(text) as Definition };
});

describe('state machines', () => {
  it('are exactly the files listed in the catalogue', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.asl.json')).sort();
    expect(files).toEqual(Object.values(STATE_MACHINES).map((s) => s.file).sort());
  });

  describe.each(machines)('$key', ({ spec, text, definition }) => {
    const tasks = allStates(definition.States).filter(([, s]) => s.Type === 'Task');

    it('is valid ASL once CDK has filled in the function ARNs', () => {
      const filled = text
        .replace(/\$\{(\w+)FunctionArn\}/g, (_m, key: string) => `arn:aws:lambda:eu-west-1:111122223333:function:octw-${key.toLowerCase()}`)
        .replace(/\$\{Cell\w+\}/g, 'off');
      const result = validator(JSON.parse(filled), { checkPaths: true, checkArn: true });
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    });

    it('uses only substitutions CDK provides: the ARNs of the handlers the catalogue lists for it', () => {
      const used = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
      const allowed = new Set<string>([
        ...spec.handlers.map((h: HandlerKey) => substitutionKey(h)),
        ...(('cellSettings' in spec ? spec.cellSettings : []) as readonly string[]),
        // Issue 13.1: nested workflows (startExecution.sync:2), by the catalogue name of the machine they start.
        ...(('startsStateMachines' in spec ? spec.startsStateMachines : []) as readonly string[]).map((k) => `${k}StateMachineArn`),
      ]);
      for (const key of used) expect(allowed.has(key!)).toBe(true);
      expect(new Set(used)).toEqual(allowed);
    });

    it('has an overall timeout', () => {
      expect(definition.TimeoutSeconds).toBeGreaterThan(0);
    });

    it('gives every Task a Retry for throttling and transient errors, a Catch, and a timeout covering its Lambda', () => {
      expect(tasks.length).toBeGreaterThan(0);
      for (const [name, task] of tasks) {
        if (task.Resource === TOKEN_WAIT) {
          // Issue 14.1: a gateway wait by task token. Retried like a step, except a timeout: a wait
          // that ends without its event (heartbeat or timeout) is caught and goes to one check.
          expect([name, task.Parameters?.FunctionName]).toEqual([name, '${GatewayFunctionArn}']);
          expect([name, task.HeartbeatSeconds! > 0 && task.HeartbeatSeconds! < task.TimeoutSeconds!]).toEqual([name, true]);
          const retried = (task.Retry ?? []).flatMap((r) => r.ErrorEquals);
          expect([name, retried]).toEqual([name, expect.arrayContaining(['ThrottledError', 'TransientAwsError', 'Lambda.Unknown'])]);
          expect([name, retried.includes('States.Timeout') || retried.includes('States.HeartbeatTimeout')]).toEqual([name, false]);
          expect([name, task.Catch?.[0]?.ErrorEquals]).toEqual([name, ['States.HeartbeatTimeout', 'States.Timeout']]);
          continue;
        }
        if (task.Resource === 'arn:aws:states:::states:startExecution.sync:2') {
          // A nested workflow: bounded by its own state machine's timeout; caught (the rollout records the tenant's outcome).
          expect([name, (task.Catch ?? []).length > 0]).toEqual([name, true]);
          continue;
        }
        const handler = /^\$\{(\w+)FunctionArn\}$/.exec(task.Resource ?? '')?.[1] as HandlerKey | undefined;
        expect([name, handler && handler in HANDLERS]).toEqual([name, true]);
        const retried = (task.Retry ?? []).flatMap((r) => r.ErrorEquals);
        expect([name, retried]).toEqual([name, expect.arrayContaining(['ThrottledError', 'TransientAwsError', 'Lambda.Unknown', 'States.Timeout'])]);
        expect([name, (task.Catch ?? []).length > 0]).toEqual([name, true]);
        expect([name, task.TimeoutSeconds]).toEqual([name, HANDLERS[handler!].timeoutSeconds + 10]);
        for (const r of task.Retry ?? []) expect([name, r.JitterStrategy]).toEqual([name, 'FULL']);
      }
    });

    it('retries and catches only error names that exist', () => {
      const names = allStates(definition.States).flatMap(([, s]) => [...(s.Retry ?? []), ...(s.Catch ?? [])].flatMap((r) => r.ErrorEquals));
      for (const n of names) expect([n, isKnownError(n)]).toEqual([n, true]);
    });

    it('never retries an error that means the request is wrong or lost its race', () => {
      for (const [name, s] of allStates(definition.States)) {
        const retried = (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
        // ForeignResourceError: another cell's or tenant's resource under our name; retrying cannot make it ours.
        for (const permanent of ['ValidationError', 'TenantStateConflictError', 'TenantNotFoundError', 'PermanentAwsError', 'ForeignResourceError', 'States.ALL', 'States.TaskFailed']) {
          expect([name, retried.includes(permanent)]).toEqual([name, false]);
        }
      }
    });

    it('waits out a burst on ECS task-definition registration: throttled, a task-definition step keeps retrying for as long as 2,000 tenants take at 1 a second', () => {
      // ECS's task-definition-modify bucket refills 1 a second, account-wide (see the fake's
      // THROTTLE_GROUPS), so the last of 2,000 signups registers ~2,000 s after the first. The
      // default budget (60 attempts, ≤ 20 s) ran out after about 10 minutes and failed 83 of 2,000
      // tenants in the bench's burst. Mean wait of a full-jitter retry: half its capped delay.
      const steps = allStates(definition.States).filter(([, s]) => s.Resource === '${GatewayFunctionArn}' && /TaskDefinitions?$/.test(s.Parameters?.action ?? ''));
      for (const [name, s] of steps) {
        const throttle = (s.Retry ?? []).find((r) => r.ErrorEquals.includes('ThrottledError'));
        const meanSeconds = Array.from({ length: throttle?.MaxAttempts ?? 0 }, (_, k) => Math.min(throttle?.MaxDelaySeconds ?? Infinity, (throttle?.IntervalSeconds ?? 1) * (throttle?.BackoffRate ?? 2) ** k) / 2).reduce((a, b) => a + b, 0);
        expect([name, meanSeconds >= 2_000]).toEqual([name, true]);
      }
      if (['provision', 'deprovision', 'update'].includes(spec.file.replace(/-tenant\.asl\.json$/, ''))) expect(steps.length).toBeGreaterThan(0);
    });
  });
});
