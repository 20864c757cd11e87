/**
 * What a fleet rollout adds to the quotas a tenant consumes (issue 13.5, "before a rollout"). Pure:
 * the tenants come from the rollout record, their services' deployment configuration from ECS.
 *
 * Two things grow while a rollout runs:
 * - the **deployment surge**: an ECS rolling deployment may run up to
 *   floor(desiredCount × maximumPercent / 100) tasks of a service at once, i.e. that minus
 *   desiredCount extra tasks while the tenant is being updated, each with its own vCPU, ENI and
 *   subnet address. At most `concurrency` tenants are updated at once (the canary one at a time,
 *   a wave `maxConcurrency`), so the surge is the sum of the `concurrency` largest per-tenant
 *   surges. The platform creates its services with maximumPercent 100 and minimumHealthyPercent 0
 *   (one writer on the tenant's SQLite files: ECS stops the old task before it starts the new one),
 *   which makes the surge 0; a service whose configuration was changed (drift, or a future
 *   setting) is counted with its real figure, since the figure is read from each service.
 * - a **plan change** that grows vCPU: every ACTIVE tenant moved to the bigger plan needs the
 *   difference (on the target plan's capacity class; a move between on-demand and Spot needs the
 *   whole target vCPU on the new class). A plan that shrinks frees capacity only once the tenant
 *   has moved: not counted as room. Memory has no Fargate quota (Fargate's quotas count vCPU).
 * - a **plan change** that adds Bedrock models: every ACTIVE tenant moved gets an application
 *   inference profile per model its plan did not have (the update's ApplyRolePolicy step, Identity
 *   `updatePolicy` → inference-profiles.ts `reconcile`), which creates them before it deletes the
 *   profiles of the models the plan drops. What stays is the net growth of each tenant (a swapped
 *   model is net 0); while a tenant is being updated it holds both, so the tenants updated at once
 *   add their swapped profiles on top (the `concurrency` largest).
 * SUSPENDED tenants run nothing (desired count 0): a restage starts no task and makes no profile.
 */
import { vcpuOf, type PlanModels, type QuotaId, type QuotaNeeds } from './quotas';
import type { Plan } from './tenant';

type RolloutPlan = Pick<Plan, 'id' | 'cpu' | 'spot'> & PlanModels;

/** One tenant of the rollout as the quota check sees it. */
export interface RolloutQuotaTenant {
  readonly tenantId: string;
  readonly status: string;
  /** The plan it runs now (undefined: not in the catalogue any more; counted as no vCPU). */
  readonly plan: RolloutPlan | undefined;
  /** Its service's desired count and deployment maximumPercent, as read from ECS (undefined: no service found). */
  readonly service?: { readonly desiredCount: number; readonly maximumPercent: number } | undefined;
}

export interface RolloutQuotaInput {
  readonly tenants: readonly RolloutQuotaTenant[];
  /** The plan the rollout moves tenants to (undefined: image only). */
  readonly targetPlan?: RolloutPlan | undefined;
  /** Tenants updated at once (the waves' MaxConcurrency; 1 when there is only the canary). */
  readonly concurrency: number;
}

export interface RolloutQuotaNeeds {
  readonly needs: QuotaNeeds;
  /** How the needs were figured, for the rollout record and the refusal's reason. */
  readonly basis: {
    readonly concurrency: number;
    /** Extra tasks per updated tenant, as read from the services (most common value first). */
    readonly surgeTasksPerTenant: readonly number[];
    readonly surgeTasks: number;
    readonly planGrowthTenants: number;
    readonly planGrowthVcpu: number;
  };
}

const classOf = (p: Pick<Plan, 'spot'>): QuotaId => (p.spot ? 'fargateSpotVcpu' : 'fargateOnDemandVcpu');

/** Extra tasks an ECS rolling deployment may run beside the service's desired count. */
export function surgeTasks(desiredCount: number, maximumPercent: number): number {
  return Math.max(0, Math.floor((desiredCount * maximumPercent) / 100 + 1e-9) - desiredCount);
}

const add = (needs: Partial<Record<QuotaId, number>>, id: QuotaId, n: number) => {
  if (n > 0) needs[id] = (needs[id] ?? 0) + n;
};

export function rolloutQuotaNeeds(input: RolloutQuotaInput): RolloutQuotaNeeds {
  const needs: Partial<Record<QuotaId, number>> = {};
  const active = input.tenants.filter((t) => t.status === 'ACTIVE');

  // Plan growth: every ACTIVE tenant that moves to a bigger plan (or to another capacity class).
  let planGrowthTenants = 0;
  let planGrowthVcpu = 0;
  const target = input.targetPlan;
  if (target) {
    for (const t of active) {
      if (t.plan?.id === target.id) continue;
      const sameClass = t.plan !== undefined && classOf(t.plan) === classOf(target);
      const growth = vcpuOf(target) - (sameClass && t.plan ? vcpuOf(t.plan) : 0);
      if (growth <= 0) continue;
      planGrowthTenants += 1;
      planGrowthVcpu += growth;
      add(needs, classOf(target), growth);
    }
  }

  const concurrency = Math.max(1, input.concurrency);

  // Bedrock application inference profiles of the models a plan change adds.
  if (target) {
    const targetModels = new Set(target.bedrockModels ?? []);
    let netGrowth = 0;
    const swapped: number[] = [];
    for (const t of active) {
      if (t.plan?.id === target.id) continue;
      const current = new Set(t.plan?.bedrockModels ?? []);
      const added = [...targetModels].filter((m) => !current.has(m)).length;
      const dropped = [...current].filter((m) => !targetModels.has(m)).length;
      const growth = Math.max(0, added - dropped);
      netGrowth += growth;
      swapped.push(added - growth);
    }
    const held = swapped.sort((a, b) => b - a).slice(0, concurrency).reduce((sum, n) => sum + n, 0);
    add(needs, 'applicationInferenceProfiles', netGrowth + held);
  }

  // Deployment surge: the `concurrency` largest per-tenant surges (vCPU on the class the new task runs on).
  const surges = active
    .map((t) => {
      const extra = t.service ? surgeTasks(t.service.desiredCount, t.service.maximumPercent) : 0;
      const newPlan = target ?? t.plan;
      return { extra, vcpu: newPlan ? extra * vcpuOf(newPlan) : 0, cls: newPlan ? classOf(newPlan) : undefined };
    })
    .sort((a, b) => b.vcpu - a.vcpu || b.extra - a.extra);
  const inFlight = surges.slice(0, concurrency);
  let surgeTaskCount = 0;
  for (const s of inFlight) {
    surgeTaskCount += s.extra;
    if (s.cls) add(needs, s.cls, s.vcpu);
  }
  add(needs, 'networkInterfaces', surgeTaskCount);
  add(needs, 'subnetAddresses', surgeTaskCount);

  const counts = new Map<number, number>();
  for (const s of surges) counts.set(s.extra, (counts.get(s.extra) ?? 0) + 1);
  return {
    needs,
    basis: {
      concurrency,
      surgeTasksPerTenant: [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([extra]) => extra),
      surgeTasks: surgeTaskCount,
      planGrowthTenants,
      planGrowthVcpu,
    },
  };
}
