/**
 * The Lambda functions of the control plane and the state machines that call them.
 * Pure data shared by the CDK app (infra/) and the local cloud (test/local-cloud/): one list,
 * so a function that exists locally exists in the cloud with the same substitution key.
 *
 * ASL files refer to a function as `${<Key>FunctionArn}`, e.g. `${LifecycleFunctionArn}`.
 */
export interface HandlerSpec {
  /** File under functions/handlers/ exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  /** Environment variables the handler requires (see functions/shared/env.ts). */
  readonly env: readonly EnvVar[];
}

export type EnvVar =
  | 'TABLE_NAME'
  | 'EVENT_BUS_NAME'
  | 'EVENT_SOURCE'
  | 'CELL_ID'
  | 'PLANS_JSON'
  | 'VPC_ID'
  | 'VPC_CIDR'
  | 'SUBNET_IDS'
  | 'EFS_SECURITY_GROUP_ID'
  | 'ENDPOINTS_SECURITY_GROUP_ID'
  | 'FILE_SYSTEM_ID'
  | 'FILE_SYSTEM_ARN'
  | 'PERMISSIONS_BOUNDARY_ARN'
  | 'CLUSTER_NAME'
  | 'EXECUTION_ROLE_ARN'
  | 'LOG_RETENTION_DAYS'
  | 'SECRET_RECOVERY_DAYS'
  | 'DATA_RETENTION_DAYS'
  | 'PROVISION_STATE_MACHINE_ARN'
  | 'PURGE_STATE_MACHINE_ARN'
  | 'SUSPEND_STATE_MACHINE_ARN'
  | 'UID_BASE'
  | 'GATEWAY_WAIT_SECONDS'
  | 'GATEWAY_POLL_INTERVAL_MS'
  | 'IAM_PROPAGATION_GRACE_MS'
  | 'TENANTS_MOUNT_PATH'
  | 'DEFAULT_EGRESS_ALLOWLIST_JSON'
  | 'EGRESS_SETTINGS_JSON'
  | 'EGRESS_PROXY_JSON'
  | 'INGRESS_SETTINGS_JSON'
  | 'RECONCILE_SETTINGS_JSON'
  | 'QUOTA_GUARD_JSON'
  | 'BACKUP_JSON';

const COMMON: readonly EnvVar[] = ['TABLE_NAME', 'EVENT_BUS_NAME', 'EVENT_SOURCE', 'CELL_ID'];

