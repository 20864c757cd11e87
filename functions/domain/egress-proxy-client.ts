/**
 * How a tenant's gateway reaches the cell's egress proxy (issue 10): the cell's proxy settings as the
 * handlers receive them (env EGRESS_PROXY_JSON), the proxy URL with the tenant's credential, and the
 * environment the gateway container gets. Pure domain code: no AWS SDK.
 *
 * Which variables, and why (OpenClaw 2026.9.6, src/infra/net/proxy/proxy-lifecycle.ts):
 * - `OPENCLAW_PROXY_URL` switches OpenClaw to MANAGED routing (Proxyline): fetch, undici,
 *   node:http/https and WebSocket clients all go through the proxy, and OpenClaw then overwrites
 *   `HTTP(S)_PROXY` with that URL and `NO_PROXY` with loopback only. Nothing but loopback bypasses it:
 *   the AWS SDK's container-credentials call (169.254.170.2) and Bedrock (`*.amazonaws.com`, reached
 *   through the VPC endpoint) would go to the proxy, which refuses both (link-local destination; AWS
 *   endpoint). So a plan with Bedrock models gets ENVIRONMENT routing instead: `HTTPS_PROXY` /
 *   `HTTP_PROXY` (undici's EnvHttpProxyAgent for fetch, and Telegram's own client) with `NO_PROXY`
 *   naming the AWS endpoints and the ECS metadata addresses. A client that ignores the variables there
 *   (a WebSocket library with its own agent) connects directly and is stopped by the tenant security
 *   group, which allows no internet egress besides the proxy: it fails closed, it does not leak.
 * - A plan without Bedrock gets managed routing (`OPENCLAW_PROXY_URL` plus the same `HTTP(S)_PROXY`).
 * No `proxy.*` key in openclaw.json: the URL carries the credential and must stay out of the file.
 */
import * as z from '../shared/zod';

export const EgressProxySettingsSchema = z.discriminatedUnion('enabled', [
  /** No proxy in this cell: tenants reach the internet through their CIDR rules only; host policies are stored, not enforced. */
  z.strictObject({ enabled: z.literal(false) }),
  z.strictObject({
      enabled: z.literal(true),
      /** The cell's egress policy table (`octw-<cell>-egress-policy`). */
      policyTableName: z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/)),
      /** The proxy's private name, e.g. `proxy.cell-1.octw.internal`. */
      proxyHost: z.string().check(z.regex(/^[a-z0-9.-]{1,253}$/)),
      port: z.int().check(z.gte(1)).check(z.lte(65535)),
      /** The security group tenants may reach the proxy through (its load balancer's). */
      clientSecurityGroupId: z.string().check(z.regex(/^sg-[0-9a-f]+$/)),
    }),
]);
export type EgressProxySettings = z.infer<typeof EgressProxySettingsSchema>;
export type EnabledEgressProxy = Extract<EgressProxySettings, { enabled: true }>;

/** Names that never go through the proxy: loopback, the ECS task metadata/credentials addresses, AWS endpoints (VPC endpoints). */
export const PROXY_BYPASS = ['localhost', '127.0.0.1', '::1', '169.254.170.2', '169.254.169.254', '.amazonaws.com'] as const;

/** Proxy basic-auth user = the tenant id (the proxy knows the tenant by it, never by address). */
export function proxyUrl(proxy: Pick<EnabledEgressProxy, 'proxyHost' | 'port'>, tenantId: string, password: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(password)) throw new RangeError('proxy password must be URL-safe (base64url)');
  return `http://${tenantId}:${password}@${proxy.proxyHost}:${proxy.port}`;
}

/** The password inside a proxy URL this module built (for a step that finds the URL already stored). */
export function passwordOf(url: string): string | undefined {
  const m = /^http:\/\/[a-z0-9-]+:([A-Za-z0-9_-]+)@/.exec(url);
  return m?.[1];
}

/** Managed routing (OPENCLAW_PROXY_URL) unless the plan calls Bedrock through the VPC endpoint (see the file comment). */
export function proxyRouting(plan: { bedrockModels: readonly string[] }): 'managed' | 'environment' {
  return plan.bedrockModels.length > 0 ? 'environment' : 'managed';
}

/** The gateway container's proxy variables: secrets (the URL with the credential) and plain environment. */
export function proxyContainerEnv(
  plan: { bedrockModels: readonly string[] },
  proxySecretArn: string,
): { secrets: { name: string; valueFrom: string }[]; environment: { name: string; value: string }[] } {
  const names = proxyRouting(plan) === 'managed' ? ['OPENCLAW_PROXY_URL', 'HTTPS_PROXY', 'HTTP_PROXY'] : ['HTTPS_PROXY', 'HTTP_PROXY'];
  return {
    secrets: names.map((name) => ({ name, valueFrom: proxySecretArn })),
    environment: [{ name: 'NO_PROXY', value: PROXY_BYPASS.join(',') }],
  };
}
