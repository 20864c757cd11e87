// Links the `openclaw` peer of every plugin package in the package set to the host OpenClaw, as
// `openclaw plugins install` does for the packages it installs ("Linked peerDependency openclaw").
// OpenClaw 2026.9.6 verifies an installed plugin's payload before it loads it and refuses one whose
// `node_modules/openclaw` does not resolve to the running host package (missing-openclaw-peer-link).
// Run from the package-set directory (the image's /app, conformance/openclaw); idempotent.
// Used by image/Dockerfile and conformance/install.sh.
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const { dependencies = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const host = join(root, 'node_modules', 'openclaw');
let linked = 0;
for (const name of Object.keys(dependencies)) {
  if (name === 'openclaw') continue;
  const pkgDir = join(root, 'node_modules', ...name.split('/'));
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (!manifest.peerDependencies || !Object.hasOwn(manifest.peerDependencies, 'openclaw')) continue;
  const link = join(pkgDir, 'node_modules', 'openclaw');
  mkdirSync(dirname(link), { recursive: true });
  if (existsSync(link) && realpathSync(link) === realpathSync(host)) continue;
  try { if (lstatSync(link)) rmSync(link, { recursive: true, force: true }); } catch { /* absent */ }
  symlinkSync(relative(dirname(link), host), link);
  linked += 1;
}
console.log(`link-plugin-peers: ${linked} linked in ${root}`);
