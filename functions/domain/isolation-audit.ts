/**
 * The isolation audit of one tenant (issue 13, items 2 and 3): what its live resources are
 * (`LiveTenant`, read by functions/usecases/live-state.ts) against what its record renders
 * (`ExpectedTenant`, built from the same renderers the workflows use), as a list of checks with
 * stable ids and severities, in the spirit of `openclaw security audit`.
 *
 * Check ids are a contract (scripts and alarms key on them): never rename one; add new ids instead.
 * A failing check is drift. A check that names a `repair` can be put back by the reconcile through
 * the workflows' own adapters; one without needs an operator (a boundary, an access point, a tag or
 * a secret cannot be rewritten safely in place: see docs/fleet-reconcile.md).
 *
 * Pure: no SDK import; the live side is plain data.
 */
import { canonicalJson } from './config-hash';
import type { HostRule } from './egress-policy';
import { GATEWAY_PORT, MANAGED_BY, names, TAG_CELL, TAG_MANAGED_BY, TAG_TENANT } from './naming';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** 0 = worst. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** What the reconcile can re-apply through the workflows' adapters. */
export const REPAIRS = ['securityGroupEgress', 'securityGroupIngress', 'rolePolicy', 'serviceTaskDefinition', 'serviceSettings', 'serviceDesiredCount', 'egressPolicy', 'ingressRoute'] as const;
export type Repair = (typeof REPAIRS)[number];

/** The audit's checks: id → severity and what it checks. Stable ids (see the module comment). */
export const AUDIT_CHECKS = {
  'role.boundary_attached': { severity: 'critical', title: "The tenant's task role has the cell's permissions boundary attached" },
  'role.scope': { severity: 'critical', title: "The task role's trust and its only inline policy are exactly what the record renders (own access point, own secret, own inference profiles)" },
  'network.ingress_tier_only': { severity: 'critical', title: 'The security group admits nothing but the ingress tier on the gateway port (nothing at all while ingress is off)' },
  'network.egress_allowed_only': { severity: 'critical', title: 'The security group allows egress only to the destinations the record renders (platform essentials, proxy, allowlist)' },
  'network.egress_complete': { severity: 'low', title: 'Every egress rule the record renders is present (a missing one breaks the tenant, it does not widen it)' },
  'network.no_public_ip': { severity: 'critical', title: 'The service assigns no public IP and uses only its own security group in the cell subnets' },
  'ecs.exec_disabled': { severity: 'high', title: 'ECS Exec is off on the service' },
  'container.read_only_root': { severity: 'high', title: 'Every container of the running revision has a read-only root file system and none is privileged' },
  'container.capabilities_dropped': { severity: 'high', title: 'Every container drops ALL Linux capabilities and adds none beyond what the renderer gives (config-init: CHOWN)' },
  'container.runs_as_tenant_uid': { severity: 'high', title: "The gateway runs as the tenant's own uid:gid (its access point's PosixUser)" },
  'storage.access_point_root': { severity: 'critical', title: 'The access point roots at /tenants/<id> on the cell file system with the recorded uid/gid' },
  'storage.uid_unique': { severity: 'critical', title: "No other tenant of the cell (record or live access point) has the tenant's uid" },
  'secrets.scoped': { severity: 'high', title: "The tenant's secrets exist under its own name, carry its own cell and tenant tags, and are not scheduled for deletion" },
  'config.hash_recorded': { severity: 'medium', title: 'The service runs the recorded task-definition revision, whose config hash is the one the record renders' },
  'service.desired_count': { severity: 'medium', title: 'The service runs one task when ACTIVE and none when SUSPENDED' },
  'egress.policy_as_recorded': { severity: 'high', title: "The egress proxy's policy item holds exactly the record's effective host rules" },
  'ingress.route_as_recorded': { severity: 'medium', title: "With ingress on, the service is registered in the tenant's own recorded target group (and in none while ingress is off)" },
  'resources.tags': { severity: 'high', title: 'Every tenant resource carries exactly this cell, this tenant and managed-by octw' },
  // Issue 13: the tenant's route through the ingress tier, read live (listener rule, target group, DNS record).
  'ingress.rule_target_own': { severity: 'critical', title: "The tenant's listener rule forwards only to the tenant's own recorded target group (never to another tenant's)" },
  'ingress.rule_as_recorded': { severity: 'high', title: "The listener rule exists as recorded: host-header exactly the tenant's hostname (plus the staging header only while staging), the recorded priority, the action of its mode, the tenant's own tags; its target group exists and is the tenant's" },
  'ingress.oidc_enforced': { severity: 'high', title: "With an OIDC provider on the record, the live rule authenticates (authenticate-oidc, the recorded issuer and client id) before it forwards" },
  'ingress.dns_record': { severity: 'high', title: "The tenant's DNS record is an alias to its recorded shard's load balancer" },
} as const satisfies Record<string, { severity: Severity; title: string }>;
export type CheckId = keyof typeof AUDIT_CHECKS;
export const CHECK_IDS = Object.keys(AUDIT_CHECKS) as CheckId[];

