/**
 * The environment variables of the functions, one definition each: its name and a parser built when
 * a function asks for it (`loadEnv([vars.TABLE_NAME, …])`, ./env.ts).
 *
 * One definition per variable, each an object holding a function, so that esbuild drops the
 * definitions a function does not use with everything only they import: a single schema object of
 * every variable made each function carry the plan catalogue, egress, ingress, quota and backup
 * schemas with the domain modules behind them (issue 14: 46 KB of the GatewayEvents bundle, which
 * reads three plain variables). Keep it so: no top-level call here may reference a domain schema.
 */
import * as z from './zod';
import type { EnvVar } from '../handlers/catalogue';
import { CELL_ID_PATTERN } from '../domain/naming';
import { EgressRuleSchema, PlanCatalogueSchema } from '../domain/tenant';
import { EgressSettingsSchema } from '../domain/egress-settings';
import { EgressProxySettingsSchema } from '../domain/egress-proxy-client';
import { IngressEnvSchema } from '../domain/ingress';
import { ReconcileSettingsSchema } from '../domain/reconcile-settings';
import { QuotaGuardSettingsSchema } from '../domain/quotas';
import { BackupSettingsSchema } from '../domain/backup-settings';

/** A variable: its name and its parser. */
export interface EnvVarDefinition<K extends EnvVar = EnvVar, S extends z.ZodMiniType = z.ZodMiniType> {
  readonly name: K;
  readonly schema: () => S;
}

/** Reports a problem from a transform: zod/mini hands a transform the parse payload, without classic zod's `addIssue`. */
function addIssue(ctx: z.core.ParsePayload, issue: { code: 'custom'; message: string }): void {
  ctx.issues.push({ ...issue, input: ctx.value });
}

const nonEmpty = z.string().check(z.trim()).check(z.minLength(1));

/**
 * A variable holding JSON that `schema` must accept and `check` (if given) find nothing wrong with;
 * errors name the variable and say what it should be.
 */
function jsonEnv<T extends z.ZodMiniType>(name: string, schema: T, what: string, check?: (value: z.infer<T>) => string | undefined) {
  return z.pipe(nonEmpty, z.transform((raw, ctx): z.infer<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      addIssue(ctx, { code: 'custom', message: `${name} is not valid JSON` });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      addIssue(ctx, { code: 'custom', message: `${name} is not ${what}: ${z.prettifyError(result.error)}` });
      return z.NEVER;
    }
    const problem = check?.(result.data);
    if (problem !== undefined) {
      addIssue(ctx, { code: 'custom', message: `${name} ${problem}` });
      return z.NEVER;
    }
    return result.data;
  }));
}
const positiveInt = z.coerce.number().check(z.int()).check(z.positive());

/** The plan catalogue: each plan id once. */
const plansJson = () =>
  jsonEnv('PLANS_JSON', PlanCatalogueSchema, 'a plan catalogue', (plans) => {
    const ids = new Set<string>();
    for (const plan of plans) {
      if (ids.has(plan.id)) return `lists plan "${plan.id}" twice`;
      ids.add(plan.id);
    }
    return undefined;
  });

const cidr = nonEmpty.check(z.regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { error: 'must be a CIDR' }));

