#!/usr/bin/env bash
# npm run conformance: install the pinned Node + OpenClaw if missing, then run the conformance suite
# against the real OpenClaw (needs root: network/mount namespaces, bindfs, iptables; see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in ip iptables ip6tables bindfs setpriv unshare; do
  command -v "$tool" >/dev/null || { echo "conformance: $tool is missing (apt-get install -y iproute2 iptables bindfs fuse3 util-linux)"; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "conformance: must run as root (namespaces, bindfs, setpriv)"; exit 2; }

rm -rf conformance/.results && mkdir -p conformance/.results
t0=$(date +%s)
bash conformance/install.sh
echo "{\"what\":\"install (npm ci of the pinned node + openclaw, skipped when present)\",\"seconds\":$(( $(date +%s) - t0 ))}" >> conformance/.results/timings.jsonl

export PATH="$PWD/node_modules/.bin:$PATH"
status=0
jest -c conformance/jest.config.js --runInBand --json --outputFile=conformance/.results/jest.json "$@" || status=$?
echo "conformance timings:"
node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")) { const t = JSON.parse(l); console.log(`  ${String(t.seconds).padStart(6)} s  ${t.what}`); }' conformance/.results/timings.jsonl
node -e 'const r = require(process.argv[1]); console.log(`conformance: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$PWD/conformance/.results/jest.json"
exit $status
