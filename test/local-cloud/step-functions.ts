/**
 * Local Step Functions: the real `state-machines/*.asl.json` files, run by the `aws-local-stepfunctions`
 * interpreter, with every Task's Lambda ARN routed to the real handler in-process, and the SFN API
 * (StartExecution, DescribeExecution, ListExecutions, StopExecution, GetExecutionHistory) emulated on
 * `SFNClient` for the code under test (intake starts provision runs through the SDK as in AWS).
 *
 * Fidelity notes (see the report in the issue for the interpreter's own limits):
 * - Definition substitutions are filled as CDK/CloudFormation fill them; an unfilled `${X}` is an error.
 * - A handler's thrown error reaches the ASL as AWS Lambda reports it: Error = the error's `name`
 *   (Node runtime `errorType`), Cause = JSON `{"errorType","errorMessage","trace"}` string.
 * - An invocation during which the AWS fake fired a "crash" fails with `Lambda.Unknown`, whatever
 *   the handler returned or threw.
 * - Handler results go through JSON (as the Lambda payload does); over 256 KiB → States.DataLimitExceeded.
 * - Waits and retry pauses are shortened, never removed: Wait `Seconds` via the interpreter's
 *   `waitTimeOverrides` (Seconds × 1000 × waitScale ms); Retry `IntervalSeconds` and `MaxDelaySeconds`
 *   are multiplied by retryScale in the in-memory copy run locally, so BackoffRate, MaxDelaySeconds
 *   and JitterStrategy FULL keep working (the interpreter's retry override is one fixed pause per
 *   retrier, which would drop backoff and jitter). The unscaled definition is what gets validated.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context as LambdaContext } from 'aws-lambda';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  SendTaskSuccessCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  TaskTimedOut,
  InvalidToken,
  InvalidOutput,
  type SendTaskSuccessOutput,
  type SendTaskFailureOutput,
  type SendTaskHeartbeatOutput,
  type DescribeExecutionOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  type GetExecutionHistoryOutput,
  type HistoryEvent,
  type HistoryEventType,
  type ListExecutionsOutput,
  type StartExecutionOutput,
  type StopExecutionOutput,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import * as z from 'zod';
import { HANDLERS } from '../../functions/handlers/catalogue';
import { runInvocation, type InvocationContext } from './invocation-context';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './env';

// ---------------------------------------------------------------------------------------------
// Types

/** A handler as the lead passes it: `(await import('functions/handlers/x')).handler`. */
export type LocalHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

/** Structural subset of catalogue's StateMachineSpec (fixtures use their own handler keys). */
export interface LocalStateMachineSpec {
  readonly file: string;
  readonly handlers: readonly string[];
}

export interface LocalStepFunctionsOptions {
  /** e.g. STATE_MACHINES from functions/handlers/catalogue.ts; key = state machine name. */
  readonly stateMachines: Readonly<Record<string, LocalStateMachineSpec>>;
  /** Handler key → handler. Every key a state machine lists must be present. */
  readonly handlers: Readonly<Record<string, LocalHandler>>;
  /** Other `${X}` definition substitutions (not the `${<Key>FunctionArn}` ones, filled automatically). */
  readonly substitutions?: Readonly<Record<string, string>>;
  /** Directory of the ASL files. Default: <repo>/state-machines. */
  readonly definitionsDir?: string;
  /** Multiplier for Wait `Seconds`. Default 0.001 (10 s → 10 ms). */
  readonly waitScale?: number;
  /** Multiplier for Retry `IntervalSeconds`/`MaxDelaySeconds`. Default 0.001. */
  readonly retryScale?: number;
  /** Pause for Wait states whose duration is only known at run time (SecondsPath, Timestamp, TimestampPath). Default 1 ms. */
  readonly dynamicWaitMs?: number;
  /** Multiplier for a `.waitForTaskToken` state's HeartbeatSeconds. Default: waitScale. */
  readonly heartbeatScale?: number;
  /** Install the SFNClient emulation. Default true; `stop()` uninstalls it. */
  readonly interceptSfnClient?: boolean;
}

export type ProgressKind =
  | 'ExecutionStarted'
  | 'StateEntered'
  | 'StateExited'
  | 'StateFailed'
  | 'StateRetried'
  | 'StateCaught'
  | 'ExecutionSucceeded'
  | 'ExecutionFailed'
  | 'ExecutionAborted'
  | 'ExecutionTimedOut';

