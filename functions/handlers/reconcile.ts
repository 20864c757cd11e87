/**
 * Issue 13, items 2 and 3: the cell's reconcile and isolation audit.
 * - `listPage`: one page of the cell's tenant ids (the ReconcileCell workflow maps over it).
 * - `reconcileTenant`: audits one tenant's live resources against its record; drift is a metric
 *   and a TenantDriftDetected event; with repair (the cell's mode, or asked), re-applies what the
 *   record renders through the workflows' adapters.
 * - `sweepOrphans`: lists resources tagged for this cell that no live tenant owns; removes them after
 *   the grace period when the cell's mode is repair.
 * - `audit` / `reconcile`: the same for one tenant or every tenant, in one answer (octw audit,
 *   octw fleet reconcile).
 * Report-only is the default (cdk.json reconcile.mode); the function then has no write rights and
 * an explicit repair request is refused (ValidationError).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import { CellInventory } from '../adapters/cell-inventory';
import { EgressPolicyStore } from '../adapters/egress-policy-store';
import { FleetStore } from '../adapters/fleet-store';
import { GatewayServices } from '../adapters/gateway-service';
import { IngressRoutes } from '../adapters/ingress-routes';
import { elbV2PortFromClient, route53PortFromClient, TenantOidcSecrets } from '../adapters/ingress-sdk';
import { TenantOidcSchema } from '../domain/ingress';
import { ProxyCredentialSecrets } from '../adapters/proxy-credentials';
import { SecurityGroups } from '../adapters/security-groups';
import { TaskRoles } from '../adapters/task-roles';
import { ValidationError } from '../domain/errors';
import { worstSeverity } from '../domain/isolation-audit';
import type { TenantRecord } from '../domain/tenant-record';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv, regionFromEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { logger, metrics } from '../shared/powertools';
import { accessPointUids, LiveStateReader } from '../usecases/live-state';
import { sweepOrphans } from '../usecases/orphan-sweep';
import { reconcileTenant, type ReconcileDeps, type TenantReport } from '../usecases/reconcile';

const env = loadEnv([
  vars.TABLE_NAME,
  vars.PLANS_JSON,
  vars.VPC_ID,
  vars.SUBNET_IDS,
  vars.EFS_SECURITY_GROUP_ID,
  vars.ENDPOINTS_SECURITY_GROUP_ID,
  vars.DEFAULT_EGRESS_ALLOWLIST_JSON,
  vars.EGRESS_PROXY_JSON,
  vars.INGRESS_SETTINGS_JSON,
  vars.FILE_SYSTEM_ID,
  vars.FILE_SYSTEM_ARN,
  vars.PERMISSIONS_BOUNDARY_ARN,
  vars.CLUSTER_NAME,
  vars.EXECUTION_ROLE_ARN,
  vars.SECRET_RECOVERY_DAYS,
  vars.RECONCILE_SETTINGS_JSON,
]);
const settings = env.RECONCILE_SETTINGS_JSON;
const region = regionFromEnv();
const { store, events, cell } = lifecycleDepsFromEnv();
const proxy = env.EGRESS_PROXY_JSON;
const ingress = env.INGRESS_SETTINGS_JSON;
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_CONFIG), { marshallOptions: { removeUndefinedValues: true } });
const ec2 = new EC2Client(CLIENT_CONFIG);
const ecs = new ECSClient(CLIENT_CONFIG);
const efs = new EFSClient(CLIENT_CONFIG);
const iam = new IAMClient(CLIENT_CONFIG);
const sm = new SecretsManagerClient(CLIENT_CONFIG);

const groups = new SecurityGroups(ec2, {
  cell,
  vpcId: env.VPC_ID,
  region,
  efsSecurityGroupId: env.EFS_SECURITY_GROUP_ID,
  endpointsSecurityGroupId: env.ENDPOINTS_SECURITY_GROUP_ID,
  defaultAllowlist: env.DEFAULT_EGRESS_ALLOWLIST_JSON,
  ...(proxy.enabled ? { egressProxy: { clientSecurityGroupId: proxy.clientSecurityGroupId, port: proxy.port } } : {}),
  ...(ingress.enabled ? { ingressSecurityGroupId: ingress.securityGroupId } : {}),
});
const roles = new TaskRoles(iam, { cell, permissionsBoundaryArn: env.PERMISSIONS_BOUNDARY_ARN, fileSystemArn: env.FILE_SYSTEM_ARN, clusterName: env.CLUSTER_NAME });
const services = new GatewayServices(ecs, { cell, clusterName: env.CLUSTER_NAME, subnetIds: env.SUBNET_IDS });
const policies = proxy.enabled ? new EgressPolicyStore(doc, proxy.policyTableName) : undefined;
/** Issue 13: the tenant's route (rule, target group, DNS record) is read, and repaired in place, when the cell has ingress. */
const ingressPorts = ingress.enabled
  ? { elb: elbV2PortFromClient(new ElasticLoadBalancingV2Client(CLIENT_CONFIG)), dns: route53PortFromClient(new Route53Client(CLIENT_CONFIG)), settings: ingress.settings }
  : undefined;
