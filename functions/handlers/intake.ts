/**
 * TenantSignedUp events, delivered by EventBridge through an SQS queue (which absorbs bursts).
 * Each record is handled on its own: a refused signup is recorded and acknowledged; a transient
 * failure is reported as a batch item failure so SQS redelivers only that record.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { StateMachineStarter } from '../adapters/step-functions';
import { ValidationError } from '../domain/errors';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { EventBridgeSchema, SqsSchema } from '../shared/event-envelopes';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { logger, metrics } from '../shared/powertools';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { rejectSignup } from '../usecases/lifecycle';
import { intakeSignup, type IntakeDeps } from '../usecases/intake';
import { signupContextOf } from '../usecases/signup';

const env = loadEnv([vars.PLANS_JSON, vars.VPC_CIDR, vars.DEFAULT_EGRESS_ALLOWLIST_JSON, vars.EGRESS_SETTINGS_JSON, vars.PROVISION_STATE_MACHINE_ARN, vars.INGRESS_SETTINGS_JSON]);
const deps: IntakeDeps = {
  ...lifecycleDepsFromEnv(),
  signup: signupContextOf(env.PLANS_JSON, env.VPC_CIDR, env.DEFAULT_EGRESS_ALLOWLIST_JSON, env.EGRESS_SETTINGS_JSON, loadEnv([vars.CELL_ID]).CELL_ID, env.INGRESS_SETTINGS_JSON.enabled),
  provision: new StateMachineStarter(new SFNClient(CLIENT_CONFIG), env.PROVISION_STATE_MACHINE_ARN),
};

export const SIGNUP_DETAIL_TYPE = 'TenantSignedUp';

export const handler = makeHandler('Intake', SqsSchema, async (event, _context: Context): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        body = undefined;
      }
      const parsed = EventBridgeSchema.safeParse(body);
      if (!parsed.success || parsed.data['detail-type'] !== SIGNUP_DETAIL_TYPE) {
        const why = parsed.success ? `detail-type is "${parsed.data['detail-type']}", expected ${SIGNUP_DETAIL_TYPE}` : 'message body is not an EventBridge event';
        await rejectSignup(deps, undefined, new ValidationError(why, [{ path: '(event)', message: why }]), 'intake');
        continue;
      }
      const outcome = await intakeSignup(deps, parsed.data.detail, `intake:${parsed.data.id}`);
      logger.info('signup handled', { messageId: record.messageId, ...outcome });
      metrics.addMetric(outcome.outcome === 'rejected' ? 'SignupsRejected' : 'SignupsAccepted', MetricUnit.Count, 1);
    } catch (err) {
      logger.error('signup failed; SQS will redeliver it', { messageId: record.messageId, error: err as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
});
