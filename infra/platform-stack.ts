/**
 * The platform of one cell: network, cluster, storage, tenants table, the control-plane functions
 * (from functions/handlers/catalogue.ts), the workflows (state-machines/*.asl.json), signup events and
 * observability. Environment-agnostic: synth needs no credentials and no network.
 */
import { Annotations, ArnFormat, Aws, CfnOutput, Duration, Fn, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TAG_CELL } from '../functions/domain/naming';
import { type EnvVar, HANDLERS, type HandlerKey, type HandlerSpec } from '../functions/handlers/catalogue';
import { egressSettingsOf, type PlatformConfig } from './config';
import { BINDERS } from './constructs/binders';
import { Cluster } from './constructs/cluster';
import { TenantImageRepository } from './constructs/tenant-image-repository';
import { EgressDenials } from './constructs/egress-denials';
import { EgressProxy } from './constructs/egress-proxy';
import type { EgressProxySettings } from '../functions/domain/egress-proxy-client';
import { Ingress } from './constructs/ingress';
import { SignupEvents } from './constructs/events';
import { HouseFunction } from './constructs/house-function';
import { Network } from './constructs/network';
import { PurgeAccess, TENANTS_MOUNT_PATH } from './constructs/purge';
import { METRICS_SERVICE, Observability } from './constructs/observability';
import { TenantPermissionsBoundary } from './constructs/permissions-boundary';
import { Storage } from './constructs/storage';
import { TenantsTable } from './constructs/table';
import { Workflows, stateMachineArn } from './constructs/workflows';
import { deadLetterQueue } from './constructs/dead-letter-queue';
import { SIGNUP_INTAKE } from './signup-intake';
import { cellQuotaIds } from '../functions/domain/quotas';
import { UsageAccess } from './constructs/usage';
import { BudgetSchedule } from './constructs/budget';
import { GatewayEvents } from './constructs/gateway-events';
import { ReconcileSchedule } from './constructs/reconcile';
import { grantQuotaReads, grantRolloutQuotaReads, QuotaGuard } from './constructs/quota-guard';
import { FILE_SYSTEM_MOUNT_PATH, RestoreAccess } from './constructs/restore';

export interface PlatformStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** Where the handler entry files live. @default functions/handlers */
  readonly handlersDir?: string;
  /** Where the ASL files live. @default state-machines */
  readonly stateMachinesDir?: string;
}

/** Tag on every platform resource. Deliberately NOT octw:managed-by: that tag marks tenant resources the workflows may change. */
export const TAG_COMPONENT = 'octw:component';

