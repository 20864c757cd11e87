/**
 * Runs HAProxy (Debian's haproxy 2.6) as the local ingress: master-worker mode in the
 * foreground, configuration checked with `haproxy -c` before every start and reload, reload by
 * SIGUSR2 (the old worker finishes its open connections, WebSockets included).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const HAPROXY_BIN = process.env.OCTW_HAPROXY ?? '/usr/sbin/haproxy';

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

  async start(config: string): Promise<void> {
    requireHaproxy();
    this.check(config);
    writeFileSync(this.file, config);
    const proc = spawn(HAPROXY_BIN, ['-W', '-db', '-f', this.file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    await this.waitListening();
  }

  /** Checks, then swaps the configuration without dropping open connections. */
  reload(config: string): void {
    if (!this.proc?.pid) throw new Error('local ingress is not running');
    this.check(config);
    writeFileSync(this.file, config);
    process.kill(this.proc.pid, 'SIGUSR2');
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
