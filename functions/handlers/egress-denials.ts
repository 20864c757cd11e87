/**
 * The egress proxy's denials as events (issue 10, item 4): subscribed to the proxy's log group with
 * the filter `{ $.event = "egress_denied" }` (infra/constructs/egress-denials.ts), it receives the
 * denial lines gzipped by CloudWatch Logs, summarizes them per tenant and puts at most one
 * `TenantEgressDenied` event per tenant per DENIAL_EVENT_INTERVAL_SECONDS (a conditional write to
 * DENIAL_GATE_TABLE). Per-tenant counts are the `DeniedByTenant` metric filter's, not this function's.
 */
import { gunzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import { EventBridgePublisher } from '../adapters/lifecycle-events';
import { DynamoDbDenialGate, notifyDenials, summarizeDenials, type DenialNotifyResult } from '../egress/denial-events';
import { CELL_ID_PATTERN } from '../domain/naming';
import { ValidationError } from '../domain/errors';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { logger } from '../shared/powertools';

const EnvSchema = z.object({
  EVENT_BUS_NAME: z.string().check(z.minLength(1)),
  EVENT_SOURCE: z.string().check(z.minLength(1)),
  CELL_ID: z.string().check(z.regex(CELL_ID_PATTERN)),
  DENIAL_GATE_TABLE: z.string().check(z.minLength(1)),
  DENIAL_EVENT_INTERVAL_SECONDS: z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(86_400)),
});

/** What Lambda receives from a CloudWatch Logs subscription filter. */
export const SubscriptionEventSchema = z.object({ awslogs: z.object({ data: z.string().check(z.minLength(1)) }) });
const LogsPayloadSchema = z.object({
  messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
  logGroup: z.string(),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })),
});

export function decodeSubscription(data: string): z.infer<typeof LogsPayloadSchema> {
  let json: unknown;
  try {
    json = JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8'));
  } catch (e) {
    throw new ValidationError(`egress-denials: awslogs.data is not base64 gzip JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = LogsPayloadSchema.safeParse(json);
  if (!parsed.success) throw new ValidationError(`egress-denials: not a CloudWatch Logs subscription payload: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

let deps: Parameters<typeof notifyDenials>[1] | undefined;
function depsFromEnv(): Parameters<typeof notifyDenials>[1] {
  const env = EnvSchema.parse(process.env);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG));
  return {
    gate: new DynamoDbDenialGate(doc, env.DENIAL_GATE_TABLE),
    events: new EventBridgePublisher(new EventBridgeClient(CLIENT_CONFIG), env.EVENT_BUS_NAME, env.EVENT_SOURCE),
    cellId: env.CELL_ID,
    intervalMs: env.DENIAL_EVENT_INTERVAL_SECONDS * 1000,
    now: Date.now,
  };
}

export const handler = makeHandler('EgressDenials', SubscriptionEventSchema, async (input): Promise<DenialNotifyResult & { ignored: number }> => {
  const payload = decodeSubscription(input.awslogs.data);
  if (payload.messageType === 'CONTROL_MESSAGE') return { published: [], suppressed: [], ignored: 0 };
  const { tenants, ignored } = summarizeDenials(payload.logEvents);
  deps ??= depsFromEnv();
  const result = await notifyDenials(tenants, deps);
  logger.info('egress denials', { logGroup: payload.logGroup, lines: payload.logEvents.length, ignored, ...result });
  return { ...result, ignored };
});
