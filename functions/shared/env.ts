/**
 * Configuration from the environment, parsed with zod at cold start. A missing or malformed
 * variable fails the function at load time with a message naming it; there are no silent defaults.
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

/** Reports a problem from a transform: zod/mini hands a transform the parse payload, without classic zod's `addIssue`. */
function addIssue(ctx: z.core.ParsePayload, issue: { code: 'custom'; message: string }): void {
  ctx.issues.push({ ...issue, input: ctx.value });
}

const nonEmpty = z.string().check(z.trim()).check(z.minLength(1));

/** A variable holding JSON that `schema` must accept; errors name the variable and say what it should be. */
function jsonEnv<T extends z.ZodMiniType>(name: string, schema: T, what: string) {
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
    return result.data;
  }));
}
const positiveInt = z.coerce.number().check(z.int()).check(z.positive());

const plansJson = z.pipe(nonEmpty, z.transform((raw, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    addIssue(ctx, { code: 'custom', message: 'PLANS_JSON is not valid JSON' });
    return z.NEVER;
  }
  const result = PlanCatalogueSchema.safeParse(parsed);
  if (!result.success) {
    addIssue(ctx, { code: 'custom', message: `PLANS_JSON is not a plan catalogue: ${z.prettifyError(result.error)}` });
    return z.NEVER;
  }
  const ids = new Set<string>();
  for (const plan of result.data) {
    if (ids.has(plan.id)) {
      addIssue(ctx, { code: 'custom', message: `PLANS_JSON lists plan "${plan.id}" twice` });
      return z.NEVER;
    }
    ids.add(plan.id);
  }
  return result.data;
}));

const cidr = nonEmpty.check(z.regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { error: 'must be a CIDR' }));

