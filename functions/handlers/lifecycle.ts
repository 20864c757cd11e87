/**
 * Lifecycle steps of every workflow: register a signup and claim it, and apply any other
 * transition (activate, fail, ...), recording the caught error as the tenant's last error.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import * as z from '../shared/zod';
import { TRANSITIONS, TRANSITION_NAMES, type TransitionName } from '../domain/lifecycle';
import { TENANT_STATUSES, type TenantStatus } from '../domain/tenant';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { describeCaught, makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { metrics } from '../shared/powertools';
import { TenantCredentials } from '../adapters/tenant-credentials';
import { AwsQuotaReadings } from '../adapters/quota-readings';
import { QUOTA_IDS } from '../domain/quotas';
import { checkQuotas, guardProvisioning, quotaHeadroom } from '../usecases/quota-guard';
import { applyTransition, registerForProvisioning } from '../usecases/lifecycle';
import { claimForOperation, claimForUpdate, CLAIMS, type ClaimOperation } from '../usecases/operations';
import { signupContextOf } from '../usecases/signup';

const env = loadEnv([vars.PLANS_JSON, vars.VPC_CIDR, vars.DEFAULT_EGRESS_ALLOWLIST_JSON, vars.EGRESS_SETTINGS_JSON, vars.UID_BASE, vars.DATA_RETENTION_DAYS, vars.INGRESS_SETTINGS_JSON]);
const signupContext = signupContextOf(env.PLANS_JSON, env.VPC_CIDR, env.DEFAULT_EGRESS_ALLOWLIST_JSON, env.EGRESS_SETTINGS_JSON, loadEnv([vars.CELL_ID]).CELL_ID, env.INGRESS_SETTINGS_JSON.enabled);
const deps = lifecycleDepsFromEnv();
/** Verifies channel credential references (DescribeSecret: metadata and tags only, never a value). */
const credentials = new TenantCredentials(new SecretsManagerClient(CLIENT_CONFIG));

/** The quota guard (issue 13.5): off unless cdk.json `quotaGuard.enabled`. */
const quotaEnv = loadEnv([vars.QUOTA_GUARD_JSON, vars.SUBNET_IDS, vars.FILE_SYSTEM_ID, vars.INGRESS_SETTINGS_JSON, vars.EGRESS_SETTINGS_JSON, vars.DEFAULT_EGRESS_ALLOWLIST_JSON]);
const quotaSettings = quotaEnv.QUOTA_GUARD_JSON;
const quotaReadings = quotaSettings.enabled
  ? new AwsQuotaReadings(
      {
        serviceQuotas: new ServiceQuotasClient(CLIENT_CONFIG),
        serviceQuotasIam: new ServiceQuotasClient({ ...CLIENT_CONFIG, region: quotaSettings.iamQuotaRegion }),
        cloudwatch: new CloudWatchClient(CLIENT_CONFIG),
        iam: new IAMClient(CLIENT_CONFIG),
        ec2: new EC2Client(CLIENT_CONFIG),
        efs: new EFSClient(CLIENT_CONFIG),
        elbv2: new ElasticLoadBalancingV2Client(CLIENT_CONFIG),
        bedrock: new BedrockClient(CLIENT_CONFIG),
      },
      { fileSystemId: quotaEnv.FILE_SYSTEM_ID, subnetIds: quotaEnv.SUBNET_IDS, accessPointsPerFileSystem: quotaSettings.accessPointsPerFileSystem, applicationInferenceProfiles: quotaSettings.applicationInferenceProfiles },
    )
  : undefined;
const quotaGuardDeps = quotaReadings
  ? {
      ...deps,
      readings: quotaReadings,
      plans: signupContext.plans,
      ingress: quotaEnv.INGRESS_SETTINGS_JSON.enabled,
      defaultAllowlist: quotaEnv.DEFAULT_EGRESS_ALLOWLIST_JSON,
      approvedPrefixLists: quotaEnv.EGRESS_SETTINGS_JSON.approvedPrefixLists,
    }
  : undefined;

const Caught = z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) });

const Input = z.discriminatedUnion('action', [
  /** Scheduled: publish how many tenants are in each status (the dashboard's "tenants by status"). */
  z.object({ action: z.literal('census') }),
  /** Scheduled (quota guard on): publish each quota's headroom (QuotaHeadroomPercent, alarmed per quota). */
  z.object({ action: z.literal('quotaHeadroom') }),
  /**
   * The quota guard as a use case for other workflows (a rollout before it starts): `needs` per quota
   * id, e.g. `{fargateOnDemandVcpu: 4}`. Answers `{ok, refusals, readings}`; creates nothing.
   */
  z.object({ action: z.literal('quotaCheck'), needs: z.partialRecord(z.enum(QUOTA_IDS), z.number().check(z.nonnegative())) }),
  z.object({ action: z.literal('register'), signup: z.unknown(), executionArn: z.string().check(z.minLength(1)) }),
  /** First step of deprovision/suspend/resume: validate `{tenantId}` and claim the tenant. */
  z.object({
    action: z.literal('claim'),
    operation: z.enum(Object.keys(CLAIMS) as [ClaimOperation, ...ClaimOperation[]]),
    request: z.unknown(),
    executionArn: z.string().check(z.minLength(1)),
  }),
  /** First step of an update: validate the request as a signup is validated and claim the tenant. */
  z.object({ action: z.literal('claimUpdate'), request: z.unknown(), executionArn: z.string().check(z.minLength(1)) }),
  /** A failed update: put the replaced configuration back into the record (status stays UPDATING). */
  z.object({ action: z.literal('restoreUpdate'), tenantId: z.string().check(z.minLength(1)), executionArn: z.string().check(z.minLength(1)) }),
  z.object({
    action: z.literal('transition'),
    tenantId: z.string().check(z.minLength(1)),
    executionArn: z.string().check(z.minLength(1)),
    transition: z.enum(TRANSITION_NAMES as [TransitionName, ...TransitionName[]]),
    /** For failure transitions: the Catch output to record as the tenant's last error. */
    error: z.optional(Caught),
    /** Errors of compensation steps that could not finish, appended to the last error. */
    cleanupErrors: z.optional(z.record(z.string(), z.nullable(Caught))),
  }),
]);

