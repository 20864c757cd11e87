import 'aws-sdk-client-mock-jest';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  createLocalStepFunctions,
  executionArnFor,
  fillSubstitutions,
  functionArnFor,
  type LocalStepFunctions,
  type ProgressEvent,
} from '../local-cloud/step-functions';
import { createFixtureHandlers, RUNNER_FIXTURE } from './fixtures/handlers';

const definitionsDir = join(__dirname, 'fixtures', 'state-machines');
const substitutions = { CellTag: 'cell-local' };

let fixture: ReturnType<typeof createFixtureHandlers>;
let sfn: LocalStepFunctions;
let progress: ProgressEvent[];
let keyCounter = 0;

beforeEach(() => {
  fixture = createFixtureHandlers();
  sfn = createLocalStepFunctions({ stateMachines: RUNNER_FIXTURE, handlers: fixture.handlers, substitutions, definitionsDir });
  progress = [];
  sfn.onProgress((e) => progress.push(e));
});
afterEach(async () => {
  await sfn.stop();
});

const arn = (): string => sfn.stateMachineArns.RunnerFixture ?? '';
const input = (mode: string, failTimes: number) => ({ key: `k${++keyCounter}`, failTimes, mode });
async function run(mode: string, failTimes: number) {
  const { executionArn } = await sfn.startExecution('RunnerFixture', input(mode, failTimes));
  return sfn.waitForExecution(executionArn);
}
const invocationsOf = (handler: string) => fixture.calls.filter((c) => c.handler === handler);

describe('definition substitutions', () => {
  it('fills ${X} placeholders from the map and refuses to build when one has no value', () => {
    expect(fillSubstitutions('{"a":"${A}","b":"${B}"}', { A: '1', B: 'x"y' })).toBe('{"a":"1","b":"x\\"y"}');
    expect(() => fillSubstitutions('{"a":"${A}","b":"${Missing}"}', { A: '1' }, 'f.asl.json')).toThrow(/\$\{Missing\}/);
    expect(() =>
      createLocalStepFunctions({ stateMachines: RUNNER_FIXTURE, handlers: fixture.handlers, substitutions: {}, definitionsDir, interceptSfnClient: false }),
    ).toThrow(/\$\{CellTag\}/);
  });

  it('refuses to build when a state machine lists a handler that was not given', () => {
    expect(() =>
      createLocalStepFunctions({ stateMachines: RUNNER_FIXTURE, handlers: { Recorder: fixture.handlers.Recorder }, substitutions, definitionsDir, interceptSfnClient: false }),
    ).toThrow(/no local handler given for "Flaky"/);
  });

  it('refuses to build a definition AWS would refuse, every time (a refusal is never remembered as an acceptance)', () => {
    const build = () =>
      createLocalStepFunctions({
        stateMachines: { Invalid: { file: 'invalid-transition.asl.json', handlers: [] } },
        handlers: fixture.handlers,
        substitutions,
        definitionsDir,
        interceptSfnClient: false,
      });
    expect(build).toThrow(/Nowhere/);
    expect(build).toThrow(/Nowhere/);
  });

  it('routes the substituted Lambda ARNs to the handlers and fills the context object', async () => {
    const { executionArn } = await sfn.startExecution('RunnerFixture', input('throttled', 0), 'ctx-run');
    const done = await sfn.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(executionArn).toBe(executionArnFor('RunnerFixture', 'ctx-run'));
    const first = fixture.calls[0];
    expect(first?.event).toMatchObject({
      executionArn,
      executionName: 'ctx-run',
      stateMachineArn: arn(),
      cellTag: 'cell-local',
    });
    expect(first?.context.functionName).toBe('octw-recorder');
    expect(functionArnFor('Recorder')).toBe('arn:aws:lambda:us-east-1:123456789012:function:octw-recorder');
    expect(first?.context.remainingMs).toBeGreaterThan(0);
    expect(first?.invocation).toMatchObject({ handler: 'Recorder', executionName: 'ctx-run', stateName: 'Record' });
    expect(first?.invocation?.invocationId).toBe(first?.context.awsRequestId);
  });
});

