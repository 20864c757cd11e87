/**
 * Ingress: how a tenant's gateway is reached at `https://<tenant>.<cell domain>`.
 *
 * Design (docs/ingress.md): ALB shards. Each shard is one Application Load Balancer with one
 * HTTPS listener (wildcard ACM certificate for `*.<cell domain>`); each tenant has one target
 * group (its gateway task's IP, port 18789) and one listener rule whose only routing condition is
 * the exact host `<tenant>.<cell domain>`. A shard holds at most 100 tenants: AWS allows 100
 * target groups per ALB (not adjustable) and 100 rules by default. Placement is first-fit over
 * the cell's configured shards and is recorded on the tenant record.
 *
 * Pure domain code: no AWS SDK. The shapes below mirror the ELBv2 API (`Conditions`, `Actions`)
 * so the adapter passes them through unchanged.
 */
import { createHash } from 'node:crypto';
import * as z from '../shared/zod';
import { TenantOidcSchema, type TenantOidc } from './ingress-oidc';
import { GATEWAY_PORT } from './naming';
import type { TenantId } from './tenant';
import { TenantIdSchema } from './tenant';

/** AWS quotas that bound the design. Sources in docs/ingress.md ("Quotas"). */
export const INGRESS_QUOTAS = {
  /** Target groups per Application Load Balancer: 100, not adjustable. */
  targetGroupsPerAlb: 100,
  /** Rules per ALB, excluding default rules: 100 by default, adjustable. */
  rulesPerAlbDefault: 100,
  /** Condition values per rule: 5, not adjustable (host + staging header = 2). */
  conditionValuesPerRule: 5,
  /** Application Load Balancers per Region: 50 by default, adjustable. */
  albsPerRegion: 50,
  /** Target groups per Region (shared by ALB and NLB): 3,000 by default, adjustable. */
  targetGroupsPerRegion: 3_000,
  /** Records per Route 53 hosted zone: 10,000 by default, adjustable. */
  recordsPerHostedZone: 10_000,
  /** Listener rule priorities: 1 to 50,000 (ELBv2 API, CreateRule `Priority`). */
  maxRulePriority: 50_000,
} as const;

export const TARGET_GROUP_NAME_MAX = 32;
/** Header that keeps a new route private until the tenant's first authenticated handshake passed. */
export const STAGING_HEADER = 'x-octw-staging';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const CellDomainSchema = z
  .string().check(z.maxLength(200, { error: 'ingress domain must be at most 200 characters' })).check(z.refine((d) => d === d.toLowerCase(), { error: 'ingress domain must be lower case' })).check(z.refine((d) => d.split('.').length >= 2 && d.split('.').every((l) => DNS_LABEL.test(l)), {
    error: 'ingress domain must be a DNS name of at least two labels (a-z, 0-9, "-"), without a trailing dot or wildcard',
  }));

export const IngressShardSchema = z.strictObject({
    /** Stable shard id, e.g. `alb-1`; recorded on the tenant record. */
    id: z.string().check(z.regex(/^[a-z0-9-]{1,20}$/, { error: 'shard id must be 1-20 characters of a-z, 0-9, "-"' })),
    listenerArn: z.string().check(z.startsWith('arn:', { error: 'listenerArn must be an ARN' })),
    /** The ALB's DNS name and canonical hosted zone id: the alias target of the tenant's record. */
    dnsName: z.string().check(z.minLength(1)),
    canonicalHostedZoneId: z.string().check(z.minLength(1)),
  });
export type IngressShard = z.infer<typeof IngressShardSchema>;