export const TABLE_NAME = { name: 'TABLE_NAME', schema: () => nonEmpty } as const;
export const EVENT_BUS_NAME = { name: 'EVENT_BUS_NAME', schema: () => nonEmpty } as const;
export const EVENT_SOURCE = { name: 'EVENT_SOURCE', schema: () => nonEmpty } as const;
export const CELL_ID = { name: 'CELL_ID', schema: () => nonEmpty.check(z.regex(CELL_ID_PATTERN, { error: 'must be 3-16 characters of a-z, 0-9 and "-", start with a letter, not end with "-" and not contain "--"' })) } as const;
export const PLANS_JSON = { name: 'PLANS_JSON', schema: () => plansJson() } as const;
export const VPC_ID = { name: 'VPC_ID', schema: () => nonEmpty.check(z.regex(/^vpc-[0-9a-f]+$/)) } as const;
/** One or more comma-separated CIDRs of the cell VPC (primary and secondary). */
export const VPC_CIDR = { name: 'VPC_CIDR', schema: () => z.pipe(z.pipe(nonEmpty, z.transform((v) => v.split(',').map((s) => s.trim()))), z.array(cidr).check(z.minLength(1))) } as const;
export const SUBNET_IDS = { name: 'SUBNET_IDS', schema: () => z.pipe(z.pipe(nonEmpty, z.transform((v) => v.split(',').map((s) => s.trim()))), z.array(nonEmpty.check(z.regex(/^subnet-[0-9a-f]+$/))).check(z.minLength(1))) } as const;
export const EFS_SECURITY_GROUP_ID = { name: 'EFS_SECURITY_GROUP_ID', schema: () => nonEmpty.check(z.regex(/^sg-[0-9a-f]+$/)) } as const;
export const ENDPOINTS_SECURITY_GROUP_ID = { name: 'ENDPOINTS_SECURITY_GROUP_ID', schema: () => nonEmpty.check(z.regex(/^sg-[0-9a-f]+$/)) } as const;
export const FILE_SYSTEM_ID = { name: 'FILE_SYSTEM_ID', schema: () => nonEmpty.check(z.regex(/^fs-[0-9a-f]+$/)) } as const;
export const FILE_SYSTEM_ARN = { name: 'FILE_SYSTEM_ARN', schema: () => nonEmpty.check(z.regex(/^arn:aws[a-z-]*:elasticfilesystem:/)) } as const;
export const PERMISSIONS_BOUNDARY_ARN = { name: 'PERMISSIONS_BOUNDARY_ARN', schema: () => nonEmpty.check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\//)) } as const;
export const CLUSTER_NAME = { name: 'CLUSTER_NAME', schema: () => nonEmpty } as const;
export const EXECUTION_ROLE_ARN = { name: 'EXECUTION_ROLE_ARN', schema: () => nonEmpty.check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\//)) } as const;
export const LOG_RETENTION_DAYS = { name: 'LOG_RETENTION_DAYS', schema: () => positiveInt } as const;
export const SECRET_RECOVERY_DAYS = { name: 'SECRET_RECOVERY_DAYS', schema: () => z.coerce.number().check(z.int()).check(z.gte(7)).check(z.lte(30)) } as const;
export const DATA_RETENTION_DAYS = { name: 'DATA_RETENTION_DAYS', schema: () => z.coerce.number().check(z.int()).check(z.gte(0)) } as const;
export const PROVISION_STATE_MACHINE_ARN = { name: 'PROVISION_STATE_MACHINE_ARN', schema: () => nonEmpty.check(z.regex(/^arn:aws[a-z-]*:states:/)) } as const;
/** The PurgeTenant state machine the scheduled purge sweep starts. */
export const PURGE_STATE_MACHINE_ARN = { name: 'PURGE_STATE_MACHINE_ARN', schema: () => nonEmpty.check(z.regex(/^arn:aws[a-z-]*:states:/)) } as const;
/** The SuspendTenant state machine the Usage function starts for an over-quota tenant whose plan says "suspend". */
export const SUSPEND_STATE_MACHINE_ARN = { name: 'SUSPEND_STATE_MACHINE_ARN', schema: () => nonEmpty.check(z.regex(/^arn:aws[a-z-]*:states:/)) } as const;
export const UID_BASE = { name: 'UID_BASE', schema: () => z.coerce.number().check(z.int()).check(z.gte(2000)).check(z.lte(2 ** 31 - 100_000)) } as const;
export const GATEWAY_WAIT_SECONDS = { name: 'GATEWAY_WAIT_SECONDS', schema: () => positiveInt } as const;
export const GATEWAY_POLL_INTERVAL_MS = { name: 'GATEWAY_POLL_INTERVAL_MS', schema: () => positiveInt } as const;
/**
 * How long after its creation a tenant role is first offered to ECS (cdk.json
 * `iamPropagationGraceSeconds`, in ms here). ECS refuses a role it cannot assume yet, and each
 * refusal spends a token of the account's RegisterTaskDefinition budget (20 burst, 1 per second),
 * which every tenant of the cell shares; 0 turns the wait off.
 */
export const IAM_PROPAGATION_GRACE_MS = { name: 'IAM_PROPAGATION_GRACE_MS', schema: () => z.coerce.number().check(z.int()).check(z.gte(0)).check(z.lte(60_000)) } as const;
/** Egress rules every tenant of the cell gets besides the platform's own (cdk.json `defaultEgressAllowlist`). */
export const DEFAULT_EGRESS_ALLOWLIST_JSON = { name: 'DEFAULT_EGRESS_ALLOWLIST_JSON', schema: () => jsonEnv('DEFAULT_EGRESS_ALLOWLIST_JSON', z.array(EgressRuleSchema).check(z.maxLength(50)), 'a list of egress rules') } as const;
/** Protected networks, allowed private ranges and approved prefix lists (cdk.json, checked at synth). */
export const EGRESS_SETTINGS_JSON = { name: 'EGRESS_SETTINGS_JSON', schema: () => jsonEnv('EGRESS_SETTINGS_JSON', EgressSettingsSchema, 'egress settings') } as const;
/** The cell's egress proxy as tenants reach it (issue 10), or `{"enabled":false}`. */
export const EGRESS_PROXY_JSON = { name: 'EGRESS_PROXY_JSON', schema: () => jsonEnv('EGRESS_PROXY_JSON', EgressProxySettingsSchema, 'egress proxy settings') } as const;
/** Ingress (issue 12): `{"enabled":false}` or the cell's route settings and ingress security group (infra/constructs/ingress.ts). */
export const INGRESS_SETTINGS_JSON = { name: 'INGRESS_SETTINGS_JSON', schema: () => jsonEnv('INGRESS_SETTINGS_JSON', IngressEnvSchema, 'ingress settings') } as const;
/** The quota guard (issue 13.5, cdk.json `quotaGuard`): `{"enabled":false}` or its settings. */
export const QUOTA_GUARD_JSON = { name: 'QUOTA_GUARD_JSON', schema: () => jsonEnv('QUOTA_GUARD_JSON', QuotaGuardSettingsSchema, 'quota guard settings') } as const;
/** Restore and export (issue 13.4, cdk.json `backup`): the vault, restore role and the Restore function's root mount. */
export const BACKUP_JSON = { name: 'BACKUP_JSON', schema: () => jsonEnv('BACKUP_JSON', BackupSettingsSchema, 'backup settings') } as const;
/** Where the purge function's EFS access point (root /tenants) is mounted. */
export const TENANTS_MOUNT_PATH = { name: 'TENANTS_MOUNT_PATH', schema: () => nonEmpty.check(z.regex(/^\/[^\0]*$/, { error: 'must be an absolute path' })) } as const;
/** Issue 13: the cell's reconcile settings (functions/domain/reconcile-settings.ts). */
export const RECONCILE_SETTINGS_JSON = { name: 'RECONCILE_SETTINGS_JSON', schema: () => jsonEnv('RECONCILE_SETTINGS_JSON', ReconcileSettingsSchema, 'reconcile settings') } as const;

/** Every variable (tests and the local cloud; a function names only its own, so that the rest is not bundled). */
export const ALL_ENV_VARS = {
  TABLE_NAME,
  EVENT_BUS_NAME,
  EVENT_SOURCE,
  CELL_ID,
  PLANS_JSON,
  VPC_ID,
  VPC_CIDR,
  SUBNET_IDS,
  EFS_SECURITY_GROUP_ID,
  ENDPOINTS_SECURITY_GROUP_ID,
  FILE_SYSTEM_ID,
  FILE_SYSTEM_ARN,
  PERMISSIONS_BOUNDARY_ARN,
  CLUSTER_NAME,
  EXECUTION_ROLE_ARN,
  LOG_RETENTION_DAYS,
  SECRET_RECOVERY_DAYS,
  DATA_RETENTION_DAYS,
  PROVISION_STATE_MACHINE_ARN,
  PURGE_STATE_MACHINE_ARN,
  SUSPEND_STATE_MACHINE_ARN,
  UID_BASE,
  GATEWAY_WAIT_SECONDS,
  GATEWAY_POLL_INTERVAL_MS,
  IAM_PROPAGATION_GRACE_MS,
  DEFAULT_EGRESS_ALLOWLIST_JSON,
  EGRESS_SETTINGS_JSON,
  EGRESS_PROXY_JSON,
  INGRESS_SETTINGS_JSON,
  QUOTA_GUARD_JSON,
  BACKUP_JSON,
  TENANTS_MOUNT_PATH,
  RECONCILE_SETTINGS_JSON,
} satisfies { readonly [K in EnvVar]: EnvVarDefinition<K> };
