/**
 * The proxy image's entry point as it is shipped: the esbuild bundles of the sidecar and the policy
 * helper (functions/egress/bundle.ts, what egress/Dockerfile copies) run the real Squid on loopback,
 * with a policy file as the source. Proves the bundles start, that the sidecar's files (squid.conf
 * once, then the credential file and the policy map swapped with the proxy user as owner) are what
 * Squid and its helpers read, that a new policy version is in force without a reconfigure, and that
 * an invalid source past maxStaleMs closes the proxy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, openSync, closeSync } from 'node:fs';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildEgressBundles } from '../../functions/egress/bundle';
import { sha512Crypt } from '../../functions/egress/sha512-crypt';
import { connectVia, freePort, requireSquid, selfSignedCert, sleep, SQUID, startTlsStub } from './squid-harness';

jest.setTimeout(90_000);

const PASSWORD = 'sidecar-secret-0123456789abcdef';
let dir: string;
let sidecar: ChildProcess;
let out = '';
let stub: Awaited<ReturnType<typeof startTlsStub>>;
let port: number;
let reader: ReturnType<typeof createReadStream> | undefined;

const policy = (version: string, hosts: string[]) => ({
  version,
  tenants: [{ tenantId: 'tenant-side', credentialHash: sha512Crypt(PASSWORD, 'sidesalt'), rules: hosts.map((host) => ({ host, ports: [stub.port], origin: ['tenant'] })) }],
});
const writePolicy = (doc: unknown) => {
  writeFileSync(path.join(dir, 'policy.json.next'), typeof doc === 'string' ? doc : JSON.stringify(doc));
  renameSync(path.join(dir, 'policy.json.next'), path.join(dir, 'policy.json'));
};
const reach = async (host: string) => (await connectVia(port, { user: 'tenant-side', password: PASSWORD, target: `${host}:${stub.port}`, timeoutMs: 2000 })).kind === 'reached';
async function until(ms: number, probe: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await probe()) return Date.now() - t0;
    await sleep(100);
  }
  return -1;
}

beforeAll(async () => {
  requireSquid();
  dir = mkdtempSync(path.join(tmpdir(), 'octw-sidecar-'));
  chmodSync(dir, 0o755);
  stub = await startTlsStub(dir, ['api.telegram.org', 'discord.com']);
  buildEgressBundles(dir);
  // As egress/entrypoint.sh: the throwaway ssl-bump certificate, owned by the proxy user.
  selfSignedCert(dir, 'bump', ['octw-egress-unused']);
  writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 api.telegram.org\n127.0.0.1 discord.com\n');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'proxy'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'proxy'], { encoding: 'utf8' }).trim());
    for (const f of [dir, ...readdirSync(dir).map((n) => path.join(dir, n))]) chownSync(f, uid, gid);
  }
  writePolicy(policy('1', ['api.telegram.org']));
  port = await freePort();
  // The container's stdout is a FIFO under ECS/containerd; Squid opens /dev/stdout for its logs, which fails on
  // a socket (what a Node 'pipe' is): give the sidecar a FIFO, as the container runtime does.
  const fifo = path.join(dir, 'stdout.fifo');
  execFileSync('mkfifo', ['-m', '0666', fifo]);
  // O_RDWR never blocks on a FIFO (Linux); the reader then opens without waiting for a writer.
  const fd = openSync(fifo, 'r+');
  reader = createReadStream(fifo);
  reader.on('data', (d: string | Buffer) => (out += d.toString()));
  sidecar = spawn(process.execPath, [path.join(dir, 'sidecar.mjs')], {
    env: {
      PATH: process.env.PATH,
      EGRESS_POLICY_FILE: path.join(dir, 'policy.json'),
      EGRESS_CONFIG_DIR: dir,
      EGRESS_LISTEN_ADDRESS: '127.0.0.1',
      EGRESS_LISTEN_PORT: String(port),
      EGRESS_PID_FILE: path.join(dir, 'squid.pid'),
      EGRESS_HOSTS_FILE: path.join(dir, 'hosts'),
      EGRESS_DNS_NAMESERVERS: '127.0.0.1',
      EGRESS_POLL_MS: '500',
      EGRESS_MAX_STALE_MS: '2000',
      EGRESS_ACL_TTL_SECONDS: '1',
      EGRESS_ACL_HELPER: path.join(dir, 'acl-helper.mjs'),
      EGRESS_AUTH_CHILDREN: '2',
      EGRESS_SQUID: SQUID,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
});

afterAll(async () => {
  if (sidecar && sidecar.exitCode === null) {
    const exited = new Promise((r) => sidecar.once('exit', r));
    sidecar.kill('SIGTERM');
    // Squid waits shutdown_lifetime (20 s) for open connections: do not wait for it in a test.
    await sleep(1000);
    try {
      const pid = Number(readFileSync(path.join(dir, 'squid.pid'), 'utf8').trim());
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
  await stub?.close();
  reader?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** The last denial line of Squid's log for `host` (the sidecar's stdout). */
const lastDenial = (host: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{"event":"egress_denied"') && l.includes(`"host":"${host}"`))
    .map((l) => JSON.parse(l) as { reason: string; policy: string })
    .at(-1);

// With the production defaults the stub (loopback) is a private destination, refused before the policy is asked:
// the policy decisions themselves are test/egress/squid-proxy.test.ts's; this file proves the shipped bundles.
describe('the egress sidecar bundle with the real Squid (production defaults: loopback is a private destination)', () => {
  it('starts Squid with a squid.conf that parses without a warning and applies the first policy', async () => {
    expect(await until(30_000, async () => (await reach('api.telegram.org'), lastDenial('api.telegram.org') !== undefined))).toBeGreaterThanOrEqual(0);
    expect(out).toMatch(/"event":"policy_sync","state":"applied","version":"1"/);
    expect(out.split('\n').filter((l) => /WARNING|ERROR|FATAL/.test(l))).toEqual([]);
    // Squid refuses loopback by its deniedDestinations before it asks the policy (so only the reason is observable here).
    expect(lastDenial('api.telegram.org')?.reason).toBe('private_destination');
  });

  it('a new policy version is applied by swapping the map: Squid never reconfigured nor restarted', async () => {
    const pid = readFileSync(path.join(dir, 'squid.pid'), 'utf8').trim();
    const conf = readFileSync(path.join(dir, 'squid.conf'), 'utf8');
    writePolicy(policy('2', ['api.telegram.org', 'discord.com']));
    expect(await until(10_000, () => Promise.resolve(/"state":"applied","version":"2"/.test(out)))).toBeGreaterThanOrEqual(0);
    expect(readFileSync(path.join(dir, 'squid.pid'), 'utf8').trim()).toBe(pid);
    expect(readFileSync(path.join(dir, 'squid.conf'), 'utf8')).toBe(conf);
    expect(out).not.toMatch(/Reconfiguring/);
  });

  it('an invalid policy source past maxStaleMs writes the empty map (fail-closed), and a good one applies again', async () => {
    writePolicy('{"version": "3", "tenants": [{"tenantId": "tenant-side"');
    expect(await until(15_000, () => Promise.resolve(/"state":"fail-closed"/.test(out)))).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'policy-map.json'), 'utf8'))).toEqual({ version: '(deny-all)', tenants: {} });
    writePolicy(policy('4', ['api.telegram.org']));
    expect(await until(15_000, () => Promise.resolve(/"state":"applied","version":"4"/.test(out)))).toBeGreaterThanOrEqual(0);
  });
});
