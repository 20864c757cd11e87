/** IAM roles with inline policies and permissions boundary. Errors: IAM API Reference. */
import type * as iam from '@aws-sdk/client-iam';
import { DeleteConflictException, EntityAlreadyExistsException, InvalidInputException, MalformedPolicyDocumentException, NoSuchEntityException } from '@aws-sdk/client-iam';
import type { ResourceRef, TagMap } from './core';
import { mergeTags, tagRecord, tagsFromKeyValue, toKeyValue } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta, serviceError } from './errors';
import { TAG_ACCESS_POINT, TAG_CELL, TAG_TENANT } from '../../../functions/domain/naming';

/**
 * The tags the tenant permissions boundary reads through aws:PrincipalTag. The platform's IAM policy
 * (infra/constructs/binders.ts, Identity: NeverRetagTenantRoles) denies TagRole/UntagRole of these
 * keys on a role that already carries octw:tenant; the fake enforces that deny, as AWS would.
 */
export const PROTECTED_ROLE_TAG_KEYS: readonly string[] = [TAG_TENANT, TAG_CELL, TAG_ACCESS_POINT];

export interface Role {
  readonly roleName: string;
  readonly roleId: string;
  readonly arn: string;
  readonly path: string;
  readonly assumeRolePolicyDocument: string;
  readonly permissionsBoundary?: string;
  readonly description?: string;
  readonly maxSessionDuration: number;
  readonly tags: TagMap;
  readonly createdAt: number;
  readonly policies: Map<string, string>;
}

export class IamFake implements EmulatedService {
  readonly name = 'IAM' as const;
  /** Keyed by lower-cased name: IAM role names are unique case-insensitively. */
  readonly roles = new Map<string, Role>();

  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Issue 13.5 (quota guard): roles of the account the fake does not model (other workloads), counted
   * by GetAccountSummary, and the account's roles quota it reports (AWS default 1,000).
   */
  otherRoles = 0;
  rolesQuota = 1000;

  readonly operations = {
    /** Only the role entries the quota guard reads; IAM answers many more keys. */
    GetAccountSummary: op((): iam.GetAccountSummaryCommandOutput => ({
      $metadata: {},
      SummaryMap: { Roles: this.roles.size + this.otherRoles, RolesQuota: this.rolesQuota },
    })),
    CreateRole: op((i: iam.CreateRoleCommandInput): iam.CreateRoleCommandOutput => this.create(i)),
    GetRole: op((i: iam.GetRoleCommandInput): iam.GetRoleCommandOutput => ({ $metadata: {}, Role: this.shape(this.must(i.RoleName)) })),
    DeleteRole: op((i: iam.DeleteRoleCommandInput): iam.DeleteRoleCommandOutput => {
      const r = this.must(i.RoleName);
      if (r.policies.size > 0) {
        throw new DeleteConflictException({ message: 'Cannot delete entity, must delete policies first.', $metadata: meta(409) });
      }
      this.roles.delete(r.roleName.toLowerCase());
      return { $metadata: {} };
    }),
    PutRolePolicy: op((i: iam.PutRolePolicyCommandInput): iam.PutRolePolicyCommandOutput => {
      const r = this.must(i.RoleName);
      parsePolicy(i.PolicyDocument);
      r.policies.set(i.PolicyName!, i.PolicyDocument!);
      return { $metadata: {} };
    }),
    GetRolePolicy: op((i: iam.GetRolePolicyCommandInput): iam.GetRolePolicyCommandOutput => {
      const r = this.must(i.RoleName);
      const doc = r.policies.get(i.PolicyName ?? '');
      if (doc === undefined) {
        throw new NoSuchEntityException({ message: `The role policy with name ${i.PolicyName ?? ''} cannot be found.`, $metadata: meta(404) });
      }
      // IAM returns policy documents URL-encoded (RFC 3986), as the real GetRolePolicy does.
      return { $metadata: {}, RoleName: r.roleName, PolicyName: i.PolicyName!, PolicyDocument: encodeURIComponent(doc) };
    }),
    ListRoles: op((i: iam.ListRolesCommandInput): iam.ListRolesCommandOutput => this.list(i)),
    ListRolePolicies: op((i: iam.ListRolePoliciesCommandInput): iam.ListRolePoliciesCommandOutput => ({
      $metadata: {},
      PolicyNames: [...this.must(i.RoleName).policies.keys()].sort(),
      IsTruncated: false,
    })),
    DeleteRolePolicy: op((i: iam.DeleteRolePolicyCommandInput): iam.DeleteRolePolicyCommandOutput => {
      const r = this.must(i.RoleName);
      if (!r.policies.delete(i.PolicyName ?? '')) {
        throw new NoSuchEntityException({ message: `The role policy with name ${i.PolicyName ?? ''} cannot be found.`, $metadata: meta(404) });
      }
      return { $metadata: {} };
    }),
    TagRole: op((i: iam.TagRoleCommandInput): iam.TagRoleCommandOutput => {
      const r = this.must(i.RoleName);
      this.refuseRetag(r, 'TagRole', (i.Tags ?? []).map((t) => t.Key ?? ''));
      mergeTags(r.tags, tagsFromKeyValue(i.Tags));
      return { $metadata: {} };
    }),
    UntagRole: op((i: iam.UntagRoleCommandInput): iam.UntagRoleCommandOutput => {
      const r = this.must(i.RoleName);
      this.refuseRetag(r, 'UntagRole', i.TagKeys ?? []);
      for (const k of i.TagKeys ?? []) r.tags.delete(k);
      return { $metadata: {} };
    }),
    ListRoleTags: op((i: iam.ListRoleTagsCommandInput): iam.ListRoleTagsCommandOutput => ({
      $metadata: {},
      Tags: toKeyValue(this.must(i.RoleName).tags),
      IsTruncated: false,
    })),
  };

