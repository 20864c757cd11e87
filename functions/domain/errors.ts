/**
 * Every error a handler may throw on purpose. The `name` of each class is part of the
 * state machines' contract: the ASL `Retry` / `Catch` blocks refer to these names, so
 * they must never change. `ERROR_NAMES` is the one list the ASL tests check against.
 */

export abstract class OctwError extends Error {
  abstract override readonly name: string;
  /** Whether the workflow should retry the step (with backoff) rather than compensate. */
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Input (event, state-machine input, CLI request) failed validation. Never retried. */
export class ValidationError extends OctwError {
  readonly name = 'ValidationError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The tenant is not in a state that allows the requested transition (lost a race, or wrong state). */
export class TenantStateConflictError extends OctwError {
  readonly name = 'TenantStateConflictError';
  readonly retryable = false;
}

/** No tenant record with that id. */
export class TenantNotFoundError extends OctwError {
  readonly name = 'TenantNotFoundError';
  readonly retryable = false;
}

/** AWS throttled us (ThrottlingException, RequestLimitExceeded, TooManyRequestsException...). */
export class ThrottledError extends OctwError {
  readonly name = 'ThrottledError';
  readonly retryable = true;
}

/** A transient AWS failure (5xx, ServiceUnavailable, InternalError, ConcurrentModification...). */
export class TransientAwsError extends OctwError {
  readonly name = 'TransientAwsError';
  readonly retryable = true;
}

/** A freshly created IAM role is not yet usable by ECS (eventual consistency). */
export class IamPropagationError extends OctwError {
  readonly name = 'IamPropagationError';
  readonly retryable = true;
}

/** A resource is still in use (security group with an ENI that has not been released yet). */
export class ResourceBusyError extends OctwError {
  readonly name = 'ResourceBusyError';
  readonly retryable = true;
}

/** A resource exists under our deterministic name but does not match what we would have created. */
export class ResourceConflictError extends OctwError {
  readonly name = 'ResourceConflictError';
  readonly retryable = false;
}

/**
 * A resource under the tenant's deterministic name (or recorded id) belongs to another cell or
 * another tenant: its `octw:cell` / `octw:tenant` tags are not this cell's and this tenant's. It is
 * never adopted, changed or deleted: permanent, and compensation leaves it alone (every delete
 * step refuses it the same way).
 */
export class ForeignResourceError extends OctwError {
  readonly name = 'ForeignResourceError';
  readonly retryable = false;
}

/** A quota was hit (access points per file system, rules per security group...). */
export class QuotaExceededError extends OctwError {
  readonly name = 'QuotaExceededError';
  readonly retryable = false;
}

/** The gateway did not become healthy (circuit breaker, failed health checks, or timeout). */
export class GatewayUnhealthyError extends OctwError {
  readonly name = 'GatewayUnhealthyError';
  readonly retryable = false;
}

/** Any other AWS error we do not expect: permanent, compensate. */
export class PermanentAwsError extends OctwError {
  readonly name = 'PermanentAwsError';
  readonly retryable = false;
}

export const ERROR_NAMES = {
  validation: 'ValidationError',
  stateConflict: 'TenantStateConflictError',
  notFound: 'TenantNotFoundError',
  throttled: 'ThrottledError',
  transient: 'TransientAwsError',
  iamPropagation: 'IamPropagationError',
  resourceBusy: 'ResourceBusyError',
  resourceConflict: 'ResourceConflictError',
  foreignResource: 'ForeignResourceError',
  quotaExceeded: 'QuotaExceededError',
  gatewayUnhealthy: 'GatewayUnhealthyError',
  permanentAws: 'PermanentAwsError',
} as const;

export type ErrorName = (typeof ERROR_NAMES)[keyof typeof ERROR_NAMES];