export interface ProgressEvent {
  readonly kind: ProgressKind;
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineName: string;
  /** Epoch ms when it happened, and ms since the execution started. */
  readonly timestamp: number;
  readonly elapsedMs: number;
  readonly state?: string;
  readonly stateType?: string;
  readonly error?: string;
  readonly cause?: string;
  /** For StateRetried: the attempt number (1 = first retry). */
  readonly attempt?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export interface ExecutionCounters {
  /** States entered plus retries: what a Standard workflow bills. */
  readonly stateTransitions: number;
  /** Handler invocations (retries included). */
  readonly taskInvocations: number;
  readonly durationMs: number | undefined;
}

export interface ExecutionSnapshot {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly counters: ExecutionCounters;
}

export interface LocalStepFunctions {
  /** State machine name → ARN (`arn:aws:states:us-east-1:123456789012:stateMachine:<name>`). */
  readonly stateMachineArns: Readonly<Record<string, string>>;
  /** Same semantics as SFN StartExecution (name idempotency, errors); `target` is a name or an ARN. */
  startExecution(target: string, input?: unknown, name?: string): Promise<{ executionArn: string; startDate: Date }>;
  /** Resolves when the execution has stopped (any status) and its history is complete. */
  waitForExecution(executionArn: string): Promise<ExecutionSnapshot>;
  describe(executionArn: string): ExecutionSnapshot;
  list(): ExecutionSnapshot[];
  /** AWS-shaped history (subset of event types). */
  history(executionArn: string): HistoryEvent[];
  /** The interpreter's own event log for the execution, for debugging. */
  rawEvents(executionArn: string): readonly unknown[];
  /** Listener for every execution's progress; returns an unsubscribe function. */
  onProgress(listener: ProgressListener): () => void;
  /** Executions running + handler invocations still in flight. */
  pending(): number;
  /** Waits until nothing runs (including executions started while waiting) and no handler is in flight. */
  drain(): Promise<void>;
  /** Aborts running executions, waits for in-flight handlers, uninstalls the SFNClient emulation. */
  stop(): Promise<void>;
  /** The SFNClient stub (aws-sdk-client-mock), for `toHaveReceivedCommandWith` assertions. */
  readonly sfnClientMock: AwsClientStub<SFNClient> | undefined;
  /** Task-token API calls received (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat), by operation and answer. */
  readonly tokenCalls: readonly TokenCall[];
  /** Tasks waiting for a token now: token → state name and execution. */
  waitingTokens(): { token: string; executionArn: string; stateName: string }[];
}

export interface TokenCall {
  readonly operation: 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat';
  /** 'ok' or the SFN error name (TaskTimedOut, InvalidToken, InvalidOutput). */
  readonly answer: string;
  readonly at: number;
}

// ---------------------------------------------------------------------------------------------
// Names and ARNs

export function functionNameFor(handlerKey: string): string {
  return `octw-${handlerKey.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}
export function functionArnFor(handlerKey: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionNameFor(handlerKey)}`;
}
export function stateMachineArnFor(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}
export function executionArnFor(stateMachineName: string, executionName: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineName}:${executionName}`;
}

/** A Lambda-like context for an in-process invocation (memory/timeout from the catalogue when the key is known). */
export function lambdaContextFor(handlerKey: string, invocationId: string): LambdaContext {
  const spec = (HANDLERS as Record<string, { memoryMiB: number; timeoutSeconds: number } | undefined>)[handlerKey];
  const deadline = Date.now() + (spec?.timeoutSeconds ?? 30) * 1000;
  const functionName = functionNameFor(handlerKey);
  const refuse = (): never => {
    throw new Error('callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArnFor(handlerKey),
    memoryLimitInMB: String(spec?.memoryMiB ?? 512),
    awsRequestId: invocationId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${invocationId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: refuse,
    fail: refuse,
    succeed: refuse,
  };
}

/** AWS: 1–80 chars; no whitespace, brackets, wildcards, `"#%\^|~`$&,;:/`, control characters. */
const EXECUTION_NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
function isValidExecutionName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || EXECUTION_NAME_FORBIDDEN.test(name)) return false;
  return [...name].every((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code > 0x1f && (code < 0x7f || code > 0x9f);
  });
}

// ---------------------------------------------------------------------------------------------
// Definitions: substitutions, Task routing, scaling

const SUBSTITUTION = /\$\{([^}]*)\}/g;

/**
 * Fills `${X}` placeholders in the ASL text from `values`, as CloudFormation DefinitionSubstitutions
 * do. Throws listing every placeholder without a value.
 */
export function fillSubstitutions(text: string, values: Readonly<Record<string, string>>, file = 'definition'): string {
  const missing = new Set<string>();
  const filled = text.replace(SUBSTITUTION, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) {
      missing.add(key);
      return whole;
    }
    return JSON.stringify(value).slice(1, -1);
  });
  if (missing.size > 0) {
    throw new Error(`${file}: no value for definition substitution(s) ${[...missing].map((k) => '${' + k + '}').join(', ')}`);
  }
  return filled;
}

const StateSchema = z.looseObject({
  Type: z.string(),
  Resource: z.string().optional(),
  Parameters: z.unknown().optional(),
  Seconds: z.number().optional(),
  Retry: z.array(z.looseObject({ IntervalSeconds: z.number().optional(), MaxDelaySeconds: z.number().optional() })).optional(),
  Branches: z.array(z.unknown()).optional(),
  Iterator: z.unknown().optional(),
  ItemProcessor: z.unknown().optional(),
});
type AslState = z.infer<typeof StateSchema>;
const MachineSchema = z.looseObject({ StartAt: z.string(), States: z.record(z.string(), StateSchema) });
type AslMachine = z.infer<typeof MachineSchema>;

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
/** The callback pattern: the state waits until SendTaskSuccess/SendTaskFailure with its token, or its heartbeat/timeout. */
const LAMBDA_INVOKE_WAIT = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** `$$.Task.Token` as the interpreter sees it; replaced by a fresh token per task attempt (the interpreter has no tokens of its own). */
const TOKEN_PLACEHOLDER = 'octw-local-task-token-placeholder';

interface TaskRoute {
  readonly stateName: string;
  readonly handlerKey: string;
  /** `arn:aws:states:::lambda:invoke`: input is {FunctionName, Payload}, result wrapped in {Payload}. */
  readonly viaInvokeIntegration: boolean;
  /** `.waitForTaskToken`: the result is what SendTaskSuccess sends; HeartbeatSeconds as given (scaled at run time). */
  readonly waitForToken?: { readonly heartbeatSeconds?: number };
  /** `arn:aws:states:::states:startExecution.sync:2`: a nested execution of a local state machine (handlerKey unused). */
  readonly nestedSync?: boolean;
}

/** The optimised Step Functions integration that starts a nested execution and waits for it (output as JSON). */
const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';

interface CompiledMachine {
  readonly name: string;
  readonly arn: string;
  readonly machine: StateMachine;
  readonly tasks: readonly TaskRoute[];
  readonly waitOverrides: Readonly<Record<string, number>>;
}

