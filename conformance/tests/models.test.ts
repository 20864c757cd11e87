/**
 * End to end with a model (issue 11, items 5 and 6), the real OpenClaw gateway started from the task
 * definition the workflows registered in the local cloud:
 * - a tenant that brought its own key (a tenant credential, set by an update): a message sent to its
 *   gateway through its own API (the Gateway protocol, `openclaw agent` in the task's context with
 *   the tenant's token) is answered by an OpenAI-compatible stub holding the provider's role, and the
 *   stub received the tenant's key (its SHA-256 in the stub's log; the key itself is logged nowhere);
 * - a tenant whose egress policy lacks the provider cannot reach it.
 *
 * The egress path: the egress proxy's conformance harness does not exist yet (branch egress-proxy),
 * so the stub runs OUTSIDE the task's network namespace, on a Unix socket on the host, and the
 * launcher bridges into the namespace exactly the endpoints `effectiveHostRules(record)` allows
 * (conformance/lib/unix-forward.mjs). An endpoint the policy lacks has no bridge: refused.
 */
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { effectiveHostRules } from '../../functions/domain/tenant-egress';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { LOCAL_BYOK_STUB_PORT, LOCAL_CELL } from '../../test/local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../../test/local-cloud/local-cloud';
import { gatewaySecretName, provision, runWorkflow } from '../../test/workflows/support';
import { launchGateway, type GatewayHandle } from '../lib/launch-gateway';
import { CONFORMANCE_DIR, NODE_BIN } from '../lib/paths';
import { LOCAL_MODEL_STUB_PORT, OPENCLAW, recordTiming, validate } from '../lib/support';

const HEALTH_BUDGET_MS = 180_000;
/** One agent turn through the gateway, answered by the stub (measured figure recorded). */
const TURN_BUDGET_MS = 240_000;
const KEY = `sk-octw-conformance-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 24)}`;
const CELL = LOCAL_CELL.cellId;

const work = '/var/tmp/octw-conformance-models';
const stubSocket = join(work, 'byok-provider.sock');
const stubLog = join(work, 'byok-provider.log');
let cloud: LocalCloud;
let stub: ChildProcess;

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(stubLog, '');
  // The provider's endpoint, outside every task namespace (what the internet is to a tenant).
  stub = spawn(NODE_BIN, [join(CONFORMANCE_DIR, 'lib', 'model-stub.mjs'), stubSocket, stubLog], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    stub.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('listening')) res(); });
    stub.on('exit', (code) => rej(new Error(`model stub exited ${code}`)));
  });
  // A cell without the egress proxy (as cdk.json ships): this suite proves the gateway itself, and the
  // task definition then carries no proxy secret. The gateway through the proxy is egress-proxy.test.ts.
  cloud = await startLocalCloud({ env: { EGRESS_PROXY_JSON: JSON.stringify({ enabled: false }) } });
});
afterAll(async () => {
  stub?.kill('SIGTERM');
  await cloud?.stop();
});

function taskDefinitionOf(record: TenantRecord) {
  const m = /:task-definition\/([^:]+):(\d+)$/.exec(record.resources.taskDefinitionArn ?? '')!;
  return cloud.fake.taskDefinition(m[1]!, Number(m[2]))!.input;
}

/** A tenant on the offline plan, ACTIVE; with `key`, its own key for the "byok" provider set by an update. */
async function tenant(tenantId: string, key?: string): Promise<{ record: TenantRecord; secrets: Record<string, string> }> {
  expect((await provision(cloud, tenantId, { plan: 'offline', egressAllowlist: [] }))?.status).toBe('ACTIVE');
  const token = cloud.fake.secret(gatewaySecretName(tenantId))!.secretString!;
  const secrets: Record<string, string> = { [(await cloud.tenant(tenantId))!.resources.secretArn!]: token };
  if (key) {
    const { ARN } = cloud.fake.secrets.operations.CreateSecret({
      Name: `octw/tenants/${CELL}/${tenantId}/credentials/byok-key`,
      SecretString: key,
      Tags: [{ Key: 'octw:tenant', Value: tenantId }, { Key: 'octw:cell', Value: CELL }, { Key: 'octw:managed-by', Value: 'octw' }],
    }) as { ARN: string };
    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId, modelKeys: [{ provider: 'byok', credential: 'byok-key' }] })).status).toBe('SUCCEEDED');
    secrets[ARN] = key; // ECS resolves the secret into the env var; the launcher does as ECS does.
  }
  return { record: (await cloud.tenant(tenantId))!, secrets };
}

