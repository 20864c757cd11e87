/**
 * The local cell: the platform that `cdk deploy` would have created (VPC, subnets, EFS, cluster,
 * boundary, execution role, plans), as constants, and the handler environment derived from it.
 *
 * ORDER MATTERS: handlers read their environment at module load (functions/shared/env.ts fails fast).
 * Call `applyHandlerEnv(...)` BEFORE the first `import('functions/handlers/...')`:
 *   - in a test file: apply in `beforeAll`, then `await import(...)` the handlers (dynamic import), or
 *   - in jest `setupFiles` (runs before the test file's static imports), or
 *   - in the demo: apply, then dynamic-import the handlers.
 * A static `import { handler } from '.../handlers/x'` at the top of a test file runs before
 * `beforeAll` and would see no environment.
 */
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EnvVar } from '../../functions/handlers/catalogue';
import type { Plan } from '../../functions/domain/tenant';

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

/** Loopback port of the model stub inside each task's network namespace (plan "offline"). */
export const LOCAL_MODEL_STUB_PORT = 18790;
/** The stub of the offline plan's bring-your-own-key provider (a second stub, so a test can tell which one answered). */
export const LOCAL_BYOK_STUB_PORT = 18791;

const IMAGE_DIGEST = 'sha256:' + '0123456789abcdef'.repeat(4);

export const LOCAL_PLANS: readonly Plan[] = [
  {
    id: 'standard',
    cpu: 1024,
    memoryMiB: 2048,
    image: `ghcr.io/openclaw/openclaw@${IMAGE_DIGEST}`,
    bedrockModels: ['anthropic.claude-sonnet-4-5-20250929-v1:0'],
    modelProviders: [],
    plugins: ['amazon-bedrock', 'memory-core'],
    maxAllowlistRules: 10,
    // Channel presets only: a host of the tenant's own choosing is refused.
    egress: { maxHostRules: 10, allow: { hosts: [], presets: ['telegram', 'slack', 'discord'] }, awsEndpointExceptions: [] },
    // Channels a tenant may connect (octw tenants channels add); each adds its plugin and preset hosts.
    channels: ['telegram', 'slack', 'discord'],
    spot: false,
  },
  {
    id: 'pro',
    cpu: 2048,
    memoryMiB: 4096,
    image: `ghcr.io/openclaw/openclaw@${IMAGE_DIGEST}`,
    bedrockModels: ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-haiku-4-5-20251001-v1:0'],
    modelProviders: [],
    plugins: ['amazon-bedrock', 'memory-core'],
    maxAllowlistRules: 20,
    egress: {
      maxHostRules: 20,
      allow: { hosts: [{ host: '*.example.net', ports: [443] }], presets: ['telegram', 'slack', 'discord', 'anthropic', 'openai'] },
      awsEndpointExceptions: [],
    },
    // Channels a tenant may connect (octw tenants channels add); each adds its plugin and preset hosts.
    channels: ['telegram', 'slack', 'discord'],
    spot: false,
  },
  {
    // A model the gateway reaches offline: OpenClaw's custom provider pointed at the OpenAI-compatible
    // stub (conformance/lib/model-stub.mjs) on loopback inside the task's network namespace. The
    // npm package set carries every plugin it allows, so the real gateway starts from it
    // (npm run conformance; the demo with --real-gateway).
    id: 'offline',
    cpu: 1024,
    memoryMiB: 2048,
    image: `ghcr.io/openclaw/openclaw@${IMAGE_DIGEST}`,
    bedrockModels: [],
    modelProviders: [
      { id: 'stub', baseUrl: `http://127.0.0.1:${LOCAL_MODEL_STUB_PORT}/v1`, api: 'openai-completions', apiKey: 'none', models: [{ id: 'octw-stub-1', name: 'OCTW stub model' }] },
      // Bring your own key: a tenant that stores its key (a tenant credential) and names it in an
      // update gets this provider, its key injected as OCTW_MODEL_BYOK_API_KEY.
      { id: 'byok', baseUrl: `http://127.0.0.1:${LOCAL_BYOK_STUB_PORT}/v1`, api: 'openai-completions', apiKey: 'tenant', models: [{ id: 'octw-stub-1', name: 'OCTW stub model (tenant key)' }] },
    ],
    plugins: ['memory-core'],
    maxAllowlistRules: 10,
    egress: { maxHostRules: 10, allow: { hosts: [], presets: ['telegram'] }, awsEndpointExceptions: [] },
    // Channels a tenant may connect (octw tenants channels add); each adds its plugin and preset hosts.
    channels: ['telegram', 'slack', 'discord'],
    spot: false,
  },
];