export const HANDLERS = {
  /** TenantSignedUp events (via SQS): validate, record REQUESTED, start the provision run. */
  Intake: {
    entry: 'intake.ts',
    description: 'Validates TenantSignedUp events, records the tenant as REQUESTED, starts its provision workflow',
    memoryMiB: 512,
    timeoutSeconds: 30,
    env: [...COMMON, 'PLANS_JSON', 'VPC_CIDR', 'DEFAULT_EGRESS_ALLOWLIST_JSON', 'EGRESS_SETTINGS_JSON', 'PROVISION_STATE_MACHINE_ARN', 'INGRESS_SETTINGS_JSON'],
  },
  /** Tenant record transitions (register, claim, activate, fail, ...), audit items and lifecycle events. */
  Lifecycle: {
    entry: 'lifecycle.ts',
    description: 'Moves tenant records through the lifecycle with conditional writes; audit trail and events',
    memoryMiB: 512,
    timeoutSeconds: 30,
    env: [
      ...COMMON,
      'PLANS_JSON',
      'VPC_CIDR',
      'DEFAULT_EGRESS_ALLOWLIST_JSON',
      'EGRESS_SETTINGS_JSON',
      'UID_BASE',
      'DATA_RETENTION_DAYS',
      // The quota guard (issue 13.5): what it reads, and whether it is on.
      'QUOTA_GUARD_JSON',
      'SUBNET_IDS',
      'FILE_SYSTEM_ID',
      'INGRESS_SETTINGS_JSON',
    ],
  },
  /** Tenant security group: create with default-deny egress plus allowlist, update rules, delete. */
  Network: {
    entry: 'network.ts',
    description: 'Creates, updates and deletes tenant security groups',
    memoryMiB: 512,
    timeoutSeconds: 60,
    env: [...COMMON, 'VPC_ID', 'VPC_CIDR', 'EFS_SECURITY_GROUP_ID', 'ENDPOINTS_SECURITY_GROUP_ID', 'DEFAULT_EGRESS_ALLOWLIST_JSON', 'EGRESS_PROXY_JSON', 'INGRESS_SETTINGS_JSON'],
  },
  /**
   * The tenant's egress-proxy credential (URL secret, hash in the policy item) and its policy item in
   * the cell's egress policy table: the only writer of that table (issue 10).
   */
  Egress: {
    entry: 'egress.ts',
    description: "Writes tenants' egress-proxy credentials and policy items (the cell's egress policy table)",
    memoryMiB: 512,
    timeoutSeconds: 30,
    env: [...COMMON, 'EGRESS_PROXY_JSON'],
  },
  /** Tenant EFS access point. */
  Storage: {
    entry: 'storage.ts',
    description: 'Creates and deletes tenant EFS access points',
    memoryMiB: 512,
    timeoutSeconds: 60,
    env: [...COMMON, 'FILE_SYSTEM_ID'],
  },
  /** Tenant IAM task role (path /octw/tenants/, permissions boundary, scoped inline policy). */
  Identity: {
    entry: 'identity.ts',
    description: 'Creates, updates and deletes tenant task roles',
    memoryMiB: 512,
    timeoutSeconds: 60,
    env: [...COMMON, 'PLANS_JSON', 'PERMISSIONS_BOUNDARY_ARN', 'FILE_SYSTEM_ARN', 'CLUSTER_NAME'],
  },
  /** Tenant gateway token secret and log group (the log group is kept after a deprovision, deleted by purge). */
  Secrets: {
    entry: 'secrets.ts',
    description: 'Creates and deletes tenant gateway-token secrets and log groups',
    memoryMiB: 512,
    timeoutSeconds: 30,
    env: [...COMMON, 'SECRET_RECOVERY_DAYS', 'LOG_RETENTION_DAYS'],
  },
  /** Tenant task definition and ECS service; waits for steady state. */
  Gateway: {
    entry: 'gateway.ts',
    description: 'Registers tenant task definitions, creates/updates/deletes ECS services and waits for health',
    memoryMiB: 512,
    timeoutSeconds: 300,
    env: [
      ...COMMON,
      'PLANS_JSON',
      'CLUSTER_NAME',
      'SUBNET_IDS',
      'FILE_SYSTEM_ID',
      'EXECUTION_ROLE_ARN',
      'GATEWAY_WAIT_SECONDS',
      'GATEWAY_POLL_INTERVAL_MS',
      'IAM_PROPAGATION_GRACE_MS',
      'INGRESS_SETTINGS_JSON',
    ],
  },
  /**
   * Issue 14.1: the cell cluster's ECS events (deployment, task and service action), from an
   * EventBridge rule: resumes the workflows' gateway waits (task tokens stored per deployment).
   */
  GatewayEvents: {
    entry: 'gateway-events.ts',
    description: "Resumes the workflows' gateway waits from the cell cluster's ECS deployment and task events",
    memoryMiB: 256,
    timeoutSeconds: 30,
    env: ['TABLE_NAME', 'CELL_ID', 'CLUSTER_NAME'],
  },
  /**
   * Ingress (issue 12): the tenant's route on an ALB shard (target group, host rule, DNS record),
   * its authenticated handshake through the route, and its removal. A no-op when the cell has no ingress.
   */
  Ingress: {
    entry: 'ingress.ts',
    description: 'Creates, checks (authenticated handshake through the route), switches and removes tenant ingress routes',
    memoryMiB: 512,
    timeoutSeconds: 60,
    env: [...COMMON, 'INGRESS_SETTINGS_JSON'],
  },
  /**
   * Removes a deprovisioned tenant's directory from EFS (its own access point on /tenants, mounted at
   * TENANTS_MOUNT_PATH; runs in the VPC), and, as `sweep`, starts PurgeTenant for expired tenants.
   * Reads the table only: the PURGED transition is the Lifecycle function's.
   */
  Purge: {
    entry: 'purge.ts',
    description: 'Deletes /tenants/<id> on EFS for DEPROVISIONED tenants whose retention has ended (or on explicit request); daily sweep',
    memoryMiB: 1024,
    timeoutSeconds: 900,
    env: ['TABLE_NAME', 'TENANTS_MOUNT_PATH', 'PURGE_STATE_MACHINE_ARN'],
  },
  /**
   * Measures each tenant's EFS usage (walks /tenants/<id> through its own READ-ONLY access point on
   * /tenants, mounted at TENANTS_MOUNT_PATH; runs in the VPC), publishes it per tenant, and acts on
   * plans' quotas: TenantOverQuota event, and SuspendTenant when the plan says so. Scheduled.
   */
  Usage: {
    entry: 'usage.ts',
    description: 'Measures each tenant\'s EFS usage on a schedule; over the plan quota: alarm metric, TenantOverQuota event, optional suspension',
    memoryMiB: 1024,
    timeoutSeconds: 900,
    env: [...COMMON, 'PLANS_JSON', 'TENANTS_MOUNT_PATH', 'SUSPEND_STATE_MACHINE_ARN'],
  },
  /**
   * The monthly Bedrock token budget per plan (issue 11): reads each tenant's tokens this month from
   * its inference profiles' CloudWatch metrics; over the plan's budget, one TenantBudgetExceeded
   * event per tenant per month and SuspendTenant when the plan says so. Scheduled.
   */
  Budget: {
    entry: 'budget.ts',
    description: "Checks each tenant's Bedrock tokens this month against its plan's budget; over it: TenantBudgetExceeded event (once a month), optional suspension",
    memoryMiB: 512,
    timeoutSeconds: 900,
    env: [...COMMON, 'PLANS_JSON', 'SUSPEND_STATE_MACHINE_ARN'],
  },
  /**
   * Issue 13: drift of each tenant's live resources against what its record renders (the isolation
   * audit's checks), repaired through the workflows' adapters when the cell says so; the orphan
   * sweep; and the on-demand audit and reconcile of `octw audit` / `octw fleet reconcile`.
   */
  Reconcile: {
    entry: 'reconcile.ts',
    description: "Audits tenants' live resources against their records (drift, repair per cell setting) and sweeps orphans",
    memoryMiB: 1024,
    timeoutSeconds: 900,
    env: [
      ...COMMON,
      'PLANS_JSON',
      'VPC_ID',
      'SUBNET_IDS',
      'EFS_SECURITY_GROUP_ID',
      'ENDPOINTS_SECURITY_GROUP_ID',
      'DEFAULT_EGRESS_ALLOWLIST_JSON',
      'EGRESS_PROXY_JSON',
      'INGRESS_SETTINGS_JSON',
      'FILE_SYSTEM_ID',
      'FILE_SYSTEM_ARN',
      'PERMISSIONS_BOUNDARY_ARN',
      'CLUSTER_NAME',
      'EXECUTION_ROLE_ARN',
      'SECRET_RECOVERY_DAYS',
      'RECONCILE_SETTINGS_JSON',
    ],
  },
  /**
   * Issue 13.4: restore one tenant's directory from an AWS Backup recovery point (item-level restore,
   * staged, verified, swapped in while SUSPENDED) and export it to an operator's SSE-KMS S3 location.
   * Mounts the file system's ROOT through its own access point (uid 0; runs in the VPC): AWS Backup
   * restores into /aws-backup-restore_<datetime>, outside /tenants.
   */
  Restore: {
    entry: 'restore.ts',
    description: "Restores a tenant's directory from an AWS Backup recovery point (staged, verified, swapped in while suspended) and exports it to SSE-KMS S3",
    memoryMiB: 1024,
    timeoutSeconds: 900,
    env: ['TABLE_NAME', 'FILE_SYSTEM_ID', 'FILE_SYSTEM_ARN', 'SUSPEND_STATE_MACHINE_ARN', 'BACKUP_JSON'],
  },
  /**
   * Fleet rollouts (issue 13.1): the rollout workflow's own steps (begin, next wave, admit a tenant,
   * record its outcome, judge a wave, finish). Reads tenants, writes only the rollout record.
   */
  Rollout: {
    entry: 'rollout.ts',
    description: 'Fleet rollout steps: picks tenants and waves, admits each tenant, records outcomes, judges each wave against its failure tolerance',
    memoryMiB: 512,
    timeoutSeconds: 30,
    env: [
      'TABLE_NAME',
      'CELL_ID',
      'PLANS_JSON',
      // Its events (FleetRolloutQuotaRefused, FleetRolloutFinished).
      'EVENT_BUS_NAME',
      'EVENT_SOURCE',
      // The quota check before the first wave (issue 13.5): the services' deployment configuration and the quotas' readings.
      'CLUSTER_NAME',
      'QUOTA_GUARD_JSON',
      'SUBNET_IDS',
      'FILE_SYSTEM_ID',
    ],
  },
} as const satisfies Record<string, HandlerSpec>;

