/**
 * The operator's egress settings of a cell (cdk.json `protectedCidrs`, `allowedPrivateCidrs`,
 * `approvedPrefixLists`), as the handlers receive them (env EGRESS_SETTINGS_JSON). Validated in
 * full at synth (infra/config.ts, `validateEgressSettings`); here only their shape.
 */
import * as z from '../shared/zod';

export const ApprovedPrefixListSchema = z.strictObject({
    /** The customer-managed prefix list, `pl-...`. */
    id: z.string().check(z.regex(/^pl-[0-9a-f]{8,17}$/, { error: 'id must look like pl-0123abcd' })),
    /** Its name in EC2 (AWS-managed `com.amazonaws.*` lists are refused). */
    name: z.string().check(z.minLength(1)).check(z.maxLength(255)),
    /** Its max entries: what EC2 counts against a group's rule quota for each rule naming it. */
    maxEntries: z.int().check(z.gte(1)).check(z.lte(1000)),
    /** Its entries, each checked as a tenant CIDR is. */
    entries: z.array(z.string()).check(z.minLength(1)).check(z.maxLength(1000)),
  });

export const EgressSettingsSchema = z.strictObject({
    /** Every network tenants must never reach: all VPC CIDRs, peered, transit gateway, on-premises ranges. */
    protectedCidrs: z.array(z.string()).check(z.minLength(1)),
    /** Ranges of private or shared address space tenants may reach. */
    allowedPrivateCidrs: z._default(z.array(z.string()), []),
    /** Prefix lists tenants may name in their allowlists. */
    approvedPrefixLists: z._default(z.array(ApprovedPrefixListSchema), []),
  });
export type EgressSettings = z.infer<typeof EgressSettingsSchema>;