function walkStates(machine: AslMachine, visit: (name: string, state: AslState) => void): void {
  for (const [name, state] of Object.entries(machine.States)) {
    visit(name, state);
    const nested = [...(state.Branches ?? []), state.ItemProcessor ?? state.Iterator].filter((b) => b !== undefined);
    for (const branch of nested) walkStates(MachineSchema.parse(branch), visit);
  }
}

/**
 * The copy the interpreter runs (objects are rebuilt, the parsed original stays intact):
 * - Retry intervals scaled;
 * - `ResultPath: "$"` (state or Catch) dropped: the interpreter writes a key named "$" instead of
 *   replacing the input, while an absent ResultPath means exactly "$" in AWS and in the interpreter.
 */
function localCopy(node: unknown, scale: number): unknown {
  if (Array.isArray(node)) return node.map((n) => localCopy(n, scale));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'ResultPath' && value === '$') continue;
    if (key === 'Retry' && Array.isArray(value)) {
      out[key] = value.map((retrier: unknown) => {
        const r = z.looseObject({ IntervalSeconds: z.number().optional(), MaxDelaySeconds: z.number().optional() }).parse(retrier);
        return {
          ...r,
          IntervalSeconds: (r.IntervalSeconds ?? 1) * scale,
          ...(r.MaxDelaySeconds !== undefined ? { MaxDelaySeconds: r.MaxDelaySeconds * scale } : {}),
        };
      });
    } else {
      out[key] = localCopy(value, scale);
    }
  }
  return out;
}

const machineCache = new Map<string, StateMachine>();

const REPO_ROOT = join(__dirname, '../..');
const VALIDATED_DIR = join(tmpdir(), 'octw-asl-validated');
let lockfileHash: string | undefined;

/**
 * Validates a filled definition as AWS would (asl-validator through the interpreter, ARNs and paths
 * checked), once per definition text and installed dependencies: the interpreter builds a new Ajv
 * and compiles every ASL schema per definition (about 1 s for the six machines on an idle 2-core
 * machine, in each of the ~35 test files that start a local cloud). Validation is deterministic,
 * so a text the same installed validator accepted before (in any jest worker or earlier run) is
 * accepted again; a marker file keyed by sha256(package-lock.json, text) records the acceptance.
 * A definition that fails validation leaves no marker and fails every time.
 */
function validateOnce(raw: unknown, text: string): void {
  lockfileHash ??= createHash('sha256').update(readFileSync(join(REPO_ROOT, 'package-lock.json'))).digest('hex');
  const marker = join(VALIDATED_DIR, createHash('sha256').update(`${lockfileHash}\n${text}`).digest('hex'));
  if (existsSync(marker)) return;
  new StateMachine(raw as StateMachineDefinition, { validationOptions: { checkArn: true, checkPaths: true } });
  mkdirSync(VALIDATED_DIR, { recursive: true });
  writeFileSync(marker, '');
}

function compile(
  name: string,
  spec: LocalStateMachineSpec,
  options: Required<Pick<LocalStepFunctionsOptions, 'definitionsDir' | 'waitScale' | 'retryScale' | 'dynamicWaitMs'>> &
    Pick<LocalStepFunctionsOptions, 'substitutions' | 'handlers'> & { readonly machineNames?: readonly string[] },
): CompiledMachine {
  const path = join(options.definitionsDir, spec.file);
  const functionArns: Record<string, string> = {};
  const keyByArn = new Map<string, string>();
  for (const key of spec.handlers) {
    functionArns[`${key}FunctionArn`] = functionArnFor(key);
    keyByArn.set(functionArnFor(key), key);
    if (options.handlers[key] === undefined) throw new Error(`${spec.file}: no local handler given for "${key}"`);
  }
  // `${<Name>StateMachineArn}`: every local state machine, as CDK substitutes a nested workflow's ARN.
  const machineArns = Object.fromEntries((options.machineNames ?? []).map((n) => [`${n}StateMachineArn`, stateMachineArnFor(n)]));
  const text = fillSubstitutions(readFileSync(path, 'utf8'), { ...machineArns, ...options.substitutions, ...functionArns }, spec.file);
  const raw: unknown = JSON.parse(text);
  const parsed = MachineSchema.parse(raw);

  const tasks: TaskRoute[] = [];
  const waitOverrides: Record<string, number> = {};
  const seen = new Set<string>();
  walkStates(parsed, (stateName, state) => {
    if (seen.has(stateName)) throw new Error(`${spec.file}: state name "${stateName}" is used twice (AWS requires unique names)`);
    seen.add(stateName);
    if (state.Type === 'Task') {
      const resource = state.Resource ?? '';
      if (resource === START_EXECUTION_SYNC) {
        tasks.push({ stateName, handlerKey: '', viaInvokeIntegration: false, nestedSync: true });
        return;
      }
      let arn = resource;
      const waitForToken = resource === LAMBDA_INVOKE_WAIT;
      const viaInvokeIntegration = resource === LAMBDA_INVOKE || waitForToken;
      if (viaInvokeIntegration) {
        const fn = z.object({ FunctionName: z.string() }).safeParse(state.Parameters);
        arn = fn.success ? fn.data.FunctionName.replace(/:\$LATEST$/, '') : '';
      }
      const handlerKey = keyByArn.get(arn);
      if (handlerKey === undefined) {
        throw new Error(`${spec.file}: Task "${stateName}" calls ${resource}${viaInvokeIntegration ? ` (${arn})` : ''}, which is not a local handler of this state machine`);
      }
      const heartbeat = z.object({ HeartbeatSeconds: z.number().optional() }).parse(state).HeartbeatSeconds;
      tasks.push({ stateName, handlerKey, viaInvokeIntegration, ...(waitForToken ? { waitForToken: heartbeat !== undefined ? { heartbeatSeconds: heartbeat } : {} } : {}) });
    } else if (state.Type === 'Wait') {
      waitOverrides[stateName] = state.Seconds !== undefined ? state.Seconds * 1000 * options.waitScale : options.dynamicWaitMs;
    }
  });

  // Validate what AWS would get; run the local copy. A StateMachine holds no per-run state, so one
  // built from the same text is reused across instances.
  const cacheKey = `${options.retryScale}\n${text}`;
  let machine = machineCache.get(cacheKey);
  if (machine === undefined) {
    validateOnce(raw, text);
    machine = new StateMachine(localCopy(raw, options.retryScale) as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    machineCache.set(cacheKey, machine);
  }
  return { name, arn: stateMachineArnFor(name), machine, tasks, waitOverrides };
}

// ---------------------------------------------------------------------------------------------
// Errors as Lambda and Step Functions report them

/** An error as the interpreter sees it: `name` is matched by ErrorEquals, `message` becomes Cause. */
export class TaskFailure extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

const DATA_LIMIT_BYTES = 256 * 1024;

function lambdaErrorCause(err: unknown): { name: string; cause: string } {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err));
  const errorType = e.name || 'Error';
  const trace = (e.stack ?? '').split('\n');
  return { name: errorType, cause: JSON.stringify({ errorType, errorMessage: e.message, trace }) };
}

