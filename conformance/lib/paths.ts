/** Where the conformance suite's pinned installs live (see conformance/install.sh). */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CONFORMANCE_DIR = resolve(__dirname, '..');
/** The package folder of the pinned OpenClaw: emulates the image's /app (package.json + node_modules). */
export const OPENCLAW_APP_DIR = join(CONFORMANCE_DIR, 'openclaw');
export const OPENCLAW_PACKAGE_DIR = join(OPENCLAW_APP_DIR, 'node_modules', 'openclaw');
export const OPENCLAW_CLI = join(OPENCLAW_PACKAGE_DIR, 'openclaw.mjs');
/** The directory holding the `node` the pinned OpenClaw requires (Node 24 from npm). */
export const NODE_INSTALL_DIR = join(CONFORMANCE_DIR, 'node', 'node_modules', 'node');
export const NODE_BIN_DIR = join(NODE_INSTALL_DIR, 'bin');
export const NODE_BIN = join(NODE_BIN_DIR, 'node');

/** The OpenClaw release pinned in conformance/openclaw/package.json. */
export function pinnedOpenClawVersion(): string {
  const pkg = JSON.parse(readFileSync(join(OPENCLAW_APP_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const v = pkg.dependencies.openclaw;
  if (!v) throw new Error('conformance/openclaw/package.json pins no openclaw');
  return v;
}

export function installed(): boolean {
  return existsSync(NODE_BIN) && existsSync(OPENCLAW_CLI);
}

export function assertInstalled(): void {
  if (!installed()) throw new Error('the pinned Node/OpenClaw are not installed: run `bash conformance/install.sh` (npm run conformance does)');
}
