/**
 * The deployment configuration of the cell's tenant services, as ECS holds it (issue 13.5, the quota
 * check before a rollout): desired count and maximumPercent per tenant, read with DescribeServices
 * (10 services a call, a few calls at once). Read-only. A service that is missing, INACTIVE or not
 * tagged as this cell's tenant is left out (the rollout's own steps deal with it).
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { names, ownershipProblems, tagsOf } from '../domain/naming';
import { awsCall } from '../shared/aws-errors';

export interface ServiceDeployment {
  readonly desiredCount: number;
  /** ECS's default when the service has none set: 200. */
  readonly maximumPercent: number;
}

export interface ServiceDeploymentReader {
  read(tenantIds: readonly string[]): Promise<Map<string, ServiceDeployment>>;
}

const BATCH = 10;
const PARALLEL = 4;

export class EcsServiceDeployments implements ServiceDeploymentReader {
  constructor(
    private readonly ecs: ECSClient,
    private readonly cfg: { cell: string; clusterName: string },
  ) {}

  async read(tenantIds: readonly string[]): Promise<Map<string, ServiceDeployment>> {
    const byName = new Map(tenantIds.map((tenantId) => [names.service({ cell: this.cfg.cell, tenantId }), tenantId]));
    const batches: string[][] = [];
    const all = [...byName.keys()];
    for (let i = 0; i < all.length; i += BATCH) batches.push(all.slice(i, i + BATCH));
    const out = new Map<string, ServiceDeployment>();
    for (let i = 0; i < batches.length; i += PARALLEL) {
      const pages = await Promise.all(
        batches.slice(i, i + PARALLEL).map((services) =>
          awsCall('ECS DescribeServices', () => this.ecs.send(new DescribeServicesCommand({ cluster: this.cfg.clusterName, services, include: ['TAGS'] }))),
        ),
      );
      for (const s of pages.flatMap((p) => p.services ?? [])) {
        const tenantId = s.serviceName ? byName.get(s.serviceName) : undefined;
        if (!tenantId || s.status !== 'ACTIVE') continue;
        if (ownershipProblems(tagsOf(s.tags), { cell: this.cfg.cell, tenantId }).length > 0) continue;
        out.set(tenantId, { desiredCount: s.desiredCount ?? 0, maximumPercent: s.deploymentConfiguration?.maximumPercent ?? 200 });
      }
    }
    return out;
  }
}
