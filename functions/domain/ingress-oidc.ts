/**
 * A tenant's own OIDC identity provider in front of its gateway (issue 12: ALB `authenticate-oidc`
 * with the tenant's issuer and client; the client secret is a tenant credential secret). Its own
 * module (zod only) so the signup and update schemas can use it without importing the ingress domain.
 * Pure domain code.
 */
import * as z from '../shared/zod';
import { CREDENTIAL_NAME_PATTERN, names, referenceName, tenantCredentialPrefix, type TenantRef } from './naming';

/** An https:// URL (the ALB refuses any other scheme for its OIDC settings), at most 2,048 characters. */
const oidcUrl = (field: string) =>
  z
    .url({ protocol: /^https$/, hostname: z.regexes.domain, error: `${field} must be an https:// URL with a DNS host name (e.g. https://login.example.com/...)` }).check(z.maxLength(2048, { error: `${field} is longer than 2048 characters` }));

/**
 * Per-tenant OIDC in front of the gateway (ALB `authenticate-oidc`); the client secret is a tenant
 * secret. Every endpoint is given explicitly, as the ALB takes them: the platform never fetches a
 * tenant's discovery document (that would make the workflow call any URL a tenant names).
 */
export const TenantOidcSchema = z.strictObject({
    issuer: oidcUrl('issuer'),
    authorizationEndpoint: oidcUrl('authorizationEndpoint'),
    tokenEndpoint: oidcUrl('tokenEndpoint'),
    userInfoEndpoint: oidcUrl('userInfoEndpoint'),
    clientId: z
      .string().check(z.minLength(1, { error: 'clientId must not be empty' })).check(z.maxLength(256, { error: 'clientId is longer than 256 characters' })).check(z.regex(/^[\x21-\x7e]+$/, { error: 'clientId must be printable ASCII without spaces' })),
  });
export type TenantOidc = z.infer<typeof TenantOidcSchema>;

/**
 * A tenant's OIDC settings as signup and update take them: the ALB settings plus `clientSecret`, a
 * REFERENCE to the tenant credential secret holding the client secret (its credential name, e.g.
 * `oidc-client-secret`, or the full name / ARN under `octw/tenants/<cell>/<id>/credentials/`), never
 * the value. The value is read by the Ingress function only, at the moment it puts the rule.
 */
export const IngressOidcRequestSchema = z.strictObject({ ...TenantOidcSchema.shape, ...{
  clientSecret: z
    .string().check(z.minLength(1, { error: 'clientSecret must name the tenant credential secret that holds the client secret' })).check(z.maxLength(2048)).check(z.refine((s) => !/\s/.test(s), { error: 'clientSecret must be a secret name or ARN (a reference, never the secret itself)' })),
} });
export type IngressOidcRequest = z.infer<typeof IngressOidcRequestSchema>;

/** The ALB settings of a recorded or requested OIDC provider (without any secret reference). */
export function oidcSettings(o: TenantOidc): TenantOidc {
  return { issuer: o.issuer, authorizationEndpoint: o.authorizationEndpoint, tokenEndpoint: o.tokenEndpoint, userInfoEndpoint: o.userInfoEndpoint, clientId: o.clientId };
}

/** The credential name the CLI stores a tenant's OIDC client secret under (`octw tenants ingress --client-secret-file`). */
export const OIDC_CLIENT_SECRET_CREDENTIAL = 'ingress-oidc-client-secret';

/**
 * The full secret name a `clientSecret` reference names, or why it cannot be the tenant's: a
 * credential name (`oidc-client-secret`) becomes `octw/tenants/<cell>/<id>/credentials/<name>`; a
 * full name or ARN must already be under that prefix. Only the name is checked here (no AWS call):
 * the Ingress function verifies the secret's tags (functions/adapters/tenant-credentials.ts) before
 * it reads the value, and an update verifies them before it records the reference.
 */
export function oidcClientSecretName(tenant: TenantRef, reference: string): { name: string } | { problem: string } {
  const prefix = tenantCredentialPrefix(tenant);
  const name = CREDENTIAL_NAME_PATTERN.test(reference) ? names.credentialSecret(tenant, reference) : referenceName(reference);
  if (!name.startsWith(prefix) || !CREDENTIAL_NAME_PATTERN.test(name.slice(prefix.length))) {
    return { problem: `secret "${reference}" is not a credential of tenant "${tenant.tenantId}": it must be a credential name or a secret under ${prefix}<name>` };
  }
  return { name };
}
