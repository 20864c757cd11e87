/**
 * Powertools instances shared by a function's modules (one per cold start).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

// Powertools reads POWERTOOLS_SERVICE_NAME (set by the CDK app to `octw-<cell>`, the `service`
// dimension of every metric and log line) and POWERTOOLS_METRICS_NAMESPACE itself.
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();

/** Instruments an SDK v3 client with X-Ray (a no-op outside Lambda). */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}
