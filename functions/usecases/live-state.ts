/**
 * A tenant's live resources, read from the account, and what its record renders (issue 13, items
 * 2 and 3). One reader for the reconcile, the audit and (later) the fleet rollout: security-group
 * rules, the task role (boundary, tags, trust, inline policies), the service's settings, the
 * running task-definition revision and its hardening, the access point, the secrets, the egress
 * policy item and the ingress registration.
 *
 * What the record renders comes from the workflows' own renderers, never from a second copy of the
 * rules: `SecurityGroups.desiredRules` (egress), `tenantPolicy`/`trustPolicy` (role),
 * `renderTenantTaskDefinition` (task definition and config hash), `effectiveHostRules` (egress
 * policy). The comparison itself is functions/domain/isolation-audit.ts.
 *
 * Reads only. Every call goes through the adapters' SDK clients, so the fake's trace and rate
 * limits apply, and a missing resource is `undefined`, never an error.
 */
import type { EFSClient } from '@aws-sdk/client-efs';
import { DescribeAccessPointsCommand } from '@aws-sdk/client-efs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { IAMClient } from '@aws-sdk/client-iam';
import { GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { EgressPolicyStore } from '../adapters/egress-policy-store';
import { classifyIngressError, hostsOf, type ElbV2Port, type Route53Port, type RuleOut } from '../adapters/ingress-routes';
import type { IngressSettings } from '../domain/ingress';
import type { GatewayServices } from '../adapters/gateway-service';
import { egressRuleKey, specOf, type SecurityGroups } from '../adapters/security-groups';
import { arnParts, tenantPolicy, trustPolicy, type TaskRoles } from '../adapters/task-roles';
import { auditTenant, type ExpectedTenant, type Finding, type LiveIngressRoute, type LiveRule, type LiveTenant } from '../domain/isolation-audit';
import { names, tagsOf } from '../domain/naming';
import { effectiveHostRules } from '../domain/tenant-egress';
import type { TenantRecord } from '../domain/tenant-record';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';
import { planOf, renderTenantTaskDefinition, type TenantRenderSettings } from './tenant-render';

export interface LiveStateSettings extends TenantRenderSettings {
  cell: string;
  fileSystemArn: string;
  clusterName: string;
  subnetIds: readonly string[];
  permissionsBoundaryArn: string;
  /** The ingress tier's security group when the cell has ingress. */
  ingressSecurityGroupId?: string | undefined;
  /** Whether the cell runs the egress proxy (its policy item and proxy secret are then expected). */
  egressProxy: boolean;
}

export interface LiveStateClients {
  groups: Pick<SecurityGroups, 'find' | 'rules' | 'desiredRules'>;
  roles: Pick<TaskRoles, 'get'>;
  iam: IAMClient;
  services: Pick<GatewayServices, 'describe'>;
  ecs: ECSClient;
  efs: EFSClient;
  sm: SecretsManagerClient;
  policies?: Pick<EgressPolicyStore, 'get'> | undefined;
  /** The cell's ingress (its route's ELBv2 and Route 53 reads); absent: the cell has no ingress. */
  ingress?: { elb: Pick<ElbV2Port, 'describeRules' | 'describeTargetGroups' | 'describeTags'>; dns: Pick<Route53Port, 'listResourceRecordSets'>; settings: IngressSettings } | undefined;
}

const recordOf = (m: Map<string, string>): Record<string, string> => Object.fromEntries(m);

function liveRule(r: Parameters<typeof specOf>[0]): LiveRule {
  const s = specOf(r);
  return {
    key: egressRuleKey(s),
    protocol: s.protocol,
    fromPort: s.fromPort,
    toPort: s.toPort,
    ...(s.groupId ? { groupId: s.groupId } : {}),
    ...(s.cidrIpv4 || s.cidrIpv6 ? { cidr: s.cidrIpv4 ?? s.cidrIpv6 } : {}),
    ...(s.prefixListId ? { prefixListId: s.prefixListId } : {}),
  };
}

/** IAM returns policy documents URL-encoded. */
const parsePolicy = (doc: string | undefined): unknown => (doc ? (JSON.parse(decodeURIComponent(doc)) as unknown) : undefined);

/** Every uid an access point of the cell's file system presents, with the tenant its tags name. */
export async function accessPointUids(efs: EFSClient, fileSystemId: string): Promise<{ id: string; uid?: number | undefined; tenantId?: string | undefined; cell?: string | undefined }[]> {
  const out: { id: string; uid?: number | undefined; tenantId?: string | undefined; cell?: string | undefined }[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall('EFS DescribeAccessPoints', () => efs.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId, NextToken: token, MaxResults: 1000 })));
    for (const a of page.AccessPoints ?? []) {
      const tags = tagsOf(a.Tags);
      out.push({ id: a.AccessPointId ?? '?', uid: a.PosixUser?.Uid, tenantId: tags.get('octw:tenant'), cell: tags.get('octw:cell') });
    }
    token = page.NextToken;
  } while (token);
  return out;
}