const fleet = new FleetStore(doc, env.TABLE_NAME, cell);
const reader = new LiveStateReader(
  { groups, roles, iam, services, ecs, efs, sm, policies, ingress: ingressPorts },
  {
    cell,
    plans: env.PLANS_JSON,
    region,
    fileSystemId: env.FILE_SYSTEM_ID,
    fileSystemArn: env.FILE_SYSTEM_ARN,
    executionRoleArn: env.EXECUTION_ROLE_ARN,
    clusterName: env.CLUSTER_NAME,
    subnetIds: env.SUBNET_IDS,
    permissionsBoundaryArn: env.PERMISSIONS_BOUNDARY_ARN,
    ingressSecurityGroupId: ingress.enabled ? ingress.securityGroupId : undefined,
    ingress: ingress.enabled ? { domain: ingress.settings.domain, ingressCidrs: ingress.settings.ingressCidrs } : undefined,
    egressProxy: proxy.enabled,
  },
);
const mayRepair = settings.mode === 'repair';
const inventory = new CellInventory(
  { ec2, efs, iam, sm, ecs },
  { cell, vpcId: env.VPC_ID, fileSystemId: env.FILE_SYSTEM_ID, clusterName: env.CLUSTER_NAME, secretRecoveryDays: env.SECRET_RECOVERY_DAYS },
  { roles, services },
  ingressPorts ? { elb: ingressPorts.elb, settings: ingressPorts.settings } : undefined,
);

/** The recorded route again, as the Ingress function's `apply` renders it (OIDC client secret read at that moment, the tenant's own only). */
function reapplyRoute(ports: NonNullable<typeof ingressPorts>) {
  const oidcSecrets = new TenantOidcSecrets(sm, cell, async (tenantId) => (await store.require(tenantId)).ingressOidc?.clientSecretName);
  const routes = new IngressRoutes(ports.elb, ports.dns, ports.settings, oidcSecrets.reader());
  return async (record: TenantRecord) => {
    const placement = record.ingress;
    if (!placement) throw new Error('no ingress route recorded');
    const o = record.ingressOidc;
    await routes.reapplyRoute({
      tenantId: record.tenantId,
      mode: placement.mode,
      ...(placement.stagingToken ? { stagingToken: placement.stagingToken } : {}),
      ...(o ? { oidc: TenantOidcSchema.parse({ issuer: o.issuer, authorizationEndpoint: o.authorizationEndpoint, tokenEndpoint: o.tokenEndpoint, userInfoEndpoint: o.userInfoEndpoint, clientId: o.clientId }) } : {}),
      placement,
    });
  };
}

/** Deps of one invocation: the access points are listed once per invocation (uid uniqueness). */
function depsOfInvocation(): ReconcileDeps {
  let aps: Promise<Awaited<ReturnType<typeof accessPointUids>>> | undefined;
  return {
    cell,
    plans: env.PLANS_JSON,
    reader,
    store,
    events,
    repair: mayRepair
      ? {
          groups,
          roles,
          services,
          egress:
            proxy.enabled && policies
              ? { proxy, policies, secrets: new ProxyCredentialSecrets(sm, cell), store }
              : undefined,
          ingress: ingressPorts ? { reapply: reapplyRoute(ingressPorts) } : undefined,
        }
      : undefined,
    async uidHolders(record: TenantRecord) {
      aps ??= accessPointUids(efs, env.FILE_SYSTEM_ID);
      if (record.uid === undefined) return [];
      return (await aps).filter((a) => a.uid === record.uid && a.id !== record.resources.accessPointId).map((a) => `${a.tenantId ?? '(untagged)'} (${a.id})`);
    },
  };
}

