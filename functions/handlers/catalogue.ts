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
  | 'TENANTS_MOUNT_PATH'
  | 'DEFAULT_EGRESS_ALLOWLIST_JSON'
  | 'EGRESS_SETTINGS_JSON'
  | 'EGRESS_PROXY_JSON'
  | 'INGRESS_SETTINGS_JSON';

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
    env: [...COMMON, 'PLANS_JSON', 'VPC_CIDR', 'DEFAULT_EGRESS_ALLOWLIST_JSON', 'EGRESS_SETTINGS_JSON', 'UID_BASE', 'DATA_RETENTION_DAYS', 'INGRESS_SETTINGS_JSON'],
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
      'INGRESS_SETTINGS_JSON',
    ],
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
} as const satisfies Record<string, HandlerSpec>;

export type HandlerKey = keyof typeof HANDLERS;

export interface StateMachineSpec {
  /** File under state-machines/. */
  readonly file: string;
  readonly description: string;
  /** Handlers it calls, as `${<Key>FunctionArn}` substitutions. */
  readonly handlers: readonly HandlerKey[];
  readonly timeoutMinutes: number;
}

export const STATE_MACHINES = {
  ProvisionTenant: {
    file: 'provision-tenant.asl.json',
    description: 'Signup to ACTIVE tenant, or FAILED with everything removed',
    handlers: ['Lifecycle', 'Network', 'Storage', 'Identity', 'Secrets', 'Egress', 'Gateway', 'Ingress'],
    timeoutMinutes: 60,
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
} as const satisfies Record<string, StateMachineSpec>;

export type StateMachineKey = keyof typeof STATE_MACHINES;

export const substitutionKey = (handler: HandlerKey): string => `${handler}FunctionArn`;
