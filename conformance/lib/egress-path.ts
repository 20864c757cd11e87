/**
 * A tenant's egress path for the conformance suite (issues 10 and 11): the cell's real Squid with the
 * configuration and policy helper the image ships (test/egress/squid-harness.ts), its policy read from
 * the cell's egress policy table by the proxy sidecar's own source (DynamoDbPolicySource: the items the
 * platform's Egress function wrote, nothing written by the test), and the task's one route out to it.
 *
 * - Squid listens on a loopback port of the host; a Unix socket on the host pipes to it. Each task gets
 *   a forward on its namespace's loopback at the proxy URL's port to that socket
 *   (launch-gateway.ts `hostForwards`), and the proxy URL's host name resolves to that loopback in the
 *   task (`hosts`, as the VPC resolver answers the cell's private zone with the load balancer). So the
 *   task uses the proxy URL exactly as the platform stored it in the tenant's secret: the tenant's
 *   credential, the cell's proxy name and port.
 * - Upstream names resolve in Squid's own hosts file only (a stub of the provider on a loopback
 *   address of its own): no DNS query leaves the machine.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chmodSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { DynamoDbPolicySource } from '../../functions/egress/policy-source-dynamodb';
import { CellEgressPolicySchema, type CellEgressPolicy } from '../../functions/egress/policy-sync';
import { startSquid, type RunningSquid } from '../../test/egress/squid-harness';

export interface EgressPath {
  readonly squid: RunningSquid;
  /** The host end of every task's route to the proxy. */
  readonly socketPath: string;
  /** Reads the cell's policy table (as the sidecar polls it) and swaps Squid's files; returns what it applied. */
  refresh(): Promise<CellEgressPolicy>;
  /** The launcher options that give a task with this proxy URL its route to the proxy. */
  taskRoute(proxyUrl: string): { hostForwards: { port: number; socketPath: string }[]; hosts: Record<string, string> };
  stop(): Promise<void>;
}

/** The forward's address inside a task: the namespace's loopback, where the forward listens. */
const FORWARD_ADDRESS = '127.0.0.1';

export async function startEgressPath(o: { policyTableName: string; dir: string; upstreamHosts: Record<string, string> }): Promise<EgressPath> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
  const source = new DynamoDbPolicySource(doc, o.policyTableName);
  // Closed until the first read of the table, as the sidecar starts.
  const squid = await startSquid([], { hosts: o.upstreamHosts });
  const socketPath = join(o.dir, 'proxy.sock');
  const forward: Server = createServer((client) => {
    const upstream = connect(squid.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  try {
    await new Promise<void>((r) => forward.listen(socketPath, () => r()));
    chmodSync(socketPath, 0o666);
  } catch (e) {
    await squid.stop();
    throw e;
  }
  return {
    squid,
    socketPath,
    async refresh() {
      const policy = CellEgressPolicySchema.parse(await source.load());
      squid.apply(policy.tenants);
      return policy;
    },
    taskRoute(proxyUrl) {
      const u = new URL(proxyUrl);
      if (u.protocol !== 'http:' || !u.port) throw new Error(`proxy URL ${u.protocol}//${u.host} is not http://host:port`);
      return { hostForwards: [{ port: Number(u.port), socketPath }], hosts: { [u.hostname]: FORWARD_ADDRESS } };
    },
    async stop() {
      await new Promise<void>((r) => forward.close(() => r()));
      await squid.stop();
      doc.destroy();
    },
  };
}

/**
 * argv of a probe to run in a task (`gw.exec`): what any HTTPS client honouring the task's proxy
 * variables does for `https://<host><path>`: CONNECT through the proxy URL in the task's environment
 * (OPENCLAW_PROXY_URL as the platform injected it, with the tenant's credential), then TLS with SNI
 * <host> verified against the task's trusted CAs, then GET <path>. Prints one JSON line:
 * `{ status }` (the proxy's answer to CONNECT), plus `response` (the upstream's status line) or `tls`
 * (the handshake's error: what a client sees when Squid refuses after peeking at the SNI).
 */
export function proxiedHttpsProbe(host: string, path: string): string[] {
  const script = String.raw`
const net = require('net'), tls = require('tls');
const [host, path] = process.argv.slice(1);
const u = new URL(process.env.OPENCLAW_PROXY_URL);
const auth = Buffer.from(decodeURIComponent(u.username) + ':' + decodeURIComponent(u.password)).toString('base64');
const done = (o) => { console.log(JSON.stringify(o)); process.exit(0); };
setTimeout(() => done({ timeout: true }), 30000);
const s = net.connect(Number(u.port), u.hostname);
s.on('error', (e) => done({ connect: e.code }));
s.on('connect', () => s.write('CONNECT ' + host + ':443 HTTP/1.1\r\nHost: ' + host + ':443\r\nProxy-Authorization: Basic ' + auth + '\r\n\r\n'));
let head = '';
const onData = (d) => {
  head += d.toString('latin1');
  if (head.indexOf('\r\n\r\n') < 0) return;
  s.removeListener('data', onData);
  const status = head.split('\r\n')[0];
  if (!/ 200 /.test(status)) return done({ status });
  const t = tls.connect({ socket: s, servername: host });
  let body = '';
  t.on('secureConnect', () => t.write('GET ' + path + ' HTTP/1.1\r\nHost: ' + host + '\r\nConnection: close\r\n\r\n'));
  t.on('data', (c) => { body += c; });
  t.on('error', (e) => done({ status, tls: e.code || e.message }));
  t.on('close', () => done({ status, response: body.split('\r\n')[0] }));
};
s.on('data', onData);
`;
  return ['node', '-e', script, host, path];
}