export const handler = makeHandler('Lifecycle', Input, async (input) => {
  if (input.action === 'census') {
    const counts = Object.fromEntries(
      await Promise.all(TENANT_STATUSES.map(async (status) => [status, await deps.store.countByStatus(status)] as const)),
    ) as Record<TenantStatus, number>;
    for (const status of TENANT_STATUSES) {
      const metric = metrics.singleMetric();
      metric.addDimension('Status', status);
      metric.addMetric('TenantsByStatus', MetricUnit.Count, counts[status]);
    }
    return { counts };
  }
  if (input.action === 'quotaHeadroom' || input.action === 'quotaCheck') {
    if (!quotaReadings || !quotaGuardDeps) return { enabled: false };
    if (input.action === 'quotaCheck') return { enabled: true, ...(await checkQuotas({ readings: quotaReadings }, input.needs)) };
    const headroom = await quotaHeadroom(quotaGuardDeps);
    for (const h of headroom) {
      const metric = metrics.singleMetric();
      metric.addDimension('Quota', h.id);
      metric.addMetric('QuotaHeadroomPercent', MetricUnit.Percent, h.headroomPercent);
    }
    return { enabled: true, headroom };
  }
  if (input.action === 'register') {
    const ticket = await registerForProvisioning(
      { ...deps, signup: signupContext, uidBase: env.UID_BASE },
      input.signup,
      input.executionArn,
    );
    // Claimed, nothing created yet: a tenant that does not fit is refused here (QuotaExceededError),
    // and the workflow's compensation takes it to FAILED with the reason. Run again on a retry of
    // this step (the claim is then a no-op), so a retried Register never skips the check.
    if (quotaGuardDeps) await guardProvisioning(quotaGuardDeps, ticket.tenantId, input.executionArn);
    metrics.addMetric('ProvisioningStarted', MetricUnit.Count, 1);
    return ticket;
  }
  if (input.action === 'claim') return claimForOperation(deps, input.operation, input.request, input.executionArn);
  if (input.action === 'claimUpdate') {
    return claimForUpdate({ ...deps, signup: signupContext, credentials }, input.request, input.executionArn);
  }
  if (input.action === 'restoreUpdate') {
    const { record, restored } = await deps.store.restorePrevious(input.tenantId, input.executionArn);
    return { tenantId: record.tenantId, restored, plan: record.plan, configHash: record.configHash };
  }

  const rule = TRANSITIONS[input.transition];
  const failure = input.error ? describeCaught(input.error) : undefined;
  const cleanup = Object.entries(input.cleanupErrors ?? {})
    .filter(([, e]) => e !== null && e !== undefined)
    .map(([step, e]) => `${step}: ${describeCaught(e ?? undefined).name}`);
  // A failed update or resume leaves the tenant running (or suspended) as before: what remains to do is
  // running the same request again. Anything else that could not clean up is finished by a deprovision.
  const retryHint = ['updateFailed', 'suspendFailed', 'resumeFailed'].includes(input.transition)
    ? 'request the operation again to finish it'
    : 'deprovision the tenant to finish it';
  const lastError = failure
    ? {
        name: failure.name,
        message: cleanup.length > 0 ? `${failure.message} (cleanup incomplete: ${cleanup.join(', ')}; ${retryHint})` : failure.message,
        at: new Date().toISOString(),
      }
    : undefined;
  const succeeded = !input.transition.endsWith('Failed');
  const patch = {
    ...(lastError
      ? { lastError }
      : succeeded && ['ACTIVE', 'SUSPENDED', 'DEPROVISIONED'].includes(rule.to)
        ? { lastError: null }
        : {}),
    ...(input.transition === 'updated' || input.transition === 'updateFailed' ? { previous: null } : {}),
    // Purge removed the last thing the tenant had (its data and its log group).
    ...(input.transition === 'purged' ? { resources: {} } : {}),
    ...(input.transition === 'deprovisioned'
      ? { dataRetainedUntil: new Date(Date.now() + env.DATA_RETENTION_DAYS * 86_400_000).toISOString() }
      : {}),
  };
  const result = await applyTransition(deps, input.tenantId, input.transition, { executionArn: input.executionArn, patch });

  if (result.applied && input.transition === 'provisioned') {
    const started = result.record.transitions.PROVISIONING;
    metrics.addMetric('ProvisioningSucceeded', MetricUnit.Count, 1);
    if (started) metrics.addMetric('ProvisioningDuration', MetricUnit.Milliseconds, Date.now() - Date.parse(started));
  }
  if (result.applied && input.transition === 'provisioningFailed') metrics.addMetric('ProvisioningFailed', MetricUnit.Count, 1);
  return {
    tenantId: result.record.tenantId,
    status: result.record.status,
    version: result.record.version,
    ...(result.record.lastError ? { lastError: result.record.lastError } : {}),
  };
});