/** What the ingress handler reads from its environment (rendered by infra/constructs/ingress.ts). */
export const IngressSettingsSchema = z.strictObject({
    cell: z.string().check(z.minLength(1)),
    domain: CellDomainSchema,
    hostedZoneId: z.string().check(z.regex(/^Z[A-Z0-9]{1,31}$/, { error: 'hostedZoneId must look like Z0123456789ABC' })),
    vpcId: z.string().check(z.startsWith('vpc-')),
    shards: z.array(IngressShardSchema).check(z.minLength(1, { error: 'ingress needs at least one shard' })),
    /** Rules per shard the account allows (100 default; raise after a quota increase). Target groups stay capped at 100. */
    rulesPerShard: z._default(z.int().check(z.gte(1)).check(z.lte(1_000)), INGRESS_QUOTAS.rulesPerAlbDefault),
    /** CIDRs the ALB nodes' addresses come from (the ingress subnets): the gateway's trusted proxies. */
    ingressCidrs: z.array(z.cidrv4()).check(z.minLength(1)),
  }).check(z.refine((s) => new Set(s.shards.map((x) => x.id)).size === s.shards.length, { error: 'shard ids must be unique' }));
export type IngressSettings = z.infer<typeof IngressSettingsSchema>;

export { IngressOidcRequestSchema, OIDC_CLIENT_SECRET_CREDENTIAL, oidcClientSecretName, oidcSettings, TenantOidcSchema, type IngressOidcRequest, type TenantOidc } from './ingress-oidc';

/** What is recorded on the tenant record once the route exists. */
export const IngressPlacementSchema = z.strictObject({
    shardId: z.string(),
    hostname: z.string(),
    priority: z.int().check(z.gte(1)).check(z.lte(INGRESS_QUOTAS.maxRulePriority)),
    targetGroupArn: z.string(),
    ruleArn: z.string(),
    mode: z.enum(['staging', 'live', 'maintenance']),
    /** While the route is `staging`: the x-octw-staging header value that reaches it (not a credential: the gateway's token still guards it). */
    stagingToken: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{16,128}$/))),
  });
export type IngressPlacement = z.infer<typeof IngressPlacementSchema>;

/**
 * What the handlers that touch ingress read from INGRESS_SETTINGS_JSON: `{"enabled": false}` when
 * the cell has no ingress (cdk.json has no `ingress` key), else the route settings and the ingress
 * tier's security group (the only source tenant security groups admit, on the gateway port).
 */
export const IngressEnvSchema = z.discriminatedUnion('enabled', [
  z.strictObject({ enabled: z.literal(false) }),
  z.strictObject({
      enabled: z.literal(true),
      settings: IngressSettingsSchema,
      securityGroupId: z.string().check(z.regex(/^sg-[0-9a-f]{8,17}$/, { error: 'securityGroupId must be a security group id' })),
    }),
]);
export type IngressEnv = z.infer<typeof IngressEnvSchema>;

/** A tenant's OIDC provider as recorded: the ALB settings plus the NAME of the tenant secret holding the client secret. */
export const TenantOidcRefSchema = z.strictObject({ ...TenantOidcSchema.shape, ...{
  clientSecretName: z.string().check(z.minLength(1)).check(z.maxLength(512)),
} });
export type TenantOidcRef = z.infer<typeof TenantOidcRefSchema>;
export type RouteMode = IngressPlacement['mode'];

export function tenantHostname(id: TenantId, domain: string): string {
  TenantIdSchema.parse(id);
  CellDomainSchema.parse(domain);
  const host = `${id}.${domain}`;
  if (host.length > 253) throw new RangeError(`hostname ${host} is longer than 253 characters`);
  return host;
}

/** The one browser origin the tenant's gateway accepts. */
export function tenantOrigin(id: TenantId, domain: string): string {
  return `https://${tenantHostname(id, domain)}`;
}

/**
 * Target group name: `octw-` + 27 hex of sha256(cell/tenant) = 32 characters, the ELBv2 maximum.
 * Tenant ids are up to 32 characters and cells have their own ids, so the name is a digest; the
 * `octw:tenant` / `octw:cell` tags map it back and are checked before anything is adopted.
 */
export function targetGroupName(cell: string, id: TenantId): string {
  const digest = createHash('sha256').update(`${cell}/${id}`).digest('hex');
  return `octw-${digest.slice(0, TARGET_GROUP_NAME_MAX - 5)}`;
}

/**
 * The priority a tenant tries first on a listener: spread by a hash so that concurrent
 * provisions rarely collide; a collision is answered by AWS with `PriorityInUse` and the adapter
 * moves to the next free priority. Uniqueness is enforced by the listener itself, atomically.
 */
