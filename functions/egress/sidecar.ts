/**
 * Entry point of the egress proxy container (egress/Dockerfile): writes a deny-all configuration,
 * starts Squid in the foreground, then keeps the policy in sync (PolicySync) every
 * EGRESS_POLL_MS. When Squid exits, the process exits too (ECS replaces the task). Logs JSON lines.
 */
import { execFile, spawn } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DynamoDbPolicySource } from './policy-source-dynamodb';
import { FilePolicySource, PolicySync, type SquidControl } from './policy-sync';
import { DEFAULT_DENIED_DESTINATIONS, type SquidRenderOptions } from './squid-config';

const run = promisify(execFile);

const Env = z.object({
  EGRESS_POLICY_TABLE: z.string().optional(),
  EGRESS_POLICY_FILE: z.string().optional(),
  EGRESS_LISTEN_PORT: z.coerce.number().int().min(1).max(65535).default(3128),
  EGRESS_POLL_MS: z.coerce.number().int().min(500).default(2000),
  EGRESS_MAX_STALE_MS: z.coerce.number().int().min(1000).default(60_000),
  EGRESS_DNS_NAMESERVERS: z.string().default(''),
  EGRESS_DENIED_CIDRS: z.string().default(''),
  EGRESS_CONFIG_DIR: z.string().default('/etc/squid/octw'),
  EGRESS_AUTH_CHILDREN: z.coerce.number().int().min(1).max(100).default(10),
});

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ source: 'egress-sync', time: new Date().toISOString(), ...fields })}\n`);
}

async function main(): Promise<void> {
  const env = Env.parse(process.env);
  const dir = env.EGRESS_CONFIG_DIR;
  const conf = `${dir}/squid.conf`;
  const render: SquidRenderOptions = {
    listen: { address: '0.0.0.0', port: env.EGRESS_LISTEN_PORT },
    paths: {
      passwdFile: `${dir}/passwd`,
      bumpCert: `${dir}/bump.crt`,
      bumpKey: `${dir}/bump.key`,
      pidFile: '/run/squid/squid.pid',
      cacheLog: 'stdio:/dev/stderr',
      accessLog: 'stdio:/dev/stdout',
      denyLog: 'stdio:/dev/stdout',
      coredumpDir: '/tmp',
    },
    ...(env.EGRESS_DNS_NAMESERVERS ? { dnsNameservers: env.EGRESS_DNS_NAMESERVERS.split(',') } : {}),
    deniedDestinations: [...DEFAULT_DENIED_DESTINATIONS, ...env.EGRESS_DENIED_CIDRS.split(',').filter(Boolean)],
    credentialsTtlSeconds: 60,
    authChildren: env.EGRESS_AUTH_CHILDREN,
    shutdownLifetimeSeconds: 20,
  };
  const control: SquidControl = {
    async write({ squidConf, passwd }) {
      await writeFile(`${dir}/passwd.next`, passwd, { mode: 0o640 });
      await rename(`${dir}/passwd.next`, `${dir}/passwd`);
      await writeFile(`${conf}.next`, squidConf);
      await run('squid', ['-k', 'parse', '-f', `${conf}.next`]);
      await rename(`${conf}.next`, conf);
    },
    async reconfigure() {
      await run('squid', ['-k', 'reconfigure', '-f', conf]);
    },
  };
  const source = env.EGRESS_POLICY_TABLE
    ? new DynamoDbPolicySource(DynamoDBDocumentClient.from(new DynamoDBClient({})), env.EGRESS_POLICY_TABLE)
    : new FilePolicySource(env.EGRESS_POLICY_FILE ?? `${dir}/policy.json`);
  const sync = new PolicySync(source, control, render, { maxStaleMs: env.EGRESS_MAX_STALE_MS });
  await sync.writeInitial();
  const squid = spawn('squid', ['-N', '-f', conf], { stdio: 'inherit' });
  squid.once('exit', (code) => {
    log({ event: 'squid_exited', code });
    process.exit(1);
  });
  for (;;) {
    const outcome = await sync.tick().catch((e: unknown) => ({ state: 'error', error: String(e) }));
    if (outcome.state !== 'unchanged') log({ event: 'policy_sync', ...outcome });
    await new Promise((r) => setTimeout(r, env.EGRESS_POLL_MS));
  }
}

void main();