function crashCause(invocationId: string, crashed: { service: string; operation: string }): string {
  const payload = {
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: ${invocationId} Error: Runtime exited with error: simulated crash after ${crashed.service}.${crashed.operation} succeeded`,
  };
  return `The cause could not be determined because Lambda did not return an error type. Returned payload: ${JSON.stringify(payload)}`;
}

function sfnError<T extends Error>(Ctor: new (opts: { message: string; $metadata: object }) => T, message: string): T {
  return new Ctor({ message, $metadata: { httpStatusCode: 400 } });
}

// ---------------------------------------------------------------------------------------------
// Executions

type RunResult = ReturnType<StateMachine['run']>;
type EventLog = RunResult['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

interface ExecutionRecord {
  readonly executionArn: string;
  readonly compiled: CompiledMachine;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
  stopDate?: Date;
  stateTransitions: number;
  taskInvocations: number;
  readonly raw: EventLog[];
  /** Task states whose last attempt failed (to shape the history of a caught failure). */
  readonly failedTasks: Set<string>;
  readonly history: { type: HistoryEventType; timestamp: Date; details: Partial<HistoryEvent> }[];
  abort?: () => void;
  aborted?: { error?: string; cause?: string };
  done: Promise<void>;
}

const HISTORY_STATE_TYPES = new Set(['Task', 'Pass', 'Wait', 'Choice', 'Parallel', 'Map', 'Succeed', 'Fail']);

function toHistory(record: ExecutionRecord, ev: EventLog): void {
  const push = (type: HistoryEventType, details: Partial<HistoryEvent> = {}): void => {
    record.history.push({ type, timestamp: new Date(ev.timestamp), details });
  };
  switch (ev.type) {
    case 'ExecutionStarted':
      push('ExecutionStarted', { executionStartedEventDetails: { input: record.input, roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/octw-local-sfn` } });
      return;
    case 'StateEntered': {
      if (!HISTORY_STATE_TYPES.has(ev.state.type)) return;
      push(`${ev.state.type}StateEntered` as HistoryEventType, {
        stateEnteredEventDetails: { name: ev.state.name, input: JSON.stringify(ev.state.input) },
      });
      if (ev.state.type === 'Task') {
        push('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: ev.state.name } });
        push('LambdaFunctionStarted');
      }
      return;
    }
    case 'StateRetried':
      record.failedTasks.delete(ev.state.name);
      if (ev.state.type === 'Task') {
        push('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: ev.state.name } });
        push('LambdaFunctionStarted');
      }
      return;
    case 'StateFailed': {
      const details = { error: ev.Error, cause: typeof ev.Cause === 'string' ? ev.Cause : JSON.stringify(ev.Cause) };
      if (ev.state.type === 'Task') {
        record.failedTasks.add(ev.state.name);
        push('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: details });
      }
      else if (ev.state.type === 'Parallel') push('ParallelStateFailed');
      else if (ev.state.type === 'Map') push('MapStateFailed');
      return;
    }
    case 'StateExited':
      if (!HISTORY_STATE_TYPES.has(ev.state.type)) return;
      if (ev.state.type === 'Task') {
        // Caught failure: AWS shows LambdaFunctionFailed then TaskStateExited, no LambdaFunctionSucceeded.
        if (!record.failedTasks.delete(ev.state.name)) {
          push('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: JSON.stringify(ev.state.output ?? null) } });
        }
      }
      push(`${ev.state.type}StateExited` as HistoryEventType, {
        stateExitedEventDetails: { name: ev.state.name, output: JSON.stringify(ev.state.output ?? null) },
      });
      return;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      push(ev.type, { mapIterationStartedEventDetails: { name: ev.parentState.name, index: ev.index } });
      return;
    case 'ExecutionSucceeded':
      push('ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(ev.output ?? null) } });
      return;
    case 'ExecutionFailed':
      push('ExecutionFailed', {
        executionFailedEventDetails: { error: ev.Error, cause: typeof ev.Cause === 'string' ? ev.Cause : JSON.stringify(ev.Cause) },
      });
      return;
    case 'ExecutionAborted':
      push('ExecutionAborted', { executionAbortedEventDetails: { ...record.aborted } });
      return;
    case 'ExecutionTimeout':
      push('ExecutionTimedOut', { executionTimedOutEventDetails: {} });
      return;
    default:
      return;
  }
}

function progressOf(record: ExecutionRecord, ev: EventLog): ProgressEvent | undefined {
  const base = {
    executionArn: record.executionArn,
    executionName: record.name,
    stateMachineName: record.compiled.name,
    timestamp: ev.timestamp,
    elapsedMs: ev.timestamp - record.startDate.getTime(),
  };
  const cause = (c: unknown): string => (typeof c === 'string' ? c : JSON.stringify(c));
  switch (ev.type) {
    case 'ExecutionStarted':
      return { ...base, kind: 'ExecutionStarted' };
    case 'StateEntered':
    case 'StateExited':
    case 'StateCaught':
      return { ...base, kind: ev.type, state: ev.state.name, stateType: ev.state.type };
    case 'StateFailed':
      return { ...base, kind: 'StateFailed', state: ev.state.name, stateType: ev.state.type, error: ev.Error, cause: cause(ev.Cause) };
    case 'StateRetried':
      // The interpreter reports which retrier matched, not the error itself.
      return {
        ...base,
        kind: 'StateRetried',
        state: ev.state.name,
        stateType: ev.state.type,
        attempt: ev.retry.attempt,
        error: ev.retry.retrier.ErrorEquals.join('|'),
      };
    case 'ExecutionSucceeded':
      return { ...base, kind: 'ExecutionSucceeded' };
    case 'ExecutionFailed':
      return { ...base, kind: 'ExecutionFailed', error: ev.Error, cause: cause(ev.Cause) };
    case 'ExecutionAborted':
      return { ...base, kind: 'ExecutionAborted', ...record.aborted };
    case 'ExecutionTimeout':
      return { ...base, kind: 'ExecutionTimedOut' };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

export function createLocalStepFunctions(options: LocalStepFunctionsOptions): LocalStepFunctions {
  const settings = {
    definitionsDir: options.definitionsDir ?? join(__dirname, '..', '..', 'state-machines'),
    waitScale: options.waitScale ?? 0.001,
    retryScale: options.retryScale ?? 0.001,
    dynamicWaitMs: options.dynamicWaitMs ?? 1,
    substitutions: options.substitutions,
    handlers: options.handlers,
    machineNames: Object.keys(options.stateMachines),
  };
  const machines = new Map<string, CompiledMachine>();
  for (const [name, spec] of Object.entries(options.stateMachines)) {
    const compiled = compile(name, spec, settings);
    machines.set(compiled.arn, compiled);
  }
  const executions = new Map<string, ExecutionRecord>();
  const heartbeatScale = options.heartbeatScale ?? settings.waitScale;
  /** Tokens of tasks waiting now, and every token ever issued (a closed one answers TaskTimedOut, as SFN does). */
  const waiting = new Map<string, TokenWait>();
  const issued = new Set<string>();
  const tokenCalls: TokenCall[] = [];
  const listeners = new Set<ProgressListener>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;

  const emit = (event: ProgressEvent): void => {
    for (const l of listeners) l(event);
  };

  const machineFor = (target: string): CompiledMachine => {
    const arn = target.startsWith('arn:') ? target : stateMachineArnFor(target);
    if (!/^arn:aws:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/.test(arn)) throw sfnError(InvalidArn, `Invalid Arn: '${target}'`);
    const m = machines.get(arn);
    if (m === undefined) throw sfnError(StateMachineDoesNotExist, `State Machine Does Not Exist: '${arn}'`);
    return m;
  };

  const recordFor = (executionArn: string): ExecutionRecord => {
    if (!/^arn:aws:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn)) {
      throw sfnError(InvalidArn, `Invalid Arn: '${executionArn}'`);
    }
    const r = executions.get(executionArn);
    if (r === undefined) throw sfnError(ExecutionDoesNotExist, `Execution Does Not Exist: '${executionArn}'`);
    return r;
  };

  /**
   * `states:startExecution.sync:2` as AWS runs it: StartExecution (same name idempotency and errors),
   * then the task waits for the nested execution. SUCCEEDED: the DescribeExecution result with Input
   * and Output parsed as JSON (the `:2` form). Any other end: the task fails with States.TaskFailed,
   * Cause = that result as JSON (with the nested Error and Cause). A parent aborted while waiting
   * stops the nested execution, as AWS does for a `.sync` task.
   */
  const startNestedSync = async (record: ExecutionRecord, route: TaskRoute, input: unknown): Promise<unknown> => {
    record.taskInvocations += 1;
    const params = z.object({ StateMachineArn: z.string(), Input: z.unknown().optional(), Name: z.string().optional() }).parse(input);
    const childInput = params.Input === undefined ? '{}' : typeof params.Input === 'string' ? params.Input : JSON.stringify(params.Input);
    let childArn: string;
    try {
      childArn = (await startExecution(params.StateMachineArn, childInput, params.Name)).executionArn;
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      throw new TaskFailure(`StepFunctions.${name.endsWith('Exception') ? name : `${name}Exception`}`, err instanceof Error ? err.message : String(err));
    }
    const child = recordFor(childArn);
    const parentAborted = new Promise<'aborted'>((resolve) => {
      const timer = setInterval(() => {
        if (record.status !== 'RUNNING') resolve('aborted');
        if (child.status !== 'RUNNING') clearInterval(timer);
      }, 20);
      void child.done.then(() => clearInterval(timer));
    });
    if ((await Promise.race([child.done.then(() => 'done' as const), parentAborted])) === 'aborted') {
      stopExecution(childArn, 'States.Aborted', `parent ${record.executionArn} stopped (${route.stateName})`);
      await child.done;
    }
    const s = snapshot(child);
    const described = {
      ExecutionArn: s.executionArn,
      StateMachineArn: s.stateMachineArn,
      Name: s.name,
      Status: s.status,
      StartDate: s.startDate.getTime(),
      StopDate: (s.stopDate ?? new Date()).getTime(),
      Input: JSON.parse(s.input) as unknown,
      ...(s.output !== undefined ? { Output: JSON.parse(s.output) as unknown } : {}),
      ...(s.error !== undefined ? { Error: s.error } : {}),
      ...(s.cause !== undefined ? { Cause: s.cause } : {}),
    };
    if (s.status !== 'SUCCEEDED') throw new TaskFailure('States.TaskFailed', JSON.stringify(described));
    return described;
  };

  const invokeTask = async (record: ExecutionRecord, route: TaskRoute, input: unknown): Promise<unknown> => {
    if (route.nestedSync === true) return startNestedSync(record, route, input);
    record.taskInvocations += 1;
    const handler = options.handlers[route.handlerKey];
    if (handler === undefined) throw new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${functionArnFor(route.handlerKey)}`);
    const invocationId = randomUUID();
    const lambdaContext = lambdaContextFor(route.handlerKey, invocationId);
    let event: unknown = JSON.parse(JSON.stringify(input ?? null));
    if (route.viaInvokeIntegration) {
      event = z.object({ Payload: z.unknown().optional() }).parse(event).Payload ?? {};
    }
    // The callback pattern: a fresh token for this attempt, opened before the Lambda runs (it may be
    // resumed while the Lambda still runs, as in SFN).
    let token: { value: string; wait: Promise<unknown> } | undefined;
    if (route.waitForToken) {
      const value = `${randomUUID()}${randomUUID()}`.replace(/-/g, '');
      event = JSON.parse(JSON.stringify(event).split(TOKEN_PLACEHOLDER).join(value));
      const heartbeatMs = route.waitForToken.heartbeatSeconds !== undefined ? route.waitForToken.heartbeatSeconds * 1000 * heartbeatScale : undefined;
      token = { value, wait: openToken(value, record, route.stateName, heartbeatMs) };
      // A wait that ends while the Lambda still runs is observed below; never an unhandled rejection.
      token.wait.catch(() => undefined);
    }
    const ctx: InvocationContext = {
      invocationId,
      handler: route.handlerKey,
      executionName: record.name,
      stateName: route.stateName,
    };
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    const run = runInvocation(ctx, () => handler(event, lambdaContext));
    inFlight.add(run);
    try {
      outcome = { ok: true, value: await run };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      inFlight.delete(run);
    }
    if (ctx.crashed !== undefined || !outcome.ok) {
      if (token) closeToken(token.value);
      if (ctx.crashed !== undefined) throw new TaskFailure('Lambda.Unknown', crashCause(invocationId, ctx.crashed));
      const { name, cause } = lambdaErrorCause(outcome.ok ? undefined : outcome.error);
      throw new TaskFailure(name, cause);
    }
    if (token) return token.wait;
    const json = JSON.stringify(outcome.value ?? null);
    if (Buffer.byteLength(json) > DATA_LIMIT_BYTES) {
      throw new TaskFailure('States.DataLimitExceeded', `The state/task '${route.stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`);
    }
    const value: unknown = JSON.parse(json);
    return route.viaInvokeIntegration ? { ExecutedVersion: '$LATEST', Payload: value, StatusCode: 200, SdkHttpMetadata: {}, SdkResponseMetadata: {} } : value;
  };

  const closeToken = (token: string): void => {
    const w = waiting.get(token);
    if (!w) return;
    waiting.delete(token);
    if (w.heartbeat) clearTimeout(w.heartbeat);
  };

  /** A task waiting for its token: resolved by SendTaskSuccess, failed by SendTaskFailure or a missed heartbeat. */
  const openToken = (token: string, record: ExecutionRecord, stateName: string, heartbeatMs: number | undefined): Promise<unknown> =>
    new Promise<unknown>((resolve, reject) => {
      issued.add(token);
      const w: TokenWait = { executionArn: record.executionArn, stateName, resolve, reject, heartbeatMs };
      const arm = () => {
        if (w.heartbeat) clearTimeout(w.heartbeat);
        if (heartbeatMs === undefined) return;
        w.heartbeat = setTimeout(() => {
          closeToken(token);
          reject(new TaskFailure('States.HeartbeatTimeout', `Task "${stateName}" sent no heartbeat within its HeartbeatSeconds.`));
        }, heartbeatMs);
      };
      w.rearm = arm;
      waiting.set(token, w);
      arm();
      // The task ends with its execution (stopped, failed elsewhere, timed out): its token closes.
      void record.done.then(() => {
        if (waiting.has(token)) {
          closeToken(token);
          reject(new TaskFailure('States.Runtime', 'execution ended'));
        }
      });
    });

  const tokenAnswer = (operation: TokenCall['operation'], token: string | undefined): TokenWait => {
    const w = token !== undefined ? waiting.get(token) : undefined;
    if (w) return w;
    const known = token !== undefined && issued.has(token);
    tokenCalls.push({ operation, answer: known ? 'TaskTimedOut' : 'InvalidToken', at: Date.now() });
    if (known) throw new TaskTimedOut({ message: 'Task Timed Out: \'Provided task does not exist anymore\'', $metadata: { httpStatusCode: 400 } });
    throw new InvalidToken({ message: 'Invalid Token: \'Invalid token\'', $metadata: { httpStatusCode: 400 } });
  };

  const sendTaskSuccess = (token: string | undefined, output: string | undefined): SendTaskSuccessOutput => {
    const w = tokenAnswer('SendTaskSuccess', token);
    let value: unknown;
    try {
      value = JSON.parse(output ?? '');
    } catch {
      tokenCalls.push({ operation: 'SendTaskSuccess', answer: 'InvalidOutput', at: Date.now() });
      throw new InvalidOutput({ message: 'Invalid State Machine Execution Output', $metadata: { httpStatusCode: 400 } });
    }
    tokenCalls.push({ operation: 'SendTaskSuccess', answer: 'ok', at: Date.now() });
    closeToken(token!);
    w.resolve(value);
    return {};
  };

  const sendTaskFailure = (token: string | undefined, error: string | undefined, cause: string | undefined): SendTaskFailureOutput => {
    const w = tokenAnswer('SendTaskFailure', token);
    tokenCalls.push({ operation: 'SendTaskFailure', answer: 'ok', at: Date.now() });
    closeToken(token!);
    // As SFN reports a callback failure: Error as sent (matched by Catch), Cause as sent.
    w.reject(new TaskFailure(error ?? 'States.TaskFailed', cause ?? ''));
    return {};
  };

  const sendTaskHeartbeat = (token: string | undefined): SendTaskHeartbeatOutput => {
    const w = tokenAnswer('SendTaskHeartbeat', token);
    tokenCalls.push({ operation: 'SendTaskHeartbeat', answer: 'ok', at: Date.now() });
    w.rearm?.();
    return {};
  };

  const startExecution = (target: string, input: unknown = {}, requestedName?: string): Promise<{ executionArn: string; startDate: Date }> => {
    if (stopped) return Promise.reject(new Error('local Step Functions stopped'));
    const compiled = machineFor(target);
    const name = requestedName ?? randomUUID();
    if (!isValidExecutionName(name)) throw sfnError(InvalidName, `Invalid Name: '${name}'`);
    const inputText = typeof input === 'string' ? input : JSON.stringify(input);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(inputText);
    } catch {
      throw sfnError(InvalidExecutionInput, `Invalid State Machine Execution Input: '${inputText.slice(0, 100)}'`);
    }
    if (Buffer.byteLength(inputText) > DATA_LIMIT_BYTES) {
      throw sfnError(InvalidExecutionInput, 'Execution input exceeds the maximum size of 262144 bytes');
    }
    const executionArn = executionArnFor(compiled.name, name);
    const existing = executions.get(executionArn);
    if (existing !== undefined) {
      if (existing.status === 'RUNNING' && existing.input === inputText) {
        return Promise.resolve({ executionArn, startDate: existing.startDate });
      }
      throw sfnError(ExecutionAlreadyExists, `Execution Already Exists: '${executionArn}'`);
    }
    const startDate = new Date();
    const record: ExecutionRecord = {
      executionArn,
      compiled,
      name,
      input: inputText,
      startDate,
      status: 'RUNNING',
      stateTransitions: 0,
      taskInvocations: 0,
      raw: [],
      failedTasks: new Set(),
      history: [],
      done: Promise.resolve(),
    };
    executions.set(executionArn, record);

    const taskResourceLocalHandlers = Object.fromEntries(
      compiled.tasks.map((route) => [route.stateName, (taskInput: unknown) => invokeTask(record, route, taskInput)]),
    ) as NonNullable<NonNullable<Parameters<StateMachine['run']>[1]>['overrides']>['taskResourceLocalHandlers'];
    const execution = compiled.machine.run(parsedInput as Parameters<StateMachine['run']>[0], {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides: { ...compiled.waitOverrides } },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/octw-local-sfn`, StartTime: startDate.toISOString() },
        StateMachine: { Id: compiled.arn, Name: compiled.name },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    record.abort = execution.abort;

    const logs = (async () => {
      for await (const ev of execution.eventLogs) {
        record.raw.push(ev);
        if (ev.type === 'StateEntered' || ev.type === 'StateRetried') record.stateTransitions += 1;
        toHistory(record, ev);
        const p = progressOf(record, ev);
        if (p !== undefined) emit(p);
      }
    })();
    const result = execution.result.then(
      (output) => {
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(output ?? null);
      },
      (err: unknown) => {
        if (err instanceof ExecutionAbortedError) {
          record.status = 'ABORTED';
          record.error = record.aborted?.error;
          record.cause = record.aborted?.cause;
        } else if (err instanceof ExecutionTimeoutError) {
          record.status = 'TIMED_OUT';
          record.error = 'States.Timeout';
        } else {
          const inner = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err;
          record.status = 'FAILED';
          if (inner instanceof Error) {
            record.error = inner.name;
            record.cause = inner.message;
          } else {
            record.error = 'States.Runtime';
            record.cause = String(inner);
          }
        }
      },
    );
    record.done = Promise.all([result, logs]).then(() => {
      record.stopDate ??= new Date();
    });
    return Promise.resolve({ executionArn, startDate });
  };

  const snapshot = (r: ExecutionRecord): ExecutionSnapshot => ({
    executionArn: r.executionArn,
    stateMachineArn: r.compiled.arn,
    stateMachineName: r.compiled.name,
    name: r.name,
    status: r.status,
    input: r.input,
    ...(r.output !== undefined ? { output: r.output } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.cause !== undefined ? { cause: r.cause } : {}),
    startDate: r.startDate,
    ...(r.stopDate !== undefined ? { stopDate: r.stopDate } : {}),
    counters: {
      stateTransitions: r.stateTransitions,
      taskInvocations: r.taskInvocations,
      durationMs: r.stopDate !== undefined ? r.stopDate.getTime() - r.startDate.getTime() : undefined,
    },
  });

  const history = (executionArn: string): HistoryEvent[] => {
    const r = recordFor(executionArn);
    return r.history.map((h, i) => ({ ...h.details, id: i + 1, previousEventId: i, type: h.type, timestamp: h.timestamp }));
  };

  const stopExecution = (executionArn: string, error?: string, cause?: string): StopExecutionOutput => {
    const r = recordFor(executionArn);
    if (r.status === 'RUNNING') {
      r.aborted = { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) };
      r.stopDate = new Date();
      r.status = 'ABORTED';
      r.abort?.();
    }
    return { stopDate: r.stopDate ?? new Date() };
  };

  const pending = (): number => [...executions.values()].filter((r) => r.status === 'RUNNING').length + inFlight.size;

  const drain = async (): Promise<void> => {
    for (;;) {
      const running = [...executions.values()].map((r) => r.done);
      await Promise.all([...running, ...[...inFlight].map((p) => p.catch(() => undefined))]);
      const again = [...executions.values()].some((r) => r.status === 'RUNNING') || inFlight.size > 0;
      if (!again && [...executions.values()].length === running.length) return;
    }
  };

  // --- SFN API emulation on SFNClient -------------------------------------------------------
  let sfnClientMock: AwsClientStub<SFNClient> | undefined;
  if (options.interceptSfnClient ?? true) {
    const mock = mockClient(SFNClient);
    sfnClientMock = mock;
    mock.onAnyCommand().callsFake((input: unknown) => {
      throw new Error(`local Step Functions does not emulate this command (input ${JSON.stringify(input)})`);
    });
    mock.on(StartExecutionCommand).callsFake(async (input: { stateMachineArn?: string; name?: string; input?: string }): Promise<StartExecutionOutput> => {
      const started = await startExecution(input.stateMachineArn ?? '', input.input ?? '{}', input.name);
      return { ...started, $metadata: {} } as StartExecutionOutput;
    });
    mock.on(DescribeExecutionCommand).callsFake((input: { executionArn?: string }): DescribeExecutionOutput => {
      const s = snapshot(recordFor(input.executionArn ?? ''));
      return {
        executionArn: s.executionArn,
        stateMachineArn: s.stateMachineArn,
        name: s.name,
        status: s.status,
        startDate: s.startDate,
        ...(s.stopDate !== undefined ? { stopDate: s.stopDate } : {}),
        input: s.input,
        inputDetails: { included: true },
        ...(s.output !== undefined ? { output: s.output, outputDetails: { included: true } } : {}),
        ...(s.error !== undefined ? { error: s.error } : {}),
        ...(s.cause !== undefined ? { cause: s.cause } : {}),
      };
    });
    mock.on(ListExecutionsCommand).callsFake(
      (input: { stateMachineArn?: string; statusFilter?: ExecutionStatus; maxResults?: number; nextToken?: string }): ListExecutionsOutput => {
        const m = machineFor(input.stateMachineArn ?? '');
        const all = [...executions.values()]
          .filter((r) => r.compiled === m && (input.statusFilter === undefined || r.status === input.statusFilter))
          .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
        const offset = input.nextToken !== undefined ? Number(input.nextToken) : 0;
        const size = input.maxResults !== undefined && input.maxResults > 0 ? input.maxResults : 100;
        const page: ExecutionListItem[] = all.slice(offset, offset + size).map((r) => ({
          executionArn: r.executionArn,
          stateMachineArn: r.compiled.arn,
          name: r.name,
          status: r.status,
          startDate: r.startDate,
          ...(r.stopDate !== undefined ? { stopDate: r.stopDate } : {}),
        }));
        return { executions: page, ...(offset + size < all.length ? { nextToken: String(offset + size) } : {}) };
      },
    );
    mock.on(SendTaskSuccessCommand).callsFake((input: { taskToken?: string; output?: string }) => sendTaskSuccess(input.taskToken, input.output));
    mock.on(SendTaskFailureCommand).callsFake((input: { taskToken?: string; error?: string; cause?: string }) => sendTaskFailure(input.taskToken, input.error, input.cause));
    mock.on(SendTaskHeartbeatCommand).callsFake((input: { taskToken?: string }) => sendTaskHeartbeat(input.taskToken));
    mock.on(StopExecutionCommand).callsFake((input: { executionArn?: string; error?: string; cause?: string }) =>
      stopExecution(input.executionArn ?? '', input.error, input.cause),
    );
    mock.on(GetExecutionHistoryCommand).callsFake(
      (input: { executionArn?: string; reverseOrder?: boolean; maxResults?: number; nextToken?: string }): GetExecutionHistoryOutput => {
        const events = history(input.executionArn ?? '');
        if (input.reverseOrder === true) events.reverse();
        const offset = input.nextToken !== undefined ? Number(input.nextToken) : 0;
        const size = input.maxResults !== undefined && input.maxResults > 0 ? input.maxResults : 1000;
        return { events: events.slice(offset, offset + size), ...(offset + size < events.length ? { nextToken: String(offset + size) } : {}) };
      },
    );
  }

  return {
    stateMachineArns: Object.fromEntries([...machines.values()].map((m) => [m.name, m.arn])),
    startExecution: (target, input, name) => {
      try {
        return startExecution(target, input, name);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
    waitForExecution: async (executionArn) => {
      const r = recordFor(executionArn);
      await r.done;
      return snapshot(r);
    },
    describe: (executionArn) => snapshot(recordFor(executionArn)),
    list: () => [...executions.values()].map(snapshot),
    history,
    rawEvents: (executionArn) => recordFor(executionArn).raw,
    onProgress: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    pending,
    drain,
    stop: async () => {
      stopped = true;
      for (const r of executions.values()) if (r.status === 'RUNNING') stopExecution(r.executionArn, 'LocalCloudStopped');
      await Promise.all([...executions.values()].map((r) => r.done));
      await Promise.all([...inFlight].map((p) => p.catch(() => undefined)));
      sfnClientMock?.restore();
    },
    sfnClientMock,
    tokenCalls,
    waitingTokens: () => [...waiting.entries()].map(([token, w]) => ({ token, executionArn: w.executionArn, stateName: w.stateName })),
  };
}

interface TokenWait {
  readonly executionArn: string;
  readonly stateName: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly heartbeatMs: number | undefined;
  heartbeat?: ReturnType<typeof setTimeout>;
  rearm?: () => void;
}
