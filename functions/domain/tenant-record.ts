/**
 * The tenant record as stored (one item per tenant, key TENANT#<id> / META) and its audit items.
 */
import * as z from '../shared/zod';
import { TenantChannelSchema } from './channels';
import { TenantModelKeySchema } from './models';
import { IngressPlacementSchema, TenantOidcRefSchema } from './ingress';
import { EgressRuleSchema, TenantIdSchema, TenantResourcesSchema, TenantStatusSchema } from './tenant';
import { HostRuleSchema } from './egress-policy';

export const ErrorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  at: z.string(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** What an update replaces, kept in the record while the tenant is UPDATING so the workflow can put it back. */
export const PreviousConfigSchema = z.object({
  plan: z.string(),
  egressAllowlist: z.array(EgressRuleSchema),
  hostAllowlist: z._default(z.array(HostRuleSchema), []),
  imageOverride: z.optional(z.string()),
  /** The channels before the update (absent in updates started before channels existed: unchanged). */
  channels: z.optional(z.array(TenantChannelSchema)),
  modelKeys: z.optional(z.array(TenantModelKeySchema)),
  /** The OIDC provider before an update that changed it (`null`: none); absent when the update left it alone. */
  ingressOidc: z.optional(z.nullable(TenantOidcRefSchema)),
  configHash: z.string(),
  taskDefinitionArn: z.optional(z.string()),
});
export type PreviousConfig = z.infer<typeof PreviousConfigSchema>;

export const TenantRecordSchema = z.object({
  pk: z.string().check(z.startsWith('TENANT#')),
  sk: z.literal('META'),
  tenantId: TenantIdSchema,
  status: TenantStatusSchema,
  /** Incremented by every transition; transitions are conditional on it. */
  version: z.int().check(z.gte(1)),
  /** Incremented each time the tenant is (re)provisioned; part of the provision execution name. */
  generation: z.int().check(z.gte(1)),
  cell: z.string(),
  displayName: z.string(),
  ownerEmail: z.string(),
  plan: z.string(),
  egressAllowlist: z.array(EgressRuleSchema),
  /**
   * The tenant's host policy at the egress proxy (issue 10): the validated entries of its signup or
   * last update, expanded (presets included, each rule with its origin). What the proxy enforces is
   * `effectiveHostRules(record)` (functions/domain/tenant-egress.ts). Absent in older records = none.
   */
  hostAllowlist: z._default(z.array(HostRuleSchema), []),
  /** Image pinned by digest that replaces the plan's image for this tenant (set by an update). */
  imageOverride: z.optional(z.string()),
  /**
   * The tenant's channels: type, settings and credential secret ARNs (references, never values),
   * each verified as this tenant's own when it was set. Changed only by an update.
   */
  channels: z.optional(z.array(TenantChannelSchema)),
  /** The tenant's own provider keys: provider id and credential secret ARN (verified as its own when set; never a value). */
  modelKeys: z.optional(z.array(TenantModelKeySchema)),
  /** Hash of (plan, allowlist, host allowlist, image, channels): what the running gateway was built from. */
  configHash: z.string(),
  /** Only while UPDATING: the configuration the update replaces (restored if the update fails). */
  previous: z.optional(PreviousConfigSchema),
  idempotencyKey: z.optional(z.string()),
  uid: z.optional(z.int()),
  gid: z.optional(z.int()),
  /** The workflow execution that holds (or last held) the tenant. */
  executionArn: z.optional(z.string()),
  resources: z._default(TenantResourcesSchema, {}),
  /** Ingress (issue 12): the tenant's route (shard, priority, target group, rule, mode); absent while it has none. */
  ingress: z.optional(IngressPlacementSchema),
  /** Ingress: the tenant's own OIDC provider in front of its gateway (client secret by tenant-secret name). */
  ingressOidc: z.optional(TenantOidcRefSchema),
  /**
   * ISO timestamp of the latest entry into each status. Entries are never removed: a status
   * present here was entered at least once (e.g. `ACTIVE`: the tenant served and may hold data;
   * `DEPROVISIONING`: a deprovision ran). Signup admission relies on it (see domain/lifecycle.ts).
   */
  transitions: z._default(z.record(z.string(), z.string()), {}),
  lastError: z.optional(ErrorInfoSchema),
  /** Set when deprovisioned: data on EFS is kept until then, then purged. */
  dataRetainedUntil: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TenantRecord = z.infer<typeof TenantRecordSchema>;

export const AuditItemSchema = z.object({
  pk: z.string(),
  sk: z.string().check(z.startsWith('AUDIT#')),
  tenantId: z.string(),
  transition: z.string(),
  from: z.string(),
  to: z.string(),
  version: z.int(),
  at: z.string(),
  executionArn: z.optional(z.string()),
  error: z.optional(ErrorInfoSchema),
  /** What the transition changed, in words without secrets (e.g. `channels: +telegram`). */
  changes: z.optional(z.array(z.string())),
});
export type AuditItem = z.infer<typeof AuditItemSchema>;

/** What a workflow passes between its steps: enough to find the record and prove it holds it. */
export const TenantRefSchema = z.object({
  tenantId: TenantIdSchema,
  executionArn: z.string().check(z.minLength(1)),
});
export type TenantRef = z.infer<typeof TenantRefSchema>;