export interface Finding {
  checkId: CheckId;
  severity: Severity;
  status: 'pass' | 'fail' | 'skip';
  /** What was found (fail), or why the check did not apply (skip). Never a secret value. */
  detail?: string;
  /** How the reconcile puts it back; absent: an operator must. */
  repair?: Repair;
}

/** A security-group rule in comparable form (see adapters/security-groups.ts egressRuleKey). */
export interface LiveRule {
  key: string;
  protocol: string;
  fromPort: number;
  toPort: number;
  groupId?: string;
  cidr?: string;
  prefixListId?: string;
}

export interface LiveContainer {
  name: string;
  user?: string | undefined;
  readonlyRootFilesystem?: boolean | undefined;
  privileged?: boolean | undefined;
  drop: readonly string[];
  add: readonly string[];
}

/** What the live account holds for the tenant (absent: not found). */
export interface LiveTenant {
  securityGroup?: { groupId: string; tags: Record<string, string>; egress: LiveRule[]; ingress: LiveRule[] };
  role?: {
    name: string;
    path: string;
    boundaryArn?: string | undefined;
    tags: Record<string, string>;
    trustPolicy?: unknown;
    /** Inline policies by name, parsed. */
    inlinePolicies: Record<string, unknown>;
  };
  service?: {
    status: string;
    taskDefinition: string;
    desiredCount: number;
    assignPublicIp?: string | undefined;
    securityGroups: string[];
    subnets: string[];
    enableExecuteCommand: boolean;
    targetGroupArns: string[];
    tags: Record<string, string>;
  };
  taskDefinition?: { arn: string; tags: Record<string, string>; containers: LiveContainer[] };
  accessPoint?: { id: string; fileSystemId?: string | undefined; rootPath?: string | undefined; uid?: number | undefined; gid?: number | undefined; tags: Record<string, string> };
  secrets: { role: 'gateway-token' | 'egress-proxy'; arn: string; name?: string | undefined; tags: Record<string, string>; deleted: boolean; found: boolean }[];
  /** The egress policy item's rules; `absent` when the item is missing; undefined when the cell has no proxy. */
  egressPolicy?: { rules: HostRule[] } | 'absent';
  /** The tenant's route, read at its recorded ARNs (undefined: the cell has no ingress or the record no route). */
  ingressRoute?: LiveIngressRoute;
}

/** One action of a listener rule, in comparable form. */
export interface LiveRuleAction {
  type: string;
  order?: number | undefined;
  /** Every target group the action forwards to (TargetGroupArn and ForwardConfig). */
  targetGroupArns: string[];
  oidc?: { issuer?: string | undefined; clientId?: string | undefined } | undefined;
}

export interface LiveIngressRoute {
  /** The rule at the recorded ARN; absent: not found. */
  rule?: { arn: string; priority?: string | undefined; hosts: string[]; httpHeaders: string[]; actions: LiveRuleAction[]; tags: Record<string, string> } | undefined;
  /** The recorded target group; absent: not found. */
  targetGroup?: { arn: string; tags: Record<string, string> } | undefined;
  /** The tenant each other target group the rule forwards to is tagged for (undefined: untagged or unknown). */
  foreignTargetTenants: Record<string, string | undefined>;
  /** The A record of the tenant's hostname; absent: none. */
  dns?: { dnsName: string; hostedZoneId: string } | undefined;
}

