/**
 * Tenant IAM task roles: path /octw/tenants/, the platform's permissions boundary, trust limited
 * to ECS tasks of the cell's own cluster, and one inline policy naming only the tenant's own access
 * point, secret and its plan's Bedrock models. A role is adopted, changed or deleted only when its
 * `octw:cell` and `octw:tenant` tags are this cell's and this tenant's (ForeignResourceError otherwise).
 */
import type { IAMClient, Role } from '@aws-sdk/client-iam';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { ForeignResourceError, ResourceConflictError, TransientAwsError } from '../domain/errors';
import { names, ownershipProblems, TAG_ACCESS_POINT, tagsOf, TENANT_ROLE_PATH, tenantTags } from '../domain/naming';
import { bedrockFoundationModelArns, guardrailArn } from '../domain/models';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';

export interface ArnParts {
  partition: string;
  region: string;
  account: string;
}

/** Parses partition/region/account from any ARN (the file system's, in practice). */
export function arnParts(arn: string): ArnParts {
  const [, partition, , region, account] = arn.split(':');
  if (!partition || !region || !account) throw new Error(`cannot read partition/region/account from ARN ${arn}`);
  return { partition, region, account };
}

/** `fsap-…` from an access point ARN (`…:access-point/fsap-…`). */
export const accessPointId = (accessPointArn: string): string => accessPointArn.split('/').pop() ?? accessPointArn;

export interface TaskRoleSpec {
  tenantId: string;
  cell: string;
  accessPointArn: string;
  /**
   * Platform-paid Bedrock: the tenant's application inference profiles (plan model id → profile
   * ARN) and the plan's guardrail. Absent or empty: the role may not invoke Bedrock at all.
   */
  bedrock?: { profiles: Readonly<Record<string, string>>; guardrail?: { id: string; version: string } | undefined };
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: {
    Sid: string;
    Effect: 'Allow' | 'Deny';
    Principal?: Record<string, string>;
    Action: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }[];
}

/**
 * Only ECS tasks of the cell's own cluster may assume the role. ECS names the source of a task-role
 * assumption by the task's ARN (`…:task/<cluster>/<id>`); the cluster's own ARN is admitted as
 * well, so the condition holds whichever of the two ECS presents, and both name only this cluster.
 */
export function trustPolicy(p: ArnParts, clusterName: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EcsTasksOfTheCellCluster',
        Effect: 'Allow',
        Principal: { Service: 'ecs-tasks.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          ArnLike: {
            'aws:SourceArn': [
              `arn:${p.partition}:ecs:${p.region}:${p.account}:task/${clusterName}/*`,
              `arn:${p.partition}:ecs:${p.region}:${p.account}:cluster/${clusterName}`,
            ],
          },
          StringEquals: { 'aws:SourceAccount': p.account },
        },
      },
    ],
  };
}

/** Bedrock model ids may be foundation models or (cross-region) inference profiles. */
export function bedrockResources(models: readonly string[], p: ArnParts): string[] {
  return models.flatMap((m) => {
    const profile = /^(us|eu|apac|jp|au|ca|global)\.(.+)$/.exec(m);
    if (profile) {
      return [
        `arn:${p.partition}:bedrock:${p.region}:${p.account}:inference-profile/${m}`,
        // A cross-region profile routes to the foundation model in several regions.
        `arn:${p.partition}:bedrock:*::foundation-model/${profile[2]!}`,
      ];
    }
    return [`arn:${p.partition}:bedrock:${p.region}::foundation-model/${m}`];
  });
}

export function tenantPolicy(spec: TaskRoleSpec, fileSystemArn: string): PolicyDocument {
  const p = arnParts(fileSystemArn);
  const statements: PolicyDocument['Statement'] = [
    {
      Sid: 'OwnAccessPointOnly',
      Effect: 'Allow',
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Resource: fileSystemArn,
      Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': spec.accessPointArn } },
    },
    {
      Sid: 'OwnGatewayTokenOnly',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      // Secrets Manager appends "-" and 6 random characters to the name.
      Resource: `arn:${p.partition}:secretsmanager:${p.region}:${p.account}:secret:${names.secret(spec)}-??????`,
    },
  ];
  statements.push(...bedrockStatements(spec, p));
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * Bedrock for the tenant's role [models]: invoke only the tenant's own application inference
 * profiles, and the foundation models they route to only through those profiles
 * (`bedrock:InferenceProfileArn`), in the cell's Region (a cross-Region profile's models are named
 * in every Region, as AWS requires). With a plan guardrail, every invocation must carry it
 * (`bedrock:GuardrailIdentifier`: a call without it, or with another, is denied) and the role may
 * apply it. Converse/ConverseStream are authorised by these same two actions.
 */
