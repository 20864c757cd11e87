/**
 * Errors of the ELBv2 and Route 53 fakes, shaped as the SDK v3 clients throw them. Measured
 * against @aws-sdk/client-elastic-load-balancing-v2 3.1142.0 and @aws-sdk/client-route-53
 * 3.1169.0 by feeding each client an AWS error response (docs/ingress.md, "Fake fidelity"):
 * - ELBv2 modelled errors: `name` = `<Code>Exception` (e.g. `PriorityInUseException`),
 *   `Code` = the wire code (`PriorityInUse`), `$fault: 'client'`; unmodelled codes
 *   (`Throttling`, `ValidationError`): `name` = `Code` = the wire code.
 * - Route 53: `name` = `Code` = the wire code (`InvalidChangeBatch`, `NoSuchHostedZone`).
 * The fake keeps its model independent of the SDK packages (not installed in the shared tree yet),
 * so it builds these errors itself; `awsErrorCode()` in functions/shared reads `Code` first.
 */
import type { ResourceRef } from './core';
import { meta } from './errors';
import type { AwsMetadata } from './errors';

export type IngressServiceName = 'ELBv2' | 'Route53';

/** A resource as the inspection API lists it (ResourceRef with the new service names). */
export type IngressResourceRef = Omit<ResourceRef, 'service'> & { readonly service: IngressServiceName };

/** ELBv2 codes the SDK models as their own exception classes (name gets the `Exception` suffix). */
const ELB_MODELED = new Set([
  'PriorityInUse',
  'TooManyRules',
  'TooManyTargetGroups',
  'TooManyUniqueTargetGroupsPerLoadBalancer',
  'DuplicateTargetGroupName',
  'TargetGroupNotFound',
  'TargetGroupAssociationLimit',
  'ListenerNotFound',
  'RuleNotFound',
  'ResourceInUse',
  'OperationNotPermitted',
  'InvalidConfigurationRequest',
  'InvalidLoadBalancerAction',
  'TooManyActions',
  'TooManyTags',
  'TooManyTargets',
  'PriorRequestNotComplete',
]);

export class FakeServiceError extends Error {
  readonly Code: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: AwsMetadata;
  constructor(service: IngressServiceName, code: string, message: string, httpStatusCode = 400) {
    super(message);
    this.name = service === 'ELBv2' && ELB_MODELED.has(code) ? `${code}Exception` : code;
    this.Code = code;
    this.$fault = httpStatusCode >= 500 ? 'server' : 'client';
    this.$metadata = meta(httpStatusCode);
  }
}

export function elbError(code: string, message: string, status = 400): FakeServiceError {
  return new FakeServiceError('ELBv2', code, message, status);
}

export function r53Error(code: string, message: string, status = 400): FakeServiceError {
  return new FakeServiceError('Route53', code, message, status);
}

/**
 * The errors injected faults answer with (FakeAws.inject on ELBv2 / Route 53): throttling is
 * `Throttling` (HTTP 400) for both query/REST-XML APIs; transient `InternalFailure` (500, AWS's
 * common error); permanent `AccessDenied` (403).
 */
export const INGRESS_FAULT_ERRORS: Readonly<Record<'throttle' | 'transient' | 'permanent', { code: string; message: string; status: number }>> = {
  throttle: { code: 'Throttling', message: 'Rate exceeded', status: 400 },
  transient: { code: 'InternalFailure', message: 'The request processing has failed because of an unknown error, exception or failure.', status: 500 },
  permanent: { code: 'AccessDenied', message: 'User is not authorized to perform this action.', status: 403 },
};
