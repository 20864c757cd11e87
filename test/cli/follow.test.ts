/** octw --wait polling (follow) against a stubbed Step Functions client: progress lines and outcomes. */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { CliClients } from '../../infra/cli/aws';
import { resolveConfig } from '../../infra/cli/config';
import type { CommandContext } from '../../infra/cli/context';
import { AwsCallError } from '../../infra/cli/errors';
import { follow } from '../../infra/cli/operations';

const ARN = 'arn:aws:states:eu-west-1:111122223333:execution:octw-cell-1-suspend-tenant:suspend-acme-tools-v4';
const sfnMock = mockClient(SFNClient);
afterEach(() => sfnMock.reset());

function context(notes: string[], clock: { t: number }): CommandContext {
  const sfn = new SFNClient({ region: 'eu-west-1' });
  const clients = { sfn, region: () => Promise.resolve('eu-west-1'), destroy: () => sfn.destroy() } as unknown as CliClients;
  return {
    io: {
      stdout: { write: () => true },
      stderr: { write: () => true },
      env: {},
      sleep: (ms) => {
        clock.t += ms;
        return Promise.resolve();
      },
      now: () => clock.t,
    },
    config: resolveConfig({}, {}),
    clients,
    json: false,
    print: () => undefined,
    note: (text) => notes.push(text),
    emit: () => undefined,
  };
}

const described = (status: string, extra: Partial<DescribeExecutionCommandOutput> = {}) =>
  ({ executionArn: ARN, stateMachineArn: 'x', status, startDate: new Date(0), $metadata: {}, ...extra }) as DescribeExecutionCommandOutput;
const entered = (name: string) => ({ events: [{ id: 2, type: 'TaskStateEntered' as const, timestamp: new Date(0), stateEnteredEventDetails: { name } }], $metadata: {} });
const notVisible = () => Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist', $metadata: { httpStatusCode: 400 } });

describe('follow', () => {
  it('prints one progress line per change of step and returns the outcome when the execution ends', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(notVisible())
      .resolvesOnce(described('RUNNING'))
      .resolvesOnce(described('RUNNING'))
      .resolvesOnce(described('RUNNING'))
      .resolves(described('SUCCEEDED', { stopDate: new Date(3000), output: '{"tenantId":"acme-tools"}' }));
    sfnMock.on(GetExecutionHistoryCommand).resolvesOnce(entered('ClaimTenant')).resolvesOnce(entered('ClaimTenant')).resolves(entered('SetDesiredCount'));
    const notes: string[] = [];
    const end = await follow(context(notes, { t: 0 }), ARN, 1000);
    expect(end).toEqual({
      status: 'SUCCEEDED',
      startDate: new Date(0).toISOString(),
      stopDate: new Date(3000).toISOString(),
      durationMs: 3000,
      output: { tenantId: 'acme-tools' },
    });
    expect(notes.map((n) => n.replace(/\s+/g, ' '))).toEqual(['[ 1.0s] RUNNING ClaimTenant', '[ 3.0s] RUNNING SetDesiredCount', '[ 4.0s] SUCCEEDED']);
    expect(sfnMock).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: ARN, reverseOrder: true });
  });

  it('returns the error and cause of a FAILED execution', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(described('FAILED', { stopDate: new Date(10), error: 'SuspendFailed', cause: 'no luck' }));
    const end = await follow(context([], { t: 0 }), ARN, 1000);
    expect(end).toMatchObject({ status: 'FAILED', error: 'SuspendFailed', cause: 'no luck' });
  });

  it('gives up with the AWS error when the execution never becomes visible', async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(notVisible());
    await expect(follow(context([], { t: 0 }), ARN, 10)).rejects.toThrow(AwsCallError);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(6);
  });
});
