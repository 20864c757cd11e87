/**
 * Issue 10, item 7 (last bullet) and "Done when": the real OpenClaw gateway routes its Telegram channel
 * through the real Squid with the platform's generated configuration and policy helper
 * (test/egress/squid-harness.ts), and the tenant's host policy decides.
 *
 * - Each gateway runs in its own network namespace with no route out (conformance/lib/launch-gateway.ts);
 *   its one way out is a forward on its loopback :3128 to the Squid on the host (the emulated route to the
 *   proxy's load balancer, the only egress its security group allows).
 * - The gateway gets the tenant's proxy URL (credential = tenant id + secret) in OPENCLAW_PROXY_URL and
 *   HTTPS_PROXY/HTTP_PROXY, as the task definition delivers it, and a Telegram channel (core plugin
 *   `telegram`, long polling) with a bot token.
 * - `api.telegram.org` resolves, in Squid's own hosts file only, to a loopback address where a TLS stub of
 *   the Bot API listens on 443; the gateway trusts the stub's certificate through NODE_EXTRA_CA_CERTS.
 * - Tenant "tg" has the telegram preset (stored expanded: api.telegram.org:443); tenant "none" does not.
 * Asserted: "tg" reaches the stub through the proxy (the stub sees its bot token's getMe/getUpdates, Squid
 * logs the allowed CONNECT for that tenant); "none" is refused (Squid's denial log names the tenant and
 * api.telegram.org, the stub sees nothing with its token); both gateways stay healthy; no packet of either
 * left its namespace other than through the proxy forward.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parseHostPolicy, EgressPlanBoundsSchema } from '../../functions/domain/egress-policy';
import { CONFIG_INIT_CONTAINER, GATEWAY_CONTAINER } from '../../functions/domain/naming';
import { randomSalt, sha512Crypt } from '../../functions/egress/sha512-crypt';
import type { ProxyTenantPolicy } from '../../functions/egress/squid-config';
import { LOCAL_PLANS } from '../../test/local-cloud/env';
import { readJsonLog, selfSignedCert, startSquid, type RunningSquid } from '../../test/egress/squid-harness';
import { launchGateway, type GatewayHandle } from '../lib/launch-gateway';
import { LOCAL_MODEL_STUB_PORT, POSIX_USER, recordTiming, secretsFor, taskDefinitionFor } from '../lib/support';

/** /healthz budget (as gateway.test.ts) and how long Telegram's first poll (or its refusal) may take after it. */
const HEALTH_BUDGET_MS = 180_000;
const TELEGRAM_BUDGET_MS = 150_000;
const PROXY_PORT_IN_TASK = 3128;

const TOKEN = 'e'.repeat(48);
const dir = `/var/tmp/octw-egress-conf-${process.pid}`;
// A loopback address of its own, so the stub can take port 443 (what the preset allows) without colliding.
const STUB_ADDRESS = `127.${20 + (process.pid % 200)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 2}`;

interface Tenant {
  id: string;
  password: string;
  botToken: string;
  entries: unknown[];
}
const tenants: Record<'tg' | 'none', Tenant> = {
  tg: { id: 'conf-egress-tg', password: `pw-${'a'.repeat(40)}`, botToken: '111111111:AAE-tg-stub-token-0123456789abcdef', entries: [{ preset: 'telegram' }] },
  none: { id: 'conf-egress-none', password: `pw-${'b'.repeat(40)}`, botToken: '222222222:AAE-none-stub-token-0123456789abcd', entries: [{ host: 'discord.com', ports: [443] }] },
};
const PLAN_BOUNDS = EgressPlanBoundsSchema.parse({ maxHostRules: 20, allow: { anyPublicHost: true, ports: [443] } });

let squid: RunningSquid;
let stub: HttpsServer;
let forward: Server;
const stubSeen: { token: string; method: string; at: number }[] = [];
const gateways: Partial<Record<keyof typeof tenants, GatewayHandle>> = {};
let caFile: string;