  /** The platform's explicit deny: an existing tenant role's octw:tenant / octw:cell / octw:access-point never change. */
  private refuseRetag(r: Role, action: 'TagRole' | 'UntagRole', keys: readonly string[]): void {
    if (!r.tags.has(TAG_TENANT) || !keys.some((k) => PROTECTED_ROLE_TAG_KEYS.includes(k))) return;
    throw serviceError(
      'IAM',
      'AccessDenied',
      `User: arn:aws:sts::${this.ctx.config.account}:assumed-role/octw-identity/fn is not authorized to perform: iam:${action} on resource: ${r.arn} with an explicit deny in an identity-based policy`,
      403,
    );
  }

  /**
   * ListRoles (IAM API Reference): roles whose path starts with PathPrefix (default "/"), sorted by
   * name, MaxItems 1-1000 (default 100), Marker/IsTruncated paging. As the real call, the listing
   * leaves out PermissionsBoundary and Tags (read them with GetRole / ListRoleTags).
   */
  private list(i: iam.ListRolesCommandInput): iam.ListRolesCommandOutput {
    const prefix = i.PathPrefix ?? '/';
    if (!prefix.startsWith('/')) throw new InvalidInputException({ message: `1 validation error detected: Value '${prefix}' at 'pathPrefix' failed to satisfy constraint`, $metadata: meta(400) });
    const max = i.MaxItems ?? 100;
    if (max < 1 || max > 1000) throw new InvalidInputException({ message: `1 validation error detected: Value '${max}' at 'maxItems' failed to satisfy constraint`, $metadata: meta(400) });
    const all = [...this.roles.values()].filter((r) => r.path.startsWith(prefix)).sort((a, b) => a.roleName.localeCompare(b.roleName));
    let start = 0;
    if (i.Marker !== undefined) {
      const m = /^fake-roles:(\d+)$/.exec(i.Marker);
      if (!m) throw new InvalidInputException({ message: 'Invalid Marker.', $metadata: meta(400) });
      start = Number(m[1]);
    }
    const page = all.slice(start, start + max);
    const truncated = start + max < all.length;
    return {
      $metadata: {},
      Roles: page.map((r) => {
        const { PermissionsBoundary: _b, Tags: _t, ...listed } = this.shape(r);
        return listed;
      }),
      IsTruncated: truncated,
      ...(truncated ? { Marker: `fake-roles:${start + max}` } : {}),
    };
  }

  private must(name: string | undefined): Role {
    const r = name ? this.roles.get(name.toLowerCase()) : undefined;
    if (!r) throw new NoSuchEntityException({ message: `The role with name ${name ?? ''} cannot be found.`, $metadata: meta(404) });
    return r;
  }

  /** The role an ARN names, if it exists (used by ECS for the propagation check). */
  byArn(arn: string): Role | undefined {
    return [...this.roles.values()].find((r) => r.arn === arn);
  }

  private create(i: iam.CreateRoleCommandInput): iam.CreateRoleCommandOutput {
    const name = i.RoleName ?? '';
    if (this.roles.has(name.toLowerCase())) {
      throw new EntityAlreadyExistsException({ message: `Role with name ${name} already exists.`, $metadata: meta(409) });
    }
    parsePolicy(i.AssumeRolePolicyDocument);
    const path = i.Path ?? '/';
    const role: Role = {
      roleName: name,
      roleId: `AROA${this.ctx.rng.alnum(17).toUpperCase()}`,
      arn: `arn:aws:iam::${this.ctx.config.account}:role${path}${name}`,
      path,
      assumeRolePolicyDocument: i.AssumeRolePolicyDocument!,
      ...(i.PermissionsBoundary ? { permissionsBoundary: i.PermissionsBoundary } : {}),
      ...(i.Description !== undefined ? { description: i.Description } : {}),
      maxSessionDuration: i.MaxSessionDuration ?? 3600,
      tags: tagsFromKeyValue(i.Tags),
      createdAt: this.ctx.now(),
      policies: new Map(),
    };
    this.roles.set(name.toLowerCase(), role);
    return { $metadata: {}, Role: this.shape(role) };
  }

  shape(r: Role): iam.Role {
    return {
      Path: r.path,
      RoleName: r.roleName,
      RoleId: r.roleId,
      Arn: r.arn,
      CreateDate: new Date(r.createdAt),
      AssumeRolePolicyDocument: encodeURIComponent(r.assumeRolePolicyDocument),
      ...(r.description !== undefined ? { Description: r.description } : {}),
      MaxSessionDuration: r.maxSessionDuration,
      ...(r.permissionsBoundary
        ? { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: r.permissionsBoundary } }
        : {}),
      Tags: toKeyValue(r.tags),
    };
  }

  resources(): ResourceRef[] {
    return [...this.roles.values()].map((r) => ({ service: 'IAM', type: 'AWS::IAM::Role', id: r.roleName, arn: r.arn, tags: tagRecord(r.tags) }));
  }
}

function parsePolicy(doc: string | undefined): void {
  try {
    const parsed: unknown = JSON.parse(doc ?? '');
    if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) throw new Error('no Statement');
  } catch {
    throw new MalformedPolicyDocumentException({ message: 'Syntax errors in policy.', $metadata: meta(400) });
  }
}
