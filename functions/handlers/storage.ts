/**
 * The tenant's EFS access point: create (root /tenants/<id>, its uid/gid, 0700) and delete.
 * Deleting an access point leaves the tenant's files on EFS (purge removes them).
 */
import { EFSClient } from '@aws-sdk/client-efs';
import * as z from '../shared/zod';
import { AccessPoints } from '../adapters/access-points';
import { TenantStateConflictError } from '../domain/errors';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import * as vars from '../shared/env-vars';
import { makeHandler } from '../shared/handler';
import { CLIENT_CONFIG } from '../shared/aws-clients';
import { requireHeld, requireHeldForTeardown } from '../usecases/holder';

const env = loadEnv([vars.FILE_SYSTEM_ID]);
const { store, cell } = lifecycleDepsFromEnv();
const accessPoints = new AccessPoints(new EFSClient(CLIENT_CONFIG), env.FILE_SYSTEM_ID, cell);

const Input = z.object({
  action: z.enum(['ensure', 'delete']),
  tenantId: z.string().check(z.minLength(1)),
  executionArn: z.string().check(z.minLength(1)),
});

export const handler = makeHandler('Storage', Input, async ({ action, tenantId, executionArn }) => {
  const record = action === 'delete' ? await requireHeldForTeardown(store, tenantId, executionArn) : await requireHeld(store, tenantId, executionArn);
  if (action === 'ensure') {
    if (record.uid === undefined || record.gid === undefined) {
      throw new TenantStateConflictError(`tenant "${tenantId}" has no uid/gid yet; it must be claimed first`);
    }
    const ref = await accessPoints.ensure({
      tenantId,
      cell: record.cell,
      uid: record.uid,
      gid: record.gid,
      generation: record.generation,
    });
    await store.setResources(tenantId, executionArn, ref);
    return ref;
  }
  const result = await accessPoints.delete(tenantId, record.resources.accessPointId);
  await store.setResources(tenantId, executionArn, { accessPointId: null, accessPointArn: null });
  return { accessPoint: result };
});