/** The Bot API methods a polling client calls, answered as Telegram does (`{ ok, result }`). */
function startTelegramStub(cert: string, key: string): Promise<HttpsServer> {
  const server = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)/.exec(req.url ?? '');
    req.resume();
    req.on('end', () => {
      if (!m) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error_code":404,"description":"Not Found"}');
        return;
      }
      const [, token = '', method = ''] = m;
      stubSeen.push({ token, method, at: Date.now() });
      const reply = (result: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result }));
      if (method === 'getMe') reply({ id: Number(token.split(':')[0]), is_bot: true, first_name: 'OCTW stub', username: 'octw_stub_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      else if (method === 'getUpdates') setTimeout(() => reply([]), 1000);
      else if (method === 'getMyCommands') reply([]);
      else reply(true);
    });
  });
  return new Promise((resolve) => server.listen(443, STUB_ADDRESS, () => resolve(server)));
}

function taskFor(t: Tenant) {
  const plan = LOCAL_PLANS.find((p) => p.id === 'offline');
  if (!plan) throw new Error('the local cloud has no "offline" plan');
  const td = taskDefinitionFor(plan, t.id);
  const init = td.containerDefinitions.find((c) => c.name === CONFIG_INIT_CONTAINER);
  const gateway = td.containerDefinitions.find((c) => c.name === GATEWAY_CONTAINER);
  const cfgVar = init?.environment.find((e) => e.name === 'OPENCLAW_CONFIG_JSON');
  if (!init || !gateway || !cfgVar) throw new Error('the rendered task definition has no config init container / gateway / OPENCLAW_CONFIG_JSON');
  // The Telegram channel (core plugin "telegram", long polling), as the channels rendering adds it.
  const cfg = JSON.parse(cfgVar.value) as { channels?: Record<string, unknown>; plugins?: { allow?: string[] } };
  cfg.channels = { ...(cfg.channels ?? {}), telegram: { enabled: true, botToken: t.botToken } };
  cfg.plugins = { ...(cfg.plugins ?? {}), allow: [...(cfg.plugins?.allow ?? []), 'telegram'] };
  cfgVar.value = JSON.stringify(cfg);
  // The tenant's proxy URL, as its task receives it (egress-wire delivers it as an ECS secret; a plain value here).
  const proxyUrl = `http://${t.id}:${t.password}@127.0.0.1:${PROXY_PORT_IN_TASK}`;
  gateway.environment.push(
    { name: 'OPENCLAW_PROXY_URL', value: proxyUrl },
    { name: 'HTTPS_PROXY', value: proxyUrl },
    { name: 'HTTP_PROXY', value: proxyUrl },
    { name: 'NO_PROXY', value: '127.0.0.1,localhost,::1' },
    { name: 'NODE_EXTRA_CA_CERTS', value: caFile },
  );
  return td;
}

async function launch(key: keyof typeof tenants): Promise<GatewayHandle> {
  const t = tenants[key];
  const td = taskFor(t);
  const start = () =>
    launchGateway(td, {
      secrets: secretsFor(td, TOKEN),
      posixUser: POSIX_USER,
      modelStubPorts: [LOCAL_MODEL_STUB_PORT],
      hostForwards: [{ port: PROXY_PORT_IN_TASK, socketPath: join(dir, 'proxy.sock') }],
      id: `${t.id}-${process.pid}`.slice(0, 40),
      removeWorkDirOnStop: true,
    });
  let gw = await start();
  try {
    recordTiming(`gateway healthy behind the egress proxy (${key})`, await gw.waitHealthy(HEALTH_BUDGET_MS));
  } catch (e) {
    // As gateway.test.ts: on a CPU-starved host 2026.9.6 can exit at start (state lease heartbeat); ECS would replace the task.
    if (!/exited before it was healthy[\s\S]*state lease heartbeat did not become ready/.test(String(e))) throw e;
    await gw.stop();
    gw = await start();
    await gw.waitHealthy(HEALTH_BUDGET_MS);
  }
  return gw;
}