function publishDrift(reports: readonly TenantReport[]): void {
  const drifted = reports.filter((r) => r.drift.length > 0);
  for (const r of drifted) {
    const m = metrics.singleMetric();
    m.addDimension('TenantId', r.tenantId);
    m.addMetric('TenantDrift', MetricUnit.Count, r.drift.length);
  }
  metrics.addMetric('TenantsDrifted', MetricUnit.Count, drifted.length);
  metrics.addMetric('DriftFindings', MetricUnit.Count, drifted.reduce((n, r) => n + r.drift.length, 0));
}

const RunId = z.string().check(z.minLength(1)).check(z.maxLength(256));
const Input = z.discriminatedUnion('action', [
  z.object({ action: z.literal('listPage'), cursor: z.optional(z.string().check(z.minLength(1))), pageSize: z.optional(z.int().check(z.gte(1)).check(z.lte(1000))) }),
  z.object({ action: z.literal('reconcileTenant'), tenantId: z.string().check(z.minLength(1)), runId: RunId, repair: z.optional(z.boolean()) }),
  z.object({ action: z.literal('sweepOrphans'), runId: RunId, remove: z.optional(z.boolean()) }),
  z.object({ action: z.literal('audit'), tenantId: z.optional(z.string().check(z.minLength(1))) }),
  z.object({ action: z.literal('reconcile'), tenantId: z.optional(z.string().check(z.minLength(1))), repair: z.optional(z.boolean()), runId: z.optional(RunId) }),
]);

export const handler = makeHandler('Reconcile', Input, async (input, context) => {
  switch (input.action) {
    case 'listPage': {
      const page = await fleet.page(input.pageSize ?? settings.pageSize, input.cursor);
      return { tenantIds: page.records.map((r) => r.tenantId), ...(page.cursor ? { cursor: page.cursor } : {}), hasMore: page.cursor !== undefined };
    }
    case 'reconcileTenant': {
      const report = await reconcileTenant(depsOfInvocation(), input.tenantId, { repair: input.repair ?? mayRepair, runId: input.runId });
      publishDrift([report]);
      // A small answer: the Map collects one per tenant.
      return {
        tenantId: report.tenantId,
        status: report.status,
        drift: report.drift,
        ...(report.skipped ? { skipped: report.skipped } : {}),
        ...(report.repaired ? { repaired: report.repaired, remaining: report.remaining ?? [] } : {}),
      };
    }
    case 'sweepOrphans': {
      const remove = input.remove ?? mayRepair;
      if (remove && !mayRepair) throw new ValidationError(`the cell "${cell}" reconciles in report-only mode; orphans are listed, not removed`);
      const report = await sweepOrphans({ inventory, ledger: fleet, store, now: () => new Date() }, { graceHours: settings.orphanGraceHours, remove, runId: input.runId });
      metrics.addMetric('OrphansFound', MetricUnit.Count, report.orphans.length);
      metrics.addMetric('OrphansRemoved', MetricUnit.Count, report.orphans.filter((o) => o.outcome === 'deleted').length);
      logger.info('orphan sweep', { orphans: report.orphans.map((o) => ({ kind: o.kind, id: o.id, tenantId: o.tenantId, reason: o.reason, outcome: o.outcome })) });
      return { orphans: report.orphans.length, removed: report.orphans.filter((o) => o.outcome === 'deleted').length, errors: report.orphans.filter((o) => o.outcome === 'error').length, deferred: report.deferred };
    }
    case 'audit':
    case 'reconcile': {
      const runId = (input.action === 'reconcile' ? input.runId : undefined) ?? `cli:${context.awsRequestId}`;
      const repair = input.action === 'reconcile' ? (input.repair ?? false) : false;
      const deps = input.action === 'audit' ? { ...depsOfInvocation(), events: { publish: () => Promise.resolve() } } : depsOfInvocation();
      const ids = input.tenantId ? [input.tenantId] : (await fleet.all()).map((r) => r.tenantId);
      const reports: TenantReport[] = [];
      for (const id of ids) reports.push(await reconcileTenant(deps, id, { repair, runId }));
      if (input.action === 'reconcile') publishDrift(reports);
      const orphans =
        input.action === 'reconcile' && !input.tenantId
          ? await sweepOrphans({ inventory, ledger: fleet, store, now: () => new Date() }, { graceHours: settings.orphanGraceHours, remove: repair, runId })
          : undefined;
      return {
        cell,
        mode: repair ? 'repair' : 'report',
        worst: worstSeverity(reports.flatMap((r) => r.findings)) ?? null,
        tenants: reports,
        ...(orphans ? { orphans: orphans.orphans } : {}),
      };
    }
  }
});

