/**
 * The local cloud's stand-in for the ALB data plane when tenants run on the stand-in task runtime
 * (no real gateway): an HTTP server on loopback that answers a request for `<tenant>.<domain>` the
 * way the cell would, from the fake's state only:
 * - DNS: the tenant's Route 53 alias record names the shard (no record: no route);
 * - the shard's listener rules, evaluated by the ELBv2 fake (priority order, exact host, staging
 *   header, maintenance page, default 404);
 * - a forward reaches the target group's registered targets (ECS registers the running task);
 *   none: 503, as an ALB answers with no healthy target;
 * - the target "gateway" checks the bearer token against the token in the tenant's secret (the
 *   tenant named by the target group's `octw:tenant` tag, as the task definition would inject it):
 *   401 for any other, else the gateway's 404 JSON for the denied tool (what the real gateway
 *   answers: conformance/tests/local-cloud-real-gateway.test.ts).
 * With --real-gateway the real local ingress (HAProxy, local-ingress.ts) replaces this.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { names } from '../../../functions/domain/naming';
import type { FakeAws } from '../fake-aws';

export interface FakeAlbOptions {
  readonly cell: string;
  readonly hostedZoneId: string;
  readonly shards: readonly { readonly listenerArn: string; readonly dnsName: string }[];
}

export class FakeAlb {
  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly flags: { refuseEveryToken: boolean },
  ) {}

  /** Test switch: the target "gateway" refuses every token (a gateway started with another token than its secret's). */
  get refuseEveryToken(): boolean {
    return this.flags.refuseEveryToken;
  }

  set refuseEveryToken(value: boolean) {
    this.flags.refuseEveryToken = value;
  }

  static async start(fake: FakeAws, options: FakeAlbOptions): Promise<FakeAlb> {
    const flags = { refuseEveryToken: false };
    const server = createServer((req, res) => {
      const answer = (status: number, contentType: string, body: string) => {
        res.writeHead(status, { 'content-type': contentType });
        res.end(body);
      };
      const host = (req.headers.host ?? '').split(':')[0]!.toLowerCase();
      const record = fake.ingress.route53.record(options.hostedZoneId, host);
      const shard = options.shards.find((s) => record?.AliasTarget?.DNSName?.toLowerCase() === `dualstack.${s.dnsName}.`.toLowerCase());
      if (!shard) return answer(502, 'text/plain', `no DNS record for ${host}`);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const out = fake.ingress.elb.route(shard.listenerArn, host, headers);
      if (out.kind === 'fixed') {
        const action = out.rule?.actions.find((a) => a.Type === 'fixed-response')?.FixedResponseConfig;
        return answer(Number(out.status), action?.ContentType ?? 'text/plain', action?.MessageBody ?? 'Not found');
      }
      const tg = fake.ingress.elb.targetGroups.get(out.targetGroupArn);
      if (!tg || tg.targets.size === 0) return answer(503, 'text/html', '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
      const tenantId = tg.tags.get('octw:tenant') ?? '';
      const token = fake.secret(names.secret({ cell: options.cell, tenantId }))?.secretString;
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      req.resume();
      if (!token || bearer !== token || flags.refuseEveryToken) return answer(401, 'application/json', JSON.stringify({ ok: false, error: { type: 'unauthorized' } }));
      return answer(404, 'application/json', JSON.stringify({ ok: false, error: { type: 'not_found', message: 'Tool not available' } }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new FakeAlb(server, `http://127.0.0.1:${port}`, flags);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
