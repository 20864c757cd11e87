import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { EntityAlreadyExistsException } from '@aws-sdk/client-iam';
import { PermanentAwsError, ThrottledError, TransientAwsError, ValidationError } from '../../../functions/domain/errors';
import { awsErrorCode, classifyAwsError } from '../../../functions/shared/aws-errors';

const ec2Error = (name: string, status: number, fault: 'client' | 'server') =>
  new EC2ServiceException({ name, message: name, $fault: fault, $metadata: { httpStatusCode: status } });

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('classifyAwsError', () => {
  it('retries a DynamoDB transaction cancelled by a conflicting transaction or throttling, never one whose condition failed', () => {
    expect(classifyAwsError(cancelled('None', 'TransactionConflict'), 'x')).toBeInstanceOf(TransientAwsError);
    expect(classifyAwsError(cancelled('ThrottlingError', 'None'), 'x')).toBeInstanceOf(ThrottledError);
    expect(classifyAwsError(cancelled('ProvisionedThroughputExceeded'), 'x')).toBeInstanceOf(ThrottledError);
    expect(classifyAwsError(cancelled('ConditionalCheckFailed', 'TransactionConflict'), 'x')).toBeInstanceOf(PermanentAwsError);
    expect(classifyAwsError(cancelled('ValidationError'), 'x')).toBeInstanceOf(PermanentAwsError);
    expect(classifyAwsError(cancelled('None'), 'x')).toBeInstanceOf(PermanentAwsError);
  });

  it('retries a DynamoDB single-item write that met an ongoing transaction', () => {
    const err = new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: { httpStatusCode: 400 } });
    expect(classifyAwsError(err, 'x')).toBeInstanceOf(TransientAwsError);
  });

  it('maps EC2 RequestLimitExceeded to ThrottledError', () => {
    expect(classifyAwsError(ec2Error('RequestLimitExceeded', 503, 'client'), 'x')).toBeInstanceOf(ThrottledError);
  });

  it('maps server faults to TransientAwsError', () => {
    expect(classifyAwsError(ec2Error('InternalError', 500, 'server'), 'x')).toBeInstanceOf(TransientAwsError);
  });

  it('maps other client errors to PermanentAwsError keeping the cause and the code in the message', () => {
    const cause = new EntityAlreadyExistsException({ message: 'role exists', $metadata: { httpStatusCode: 409 } });
    const err = classifyAwsError(cause, 'IAM CreateRole');
    expect(err).toBeInstanceOf(PermanentAwsError);
    expect(err.message).toBe('IAM CreateRole: EntityAlreadyExistsException: role exists');
    expect(err.cause).toBe(cause);
  });

  it('passes OCTW errors through unchanged', () => {
    const err = new ValidationError('bad');
    expect(classifyAwsError(err, 'x')).toBe(err);
  });

  it('reads the code EC2 puts in the name', () => {
    expect(awsErrorCode(ec2Error('InvalidGroup.Duplicate', 400, 'client'))).toBe('InvalidGroup.Duplicate');
  });
});
