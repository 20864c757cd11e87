/**
 * The egress proxy's configuration (issue 10): cdk.json context key `egressProxy`, checked with zod,
 * parsed as part of the platform configuration (infra/config.ts `egressProxy`).
 *
 * On by default once an image is configured: `image` set and `enabled` not false = every tenant of
 * the cell reaches the internet only through the proxy. Without an image (a first deployment
 * before the proxy image is built and pushed) there is no proxy: tenants reach the internet through
 * their CIDR rules only, host policies are stored but not enforced, and synth warns.
 */
import * as z from 'zod';

const Ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, { error: 'must be an IPv4 address' });
const DomainName = z.string().regex(/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { error: 'must be a lowercase domain name, optionally starting with "*."' });

export const EgressProxyConfigSchema = z
  .object({
    /** Deploy the per-cell proxy (default on, once `image` is set). */
    enabled: z.boolean().default(true),
    /** The proxy image (egress/Dockerfile), pinned by digest. Absent: no proxy (see above). */
    image: z.string().regex(/^[a-z0-9.\-/:]+@sha256:[0-9a-f]{64}$/, { error: 'egressProxy.image must be pinned by digest (repo@sha256:...)' }).optional(),
    port: z.int().min(1024).max(65535).default(3128),
    /** Proxy tasks: at least 2 (one per AZ at least). */
    minTasks: z.int().min(2).max(100).default(2),
    maxTasks: z.int().min(2).max(100).default(6),
    cpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)]).default(512),
    memoryMiB: z.int().min(512).max(30720).default(1024),
    /** CPU utilisation the service scales to. */
    targetCpuPercent: z.int().min(10).max(90).default(50),
    /** Ports the proxy may open upstream (the union of what the plans allow). */
    upstreamPorts: z.array(z.int().min(1).max(65535)).min(1).default([443, 80]),
    /**
     * Resolvers the proxy asks (it resolves destinations itself): not the VPC resolver, whose DNS
     * Firewall answers only the platform's names. Reached over NAT on 53/udp+tcp from the proxy only.
     */
    dnsResolvers: z.array(Ipv4).min(1).default(['1.1.1.1', '8.8.8.8']),
    /** Route 53 Resolver DNS Firewall on the cell's VPC. Default: on for a new VPC, off for an existing one. */
    dnsFirewall: z.boolean().optional(),
    /** More names the VPC may resolve (e.g. a peered service); wildcards as "*.example.com". */
    dnsFirewallExtraDomains: z.array(DomainName).default([]),
    /** Keep the last good policy this long when the policy table is unreadable, then deny everything. */
    maxStaleSeconds: z.int().min(5).max(3600).default(60),
    /** Seconds between policy polls (one strongly consistent GetItem each). */
    pollSeconds: z.int().min(1).max(60).default(2),
    /** Seconds Squid caches its policy helper's answer: a change is in force within pollSeconds + this (+ 0.2 s). */
    policyCacheSeconds: z.int().min(1).max(60).default(2),
    /** One TenantEgressDenied event per tenant per this many seconds at most (the metrics count every denial). */
    denialEventIntervalSeconds: z.int().min(60).max(86_400).default(900),
  })
  .strict()
  .refine((c) => c.maxTasks >= c.minTasks, { error: 'egressProxy.maxTasks must be at least minTasks' });
export type EgressProxyContext = z.infer<typeof EgressProxyConfigSchema>;
/** A proxy that is deployed: enabled, with its image. */
export type EgressProxyConfig = EgressProxyContext & { image: string };

/** The deployed proxy of a parsed `egressProxy` value: undefined when absent, disabled or without an image. */
export function activeEgressProxy(c: EgressProxyContext | undefined): EgressProxyConfig | undefined {
  return c?.enabled && c.image ? { ...c, image: c.image } : undefined;
}

/** Parses the `egressProxy` context value; undefined when absent, disabled or without an image. Throws naming the key. */
export function egressProxyConfigFrom(value: unknown): EgressProxyConfig | undefined {
  if (value === undefined) return undefined;
  const parsed = EgressProxyConfigSchema.safeParse(typeof value === 'string' ? (JSON.parse(value) as unknown) : value);
  if (!parsed.success) throw new Error(`cdk.json context "egressProxy" is invalid: ${z.prettifyError(parsed.error)}`);
  return activeEgressProxy(parsed.data);
}
