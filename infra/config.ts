/**
 * The platform's configuration: every name, size, plan and retention of one cell, read from
 * `cdk.json` context (or `-c key=value` on the command line) and checked with zod.
 * Bad context fails synth with a message that names the key; absent keys take the documented default.
 */
import * as z from 'zod';
import { CELL_ID_PATTERN } from '../functions/domain/naming';
import { EgressRuleSchema, PlanCatalogueSchema } from '../functions/domain/tenant';
import { countSecurityGroupRules, MAX_EGRESS_RULES_PER_GROUP, PLATFORM_EGRESS_RULE_COUNT, validateAllowlist, validateEgressSettings } from '../functions/domain/allowlist';
import { ApprovedPrefixListSchema, type EgressSettings } from '../functions/domain/egress-settings';
import { activeEgressProxy, EgressProxyConfigSchema, type EgressProxyConfig } from './egress-config';
import { IngressContextSchema } from './ingress-config';

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_VALUES = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Context values given with `-c key=value` arrive as strings: accept JSON text for objects, arrays and numbers. */
const fromCli = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (/^[[{]/.test(text) || /^-?\d+(\.\d+)?$/.test(text) || text === 'true' || text === 'false') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return value;
    }
  }
  return value;
};

const cli = <T extends z.core.$ZodType>(schema: T) => z.preprocess(fromCli, schema);

