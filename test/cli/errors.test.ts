/** octw exit codes: what each kind of failure maps to (scripts rely on these numbers). */
import { TenantNotFoundError, TenantStateConflictError, ThrottledError, ValidationError } from '../../functions/domain/errors';
import { AwsCallError, classify, EXIT, RefusedError, UsageError, WorkflowFailedError } from '../../infra/cli/errors';

/** An AWS SDK v3 service error: a named Error with $metadata. */
function sdkError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

describe('classify', () => {
  it('keeps the documented numbers', () => {
    expect(EXIT).toEqual({ ok: 0, workflowFailed: 1, usage: 2, refused: 3, aws: 4, findingLow: 5, findingMedium: 6, findingHigh: 7, findingCritical: 8 });
  });

  it.each([
    [new UsageError('bad flag'), 2, 'UsageError'],
    [new ValidationError('bad signup'), 2, 'ValidationError'],
    [new RefusedError('TenantNotFoundError', 'no such tenant'), 3, 'TenantNotFoundError'],
    [new TenantNotFoundError('no such tenant'), 3, 'TenantNotFoundError'],
    [new TenantStateConflictError('busy'), 3, 'TenantStateConflictError'],
    [new WorkflowFailedError('ended FAILED'), 1, 'WorkflowFailedError'],
    [new AwsCallError('StateMachineDoesNotExist', 'no machine'), 4, 'StateMachineDoesNotExist'],
    [sdkError('AccessDeniedException', 'not allowed'), 4, 'AccessDeniedException'],
    [new ThrottledError('DynamoDB query', { cause: sdkError('ThrottlingException', 'slow down') }), 4, 'ThrottlingException'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 4, 'ECONNREFUSED'],
    [new Error('Region is missing'), 2, 'UsageError'],
  ])('maps %p to exit %i named %s', (err, code, name) => {
    expect(classify(err)).toMatchObject({ code, name });
  });
});
