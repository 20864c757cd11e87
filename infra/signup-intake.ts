/**
 * How the Intake function consumes the signup queue (the SQS event source mapping and the queue's
 * redrive policy). One place for the CDK stack and the local cloud, whose bus delivers signups the
 * same way (test/local-cloud/event-bus.ts): a burst of signups reaches Intake at most
 * `maxConcurrency` invocations of at most `batchSize` records at a time, and a signup Intake fails on
 * `maxReceiveCount` times goes to the intake DLQ.
 */
export const SIGNUP_INTAKE = {
  batchSize: 10,
  maxConcurrency: 10,
  maxReceiveCount: 5,
} as const;