export function bedrockStatements(spec: TaskRoleSpec, p: ArnParts): PolicyDocument['Statement'] {
  const profiles = spec.bedrock?.profiles ?? {};
  const models = Object.keys(profiles).sort();
  if (models.length === 0) return [];
  const profileArns = models.map((m) => profiles[m]!);
  const guardrail = spec.bedrock?.guardrail;
  const guardArn = guardrail ? guardrailArn(guardrail, p) : undefined;
  const withGuardrail: Record<string, string> = guardArn ? { 'bedrock:GuardrailIdentifier': guardrail!.version === 'DRAFT' ? guardArn : `${guardArn}:${guardrail!.version}` } : {};
  const invoke = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];
  const statements: PolicyDocument['Statement'] = [
    {
      Sid: 'OwnInferenceProfilesOnly',
      Effect: 'Allow',
      Action: invoke,
      Resource: profileArns,
      ...(guardArn ? { Condition: { StringEquals: withGuardrail } } : {}),
    },
    {
      Sid: 'PlanModelsThroughOwnProfilesOnly',
      Effect: 'Allow',
      Action: invoke,
      Resource: [...new Set(models.flatMap((m) => bedrockFoundationModelArns(m, p)))],
      Condition: { StringEquals: { 'bedrock:InferenceProfileArn': profileArns, ...withGuardrail } },
    },
  ];
  if (guardArn) statements.push({ Sid: 'PlanGuardrail', Effect: 'Allow', Action: 'bedrock:ApplyGuardrail', Resource: guardArn });
  return statements;
}

export interface TaskRolesConfig {
  /** The cell these roles belong to: in their names, their tags, and checked on every adopt and delete. */
  cell: string;
  permissionsBoundaryArn: string;
  fileSystemArn: string;
  /** The cell's ECS cluster: only its tasks may assume the roles. */
  clusterName: string;
}

/** A tenant role as the record keeps it; `roleCreatedAt` is IAM's CreateDate (ISO), when IAM gave one. */
export interface TaskRoleRef {
  roleName: string;
  roleArn: string;
  roleCreatedAt?: string;
}

function refOf(roleName: string, roleArn: string, role: Role): TaskRoleRef {
  return { roleName, roleArn, ...(role.CreateDate ? { roleCreatedAt: role.CreateDate.toISOString() } : {}) };
}

export class TaskRoles {
  constructor(
    private readonly iam: IAMClient,
    private readonly cfg: TaskRolesConfig,
  ) {}

