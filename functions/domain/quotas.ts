/**
 * The AWS quotas one tenant consumes, and the decision whether a cell has room for more (issue 13.5).
 * Pure: the readings (limits from Service Quotas, usage counted from the service APIs) come from
 * functions/adapters/quota-readings.ts.
 *
 * Quota codes (Service Quotas; checked against AWS documentation and public usage):
 * - `fargate` L-3032A538 "Fargate On-Demand vCPU resource count", L-36FBB829 "Fargate Spot vCPU
 *   resource count" (per Region; usage: CloudWatch AWS/Usage ResourceCount, the metric Service
 *   Quotas itself shows);
 * - `iam` L-FE177D64 "Roles per account" (global: Service Quotas answers it in us-east-1);
 * - `vpc` L-E79EC296 "VPC security groups per Region", L-0EA8095F "Inbound or outbound rules per
 *   security group", L-DF5E4CA3 "Network interfaces per Region";
 * - `elasticloadbalancing` L-B22855CB "Target Groups per Region" (only when the cell has ingress).
 * Three limits come from elsewhere than Service Quotas: EFS access points per file system (not in
 * Service Quotas; AWS: 10,000, raised through a support case) and Amazon Bedrock's "Application
 * inference profiles per account" (per Region; AWS's default 1,000, adjustable), both from the cell's
 * configuration, and the free addresses of the task subnets (a property of the subnets, read with
 * DescribeSubnets). Bedrock's quota is in Service Quotas, but its quota code could not be verified
 * from a public source (Bedrock's codes are not in its documentation, and public mentions of this
 * quota even disagree on its default): rather than read a guessed code, the guard takes the limit
 * from `quotaGuard.applicationInferenceProfiles` (set it to the account's applied value after an
 * increase) and counts the usage from Bedrock itself (ListInferenceProfiles, type APPLICATION).
 */
import * as z from '../shared/zod';
import { countSecurityGroupRules, PLATFORM_EGRESS_RULE_COUNT, type ApprovedPrefixList } from './allowlist';
import type { Plan } from './tenant';

export const QUOTA_IDS = [
  'fargateOnDemandVcpu',
  'fargateSpotVcpu',
  'iamRoles',
  'securityGroups',
  'rulesPerSecurityGroup',
  'networkInterfaces',
  'subnetAddresses',
  'efsAccessPoints',
  'targetGroups',
  'applicationInferenceProfiles',
] as const;
export type QuotaId = (typeof QUOTA_IDS)[number];

export interface QuotaSpec {
  readonly id: QuotaId;
  readonly name: string;
  /** Service Quotas service and quota code; absent for limits Service Quotas does not hold. */
  readonly serviceQuota?: { readonly serviceCode: string; readonly quotaCode: string };
  /**
   * `cumulative`: usage grows by each tenant (need is added to usage); `perTenant`: a bound one
   * tenant's own resource must stay within (rules in its security group), usage does not apply.
   */
  readonly kind: 'cumulative' | 'perTenant';
}

