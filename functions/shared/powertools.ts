/**
 * Powertools instances shared by a function's modules (one per cold start): structured JSON logs
 * and EMF metrics.
 *
 * No Powertools Tracer: it wraps each SDK client with the X-Ray SDK (aws-xray-sdk-core, cls-hooked,
 * semver: about 115 KB of every bundle and a large share of its cold load, issue 14). The functions
 * keep X-Ray active tracing (infra/constructs/house-function.ts), so each invocation is still a
 * segment in the trace of its Step Functions execution; only the per-AWS-call subsegments are gone,
 * and those calls are in the logs of failures (handler.ts) and in CloudTrail.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

// Powertools reads POWERTOOLS_SERVICE_NAME (set by the CDK app to `octw-<cell>`, the `service`
// dimension of every metric and log line) and POWERTOOLS_METRICS_NAMESPACE itself.
export const logger = new Logger();
export const metrics = new Metrics();