/** What the record renders, and the cell facts the checks need. */
export interface ExpectedTenant {
  cell: string;
  tenantId: string;
  status: string;
  uid?: number | undefined;
  gid?: number | undefined;
  fileSystemId: string;
  permissionsBoundaryArn: string;
  subnetIds: readonly string[];
  securityGroupId?: string | undefined;
  egressRuleKeys: readonly string[];
  /** The ingress tier's group when the cell has ingress. */
  ingressSecurityGroupId?: string | undefined;
  rolePolicyName: string;
  rolePolicy: unknown;
  trustPolicy: unknown;
  taskDefinitionArn?: string | undefined;
  configHash: string;
  /** The rendered containers (their users and capability additions are the allowed ones). */
  containers: readonly LiveContainer[];
  /** `${uid}:${gid}` of the gateway container. */
  gatewayUser: string;
  desiredCount: 0 | 1;
  hostRules?: readonly HostRule[] | undefined;
  targetGroupArn?: string | undefined;
  /** The recorded route and what it renders (cell with ingress and a route on the record). */
  ingressRoute?: {
    hostname: string;
    ruleArn: string;
    priority: number;
    targetGroupArn: string;
    mode: 'staging' | 'live' | 'maintenance';
    /** The recorded OIDC provider (only a live route authenticates). */
    oidc?: { issuer: string; clientId: string } | undefined;
    /** The alias target of the DNS record: dualstack.<shard DNS name>. and the shard's zone. */
    aliasDnsName: string;
    aliasHostedZoneId: string;
  } | undefined;
  /** Other tenants of the cell holding the same uid (by record or by live access point). */
  uidHolders: readonly string[];
  secretNames: { 'gateway-token': string; 'egress-proxy'?: string | undefined };
}

const CONFIG_HASH_TAG = 'octw:config-hash';

