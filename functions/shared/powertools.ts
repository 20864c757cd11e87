/**
 * Powertools instances shared by a function's modules (one per cold start).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'octw' });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OCTW', serviceName: 'octw' });
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'octw' });

/** Instruments an SDK v3 client with X-Ray (a no-op outside Lambda). */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}
