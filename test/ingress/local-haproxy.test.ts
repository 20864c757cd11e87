/**
 * The local ingress on the real HAProxy (Debian haproxy 2.6), configured from the fake ALB's
 * listener rules as the adapter left them; two local HTTP + WebSocket servers stand in for two
 * tenants' gateways.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DOMAIN, world } from './support';
import type { IngressWorld } from './support';
import { renderHaproxyConfig, routesFromFake } from '../local-cloud/ingress/haproxy-config';
import { LocalIngress } from '../local-cloud/ingress/local-ingress';

const STAGING = 'stg_0123456789abcdefXYZ';

function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
}

/** A stand-in gateway: answers HTTP with its name and the X-Forwarded-For it saw; speaks just enough WebSocket. */
const upgraded = new Set<Socket>();

function gateway(name: string): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ gateway: name, host: req.headers.host, xff: req.headers['x-forwarded-for'] ?? null }));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.write(wsFrame(`hello from ${name}`));
    socket.on('data', () => socket.write(wsFrame(`pong from ${name}`)));
    socket.on('error', () => undefined);
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function portOf(s: Server): number {
  return (s.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = portOf(s);
  await new Promise((r) => s.close(r));
  return p;
}

function get(port: number, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket through the ingress; resolves with the socket and the first frame's text. */
function openWs(port: number, host: string): Promise<{ socket: Socket; first: string; next: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/',
      agent: false,
      headers: { host, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode ?? 0}`)));
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      const frames: string[] = [];
      const waiters: ((s: string) => void)[] = [];
      let buf = head;
      const pump = (): void => {
        while (buf.length >= 2 && buf.length >= 2 + buf[1]!) {
          const text = buf.subarray(2, 2 + buf[1]!).toString();
          buf = buf.subarray(2 + buf[1]!);
          const w = waiters.shift();
          if (w) w(text);
          else frames.push(text);
        }
      };
      const next = () => new Promise<string>((r) => (frames.length > 0 ? r(frames.shift()!) : waiters.push(r)));
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        pump();
      });
      pump();
      void next().then((first) => resolve({ socket, first, next }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local ingress on HAProxy, configured from the fake ALB rules', () => {
  let w: IngressWorld;
  let a: Server;
  let b: Server;
  let ingress: LocalIngress;
  const localHost = (h: string) => h.replace(`.${DOMAIN}`, '.localhost');
  const config = () => renderHaproxyConfig({ port: ingress.port, routes: routesFromFake(w.fake.elb, w.settings.shards[0]!.listenerArn, localHost) });

  beforeAll(async () => {
    [a, b] = await Promise.all([gateway('A'), gateway('B')]);
    w = world(1);
    for (const [tenant, server] of [['acme', a], ['bravo', b]] as const) {
      const p = await w.routes.ensureRoute({ tenantId: tenant, mode: 'live' });
      await w.fake.call('ELBv2', 'RegisterTargets', { TargetGroupArn: p.targetGroupArn, Targets: [{ Id: '127.0.0.1', Port: portOf(server) }] });
    }
    const c = await w.routes.ensureRoute({ tenantId: 'charlie', mode: 'live' });
    await w.fake.call('ELBv2', 'RegisterTargets', { TargetGroupArn: c.targetGroupArn, Targets: [{ Id: '127.0.0.1', Port: portOf(a) }] });
    await w.routes.ensureRoute({ tenantId: 'charlie', mode: 'maintenance', placement: c });
    const d = await w.routes.ensureRoute({ tenantId: 'delta', mode: 'staging', stagingToken: STAGING });
    await w.fake.call('ELBv2', 'RegisterTargets', { TargetGroupArn: d.targetGroupArn, Targets: [{ Id: '127.0.0.1', Port: portOf(b) }] });
    ingress = new LocalIngress(await freePort());
    await ingress.start(config());
  });

  afterAll(async () => {
    await ingress?.stop();
    for (const s of upgraded) s.destroy();
    await Promise.all(
      [a, b].map((s) => {
        s.closeAllConnections();
        return new Promise((r) => s.close(r));
      }),
    );
  });

  it('routes each tenant host to its own gateway only, with the client address in X-Forwarded-For', async () => {
    const ra = await get(ingress.port, `acme.localhost:${ingress.port}`);
    const rb = await get(ingress.port, `BRAVO.localhost:${ingress.port}`);
    expect(ra.status).toBe(200);
    expect(JSON.parse(ra.body)).toMatchObject({ gateway: 'A', xff: '127.0.0.1' });
    expect(JSON.parse(rb.body)).toMatchObject({ gateway: 'B' });
  });

  it('answers 404 for an unknown host, a host that only starts like a tenant, and a staging route without its header', async () => {
    for (const host of ['mallory.localhost', 'acme.localhost.evil.test', 'acme', 'delta.localhost']) {
      expect((await get(ingress.port, host)).status).toBe(404);
    }
    expect(JSON.parse((await get(ingress.port, 'delta.localhost', { 'x-octw-staging': STAGING })).body)).toMatchObject({ gateway: 'B' });
  });

  it('answers a suspended tenant with the 503 maintenance page', async () => {
    const r = await get(ingress.port, 'charlie.localhost');
    expect(r.status).toBe(503);
    expect(r.body).toContain('paused');
  });

  it('passes the WebSocket upgrade through to the tenant gateway', async () => {
    const wa = await openWs(ingress.port, 'acme.localhost');
    const wb = await openWs(ingress.port, 'bravo.localhost');
    expect([wa.first, wb.first]).toEqual(['hello from A', 'hello from B']);
    wa.socket.destroy();
    wb.socket.destroy();
  });

  it('reloads from the rules after a tenant is removed: its host answers 404, an open WebSocket of another tenant survives', async () => {
    const wb = await openWs(ingress.port, 'bravo.localhost');
    await w.routes.removeRoute('acme');
    // reload resolves once the new worker serves the new rules: the very next request sees them.
    await ingress.reload(config());
    expect((await get(ingress.port, 'acme.localhost')).status).toBe(404);
    wb.socket.write(Buffer.from([0x81, 0x80, 1, 2, 3, 4]));
    expect(await wb.next()).toBe('pong from B');
    wb.socket.destroy();
    expect(JSON.parse((await get(ingress.port, 'bravo.localhost')).body)).toMatchObject({ gateway: 'B' });
  });
});

describe('local ingress with Unix-socket backends (real gateways behind their namespace bridges)', () => {
  let w: IngressWorld;
  let dir: string;
  let sockA: Server;
  let ingress: LocalIngress;
  const localHost = (h: string) => h.replace(`.${DOMAIN}`, '.localhost');
  // The task at 10.0.0.9 runs gateway A (its bridge socket); 10.0.0.10's task has no running gateway.
  const resolve = (address: string) => (address === '10.0.0.9' ? { socketPath: join(dir, 'a.sock') } : undefined);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'octw-ingress-sock-'));
    const a = await gateway('A');
    a.close();
    sockA = createServer(a.listeners('request')[0] as Parameters<typeof createServer>[1]);
    await new Promise<void>((r) => sockA.listen(join(dir, 'a.sock'), r));
    w = world(1);
    const pa = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
    await w.fake.call('ELBv2', 'RegisterTargets', { TargetGroupArn: pa.targetGroupArn, Targets: [{ Id: '10.0.0.9', Port: 18789 }] });
    const pb = await w.routes.ensureRoute({ tenantId: 'bravo', mode: 'live' });
    await w.fake.call('ELBv2', 'RegisterTargets', { TargetGroupArn: pb.targetGroupArn, Targets: [{ Id: '10.0.0.10', Port: 18789 }] });
    ingress = new LocalIngress(await freePort());
    await ingress.start(
      renderHaproxyConfig({ port: ingress.port, routes: routesFromFake(w.fake.elb, w.settings.shards[0]!.listenerArn, localHost, resolve), loopbackClientAddress: '192.0.2.10' }),
    );
  });

  afterAll(async () => {
    await ingress?.stop();
    sockA?.closeAllConnections();
    await new Promise((r) => sockA?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("forwards a tenant's host to its gateway's socket; a target with no running gateway answers 503; another host 404", async () => {
    // A loopback client is presented as the stand-in internet address, whatever X-Forwarded-For it sent.
    expect(JSON.parse((await get(ingress.port, 'acme.localhost', { 'x-forwarded-for': '10.0.0.1' })).body)).toMatchObject({ gateway: 'A', xff: '192.0.2.10' });
    expect((await get(ingress.port, 'bravo.localhost')).status).toBe(503);
    expect((await get(ingress.port, 'mallory.localhost')).status).toBe(404);
  });

  it('refuses a socket path that could inject configuration', () => {
    const route = (socketPath: string) => ({ priority: 1, host: 'a.localhost', headers: {}, action: { kind: 'forward' as const, backends: [{ socketPath }] } });
    expect(() => renderHaproxyConfig({ port: 8080, routes: [route('/tmp/a.sock\n  server x 10.0.0.1:80')] })).toThrow(/socket/);
    expect(() => renderHaproxyConfig({ port: 8080, routes: [route('relative.sock')] })).toThrow(/socket/);
    expect(renderHaproxyConfig({ port: 8080, routes: [route('/var/tmp/g/gateway.sock')] })).toContain('server s1 unix@/var/tmp/g/gateway.sock');
  });
});

describe('renderHaproxyConfig', () => {
  it('refuses a host or header value that could inject configuration', () => {
    const forward = { kind: 'forward' as const, backends: [{ address: '127.0.0.1', port: 1 }] };
    expect(() => renderHaproxyConfig({ port: 8080, routes: [{ priority: 1, host: 'a.localhost }\n  use_backend x if TRUE', headers: {}, action: forward }] })).toThrow(/not a DNS name/);
    expect(() => renderHaproxyConfig({ port: 8080, routes: [{ priority: 1, host: 'a.localhost', headers: { 'x-octw-staging': 'a b' }, action: forward }] })).toThrow(/allowed characters/);
  });

  it('renders an OIDC-protected rule as 501, never as an unauthenticated forward', () => {
    const w = world(1);
    const cfg = renderHaproxyConfig({ port: 8080, routes: [{ priority: 1, host: 'a.localhost', headers: {}, action: { kind: 'fixed', status: 501, contentType: 'text/plain', body: 'x' } }] });
    expect(cfg).toContain('http-request return status 501');
    expect(w.fake.elb.rules.size).toBe(0);
  });
});