function tagProblems(what: string, tags: Record<string, string>, e: ExpectedTenant): string[] {
  const p: string[] = [];
  if (tags[TAG_CELL] !== e.cell) p.push(`${what}: ${TAG_CELL}=${tags[TAG_CELL] ?? '(none)'}`);
  if (tags[TAG_TENANT] !== e.tenantId) p.push(`${what}: ${TAG_TENANT}=${tags[TAG_TENANT] ?? '(none)'}`);
  if (tags[TAG_MANAGED_BY] !== MANAGED_BY) p.push(`${what}: ${TAG_MANAGED_BY}=${tags[TAG_MANAGED_BY] ?? '(none)'}`);
  return p;
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
const describeRule = (r: LiveRule) => `${r.protocol} ${r.fromPort}-${r.toPort} to ${r.groupId ?? r.cidr ?? r.prefixListId ?? '?'}`;

/** Runs every check. The order is CHECK_IDS's. */
export function auditTenant(live: LiveTenant, e: ExpectedTenant): Finding[] {
  const out = new Map<CheckId, Finding>();
  const pass = (id: CheckId) => out.set(id, { checkId: id, severity: AUDIT_CHECKS[id].severity, status: 'pass' });
  const fail = (id: CheckId, detail: string, repair?: Repair) =>
    out.set(id, { checkId: id, severity: AUDIT_CHECKS[id].severity, status: 'fail', detail, ...(repair ? { repair } : {}) });
  const skip = (id: CheckId, detail: string) => out.set(id, { checkId: id, severity: AUDIT_CHECKS[id].severity, status: 'skip', detail });
  const check = (id: CheckId, problems: readonly string[], repair?: Repair) => (problems.length === 0 ? pass(id) : fail(id, problems.join('; '), repair));

  // Role.
  const role = live.role;
  if (!role) {
    fail('role.boundary_attached', `task role ${names.role(e)} not found`);
    fail('role.scope', `task role ${names.role(e)} not found`);
  } else {
    check('role.boundary_attached', role.boundaryArn === e.permissionsBoundaryArn ? [] : [`boundary ${role.boundaryArn ?? '(none)'}, not ${e.permissionsBoundaryArn}`]);
    const scope: string[] = [];
    let onlyPolicy = true;
    if (role.path !== '/octw/tenants/') scope.push(`path ${role.path}`);
    if (!same(role.trustPolicy, e.trustPolicy)) scope.push('trust policy differs from the rendered one');
    for (const name of Object.keys(role.inlinePolicies)) {
      if (name === e.rolePolicyName) continue;
      scope.push(`extra inline policy ${name}`);
      onlyPolicy = false;
    }
    const policy = role.inlinePolicies[e.rolePolicyName];
    if (policy === undefined) scope.push(`inline policy ${e.rolePolicyName} missing`);
    else if (!same(policy, e.rolePolicy)) scope.push(`inline policy ${e.rolePolicyName} differs from the rendered one`);
    // PutRolePolicy puts the rendered policy back; an extra policy, a trust or path change needs an operator.
    const policyOnly = onlyPolicy && role.path === '/octw/tenants/' && same(role.trustPolicy, e.trustPolicy);
    check('role.scope', scope, policyOnly ? 'rolePolicy' : undefined);
  }

  // Security group.
  const sg = live.securityGroup;
  if (!sg) {
    for (const id of ['network.ingress_tier_only', 'network.egress_allowed_only', 'network.egress_complete'] as const) fail(id, `security group ${names.securityGroup(e)} not found`);
  } else {
    const badIngress = sg.ingress.filter(
      (r) => !(e.ingressSecurityGroupId && r.protocol === 'tcp' && r.fromPort === GATEWAY_PORT && r.toPort === GATEWAY_PORT && r.groupId === e.ingressSecurityGroupId && !r.cidr && !r.prefixListId),
    );
    check('network.ingress_tier_only', badIngress.map((r) => `ingress ${describeRule(r)}`), 'securityGroupIngress');
    const wanted = new Set(e.egressRuleKeys);
    const have = new Set(sg.egress.map((r) => r.key));
    check('network.egress_allowed_only', sg.egress.filter((r) => !wanted.has(r.key)).map((r) => `egress ${describeRule(r)}`), 'securityGroupEgress');
    check('network.egress_complete', [...wanted].filter((k) => !have.has(k)).map((k) => `missing egress ${k}`), 'securityGroupEgress');
  }

  // Service.
  const svc = live.service;
  if (!svc) {
    for (const id of ['network.no_public_ip', 'ecs.exec_disabled', 'service.desired_count', 'config.hash_recorded', 'ingress.route_as_recorded'] as const) fail(id, `service ${names.service(e)} not found`);
  } else {
    const net: string[] = [];
    if (svc.assignPublicIp !== 'DISABLED') net.push(`assignPublicIp ${svc.assignPublicIp ?? '(unset)'}`);
    if (e.securityGroupId && !same([...svc.securityGroups].sort(), [e.securityGroupId])) net.push(`security groups ${svc.securityGroups.join(',')}`);
    if (!same([...svc.subnets].sort(), [...e.subnetIds].sort())) net.push(`subnets ${svc.subnets.join(',')}`);
    check('network.no_public_ip', net, 'serviceSettings');
    check('ecs.exec_disabled', svc.enableExecuteCommand ? ['enableExecuteCommand is true'] : [], 'serviceSettings');
    check('service.desired_count', svc.desiredCount === e.desiredCount ? [] : [`desired count ${svc.desiredCount}, not ${e.desiredCount} (${e.status})`], 'serviceDesiredCount');
    const tgs = [...svc.targetGroupArns].sort();
    const wantTgs = e.targetGroupArn ? [e.targetGroupArn] : [];
    check('ingress.route_as_recorded', same(tgs, wantTgs) ? [] : [`target groups [${tgs.join(', ')}], not [${wantTgs.join(', ')}]`]);
  }

  // Running revision.
  const td = live.taskDefinition;
  if (svc) {
    const hashProblems: string[] = [];
    if (!e.taskDefinitionArn) hashProblems.push('no task definition recorded');
    else if (svc.taskDefinition !== e.taskDefinitionArn) hashProblems.push(`the service runs ${svc.taskDefinition.split('/').pop() ?? '?'}, the record names ${e.taskDefinitionArn.split('/').pop() ?? '?'}`);
    if (td && td.tags[CONFIG_HASH_TAG] !== e.configHash) hashProblems.push(`running revision's config hash ${td.tags[CONFIG_HASH_TAG] ?? '(none)'}, the record renders ${e.configHash}`);
    if (!td) hashProblems.push('running revision not found');
    check('config.hash_recorded', hashProblems, 'serviceTaskDefinition');
  }
  if (!td) {
    for (const id of ['container.read_only_root', 'container.capabilities_dropped', 'container.runs_as_tenant_uid'] as const) fail(id, 'running task definition not found');
  } else {
    check(
      'container.read_only_root',
      td.containers.flatMap((c) => [...(c.readonlyRootFilesystem === true ? [] : [`${c.name}: root file system writable`]), ...(c.privileged === true ? [`${c.name}: privileged`] : [])]),
      'serviceTaskDefinition',
    );
    const allowedAdd = new Map(e.containers.map((c) => [c.name, new Set(c.add)]));
    check(
      'container.capabilities_dropped',
      td.containers.flatMap((c) => [
        ...(c.drop.includes('ALL') ? [] : [`${c.name}: does not drop ALL`]),
        ...c.add.filter((a) => !(allowedAdd.get(c.name)?.has(a) ?? false)).map((a) => `${c.name}: adds ${a}`),
      ]),
      'serviceTaskDefinition',
    );
    const gateway = td.containers.find((c) => c.name === 'gateway');
    check('container.runs_as_tenant_uid', gateway?.user === e.gatewayUser ? [] : [`gateway user ${gateway?.user ?? '(none)'}, not ${e.gatewayUser}`], 'serviceTaskDefinition');
  }

  // Access point.
  const ap = live.accessPoint;
  if (!ap) fail('storage.access_point_root', 'access point not found');
  else {
    const p: string[] = [];
    if (ap.fileSystemId !== e.fileSystemId) p.push(`file system ${ap.fileSystemId ?? '?'}`);
    if (ap.rootPath !== names.accessPointRoot(e.tenantId)) p.push(`root ${ap.rootPath ?? '?'}`);
    if (ap.uid !== e.uid || ap.gid !== e.gid) p.push(`posix user ${ap.uid ?? '?'}:${ap.gid ?? '?'}, not ${e.uid ?? '?'}:${e.gid ?? '?'}`);
    check('storage.access_point_root', p);
  }
  check('storage.uid_unique', e.uidHolders.length === 0 ? [] : [`uid ${e.uid ?? '?'} also held by ${e.uidHolders.join(', ')}`]);

  // Secrets.
  const secretProblems: string[] = [];
  for (const s of live.secrets) {
    if (!s.found) {
      secretProblems.push(`${s.role} secret not found`);
      continue;
    }
    const wantName = e.secretNames[s.role];
    if (s.name !== wantName) secretProblems.push(`${s.role} secret named ${s.name ?? '?'}, not ${wantName ?? '?'}`);
    if (s.deleted) secretProblems.push(`${s.role} secret is scheduled for deletion`);
    secretProblems.push(...tagProblems(`${s.role} secret`, s.tags, e));
  }
  check('secrets.scoped', secretProblems);

  // Egress policy.
  if (e.hostRules === undefined) skip('egress.policy_as_recorded', 'the cell has no egress proxy');
  else if (live.egressPolicy === undefined || live.egressPolicy === 'absent') fail('egress.policy_as_recorded', 'no policy item for the tenant');
  else check('egress.policy_as_recorded', same(live.egressPolicy.rules, e.hostRules) ? [] : ['policy item rules differ from the effective host rules'], 'egressPolicy');

  auditIngressRoute(live.ingressRoute, e, pass, fail, skip, check);

  // Tags of everything found.
  check('resources.tags', [
    ...(sg ? tagProblems('security group', sg.tags, e) : []),
    ...(role ? tagProblems('task role', role.tags, e) : []),
    ...(svc ? tagProblems('service', svc.tags, e) : []),
    ...(td ? tagProblems('task definition', td.tags, e) : []),
    ...(ap ? tagProblems('access point', ap.tags, e) : []),
  ]);

  return CHECK_IDS.map((id) => out.get(id) ?? { checkId: id, severity: AUDIT_CHECKS[id].severity, status: 'skip' as const, detail: 'not applicable' });
}

type Mark = (id: CheckId, detail: string, repair?: Repair) => void;

/** The four route checks (skipped without ingress or without a recorded route). */
function auditIngressRoute(
  live: LiveIngressRoute | undefined,
  e: ExpectedTenant,
  pass: (id: CheckId) => void,
  fail: Mark,
  skip: (id: CheckId, detail: string) => void,
  check: (id: CheckId, problems: readonly string[], repair?: Repair) => void,
): void {
  const ids = ['ingress.rule_target_own', 'ingress.rule_as_recorded', 'ingress.oidc_enforced', 'ingress.dns_record'] as const;
  const want = e.ingressRoute;
  if (!want || !live) {
    for (const id of ids) skip(id, want ? 'the route was not read' : 'no ingress route recorded (or the cell has no ingress)');
    return;
  }
  const rule = live.rule;
  const ownTags = (tags: Record<string, string>) => tagProblems('', tags, e).length === 0;
  // The repair rewrites the rule in place and UPSERTs the record: only when the rule still routes the
  // tenant's host, both rule and target group are the tenant's, and the priority is the recorded one.
  const repairable =
    rule !== undefined && ownTags(rule.tags) && rule.hosts.includes(want.hostname) && live.targetGroup !== undefined && ownTags(live.targetGroup.tags) && Number(rule.priority) === want.priority;
  const repair: Repair | undefined = repairable ? 'ingressRoute' : undefined;

  if (!rule) {
    skip('ingress.rule_target_own', 'no rule to forward anything');
    fail('ingress.rule_as_recorded', `listener rule ${want.ruleArn} not found`);
    if (want.oidc && want.mode === 'live') fail('ingress.oidc_enforced', 'no rule: nothing authenticates');
    else skip('ingress.oidc_enforced', 'no OIDC provider recorded (or the route is not live)');
  } else {
    const targets = [...new Set(rule.actions.flatMap((a) => a.targetGroupArns))];
    const foreign = targets.filter((t) => t !== want.targetGroupArn);
    check(
      'ingress.rule_target_own',
      foreign.map((t) => `forwards ${want.hostname} to target group ${t}${live.foreignTargetTenants[t] ? ` of tenant ${live.foreignTargetTenants[t]}` : ''}`),
      repair,
    );
    const p: string[] = [];
    const hosts = [...new Set(rule.hosts)];
    if (hosts.length !== 1 || hosts[0] !== want.hostname) p.push(`host-header [${hosts.join(', ')}], not [${want.hostname}]`);
    const staging = rule.httpHeaders.includes('x-octw-staging');
    if (want.mode === 'staging' && !staging) p.push('staging route without its staging header');
    if (want.mode !== 'staging' && rule.httpHeaders.length > 0) p.push(`extra header conditions ${rule.httpHeaders.join(', ')}`);
    if (Number(rule.priority) !== want.priority) p.push(`priority ${rule.priority ?? '?'}, not ${want.priority}`);
    const types = [...rule.actions].sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).map((a) => a.type);
    const last = types[types.length - 1];
    if (want.mode === 'maintenance' ? last !== 'fixed-response' : last !== 'forward' || !targets.includes(want.targetGroupArn)) {
      p.push(`actions [${types.join(', ')}] do not ${want.mode === 'maintenance' ? 'answer the maintenance page' : `forward to ${want.targetGroupArn}`}`);
    }
    if (!ownTags(rule.tags)) p.push(`rule tags:${tagProblems('', rule.tags, e).join(',')}`);
    if (!live.targetGroup) p.push(`target group ${want.targetGroupArn} not found`);
    else if (!ownTags(live.targetGroup.tags)) p.push(`target group tags:${tagProblems('', live.targetGroup.tags, e).join(',')}`);
    check('ingress.rule_as_recorded', p, repair);

    if (!want.oidc || want.mode !== 'live') skip('ingress.oidc_enforced', 'no OIDC provider recorded (or the route is not live)');
    else {
      const first = [...rule.actions].sort((a, b) => (a.order ?? 0) - (b.order ?? 0))[0];
      const o: string[] = [];
      if (first?.type !== 'authenticate-oidc') o.push(`the first action is ${first?.type ?? '(none)'}, not authenticate-oidc: the route is open without the tenant's IdP`);
      else if (first.oidc?.issuer !== want.oidc.issuer || first.oidc.clientId !== want.oidc.clientId) o.push(`authenticates with issuer ${first.oidc?.issuer ?? '?'} client ${first.oidc?.clientId ?? '?'}, not the recorded ${want.oidc.issuer} ${want.oidc.clientId}`);
      check('ingress.oidc_enforced', o, repair);
    }
  }

  const dns = live.dns;
  const dnsRepair = live.targetGroup !== undefined && rule !== undefined ? repair : undefined;
  if (!dns) fail('ingress.dns_record', `no A record for ${want.hostname}`, dnsRepair);
  else if (dns.dnsName.toLowerCase() !== want.aliasDnsName.toLowerCase() || dns.hostedZoneId !== want.aliasHostedZoneId) {
    fail('ingress.dns_record', `${want.hostname} is an alias to ${dns.dnsName} (${dns.hostedZoneId}), not its shard ${want.aliasDnsName} (${want.aliasHostedZoneId})`, dnsRepair);
  } else pass('ingress.dns_record');
}

/** The worst severity among failing findings, or undefined when nothing fails. */
export function worstSeverity(findings: readonly Pick<Finding, 'status' | 'severity'>[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings) if (f.status === 'fail' && (worst === undefined || severityRank(f.severity) < severityRank(worst))) worst = f.severity;
  return worst;
}