export function preferredPriority(cell: string, id: TenantId): number {
  const n = createHash('sha256').update(`priority/${cell}/${id}`).digest().readUInt32BE(0);
  return 1 + (n % INGRESS_QUOTAS.maxRulePriority);
}

/** The first priority at or after `start` (wrapping) that is not in `used`. */
export function nextFreePriority(used: ReadonlySet<number>, start: number): number {
  const max = INGRESS_QUOTAS.maxRulePriority;
  if (used.size >= max) throw new RangeError('every listener rule priority is in use');
  for (let k = 0; k < max; k++) {
    const p = ((start - 1 + k) % max) + 1;
    if (!used.has(p)) return p;
  }
  /* c8 ignore next */
  throw new RangeError('every listener rule priority is in use');
}

export interface ShardUsage {
  readonly shardId: string;
  /** Non-default rules on the shard's listener(s). */
  readonly rules: number;
  /** Distinct target groups the shard's rules forward to. */
  readonly targetGroups: number;
}

/**
 * First-fit placement: the first configured shard (in order) with room for one more rule and one
 * more target group, skipping `exclude` (shards that just answered TooManyRules or
 * TooManyUniqueTargetGroupsPerLoadBalancer). First-fit keeps shards full, so a cell pays for as
 * few load balancers as it needs; `undefined` when every shard is full.
 */
export function chooseShard(
  shards: readonly IngressShard[],
  usage: ReadonlyMap<string, ShardUsage>,
  rulesPerShard: number,
  exclude: ReadonlySet<string> = new Set(),
): IngressShard | undefined {
  const rulesCap = Math.min(rulesPerShard, Number.MAX_SAFE_INTEGER);
  return shards.find((s) => {
    if (exclude.has(s.id)) return false;
    const u = usage.get(s.id) ?? { shardId: s.id, rules: 0, targetGroups: 0 };
    return u.rules < rulesCap && u.targetGroups < INGRESS_QUOTAS.targetGroupsPerAlb;
  });
}

/** Tenants a cell can route with these shards (the smaller of the two per-ALB caps). */
export function shardCapacity(rulesPerShard: number): number {
  return Math.min(rulesPerShard, INGRESS_QUOTAS.targetGroupsPerAlb);
}

// ---------- listener rule shapes (mirroring the ELBv2 API) ----------

export interface RuleCondition {
  readonly Field: 'host-header' | 'http-header';
  readonly HostHeaderConfig?: { readonly Values: readonly string[] };
  readonly HttpHeaderConfig?: { readonly HttpHeaderName: string; readonly Values: readonly string[] };
}

export interface RuleAction {
  readonly Type: 'forward' | 'fixed-response' | 'authenticate-oidc';
  readonly Order: number;
  readonly TargetGroupArn?: string;
  readonly FixedResponseConfig?: { readonly StatusCode: string; readonly ContentType: string; readonly MessageBody: string };
  readonly AuthenticateOidcConfig?: {
    readonly Issuer: string;
    readonly AuthorizationEndpoint: string;
    readonly TokenEndpoint: string;
    readonly UserInfoEndpoint: string;
    readonly ClientId: string;
    readonly ClientSecret: string;
    readonly OnUnauthenticatedRequest: 'authenticate' | 'deny' | 'allow';
    readonly SessionCookieName: string;
    readonly Scope: string;
  };
}

export const MAINTENANCE_BODY =
  '<!doctype html><title>Maintenance</title><p>This assistant is paused. It will be back when its owner resumes it.</p>';

/** Conditions of a tenant's rule: the exact host, plus the staging header while the route is private. */
export function ruleConditions(hostname: string, mode: RouteMode, stagingToken?: string): RuleCondition[] {
  const conditions: RuleCondition[] = [{ Field: 'host-header', HostHeaderConfig: { Values: [hostname] } }];
  if (mode === 'staging') {
    if (!stagingToken || !/^[A-Za-z0-9_-]{16,128}$/.test(stagingToken)) {
      throw new RangeError('a staging route needs a staging token of 16-128 URL-safe characters');
    }
    conditions.push({ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: STAGING_HEADER, Values: [stagingToken] } });
  }
  return conditions;
}