/** Launches the tenant's gateway with a bridge for each loopback endpoint its egress policy allows. */
async function launch(tenantId: string, record: TenantRecord, secrets: Record<string, string>): Promise<GatewayHandle> {
  const allowedPorts = effectiveHostRules(record).filter((r) => r.host === '127.0.0.1').flatMap((r) => r.ports);
  const ap = cloud.fake.accessPoint(record.resources.accessPointId!)!;
  const efsDir = join(work, `${tenantId}-efs`);
  return launchGateway(taskDefinitionOf(record), {
    secrets,
    posixUser: { uid: ap.posixUser!.Uid!, gid: ap.posixUser!.Gid! },
    // The plan's keyless provider stays on loopback inside the task; the tenant's own provider is
    // outside, reachable only if the policy allows its endpoint.
    modelStubPorts: [LOCAL_MODEL_STUB_PORT],
    hostForwards: allowedPorts.includes(LOCAL_BYOK_STUB_PORT) ? [{ port: LOCAL_BYOK_STUB_PORT, socketPath: stubSocket }] : [],
    id: tenantId,
    efsDir,
    removeWorkDirOnStop: true,
  });
}

const stubRequests = () =>
  readFileSync(stubLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { method: string; url: string; keySha256?: string });

/** A raw TCP connection attempt from inside the gateway container to 127.0.0.1:<port>. */
const connectProbe = (port: number) => [
  'node',
  '-e',
  `require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('connected');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(3)})`,
];

describe('a tenant with its own provider key: a message through its gateway is answered by the provider', () => {
  const tenantId = 'conf-byok';
  let gw: GatewayHandle;
  let record: TenantRecord;

  beforeAll(async () => {
    const t = await tenant(tenantId, KEY);
    record = t.record;
    gw = await launch(tenantId, record, t.secrets);
    recordTiming('models: byok gateway healthy after launch', await gw.waitHealthy(HEALTH_BUDGET_MS));
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('renders a config the real OpenClaw validates, the key by SecretRef', async () => {
    const v = await validate(gw);
    expect(v.valid).toBe(true);
    const cfg = readFileSync(join(gw.workDir, 'volumes', 'config', 'openclaw.json'), 'utf8');
    expect(cfg).toContain('OCTW_MODEL_BYOK_API_KEY');
    expect(cfg).not.toContain(KEY);
  });

  it("answers a message sent through the gateway with the provider's reply, sending the tenant's key to it", async () => {
    const t0 = Date.now();
    const r = await gw.exec([...OPENCLAW, 'agent', '--agent', 'main', '--message', 'Say hello.', '--json'], { timeoutMs: TURN_BUDGET_MS });
    recordTiming('models: one agent turn through the gateway, answered by the byok stub', Date.now() - t0);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('stub reply from the OCTW model stub');
    const calls = stubRequests().filter((q) => q.method === 'POST' && q.url.startsWith('/v1/chat/completions'));
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls.map((c) => c.keySha256))).toEqual(new Set([createHash('sha256').update(KEY).digest('hex')]));
    expect(gw.logs()).not.toContain(KEY);
  });
});

describe("a tenant whose egress policy lacks the provider's endpoint", () => {
  const tenantId = 'conf-nokey';
  let gw: GatewayHandle;
  let record: TenantRecord;

  beforeAll(async () => {
    const t = await tenant(tenantId);
    record = t.record;
    gw = await launch(tenantId, record, t.secrets);
    await gw.waitHealthy(HEALTH_BUDGET_MS);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('has no rule for it and cannot connect to it, while the tenant with the key can', async () => {
    expect(effectiveHostRules(record).filter((r) => r.origin.some((o) => o.startsWith('model:')))).toEqual([]);
    const before = stubRequests().length;
    const r = await gw.exec(connectProbe(LOCAL_BYOK_STUB_PORT), { timeoutMs: 60_000 });
    expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 3, out: 'ECONNREFUSED' });
    expect(stubRequests().length).toBe(before);
  });
});