export class PlatformStack extends Stack {
  readonly network: Network;
  readonly table: TenantsTable;
  readonly functions: Record<HandlerKey, HouseFunction>;
  readonly workflows: Workflows;
  readonly signupEvents: SignupEvents;
  readonly permissionsBoundary: TenantPermissionsBoundary;
  readonly egressProxy?: EgressProxy;
  readonly ingress?: Ingress;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, { description: `OCTW platform of cell ${props.config.cellId}`, ...props });
    const c = props.config;
    Tags.of(this).add(TAG_CELL, c.cellId);
    Tags.of(this).add(TAG_COMPONENT, 'platform');
    const platformRetention = c.platformLogRetentionDays as logs.RetentionDays;

    this.network = new Network(this, 'Network', {
      prefix: c.prefix,
      vpcCidr: c.vpcCidr,
      azCount: c.azCount,
      privateSubnetCidrMask: c.privateSubnetCidrMask,
      natGateways: c.natGateways,
      createVpcEndpoints: c.createVpcEndpoints,
      flowLogRetention: platformRetention,
      egressSubnetGroup: c.egressProxy !== undefined,
      ...(c.existingVpc ? { existingVpc: c.existingVpc } : {}),
    });
    const cluster = new Cluster(this, 'Cluster', { prefix: c.prefix, cellId: c.cellId, clusterName: c.clusterName, vpc: this.network.vpc });
    // Where image/Dockerfile's tenant image is pushed; plans pin its digest (README "Tenant image").
    const tenantImages = new TenantImageRepository(this, 'TenantImages', { repositoryName: `${c.prefix}/openclaw` });
    const storage = new Storage(this, 'Storage', {
      prefix: c.prefix,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      securityGroup: this.network.efsSecurityGroup,
      backupRetentionDays: c.backupRetentionDays,
      backupSchedule: c.backupSchedule,
    });
    this.table = new TenantsTable(this, 'Tenants', { tableName: c.tableName });
    this.permissionsBoundary = new TenantPermissionsBoundary(this, 'TenantBoundary', {
      prefix: c.prefix,
      cellId: c.cellId,
      fileSystemArn: storage.fileSystem.fileSystemArn,
      bedrockModels: c.plans.flatMap((p) => p.bedrockModels),
    });
    this.signupEvents = new SignupEvents(this, 'Signups', {
      prefix: c.prefix,
      eventBusName: c.eventBusName,
      signupSource: c.signupSource,
      consumerTimeout: Duration.seconds(HANDLERS.Intake.timeoutSeconds),
    });
    const provisionArn = stateMachineArn(this, c.prefix, 'ProvisionTenant');
    const purgeArn = stateMachineArn(this, c.prefix, 'PurgeTenant');
    const suspendArn = stateMachineArn(this, c.prefix, 'SuspendTenant');
    const resumeArn = stateMachineArn(this, c.prefix, 'ResumeTenant');
    const purgeAccess = new PurgeAccess(this, 'Purge', {
      prefix: c.prefix,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      fileSystem: storage.fileSystem,
      endpointsSecurityGroup: this.network.endpointsSecurityGroup,
      logRetention: platformRetention,
    });
    const usageAccess = new UsageAccess(this, 'Usage', {
      prefix: c.prefix,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      fileSystem: storage.fileSystem,
      endpointsSecurityGroup: this.network.endpointsSecurityGroup,
      dynamoDbPrefixListId: purgeAccess.dynamoDbPrefixListId,
    });
    // Issue 13.4: the Restore function mounts the file system's root (AWS Backup restores off it).
    const restoreAccess = new RestoreAccess(this, 'Restore', {
      prefix: c.prefix,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      fileSystem: storage.fileSystem,
      endpointsSecurityGroup: this.network.endpointsSecurityGroup,
      dynamoDbPrefixListId: purgeAccess.dynamoDbPrefixListId,
    });

    // Issue 10: the per-cell egress proxy and DNS Firewall (cdk.json "egressProxy"; on once its image is set).
    const egressConfig = c.egressProxy;
    if (egressConfig) {
      this.egressProxy = new EgressProxy(this, 'EgressProxy', {
        prefix: c.prefix,
        cellId: c.cellId,
        vpc: this.network.vpc,
        vpcCidr: this.network.vpcCidr,
        subnets: this.network.egressSubnets,
        cluster: cluster.cluster,
        config: egressConfig,
        dnsFirewall: egressConfig.dnsFirewall ?? !c.existingVpc,
        logRetention: platformRetention,
      });
    } else {
      Annotations.of(this).addWarningV2(
        'octw:no-egress-proxy',
        'No egress proxy in this cell (cdk.json egressProxy.image is not set, or egressProxy.enabled is false): tenant tasks reach the internet through their CIDR allowlist rules only, and host allowlists are stored but not enforced. Build egress/Dockerfile, push it to ECR and set egressProxy.image (pinned by digest) to route every tenant through the proxy.',
      );
    }
    const egressProxyEnv: EgressProxySettings = this.egressProxy
      ? {
          enabled: true,
          policyTableName: this.egressProxy.policyTable.tableName,
          proxyHost: this.egressProxy.proxyHost,
          port: this.egressProxy.port,
          clientSecurityGroupId: this.egressProxy.clientTargetSecurityGroup.securityGroupId,
        }
      : { enabled: false };

    // Issue 12: the ingress tier (ALB shards, WAF), only when cdk.json configures `ingress`.
    if (c.ingress) {
      this.ingress = new Ingress(this, 'Ingress', { prefix: c.prefix, vpc: this.network.vpc, vpcCidr: this.network.vpcCidr, config: c.ingress });
    }
    const ingressSettings = this.ingress
      ? this.toJsonString({
          enabled: true,
          settings: {
            cell: c.cellId,
            domain: c.ingress!.domain,
            hostedZoneId: c.ingress!.hostedZoneId,
            vpcId: this.network.vpc.vpcId,
            shards: this.ingress.shards.map((s) => ({
              id: s.id,
              listenerArn: s.listener.listenerArn,
              dnsName: s.loadBalancer.loadBalancerDnsName,
              canonicalHostedZoneId: s.loadBalancer.loadBalancerCanonicalHostedZoneId,
            })),
            rulesPerShard: c.ingress!.rulesPerShard,
            // The ALB nodes' addresses come from the public subnets: the gateways' trusted proxies.
            ingressCidrs: this.network.vpc.publicSubnets.map((s) => s.ipv4CidrBlock),
          },
          securityGroupId: this.ingress.securityGroup.securityGroupId,
        })
      : JSON.stringify({ enabled: false });

    const env: Record<EnvVar, string> = {
      EGRESS_PROXY_JSON: Stack.of(this).toJsonString(egressProxyEnv),
      TABLE_NAME: this.table.table.tableName,
      EVENT_BUS_NAME: this.signupEvents.bus.eventBusName,
      EVENT_SOURCE: c.eventSource,
      CELL_ID: c.cellId,
      PLANS_JSON: JSON.stringify(c.plans),
      DEFAULT_EGRESS_ALLOWLIST_JSON: JSON.stringify(c.defaultEgressAllowlist),
      EGRESS_SETTINGS_JSON: JSON.stringify(egressSettingsOf(c)),
      VPC_ID: this.network.vpc.vpcId,
      VPC_CIDR: this.network.vpcCidr,
      SUBNET_IDS: Fn.join(',', this.network.privateSubnetIds),
      EFS_SECURITY_GROUP_ID: this.network.efsSecurityGroup.securityGroupId,
      ENDPOINTS_SECURITY_GROUP_ID: this.network.endpointsSecurityGroup.securityGroupId,
      FILE_SYSTEM_ID: storage.fileSystem.fileSystemId,
      FILE_SYSTEM_ARN: storage.fileSystem.fileSystemArn,
      PERMISSIONS_BOUNDARY_ARN: this.permissionsBoundary.policyArn,
      CLUSTER_NAME: c.clusterName,
      EXECUTION_ROLE_ARN: cluster.executionRole.roleArn,
      LOG_RETENTION_DAYS: String(c.tenantLogRetentionDays),
      SECRET_RECOVERY_DAYS: String(c.secretRecoveryDays),
      DATA_RETENTION_DAYS: String(c.dataRetentionDays),
      PROVISION_STATE_MACHINE_ARN: provisionArn,
      PURGE_STATE_MACHINE_ARN: purgeArn,
      SUSPEND_STATE_MACHINE_ARN: suspendArn,
      TENANTS_MOUNT_PATH,
      UID_BASE: String(c.uidBase),
      GATEWAY_WAIT_SECONDS: String(c.gatewayWaitSeconds),
      GATEWAY_POLL_INTERVAL_MS: String(c.gatewayPollIntervalMs),
      IAM_PROPAGATION_GRACE_MS: String(c.iamPropagationGraceSeconds * 1000),
      INGRESS_SETTINGS_JSON: ingressSettings,
      RECONCILE_SETTINGS_JSON: JSON.stringify({ mode: c.reconcile.mode, orphanGraceHours: c.reconcile.orphanGraceHours, pageSize: c.reconcile.pageSize }),
      QUOTA_GUARD_JSON: JSON.stringify(
        c.quotaGuard.enabled
          ? {
              enabled: true,
              accessPointsPerFileSystem: c.quotaGuard.accessPointsPerFileSystem,
              applicationInferenceProfiles: c.quotaGuard.applicationInferenceProfiles,
              iamQuotaRegion: c.quotaGuard.iamQuotaRegion,
            }
          : { enabled: false },
      ),
      BACKUP_JSON: Stack.of(this).toJsonString({
        vaultName: storage.vault.backupVaultName,
        restoreRoleArn: restoreAccess.restoreRole.roleArn,
        fileSystemMountPath: FILE_SYSTEM_MOUNT_PATH,
        resumeStateMachineArn: resumeArn,
        maxExportBytes: c.backup.maxExportBytes,
      }),
    };
    // functions/shared/powertools.ts emits metrics with service=octw; the dashboard reads that dimension.
    // One `service` dimension per cell, so two cells in one account do not mix their metrics.
    const serviceName = `${METRICS_SERVICE}-${c.cellId}`;
    const binderContext = {
      cellId: c.cellId,
      tableArn: this.table.table.tableArn,
      tableIndexArns: this.table.indexArns,
      eventBusArn: this.signupEvents.bus.eventBusArn,
      provisionStateMachineArn: provisionArn,
      purgeStateMachineArn: purgeArn,
      purgeAccessPointArn: purgeAccess.accessPoint.accessPointArn,
      usageAccessPointArn: usageAccess.accessPoint.accessPointArn,
      suspendStateMachineArn: suspendArn,
      vpcId: this.network.vpc.vpcId,
      fileSystemArn: storage.fileSystem.fileSystemArn,
      permissionsBoundaryArn: this.permissionsBoundary.policyArn,
      clusterName: c.clusterName,
      executionRoleArn: cluster.executionRole.roleArn,
      egressPolicyTableArn: this.egressProxy?.policyTable.tableArn,

      ingressEnabled: this.ingress !== undefined,
      gatewayWaitStateMachineArns: (['ProvisionTenant', 'ResumeTenant', 'UpdateTenant'] as const).map((k) => stateMachineArn(this, c.prefix, k)),
      reconcileRepair: c.reconcile.mode === 'repair',
      restoreAccessPointArn: restoreAccess.accessPoint.accessPointArn,
      backupVaultArn: storage.vault.backupVaultArn,
      backupRestoreRoleArn: restoreAccess.restoreRole.roleArn,
      resumeStateMachineArn: resumeArn,
      exportBuckets: c.backup.exportBuckets,
    };

    const entries = Object.entries(HANDLERS) as [HandlerKey, HandlerSpec][];
    this.functions = Object.fromEntries(
      entries.map(([key, spec]) => {
        const fn = new HouseFunction(this, `${key}Function`, {
          functionName: `${c.prefix}-${key.toLowerCase()}`,
          spec,
          logRetention: platformRetention,
          environment: {
            ...Object.fromEntries(spec.env.map((name) => [name, env[name]])),
            POWERTOOLS_SERVICE_NAME: serviceName,
            POWERTOOLS_METRICS_NAMESPACE: 'OCTW',
            LOG_LEVEL: c.logLevel,
          },
          ...(props.handlersDir ? { handlersDir: props.handlersDir } : {}),
          // Purge and Usage mount /tenants (each through its own access point): the only functions in the VPC.
          ...(key === 'Purge' ? { vpc: purgeAccess.functionVpc } : {}),
          ...(key === 'Usage' ? { vpc: usageAccess.functionVpc } : {}),
          ...(key === 'Restore' ? { vpc: restoreAccess.functionVpc } : {}),
        });
        BINDERS[key](fn, binderContext);
        return [key, fn];
      }),
    ) as Record<HandlerKey, HouseFunction>;

    this.functions.Intake.function.addEventSource(
      new SqsEventSource(this.signupEvents.queue, { batchSize: SIGNUP_INTAKE.batchSize, reportBatchItemFailures: true, maxConcurrency: SIGNUP_INTAKE.maxConcurrency }),
    );

    Validations.of(this.functions.Intake.function).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: `SQS event sources do not support on-failure destinations; failed signups go to the signup queue's redrive DLQ (maxReceiveCount ${SIGNUP_INTAKE.maxReceiveCount}), which is alarmed.`,
    });

    const purgeSweep = purgeAccess.schedule(this.functions.Purge.function, c.purgeSweepSchedule, c.prefix);
    const usageSchedule = usageAccess.schedule(this.functions.Usage.function, c.usageSchedule, c.prefix);
    const budgetSchedule = new BudgetSchedule(this, 'Budget', { prefix: c.prefix, fn: this.functions.Budget.function, schedule: c.budgetSchedule });
    // Issue 14.1: the cell cluster's ECS events resume the workflows' gateway waits.
    const gatewayEvents = new GatewayEvents(this, 'GatewayEvents', { prefix: c.prefix, cellId: c.cellId, clusterName: c.clusterName, fn: this.functions.GatewayEvents.function });
    // Issue 13.5: the quota guard runs in the Lifecycle function's Register step; when on, it may read
    // the quotas and their usage, and publishes each quota's headroom on a schedule, alarmed.
    let quotaGuard: QuotaGuard | undefined;
    if (c.quotaGuard.enabled) {
      grantQuotaReads(this.functions.Lifecycle, storage.fileSystem.fileSystemArn);
      // And before a rollout's first wave (the Rollout function's checkQuotas step).
      grantRolloutQuotaReads(this.functions.Rollout, storage.fileSystem.fileSystemArn, c.clusterName, c.cellId);
      quotaGuard = new QuotaGuard(this, 'QuotaGuard', {
        prefix: c.prefix,
        fn: this.functions.Lifecycle.function,
        schedule: c.quotaGuard.schedule,
        headroomAlarmPercent: c.quotaGuard.headroomAlarmPercent,
        serviceName,
        quotas: cellQuotaIds(c.plans, c.ingress !== undefined),
      });
    }

    this.workflows = new Workflows(this, 'Workflows', {
      prefix: c.prefix,
      functionArns: Object.fromEntries(entries.map(([key]) => [key, this.functions[key].functionArn])) as Record<HandlerKey, string>,
      cellSettings: { CellIngress: this.ingress ? 'on' : 'off' },
      logRetention: platformRetention,
      ...(props.stateMachinesDir ? { stateMachinesDir: props.stateMachinesDir } : {}),
    });
    // Issue 13: the scheduled reconcile and orphan sweep (cdk.json reconcile).
    const reconcileSchedule = new ReconcileSchedule(this, 'Reconcile', { prefix: c.prefix, stateMachine: this.workflows.stateMachines.ReconcileCell, schedule: c.reconcile.schedule });

    // The dashboard's "tenants by status": the Lifecycle function counts the byStatus index every
    // 5 minutes. Like every other rule target it retries, and what still fails lands in a DLQ that is
    // alarmed: a census that keeps failing (throttled, no permission) must not go unnoticed.
    const censusDeadLetterQueue = deadLetterQueue(this, 'TenantCensusDeadLetterQueue', `${c.prefix}-tenant-census-dlq`, 'tenant-census rule');
    new events.Rule(this, 'TenantCensus', {
      ruleName: `${c.prefix}-tenant-census`,
      description: 'Publishes the TenantsByStatus metric (count of tenants per lifecycle status)',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [
        new targets.LambdaFunction(this.functions.Lifecycle.function, {
          event: events.RuleTargetInput.fromObject({ action: 'census' }),
          deadLetterQueue: censusDeadLetterQueue,
          retryAttempts: 2,
          // A census older than its period is superseded by the next one.
          maxEventAge: Duration.minutes(5),
        }),
      ],
    });

    const observability = new Observability(this, 'Observability', {
      prefix: c.prefix,
      serviceName,
      stateMachines: this.workflows.stateMachines,
      functions: Object.fromEntries(entries.map(([key]) => [key, this.functions[key].function])),
      deadLetterQueues: {
        SignupRule: this.signupEvents.ruleDeadLetterQueue,
        SignupIntake: this.signupEvents.intakeDeadLetterQueue,
        OffboardedRule: this.signupEvents.offboardedDeadLetterQueue,
        PurgeSweep: purgeSweep.deadLetterQueue,
        TenantCensus: censusDeadLetterQueue,
        UsageSchedule: usageSchedule.deadLetterQueue,
        BudgetSchedule: budgetSchedule.deadLetterQueue,
        GatewayEventsRule: gatewayEvents.deadLetterQueue,
        ReconcileSchedule: reconcileSchedule.deadLetterQueue,
        ...(quotaGuard ? { QuotaHeadroom: quotaGuard.deadLetterQueue } : {}),
      },
      // A tenant over its plan's EFS quota (the Usage function also puts a TenantOverQuota event).
      metricAlarms: {
        'tenants-over-quota': { metricName: 'TenantsOverQuota', statistic: 'Maximum', description: 'A tenant is over its plan\'s EFS quota (see the TenantOverQuota events and the TenantEfsBytes metric)' },
        // A tenant over its plan's monthly Bedrock token budget (the Budget function also puts a TenantBudgetExceeded event, once a month).
        'tenants-over-budget': { metricName: 'TenantsOverBudget', statistic: 'Maximum', description: 'A tenant is over its plan\'s monthly Bedrock token budget (see the TenantBudgetExceeded events and the TenantTokens metric)' },
      },
      ...(c.alarmEmail ? { alarmEmail: c.alarmEmail } : {}),
    });

    for (const a of quotaGuard?.alarms ?? []) a.addAlarmAction(new cloudwatchActions.SnsAction(observability.topic));

    if (this.egressProxy) {
      // Denials as rate-limited TenantEgressDenied events (infra/constructs/egress-denials.ts).
      new EgressDenials(this, 'EgressDenials', {
        prefix: c.prefix,
        cellId: c.cellId,
        proxyLogGroup: this.egressProxy.logGroup,
        bus: this.signupEvents.bus,
        eventSource: c.eventSource,
        intervalSeconds: c.egressProxy?.denialEventIntervalSeconds ?? 900,
        logRetention: platformRetention,
        environment: { POWERTOOLS_SERVICE_NAME: serviceName, POWERTOOLS_METRICS_NAMESPACE: 'OCTW', LOG_LEVEL: c.logLevel },
        ...(props.handlersDir ? { handlersDir: props.handlersDir } : {}),
      });
      for (const a of this.egressProxy.alarms) a.addAlarmAction(new cloudwatchActions.SnsAction(observability.topic));
      observability.dashboard.addWidgets(...this.egressProxy.widgets);
      new CfnOutput(this, 'EgressProxyHost', { value: `${this.egressProxy.proxyHost}:${this.egressProxy.port}` });
    }

    if (this.ingress && c.ingress) {
      this.ingress.grantRouteManagement(this.functions.Ingress.role, c.cellId, c.ingress.hostedZoneId, c.ingress.domain);
      // Issue 13: the reconcile reads each tenant's route; in repair mode it may put a drifted one back in place.
      this.ingress.grantRouteAudit(this.functions.Reconcile.role, c.cellId, c.ingress.hostedZoneId, c.ingress.domain, c.reconcile.mode === 'repair');
      for (const a of this.ingress.alarms) a.addAlarmAction(new cloudwatchActions.SnsAction(observability.topic));
      new CfnOutput(this, 'IngressDomain', { value: c.ingress.domain });
    }

    new CfnOutput(this, 'EventBusName', { value: this.signupEvents.bus.eventBusName });
    new CfnOutput(this, 'ProvisionStateMachineArn', { value: provisionArn });
    // For the operator CLI: OCTW_STATE_MACHINE_ARN_PREFIX (the kebab-case workflow name is appended).
    new CfnOutput(this, 'StateMachineArnPrefix', {
      value: this.formatArn({ service: 'states', resource: 'stateMachine', resourceName: `${c.prefix}-`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    });
    new CfnOutput(this, 'PurgeStateMachineArn', { value: purgeArn });
    new CfnOutput(this, 'TenantsTableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'ClusterName', { value: c.clusterName });
    new CfnOutput(this, 'TenantImageRepositoryUri', { value: tenantImages.repository.repositoryUri });
    new CfnOutput(this, 'Region', { value: Aws.REGION });
  }
}
