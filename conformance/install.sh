#!/usr/bin/env bash
# Installs the pinned Node (conformance/node) and the pinned OpenClaw (conformance/openclaw) from
# their committed lockfiles, each only if missing or not the pinned version. Idempotent.
# OpenClaw requires Node >=24.16 <25 || >=26.1, so its install runs with the Node installed first.
# npm runs no install script (--ignore-scripts); OpenClaw's postinstall is then run explicitly
# with the pinned Node; the tenant image is built the same way (image/Dockerfile).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
want_node="$(node -p 'require(process.argv[1]).dependencies.node' "$here/node/package.json")"
want_oc="$(node -p 'require(process.argv[1]).dependencies.openclaw' "$here/openclaw/package.json")"

t0=$(date +%s)
if [ "$("$here/node/node_modules/.bin/node" --version 2>/dev/null || true)" != "v$want_node" ]; then
  echo "conformance: installing node $want_node (npm ci in conformance/node)"
  (cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error)
fi
export PATH="$here/node/node_modules/.bin:$PATH"
have_oc="$(node -p 'require(process.argv[1]).version' "$here/openclaw/node_modules/openclaw/package.json" 2>/dev/null || true)"
pending="$here/openclaw/node_modules/openclaw/.openclaw-lifecycle-pending"
# The whole package set (OpenClaw and the channel plugins beside it) is what the lockfile says:
# reinstall when the lockfile changed since the last install.
want_lock="$(sha256sum "$here/openclaw/package-lock.json" | cut -d' ' -f1)"
have_lock="$(cat "$here/openclaw/node_modules/.octw-lock-sha256" 2>/dev/null || true)"
if [ "$have_oc" != "$want_oc" ] || [ -e "$pending" ] || [ "$have_lock" != "$want_lock" ]; then
  echo "conformance: installing openclaw $want_oc with node $(node --version) (npm ci in conformance/openclaw)"
  (cd "$here/openclaw" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  # OpenClaw's own postinstall, run with the pinned Node (npm would put the repo's Node 22 first on
  # PATH: npm adds every ancestor's node_modules/.bin). It completes the package lifecycle (else the
  # CLI refuses to start on a read-only /app: "package lifecycle is incomplete").
  (cd "$here/openclaw/node_modules/openclaw" && node scripts/postinstall-bundled-plugins.mjs)
  test ! -e "$pending"
  echo "$want_lock" > "$here/openclaw/node_modules/.octw-lock-sha256"
fi
# Each plugin package's `openclaw` peer linked to the host package, as the image does (image/Dockerfile).
node "$here/../image/link-plugin-peers.mjs" "$here/openclaw"
echo "conformance: node $(node --version), openclaw $(node -p 'require(process.argv[1]).version' "$here/openclaw/node_modules/openclaw/package.json"), install step $(( $(date +%s) - t0 )) s"
