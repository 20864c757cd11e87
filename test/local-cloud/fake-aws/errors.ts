/**
 * Errors shaped exactly as the SDK v3 deserialisers produce them: the client package's own
 * exception class when the service models one, otherwise the service's base exception with
 * `name` = the AWS error code.
 */
import * as bedrock from '@aws-sdk/client-bedrock';
import * as cw from '@aws-sdk/client-cloudwatch';
import * as cwl from '@aws-sdk/client-cloudwatch-logs';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import * as ecs from '@aws-sdk/client-ecs';
import * as efs from '@aws-sdk/client-efs';
import { EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import * as iam from '@aws-sdk/client-iam';
import * as sm from '@aws-sdk/client-secrets-manager';
import * as sq from '@aws-sdk/client-service-quotas';
import * as bk from '@aws-sdk/client-backup';
import * as s3 from '@aws-sdk/client-s3';
import type { ServiceName } from './core';

export interface AwsMetadata {
  httpStatusCode: number;
  requestId?: string;
  attempts?: number;
  totalRetryDelay?: number;
}

export function meta(httpStatusCode: number): AwsMetadata {
  return { httpStatusCode, attempts: 1, totalRetryDelay: 0 };
}

type BaseCtor = new (options: {
  name: string;
  $fault: 'client' | 'server';
  $metadata: AwsMetadata;
  message?: string;
}) => Error;

const BASES: Record<ServiceName, BaseCtor> = {
  EC2: EC2ServiceException,
  ECS: ecs.ECSServiceException,
  EFS: efs.EFSServiceException,
  IAM: iam.IAMServiceException,
  SecretsManager: sm.SecretsManagerServiceException,
  CloudWatchLogs: cwl.CloudWatchLogsServiceException,
  EventBridge: EventBridgeServiceException,
  Bedrock: bedrock.BedrockServiceException,
  CloudWatch: cw.CloudWatchServiceException,
  ServiceQuotas: sq.ServiceQuotasServiceException,
  Backup: bk.BackupServiceException,
  S3: s3.S3ServiceException,
};

type ModeledCtor = new (options: { message: string; $metadata: AwsMetadata; ErrorCode?: string }) => Error;

/** Exception classes the client packages model, for the codes the fake raises generically. */
const MODELED: Partial<Record<string, ModeledCtor>> = {
  'ECS:ServerException': ecs.ServerException,
  'ECS:AccessDeniedException': ecs.AccessDeniedException,
  'EFS:ThrottlingException': efs.ThrottlingException,
  'EFS:InternalServerError': efs.InternalServerError as unknown as ModeledCtor,
  'IAM:ServiceFailure': iam.ServiceFailureException,
  'SecretsManager:InternalServiceError': sm.InternalServiceError,
  'CloudWatchLogs:ThrottlingException': cwl.ThrottlingException,
  'CloudWatchLogs:ServiceUnavailableException': cwl.ServiceUnavailableException,
  'CloudWatchLogs:AccessDeniedException': cwl.AccessDeniedException,
  'Bedrock:ThrottlingException': bedrock.ThrottlingException,
  'Bedrock:InternalServerException': bedrock.InternalServerException,
  'Bedrock:AccessDeniedException': bedrock.AccessDeniedException,
  'CloudWatch:InternalServiceFault': cw.InternalServiceFault,
  'ServiceQuotas:TooManyRequestsException': sq.TooManyRequestsException,
  'ServiceQuotas:ServiceException': sq.ServiceException,
  'ServiceQuotas:AccessDeniedException': sq.AccessDeniedException,
  'Backup:ServiceUnavailableException': bk.ServiceUnavailableException,
  'S3:AccessDenied': s3.AccessDenied,
};

/** The client's modelled exception for `code` when there is one, else the service's base exception. */
export function awsError(service: ServiceName, code: string, message: string, httpStatusCode: number): Error {
  const Modeled = MODELED[`${service}:${code}`];
  if (Modeled) {
    return new Modeled({ message, $metadata: meta(httpStatusCode), ...(service === 'EFS' ? { ErrorCode: code } : {}) });
  }
  return serviceError(service, code, message, httpStatusCode);
}

/** An unmodelled error: the service's base exception with `name` = the AWS code. */
export function serviceError(service: ServiceName, code: string, message: string, httpStatusCode = 400): Error {
  const Base = BASES[service];
  const err = new Base({ name: code, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: meta(httpStatusCode), message });
  // The SDK's JSON/query deserialisers also expose the code as `Code` on unmodelled errors.
  Object.assign(err, { Code: code });
  return err;
}

/** EC2 models no exceptions: every EC2 error is an EC2ServiceException named by its code. */
export function ec2Error(code: string, message: string, httpStatusCode = 400): Error {
  return serviceError('EC2', code, message, httpStatusCode);
}

/** Thrown for an operation the fake does not emulate: loud, never an `undefined` result. */
export class NotEmulatedError extends Error {
  override readonly name = 'NotEmulatedError';
  constructor(service: string, operation: string) {
    super(`AWS fake: ${service} ${operation} is not emulated. Add it to test/local-cloud/fake-aws or mock it in the test.`);
  }
}

/** Throttling as each service answers it (code, HTTP status). */
export const THROTTLE_ERRORS: Record<ServiceName, { code: string; message: string; status: number }> = {
  // EC2 answers RequestLimitExceeded with HTTP 503 "Request limit exceeded." (observed in many
  // client reports, e.g. cloudfoundry/bosh-aws-cpi-release#61: "Status Code: 503; Error Code: RequestLimitExceeded").
  EC2: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.', status: 503 },
  // ECS: "ThrottlingException ... Rate exceeded (Status Code: 400)" (ECS request throttling page).
  ECS: { code: 'ThrottlingException', message: 'Rate exceeded', status: 400 },
  EFS: { code: 'ThrottlingException', message: 'Rate exceeded', status: 429 },
  // IAM (query protocol): code "Throttling", HTTP 400.
  IAM: { code: 'Throttling', message: 'Rate exceeded', status: 400 },
  SecretsManager: { code: 'ThrottlingException', message: 'Rate exceeded', status: 400 },
  CloudWatchLogs: { code: 'ThrottlingException', message: 'Rate exceeded', status: 400 },
  // Bedrock (REST-JSON): ThrottlingException, HTTP 429 (Bedrock API Reference, Common Errors).
  Bedrock: { code: 'ThrottlingException', message: 'Too many requests, please wait before trying again.', status: 429 },
  EventBridge: { code: 'ThrottlingException', message: 'Rate exceeded', status: 400 },
  // CloudWatch (awsQuery-compatible): code "Throttling", HTTP 400 (CloudWatch API Reference, Common Errors).
  CloudWatch: { code: 'Throttling', message: 'Rate exceeded', status: 400 },
  // Service Quotas (JSON): TooManyRequestsException (Service Quotas API Reference, Errors).
  ServiceQuotas: { code: 'TooManyRequestsException', message: 'Rate exceeded', status: 400 },
  // AWS Backup (REST-JSON) models no throttling exception: the common ThrottlingException, HTTP 400.
  Backup: { code: 'ThrottlingException', message: 'Rate exceeded', status: 400 },
  // S3: SlowDown, HTTP 503 (S3 API Reference, Error responses).
  S3: { code: 'SlowDown', message: 'Please reduce your request rate.', status: 503 },
};

/** Transient (5xx) errors as each service names them. */
export const TRANSIENT_ERRORS: Record<ServiceName, { code: string; message: string; status: number }> = {
  EC2: { code: 'ServiceUnavailable', message: 'The request has failed due to a temporary failure of the server.', status: 503 },
  ECS: { code: 'ServerException', message: 'Service Unavailable. Please try again later.', status: 500 },
  EFS: { code: 'InternalServerError', message: 'Internal server error', status: 500 },
  IAM: { code: 'ServiceFailure', message: 'The request processing has failed because of an unknown error, exception or failure.', status: 500 },
  SecretsManager: { code: 'InternalServiceError', message: 'An error occurred on the server side.', status: 500 },
  CloudWatchLogs: { code: 'ServiceUnavailableException', message: 'The service cannot complete the request.', status: 503 },
  EventBridge: { code: 'InternalException', message: 'Internal failure', status: 500 },
  Bedrock: { code: 'InternalServerException', message: 'An internal server error occurred. Retry your request.', status: 500 },
  // CloudWatch models InternalServiceFault (HTTP 500) for its server-side errors.
  CloudWatch: { code: 'InternalServiceFault', message: 'Request processing has failed due to some unknown error, exception, or failure.', status: 500 },
  ServiceQuotas: { code: 'ServiceException', message: 'Something went wrong.', status: 500 },
  Backup: { code: 'ServiceUnavailableException', message: 'The request failed due to a temporary failure of the server.', status: 500 },
  S3: { code: 'InternalError', message: 'We encountered an internal error. Please try again.', status: 500 },
};

/** Permanent (4xx, not retryable) errors as each service names them. */
export const PERMANENT_ERRORS: Record<ServiceName, { code: string; message: string; status: number }> = {
  EC2: { code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.', status: 403 },
  ECS: { code: 'AccessDeniedException', message: 'User is not authorized to perform this action.', status: 400 },
  EFS: { code: 'AccessDeniedException', message: 'User is not authorized to perform this action.', status: 403 },
  IAM: { code: 'AccessDenied', message: 'User is not authorized to perform this action.', status: 403 },
  SecretsManager: { code: 'AccessDeniedException', message: 'User is not authorized to perform this action.', status: 400 },
  CloudWatchLogs: { code: 'AccessDeniedException', message: 'User is not authorized to perform this action.', status: 400 },
  EventBridge: { code: 'AccessDeniedException', message: 'User is not authorized to perform this action.', status: 400 },
  Bedrock: { code: 'AccessDeniedException', message: 'You do not have sufficient access to perform this action.', status: 403 },
  CloudWatch: { code: 'AccessDenied', message: 'User is not authorized to perform: cloudwatch:GetMetricData', status: 403 },
  ServiceQuotas: { code: 'AccessDeniedException', message: 'You do not have sufficient access to perform this action.', status: 400 },
  Backup: { code: 'AccessDeniedException', message: 'User is not authorized to perform this action.', status: 403 },
  S3: { code: 'AccessDenied', message: 'Access Denied', status: 403 },
};
