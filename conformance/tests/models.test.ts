/**
 * End to end with a model (issue 11, items 5 and 6), through the tenant's egress path: the real
 * OpenClaw gateway started from the task definition the workflows registered in the local cloud,
 * its only way out the cell's real Squid (conformance/lib/egress-path.ts) configured from the policy
 * items the platform's Egress function wrote to the cell's policy table.
 *
 * - The plan's bring-your-own-key provider is an OpenAI-compatible stub on the "internet": HTTPS at a
 *   host NAME (MODEL_HOST), which only Squid resolves (its hosts file: a loopback address of the stub's
 *   own, outside every task namespace). The task trusts the stub's certificate as the image trusts a
 *   public CA (NODE_EXTRA_CA_CERTS in the image's environment; the task definition is untouched).
 * - Tenant A stores its key with `octw tenants models A --provider byok --key-file F --wait` (the real
 *   CLI in process: credential secret under its prefix, update workflow by reference), so its policy
 *   gets the provider's endpoint (origin model:byok). A message sent to A's gateway through its own API
 *   (the Gateway protocol: `openclaw agent` in the task's context, with the tenant's token) is answered
 *   by the stub, which received A's key; Squid's access log shows A's CONNECT to MODEL_HOST allowed, so
 *   the gateway's model traffic went through the proxy URL the platform injected (OPENCLAW_PROXY_URL:
 *   managed routing, the plan has no Bedrock).
 * - Tenant B, same plan, brings its own key the same way (KEY_B), so its gateway calls the provider
 *   for a message; but the policy the proxy enforces for B lacks MODEL_HOST. The platform never makes
 *   that state itself (a key's provider host is always in the tenant's policy: test/workflows/
 *   models.test.ts), so the test makes it: B's item in the cell's policy table is written again with
 *   the platform's own store (functions/adapters/egress-policy-store.ts), B's proxy credential kept,
 *   its rules without the provider (a policy that lacks the host, e.g. a plan whose bounds drop it).
 *   A message sent to B's gateway through its own API is not answered by the model: the gateway's
 *   call to the provider goes to B's proxy URL, Squid refuses it and logs a denial naming B and
 *   MODEL_HOST with reason not_in_policy, and the stub sees no request (nor B's key). The same host
 *   requested from code in B's task through B's proxy URL (as a tool or plugin would) is refused
 *   likewise, while A's is let through; B cannot reach the stub directly either.
 * - No packet left either namespace except through the forward to the proxy; neither task resolved
 *   MODEL_HOST itself.
 */
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as ecs from '@aws-sdk/client-ecs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EgressPolicyStore } from '../../functions/adapters/egress-policy-store';
import { effectiveHostRules } from '../../functions/domain/tenant-egress';
import type { Plan } from '../../functions/domain/tenant';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { runCli } from '../../test/cli/support';
import { readJsonLog, selfSignedCert } from '../../test/egress/squid-harness';
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_PLANS, LOCAL_REGION } from '../../test/local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../../test/local-cloud/local-cloud';
import { provision } from '../../test/workflows/support';
import { proxiedHttpsProbe, startEgressPath, type EgressPath } from '../lib/egress-path';
import { injectedSecrets, registeredTaskDefinition, proxyUrlOf as proxyUrlOfTenant } from '../lib/local-cloud-task';
import { IMAGE_ENV, launchGateway, type GatewayHandle } from '../lib/launch-gateway';
import { CONFORMANCE_DIR, NODE_BIN } from '../lib/paths';
import { OPENCLAW, recordTiming, validate } from '../lib/support';

