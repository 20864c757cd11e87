/**
 * The ingress ports bound to AWS: ELBv2 and Route 53 SDK clients (one call per port method), the
 * tenant's OIDC client secret from Secrets Manager (only a secret under the tenant's own prefix),
 * and the authenticated handshake through the tenant's route (HTTP to the load balancer).
 */
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { ForeignResourceError, ValidationError } from '../domain/errors';
import { cellSecretPrefix } from '../domain/naming';
import type { TenantId } from '../domain/tenant';
import { awsCall } from '../shared/aws-errors';
import type { ElbV2Port, OidcSecretReader, Route53Port } from './ingress-routes';
import { TenantCredentials, type CredentialVerifier } from './tenant-credentials';

/** ELBv2 port over the SDK client: the port's shapes are the SDK's, narrowed. */
export function elbV2PortFromClient(client: ElasticLoadBalancingV2Client): ElbV2Port {
  return {
    createTargetGroup: (i) => client.send(new CreateTargetGroupCommand(i)),
    describeTargetGroups: (i) => client.send(new DescribeTargetGroupsCommand(i)),
    deleteTargetGroup: (i) => client.send(new DeleteTargetGroupCommand(i)),
    describeTags: (i) => client.send(new DescribeTagsCommand(i)),
    describeRules: (i) => client.send(new DescribeRulesCommand(i)),
    createRule: (i) => client.send(new CreateRuleCommand(i)),
    modifyRule: (i) => client.send(new ModifyRuleCommand(i)),
    deleteRule: (i) => client.send(new DeleteRuleCommand(i)),
  };
}

export function route53PortFromClient(client: Route53Client): Route53Port {
  return {
    changeResourceRecordSets: (i) => client.send(new ChangeResourceRecordSetsCommand(i)),
    listResourceRecordSets: (i) => client.send(new ListResourceRecordSetsCommand(i)),
  };
}

/**
 * A tenant's OIDC client secret, read at the moment the rule is put: only a secret under the
 * tenant's own credentials prefix (`octw/tenants/<cell>/<tenant>/credentials/`) AND tagged as this
 * tenant's of this cell (TenantCredentials.verify, as channel tokens are checked), so a record can
 * never point the ALB at another tenant's (or the platform's) secret. The value goes into the
 * CreateRule/ModifyRule call only: never returned, logged or recorded.
 */
export class TenantOidcSecrets {
  private readonly verifier: CredentialVerifier;

  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly cell: string,
    private readonly secretNameOf: (tenantId: TenantId) => Promise<string | undefined>,
    verifier?: CredentialVerifier,
  ) {
    this.verifier = verifier ?? new TenantCredentials(secrets);
  }

  static prefix(cell: string, tenantId: TenantId): string {
    return `${cellSecretPrefix(cell)}${tenantId}/credentials/`;
  }

  reader(): OidcSecretReader {
    return {
      clientSecret: async (tenantId) => {
        const name = await this.secretNameOf(tenantId);
        if (!name) throw new ValidationError(`tenant "${tenantId}" has OIDC configured but no client secret name`);
        const prefix = TenantOidcSecrets.prefix(this.cell, tenantId);
        if (!name.startsWith(prefix) || name.includes('..')) {
          throw new ForeignResourceError(`OIDC client secret "${name}" is not under tenant "${tenantId}"'s prefix ${prefix}: refusing to read it`);
        }
        const arn = await this.verifier.verify(name, { cell: this.cell, tenantId }, 'ingressOidc.clientSecret');
        const out = await awsCall('SecretsManager GetSecretValue', () => this.secrets.send(new GetSecretValueCommand({ SecretId: arn })));
        if (!out.SecretString) throw new ValidationError(`OIDC client secret "${name}" is empty`);
        return out.SecretString;
      },
    };
  }
}

export interface ProbeResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** One HTTP(S) request to `origin` with the tenant's Host header (the load balancer routes on it). */
export type ProbeTransport = (input: { origin: string; hostname: string; path: string; method: 'POST'; headers: Record<string, string>; body: string }) => Promise<ProbeResponse>;

