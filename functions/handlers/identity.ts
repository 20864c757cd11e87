/**
 * The tenant's identity: its IAM task role (created under /octw/tenants/ with the permissions
 * boundary, an inline policy naming only its own access point, secret and Bedrock inference
 * profiles; deleted with its policies) and, on a plan with Bedrock, its application inference
 * profiles (one per plan model, tagged for cost allocation), which the policy is scoped to. They
 * are made before the policy that names them, and removed with the role (compensation, deprovision).
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { IAMClient } from '@aws-sdk/client-iam';
import * as z from '../shared/zod';
import { InferenceProfiles } from '../adapters/inference-profiles';
import { arnParts, TaskRoles } from '../adapters/task-roles';
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';

const env = loadEnv([vars.PLANS_JSON, vars.PERMISSIONS_BOUNDARY_ARN, vars.FILE_SYSTEM_ARN, vars.CLUSTER_NAME]);
const { store, cell } = lifecycleDepsFromEnv();
const roles = new TaskRoles(new IAMClient(CLIENT_CONFIG), {
  cell,
  permissionsBoundaryArn: env.PERMISSIONS_BOUNDARY_ARN,
  fileSystemArn: env.FILE_SYSTEM_ARN,
  clusterName: env.CLUSTER_NAME,
});
const profiles = new InferenceProfiles(new BedrockClient(CLIENT_CONFIG), { cell, arn: arnParts(env.FILE_SYSTEM_ARN) });

const Input = z.object({
  /** ensure: create the role (or adopt it) and put its policy; updatePolicy: put the policy on the existing role. */
  action: z.enum(['ensure', 'updatePolicy', 'delete']),
  tenantId: z.string().check(z.minLength(1)),
  executionArn: z.string().check(z.minLength(1)),
});

export const handler = makeHandler('Identity', Input, async ({ action, tenantId, executionArn }) => {
  const record = action === 'delete' ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  if (action === 'ensure' || action === 'updatePolicy') {
    const accessPointArn = record.resources.accessPointArn;
    if (!accessPointArn) throw new TenantStateConflictError(`tenant "${tenantId}" has no access point yet; the role is scoped to it`);
    const plan = env.PLANS_JSON.find((p) => p.id === record.plan);
    if (!plan) throw new ValidationError(`tenant "${tenantId}" is on plan "${record.plan}", which is no longer in the catalogue`);
    const t = { tenantId, cell: record.cell };
    // Profiles first (the policy names them); a plan without Bedrock leaves the tenant none.
    const inferenceProfiles = await profiles.reconcile(t, plan.bedrockModels);
    await store.setResources(tenantId, executionArn, { inferenceProfiles: Object.keys(inferenceProfiles).length > 0 ? inferenceProfiles : null });
    const spec = { ...t, accessPointArn, bedrock: { profiles: inferenceProfiles, guardrail: plan.bedrockGuardrail } };
    const ref = action === 'ensure' ? await roles.ensure(spec) : await roles.putPolicy(spec);
    await store.setResources(tenantId, executionArn, ref);
    return { ...ref, inferenceProfiles: Object.keys(inferenceProfiles).length };
  }
  const result = await roles.delete(tenantId);
  await store.setResources(tenantId, executionArn, { roleName: null, roleArn: null, roleCreatedAt: null });
  const deletedProfiles = await profiles.deleteAll({ tenantId, cell: record.cell });
  await store.setResources(tenantId, executionArn, { inferenceProfiles: null });
  return { role: result, inferenceProfiles: deletedProfiles };
});