  async ensure(spec: TaskRoleSpec): Promise<TaskRoleRef> {
    this.sameCell(spec);
    const roleName = names.role(spec);
    let role: Role | undefined;
    try {
      const out = await this.iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          Path: TENANT_ROLE_PATH,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy(arnParts(this.cfg.fileSystemArn), this.cfg.clusterName)),
          PermissionsBoundary: this.cfg.permissionsBoundaryArn,
          Description: `OCTW task role of tenant ${spec.tenantId}`,
          MaxSessionDuration: 3600,
          // The boundary reads octw:tenant and octw:access-point from the role (aws:PrincipalTag);
          // the provisioner can set them only here, never change them later.
          Tags: [
            ...tenantTags(spec.tenantId, spec.cell).map((t) => ({ Key: t.key, Value: t.value })),
            { Key: TAG_ACCESS_POINT, Value: accessPointId(spec.accessPointArn) },
          ],
        }),
      );
      role = out.Role;
    } catch (err) {
      if (!hasAwsErrorCode(err, 'EntityAlreadyExistsException', 'EntityAlreadyExists')) {
        throw classifyAwsError(err, 'IAM CreateRole');
      }
      role = await this.get(roleName);
      if (!role) throw new TransientAwsError(`IAM role ${roleName} exists but cannot be read yet`);
    }
    if (!role?.Arn) throw new TransientAwsError(`IAM CreateRole returned no role for ${roleName}`);
    this.verify(role, spec.tenantId, spec.accessPointArn);
    await this.writePolicy(roleName, spec);
    return refOf(roleName, role.Arn, role);
  }

  /**
   * Puts the inline policy again on the existing role (an update changed the plan's models, or puts
   * the previous ones back). The role must exist and be the tenant's own.
   */
  async putPolicy(spec: TaskRoleSpec): Promise<TaskRoleRef> {
    this.sameCell(spec);
    const roleName = names.role(spec);
    const role = await this.get(roleName);
    if (!role?.Arn) throw new ResourceConflictError(`IAM role ${roleName} of tenant "${spec.tenantId}" does not exist; it cannot be updated`);
    this.verify(role, spec.tenantId, spec.accessPointArn);
    await this.writePolicy(roleName, spec);
    return refOf(roleName, role.Arn, role);
  }

  /** Writes the tenant's inline policy (PutRolePolicy replaces it whole, so repeating it is harmless). */
  private async writePolicy(roleName: string, spec: TaskRoleSpec): Promise<void> {
    await awsCall('IAM PutRolePolicy', () =>
      this.iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: names.rolePolicy(spec),
          PolicyDocument: JSON.stringify(tenantPolicy(spec, this.cfg.fileSystemArn)),
        }),
      ),
    );
  }

  async get(roleName: string): Promise<Role | undefined> {
    try {
      return (await this.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    } catch (err) {
      if (hasAwsErrorCode(err, 'NoSuchEntityException', 'NoSuchEntity')) return undefined;
      throw classifyAwsError(err, 'IAM GetRole');
    }
  }

  async delete(tenantId: string): Promise<'deleted' | 'absent'> {
    const roleName = names.role({ cell: this.cfg.cell, tenantId });
    const role = await this.get(roleName);
    if (!role) return 'absent';
    this.verify(role, tenantId);
    try {
      const policies = await this.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
      for (const policyName of policies.PolicyNames ?? []) {
        await this.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })).catch((e: unknown) => {
          if (!hasAwsErrorCode(e, 'NoSuchEntityException', 'NoSuchEntity')) throw e;
        });
      }
      await this.iam.send(new DeleteRoleCommand({ RoleName: roleName }));
      return 'deleted';
    } catch (err) {
      if (hasAwsErrorCode(err, 'NoSuchEntityException', 'NoSuchEntity')) return 'absent';
      if (hasAwsErrorCode(err, 'DeleteConflictException', 'DeleteConflict')) {
        throw new TransientAwsError(`IAM role ${roleName} still has policies attached; retrying`, { cause: err });
      }
      throw classifyAwsError(err, 'IAM DeleteRole');
    }
  }

  private sameCell(spec: TaskRoleSpec): void {
    if (spec.cell !== this.cfg.cell) throw new ForeignResourceError(`tenant "${spec.tenantId}" is of cell "${spec.cell}", not this cell "${this.cfg.cell}"`);
  }

  /** The role must be this cell's and this tenant's (tags), then have our path and boundary. */
  private verify(role: Role, tenantId: string, accessPointArn?: string): void {
    // GetRole returns tags; CreateRole echoes them. A role without our tags is not ours.
    const foreign = ownershipProblems(tagsOf(role.Tags), { cell: this.cfg.cell, tenantId });
    if (foreign.length > 0) {
      throw new ForeignResourceError(
        `IAM role ${role.RoleName ?? '?'} is not tenant "${tenantId}" of cell "${this.cfg.cell}" (${foreign.join(', ')}); not touching it`,
      );
    }
    const problems: string[] = [];
    if (role.Path !== TENANT_ROLE_PATH) problems.push(`path ${role.Path ?? '?'}`);
    if (role.PermissionsBoundary?.PermissionsBoundaryArn !== this.cfg.permissionsBoundaryArn) problems.push('permissions boundary');
    // The boundary admits mounts only through the access point the role was created for; a role left
    // from an earlier access point cannot be retagged, so it is refused (the operator removes it).
    const taggedAccessPoint = tagsOf(role.Tags).get(TAG_ACCESS_POINT);
    if (accessPointArn !== undefined && taggedAccessPoint !== accessPointId(accessPointArn)) {
      problems.push(`${TAG_ACCESS_POINT}=${taggedAccessPoint ?? '(none)'}, not ${accessPointId(accessPointArn)}`);
    }
    if (problems.length > 0) {
      throw new ResourceConflictError(`IAM role ${role.RoleName ?? '?'} does not match tenant "${tenantId}": ${problems.join(', ')}`);
    }
  }
}
