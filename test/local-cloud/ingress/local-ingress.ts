/**
 * Runs HAProxy (Debian's haproxy 2.6) as the local ingress: master-worker mode in the
 * foreground, configuration checked with `haproxy -c` before every start and reload, reload by
 * SIGUSR2 (the old worker finishes its open connections, WebSockets included).
 *
 * A reload is complete only when the new worker serves: each configuration gets a generation
 * number, answered on GET /.octw-ingress-generation from loopback (any host), and start/reload
 * return once two fresh connections in a row get the new number. Without that wait a request sent
 * right after a reload could reach the old worker as it closed its listener ("socket hang up"),
 * or the previous rules (the demo's activation check once got 503 that way).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const HAPROXY_BIN = process.env.OCTW_HAPROXY ?? '/usr/sbin/haproxy';
/** Loopback-only path answering the configuration generation the worker serves. */
export const GENERATION_PATH = '/.octw-ingress-generation';

export class HaproxyMissingError extends Error {
  override readonly name = 'HaproxyMissingError';
}

/** Throws a clear error when HAProxy is not installed (CI installs it: `apt-get install -y haproxy` in .ci/run). */
export function requireHaproxy(): string {
  const v = spawnSync(HAPROXY_BIN, ['-v'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) {
    throw new HaproxyMissingError(`HAProxy not found at ${HAPROXY_BIN}: install it with "apt-get install -y haproxy" (as .ci/run does) or set OCTW_HAPROXY`);
  }
  return v.stdout.split('\n')[0] ?? '';
}

export class LocalIngress {
  private readonly dir = mkdtempSync(join(tmpdir(), 'octw-ingress-'));
  private readonly file = join(this.dir, 'haproxy.cfg');
  private proc: ChildProcess | undefined;
  private output = '';
  private generation = 0;

  constructor(readonly port: number) {}

  private check(config: string): void {
    const candidate = join(this.dir, 'candidate.cfg');
    writeFileSync(candidate, config);
    // Not -q: with -q haproxy prints nothing at all for a configuration it rejects.
    const r = spawnSync(HAPROXY_BIN, ['-c', '-f', candidate], { encoding: 'utf8' });
    if (r.error) throw new Error(`haproxy -c could not run: ${r.error.message}`);
    if (r.status !== 0) {
      const why = `${r.stderr}${r.stdout}`.split('\n').filter((l) => /ALERT|error|invalid|unknown/i.test(l)).join('\n');
      throw new Error(`haproxy rejected the generated configuration (${r.signal ? `signal ${r.signal}` : `exit ${r.status}`}):\n${why || `${r.stderr}${r.stdout}`}`);
    }
  }

  /** The configuration with its generation answer (first rule of the frontend). */
  private withGeneration(config: string, generation: number): string {
    const marked = config.replace(/^(frontend ingress\n {2}bind [^\n]+\n)/m, `$1  http-request return status 200 content-type "text/plain" string "${generation}" if { path ${GENERATION_PATH} } { src 127.0.0.0/8 }\n`);
    if (marked === config) throw new Error('the configuration has no "frontend ingress" with a bind line to mark its generation in');
    return marked;
  }

  async start(config: string): Promise<void> {
    requireHaproxy();
    const marked = this.withGeneration(config, this.generation + 1);
    this.check(marked);
    writeFileSync(this.file, marked);
    this.generation++;
    const proc = spawn(HAPROXY_BIN, ['-W', '-db', '-f', this.file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    await this.waitListening();
    await this.waitServing(this.generation);
  }

  /** Checks, then swaps the configuration without dropping open connections; resolves once the new worker serves it. */
  async reload(config: string): Promise<void> {
    if (!this.proc?.pid) throw new Error('local ingress is not running');
    const marked = this.withGeneration(config, this.generation + 1);
    this.check(marked);
    writeFileSync(this.file, marked);
    this.generation++;
    process.kill(this.proc.pid, 'SIGUSR2');
    await this.waitServing(this.generation);
  }

  /** The generation a fresh connection is answered with (undefined: no answer). */
  private servedGeneration(): Promise<number | undefined> {
    return new Promise((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.port, path: GENERATION_PATH, method: 'GET', agent: false, timeout: 2000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(res.statusCode === 200 && /^\d+$/.test(body.trim()) ? Number(body.trim()) : undefined));
        res.on('error', () => resolve(undefined));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(undefined));
      req.end();
    });
  }

  private async waitServing(generation: number): Promise<void> {
    let inARow = 0;
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (!this.proc) return; // stopped meanwhile: nothing serves any more, nothing to wait for
      if (this.proc.exitCode !== null) throw new Error(`haproxy exited (${this.proc.exitCode}): ${this.output}`);
      const served = await this.servedGeneration();
      // A later generation also means this one's rules were replaced by newer ones already.
      inARow = served !== undefined && served >= generation ? inARow + 1 : 0;
      if (inARow >= 2) return;
      await delay(25);
    }
    throw new Error(`haproxy did not serve configuration generation ${generation} within 30 s: ${this.output.slice(-2000)}`);
  }

  private async waitListening(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined) throw new Error(`haproxy exited (${this.proc.exitCode}): ${this.output}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      await delay(50);
    }
    throw new Error(`haproxy did not listen on ${this.port} within 5 s: ${this.output}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p && p.exitCode === null) {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
