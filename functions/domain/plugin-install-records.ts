/**
 * Install records for the packaged (npm) plugins the image carries (contract 4, owner: plugins).
 *
 * OpenClaw 2026.9.6 grants a non-bundled plugin its privileged APIs (durable ingress queue, keyed
 * stores: what the Slack and Discord channels need) only when an install record in the state
 * directory vouches for the copy it loads: `source: "npm"`, the official package name, and an
 * install path equal to that copy; otherwise `PluginTrustRefusalError ... reason=record-missing`.
 * The tenant's state directory is its EFS access point and nothing is installed at run time, so the
 * platform declares the image's own copies installed, on every start, before the gateway runs:
 *
 *  - the `plugin-init` container (same image, the tenant's uid/gid, no capability, read-only root)
 *    rewrites OpenClaw's managed npm root `<state>/npm` as the layout `openclaw plugins install`
 *    leaves: `package.json` naming each package at the release version, and
 *    `node_modules/<package>` pointing at the image's read-only copy (`/app/node_modules/<package>`).
 *    OpenClaw derives the install record from that root (its managed-npm recovery): source npm,
 *    spec `<package>@<version>`, resolved name/version, install path = the image copy.
 *  - the rendered config selects the same image path in `plugins.load.paths`, so the copy the
 *    record vouches for is the one that loads, and a copy elsewhere (a state-dir copy with the same
 *    id) is outranked by the config-selected one and never trusted (its path matches no record).
 *  - the image links each package's `openclaw` peer to the host package (image/Dockerfile), as
 *    `openclaw plugins install` does; without it OpenClaw refuses the payload (missing-openclaw-peer-link).
 *
 * Policy stays outside the agent: only packages whose plugin id the tenant's rendered `plugins.allow`
 * names are declared (the plan and the tenant's channels decide), the root is rewritten from the
 * task definition at every start (a change made by the gateway does not survive a restart), and a
 * record cannot widen trust beyond the allow list: OpenClaw trusts only official catalog packages
 * whose recorded install path is the loaded copy, here the image's read-only one.
 *
 * Pure domain code: no AWS SDK imports.
 */
import { IMAGE_APP_DIR, OPENCLAW_RELEASE, OPTIONAL_IMAGE_PLUGINS, PACKAGED_PLUGINS } from './openclaw-release';

/** Name of the init container that writes the records. */
export const PLUGIN_INIT_CONTAINER = 'plugin-init';

/** A packaged plugin the tenant may load, declared installed from the image's copy. */
export interface PackagedPluginInstall {
  pluginId: string;
  packageName: string;
  version: string;
  /** The image's copy: also the `plugins.load.paths` entry of the rendered config. */
  imagePath: string;
}

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

const IMAGE_PACKAGES: Readonly<Record<string, string>> = { ...OPTIONAL_IMAGE_PLUGINS, ...PACKAGED_PLUGINS };

/**
 * The image's plugin packages among `allow` (the rendered `plugins.allow`), in allow-list order: the
 * packaged ones (always in the image) and the optional ones (in an image built with them, e.g. the
 * Bedrock provider; declared all the same: OpenClaw skips a declared package whose path is absent).
 */
export function packagedPluginInstalls(allow: readonly string[]): PackagedPluginInstall[] {
  return allow
    .filter((id) => Object.hasOwn(IMAGE_PACKAGES, id))
    .map((pluginId) => {
      const packageName = IMAGE_PACKAGES[pluginId] as string;
      if (!PACKAGE_NAME.test(packageName)) throw new RangeError(`packaged plugin "${pluginId}" has an invalid npm package name "${packageName}"`);
      return { pluginId, packageName, version: OPENCLAW_RELEASE, imagePath: `${IMAGE_APP_DIR}/node_modules/${packageName}` };
    });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell the `plugin-init` container runs (as the tenant's uid/gid, `stateDir` on EFS): replace
 * the managed npm root with exactly `installs`. With none, the root is removed (a plugin the tenant
 * no longer has keeps no record).
 */
export function pluginInitScript(stateDir: string, installs: readonly PackagedPluginInstall[]): string {
  const root = `${stateDir}/npm`;
  const lines = ['set -eu', `rm -rf ${q(root)}`];
  if (installs.length > 0) {
    const dependencies = Object.fromEntries(installs.map((i) => [i.packageName, i.version]));
    const manifest = JSON.stringify({ name: 'octw-image-plugins', private: true, dependencies });
    const scopes = [...new Set(installs.map((i) => i.packageName.split('/')).filter((p) => p.length === 2).map((p) => p[0] as string))];
    lines.push(`mkdir -p ${[`${root}/node_modules`, ...scopes.map((s) => `${root}/node_modules/${s}`)].map(q).join(' ')}`);
    lines.push(`printf '%s' ${q(manifest)} > ${q(`${root}/package.json`)}`);
    for (const i of installs) lines.push(`ln -s ${q(i.imagePath)} ${q(`${root}/node_modules/${i.packageName}`)}`);
  }
  return lines.join('\n');
}
