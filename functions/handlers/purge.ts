/**
 * Deletes a deprovisioned tenant's data: the directory /tenants/<id> on EFS, seen by this
 * function through its own access point (root /tenants) mounted at TENANTS_MOUNT_PATH.
 * It deletes nothing else: only a DEPROVISIONED tenant, only after its retention has ended
 * (or when erasure is asked for explicitly), only the directory named by a validated tenant id.
 */
import { rm, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { z } from 'zod';
import { TenantStateConflictError } from '../domain/errors';
import { TenantIdSchema } from '../domain/tenant';
import { lifecycleDepsFromEnv } from '../shared/deps';
import { loadEnv } from '../shared/env';
import { makeHandler } from '../shared/handler';

const env = loadEnv(['TENANTS_MOUNT_PATH']);
const { store } = lifecycleDepsFromEnv();

const Input = z.object({
  action: z.literal('purgeData'),
  tenantId: TenantIdSchema,
  immediate: z.boolean().default(false),
});

/** The tenant's directory under the mount, refusing anything that would resolve elsewhere. */
export function tenantDirectory(mountPath: string, tenantId: string): string {
  const root = resolve(mountPath);
  const dir = resolve(root, TenantIdSchema.parse(tenantId));
  if (!dir.startsWith(root + sep) || dir.slice(root.length + 1).includes(sep)) {
    throw new TenantStateConflictError(`refusing to purge ${dir}: not a direct child of ${root}`);
  }
  return dir;
}

export const handler = makeHandler('Purge', Input, async ({ tenantId, immediate }) => {
  const record = await store.require(tenantId);
  if (record.status !== 'DEPROVISIONED') {
    throw new TenantStateConflictError(`refusing to purge tenant "${tenantId}": it is ${record.status}, only a DEPROVISIONED tenant's data can be purged`);
  }
  if (!immediate) {
    const until = record.dataRetainedUntil ? Date.parse(record.dataRetainedUntil) : Number.POSITIVE_INFINITY;
    if (Date.now() < until) {
      throw new TenantStateConflictError(
        `refusing to purge tenant "${tenantId}": its data is retained until ${record.dataRetainedUntil ?? '(unknown)'}; ask for immediate erasure to purge now`,
      );
    }
  }
  const dir = tenantDirectory(env.TENANTS_MOUNT_PATH, tenantId);
  const existed = await stat(dir).then(
    () => true,
    () => false,
  );
  await rm(dir, { recursive: true, force: true });
  return { tenantId, directory: `/tenants/${tenantId}`, removed: existed };
});
