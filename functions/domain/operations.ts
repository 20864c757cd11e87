/**
 * Operator requests on an existing tenant: their inputs (the state-machine input, from the
 * console, the CLI or an event) and the deterministic execution names that make a repeated
 * request a no-op. Pure domain code.
 */
import * as z from '../shared/zod';
import { ChannelListRequestSchema, CredentialGenerationSchema } from './channels';
import { ModelKeysRequestSchema } from './models';
import { EgressRuleSchema, TenantIdSchema } from './tenant';
import { HostEntryInputSchema } from './egress-policy';
import { IngressOidcRequestSchema } from './ingress-oidc';

export const OPERATIONS = {
  provision: 'ProvisionTenant',
  /** An operator's explicit re-provisioning of a FAILED tenant: the provision workflow with a ReprovisionRequest. */
  reprovision: 'ProvisionTenant',
  deprovision: 'DeprovisionTenant',
  suspend: 'SuspendTenant',
  resume: 'ResumeTenant',
  update: 'UpdateTenant',
  purge: 'PurgeTenant',
} as const;
export type Operation = keyof typeof OPERATIONS;

export const TenantRequestSchema = z.strictObject({ tenantId: TenantIdSchema });

/**
 * The input intake starts the provision workflow with: what the workflow needs, and no personal
 * data (the signup's displayName and ownerEmail stay in the tenant record, out of execution
 * input and so out of the state machines' logs).
 */
export const ProvisionRequestSchema = z.strictObject({
    tenantId: TenantIdSchema,
    generation: z.int().check(z.gte(1)),
    plan: z.string().check(z.minLength(1)),
    egressAllowlist: z.array(EgressRuleSchema),
    configHash: z.string().check(z.minLength(1)),
  });
export type ProvisionRequest = z.infer<typeof ProvisionRequestSchema>;

/**
 * An operator's explicit re-provisioning of a FAILED tenant (e.g. one whose deprovision failed,
 * with its data still on EFS): same owner, same uid and data, next generation, a fresh gateway
 * token. Never built from a signup event (intake starts runs only with a ProvisionRequest).
 */
export const ReprovisionRequestSchema = z.strictObject({ tenantId: TenantIdSchema, reprovision: z.literal(true) });
export type ReprovisionRequest = z.infer<typeof ReprovisionRequestSchema>;
export type TenantRequest = z.infer<typeof TenantRequestSchema>;

/** A tenant credential named in an update: `channels.<type>.<field>` or `modelKeys.<provider>`. */
export const CREDENTIAL_KEY = /^(channels\.[a-z][a-z0-9-]{0,31}\.[a-z][a-zA-Z0-9]{0,31}|modelKeys\.[a-z][a-z0-9-]{0,31})$/;

export const UpdateRequestSchema = z.strictObject({
    tenantId: TenantIdSchema,
    plan: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'plan must be a plan id such as "standard"' }))),
    egressAllowlist: z.optional(z.array(EgressRuleSchema).check(z.maxLength(50))),
    /** The tenant's new host policy at the egress proxy (replaces the whole list; [] removes every host). */
    hostAllowlist: z.optional(z.array(HostEntryInputSchema).check(z.maxLength(100, { error: 'hostAllowlist has more than 100 entries' }))),
    /** Image pinned by digest; overrides the plan's image for this tenant. */
    image: z.optional(z
      .string().check(z.regex(/^[a-z0-9.\-/:]+@sha256:[0-9a-f]{64}$/, { error: 'image must be pinned by digest (repo@sha256:...)' }))),
    /**
     * The tenant's channels after the update (the whole list: a channel left out is removed). Each
     * credential is a reference to a secret under the tenant's credentials prefix, never a value.
     */
    channels: z.optional(ChannelListRequestSchema),
    /** The tenant's own provider keys after the update (the whole list; [] removes them): references to its credential secrets. */
    modelKeys: z.optional(ModelKeysRequestSchema),
    /**
     * Credential rotation: the new generation of each named credential of the tenant
     * (`channels.<type>.<field>` or `modelKeys.<provider>`), above its current one. The caller has
     * put the new value in the credential's secret; the counter (never the value) changes the config
     * hash, so the update registers a new task revision and ECS injects the new value.
     */
    credentialGenerations: z.optional(z
      .record(z.string().check(z.regex(CREDENTIAL_KEY, { error: 'a credential is named channels.<type>.<field> or modelKeys.<provider>' })), CredentialGenerationSchema).check(z.refine((g) => Object.keys(g).length >= 1 && Object.keys(g).length <= 16, { error: 'credentialGenerations names 1 to 16 credentials' }))),
    /**
     * The tenant's OIDC provider in front of its endpoint (only in a cell with ingress): its settings
     * and a reference to the credential secret with the client secret; `null` removes it.
     */
    ingressOidc: z.optional(z.nullable(IngressOidcRequestSchema)),
  }).check(z.refine((u) =>
      u.plan !== undefined ||
      u.egressAllowlist !== undefined ||
      u.hostAllowlist !== undefined ||
      u.image !== undefined ||
      u.channels !== undefined ||
      u.modelKeys !== undefined ||
      u.credentialGenerations !== undefined ||
      u.ingressOidc !== undefined, { error: 'an update must change at least one of plan, egressAllowlist, hostAllowlist, image, channels, modelKeys, credentialGenerations, ingressOidc' }));
export type UpdateRequest = z.infer<typeof UpdateRequestSchema>;

export const PurgeRequestSchema = z.strictObject({
    tenantId: TenantIdSchema,
    /** Right to erasure: purge now instead of waiting for the retention period to end. */
    immediate: z._default(z.boolean(), false),
  });
export type PurgeRequest = z.infer<typeof PurgeRequestSchema>;

/**
 * `<operation>-<tenantId>-v<version>`: the same request against the same record version gets
 * the same name (StartExecution is then a no-op or ExecutionAlreadyExists); a request made after
 * the tenant changed gets a new one. At most 80 characters (tenant ids are at most 32).
 */
export function operationExecutionName(operation: Exclude<Operation, 'provision' | 'reprovision'>, tenantId: string, version: number): string {
  return `${operation}-${tenantId}-v${version}`;
}