/** Node's http/https, Host (and TLS SNI) set to the tenant's hostname, 10 s timeout. */
export const nodeProbeTransport: ProbeTransport = ({ origin, hostname, path, method, headers, body }) =>
  new Promise((resolve, reject) => {
    const url = new URL(path, origin);
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method,
        headers: { ...headers, host: hostname, 'content-length': Buffer.byteLength(body) },
        ...(url.protocol === 'https:' ? { servername: hostname } : {}),
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (chunks.reduce((n, x) => n + x.length, 0) < 64 * 1024) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${origin} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });

/**
 * The authenticated handshake through the route: the same request with a wrong token and with the
 * tenant's token, to `POST /tools/invoke` (a tool the rendered config denies over HTTP).
 * - wrong token → 401: the request reached a gateway that checks tokens (the ALB's default action
 *   answers 404 text, the maintenance page 503: neither is a 401);
 * - the tenant's token → not 401 and not 5xx, a JSON answer of the gateway (404 `not_found`: the
 *   tool is refused, as it must be): the token in the tenant's secret is the one its gateway takes.
 */
/** Answers of an ingress tier whose route or target has not settled yet (ALB default 404, no healthy target 503, 502/504). */
const UNSETTLED = new Set([404, 502, 503, 504]);

export class GatewayHandshake {
  constructor(
    private readonly tokenOf: (tenantId: TenantId) => Promise<string>,
    private readonly transport: ProbeTransport = nodeProbeTransport,
    /** Where to send the request; default `https://<hostname>` (the tenant's DNS record). The local cloud sets its local ingress. */
    private readonly origin?: string,
    /**
     * Real time (not the workflow's retry schedule) the wrong-token probe keeps asking while the
     * ingress tier answers for a route or target that has not settled (404/502/503/504, or no
     * answer): a target the ALB has just registered gets 503 until its first health checks pass.
     */
    private readonly settle: { budgetMs: number; pauseMs: number } = { budgetMs: 20_000, pauseMs: 1000 },
  ) {}

  async handshake(input: { url: string; headers: Record<string, string>; tenantId: TenantId }): Promise<{ ok: boolean; detail: string }> {
    const hostname = new URL(input.url).hostname;
    const origin = this.origin ?? `https://${hostname}`;
    const token = await this.tokenOf(input.tenantId);
    const ask = (bearer: string) =>
      this.transport({
        origin,
        hostname,
        path: '/tools/invoke',
        method: 'POST',
        headers: { ...input.headers, authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'session_status', args: {} }),
      });
    let wrong: ProbeResponse | undefined;
    let right: ProbeResponse;
    const until = Date.now() + this.settle.budgetMs;
    let attempts = 0;
    let lastError: Error | undefined;
    for (;;) {
      attempts++;
      try {
        wrong = await ask(randomBytes(24).toString('base64url'));
        lastError = undefined;
        if (wrong.status === 401 || !UNSETTLED.has(wrong.status)) break;
      } catch (err) {
        lastError = err as Error;
      }
      if (Date.now() + this.settle.pauseMs > until) break;
      await new Promise((r) => setTimeout(r, this.settle.pauseMs));
    }
    const tries = attempts > 1 ? ` (${attempts} attempts over ${Math.round(this.settle.budgetMs / 1000)} s)` : '';
    if (lastError || !wrong) return { ok: false, detail: `no answer through the route${tries}: ${lastError?.message ?? 'none'}` };
    if (wrong.status !== 401) return { ok: false, detail: `a wrong token got ${wrong.status}, not 401${tries}: the route does not reach a gateway that checks tokens` };
    try {
      right = await ask(token);
    } catch (err) {
      return { ok: false, detail: `no answer through the route: ${(err as Error).message}` };
    }
    if (right.status === 401 || right.status === 403) return { ok: false, detail: `the tenant's token was refused (${right.status})` };
    if (right.status >= 500) return { ok: false, detail: `the gateway answered ${right.status}` };
    let json: unknown;
    try {
      json = JSON.parse(right.body);
    } catch {
      return { ok: false, detail: `answer ${right.status} (${right.contentType}) is not the gateway's JSON` };
    }
    if (typeof json !== 'object' || json === null || typeof (json as { ok?: unknown }).ok !== 'boolean') {
      return { ok: false, detail: `answer ${right.status} is not the gateway's JSON` };
    }
    return { ok: true, detail: `authenticated through ${hostname} (${right.status})` };
  }
}
