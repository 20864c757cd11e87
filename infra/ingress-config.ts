/**
 * The `ingress` context key of cdk.json: off when absent; on with a domain, its hosted zone and an
 * ACM certificate covering `*.<domain>`. The coordinator hooks `IngressContextSchema` into
 * infra/config.ts as `ingress: IngressContextSchema.optional()`.
 */
import * as z from 'zod';
import { CellDomainSchema, INGRESS_QUOTAS } from '../functions/domain/ingress';

export const IngressContextSchema = z
  .object({
    /** Tenants are served at `https://<tenant>.<domain>`. */
    domain: CellDomainSchema,
    /** The public hosted zone of `domain` (per-tenant alias records are written at runtime). */
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, { error: 'ingress.hostedZoneId must look like Z0123456789ABC' }),
    /** ACM certificate in the cell's Region for `*.<domain>` (one wildcard certificate serves every shard). */
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, { error: 'ingress.certificateArn must be an ACM certificate ARN' }),
    /** ALB shards to create: each holds up to 100 tenants (target groups per ALB, not adjustable). @default 1 */
    shards: z.int().min(1).max(INGRESS_QUOTAS.albsPerRegion, { error: `ingress.shards must be 1-${INGRESS_QUOTAS.albsPerRegion} (ALBs per Region, default quota)` }).default(1),
    /** Rules per ALB the account allows: 100 by default; a shard still holds at most 100 tenants. @default 100 */
    rulesPerShard: z.int().min(1).max(1_000).default(INGRESS_QUOTAS.rulesPerAlbDefault),
    /** Idle timeout of the ALB (seconds): WebSockets idle longer than this are closed. @default 3600 */
    idleTimeoutSeconds: z.int().min(60).max(4_000).default(3_600),
    /** WAF: requests per 5 minutes allowed to one tenant host in total. @default 6000 */
    rateLimitPerHost: z.int().min(10).max(2_000_000_000).default(6_000),
    /** WAF: requests per 5 minutes allowed from one client address to one tenant host. @default 600 */
    rateLimitPerClientPerHost: z.int().min(10).max(2_000_000_000).default(600),
    /** Days to keep ALB access logs. @default 90 */
    accessLogRetentionDays: z.int().min(1).max(3_653).default(90),
  })
  .strict();
export type IngressContext = z.infer<typeof IngressContextSchema>;

/** Parses the context value (absent → ingress off) with a message naming the key. */
export function parseIngressContext(value: unknown): IngressContext | undefined {
  if (value === undefined || value === null) return undefined;
  const r = IngressContextSchema.safeParse(typeof value === 'string' ? (JSON.parse(value) as unknown) : value);
  if (!r.success) {
    throw new Error(`cdk.json context "ingress" is invalid: ${r.error.issues.map((i) => `${['ingress', ...i.path.map(String)].join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}
