/**
 * Step Functions adapter: start an execution under a deterministic name, idempotently.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';
import type { WorkflowStarter } from '../usecases/intake';

export class StateMachineStarter implements WorkflowStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(name: string, input: string): Promise<{ executionArn: string; alreadyStarted: boolean }> {
    try {
      const out = await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input }));
      return { executionArn: out.executionArn ?? this.executionArn(name), alreadyStarted: false };
    } catch (err) {
      // Names are unique for 90 days: the execution was started by an earlier delivery.
      if (hasAwsErrorCode(err, 'ExecutionAlreadyExists')) return { executionArn: this.executionArn(name), alreadyStarted: true };
      throw classifyAwsError(err, 'StepFunctions StartExecution');
    }
  }
}