/** Each gateway starts alone (one after the other); on the loaded 2-core machine a start took 140-190 s. */
const HEALTH_BUDGET_MS = 240_000;
/** Task starts per gateway before giving up on the state-lease heartbeat exit seen under load. */
const START_ATTEMPTS = 4;
/** One agent turn through the gateway, answered by the stub (measured figure recorded). */
const TURN_BUDGET_MS = 240_000;
const KEY = `sk-octw-conformance-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 24)}`;
/** B's own key: the stub must never see it (B's calls never get past the proxy). */
const KEY_B = `sk-octw-conformance-b-${createHash('sha256').update(`b${process.pid}`).digest('hex').slice(0, 24)}`;
const REPLY = 'stub reply from the OCTW model stub';
/** The provider's host: a public-looking name, resolved by the proxy only. */
const MODEL_HOST = 'llm.byok-stub.example.com';
/** The stub's own loopback address on the host (port 443, what the provider's URL implies). */
const STUB_ADDRESS = `127.${30 + (process.pid % 200)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 2}`;

/** The local cloud's offline plan with its bring-your-own-key provider on the internet (a host name, HTTPS) and nothing on loopback. */
const offline = LOCAL_PLANS.find((p) => p.id === 'offline')!;
const PLAN: Plan = {
  ...offline,
  id: 'byok-remote',
  modelProviders: [{ id: 'byok', baseUrl: `https://${MODEL_HOST}/v1`, api: 'openai-completions', apiKey: 'tenant', models: [{ id: 'octw-stub-1', name: 'OCTW stub model (tenant key)' }] }],
};

const work = `/var/tmp/octw-conformance-models-${process.pid}`;
const stubLog = join(work, 'byok-provider.log');
let cloud: LocalCloud;
let egress: EgressPath;
let stub: ChildProcess;
let caFile: string;
let policyDoc: DynamoDBDocumentClient;

