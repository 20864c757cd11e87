/**
 * The envelopes Intake parses: an SQS batch and, in each message body, an EventBridge event.
 *
 * Written here rather than imported from `@aws-lambda-powertools/parser/schemas`: those modules
 * take zod as the whole `z` namespace object, which esbuild cannot tree-shake, and that pulled all
 * of zod (locales, JSON Schema conversion: 345 KB more) into the Intake bundle (issue 14). The
 * fields are the ones AWS documents for both events; anything else is kept (passthrough).
 */
import * as z from './zod';

export const SqsRecordSchema = z.looseObject({
    messageId: z.string().check(z.minLength(1)),
    receiptHandle: z.string(),
    body: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    messageAttributes: z.record(z.string(), z.unknown()),
    md5OfBody: z.string(),
    eventSource: z.literal('aws:sqs'),
    eventSourceARN: z.string(),
    awsRegion: z.string(),
  });

export const SqsSchema = z.object({ Records: z.array(SqsRecordSchema) });

export const EventBridgeSchema = z.looseObject({
    version: z.string(),
    id: z.string().check(z.minLength(1)),
    source: z.string(),
    account: z.string(),
    time: z.string(),
    region: z.string(),
    resources: z.array(z.string()),
    'detail-type': z.string(),
    detail: z.unknown(),
    'replay-name': z.optional(z.string()),
  });