describe('error handling as written in the ASL', () => {
  it('retries a step whose handler throws an error named in Retry.ErrorEquals, then continues', async () => {
    const done = await run('throttled', 2);
    expect(done.status).toBe('SUCCEEDED');
    expect(invocationsOf('Flaky')).toHaveLength(3);
    expect(progress.filter((p) => p.kind === 'StateRetried' && p.state === 'Flaky').map((p) => p.attempt)).toEqual([1, 2]);
    expect(JSON.parse(done.output ?? '{}')).toMatchObject({ flaky: { ok: true, attempts: 3 } });
  });

  it('stops retrying after MaxAttempts and routes the error to the Catch target with Error and Lambda-shaped Cause', async () => {
    const done = await run('throttled', 10);
    expect(invocationsOf('Flaky')).toHaveLength(4);
    const compensation = fixture.calls.find((c) => (c.event as { compensating?: boolean }).compensating === true);
    const error = (compensation?.event as { error: { Error: string; Cause: string } }).error;
    expect(error.Error).toBe('ThrottledError');
    expect(JSON.parse(error.Cause)).toMatchObject({ errorType: 'ThrottledError', errorMessage: 'throttled on attempt 4' });
    expect(done).toMatchObject({ status: 'FAILED', error: 'FixtureFailed', cause: 'compensated after a failed step' });
  });

  it('does not retry an error that Retry does not name and catches it at once', async () => {
    const done = await run('validation', 1);
    expect(invocationsOf('Flaky')).toHaveLength(1);
    expect(progress.some((p) => p.kind === 'StateCaught' && p.state === 'Flaky')).toBe(true);
    expect(done.status).toBe('FAILED');
  });

  it('reports an invocation that crashed after its AWS call as Lambda.Unknown and retries it', async () => {
    const done = await run('crash', 1);
    expect(done.status).toBe('SUCCEEDED');
    expect(invocationsOf('Flaky')).toHaveLength(2);
    const failed = progress.filter((p) => p.kind === 'StateFailed' && p.state === 'Flaky');
    expect(failed.map((p) => p.error)).toEqual(['Lambda.Unknown']);
    expect(failed[0]?.cause).toContain('EC2.CreateSecurityGroup');
  });

  it('reports Lambda.Unknown for a crashed invocation even when the handler threw its own error', async () => {
    const done = await run('crash-then-throw', 1);
    expect(done.status).toBe('SUCCEEDED');
    expect(progress.filter((p) => p.kind === 'StateFailed').map((p) => p.error)).toEqual(['Lambda.Unknown']);
  });
});

describe('interpreter fixes', () => {
  it('replaces the state input with the result when ResultPath is "$", on a Task and on a Catch', async () => {
    const { executionArn } = await sfn.startExecution('ResultPathFixture', { original: true });
    const done = await sfn.waitForExecution(executionArn);
    const exitedReplace = progress.find((p) => p.kind === 'StateExited' && p.state === 'Replace');
    expect(exitedReplace).toBeDefined();
    const replaced = sfn.history(executionArn).find((e) => e.type === 'TaskStateExited')?.stateExitedEventDetails?.output ?? '';
    expect(JSON.parse(replaced)).toEqual({ recordedBy: 'octw-recorder', event: { from: 'task' } });
    const out = JSON.parse(done.output ?? '{}') as { Error?: string; Cause?: string };
    expect(Object.keys(out).sort()).toEqual(['Cause', 'Error']);
    expect(out.Error).toBe('ValidationError');
  });
});