const A = 'conf-byok';
const B = 'conf-nokey';
const gateways: Record<string, GatewayHandle> = {};
const records: Record<string, TenantRecord> = {};

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true, mode: 0o755 });
  chmodSync(work, 0o755);
  writeFileSync(stubLog, '');
  // The provider on the "internet": HTTPS for MODEL_HOST on an address no task namespace has.
  const cert = selfSignedCert(work, 'byok-provider', [MODEL_HOST]);
  caFile = join(work, 'provider-ca.crt');
  copyFileSync(cert.cert, caFile);
  chmodSync(caFile, 0o644);
  stub = spawn(NODE_BIN, [join(CONFORMANCE_DIR, 'lib', 'model-stub.mjs'), `${STUB_ADDRESS}:443`, stubLog, cert.cert, cert.key], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    stub.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('listening')) res(); });
    stub.on('exit', (code) => rej(new Error(`model stub exited ${code}`)));
  });
  // The cell with the egress proxy (the local cloud's default) and the plan above.
  cloud = await startLocalCloud({ cell: { ...LOCAL_CELL, plans: [...LOCAL_PLANS, PLAN] } });
  policyDoc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
  egress = await startEgressPath({ policyTableName: cloud.egressPolicyTableName, dir: work, upstreamHosts: { [MODEL_HOST]: STUB_ADDRESS } });

  for (const id of [A, B]) expect((await provision(cloud, id, { plan: PLAN.id, egressAllowlist: [] }))?.status).toBe('ACTIVE');
  // Each brings its own key, as an operator does it: the CLI reads it from a file, never argv.
  for (const [id, key] of [[A, KEY], [B, KEY_B]] as const) {
    const keyFile = join(work, `${id}-key.txt`);
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const cli = await runCli(['tenants', 'models', id, '--provider', 'byok', '--key-file', keyFile, '--wait', '--poll-interval', '5'], {
      OCTW_TABLE: cloud.tableName,
      OCTW_CELL: LOCAL_CELL.cellId,
      OCTW_STATE_MACHINE_ARN_PREFIX: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:{key}`,
      OCTW_EVENT_BUS: LOCAL_CELL.eventBusName,
      AWS_REGION: LOCAL_REGION,
    });
    rmSync(keyFile);
    expect({ id, code: cli.code, stderr: cli.code === 0 ? '' : cli.stderr }).toEqual({ id, code: 0, stderr: '' });
  }
  // B's policy without the provider's host (see the header): same item, same proxy credential, no rule.
  const policies = new EgressPolicyStore(policyDoc, cloud.egressPolicyTableName);
  const bItem = (await policies.get(B))!;
  expect(bItem.rules.map((r) => r.host)).toEqual([MODEL_HOST]);
  await policies.put(B, bItem.credentialHash, bItem.rules.filter((r) => r.host !== MODEL_HOST));
  for (const id of [A, B]) records[id] = (await cloud.tenant(id))!;
  // The proxy reads the policies the platform wrote (the sidecar's own reader of the cell's table).
  await egress.refresh();
  // One gateway start at a time (a start under load can fail its state-lease heartbeat; see launch).
  gateways[A] = await launch(records[A]!);
  gateways[B] = await launch(records[B]!);
}, 900_000);

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => g.stop()));
  stub?.kill('SIGTERM');
  await egress?.stop();
  policyDoc?.destroy();
  await cloud?.stop();
  rmSync(work, { recursive: true, force: true });
});

const registered = (record: TenantRecord) => registeredTaskDefinition(cloud.fake, record);
const secretsOf = (td: ecs.RegisterTaskDefinitionCommandInput) => injectedSecrets(cloud.fake, td);
const proxyUrlOf = (record: TenantRecord) => proxyUrlOfTenant(cloud.fake, record);

/** Starts the tenant's registered task with its route to the proxy; retries once as gateway.test.ts does. */
async function launch(record: TenantRecord): Promise<GatewayHandle> {
  const td = registered(record);
  const ap = cloud.fake.accessPoint(record.resources.accessPointId!)!;
  const start = () =>
    launchGateway(td, {
      secrets: secretsOf(td),
      posixUser: { uid: ap.posixUser!.Uid!, gid: ap.posixUser!.Gid! },
      ...egress.taskRoute(proxyUrlOf(record)),
      // The provider's CA is trusted as the image trusts a public CA.
      imageEnv: { ...IMAGE_ENV, NODE_EXTRA_CA_CERTS: caFile },
      id: `${record.tenantId}-${process.pid}`.slice(0, 40),
      efsDir: join(work, `${record.tenantId}-efs`),
      removeWorkDirOnStop: true,
    });
  // On a CPU-starved host 2026.9.6 can exit at start (its 5 s state-lease heartbeat); ECS would
  // replace the task: so does this, up to START_ATTEMPTS times.
  for (let attempt = 1; ; attempt++) {
    const gw = await start();
    try {
      recordTiming(`models: gateway healthy behind the egress proxy (${record.tenantId}, task ${attempt})`, await gw.waitHealthy(HEALTH_BUDGET_MS));
      return gw;
    } catch (e) {
      await gw.stop();
      if (attempt >= START_ATTEMPTS || !/exited before it was healthy[\s\S]*state lease heartbeat did not become ready/.test(String(e))) throw e;
    }
  }
}

const stubRequests = () =>
  readFileSync(stubLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { method: string; url: string; keySha256?: string; sni?: string });

const squidLines = (file: 'accessLog' | 'denyLog', tenantId: string) => readJsonLog(egress.squid[file]).filter((l) => l.tenant === tenantId && l.host === MODEL_HOST);

/** A direct TCP connection from inside the task to host:443 (no proxy). */
const directProbe = (host: string) => [
  'node',
  '-e',
  `require('net').connect(443,'${host}').on('connect',()=>{console.log('connected');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(3)})`,
];

describe('the platform wrote the policies the proxy enforces', () => {
  it("both records give the provider's endpoint (origin model:byok) to the proxy; both get the proxy URL only as ECS secrets", () => {
    for (const id of [A, B]) expect([id, effectiveHostRules(records[id]!)]).toEqual([id, [{ host: MODEL_HOST, ports: [443], origin: ['model:byok'] }]]);
    for (const id of [A, B]) {
      const gateway = registered(records[id]!).containerDefinitions?.find((c) => c.name === 'gateway');
      const proxySecrets = (gateway?.secrets ?? []).filter((s) => s.valueFrom === records[id]!.resources.proxySecretArn).map((s) => s.name).sort();
      expect([id, proxySecrets]).toEqual([id, ['HTTPS_PROXY', 'HTTP_PROXY', 'OPENCLAW_PROXY_URL']]);
      expect(proxyUrlOf(records[id]!)).toMatch(new RegExp(`^http://${id}:[^@]+@proxy\\.${LOCAL_CELL.cellId}\\.octw\\.internal:3128$`));
    }
  });

  it("Squid loaded both tenants from the cell's policy table: A with the provider, B (its item rewritten) without", async () => {
    const policy = await egress.refresh();
    const rulesOf = (id: string) => policy.tenants.find((t) => t.tenantId === id)?.rules;
    expect(rulesOf(A)).toEqual([{ host: MODEL_HOST, ports: [443], origin: ['model:byok'] }]);
    expect(rulesOf(B)).toEqual([]);
  });
});

