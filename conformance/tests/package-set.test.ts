/**
 * The package set the suite installs is the one the platform pins: OpenClaw's release, the Node
 * version it requires, and the list of plugins the image carries (plans are validated against it).
 */
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BUNDLED_PLUGINS, OPENCLAW_RELEASE } from '../../functions/domain/openclaw-release';
import { NODE_BIN, OPENCLAW_APP_DIR, OPENCLAW_PACKAGE_DIR, assertInstalled, pinnedOpenClawVersion } from '../lib/paths';
import { accepted } from '../lib/support';

const readJson = <T>(p: string) => JSON.parse(readFileSync(p, 'utf8')) as T;

beforeAll(() => assertInstalled());

describe('the pinned package set', () => {
  it('installs exactly the OpenClaw release the platform renders for, from the committed lockfile', () => {
    const lock = readJson<{ packages: Record<string, { version?: string; integrity?: string }> }>(join(OPENCLAW_APP_DIR, 'package-lock.json'));
    expect(pinnedOpenClawVersion()).toBe(OPENCLAW_RELEASE);
    expect(lock.packages['node_modules/openclaw']?.version).toBe(OPENCLAW_RELEASE);
    expect(lock.packages['node_modules/openclaw']?.integrity).toMatch(/^sha512-/);
    expect(readJson<{ version: string }>(join(OPENCLAW_PACKAGE_DIR, 'package.json')).version).toBe(OPENCLAW_RELEASE);
    expect(accepted().release).toBe(OPENCLAW_RELEASE);
  });

  it('runs OpenClaw on a Node version its engines field accepts', () => {
    const engines = readJson<{ engines: { node: string } }>(join(OPENCLAW_PACKAGE_DIR, 'package.json')).engines.node;
    const version = execFileSync(NODE_BIN, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
    const [major, minor] = version.split('.').map(Number) as [number, number];
    // engines of 2026.9.6: ">=24.16.0 <25 || >=26.1.0" (asserted, so a new release's range is looked at).
    expect(engines.replace(/\s+/g, ' ')).toBe('>=24.16.0 <25 || >=26.1.0');
    expect((major === 24 && minor >= 16) || major > 26 || (major === 26 && minor >= 1)).toBe(true);
  });

  it('carries exactly the plugins BUNDLED_PLUGINS lists (the ids plans are validated against)', () => {
    const dir = join(OPENCLAW_PACKAGE_DIR, 'dist', 'extensions');
    const ids = readdirSync(dir)
      .filter((d) => existsSync(join(dir, d, 'openclaw.plugin.json')))
      .map((d) => readJson<{ id: string }>(join(dir, d, 'openclaw.plugin.json')).id)
      .sort();
    expect(ids).toEqual([...BUNDLED_PLUGINS].sort());
    expect(ids).not.toContain('amazon-bedrock');
  });
});
