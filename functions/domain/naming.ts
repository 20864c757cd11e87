/**
 * Every AWS name derives from the validated tenant id only, never from free text.
 */
import type { TenantId } from './tenant';

export const TAG_TENANT = 'octw:tenant';
export const TAG_CELL = 'octw:cell';
export const TAG_MANAGED_BY = 'octw:managed-by';
export const MANAGED_BY = 'octw';
export const TENANT_ROLE_PATH = '/octw/tenants/';
export const GATEWAY_PORT = 18789;
export const GATEWAY_CONTAINER = 'gateway';
export const CONFIG_INIT_CONTAINER = 'config-init';

export const names = {
  securityGroup: (id: TenantId) => `octw-${id}`,
  accessPointRoot: (id: TenantId) => `/tenants/${id}`,
  role: (id: TenantId) => `octw-tenant-${id}`,
  rolePolicy: (id: TenantId) => `octw-tenant-${id}`,
  secret: (id: TenantId) => `octw/tenants/${id}/gateway-token`,
  logGroup: (id: TenantId) => `/octw/tenants/${id}`,
  taskFamily: (id: TenantId) => `octw-${id}`,
  service: (id: TenantId) => `octw-${id}`,
} as const;

export function tenantTags(id: TenantId, cell: string): { key: string; value: string }[] {
  return [
    { key: TAG_TENANT, value: id },
    { key: TAG_CELL, value: cell },
    { key: TAG_MANAGED_BY, value: MANAGED_BY },
  ];
}