/** What `cdk deploy` would have created for one cell, as the local cloud needs it. */
export interface LocalCell {
  readonly cellId: string;
  readonly account: string;
  readonly region: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly subnetIds: readonly string[];
  readonly subnetCidrs: readonly string[];
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly efsSecurityGroupId: string;
  readonly endpointsSecurityGroupId: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly permissionsBoundaryArn: string;
  readonly executionRoleArn: string;
  readonly plans: readonly Plan[];
  readonly eventSource: string;
  readonly eventBusName: string;
  readonly uidBase: number;
  readonly gatewayWaitSeconds: number;
  readonly gatewayPollIntervalMs: number;
  /** The Gateway function's wait for a new role (infra/config.ts default 8 s, on the fast clock). */
  readonly iamPropagationGraceMs: number;
  readonly logRetentionDays: number;
  readonly secretRecoveryDays: number;
  readonly dataRetentionDays: number;
}

export const LOCAL_CELL = {
  cellId: 'local',
  account: LOCAL_ACCOUNT,
  region: LOCAL_REGION,
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.40.0.0/16',
  subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
  /** Subnet CIDRs, for a fake that allocates ENI addresses. */
  subnetCidrs: ['10.40.0.0/20', '10.40.16.0/20'],
  fileSystemId: 'fs-0123456789abcdef0',
  fileSystemArn: `arn:aws:elasticfilesystem:${LOCAL_REGION}:${LOCAL_ACCOUNT}:file-system/fs-0123456789abcdef0`,
  efsSecurityGroupId: 'sg-0e0f5000000000001',
  endpointsSecurityGroupId: 'sg-0e0d9000000000002',
  clusterName: 'octw-local',
  clusterArn: `arn:aws:ecs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:cluster/octw-local`,
  permissionsBoundaryArn: `arn:aws:iam::${LOCAL_ACCOUNT}:policy/octw-tenant-boundary`,
  executionRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/octw-local-task-execution`,
  plans: LOCAL_PLANS,
  eventSource: 'octw.tenants',
  eventBusName: 'octw-local',
  uidBase: 200_000,
  gatewayWaitSeconds: 120,
  gatewayPollIntervalMs: 20,
  iamPropagationGraceMs: 8,
  logRetentionDays: 30,
  secretRecoveryDays: 7,
  dataRetentionDays: 30,
} as const satisfies LocalCell;

/**
 * A second cell in the same account and Region, sharing the first cell's VPC (the `existingVpc`
 * layout) but with its own file system, cluster, boundary, bus and table: the layout in which
 * names unique per account or per VPC must carry the cell id. Same uid base, so the same tenant id
 * can even get the same uid in both cells.
 */
export const LOCAL_CELL_B: LocalCell = {
  ...LOCAL_CELL,
  cellId: 'local-b',
  fileSystemId: 'fs-0b0b0b0b0b0b0b0b0',
  fileSystemArn: `arn:aws:elasticfilesystem:${LOCAL_REGION}:${LOCAL_ACCOUNT}:file-system/fs-0b0b0b0b0b0b0b0b0`,
  clusterName: 'octw-local-b',
  clusterArn: `arn:aws:ecs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:cluster/octw-local-b`,
  permissionsBoundaryArn: `arn:aws:iam::${LOCAL_ACCOUNT}:policy/octw-local-b-tenant-boundary`,
  executionRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/octw-local-b-task-execution`,
  eventBusName: 'octw-local-b',
};

/** ARN of a state machine of the local cell, as CDK would name it. */
export function localStateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

export interface HandlerEnvOptions {
  /** The table this test file created (see dynamodb-local.ts uniqueTableName). */
  readonly tableName: string;
  /** Default: the local ProvisionTenant state machine ARN. */
  readonly provisionStateMachineArn?: string;
  /** The local directory standing in for the EFS `/tenants` directory (purge). */
  readonly tenantsMountPath?: string;
  /** Per-variable overrides, e.g. a shorter GATEWAY_WAIT_SECONDS. */
  readonly overrides?: Partial<Record<EnvVar, string>>;
}