export class LiveStateReader {
  constructor(
    private readonly c: LiveStateClients,
    private readonly s: LiveStateSettings,
  ) {}

  /** What the account holds for the tenant. */
  async read(record: TenantRecord): Promise<LiveTenant> {
    const ref = { cell: record.cell, tenantId: record.tenantId };
    const [securityGroup, role, serviceAndTd, accessPoint, secrets, egressPolicy, ingressRoute] = await Promise.all([
      this.securityGroup(record.tenantId),
      this.role(names.role(ref)),
      this.service(record.tenantId),
      this.accessPoint(record),
      this.secrets(record),
      this.c.policies ? this.c.policies.get(record.tenantId).then((p) => (p ? { rules: p.rules } : ('absent' as const))) : Promise.resolve(undefined),
      this.ingressRoute(record),
    ]);
    return {
      ...(securityGroup ? { securityGroup } : {}),
      ...(role ? { role } : {}),
      ...(serviceAndTd.service ? { service: serviceAndTd.service } : {}),
      ...(serviceAndTd.taskDefinition ? { taskDefinition: serviceAndTd.taskDefinition } : {}),
      ...(accessPoint ? { accessPoint } : {}),
      secrets,
      ...(egressPolicy !== undefined ? { egressPolicy } : {}),
      ...(ingressRoute ? { ingressRoute } : {}),
    };
  }

  /**
   * What the record renders. `uidHolders`: the other tenants of the cell whose record or live access
   * point holds the same uid (the caller knows the cell's records and access points).
   */
  async expected(record: TenantRecord, uidHolders: readonly string[]): Promise<ExpectedTenant> {
    const ref = { cell: record.cell, tenantId: record.tenantId };
    const plan = planOf(record, this.s.plans);
    const { taskDefinition, hash } = renderTenantTaskDefinition(record, this.s);
    const accessPointArn = record.resources.accessPointArn ?? '';
    const desired = await this.c.groups.desiredRules(record.egressAllowlist);
    return {
      cell: record.cell,
      tenantId: record.tenantId,
      status: record.status,
      uid: record.uid,
      gid: record.gid,
      fileSystemId: this.s.fileSystemId,
      permissionsBoundaryArn: this.s.permissionsBoundaryArn,
      subnetIds: this.s.subnetIds,
      securityGroupId: record.resources.securityGroupId,
      egressRuleKeys: desired.map((r) => egressRuleKey(r)),
      ingressSecurityGroupId: this.s.ingressSecurityGroupId,
      rolePolicyName: names.rolePolicy(ref),
      rolePolicy: tenantPolicy(
        { ...ref, accessPointArn, bedrock: { profiles: record.resources.inferenceProfiles ?? {}, guardrail: plan.bedrockGuardrail } },
        this.s.fileSystemArn,
      ),
      trustPolicy: trustPolicy(arnParts(this.s.fileSystemArn), this.s.clusterName),
      taskDefinitionArn: record.resources.taskDefinitionArn,
      configHash: hash,
      containers: taskDefinition.containerDefinitions.map((c) => ({
        name: c.name,
        user: c.user,
        readonlyRootFilesystem: c.readonlyRootFilesystem,
        privileged: c.privileged,
        drop: c.linuxParameters.capabilities.drop,
        add: c.linuxParameters.capabilities.add,
      })),
      gatewayUser: `${record.uid ?? '?'}:${record.gid ?? '?'}`,
      desiredCount: record.status === 'SUSPENDED' ? 0 : 1,
      hostRules: this.s.egressProxy ? effectiveHostRules(record) : undefined,
      targetGroupArn: record.ingress?.targetGroupArn,
      ingressRoute: this.expectedRoute(record),
      uidHolders,
      secretNames: { 'gateway-token': names.secret(ref), ...(this.s.egressProxy ? { 'egress-proxy': names.proxySecret(ref) } : {}) },
    };
  }

