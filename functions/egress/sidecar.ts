/**
 * Entry point of the egress proxy container (egress/Dockerfile): writes squid.conf and the deny-all
 * policy, starts Squid in the foreground, then keeps the policy map and credentials in sync
 * (PolicySync) every EGRESS_POLL_MS; Squid's policy helper (acl-helper.mjs, bundled next to this
 * file) reads the map, so a policy change never reconfigures Squid. When Squid exits, the process exits too (ECS replaces the task). Logs JSON lines.
 */
import { execFile, spawn } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../shared/zod';
import { swapFile } from './file-swap';
import { DynamoDbPolicySource } from './policy-source-dynamodb';
import { FilePolicySource, PolicySync, type SquidControl } from './policy-sync';
import { DEFAULT_DENIED_DESTINATIONS, type SquidRenderOptions } from './squid-config';

const run = promisify(execFile);

const Env = z.object({
  EGRESS_POLICY_TABLE: z.optional(z.string()),
  EGRESS_POLICY_FILE: z.optional(z.string()),
  EGRESS_LISTEN_PORT: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(65535)), 3128),
  EGRESS_POLL_MS: z._default(z.coerce.number().check(z.int()).check(z.gte(500)), 2000),
  EGRESS_MAX_STALE_MS: z._default(z.coerce.number().check(z.int()).check(z.gte(1000)), 60_000),
  EGRESS_DNS_NAMESERVERS: z._default(z.string(), ''),
  EGRESS_DENIED_CIDRS: z._default(z.string(), ''),
  EGRESS_CONFIG_DIR: z._default(z.string(), '/etc/squid/octw'),
  EGRESS_AUTH_CHILDREN: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(100)), 10),
  EGRESS_ACL_TTL_SECONDS: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(60)), 2),
  EGRESS_ACL_CHILDREN: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(20)), 2),
  EGRESS_ACL_HELPER: z._default(z.string(), '/opt/octw/acl-helper.mjs'),
  // Defaults are the image's; tests run the bundle on loopback with their own paths (test/egress/sidecar.test.ts).
  EGRESS_LISTEN_ADDRESS: z._default(z.string(), '0.0.0.0'),
  EGRESS_PID_FILE: z._default(z.string(), '/run/squid/squid.pid'),
  EGRESS_HOSTS_FILE: z.optional(z.string()),
  EGRESS_SQUID: z._default(z.string(), 'squid'),
});

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ source: 'egress-sync', time: new Date().toISOString(), ...fields })}\n`);
}

async function main(): Promise<void> {
  const env = Env.parse(process.env);
  const dir = env.EGRESS_CONFIG_DIR;
  const conf = `${dir}/squid.conf`;
  const render: SquidRenderOptions = {
    listen: { address: env.EGRESS_LISTEN_ADDRESS, port: env.EGRESS_LISTEN_PORT },
    paths: {
      passwdFile: `${dir}/passwd`,
      policyFile: `${dir}/policy-map.json`,
      bumpCert: `${dir}/bump.crt`,
      bumpKey: `${dir}/bump.key`,
      pidFile: env.EGRESS_PID_FILE,
      cacheLog: 'stdio:/dev/stderr',
      accessLog: 'stdio:/dev/stdout',
      denyLog: 'stdio:/dev/stdout',
      coredumpDir: '/tmp',
    },
    ...(env.EGRESS_HOSTS_FILE ? { hostsFile: env.EGRESS_HOSTS_FILE } : {}),
    ...(env.EGRESS_DNS_NAMESERVERS ? { dnsNameservers: env.EGRESS_DNS_NAMESERVERS.split(',') } : {}),
    deniedDestinations: [...DEFAULT_DENIED_DESTINATIONS, ...env.EGRESS_DENIED_CIDRS.split(',').filter(Boolean)],
    credentialsTtlSeconds: 60,
    authChildren: env.EGRESS_AUTH_CHILDREN,
    shutdownLifetimeSeconds: 20,
    aclHelper: { command: [process.execPath, env.EGRESS_ACL_HELPER], ttlSeconds: env.EGRESS_ACL_TTL_SECONDS, children: env.EGRESS_ACL_CHILDREN, concurrency: 100 },
  };
  // Squid's helpers (basic_ncsa_auth, the policy helper) run as the proxy user: the files are theirs, 0640.
  const owner = process.getuid?.() === 0 ? { uid: Number((await run('id', ['-u', 'proxy'])).stdout.trim()), gid: Number((await run('id', ['-g', 'proxy'])).stdout.trim()) } : undefined;
  const control: SquidControl = {
    async writeConfig(squidConf) {
      await writeFile(`${conf}.next`, squidConf);
      await run(env.EGRESS_SQUID, ['-k', 'parse', '-f', `${conf}.next`]);
      await rename(`${conf}.next`, conf);
    },
    writeTenants({ passwd, policyMap }) {
      swapFile(render.paths.passwdFile, passwd, 0o640, owner);
      swapFile(render.paths.policyFile, policyMap, 0o640, owner);
      return Promise.resolve();
    },
  };
  const source = env.EGRESS_POLICY_TABLE
    ? new DynamoDbPolicySource(DynamoDBDocumentClient.from(new DynamoDBClient({})), env.EGRESS_POLICY_TABLE)
    : new FilePolicySource(env.EGRESS_POLICY_FILE ?? `${dir}/policy.json`);
  const sync = new PolicySync(source, control, render, { maxStaleMs: env.EGRESS_MAX_STALE_MS });
  await sync.writeInitial();
  const squid = spawn(env.EGRESS_SQUID, ['-N', '-f', conf], { stdio: 'inherit' });
  let stopping = false;
  squid.once('exit', (code) => {
    log({ event: 'squid_exited', code });
    process.exit(stopping ? 0 : 1);
  });
  // ECS stops the task with SIGTERM to this process (PID 1's child of the entrypoint exec): Squid gets it too and
  // closes within shutdown_lifetime; this process exits when Squid has.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping = true;
      log({ event: 'stopping', signal });
      squid.kill('SIGTERM');
    });
  }
  for (;;) {
    const outcome = await sync.tick().catch((e: unknown) => ({ state: 'error', error: String(e) }));
    if (outcome.state !== 'unchanged') log({ event: 'policy_sync', ...outcome });
    await new Promise((r) => setTimeout(r, env.EGRESS_POLL_MS));
  }
}

void main();
