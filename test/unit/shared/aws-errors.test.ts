import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { EntityAlreadyExistsException } from '@aws-sdk/client-iam';
import { PermanentAwsError, ThrottledError, TransientAwsError, ValidationError } from '../../../functions/domain/errors';
import { awsErrorCode, classifyAwsError } from '../../../functions/shared/aws-errors';

const ec2Error = (name: string, status: number, fault: 'client' | 'server') =>
  new EC2ServiceException({ name, message: name, $fault: fault, $metadata: { httpStatusCode: status } });

describe('classifyAwsError', () => {
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