  /** Reads, renders and audits one tenant. */
  async audit(record: TenantRecord, uidHolders: readonly string[]): Promise<{ live: LiveTenant; expected: ExpectedTenant; findings: Finding[] }> {
    const [live, expected] = await Promise.all([this.read(record), this.expected(record, uidHolders)]);
    return { live, expected, findings: auditTenant(live, expected) };
  }

  private expectedRoute(record: TenantRecord): ExpectedTenant['ingressRoute'] {
    const p = record.ingress;
    const settings = this.c.ingress?.settings;
    if (!p || !settings) return undefined;
    const shard = settings.shards.find((x) => x.id === p.shardId);
    const oidc = record.ingressOidc;
    return {
      hostname: p.hostname,
      ruleArn: p.ruleArn,
      priority: p.priority,
      targetGroupArn: p.targetGroupArn,
      mode: p.mode,
      ...(oidc ? { oidc: { issuer: oidc.issuer, clientId: oidc.clientId } } : {}),
      // A shard no longer in the cell's settings: no alias can be right (reported against "(unknown shard)").
      aliasDnsName: shard ? `dualstack.${shard.dnsName}.` : `(unknown shard ${p.shardId})`,
      aliasHostedZoneId: shard?.canonicalHostedZoneId ?? '(unknown)',
    };
  }