export const QUOTAS: Readonly<Record<QuotaId, QuotaSpec>> = {
  fargateOnDemandVcpu: { id: 'fargateOnDemandVcpu', name: 'Fargate On-Demand vCPU resource count', serviceQuota: { serviceCode: 'fargate', quotaCode: 'L-3032A538' }, kind: 'cumulative' },
  fargateSpotVcpu: { id: 'fargateSpotVcpu', name: 'Fargate Spot vCPU resource count', serviceQuota: { serviceCode: 'fargate', quotaCode: 'L-36FBB829' }, kind: 'cumulative' },
  iamRoles: { id: 'iamRoles', name: 'IAM roles per account', serviceQuota: { serviceCode: 'iam', quotaCode: 'L-FE177D64' }, kind: 'cumulative' },
  securityGroups: { id: 'securityGroups', name: 'VPC security groups per Region', serviceQuota: { serviceCode: 'vpc', quotaCode: 'L-E79EC296' }, kind: 'cumulative' },
  rulesPerSecurityGroup: { id: 'rulesPerSecurityGroup', name: 'Inbound or outbound rules per security group', serviceQuota: { serviceCode: 'vpc', quotaCode: 'L-0EA8095F' }, kind: 'perTenant' },
  networkInterfaces: { id: 'networkInterfaces', name: 'Network interfaces per Region', serviceQuota: { serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3' }, kind: 'cumulative' },
  subnetAddresses: { id: 'subnetAddresses', name: 'Free IPv4 addresses in the task subnets', kind: 'cumulative' },
  efsAccessPoints: { id: 'efsAccessPoints', name: 'EFS access points per file system', kind: 'cumulative' },
  targetGroups: { id: 'targetGroups', name: 'Target groups per Region', serviceQuota: { serviceCode: 'elasticloadbalancing', quotaCode: 'L-B22855CB' }, kind: 'cumulative' },
  applicationInferenceProfiles: { id: 'applicationInferenceProfiles', name: 'Application inference profiles per account', kind: 'cumulative' },
};

/** What one workload (a tenant, a rollout wave) would add, per quota. Absent = 0. */
export type QuotaNeeds = Partial<Record<QuotaId, number>>;

/** One quota as read: its limit and what is used now (for a perTenant quota, usage is 0). */
export interface QuotaReading {
  readonly id: QuotaId;
  readonly limit: number;
  readonly usage: number;
  /** Where the limit came from: `applied` (the account's value), `default` (AWS's default), `config`, `subnets`. */
  readonly source: 'applied' | 'default' | 'config' | 'subnets';
}

export interface QuotaRefusal {
  readonly id: QuotaId;
  readonly name: string;
  readonly code?: string;
  readonly limit: number;
  readonly usage: number;
  readonly reserved: number;
  readonly need: number;
  readonly reason: string;
}

export interface QuotaHeadroom {
  readonly id: QuotaId;
  readonly limit: number;
  readonly usage: number;
  /** limit - usage, never below 0 (for a perTenant quota: the limit). */
  readonly headroom: number;
  /** headroom as a percentage of the limit (0-100). */
  readonly headroomPercent: number;
}

/** The vCPU a plan's task reserves (ECS cpu units / 1024). */
export const vcpuOf = (plan: Pick<Plan, 'cpu'>): number => plan.cpu / 1024;

/** A plan's Bedrock models, as the quota checks read them (absent: none). */
export interface PlanModels {
  readonly bedrockModels?: readonly string[];
}

/**
 * The Bedrock application inference profiles provisioning creates for a tenant of `plan`: one per
 * distinct Bedrock model of the plan (functions/adapters/inference-profiles.ts `reconcile`, from the
 * Identity step); none on a plan without Bedrock models (models of its own providers, its own key).
 */
export const inferenceProfilesOf = (plan: PlanModels): number => new Set(plan.bedrockModels ?? []).size;

/**
 * What provisioning one tenant consumes: one task (its vCPU, one ENI, one subnet address), one
 * task role, one security group holding the platform's rules plus its allowlist's, one access
 * point, one Bedrock application inference profile per plan model, and one target group when the
 * cell has ingress.
 */
export function tenantNeeds(
  plan: Pick<Plan, 'cpu' | 'spot'> & PlanModels,
  options: { ingress: boolean; egressAllowlist?: readonly unknown[]; approvedPrefixLists?: readonly ApprovedPrefixList[] },
): QuotaNeeds {
  const profiles = inferenceProfilesOf(plan);
  return {
    [plan.spot ? 'fargateSpotVcpu' : 'fargateOnDemandVcpu']: vcpuOf(plan),
    iamRoles: 1,
    securityGroups: 1,
    rulesPerSecurityGroup: PLATFORM_EGRESS_RULE_COUNT + countSecurityGroupRules(options.egressAllowlist ?? [], options.approvedPrefixLists ?? []),
    networkInterfaces: 1,
    subnetAddresses: 1,
    efsAccessPoints: 1,
    ...(profiles > 0 ? { applicationInferenceProfiles: profiles } : {}),
    ...(options.ingress ? { targetGroups: 1 } : {}),
  };
}

/**
 * The quotas the cell's tenants consume: Spot only when a plan runs on Spot, target groups only with
 * ingress, Bedrock application inference profiles only when a plan has Bedrock models. The scheduled
 * headroom metric reads these; the stack alarms on the same list (infra/platform-stack.ts).
 */
export function cellQuotaIds(plans: readonly (Pick<Plan, 'spot'> & PlanModels)[], ingress: boolean): QuotaId[] {
  return QUOTA_IDS.filter(
    (id) =>
      (id !== 'targetGroups' || ingress) &&
      (id !== 'fargateSpotVcpu' || plans.some((p) => p.spot)) &&
      (id !== 'fargateOnDemandVcpu' || plans.some((p) => !p.spot)) &&
      (id !== 'applicationInferenceProfiles' || plans.some((p) => inferenceProfilesOf(p) > 0)),
  );
}

/** Multiplies every need (n tenants of the same shape). */
export function scaleNeeds(needs: QuotaNeeds, n: number): QuotaNeeds {
  return Object.fromEntries(Object.entries(needs).map(([id, v]) => [id, QUOTAS[id as QuotaId].kind === 'perTenant' ? v : (v ?? 0) * n]));
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/**
 * Refusals for `needs` against `readings`. `reserved` is what work in flight may still add without
 * it showing in usage yet (other tenants being provisioned): counted as if none of it existed yet,
 * so two signups racing for the last slot cannot both pass (conservative: near a limit, a burst can
 * be refused although one of them would have fitted).
 */
export function evaluateQuotas(needs: QuotaNeeds, readings: readonly QuotaReading[], reserved: QuotaNeeds = {}): QuotaRefusal[] {
  const refusals: QuotaRefusal[] = [];
  for (const r of readings) {
    const need = needs[r.id] ?? 0;
    if (need <= 0) continue;
    const spec = QUOTAS[r.id];
    const held = spec.kind === 'perTenant' ? 0 : reserved[r.id] ?? 0;
    const total = spec.kind === 'perTenant' ? need : r.usage + held + need;
    if (total <= r.limit) continue;
    const code = spec.serviceQuota ? `${spec.serviceQuota.serviceCode}/${spec.serviceQuota.quotaCode}` : undefined;
    const reason =
      spec.kind === 'perTenant'
        ? `${spec.name}: the tenant needs ${fmt(need)}, the limit is ${fmt(r.limit)}${code ? ` (${code})` : ''}`
        : `${spec.name}: ${fmt(r.usage)} used${held > 0 ? ` + ${fmt(held)} reserved by provisioning in flight` : ''} + ${fmt(need)} needed > limit ${fmt(r.limit)}${code ? ` (${code}, ${r.source})` : ` (${r.source})`}`;
    refusals.push({ id: r.id, name: spec.name, ...(code ? { code } : {}), limit: r.limit, usage: r.usage, reserved: held, need, reason });
  }
  return refusals;
}

export function headroomOf(readings: readonly QuotaReading[]): QuotaHeadroom[] {
  return readings.map((r) => {
    const used = QUOTAS[r.id].kind === 'perTenant' ? 0 : r.usage;
    const headroom = Math.max(0, r.limit - used);
    return { id: r.id, limit: r.limit, usage: used, headroom, headroomPercent: r.limit > 0 ? Math.round((headroom / r.limit) * 10_000) / 100 : 0 };
  });
}

/**
 * The cell's quota guard (cdk.json `quotaGuard`, handed to the Lifecycle function as QUOTA_GUARD_JSON).
 * Off by default: today's behaviour.
 */
export const QuotaGuardSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  /** EFS access points per file system (not in Service Quotas; AWS default 10,000, raised by a support case). */
  accessPointsPerFileSystem: z._default(z.int().check(z.positive()), 10_000),
  /**
   * Bedrock "Application inference profiles per account" (per Region): AWS's default 1,000, adjustable.
   * From the configuration, not Service Quotas: its quota code could not be verified (see above).
   */
  applicationInferenceProfiles: z._default(z.int().check(z.positive()), 1_000),
  /** Where Service Quotas answers for IAM (a global service): us-east-1 in the aws partition. */
  iamQuotaRegion: z._default(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/)), 'us-east-1'),
});
export type QuotaGuardSettings = z.infer<typeof QuotaGuardSettingsSchema>;