/**
 * Actions of a tenant's rule. `maintenance`: a fixed 503 page (the target group stays, so the
 * shard's count does not change and resume is one ModifyRule). Otherwise forward to the tenant's
 * own target group, behind `authenticate-oidc` when the tenant configured an identity provider.
 */
export function ruleActions(
  mode: RouteMode,
  targetGroupArn: string,
  oidc?: { readonly config: TenantOidc; readonly clientSecret: string; readonly tenantId: TenantId },
): RuleAction[] {
  if (mode === 'maintenance') {
    return [{ Type: 'fixed-response', Order: 1, FixedResponseConfig: { StatusCode: '503', ContentType: 'text/html', MessageBody: MAINTENANCE_BODY } }];
  }
  const forward: RuleAction = { Type: 'forward', Order: oidc ? 2 : 1, TargetGroupArn: targetGroupArn };
  if (!oidc) return [forward];
  if (oidc.clientSecret.length === 0) throw new RangeError('the OIDC client secret is empty');
  return [
    {
      Type: 'authenticate-oidc',
      Order: 1,
      AuthenticateOidcConfig: {
        Issuer: oidc.config.issuer,
        AuthorizationEndpoint: oidc.config.authorizationEndpoint,
        TokenEndpoint: oidc.config.tokenEndpoint,
        UserInfoEndpoint: oidc.config.userInfoEndpoint,
        ClientId: oidc.config.clientId,
        ClientSecret: oidc.clientSecret,
        // A browser is sent to the tenant's IdP; API and WebSocket clients without a session get 401.
        OnUnauthenticatedRequest: 'authenticate',
        SessionCookieName: `octw-${oidc.tenantId}`,
        Scope: 'openid',
      },
    },
    forward,
  ];
}

// ---------- OpenClaw keys the ingress needs ----------

/**
 * The `gateway.*` keys of openclaw.json that ingress changes, to be merged by renderOpenClawConfig:
 * - `trustedProxies`: the ingress subnets, so OpenClaw reads the client address from
 *   X-Forwarded-For set by the ALB and its auth rate limiter counts real clients;
 * - `controlUi.allowedOrigins`: exactly the tenant's origin, never a wildcard;
 * - token auth stays on (nothing here changes `gateway.auth`).
 */
export function ingressGatewayKeys(
  id: TenantId,
  settings: Pick<IngressSettings, 'domain' | 'ingressCidrs'>,
): { trustedProxies: string[]; controlUi: { enabled: true; allowedOrigins: [string] } } {
  const cidrs = z.array(z.cidrv4()).check(z.minLength(1)).parse(settings.ingressCidrs);
  for (const c of cidrs) {
    if (c.endsWith('/0')) throw new RangeError(`ingress CIDR ${c} would trust every address as a proxy`);
  }
  return { trustedProxies: [...cidrs], controlUi: { enabled: true, allowedOrigins: [tenantOrigin(id, settings.domain)] } };
}

export { GATEWAY_PORT };

/**
 * The one ingress rule a tenant security group gets while ingress is on: TCP on the gateway port
 * from the ingress tier's security group, nothing else (EC2 AuthorizeSecurityGroupIngress shape).
 */
export function tenantIngressPermission(ingressSecurityGroupId: string): {
  IpProtocol: 'tcp';
  FromPort: number;
  ToPort: number;
  UserIdGroupPairs: { GroupId: string; Description: string }[];
} {
  if (!/^sg-[0-9a-f]{8,17}$/.test(ingressSecurityGroupId)) throw new RangeError(`ingress security group id ${ingressSecurityGroupId} is not a security group id`);
  return {
    IpProtocol: 'tcp',
    FromPort: GATEWAY_PORT,
    ToPort: GATEWAY_PORT,
    UserIdGroupPairs: [{ GroupId: ingressSecurityGroupId, Description: 'OCTW ingress tier to the gateway' }],
  };
}
