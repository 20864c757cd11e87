/**
 * Runs the real Squid (Debian `squid-openssl`) on loopback with exactly the configuration
 * functions/egress/squid-config.ts generates, its policy helper bundled by esbuild exactly as the image
 * bundles it (functions/egress/bundle.ts), plus a stub TLS upstream and a proxy client.
 * Used by test/egress/squid-proxy.test.ts and bench/egress.ts. No network: every listener binds
 * to 127.0.0.1 and test host names resolve through Squid's own hosts file.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { buildEgressBundles } from '../../functions/egress/bundle';
import { swapFile } from '../../functions/egress/file-swap';
import { renderSquidConfig, renderTenantFiles, type ProxyTenantPolicy, type SquidRenderOptions } from '../../functions/egress/squid-config';

export const SQUID = process.env.OCTW_SQUID ?? '/usr/sbin/squid';

/** Throws a clear error when Squid with OpenSSL is missing (tests must fail, not skip). */
export function requireSquid(): void {
  if (!existsSync(SQUID)) {
    throw new Error(`Squid is not installed at ${SQUID}: the egress proxy tests need Debian's squid-openssl (apt-get install -y squid-openssl; .ci/run installs it)`);
  }
  const version = execFileSync(SQUID, ['-v'], { encoding: 'utf8' });
  if (!version.includes('--with-openssl')) throw new Error(`${SQUID} is built without OpenSSL (the plain "squid" package uses GnuTLS and has no ssl_bump): install squid-openssl`);
  // Started as root, Squid drops to "proxy" and runs the policy helper with this Node: that user must reach it.
  if (process.getuid?.() === 0 && spawnSync('runuser', ['-u', 'proxy', '--', 'test', '-x', process.execPath]).status !== 0) {
    throw new Error(`Squid's user "proxy" cannot execute ${process.execPath} (its policy helper's Node): a directory above the checkout is not traversable by others (chmod o+x; .ci/run does it)`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A self-signed certificate for `names` made with the openssl CLI (a dependency of squid-openssl). */
export function selfSignedCert(dir: string, base: string, names: string[]): { cert: string; key: string } {
  const cert = path.join(dir, `${base}.crt`);
  const key = path.join(dir, `${base}.key`);
  const san = names.map((n) => `DNS:${n}`).join(',');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${names[0] ?? base}`, ...(san ? ['-addext', `subjectAltName=${san}`] : [])], { stdio: 'ignore' });
  return { cert, key };
}

export interface RunningSquid {
  port: number;
  dir: string;
  configFile: string;
  denyLog: string;
  accessLog: string;
  /** Swaps the policy map and credential file for `tenants` (as the sidecar does: no reconfigure). */
  apply(tenants: readonly ProxyTenantPolicy[]): void;
  /** Writes `content` as the policy map file directly (tests of a broken or missing map); null removes it. */
  writePolicyMap(content: string | null): void;
  /** The policy map file the helper reads. */
  policyFile: string;
  /** Resident memory of the policy helper processes, kB. */
  helperRssKb(): number;
  /** Resident memory of the Squid processes (main and kids, not helpers), kB, from /proc. */
  rssKb(): number;
  stop(): Promise<void>;
  process: ChildProcess;
}

export interface StartOptions {
  hosts: Record<string, string>;
  deniedDestinations?: readonly string[];
  authChildren?: number;
  /** Seconds Squid caches a helper answer (default 1). */
  aclTtlSeconds?: number;
}

/** Starts Squid in the foreground (-N) with a temp config dir on a free loopback port. */
export async function startSquid(tenants: readonly ProxyTenantPolicy[], opts: StartOptions): Promise<RunningSquid> {
  requireSquid();
  const dir = mkdtempSync(path.join(tmpdir(), 'octw-squid-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const bump = selfSignedCert(dir, 'bump', ['octw-egress-unused']);
  const hostsFile = path.join(dir, 'hosts');
  writeFileSync(hostsFile, Object.entries(opts.hosts).map(([name, ip]) => `${ip} ${name}\n`).join(''));
  const [helper] = buildEgressBundles(dir, ['acl-helper']);
  const paths: SquidRenderOptions['paths'] = {
    passwdFile: path.join(dir, 'passwd'),
    policyFile: path.join(dir, 'policy-map.json'),
    bumpCert: bump.cert,
    bumpKey: bump.key,
    pidFile: path.join(dir, 'squid.pid'),
    cacheLog: path.join(dir, 'cache.log'),
    accessLog: `stdio:${path.join(dir, 'access.log')}`,
    denyLog: `stdio:${path.join(dir, 'denied.log')}`,
    coredumpDir: dir,
  };
  const options: SquidRenderOptions = {
    listen: { address: '127.0.0.1', port },
    paths,
    hostsFile,
    // No resolver: names outside the hosts file fail to resolve (nothing leaves the machine).
    dnsNameservers: ['127.0.0.1'],
    deniedDestinations: opts.deniedDestinations ?? ['10.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
    credentialsTtlSeconds: 60,
    authChildren: opts.authChildren ?? 3,
    shutdownLifetimeSeconds: 0,
    aclHelper: { command: [process.execPath, helper ?? ''], ttlSeconds: opts.aclTtlSeconds ?? 1, children: 2, concurrency: 50 },
  };
  const configFile = path.join(dir, 'squid.conf');
  const owner = () => {
    if (process.getuid?.() === 0) {
      // Squid started as root drops to the "proxy" user: let it read and write its directory.
      const uid = Number(execFileSync('id', ['-u', 'proxy'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'proxy'], { encoding: 'utf8' }).trim());
      for (const f of [dir, ...readdirSync(dir).map((n) => path.join(dir, n))]) chownSync(f, uid, gid);
    }
  };
  let version = 0;
  const swap = (file: string, content: string) => swapFile(file, content, 0o644);
  const write = (ts: readonly ProxyTenantPolicy[]) => {
    const { passwd, policyMap } = renderTenantFiles(ts, `test-${++version}`);
    swap(paths.passwdFile, passwd);
    swap(paths.policyFile, policyMap);
    owner();
  };
  writeFileSync(configFile, renderSquidConfig(options));
  write(tenants);
  const child = spawn(SQUID, ['-N', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`squid exited with ${child.exitCode}: ${stderr}\n${safeRead(paths.cacheLog)}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) throw new Error(`squid did not listen on 127.0.0.1:${port} within 15 s: ${stderr}`);
    await sleep(50);
  }
  return {
    port,
    dir,
    configFile,
    process: child,
    denyLog: path.join(dir, 'denied.log'),
    accessLog: path.join(dir, 'access.log'),
    policyFile: paths.policyFile,
    apply(ts) {
      write(ts);
    },
    writePolicyMap(content) {
      if (content === null) rmSync(paths.policyFile, { force: true });
      else {
        swap(paths.policyFile, content);
        owner();
      }
    },
    rssKb() {
      return rss(child.pid ?? 0, (comm) => comm === 'squid');
    },
    helperRssKb() {
      return rss(child.pid ?? 0, (comm) => comm !== 'squid' && !comm.startsWith('basic_ncsa'));
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident memory (kB) of `pid` and its descendants whose command name passes `which`. */
function rss(pid: number, which: (comm: string) => boolean): number {
  let total = 0;
  for (const p of [pid, ...childPids(pid)]) {
    if (!which(safeRead(`/proc/${p}/comm`).trim())) continue;
    const m = /VmRSS:\s+(\d+)/.exec(safeRead(`/proc/${p}/status`));
    total += m ? Number(m[1]) : 0;
  }
  return total;
}

function childPids(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...childPids(k)]);
  } catch {
    return [];
  }
}

function safeRead(file: string): string {
  try {
    return statSync(file).isFile() ? readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A TLS upstream on loopback answering every HTTP request with "stub <SNI>"; records the SNI of each handshake. */
export async function startTlsStub(dir: string, names: string[]): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const { cert, key } = selfSignedCert(dir, 'upstream', names);
  const seen: string[] = [];
  const server = tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => {
    seen.push(s.servername || '(none)');
    s.once('data', () => {
      const body = `stub ${s.servername || '(none)'}`;
      s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export type ProxyOutcome =
  | { kind: 'refused'; status: number } // the proxy answered the CONNECT with a non-200 status
  | { kind: 'reached'; body: string } // the upstream stub answered through the tunnel
  | { kind: 'denied-in-tunnel'; status: number } // Squid accepted the CONNECT only to deliver its error page over TLS
  | { kind: 'closed'; detail: string }; // connection reset or closed (terminate, proxy down)

/**
 * CONNECT through the proxy as `user`, then TLS with `sni` (default: the CONNECT host; null: no SNI),
 * then one HTTP request. Always settles within `timeoutMs`.
 */
export async function connectVia(proxyPort: number, o: { user: string; password: string; target: string; sni?: string | null; timeoutMs?: number }): Promise<ProxyOutcome> {
  const host = o.target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const servername = o.sni === null ? undefined : (o.sni ?? host);
  return new Promise<ProxyOutcome>((resolve) => {
    let done = false;
    const finish = (r: ProxyOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ kind: 'closed', detail: 'timeout' }), o.timeoutMs ?? 5000);
    const sock = net.connect(proxyPort, '127.0.0.1');
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ kind: 'closed', detail: e.code ?? e.message }));
    sock.once('connect', () => {
      const auth = Buffer.from(`${o.user}:${o.password}`).toString('base64');
      sock.write(`CONNECT ${o.target} HTTP/1.1\r\nHost: ${o.target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
    });
    let head = Buffer.alloc(0);
    const onHead = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.removeListener('data', onHead);
      const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0);
      if (status !== 200) return finish({ kind: 'refused', status });
      const t = tls.connect({ socket: sock, rejectUnauthorized: false, ...(servername && !net.isIP(servername) ? { servername } : {}) });
      let response = '';
      t.once('secureConnect', () => t.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      t.on('data', (chunk: Buffer) => (response += chunk.toString()));
      t.once('error', (e: NodeJS.ErrnoException) => finish({ kind: 'closed', detail: e.code ?? e.message }));
      t.once('close', () => {
        const code = Number(/^HTTP\/1\.\d (\d{3})/.exec(response)?.[1] ?? 0);
        const body = response.split('\r\n\r\n').slice(1).join('\r\n\r\n');
        if (code === 200 && body.startsWith('stub ')) finish({ kind: 'reached', body });
        else if (code) finish({ kind: 'denied-in-tunnel', status: code });
        else finish({ kind: 'closed', detail: 'closed' });
      });
    };
    sock.on('data', onHead);
  });
}

/** A plain-HTTP request through the proxy (absolute URI). Resolves with the status, or 0 on a connection error. */
export async function httpVia(proxyPort: number, o: { user: string; password: string; url: string }): Promise<number> {
  return new Promise((resolve) => {
    const sock = net.connect(proxyPort, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(0);
    }, 5000);
    let data = '';
    sock.once('error', () => {
      clearTimeout(timer);
      resolve(0);
    });
    sock.once('connect', () => {
      const u = new URL(o.url);
      const auth = Buffer.from(`${o.user}:${o.password}`).toString('base64');
      sock.write(`GET ${o.url} HTTP/1.1\r\nHost: ${u.host}\r\nProxy-Authorization: Basic ${auth}\r\nConnection: close\r\n\r\n`);
    });
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      const m = /^HTTP\/1\.\d (\d{3})/.exec(data);
      if (m) {
        clearTimeout(timer);
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
  });
}

/** Parsed lines of a Squid JSON log written with the octw log formats. */
export function readJsonLog(file: string): Record<string, unknown>[] {
  return safeRead(file)
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