export type HandlerKey = keyof typeof HANDLERS;

export interface StateMachineSpec {
  /** File under state-machines/. */
  readonly file: string;
  readonly description: string;
  /** Handlers it calls, as `${<Key>FunctionArn}` substitutions. */
  readonly handlers: readonly HandlerKey[];
  readonly timeoutMinutes: number;
  /** Cell settings it branches on, as `${<Key>}` substitutions (CELL_SETTINGS). */
  readonly cellSettings?: readonly CellSettingKey[];
  /**
   * State machines it runs as nested executions (`states:startExecution.sync:2`), as
   * `${<Key>StateMachineArn}` substitutions; its role may start, describe and stop exactly those.
   */
  readonly startsStateMachines?: readonly string[];
}

/**
 * Cell settings a state machine may branch on, filled in as definition substitutions (strings):
 * - CellIngress: "on" when the cell has an ingress tier (issue 12), else "off": provisioning then
 *   skips its route steps, which would do nothing.
 */
export const CELL_SETTINGS = ['CellIngress'] as const;
export type CellSettingKey = (typeof CELL_SETTINGS)[number];

export const STATE_MACHINES = {
  ProvisionTenant: {
    file: 'provision-tenant.asl.json',
    description: 'Signup to ACTIVE tenant, or FAILED with everything removed',
    handlers: ['Lifecycle', 'Network', 'Storage', 'Identity', 'Secrets', 'Egress', 'Gateway', 'Ingress'],
    timeoutMinutes: 60,
    cellSettings: ['CellIngress'],
  },
  DeprovisionTenant: {
    file: 'deprovision-tenant.asl.json',
    description: 'ACTIVE | SUSPENDED | FAILED to DEPROVISIONED: removes every resource, keeps the data on EFS until purge',
    handlers: ['Lifecycle', 'Network', 'Storage', 'Identity', 'Secrets', 'Egress', 'Gateway', 'Ingress'],
    timeoutMinutes: 60,
  },
  SuspendTenant: {
    file: 'suspend-tenant.asl.json',
    description: 'ACTIVE to SUSPENDED: route to the maintenance page, desired count 0, resources and data untouched',
    handlers: ['Lifecycle', 'Gateway', 'Ingress'],
    timeoutMinutes: 30,
  },
  ResumeTenant: {
    file: 'resume-tenant.asl.json',
    description: 'SUSPENDED to ACTIVE: desired count 1, wait for a healthy task, authenticated handshake through the route, route live',
    handlers: ['Lifecycle', 'Gateway', 'Ingress'],
    timeoutMinutes: 30,
  },
  UpdateTenant: {
    file: 'update-tenant.asl.json',
    description: 'Allowlist, plan or image change of an ACTIVE tenant, rolled back to the previous revision if unhealthy',
    // Ingress: the route again when the tenant's OIDC provider changes (`apply`, issue 12).
    handlers: ['Lifecycle', 'Network', 'Identity', 'Egress', 'Gateway', 'Ingress'],
    timeoutMinutes: 60,
  },
  PurgeTenant: {
    file: 'purge-tenant.asl.json',
    description: "DEPROVISIONED to PURGED: deletes the tenant's data on EFS and its log group once its retention has ended (or at once on request)",
    handlers: ['Lifecycle', 'Purge', 'Secrets'],
    timeoutMinutes: 30,
  },
  /** Issue 13: the scheduled reconcile of the cell (pages of tenants, a Map over each), then the orphan sweep. */
  ReconcileCell: {
    file: 'reconcile-cell.asl.json',
    description: "Compares every tenant's live resources with its record (report or repair per cell setting), then sweeps orphans",
    handlers: ['Reconcile'],
    timeoutMinutes: 240,
  },
  RestoreTenant: {
    file: 'restore-tenant.asl.json',
    description: "Restores a tenant's directory from an AWS Backup recovery point: suspend if ACTIVE, item-level restore, verify, swap, resume",
    handlers: ['Restore'],
    timeoutMinutes: 1440,
  },
  ExportTenant: {
    file: 'export-tenant.asl.json',
    description: "Exports a tenant's directory to an operator-named S3 location, SSE-KMS encrypted, with a manifest",
    handlers: ['Restore'],
    timeoutMinutes: 30,
  },
  /** Issue 13.1: an image and/or plan change over the cell's tenants, canary then waves; each tenant through UpdateTenant. */
  RolloutFleet: {
    file: 'rollout-fleet.asl.json',
    description: 'Image or plan rollout over the cell: canary, then waves of UpdateTenant runs (suspended tenants restaged, not started); a wave over its failure tolerance is rolled back and stops it',
    handlers: ['Rollout', 'Gateway'],
    startsStateMachines: ['UpdateTenant'],
    timeoutMinutes: 2880,
  },
} as const satisfies Record<string, StateMachineSpec>;

export type StateMachineKey = keyof typeof STATE_MACHINES;

export const substitutionKey = (handler: HandlerKey): string => `${handler}FunctionArn`;
