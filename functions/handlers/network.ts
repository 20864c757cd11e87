/**
 * The tenant's security group: create (or reconcile to the recorded allowlist) and delete.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import * as z from '../shared/zod';
import { SecurityGroups } from '../adapters/security-groups';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv, regionFromEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';

const env = loadEnv([vars.VPC_ID, vars.EFS_SECURITY_GROUP_ID, vars.ENDPOINTS_SECURITY_GROUP_ID, vars.DEFAULT_EGRESS_ALLOWLIST_JSON, vars.EGRESS_PROXY_JSON, vars.INGRESS_SETTINGS_JSON]);
const proxy = env.EGRESS_PROXY_JSON;
const { store, cell } = lifecycleDepsFromEnv();
const groups = new SecurityGroups(new EC2Client(CLIENT_CONFIG), {
  cell,
  vpcId: env.VPC_ID,
  region: regionFromEnv(),
  efsSecurityGroupId: env.EFS_SECURITY_GROUP_ID,
  endpointsSecurityGroupId: env.ENDPOINTS_SECURITY_GROUP_ID,
  defaultAllowlist: env.DEFAULT_EGRESS_ALLOWLIST_JSON,
  ...(proxy.enabled ? { egressProxy: { clientSecurityGroupId: proxy.clientSecurityGroupId, port: proxy.port } } : {}),
  ...(env.INGRESS_SETTINGS_JSON.enabled ? { ingressSecurityGroupId: env.INGRESS_SETTINGS_JSON.securityGroupId } : {}),
});

const Input = z.object({
  action: z.enum(['ensure', 'delete']),
  tenantId: z.string().check(z.minLength(1)),
  executionArn: z.string().check(z.minLength(1)),
});

export const handler = makeHandler('Network', Input, async ({ action, tenantId, executionArn }) => {
  const record = action === 'delete' ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  if (action === 'ensure') {
    const securityGroupId = await groups.ensure(tenantId, record.cell, record.egressAllowlist);
    await store.setResources(tenantId, executionArn, { securityGroupId });
    return { securityGroupId };
  }
  const result = await groups.delete(tenantId, record.resources.securityGroupId);
  await store.setResources(tenantId, executionArn, { securityGroupId: null });
  return { securityGroup: result };
});