describe("tenant A (its own key): a message through its gateway is answered by the provider, through the proxy", () => {
  it('renders a config the real OpenClaw validates, the key by SecretRef, the provider at its host name', async () => {
    const v = await validate(gateways[A]!);
    expect(v.valid).toBe(true);
    const cfg = readFileSync(join(gateways[A]!.workDir, 'volumes', 'config', 'openclaw.json'), 'utf8');
    expect(cfg).toContain('OCTW_MODEL_BYOK_API_KEY');
    expect(cfg).toContain(`https://${MODEL_HOST}/v1`);
    expect(cfg).not.toContain(KEY);
  });

  it("answers a message sent through the gateway with the provider's reply; the stub got A's key through Squid's tunnel for A", async () => {
    const t0 = Date.now();
    const r = await gateways[A]!.exec([...OPENCLAW, 'agent', '--agent', 'main', '--message', 'Say hello.', '--json'], { timeoutMs: TURN_BUDGET_MS });
    recordTiming('models: one agent turn through the gateway and the egress proxy, answered by the byok stub', Date.now() - t0);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain(REPLY);
    // Without --local, `openclaw agent` asks the Gateway to run the turn (this release does not fall back to an
    // embedded run: a failed Gateway call is reported as such, see B's origin "gateway" below).
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('{')))).toMatchObject({ status: 'ok', summary: 'completed' });
    const calls = stubRequests().filter((q) => q.method === 'POST' && q.url.startsWith('/v1/chat/completions'));
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls.map((c) => c.keySha256))).toEqual(new Set([createHash('sha256').update(KEY).digest('hex')]));
    expect(new Set(calls.map((c) => c.sni))).toEqual(new Set([MODEL_HOST]));
    // The proxy carried it: A's credential, CONNECT to the provider's name, allowed by A's policy.
    const allowed = squidLines('accessLog', A).filter((l) => l.method === 'CONNECT' && l.reason === 'allowed' && l.port === '443');
    console.log(`squid access log for ${A}: ${JSON.stringify(allowed)}`);
    expect(allowed.length).toBeGreaterThan(0);
    expect(squidLines('denyLog', A)).toEqual([]);
    expect(gateways[A]!.logs()).not.toContain(KEY);
  });
});

