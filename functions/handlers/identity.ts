/**
 * The tenant's IAM task role: created under /octw/tenants/ with the permissions boundary, an
 * inline policy naming only its own access point, secret and plan models; deleted with its policies.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod';
import { TaskRoles } from '../adapters/task-roles';
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import { makeHandler } from '../shared/handler';
import { traced } from '../shared/powertools';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';

const env = loadEnv(['PLANS_JSON', 'PERMISSIONS_BOUNDARY_ARN', 'FILE_SYSTEM_ARN', 'CLUSTER_NAME']);
const { store, cell } = lifecycleDepsFromEnv();
const roles = new TaskRoles(traced(new IAMClient({})), {
  cell,
  permissionsBoundaryArn: env.PERMISSIONS_BOUNDARY_ARN,
  fileSystemArn: env.FILE_SYSTEM_ARN,
  clusterName: env.CLUSTER_NAME,
});

const Input = z.object({
  /** ensure: create the role (or adopt it) and put its policy; updatePolicy: put the policy on the existing role. */
  action: z.enum(['ensure', 'updatePolicy', 'delete']),
  tenantId: z.string().min(1),
  executionArn: z.string().min(1),
});

export const handler = makeHandler('Identity', Input, async ({ action, tenantId, executionArn }) => {
  const record = action === 'delete' ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  if (action === 'ensure' || action === 'updatePolicy') {
    const accessPointArn = record.resources.accessPointArn;
    if (!accessPointArn) throw new TenantStateConflictError(`tenant "${tenantId}" has no access point yet; the role is scoped to it`);
    const plan = env.PLANS_JSON.find((p) => p.id === record.plan);
    if (!plan) throw new ValidationError(`tenant "${tenantId}" is on plan "${record.plan}", which is no longer in the catalogue`);
    const spec = { tenantId, cell: record.cell, accessPointArn, bedrockModels: plan.bedrockModels };
    const ref = action === 'ensure' ? await roles.ensure(spec) : await roles.putPolicy(spec);
    await store.setResources(tenantId, executionArn, ref);
    return ref;
  }
  const result = await roles.delete(tenantId);
  await store.setResources(tenantId, executionArn, { roleName: null, roleArn: null });
  return { role: result };
});