async function until<T>(budgetMs: number, probe: () => T | undefined): Promise<T | undefined> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const cert = selfSignedCert(dir, 'telegram-stub', ['api.telegram.org']);
  // The gateway (uid POSIX_USER) reads the stub's certificate as its extra CA; /tmp is task-local in the task, /var/tmp is not.
  caFile = join(dir, 'stub-ca.crt');
  copyFileSync(cert.cert, caFile);
  chmodSync(caFile, 0o644);
  stub = await startTelegramStub(cert.cert, cert.key);
  const rulesOf = (t: Tenant) => parseHostPolicy(t.entries, { plan: PLAN_BOUNDS, privateZones: [] });
  const policies: ProxyTenantPolicy[] = Object.values(tenants).map((t) => ({ tenantId: t.id, credentialHash: sha512Crypt(t.password, randomSalt()), rules: rulesOf(t) }));
  expect(policies[0]?.rules).toEqual([{ host: 'api.telegram.org', ports: [443], origin: ['preset:telegram'] }]);
  squid = await startSquid(policies, { hosts: { 'api.telegram.org': STUB_ADDRESS } });
  // The host end of the tasks' one route out: a Unix socket piped to Squid.
  forward = createServer((client) => {
    const upstream = connect(squid.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((r) => forward.listen(join(dir, 'proxy.sock'), () => r()));
  chmodSync(join(dir, 'proxy.sock'), 0o666);
  const [tg, none] = await Promise.all([launch('tg'), launch('none')]);
  gateways.tg = tg;
  gateways.none = none;
}, 600_000);

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => g?.stop()));
  await squid?.stop();
  await new Promise<void>((r) => (stub ? stub.close(() => r()) : r()));
  await new Promise<void>((r) => (forward ? forward.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('the real gateway behind the real egress proxy (Telegram through Squid, policy by tenant)', () => {
  it('the tenant with the telegram preset reaches the Bot API stub through the proxy', async () => {
    const t0 = Date.now();
    const seen = await until(TELEGRAM_BUDGET_MS, () => (stubSeen.some((s) => s.token === tenants.tg.botToken && (s.method === 'getUpdates' || s.method === 'getMe')) ? true : undefined));
    recordTiming('telegram first Bot API call through the proxy (after healthy)', Date.now() - t0);
    console.log(`stub saw: ${JSON.stringify(stubSeen.map((s) => `${s.token.split(':')[0]} ${s.method}`))}`);
    expect(seen).toBe(true);
    const methods = new Set(stubSeen.filter((s) => s.token === tenants.tg.botToken).map((s) => s.method));
    expect([...methods].some((m) => m === 'getMe' || m === 'getUpdates')).toBe(true);
    // Squid let that tenant's CONNECT through: the tunnel was the proxy's, authenticated as the tenant.
    const allowed = readJsonLog(squid.accessLog).filter((l) => l.tenant === tenants.tg.id && l.host === 'api.telegram.org' && l.method === 'CONNECT' && l.reason === 'allowed');
    expect(allowed.length).toBeGreaterThan(0);
    expect(readJsonLog(squid.denyLog).filter((l) => l.tenant === tenants.tg.id && l.host === 'api.telegram.org')).toEqual([]);
  });

  it('the tenant without it is refused: the denial log names the tenant and the host, the stub sees nothing of it', async () => {
    const denial = await until(TELEGRAM_BUDGET_MS, () => readJsonLog(squid.denyLog).find((l) => l.tenant === tenants.none.id && l.host === 'api.telegram.org'));
    expect(denial).toMatchObject({ event: 'egress_denied', tenant: tenants.none.id, host: 'api.telegram.org', port: '443', reason: 'not_in_policy' });
    expect(stubSeen.filter((s) => s.token === tenants.none.botToken)).toEqual([]);
  });

  it('both gateways stay healthy, and neither sent a packet out of its namespace other than through the proxy', async () => {
    for (const [key, gw] of Object.entries(gateways)) {
      expect([key, (await gw.health()).ok]).toEqual([key, true]);
      const kinds = await gw.outboundByKind();
      console.log(`${key}: outbound packets by kind ${JSON.stringify(kinds)}; DNS queries ${JSON.stringify(gw.dnsQueries())}`);
      expect([key, kinds['tcp-connect'] ?? 0]).toEqual([key, 0]);
    }
  });
});
