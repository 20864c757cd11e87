/** The `octw` bin (package.json → infra/cli/octw.cjs) runs out of process with the Node running jest. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { USAGE } from '../../infra/cli/usage';

const root = join(__dirname, '..', '..');
const bin = z.object({ bin: z.object({ octw: z.string() }) }).parse(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).bin.octw;
const octw = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, bin), ...args], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });

describe('octw bin', () => {
  it('starts with a node shebang', () => {
    expect(readFileSync(join(root, bin), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('prints the usage and exits 0 for --help', () => {
    const r = octw('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(USAGE);
  });

  it('exits 2 with one JSON error document on stderr for an unknown command with --json', () => {
    const r = octw('tenants', 'explode', '--json');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({ error: { name: 'UsageError', message: 'unknown command "tenants explode"', exitCode: 2 } });
  });
});