  /** The route at its recorded ARNs: the rule, the target group, the tags of both (and of any other group the rule forwards to), the DNS record. */
  private async ingressRoute(record: TenantRecord): Promise<LiveIngressRoute | undefined> {
    const p = record.ingress;
    const ing = this.c.ingress;
    if (!p || !ing) return undefined;
    const call = async <T>(context: string, fn: () => Promise<T>, notFound: string): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (err) {
        if (hasAwsErrorCode(err, notFound)) return undefined;
        throw classifyIngressError(err, context);
      }
    };
    const [ruleOut, tgOut, dnsOut] = await Promise.all([
      call('ELBv2 DescribeRules', () => ing.elb.describeRules({ RuleArns: [p.ruleArn] }), 'RuleNotFound'),
      call('ELBv2 DescribeTargetGroups', () => ing.elb.describeTargetGroups({ TargetGroupArns: [p.targetGroupArn] }), 'TargetGroupNotFound'),
      call('Route53 ListResourceRecordSets', () => ing.dns.listResourceRecordSets({ HostedZoneId: ing.settings.hostedZoneId, StartRecordName: `${p.hostname}.`, StartRecordType: 'A', MaxItems: 1 }), 'NoSuchHostedZone'),
    ]);
    const rule: RuleOut | undefined = ruleOut?.Rules?.[0];
    const tgArn = tgOut?.TargetGroups?.[0]?.TargetGroupArn;
    const actions = (rule?.Actions ?? []).map((a) => ({
      type: a.Type ?? '?',
      order: a.Order,
      targetGroupArns: [...new Set([...(a.TargetGroupArn ? [a.TargetGroupArn] : []), ...(a.ForwardConfig?.TargetGroups ?? []).flatMap((t) => (t.TargetGroupArn ? [t.TargetGroupArn] : []))])],
      ...(a.AuthenticateOidcConfig ? { oidc: { issuer: a.AuthenticateOidcConfig.Issuer, clientId: a.AuthenticateOidcConfig.ClientId } } : {}),
    }));
    const foreign = [...new Set(actions.flatMap((a) => a.targetGroupArns))].filter((t) => t !== p.targetGroupArn);
    const tagged = [...(rule?.RuleArn ? [rule.RuleArn] : []), ...(tgArn ? [tgArn] : []), ...foreign].slice(0, 20);
    const tagOut = tagged.length > 0 ? await call('ELBv2 DescribeTags', () => ing.elb.describeTags({ ResourceArns: tagged }), 'TargetGroupNotFound') : undefined;
    const tagsFor = (arn: string) => recordOf(tagsOf((tagOut?.TagDescriptions ?? []).find((d) => d.ResourceArn === arn)?.Tags));
    const rr = (dnsOut?.ResourceRecordSets ?? [])[0];
    const dnsFound = rr && rr.Name?.toLowerCase() === `${p.hostname}.`.toLowerCase() && rr.Type === 'A';
    return {
      ...(rule?.RuleArn
        ? {
            rule: {
              arn: rule.RuleArn,
              priority: rule.Priority,
              hosts: hostsOf(rule),
              httpHeaders: (rule.Conditions ?? []).filter((c) => c.Field === 'http-header').map((c) => (c.HttpHeaderConfig?.HttpHeaderName ?? '?').toLowerCase()),
              actions,
              tags: tagsFor(rule.RuleArn),
            },
          }
        : {}),
      ...(tgArn ? { targetGroup: { arn: tgArn, tags: tagsFor(tgArn) } } : {}),
      foreignTargetTenants: Object.fromEntries(foreign.map((t) => [t, tagsFor(t)['octw:tenant']])),
      ...(dnsFound ? { dns: { dnsName: rr.AliasTarget?.DNSName ?? '(not an alias)', hostedZoneId: rr.AliasTarget?.HostedZoneId ?? '(none)' } } : {}),
    };
  }

  private async securityGroup(tenantId: string): Promise<LiveTenant['securityGroup']> {
    const found = await this.c.groups.find(tenantId);
    if (!found) return undefined;
    const rules = await this.c.groups.rules(found.groupId);
    return {
      groupId: found.groupId,
      tags: recordOf(tagsOf(found.tags)),
      egress: rules.filter((r) => r.IsEgress).map(liveRule),
      ingress: rules.filter((r) => !r.IsEgress).map(liveRule),
    };
  }

  private async role(roleName: string): Promise<LiveTenant['role']> {
    const role = await this.c.roles.get(roleName);
    if (!role) return undefined;
    const inlinePolicies: Record<string, unknown> = {};
    try {
      const list = await awsCall('IAM ListRolePolicies', () => this.c.iam.send(new ListRolePoliciesCommand({ RoleName: roleName })));
      for (const policyName of list.PolicyNames ?? []) {
        const p = await awsCall('IAM GetRolePolicy', () => this.c.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })));
        inlinePolicies[policyName] = parsePolicy(p.PolicyDocument);
      }
    } catch (err) {
      // Deleted between the reads: report it as not found.
      if (hasAwsErrorCode(err, 'NoSuchEntityException', 'NoSuchEntity')) return undefined;
      throw err;
    }
    return {
      name: roleName,
      path: role.Path ?? '/',
      boundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn,
      tags: recordOf(tagsOf(role.Tags)),
      trustPolicy: parsePolicy(role.AssumeRolePolicyDocument),
      inlinePolicies,
    };
  }

  private async service(tenantId: string): Promise<Pick<LiveTenant, 'service' | 'taskDefinition'>> {
    const svc = await this.c.services.describe(tenantId);
    if (!svc) return {};
    const awsvpc = svc.networkConfiguration?.awsvpcConfiguration;
    const service: NonNullable<LiveTenant['service']> = {
      status: svc.status ?? '?',
      taskDefinition: svc.taskDefinition ?? '',
      desiredCount: svc.desiredCount ?? 0,
      assignPublicIp: awsvpc?.assignPublicIp,
      securityGroups: awsvpc?.securityGroups ?? [],
      subnets: awsvpc?.subnets ?? [],
      enableExecuteCommand: svc.enableExecuteCommand === true,
      targetGroupArns: (svc.loadBalancers ?? []).map((lb) => lb.targetGroupArn ?? '?'),
      tags: recordOf(tagsOf(svc.tags)),
    };
    if (!svc.taskDefinition) return { service };
    try {
      const out = await awsCall('ECS DescribeTaskDefinition', () => this.c.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition, include: ['TAGS'] })));
      const td = out.taskDefinition;
      if (!td?.taskDefinitionArn) return { service };
      return {
        service,
        taskDefinition: {
          arn: td.taskDefinitionArn,
          tags: recordOf(tagsOf(out.tags)),
          containers: (td.containerDefinitions ?? []).map((c) => ({
            name: c.name ?? '?',
            user: c.user,
            readonlyRootFilesystem: c.readonlyRootFilesystem,
            privileged: c.privileged,
            drop: c.linuxParameters?.capabilities?.drop ?? [],
            add: c.linuxParameters?.capabilities?.add ?? [],
          })),
        },
      };
    } catch (err) {
      if (hasAwsErrorCode(err, 'ClientException')) return { service };
      throw err;
    }
  }

  private async accessPoint(record: TenantRecord): Promise<LiveTenant['accessPoint']> {
    const id = record.resources.accessPointId;
    if (!id) return undefined;
    let ap;
    try {
      ap = (await this.c.efs.send(new DescribeAccessPointsCommand({ AccessPointId: id }))).AccessPoints?.[0];
    } catch (err) {
      if (hasAwsErrorCode(err, 'AccessPointNotFound')) return undefined;
      throw classifyAwsError(err, 'EFS DescribeAccessPoints');
    }
    if (!ap) return undefined;
    return {
      id,
      fileSystemId: ap.FileSystemId,
      rootPath: ap.RootDirectory?.Path,
      uid: ap.PosixUser?.Uid,
      gid: ap.PosixUser?.Gid,
      tags: recordOf(tagsOf(ap.Tags)),
    };
  }

  private async secrets(record: TenantRecord): Promise<LiveTenant['secrets']> {
    const wanted: { role: 'gateway-token' | 'egress-proxy'; arn: string | undefined }[] = [{ role: 'gateway-token', arn: record.resources.secretArn }];
    if (this.s.egressProxy) wanted.push({ role: 'egress-proxy', arn: record.resources.proxySecretArn });
    return Promise.all(
      wanted.map(async ({ role, arn }) => {
        if (!arn) return { role, arn: '', tags: {}, deleted: false, found: false };
        try {
          const d = await this.c.sm.send(new DescribeSecretCommand({ SecretId: arn }));
          return { role, arn, name: d.Name, tags: recordOf(tagsOf(d.Tags)), deleted: d.DeletedDate !== undefined, found: true };
        } catch (err) {
          if (hasAwsErrorCode(err, 'ResourceNotFoundException')) return { role, arn, tags: {}, deleted: false, found: false };
          throw classifyAwsError(err, 'SecretsManager DescribeSecret');
        }
      }),
    );
  }
}