const RetentionDaysSchema = z
  .int()
  .refine((d) => (LOG_RETENTION_VALUES as readonly number[]).includes(d), {
    error: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_VALUES.join(', ')}`,
  });

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const CidrSchema = z.string().refine(
  (cidr) => {
    const m = CIDR_PATTERN.exec(cidr);
    return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  },
  { error: 'must be an IPv4 CIDR such as 10.64.0.0/16' },
);

const NameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/, { error: 'must be letters, digits and "-" (max 63)' });

/** An existing VPC, given by ids (no synth-time lookup, so synth needs no credentials). */
export const ExistingVpcSchema = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: 'vpcId must look like vpc-0123abcd' }),
    vpcCidr: CidrSchema,
    availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/)).min(2).max(6),
    privateSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/)).min(2),
    privateSubnetRouteTableIds: z.array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/)).min(2),
  })
  .strict()
  .refine(
    (v) =>
      v.privateSubnetIds.length === v.availabilityZones.length &&
      v.privateSubnetRouteTableIds.length === v.availabilityZones.length,
    { error: 'existingVpc: give one private subnet id and one route table id per availability zone, in the same order' },
  );
export type ExistingVpc = z.infer<typeof ExistingVpcSchema>;

/** Placeholder digest: replace with the digest of the OpenClaw image you have checked (see README). */
export const PLACEHOLDER_IMAGE = `ghcr.io/openclaw/openclaw@sha256:${'0'.repeat(64)}`;

export const DEFAULT_PLANS = [
  {
    id: 'standard',
    cpu: 1024,
    memoryMiB: 2048,
    image: PLACEHOLDER_IMAGE,
    bedrockModels: ['anthropic.claude-sonnet-4-5-20250929-v1:0'],
    modelProviders: [],
    plugins: ['amazon-bedrock', 'memory-core'],
    maxAllowlistRules: 20,
    egress: {
      maxHostRules: 20,
      allow: { hosts: [], presets: ['telegram', 'slack', 'discord', 'whatsapp', 'msteams', 'matrix'] },
      awsEndpointExceptions: [],
    },
    spot: false,
  },
];

const ContextSchema = z
  .object({
    cellId: z
      .string()
      // No "--": it separates cell and tenant in tenant resource names (functions/domain/naming.ts).
      .regex(CELL_ID_PATTERN, { error: 'must be 3-16 characters of a-z, 0-9 and "-", starting with a letter, without "--"' })
      .default('cell-1'),
    stackName: NameSchema.optional(),
    tableName: NameSchema.optional(),
    clusterName: NameSchema.optional(),
    /** "dedicated": a bus named eventBusName (default octw-<cell>); "default": the account's default bus. */
    eventBus: z.enum(['dedicated', 'default']).default('dedicated'),
    eventBusName: NameSchema.optional(),
    /** `source` of the lifecycle events OCTW emits (TenantActive, ...). */
    eventSource: z.string().regex(/^[a-z][a-z0-9.-]{2,63}$/).default('octw.tenants'),
    /**
     * `source` that TenantSignedUp / TenantOffboarded events must carry to be acted on: the signup
     * service's, kept apart from OCTW's own so nothing OCTW emits can trigger a workflow.
     */
    signupSource: z.string().regex(/^[a-z][a-z0-9.-]{2,63}$/).default('octw.signup'),
    vpcCidr: CidrSchema.default('10.64.0.0/16'),
    azCount: cli(z.int().min(2).max(3)).default(3),
    privateSubnetCidrMask: cli(z.int().min(16).max(24)).default(19),
    /**
     * NAT gateways of a new VPC. Default: one per AZ, so no AZ's tenants share (or lose, with the AZ)
     * another AZ's NAT bandwidth; fewer saves cost at that price, 0 allows no internet egress at all.
     */
    natGateways: cli(z.int().min(0).max(3)).optional(),
    existingVpc: cli(ExistingVpcSchema).optional(),
    createVpcEndpoints: cli(z.boolean()).default(true),
    plans: cli(PlanCatalogueSchema)
      .refine((plans) => new Set(plans.map((p) => p.id)).size === plans.length, { error: 'plan ids must be unique' })
      .default(DEFAULT_PLANS),
    /** Allowlist rules every tenant gets in addition to its own (validated here like a tenant's). */
    defaultEgressAllowlist: cli(z.array(EgressRuleSchema).max(50)).default([]),
    /**
     * Networks no tenant may ever reach besides the VPC CIDR (always protected): secondary VPC
     * CIDRs, peered VPCs, transit gateway and on-premises ranges, IPv4 or IPv6.
     */
    protectedCidrs: cli(z.array(z.string()).max(100)).default([]),
    /**
     * Ranges of private or shared address space (RFC 1918, 100.64.0.0/10, 198.18.0.0/15, fc00::/7)
     * tenants may reach, e.g. an on-premises service; everything else there is refused.
     */
    allowedPrivateCidrs: cli(z.array(z.string()).max(50)).default([]),
    /**
     * Customer-managed prefix lists tenants may name in their allowlists, with their max entries and
     * entries (checked here as tenant CIDRs; counted as max entries per rule). AWS-managed lists are refused.
     */
    approvedPrefixLists: cli(z.array(ApprovedPrefixListSchema).max(20)).default([]),
    tenantLogRetentionDays: cli(RetentionDaysSchema).default(30),
    platformLogRetentionDays: cli(RetentionDaysSchema).default(90),
    secretRecoveryDays: cli(z.int().min(7).max(30)).default(7),
    dataRetentionDays: cli(z.int().min(0).max(3650)).default(30),
    uidBase: cli(z.int().min(2000).max(2 ** 31 - 100_000)).default(100_000),
    gatewayWaitSeconds: cli(z.int().min(10).max(280)).default(240),
    gatewayPollIntervalMs: cli(z.int().min(500).max(60_000)).default(2_000),
    /**
     * Seconds after a tenant role's creation before its first task definition is registered. ECS
     * refuses a role IAM has not propagated yet (reported 2-30 s), and every refusal spends the
     * account's RegisterTaskDefinition budget (20 burst, 1 per second) that all provisionings and
     * rollouts share; waiting first leaves that budget to calls that can succeed. A registration
     * still refused after the wait is retried by the workflow as before. 0 = no wait.
     */
    iamPropagationGraceSeconds: cli(z.int().min(0).max(60)).default(8),
    backupRetentionDays: cli(z.int().min(1).max(36_500)).default(35),
    backupSchedule: z.string().regex(/^cron\(.+\)$/, { error: 'must be a cron(...) expression' }).default('cron(0 3 * * ? *)'),
    /**
     * When the purge sweep looks for DEPROVISIONED tenants whose retention has ended and starts their
     * PurgeTenant runs: a `cron(...)` or `rate(...)` expression (UTC). Default: daily at 04:00 UTC.
     */
    purgeSweepSchedule: z
      .string()
      .regex(/^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, { error: 'must be a cron(...) or rate(...) expression' })
      .default('cron(0 4 * * ? *)'),
    /**
     * When the Usage function measures each tenant's EFS usage and acts on plan quotas (efsQuotaGiB):
     * a `cron(...)` or `rate(...)` expression. Default: hourly.
     */
    usageSchedule: z
      .string()
      .regex(/^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, { error: 'must be a cron(...) or rate(...) expression' })
      .default('rate(1 hour)'),
    /**
     * When the Budget function checks each tenant's Bedrock tokens this month against its plan's
     * `monthlyTokenBudget`: a `cron(...)` or `rate(...)` expression. Default: hourly.
     */
    budgetSchedule: z
      .string()
      .regex(/^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, { error: 'must be a cron(...) or rate(...) expression' })
      .default('rate(1 hour)'),
    /**
     * Issue 13: the scheduled reconcile (ReconcileCell): drift of every tenant's live resources
     * against its record, and the orphan sweep. `mode` "report" (default: metric, event, nothing
     * changed, read-only rights) or "repair" (re-applies what the record renders, removes orphans
     * after `orphanGraceHours`; the function then gets the matching write rights).
     */
    reconcile: z
      .object({
        schedule: z
          .string()
          .regex(/^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, { error: 'must be a cron(...) or rate(...) expression' })
          .default('rate(6 hours)'),
        mode: z.enum(['report', 'repair']).default('report'),
        orphanGraceHours: z.number().min(0).max(24 * 90).default(24),
        pageSize: z.int().min(1).max(1000).default(50),
      })
      .strict()
      .default({ schedule: 'rate(6 hours)', mode: 'report', orphanGraceHours: 24, pageSize: 50 }),
    /**
     * The quota guard (issue 13.5, infra/constructs/quota-guard.ts): before provisioning, the cell
     * checks every quota a tenant consumes against live usage and refuses a tenant that does not fit.
     * Off by default (today's behaviour). When on, each quota's headroom is published on `schedule`
     * and alarmed below `headroomAlarmPercent`.
     */
    quotaGuard: z
      .object({
        enabled: z.boolean().default(false),
        /** EFS access points per file system: not in Service Quotas (AWS default 10,000; raised by a support case). */
        accessPointsPerFileSystem: z.int().positive().default(10_000),
        /**
         * Bedrock "Application inference profiles per account" (per Region; AWS default 1,000, adjustable):
         * set to the account's applied value. From here, not Service Quotas: its quota code could not be
         * verified (functions/domain/quotas.ts). Usage is counted from Bedrock (ListInferenceProfiles).
         */
        applicationInferenceProfiles: z.int().positive().default(1_000),
        /** The Region Service Quotas answers IAM's (global) quotas in. */
        iamQuotaRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).default('us-east-1'),
        schedule: z
          .string()
          .regex(/^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, { error: 'must be a cron(...) or rate(...) expression' })
          .default('rate(15 minutes)'),
        headroomAlarmPercent: z.number().min(0).max(100).default(10),
      })
      .strict()
      .default({ enabled: false, accessPointsPerFileSystem: 10_000, applicationInferenceProfiles: 1_000, iamQuotaRegion: 'us-east-1', schedule: 'rate(15 minutes)', headroomAlarmPercent: 10 }),
    /**
     * Per-tenant restore and export (issue 13.4). `exportBuckets`: the only buckets `octw tenants export`
     * may write to (none by default: exports are refused by IAM until the operator names a bucket);
     * `maxExportBytes`: larger tenants are refused (the export runs in one Lambda invocation).
     */
    backup: z
      .object({
        exportBuckets: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)).default([]),
        maxExportBytes: z.int().positive().default(2 * 1024 ** 3),
      })
      .strict()
      .default({ exportBuckets: [], maxExportBytes: 2 * 1024 ** 3 }),
    alarmEmail: z.email().optional(),
    /**
     * The per-cell egress proxy (issue 10, infra/egress-config.ts): on once `image` is set (and
     * `enabled` is not false); tenants then reach the internet only through it.
     */
    egressProxy: cli(EgressProxyConfigSchema).optional(),
    /**
     * Ingress (issue 12, docs/ingress.md): `https://<tenant>.<domain>` for every ACTIVE tenant. Off when
     * absent; on with `domain`, `hostedZoneId` and `certificateArn` (see infra/ingress-config.ts).
     */
    ingress: cli(IngressContextSchema).optional(),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  })
  .strict()
  .refine((c) => c.existingVpc !== undefined || (c.natGateways ?? c.azCount) <= c.azCount, {
    error: 'natGateways must not exceed azCount',
    path: ['natGateways'],
  })
  .refine((c) => c.existingVpc === undefined || c.ingress === undefined, {
    error: 'ingress needs the public subnets of the VPC the platform creates; it is not available with existingVpc yet',
    path: ['ingress'],
  })
  .refine((c) => c.existingVpc !== undefined || Number(c.vpcCidr.split('/')[1]) < c.privateSubnetCidrMask, {
    error: 'privateSubnetCidrMask must be longer than the VPC prefix',
    path: ['privateSubnetCidrMask'],
  })
  .superRefine((c, ctx) => {
    // The cell's default allowlist passes the same checks as a tenant's (never the VPC, the whole
    // internet, metadata ranges...), within what a security group holds next to the platform rules.
    const vpcCidr = c.existingVpc?.vpcCidr ?? c.vpcCidr;
    const settings = egressSettingsOf(c);
    for (const issue of validateEgressSettings(settings)) {
      const [key, ...rest] = issue.path.split(/(?=[.[])/);
      ctx.addIssue({ code: 'custom', path: [key ?? 'protectedCidrs'], message: `${rest.join('')}: ${issue.message}`.replace(/^: /, '') });
    }
    const maxRules = MAX_EGRESS_RULES_PER_GROUP - PLATFORM_EGRESS_RULE_COUNT;
    const issues = validateAllowlist(c.defaultEgressAllowlist, {
      vpcCidrs: [vpcCidr, ...settings.protectedCidrs],
      maxRules,
      allowedPrivateCidrs: settings.allowedPrivateCidrs,
      approvedPrefixLists: settings.approvedPrefixLists,
    });
    for (const issue of issues) {
      ctx.addIssue({ code: 'custom', path: ['defaultEgressAllowlist'], message: `${issue.path.replace(/^egressAllowlist/, '')}: ${issue.message}` });
    }
    // Every approved list must fit in a group next to the platform rules and the cell defaults.
    const budget = maxRules - countSecurityGroupRules(c.defaultEgressAllowlist, settings.approvedPrefixLists);
    settings.approvedPrefixLists.forEach((list, i) => {
      if (list.maxEntries > budget) {
        ctx.addIssue({
          code: 'custom',
          path: ['approvedPrefixLists', i, 'maxEntries'],
          message: `${list.maxEntries} entries do not fit in a tenant security group: ${budget} rules remain after the platform rules and the cell defaults`,
        });
      }
    });
  });

export type ContextInput = z.input<typeof ContextSchema>;

/**
 * The cell's egress settings as the handlers receive them (EGRESS_SETTINGS_JSON): the VPC CIDR is
 * always the first protected network.
 */
export function egressSettingsOf(c: Pick<z.infer<typeof ContextSchema>, 'vpcCidr' | 'existingVpc' | 'protectedCidrs' | 'allowedPrivateCidrs' | 'approvedPrefixLists'>): EgressSettings {
  const vpcCidr = c.existingVpc?.vpcCidr ?? c.vpcCidr;
  return {
    protectedCidrs: [...new Set([vpcCidr, ...c.protectedCidrs])],
    allowedPrivateCidrs: c.allowedPrivateCidrs,
    approvedPrefixLists: c.approvedPrefixLists,
  };
}

export interface PlatformConfig extends Omit<z.infer<typeof ContextSchema>, 'stackName' | 'tableName' | 'clusterName' | 'eventBusName' | 'natGateways' | 'egressProxy'> {
  /** The deployed egress proxy; undefined when there is none (no image, or disabled). */
  readonly egressProxy: EgressProxyConfig | undefined;
  /** NAT gateways of a new VPC (default: azCount). */
  readonly natGateways: number;
  readonly stackName: string;
  readonly tableName: string;
  readonly clusterName: string;
  /** Name of the bus the platform uses ("default" for the default bus). */
  readonly eventBusName: string;
  /** Prefix of every name in this cell: `octw-<cellId>`. */
  readonly prefix: string;
}

/** The context keys this app reads; anything else in the `context` block is CDK's own. */
export const CONTEXT_KEYS = Object.keys(ContextSchema.shape) as (keyof z.infer<typeof ContextSchema>)[];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the context values (only the keys this app owns; CDK's own keys are ignored).
 * @throws ConfigError listing every bad key
 */
export function parseConfig(context: Readonly<Record<string, unknown>>): PlatformConfig {
  const own: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) if (context[key] !== undefined) own[key] = context[key];
  const parsed = ContextSchema.safeParse(own);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(context)'}: ${i.message}`);
    throw new ConfigError(`Invalid cdk.json context for the OCTW platform:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const prefix = `octw-${c.cellId}`;
  return {
    ...c,
    natGateways: c.natGateways ?? c.azCount,
    egressProxy: activeEgressProxy(c.egressProxy),
    prefix,
    stackName: c.stackName ?? `Octw-${c.cellId}`,
    tableName: c.tableName ?? `${prefix}-tenants`,
    clusterName: c.clusterName ?? prefix,
    eventBusName: c.eventBus === 'default' ? 'default' : (c.eventBusName ?? prefix),
  };
}

/** Reads this app's keys from a construct tree's context (App or Stack node). */
export function configFromNode(node: { tryGetContext(key: string): unknown }): PlatformConfig {
  const context: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) context[key] = node.tryGetContext(key);
  return parseConfig(context);
}
