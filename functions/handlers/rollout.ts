/**
 * The fleet rollout's own steps (issue 13.1): begin, next wave, admit a tenant, record its outcome,
 * judge a wave, mark a rollback, finish. Tenants are changed by the update workflow (nested
 * execution) and, when SUSPENDED, by the Gateway function's restage; this function only reads the
 * tenants and writes the rollout record.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from '../shared/zod';
import { EventBridgePublisher } from '../adapters/lifecycle-events';
import { AwsQuotaReadings } from '../adapters/quota-readings';
import { RolloutStore } from '../adapters/rollout-store';
import { EcsServiceDeployments } from '../adapters/service-deployments';
import { RolloutIdSchema } from '../domain/rollout';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { tenantStoreFromEnv } from '../shared/deps';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { metrics } from '../shared/powertools';
import { admitTenant, beginRollout, evaluateWave, finishRollout, markRolledBack, nextWave, recordOutcome, type RolloutDeps, type RolloutSummary } from '../usecases/rollout';
import { checkRolloutQuotas, type RolloutQuotaDeps } from '../usecases/rollout-quotas';

const env = loadEnv([vars.TABLE_NAME, vars.CELL_ID, vars.PLANS_JSON, vars.EVENT_BUS_NAME, vars.EVENT_SOURCE, vars.CLUSTER_NAME, vars.QUOTA_GUARD_JSON, vars.SUBNET_IDS, vars.FILE_SYSTEM_ID]);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG), { marshallOptions: { removeUndefinedValues: true } });
const rollouts = new RolloutStore(doc, env.TABLE_NAME);
const events = new EventBridgePublisher(new EventBridgeClient(CLIENT_CONFIG), env.EVENT_BUS_NAME, env.EVENT_SOURCE);
/** The rollout's end as metrics: tenants updated, failed, rolled back, skipped, and how long it took (per final state). */
function finishedMetrics(s: RolloutSummary): void {
  const m = metrics.singleMetric();
  m.addDimension('State', s.state);
  m.addMetric('RolloutsFinished', MetricUnit.Count, 1);
  m.addMetric('RolloutDuration', MetricUnit.Seconds, s.durationSeconds);
  metrics.addMetric('RolloutTenantsUpdated', MetricUnit.Count, s.updated);
  metrics.addMetric('RolloutTenantsFailed', MetricUnit.Count, s.failed);
  metrics.addMetric('RolloutTenantsRolledBack', MetricUnit.Count, s.rolledBack);
  metrics.addMetric('RolloutTenantsRollbackFailed', MetricUnit.Count, s.rollbackFailed);
  metrics.addMetric('RolloutTenantsSkipped', MetricUnit.Count, s.skipped);
}
const deps: RolloutDeps = { rollouts, tenants: tenantStoreFromEnv(), plans: env.PLANS_JSON, cell: env.CELL_ID, events, onFinished: finishedMetrics };

/** The quota check before a rollout (issue 13.5): only when the cell's quota guard is on. */
const quota = env.QUOTA_GUARD_JSON;
const quotaDeps: RolloutQuotaDeps = {
  ...deps,
  rollouts,
  events,
  deployments: new EcsServiceDeployments(new ECSClient(CLIENT_CONFIG), { cell: env.CELL_ID, clusterName: env.CLUSTER_NAME }),
  readings: quota.enabled
    ? new AwsQuotaReadings(
        {
          serviceQuotas: new ServiceQuotasClient(CLIENT_CONFIG),
          serviceQuotasIam: new ServiceQuotasClient({ ...CLIENT_CONFIG, region: quota.iamQuotaRegion }),
          cloudwatch: new CloudWatchClient(CLIENT_CONFIG),
          iam: new IAMClient(CLIENT_CONFIG),
          ec2: new EC2Client(CLIENT_CONFIG),
          efs: new EFSClient(CLIENT_CONFIG),
          elbv2: new ElasticLoadBalancingV2Client(CLIENT_CONFIG),
          bedrock: new BedrockClient(CLIENT_CONFIG),
        },
        { fileSystemId: env.FILE_SYSTEM_ID, subnetIds: env.SUBNET_IDS, accessPointsPerFileSystem: quota.accessPointsPerFileSystem, applicationInferenceProfiles: quota.applicationInferenceProfiles },
      )
    : undefined,
};

const Caught = z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) });
const Id = { rolloutId: RolloutIdSchema };
const Wave = z.int().check(z.gte(0));

const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('begin'), ...Id, request: z.unknown(), executionArn: z.string().check(z.minLength(1)) }),
  /** Before the first wave: the rollout's needs against the cell's quotas (QuotaExceededError: refused, nothing touched). */
  z.object({ action: z.literal('checkQuotas'), ...Id }),
  z.object({ action: z.literal('next'), ...Id }),
  z.object({ action: z.literal('admit'), ...Id, wave: Wave, tenantId: z.string().check(z.minLength(1)) }),
  z.object({
    action: z.literal('record'),
    ...Id,
    wave: Wave,
    tenantId: z.string().check(z.minLength(1)),
    mode: z.enum(['update', 'restage']),
    /** The iteration's state: `result` (the nested update's description, or the restage's result) or `error` (caught). */
    state: z.looseObject({ result: z.optional(z.unknown()), error: z.optional(Caught) }),
  }),
  z.object({ action: z.literal('evaluate'), ...Id, wave: Wave }),
  z.object({ action: z.literal('rolledBack'), ...Id, tenantId: z.string().check(z.minLength(1)), error: z.optional(Caught) }),
  z.object({
    action: z.literal('finish'),
    ...Id,
    state: z.enum(['SUCCEEDED', 'FAILED', 'ABORTED']),
    reason: z.optional(z.string()),
    error: z.optional(Caught),
    rolledBackWave: z.optional(Wave),
  }),
]);

export const handler = makeHandler('Rollout', Input, async (input) => {
  switch (input.action) {
    case 'begin':
      return beginRollout(deps, input.rolloutId, input.request, input.executionArn);
    case 'checkQuotas':
      return checkRolloutQuotas(quotaDeps, input.rolloutId);
    case 'next':
      return nextWave(deps, input.rolloutId);
    case 'admit':
      return admitTenant(deps, input.rolloutId, input.wave, input.tenantId);
    case 'record':
      return recordOutcome(deps, {
        rolloutId: input.rolloutId,
        wave: input.wave,
        tenantId: input.tenantId,
        mode: input.mode,
        ...(input.state.error ? { error: input.state.error } : { result: input.state.result }),
      });
    case 'evaluate':
      return evaluateWave(deps, input.rolloutId, input.wave);
    case 'rolledBack':
      return markRolledBack(deps, input.rolloutId, input.tenantId, input.error);
    case 'finish': {
      const reason = input.reason ?? (input.error ? `${input.error.Error ?? 'Error'}: ${(input.error.Cause ?? '').slice(0, 500)}` : undefined);
      return finishRollout(deps, input.rolloutId, input.state, reason, input.rolledBackWave);
    }
  }
});