describe('Parallel, Wait and counters', () => {
  it('runs both Parallel branches through their handlers and collects their outputs in order', async () => {
    const done = await run('throttled', 0);
    const out = JSON.parse(done.output ?? '{}') as { branches: { event: { branch: string } }[] };
    expect(out.branches.map((b) => b.event.branch)).toEqual(['a', 'b']);
    expect(invocationsOf('Recorder').map((c) => c.invocation?.stateName).sort()).toEqual(['BranchA', 'BranchB', 'Record']);
  });

  it('keeps the Wait state in the run, shortened by waitScale rather than removed', async () => {
    const done = await run('throttled', 0);
    const types = sfn.history(done.executionArn).map((e) => e.type);
    expect(types).toContain('WaitStateEntered');
    expect(types).toContain('WaitStateExited');
    const entered = progress.find((p) => p.kind === 'StateEntered' && p.state === 'Pause');
    const exited = progress.find((p) => p.kind === 'StateExited' && p.state === 'Pause');
    const waited = (exited?.timestamp ?? 0) - (entered?.timestamp ?? 0);
    expect(waited).toBeGreaterThanOrEqual(25); // 30 s × 0.001
    expect(waited).toBeLessThan(5_000);
  });

  it('counts state transitions (states entered + retries) and task invocations per execution', async () => {
    const clean = await run('throttled', 0);
    expect(clean.counters).toMatchObject({ stateTransitions: 7, taskInvocations: 4 });
    const retried = await run('throttled', 2);
    expect(retried.counters).toMatchObject({ stateTransitions: 9, taskInvocations: 6 });
  });
});

describe('SFN API emulated on SFNClient', () => {
  const client = new SFNClient({});

  it('returns the same execution for the same name and input while it runs, and ExecutionAlreadyExists otherwise', async () => {
    const release = fixture.holdRecorder();
    const body = JSON.stringify(input('throttled', 0));
    const first = await client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'tenant-acme', input: body }));
    const again = await client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'tenant-acme', input: body }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'tenant-acme', input: JSON.stringify(input('throttled', 1)) })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    const running = await client.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    expect(running.status).toBe('RUNNING');
    release();
    await sfn.waitForExecution(first.executionArn ?? '');
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'tenant-acme', input: body }))).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    expect(invocationsOf('Flaky')).toHaveLength(1);
  });

  it('refuses unknown state machines and invalid names as AWS does', async () => {
    const missing = arn().replace(/RunnerFixture$/, 'Nope');
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: missing, input: '{}' }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'has space', input: '{}' }))).rejects.toBeInstanceOf(InvalidName);
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'x'.repeat(81), input: '{}' }))).rejects.toBeInstanceOf(InvalidName);
  });

  it('describes, lists by status, stops and returns the history of executions', async () => {
    const ok = await client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'ok-run', input: JSON.stringify(input('throttled', 0)) }));
    await sfn.waitForExecution(ok.executionArn ?? '');
    const release = fixture.holdRecorder();
    const held = await client.send(new StartExecutionCommand({ stateMachineArn: arn(), name: 'held-run', input: JSON.stringify(input('throttled', 0)) }));
    const runningList = await client.send(new ListExecutionsCommand({ stateMachineArn: arn(), statusFilter: 'RUNNING' }));
    expect(runningList.executions?.map((e) => e.name)).toEqual(['held-run']);
    await client.send(new StopExecutionCommand({ executionArn: held.executionArn, error: 'Operator', cause: 'stopped by test' }));
    release();
    await sfn.drain();
    const stopped = await client.send(new DescribeExecutionCommand({ executionArn: held.executionArn }));
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by test' });
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await client.send(new DescribeExecutionCommand({ executionArn: ok.executionArn }));
    expect(described).toMatchObject({ status: 'SUCCEEDED', name: 'ok-run', stateMachineArn: arn() });
    expect(JSON.parse(described.output ?? '{}')).toHaveProperty('branches');
    const succeeded = await client.send(new ListExecutionsCommand({ stateMachineArn: arn(), statusFilter: 'SUCCEEDED' }));
    expect(succeeded.executions?.map((e) => e.name)).toEqual(['ok-run']);
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn: ok.executionArn }));
    const types = events?.map((e) => e.type) ?? [];
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(types).toEqual(expect.arrayContaining(['TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionSucceeded', 'TaskStateExited', 'ParallelStateEntered']));
    expect(sfn.sfnClientMock).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: held.executionArn });
  });
});