describe("tenant B (policy without the provider's endpoint)", () => {
  it("a message sent through its gateway is not answered: the gateway's call to the provider is refused by Squid, logged as B's not_in_policy denial, and the stub sees no request", async () => {
    const before = stubRequests().length;
    const deniedBefore = squidLines('denyLog', B).length;
    const t0 = Date.now();
    const r = await gateways[B]!.exec([...OPENCLAW, 'agent', '--agent', 'main', '--message', 'Say hello.', '--json'], { timeoutMs: TURN_BUDGET_MS });
    recordTiming('models: one agent turn through the gateway refused at the egress proxy (policy without the provider)', Date.now() - t0);
    console.log(`B's turn: exit ${r.code}; stdout ${r.stdout.slice(-1500)}; stderr ${r.stderr.slice(-1500)}`);
    const denials = squidLines('denyLog', B).slice(deniedBefore);
    console.log(`squid denials for ${B} after its message: ${JSON.stringify(denials)}`);
    // No answer from the model.
    expect(r.stdout).not.toContain(REPLY);
    // The gateway did try the provider, through B's proxy URL: Squid refused it for B's policy.
    expect(denials.length).toBeGreaterThan(0);
    for (const d of denials) expect(d).toMatchObject({ event: 'egress_denied', tenant: B, host: MODEL_HOST, port: '443', reason: 'not_in_policy' });
    expect(squidLines('accessLog', B).filter((l) => l.reason === 'allowed')).toEqual([]);
    // The provider saw nothing: no request, and never B's key.
    expect(stubRequests().length).toBe(before);
    expect(stubRequests().map((q) => q.keySha256)).not.toContain(createHash('sha256').update(KEY_B).digest('hex'));
    expect(gateways[B]!.logs()).not.toContain(KEY_B);
  });

  it("the provider's API through B's own proxy URL is refused by Squid and logged as B's denial; the same request from A's task is let through", async () => {
    const before = stubRequests().length;
    const probe = proxiedHttpsProbe(MODEL_HOST, '/v1/models');
    const rb = await gateways[B]!.exec(probe, { timeoutMs: 60_000 });
    console.log(`B's request through its proxy URL: ${rb.stdout.trim()}`);
    const b = JSON.parse(rb.stdout.trim()) as { status?: string; response?: string; tls?: string };
    expect(b.response).toBeUndefined();
    const denial = squidLines('denyLog', B).at(-1);
    expect(denial).toMatchObject({ event: 'egress_denied', tenant: B, host: MODEL_HOST, port: '443', reason: 'not_in_policy' });
    expect(stubRequests().length).toBe(before);
    const ra = await gateways[A]!.exec(probe, { timeoutMs: 60_000 });
    console.log(`A's request through its proxy URL: ${ra.stdout.trim()}`);
    expect(JSON.parse(ra.stdout.trim())).toEqual({ status: 'HTTP/1.1 200 Connection established', response: 'HTTP/1.1 200 OK' });
    expect(stubRequests().slice(before).map((q) => `${q.method} ${q.url} ${q.sni}`)).toEqual([`GET /v1/models ${MODEL_HOST}`]);
  });

  it('no packet left either namespace except through the proxy forward, and neither resolved the provider itself', async () => {
    for (const [id, gw] of Object.entries(gateways)) {
      expect([id, (await gw.health()).ok]).toEqual([id, true]);
      const kinds = await gw.outboundByKind();
      console.log(`${id}: outbound packets by kind ${JSON.stringify(kinds)}; DNS queries ${JSON.stringify(gw.dnsQueries())}`);
      expect([id, kinds['tcp-connect'] ?? 0]).toEqual([id, 0]);
      expect([id, gw.dnsQueries().filter((q) => q.name === MODEL_HOST || q.name.endsWith('.octw.internal'))]).toEqual([id, []]);
    }
  });

  it('cannot reach the provider directly: its name does not resolve in the task and its address is not on any task network', async () => {
    const byName = await gateways[B]!.exec(directProbe(MODEL_HOST), { timeoutMs: 60_000 });
    expect(byName.code).toBe(3);
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(byName.stdout.trim());
    const byAddress = await gateways[B]!.exec(directProbe(STUB_ADDRESS), { timeoutMs: 60_000 });
    expect({ code: byAddress.code, out: byAddress.stdout.trim() }).toEqual({ code: 3, out: 'ECONNREFUSED' });
  });
});
