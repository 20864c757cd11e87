/**
 * Every AWS name derives from the validated cell id and tenant id only, never from free text.
 *
 * Tenant ids are unique per cell only, and several cells may share one account, Region and even
 * VPC (`existingVpc`). So every name that AWS keeps unique beyond one cell carries the cell id:
 * IAM role (and its inline policy), Secrets Manager secret, log group, task-definition family
 * (unique per account and Region), security group (unique per VPC, and a VPC can be shared), and the
 * ECS service too: its name is unique per cluster only and each cell has its own cluster, but with
 * the cell in it every tenant resource name tells which cell owns it, and the functions' IAM
 * statements can be scoped to the cell by one name prefix. The access point root stays
 * `/tenants/<id>`: it is a path on the cell's own file system.
 *
 * The separator between cell and tenant is `--`, which neither id may contain, and neither id
 * starts or ends with `-`: `octw-<cell>--` is a prefix no other cell's names share, and a name
 * decodes to exactly one (cell, tenant).
 */
import type { TenantId } from './tenant';

export const TAG_TENANT = 'octw:tenant';
export const TAG_CELL = 'octw:cell';
export const TAG_MANAGED_BY = 'octw:managed-by';
/**
 * On a tenant task role: the id of the tenant's access point, written at creation. The permissions
 * boundary admits EFS mounts only through the access point this tag names.
 */
export const TAG_ACCESS_POINT = 'octw:access-point';
export const MANAGED_BY = 'octw';
export const TENANT_ROLE_PATH = '/octw/tenants/';
export const GATEWAY_PORT = 18789;
export const GATEWAY_CONTAINER = 'gateway';
export const CONFIG_INIT_CONTAINER = 'config-init';

/** A cell id: 3-16 characters of a-z, 0-9 and "-", starting with a letter, not ending with "-", no "--". */
export const CELL_ID_PATTERN = /^(?!.*--)[a-z][a-z0-9-]{1,14}[a-z0-9]$/;

/** Which tenant of which cell: every per-tenant name needs both. */
export interface TenantRef {
  readonly cell: string;
  readonly tenantId: TenantId;
}

/** The name prefix every tenant resource of the cell shares (role, family, service, security group). */
export const cellNamePrefix = (cell: string) => `octw-${cell}--`;
/** Secret names of the cell's tenants start with this. */
export const cellSecretPrefix = (cell: string) => `octw/tenants/${cell}/`;
/** Every credential secret of one tenant starts with this (contract 4: `octw/tenants/<cell>/<id>/credentials/`). */
export const tenantCredentialPrefix = (t: TenantRef) => `${cellSecretPrefix(t.cell)}${t.tenantId}/credentials/`;
/** A credential secret's own name (after the prefix): 1-64 of a-z, 0-9 and "-". */
export const CREDENTIAL_NAME_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
/** The secret name a reference names: the name itself, or the name in an ARN (with or without AWS's 6-character suffix). */
export function referenceName(reference: string): string {
  const m = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/.exec(reference);
  if (!m) return reference;
  const name = m[1] as string;
  return /-[A-Za-z0-9]{6}$/.test(name) ? name.slice(0, -7) : name;
}
/** Log group names of the cell's tenants start with this. */
export const cellLogGroupPrefix = (cell: string) => `/octw/tenants/${cell}/`;

const tenantName = (t: TenantRef) => `${cellNamePrefix(t.cell)}${t.tenantId}`;

export const names = {
  securityGroup: tenantName,
  accessPointRoot: (id: TenantId) => `/tenants/${id}`,
  /** ≤ 55 characters (IAM allows 64): 5 + 16 (cell) + 2 + 32 (tenant). */
  role: tenantName,
  rolePolicy: tenantName,
  secret: (t: TenantRef) => `${cellSecretPrefix(t.cell)}${t.tenantId}/gateway-token`,
  /** The tenant's egress-proxy URL (with its proxy credential), issue 10. */
  proxySecret: (t: TenantRef) => `${cellSecretPrefix(t.cell)}${t.tenantId}/egress-proxy`,
  /** A tenant-owned credential (channel token, bring-your-own provider key): never read by the workflow, only referenced. */
  credentialSecret: (t: TenantRef, name: string) => `${tenantCredentialPrefix(t)}${name}`,
  logGroup: (t: TenantRef) => `${cellLogGroupPrefix(t.cell)}${t.tenantId}`,
  taskFamily: tenantName,
  service: tenantName,
} as const;

/** The tags every tenant resource carries, as a map. */
export function tenantTagMap(t: TenantRef): Record<string, string> {
  return { [TAG_TENANT]: t.tenantId, [TAG_CELL]: t.cell, [TAG_MANAGED_BY]: MANAGED_BY };
}

/**
 * Why a resource found under a tenant's deterministic name is not that tenant's of this cell: its
 * `octw:cell` and `octw:tenant` tags must both match. Returns the mismatches (empty: it is ours).
 */
export function ownershipProblems(tags: ReadonlyMap<string, string>, t: TenantRef): string[] {
  const problems: string[] = [];
  const cell = tags.get(TAG_CELL);
  const tenant = tags.get(TAG_TENANT);
  if (cell !== t.cell) problems.push(`${TAG_CELL}=${cell ?? '(none)'}`);
  if (tenant !== t.tenantId) problems.push(`${TAG_TENANT}=${tenant ?? '(none)'}`);
  return problems;
}

/** Tags in the shapes the SDKs return them, as a map. */
export function tagsOf(tags: readonly ({ Key?: string; Value?: string } | { key?: string; value?: string })[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of tags ?? []) {
    const key = 'Key' in t ? t.Key : 'key' in t ? t.key : undefined;
    const value = 'Value' in t ? t.Value : 'value' in t ? t.value : undefined;
    if (key !== undefined) m.set(key, value ?? '');
  }
  return m;
}

export function tenantTags(id: TenantId, cell: string): { key: string; value: string }[] {
  return [
    { key: TAG_TENANT, value: id },
    { key: TAG_CELL, value: cell },
    { key: TAG_MANAGED_BY, value: MANAGED_BY },
  ];
}
