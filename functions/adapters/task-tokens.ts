/**
 * Resumes a Step Functions task that waits for a task token (issue 14.1: the gateway wait).
 * A token that no longer waits (the task timed out, was re-armed, or was already resumed by a
 * duplicate event) is not an error for the caller: it answers 'gone'.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

/** SFN's answers for a token that is not waiting any more (API Reference, SendTaskSuccess). */
const GONE = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

export type TokenResult = 'sent' | 'gone';

export class TaskTokens {
  constructor(private readonly sfn: SFNClient) {}

  private async send(what: string, fn: () => Promise<unknown>): Promise<TokenResult> {
    try {
      await fn();
      return 'sent';
    } catch (err) {
      if (hasAwsErrorCode(err, ...GONE)) return 'gone';
      throw classifyAwsError(err, `StepFunctions ${what}`);
    }
  }

  succeed(token: string, output: unknown): Promise<TokenResult> {
    return this.send('SendTaskSuccess', () => this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) })));
  }

  /** `error` is what the state's Catch/Retry match (≤ 256 characters), `cause` the message (≤ 32768). */
  fail(token: string, error: string, cause: string): Promise<TokenResult> {
    return this.send('SendTaskFailure', () =>
      this.sfn.send(new SendTaskFailureCommand({ taskToken: token, error: error.slice(0, 256), cause: cause.slice(0, 32_768) })),
    );
  }

  heartbeat(token: string): Promise<TokenResult> {
    return this.send('SendTaskHeartbeat', () => this.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })));
  }
}