const EnvSchema = z.object({
  TABLE_NAME: nonEmpty,
  EVENT_BUS_NAME: nonEmpty,
  EVENT_SOURCE: nonEmpty,
  CELL_ID: nonEmpty.check(z.regex(CELL_ID_PATTERN, { error: 'must be 3-16 characters of a-z, 0-9 and "-", start with a letter, not end with "-" and not contain "--"' })),
  PLANS_JSON: plansJson,
  VPC_ID: nonEmpty.check(z.regex(/^vpc-[0-9a-f]+$/)),
  /** One or more comma-separated CIDRs of the cell VPC (primary and secondary). */
  VPC_CIDR: z.pipe(z.pipe(nonEmpty, z.transform((v) => v.split(',').map((s) => s.trim()))), z.array(cidr).check(z.minLength(1))),
  SUBNET_IDS: z.pipe(z.pipe(nonEmpty, z.transform((v) => v.split(',').map((s) => s.trim()))), z.array(nonEmpty.check(z.regex(/^subnet-[0-9a-f]+$/))).check(z.minLength(1))),
  EFS_SECURITY_GROUP_ID: nonEmpty.check(z.regex(/^sg-[0-9a-f]+$/)),
  ENDPOINTS_SECURITY_GROUP_ID: nonEmpty.check(z.regex(/^sg-[0-9a-f]+$/)),
  FILE_SYSTEM_ID: nonEmpty.check(z.regex(/^fs-[0-9a-f]+$/)),
  FILE_SYSTEM_ARN: nonEmpty.check(z.regex(/^arn:aws[a-z-]*:elasticfilesystem:/)),
  PERMISSIONS_BOUNDARY_ARN: nonEmpty.check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\//)),
  CLUSTER_NAME: nonEmpty,
  EXECUTION_ROLE_ARN: nonEmpty.check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\//)),
  LOG_RETENTION_DAYS: positiveInt,
  SECRET_RECOVERY_DAYS: z.coerce.number().check(z.int()).check(z.gte(7)).check(z.lte(30)),
  DATA_RETENTION_DAYS: z.coerce.number().check(z.int()).check(z.gte(0)),
  PROVISION_STATE_MACHINE_ARN: nonEmpty.check(z.regex(/^arn:aws[a-z-]*:states:/)),
  /** The PurgeTenant state machine the scheduled purge sweep starts. */
  PURGE_STATE_MACHINE_ARN: nonEmpty.check(z.regex(/^arn:aws[a-z-]*:states:/)),
  /** The SuspendTenant state machine the Usage function starts for an over-quota tenant whose plan says "suspend". */
  SUSPEND_STATE_MACHINE_ARN: nonEmpty.check(z.regex(/^arn:aws[a-z-]*:states:/)),
  UID_BASE: z.coerce.number().check(z.int()).check(z.gte(2000)).check(z.lte(2 ** 31 - 100_000)),
  GATEWAY_WAIT_SECONDS: positiveInt,
  GATEWAY_POLL_INTERVAL_MS: positiveInt,
  /**
   * How long after its creation a tenant role is first offered to ECS (cdk.json
   * `iamPropagationGraceSeconds`, in ms here). ECS refuses a role it cannot assume yet, and each
   * refusal spends a token of the account's RegisterTaskDefinition budget (20 burst, 1 per second),
   * which every tenant of the cell shares; 0 turns the wait off.
   */
  IAM_PROPAGATION_GRACE_MS: z.coerce.number().check(z.int()).check(z.gte(0)).check(z.lte(60_000)),
  /** Egress rules every tenant of the cell gets besides the platform's own (cdk.json `defaultEgressAllowlist`). */
  DEFAULT_EGRESS_ALLOWLIST_JSON: jsonEnv('DEFAULT_EGRESS_ALLOWLIST_JSON', z.array(EgressRuleSchema).check(z.maxLength(50)), 'a list of egress rules'),
  /** Protected networks, allowed private ranges and approved prefix lists (cdk.json, checked at synth). */
  EGRESS_SETTINGS_JSON: jsonEnv('EGRESS_SETTINGS_JSON', EgressSettingsSchema, 'egress settings'),
  /** The cell's egress proxy as tenants reach it (issue 10), or `{"enabled":false}`. */
  EGRESS_PROXY_JSON: jsonEnv('EGRESS_PROXY_JSON', EgressProxySettingsSchema, 'egress proxy settings'),
  /** Ingress (issue 12): `{"enabled":false}` or the cell's route settings and ingress security group (infra/constructs/ingress.ts). */
  INGRESS_SETTINGS_JSON: jsonEnv('INGRESS_SETTINGS_JSON', IngressEnvSchema, 'ingress settings'),
  /** The quota guard (issue 13.5, cdk.json `quotaGuard`): `{"enabled":false}` or its settings. */
  QUOTA_GUARD_JSON: jsonEnv('QUOTA_GUARD_JSON', QuotaGuardSettingsSchema, 'quota guard settings'),
  /** Restore and export (issue 13.4, cdk.json `backup`): the vault, restore role and the Restore function's root mount. */
  BACKUP_JSON: jsonEnv('BACKUP_JSON', BackupSettingsSchema, 'backup settings'),
  /** Where the purge function's EFS access point (root /tenants) is mounted. */
  TENANTS_MOUNT_PATH: nonEmpty.check(z.regex(/^\/[^\0]*$/, { error: 'must be an absolute path' })),
  /** Issue 13: the cell's reconcile settings (functions/domain/reconcile-settings.ts). */
  RECONCILE_SETTINGS_JSON: jsonEnv('RECONCILE_SETTINGS_JSON', ReconcileSettingsSchema, 'reconcile settings'),
} satisfies Record<EnvVar, z.ZodMiniType>);

export type Env = z.infer<typeof EnvSchema>;

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Parses exactly the variables `keys` from `source` (default process.env). Throws naming every bad one. */
export function loadEnv<K extends EnvVar>(
  keys: readonly K[],
  source: NodeJS.ProcessEnv = process.env,
): Pick<Env, K> {
  const mask = Object.fromEntries(keys.map((k) => [k, true])) as Partial<Record<EnvVar, true>>;
  const result = z.pick(EnvSchema, mask).safeParse(source);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`Invalid environment: ${details}`);
  }
  return result.data;
}

/** AWS account and region of the running function (Lambda sets AWS_REGION; the account comes from the ARN). */
export function regionFromEnv(source: NodeJS.ProcessEnv = process.env): string {
  const region = source.AWS_REGION ?? source.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigurationError('Invalid environment: AWS_REGION is not set');
  return region;
}
