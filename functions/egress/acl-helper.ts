/**
 * Squid `external_acl_type` helper (bundled to egress/dist/acl-helper.mjs; squid-config.ts names it):
 * answers each policy question from the policy map file the sidecar swaps atomically
 * (`node acl-helper.mjs /etc/squid/octw/policy.json`). The file is re-read when its inode, size or
 * mtime changes, checked at most every RECHECK_MS; Squid caches answers for the helper TTL.
 * Fails closed: a missing, unreadable or invalid file = every answer ERR (reason policy_unavailable);
 * the last good map is NOT kept (the sidecar decides staleness: it writes the empty map when its source fails).
 */
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { answerLine, compilePolicy, type CompiledPolicy } from './policy-map';

const RECHECK_MS = 200;

const file = process.argv[2];
let policy: CompiledPolicy | undefined;
let stamp = '';
let checkedAt = 0;

function log(fields: Record<string, unknown>): void {
  // stderr goes to Squid's cache.log.
  process.stderr.write(`${JSON.stringify({ source: 'egress-acl-helper', time: new Date().toISOString(), ...fields })}\n`);
}

function refresh(): void {
  const now = Date.now();
  if (now - checkedAt < RECHECK_MS) return;
  checkedAt = now;
  if (!file) {
    policy = undefined;
    return;
  }
  try {
    const s = statSync(file);
    const next = `${s.ino}:${s.size}:${s.mtimeMs}`;
    if (next === stamp && policy) return;
    policy = compilePolicy(JSON.parse(readFileSync(file, 'utf8')) as unknown);
    stamp = next;
    log({ event: 'policy_loaded', version: policy.version, tenants: policy.tenants.size });
  } catch (e) {
    if (policy || stamp !== 'failed') log({ event: 'policy_unavailable', error: e instanceof Error ? e.message.slice(0, 500) : String(e) });
    policy = undefined;
    stamp = 'failed';
  }
}

const rl = createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  refresh();
  if (process.env.OCTW_ACL_DEBUG) log({ event: 'question', line });
  process.stdout.write(`${answerLine(policy, line)}\n`);
});
rl.on('close', () => process.exit(0));