/** Every variable of catalogue's EnvVar, as strings, for the local cell. */
export function handlerEnv(options: HandlerEnvOptions, cell: LocalCell = LOCAL_CELL): Record<EnvVar, string> {
  const env: Record<EnvVar, string> = {
    TABLE_NAME: options.tableName,
    EVENT_BUS_NAME: cell.eventBusName,
    EVENT_SOURCE: cell.eventSource,
    CELL_ID: cell.cellId,
    PLANS_JSON: JSON.stringify(cell.plans),
    VPC_ID: cell.vpcId,
    VPC_CIDR: cell.vpcCidr,
    SUBNET_IDS: cell.subnetIds.join(','),
    EFS_SECURITY_GROUP_ID: cell.efsSecurityGroupId,
    ENDPOINTS_SECURITY_GROUP_ID: cell.endpointsSecurityGroupId,
    FILE_SYSTEM_ID: cell.fileSystemId,
    FILE_SYSTEM_ARN: cell.fileSystemArn,
    PERMISSIONS_BOUNDARY_ARN: cell.permissionsBoundaryArn,
    CLUSTER_NAME: cell.clusterName,
    EXECUTION_ROLE_ARN: cell.executionRoleArn,
    LOG_RETENTION_DAYS: String(cell.logRetentionDays),
    SECRET_RECOVERY_DAYS: String(cell.secretRecoveryDays),
    DATA_RETENTION_DAYS: String(cell.dataRetentionDays),
    PROVISION_STATE_MACHINE_ARN: options.provisionStateMachineArn ?? localStateMachineArn('ProvisionTenant'),
    PURGE_STATE_MACHINE_ARN: localStateMachineArn('PurgeTenant'),
    SUSPEND_STATE_MACHINE_ARN: localStateMachineArn('SuspendTenant'),
    UID_BASE: String(cell.uidBase),
    GATEWAY_WAIT_SECONDS: String(cell.gatewayWaitSeconds),
    GATEWAY_POLL_INTERVAL_MS: String(cell.gatewayPollIntervalMs),
    IAM_PROPAGATION_GRACE_MS: String(cell.iamPropagationGraceMs),
    DEFAULT_EGRESS_ALLOWLIST_JSON: '[]',
    EGRESS_SETTINGS_JSON: JSON.stringify({ protectedCidrs: [cell.vpcCidr], allowedPrivateCidrs: [], approvedPrefixLists: [] }),
    // No proxy unless the local cloud creates its policy table (local-cloud.ts does).
    EGRESS_PROXY_JSON: JSON.stringify({ enabled: false }),
    TENANTS_MOUNT_PATH: options.tenantsMountPath ?? join(tmpdir(), 'octw-local-efs', 'tenants'),
    // Off unless the local cloud is started with `ingress` (it then seeds the shards and sets this).
    INGRESS_SETTINGS_JSON: JSON.stringify({ enabled: false }),
    // Issue 13: report-only unless a test asks for repair.
    RECONCILE_SETTINGS_JSON: JSON.stringify({ mode: 'report', orphanGraceHours: 24, pageSize: 50 }),
    // Off unless a test turns it on (issue 13.5): today's behaviour.
    QUOTA_GUARD_JSON: JSON.stringify({ enabled: false }),
    // Issue 13.4: the Restore function sees the file system's root; /tenants is TENANTS_MOUNT_PATH's parent here.
    BACKUP_JSON: JSON.stringify({
      vaultName: `octw-${cell.cellId}-tenants`,
      restoreRoleArn: `arn:aws:iam::${cell.account}:role/octw-${cell.cellId}-backup-restore`,
      fileSystemMountPath: dirname(options.tenantsMountPath ?? join(tmpdir(), 'octw-local-efs', 'tenants')),
      resumeStateMachineArn: localStateMachineArn('ResumeTenant'),
    }),
  };
  return { ...env, ...options.overrides };
}

/**
 * Sets the handler environment on process.env (plus region and dummy credentials if absent).
 * Returns a function that restores the previous values.
 */
export function applyHandlerEnv(options: HandlerEnvOptions, cell: LocalCell = LOCAL_CELL): () => void {
  const values: Record<string, string> = { ...handlerEnv(options, cell) };
  values.AWS_REGION = process.env.AWS_REGION ?? cell.region;
  values.AWS_ACCESS_KEY_ID = process.env.AWS_ACCESS_KEY_ID ?? 'AKIALOCALOCTW0000000';
  values.AWS_SECRET_ACCESS_KEY = process.env.AWS_SECRET_ACCESS_KEY ?? 'local-secret-not-used';
  const previous = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(values)) {
    previous.set(key, process.env[key]);
    process.env[key] = value;
  }
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
