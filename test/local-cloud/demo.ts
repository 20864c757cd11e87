/**
 * `npm run demo`: the main job of OCTW, end to end on this machine.
 *
 * Starts the local cloud (DynamoDB Local, the AWS control-plane fake, the real state machines and
 * handlers), sends TenantSignedUp events for a few sample tenants plus one with a bad allowlist,
 * shows the workflows' progress, prints the tenants and their resources, then operates on one
 * tenant (suspend, resume, update) and deprovisions another, showing its resources are gone.
 *
 *   npm run demo -- [--tenants N] [--fault-rate 0..1] [--trace FILE] [--time-scale S] [--real-gateway]
 *
 * With --real-gateway, every ECS task the fake starts runs the real OpenClaw gateway from the
 * registered task definition (test/local-cloud/openclaw-runtime.ts), and a tenant is ACTIVE only
 * once that gateway passed its health check.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../infra/cli/run';
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_REGION } from './env';
import { names as resourceNames } from '../../functions/domain/naming';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { LOCAL_INGRESS_DOMAIN, LOCAL_INGRESS_NODE_ADDRESS, startLocalCloud, type LocalCloud } from './local-cloud';
import { freePort, RealGatewayIngress } from './ingress/real-gateway-ingress';
import { requireHaproxy } from './ingress/local-ingress';
import type { ProgressEvent } from './step-functions';
import type { OpenClawTaskRuntime } from './openclaw-runtime';
import type { TaskRuntimeOptions } from './fake-aws';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbPolicySource } from '../../functions/egress/policy-source-dynamodb';

const USAGE = `Usage: npm run demo -- [options]

  --tenants N        sample tenants to sign up (1-50, default 4), plus one refused signup
  --fault-rate F     probability (0-1) that any AWS or DynamoDB call attempt fails as the service
                     fails transiently (5xx, throttling, lost response...; default 0)
  --trace FILE       write every AWS call the handlers make as JSON lines to FILE
  --time-scale S     model time compression (default 0.02: a 45 s Fargate start takes 0.9 s)
  --ingress          ingress on (issue 12): each tenant gets a route on a fake ALB shard and is
                     ACTIVE only after an authenticated handshake through it (stand-in ALB;
                     with --real-gateway: Debian's HAProxy configured from the fake's listener
                     rules, serving each real gateway at http://<tenant>.localhost:<port>)
  --real-gateway     run the real OpenClaw gateway for every ECS task (default 2 tenants; each
                     gateway takes ~20 s and ~300 MB). Needs root, bindfs and the pinned
                     OpenClaw: bash conformance/install.sh (npm run conformance runs it too)
  --help             this text`;

const SAMPLE = ['acme-robotics', 'globex-labs', 'initech', 'umbrella-bio', 'hooli-search', 'stark-industries', 'wayne-ent', 'cyberdyne'];

interface Options {
  tenants: number;
  faultRate: number;
  trace?: string;
  timeScale: number;
  realGateway: boolean;
  ingress: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      tenants: { type: 'string' },
      'fault-rate': { type: 'string' },
      trace: { type: 'string' },
      'time-scale': { type: 'string' },
      'real-gateway': { type: 'boolean' },
      ingress: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const realGateway = values['real-gateway'] === true;
  const tenants = Number(values.tenants ?? (realGateway ? 2 : 4));
  const faultRate = Number(values['fault-rate'] ?? 0);
  const timeScale = Number(values['time-scale'] ?? 0.02);
  if (!Number.isInteger(tenants) || tenants < 1 || tenants > 50) throw new Error('--tenants must be an integer from 1 to 50');
  if (!(faultRate >= 0 && faultRate <= 1)) throw new Error('--fault-rate must be between 0 and 1');
  if (!(timeScale > 0 && timeScale <= 1)) throw new Error('--time-scale must be in (0, 1]');
  const ingress = values.ingress === true;
  return { tenants, faultRate, timeScale, realGateway, ingress, ...(values.trace ? { trace: values.trace } : {}) };
}

const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(2).padStart(6)}s`;
const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

function tenantOfExecution(name: string): string {
  return name.replace(/^(provision|deprovision|suspend|resume|update|purge)-/, '').replace(/-(g|v)\d+$/, '');
}

/** Last error and retry count per (execution, state), so retried steps read as one line each. */
const stepState = new Map<string, { retries: number; lastError?: string }>();

function showProgress(e: ProgressEvent): void {
  const tenant = pad(tenantOfExecution(e.executionName), 18);
  const workflow = pad(e.stateMachineName.replace(/Tenant$/, ''), 11);
  const key = `${e.executionArn}#${e.state ?? ''}`;
  const step = stepState.get(key) ?? { retries: 0 };
  stepState.set(key, step);
  const line = (text: string) => console.log(`${clock()}  ${tenant} ${workflow} ${text}`);
  switch (e.kind) {
    case 'ExecutionStarted':
      line('started');
      break;
    case 'StateFailed':
      step.lastError = e.error;
      break;
    case 'StateRetried':
      step.retries += 1;
      if (step.retries === 1) line(`${pad(e.state ?? '', 26)} waiting: ${step.lastError ?? e.error ?? 'error'}, retrying with backoff`);
      break;
    case 'StateCaught':
      line(`${pad(e.state ?? '', 26)} FAILED ${step.lastError ?? ''}: handled by the workflow's Catch`);
      break;
    case 'StateExited':
      if (e.stateType === 'Task' || e.stateType === 'Parallel') {
        line(`${pad(e.state ?? '', 26)} done${step.retries > 0 ? ` after ${step.retries} retr${step.retries === 1 ? 'y' : 'ies'}` : ''}`);
      }
      break;
    case 'ExecutionSucceeded':
      line(`SUCCEEDED in ${(e.elapsedMs / 1000).toFixed(2)}s`);
      break;
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'ExecutionTimedOut':
      line(`${e.kind.replace('Execution', '').toUpperCase()} ${e.error ?? ''}: ${(e.cause ?? '').slice(0, 120)}`);
      break;
    default:
      break;
  }
}

function printTenants(cloud: LocalCloud, records: TenantRecord[]): void {
  console.log(`\n${pad('TENANT', 18)} ${pad('STATUS', 14)} ${pad('UID', 7)} ${pad('SECURITY GROUP', 22)} ${pad('ACCESS POINT', 23)} ${pad('TASK DEF', 22)} RESOURCES`);
  for (const r of records) {
    const left = cloud.fake.resourcesByTenant(r.tenantId).length;
    console.log(
      `${pad(r.tenantId, 18)} ${pad(r.status, 14)} ${pad(String(r.uid ?? '-'), 7)} ${pad(r.resources.securityGroupId ?? '-', 22)} ${pad(
        r.resources.accessPointId ?? '-',
        23,
      )} ${pad(r.resources.taskDefinitionArn?.split('/').pop() ?? '-', 22)} ${left}${r.lastError ? `  last error: ${r.lastError.name}: ${r.lastError.message.slice(0, 80)}` : ''}`,
    );
  }
}

/** Runs an `octw` CLI command against the local cloud, echoing the command and its output. */
async function octw(cloud: LocalCloud, argv: string[], seen?: string[]): Promise<number> {
  console.log(`\n  $ octw ${argv.join(' ')}`);
  const indent = (chunk: string) => chunk.replace(/^(?=.)/gm, '    ');
  const out = (c: string) => {
    seen?.push(c);
    return process.stdout.write(indent(c));
  };
  return run(argv.includes('--wait') ? [...argv, '--poll-interval', '20'] : argv, {
    stdout: { write: out },
    stderr: { write: out },
    env: {
      OCTW_TABLE: cloud.tableName,
      // The local cloud names its state machines by catalogue key.
      OCTW_STATE_MACHINE_ARN_PREFIX: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:{key}`,
      OCTW_EVENT_BUS: LOCAL_CELL.eventBusName,
      AWS_REGION: LOCAL_REGION,
    },
    sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const names = Array.from({ length: options.tenants }, (_, i) => SAMPLE[i] ?? `tenant-${String(i + 1).padStart(2, '0')}`);
  const real = options.realGateway ? await realGatewaySetUp(options.ingress) : undefined;
  console.log(
    `OCTW local demo: ${names.length} tenant(s) + 1 refused signup, fault rate ${options.faultRate}, time scale ${options.timeScale}${real ? `, REAL OpenClaw gateways (plan "${real.planId}")` : ''}`,
  );
  console.log('Starting the local cloud (DynamoDB Local, AWS fake, state machines)…');

  // --ingress --real-gateway: Debian's HAProxy in front of the real gateways, from the fake's rules;
  // the activation handshake goes through it too.
  const ingressPort = options.ingress && real ? await freePort() : undefined;
  const cloud = await startLocalCloud({
    ...(real
      ? {
          taskRuntime: { runtime: real.runtime, options: real.runtimeOptions },
          // Real gateways start in real seconds; the data of this run's tenants stays in this run's directory.
          env: { GATEWAY_WAIT_SECONDS: '600', TENANTS_MOUNT_PATH: real.tenantsDir },
        }
      : {}),
    fake: {
      timeScale: options.timeScale,
      faultRate: options.faultRate,
      ...(options.trace ? { trace: { file: options.trace } } : {}),
    },
    ...(options.faultRate > 0 ? { dynamoFaults: { rate: options.faultRate } } : {}),
    waitScale: options.timeScale,
    retryScale: options.timeScale,
    ...(options.ingress ? { ingress: { shards: 2, ...(ingressPort ? { probeOrigin: `http://127.0.0.1:${ingressPort}` } : {}) } } : {}),
  });
  let haproxy: RealGatewayIngress | undefined;
  if (real && ingressPort && cloud.ingress) {
    haproxy = new RealGatewayIngress(cloud.fake, real.runtime, {
      port: ingressPort,
      domain: cloud.ingress.settings.domain,
      listenerArns: cloud.ingress.settings.shards.map((s) => s.listenerArn),
    });
    await haproxy.start();
    console.log(`Local ingress: ${requireHaproxy()} on ${haproxy.origin}, configured from the fake ALB's listener rules`);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cloud.stop();
    await haproxy?.stop();
    if (real) {
      const left = real.runtime.launched.filter((g) => !g.stopped);
      if (left.length > 0) {
        console.error(`\n${left.length} gateway process(es) still running after the local cloud stopped: ${left.map((g) => g.handle.pid).join(', ')}`);
        process.exitCode = 1;
      } else console.log(`\nAll ${real.runtime.launched.length} gateway processes stopped.`);
      rmSync(real.tenantsDir, { recursive: true, force: true });
    }
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));

  try {
    const stopProgress = cloud.sfn.onProgress(showProgress);
    console.log(`${clock()}  local cloud ready; sending signups\n`);
    for (const [i, tenantId] of names.entries()) {
      await cloud.signup({
        tenantId,
        displayName: tenantId.replace(/-/g, ' '),
        ownerEmail: `ops@${tenantId}.example`,
        plan: real?.planId ?? (i % 3 === 2 ? 'pro' : 'standard'),
        egressAllowlist: [{ cidr: `203.0.113.${(i * 16) % 256}/28`, ports: [443], description: `${tenantId} CRM` }],
        // Issue 10: the first tenant may reach Telegram's Bot API through the cell's egress proxy.
        ...(i === 0 ? { hostAllowlist: [{ preset: 'telegram' }] } : {}),
      });
    }
    // A host the plan does not allow (the standard plan allows channel presets only): refused whole.
    await cloud.signup({
      tenantId: 'eve-exfil',
      displayName: 'Eve Exfil',
      ownerEmail: 'ops@eve.example',
      plan: 'standard',
      hostAllowlist: [{ preset: 'telegram' }, { host: 'pastebin.com', ports: [443] }],
    });
    await cloud.signup({
      tenantId: 'mallory-corp',
      displayName: 'Mallory Corp',
      ownerEmail: 'ops@mallory.example',
      plan: 'standard',
      egressAllowlist: [
        { cidr: '0.0.0.0/0', ports: [443], description: 'everything' },
        { cidr: '10.40.7.0/24', ports: [22], description: 'a neighbour' },
      ],
    });
    await cloud.settle();

    const rejected = cloud.bus.events.filter((e) => e['detail-type'] === 'TenantSignupRejected');
    for (const r of rejected) {
      const d = r.detail as { tenantId: string; reasons: string[] };
      console.log(`\n${clock()}  signup of "${d.tenantId}" REFUSED, nothing created:\n${d.reasons.map((x) => `             - ${x}`).join('\n')}`);
    }

    const records = (await Promise.all(names.map((n) => cloud.store.get(n)))).filter((r): r is TenantRecord => r !== undefined);
    printTenants(cloud, records);
    await printEgressPolicies(cloud);
    if (options.ingress) {
      console.log('\nIngress routes (each verified by an authenticated handshake before ACTIVE):');
      for (const r of records) {
        if (r.ingress) console.log(`  https://${r.ingress.hostname}  shard ${r.ingress.shardId}, priority ${r.ingress.priority}, ${r.ingress.mode}${haproxy ? `; here: ${haproxy.localUrl(r.ingress.hostname)}/` : ''}`);
        else console.log(`  ${r.tenantId}: no route (${r.status}${haproxy && r.lastError ? `: ${r.lastError.message}` : ''})`);
      }
    }
    if (real) console.log('\nGateways (real OpenClaw, asked now):');
    const silent = real ? await showGateways(real.runtime, records, cloud) : [];
    if (haproxy) {
      console.log(`\nThrough the local HAProxy (${haproxy.reloads} configuration(s) loaded from the fake's rules):`);
      silent.push(...(await checkLocalIngress(haproxy, records, cloud)));
    }
    const executions = cloud.sfn.list().filter((e) => e.stateMachineName === 'ProvisionTenant');
    const avg = (f: (e: (typeof executions)[number]) => number) => (executions.reduce((s, e) => s + f(e), 0) / Math.max(1, executions.length)).toFixed(1);
    console.log(
      `\n${executions.length} provision run(s): avg ${avg((e) => e.counters.stateTransitions)} state transitions, ${avg((e) => e.counters.taskInvocations)} Lambda invocations, ${
        real ? `${avg((e) => (e.counters.durationMs ?? 0) / 1000)} s wall-clock signup→ACTIVE (real gateways)` : `${avg((e) => (e.counters.durationMs ?? 0) / 1000 / options.timeScale)} s modelled signup→ACTIVE`
      }; ${cloud.fake.calls.length} AWS control-plane calls in all${options.faultRate > 0 ? `, ${cloud.fake.faults.fired.length} injected AWS faults and ${cloud.dynamoFaults?.fired.length ?? 0} DynamoDB faults` : ''}`,
    );

    const active = records.filter((r) => r.status === 'ACTIVE').map((r) => r.tenantId);
    const operated = active[0];
    const leaving = active.length > 1 ? active[active.length - 1] : undefined;
    // From here on the operator CLI drives the workflows; its --wait output shows their steps.
    stopProgress();
    if (operated) {
      console.log(`\nLifecycle of "${operated}" with the operator CLI: suspend, resume, update the allowlist`);
      const before = real?.runtime.runningGateway(resourceNames.service({ cell: LOCAL_CELL.cellId, tenantId: operated }));
      await octw(cloud, ['tenants', 'suspend', operated, '--wait']);
      const hostname = (await cloud.store.require(operated)).ingress?.hostname;
      if (haproxy && hostname) {
        await haproxy.sync();
        const page = await throughIngress(haproxy, haproxy.localUrl(hostname), '/', 'GET');
        console.log(`  ${haproxy.localUrl(hostname)}/ while suspended: ${page.status} ${page.body.slice(0, 80).replace(/\s+/g, ' ')}`);
        if (page.status !== 503) silent.push(`${operated}'s host answered ${page.status}, not the maintenance page (503), while suspended`);
      }
      if (real && before) {
        await cloud.fake.ecs.runtimeIdle();
        console.log(`  gateway process ${before.handle.pid} of "${operated}": ${before.stopped ? 'stopped, its network namespace removed' : 'STILL RUNNING'}`);
        if (!before.stopped) silent.push(`${operated}'s gateway still runs after suspend`);
      }
      const resumedAt = Date.now();
      await octw(cloud, ['tenants', 'resume', operated, '--wait']);
      if (real) {
        // ResumeTenant scales the service back to 1 on its completed deployment, and the platform
        // reads "steady" from the running count: ACTIVE comes before the gateway answers. Say so, then wait for it.
        const seconds = ((Date.now() - resumedAt) / 1000).toFixed(1);
        const g = real.runtime.runningGateway(resourceNames.service({ cell: LOCAL_CELL.cellId, tenantId: operated }));
        console.log(
          `  NOTE: "${operated}" is ACTIVE after ${seconds} s, while its gateway ${g ? `(pid ${g.handle.pid}) has not passed its health check yet` : 'is not even launched yet'}: resume reports ACTIVE on a RUNNING task, not a healthy one`,
        );
        const answered = await awaitGateway(real.runtime, operated, 600_000);
        console.log(`  its gateway answered ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after the resume started`);
        if (!answered) silent.push(`${operated}'s gateway did not answer after resume`);
        await showGateways(real.runtime, [await cloud.store.require(operated)], cloud);
      }
      const allowlist = join(mkdtempSync(join(tmpdir(), 'octw-demo-')), 'allowlist.json');
      writeFileSync(
        allowlist,
        JSON.stringify([
          { cidr: '203.0.113.0/28', ports: [443], description: 'CRM' },
          { cidr: '198.51.100.0/24', ports: [443], description: 'new partner' },
        ]),
      );
      await octw(cloud, ['tenants', 'update', operated, '--allowlist-file', allowlist, '--wait']);
      // Issue 10: a new host policy, in force at the proxy within one poll, no new task revision.
      await octw(cloud, ['tenants', 'update', operated, '--preset', 'telegram', '--preset', 'discord', '--wait']);
      await printEgressPolicies(cloud);
      if (real) await showGateways(real.runtime, [await cloud.store.require(operated)], cloud);
      // A Telegram channel: the bot token goes from a file into the tenant's own secret; the update
      // workflow gets its name only, and ECS injects it into the gateway (OCTW_CHANNEL_TELEGRAM_BOT_TOKEN).
      console.log(`\nA Telegram channel for "${operated}": the token is read from a file, stored as the tenant's secret, never shown`);
      const token = `7000000001:demo-${randomBytes(9).toString('hex')}`;
      const tokenFile = join(mkdtempSync(join(tmpdir(), 'octw-demo-')), 'telegram-token.txt');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      const seen: string[] = [];
      if ((await octw(cloud, ['tenants', 'channels', 'add', operated, '--type', 'telegram', '--credential', `botToken=${tokenFile}`, '--wait'], seen)) !== 0) {
        silent.push(`the Telegram channel of ${operated} was not added`);
      }
      rmSync(tokenFile);
      if (real) await showGateways(real.runtime, [await cloud.store.require(operated)], cloud);
      await octw(cloud, ['tenants', 'show', operated], seen);
      if (!(await cloud.store.require(operated)).channels?.some((c) => c.type === 'telegram')) silent.push(`${operated} has no Telegram channel after the update`);
      if (seen.join('').includes(token)) silent.push(`the Telegram token of ${operated} was printed`);
    }
    if (leaving) {
      console.log(`\nDeprovisioning "${leaving}"`);
      const before = cloud.fake.resourcesByTenant(leaving).map((r) => r.type);
      const gateway = real?.runtime.runningGateway(resourceNames.service({ cell: LOCAL_CELL.cellId, tenantId: leaving }));
      await octw(cloud, ['tenants', 'deprovision', leaving, '--wait']);
      if (real && gateway) {
        await cloud.fake.ecs.runtimeIdle();
        console.log(`  gateway process ${gateway.handle.pid} of "${leaving}": ${gateway.stopped ? 'stopped, its network namespace removed' : 'STILL RUNNING'}`);
        if (!gateway.stopped) silent.push(`${leaving}'s gateway still runs after deprovision`);
      }
      const after = cloud.fake.resourcesByTenant(leaving);
      const record = await cloud.store.require(leaving);
      console.log(`  before: ${before.length} resources (${before.map((t) => t.split('::').pop()).join(', ')})`);
      console.log(
        `  after:  ${after.length === 0 ? 'none' : after.map((r) => `${r.type.split('::').pop()}${r.state ? ` (${r.state})` : ''}`).join(', ')}; data on EFS retained until ${record.dataRetainedUntil ?? '-'}`,
      );
    }
    // Issue 13.1: a new image over the cell's tenants with the operator CLI, a canary first, then
    // waves, each tenant through the health-gated update (suspended ones restaged, not started).
    // Not with real gateways: each update there starts a real OpenClaw (minutes per tenant).
    if (!real) {
      const rolloutImage = `ghcr.io/openclaw/openclaw@sha256:${'5eed'.repeat(16)}`;
      console.log('\nA fleet rollout of a new image: one canary tenant, then waves of 2, each health-gated');
      const rolled: string[] = [];
      const code = await octw(cloud, ['fleet', 'rollout', '--image', rolloutImage, '--canary', '1', '--wave', '2', '--wait'], rolled);
      const active = (await Promise.all(names.map((n) => cloud.store.get(n)))).filter((r): r is TenantRecord => r?.status === 'ACTIVE');
      if (code !== 0) silent.push(`the fleet rollout ended with exit code ${code}`);
      const missed = active.filter((r) => r.imageOverride !== rolloutImage).map((r) => r.tenantId);
      if (missed.length > 0) silent.push(`the rollout left ${missed.join(', ')} on the old image`);
    }
    await octw(cloud, ['tenants', 'list']);

    // The demo doubles as a smoke test in CI: say so, and fail, if the story did not hold.
    const problems: string[] = [];
    const notActive = records.filter((r) => r.status !== 'ACTIVE').map((r) => `${r.tenantId} is ${r.status}`);
    if (records.length !== names.length || notActive.length > 0) problems.push(`not every sample tenant became ACTIVE: ${notActive.join(', ')}`);
    if (await cloud.store.get('mallory-corp')) problems.push('the refused signup left a tenant record');
    if (cloud.fake.resourcesByTenant('mallory-corp').length > 0) problems.push('the refused signup left resources');
    if (await cloud.store.get('eve-exfil')) problems.push('the signup with a host outside its plan left a tenant record');
    if (!rejected.some((r) => (r.detail as { tenantId?: string }).tenantId === 'eve-exfil')) problems.push('the signup with a host outside its plan was not refused');
    const policies = await egressPolicies(cloud);
    if (!policies.some((p) => p.rules.includes('api.telegram.org:443'))) problems.push('no tenant has the telegram preset in the egress policy table');
    if (policies.some((p) => !p.hash.startsWith('$6$'))) problems.push('a policy item holds something other than a SHA-512 crypt hash');
    problems.push(...silent);
    // What a deprovisioned tenant keeps: its secret (recovery window) and its log group (until purge).
    if (leaving && cloud.fake.resourcesByTenant(leaving).some((r) => r.type !== 'AWS::SecretsManager::Secret' && r.type !== 'AWS::Logs::LogGroup')) {
      problems.push(`deprovisioned "${leaving}" still has resources`);
    }
    if (problems.length > 0) {
      console.error(`\nDEMO CHECKS FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      process.exitCode = 1;
    }
    if (options.trace) console.log(`\nTrace of ${cloud.fake.calls.length} AWS calls written to ${options.trace}`);
    console.log(`\nDone in ${clock().trim()}.`);
  } finally {
    await stop();
  }
}

/** The cell's egress policy table as the proxy reads it (functions/egress/policy-source-dynamodb.ts). */
async function egressPolicies(cloud: LocalCloud): Promise<{ tenantId: string; rules: string[]; hash: string }[]> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
  try {
    const loaded = (await new DynamoDbPolicySource(doc, cloud.egressPolicyTableName).load()) as {
      tenants: { tenantId: string; credentialHash: string; rules: { host: string; ports: number[] }[] }[];
    };
    return loaded.tenants
      .map((t) => ({ tenantId: t.tenantId, hash: t.credentialHash, rules: t.rules.flatMap((r) => r.ports.map((p) => `${r.host}:${p}`)) }))
      .sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1));
  } finally {
    doc.destroy();
  }
}

async function printEgressPolicies(cloud: LocalCloud): Promise<void> {
  const policies = await egressPolicies(cloud);
  console.log(`
Egress policy table (what the cell's proxy enforces; the credential only as its SHA-512 crypt hash):`);
  for (const p of policies) console.log(`  ${pad(p.tenantId, 18)} ${p.hash.slice(0, 12)}…  ${p.rules.length ? p.rules.join(' ') : '(no host: every destination refused)'}`);
}

interface RealGateway {
  readonly runtime: OpenClawTaskRuntime;
  readonly runtimeOptions: TaskRuntimeOptions;
  readonly planId: string;
  readonly tenantsDir: string;
}

/** --real-gateway: the real runtime, or exit 1 saying what is missing and how to get it. */
async function realGatewaySetUp(ingress: boolean): Promise<RealGateway> {
  // Loaded only here: the default demo needs no OpenClaw install.
  const { OpenClawTaskRuntime, realGatewayRuntimeOptions, realGatewayPrerequisites } = await import('./openclaw-runtime');
  const missing = realGatewayPrerequisites();
  if (missing.length > 0) {
    console.error(`--real-gateway cannot run here:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
    process.exit(1);
  }
  // Bedrock is not in the npm package set: only a plan whose models all sit behind a custom provider starts here.
  const plan = LOCAL_CELL.plans.find((p) => p.bedrockModels.length === 0 && p.modelProviders.length > 0);
  if (!plan) {
    console.error('--real-gateway needs a local plan whose only models are reachable offline (a custom provider on loopback); none is defined in test/local-cloud/env.ts');
    process.exit(1);
  }
  const efsRoot = mkdtempSync('/var/tmp/octw-demo-efs-');
  const tenantsDir = join(efsRoot, 'tenants');
  mkdirSync(tenantsDir);
  return { runtime: new OpenClawTaskRuntime({ efsRoot, ...(ingress ? { ingressSourceAddress: LOCAL_INGRESS_NODE_ADDRESS } : {}) }), runtimeOptions: realGatewayRuntimeOptions(), planId: plan.id, tenantsDir };
}

/**
 * For each tenant: the gateway its ECS task runs, asked /healthz now, and how long after its
 * start its health check first passed. Returns the tenants that are ACTIVE without an answering gateway.
 */
async function showGateways(runtime: OpenClawTaskRuntime, records: TenantRecord[], cloud: LocalCloud): Promise<string[]> {
  const silent: string[] = [];
  for (const r of records) {
    const g = runtime.runningGateway(resourceNames.service({ cell: LOCAL_CELL.cellId, tenantId: r.tenantId }));
    if (!g) {
      if (r.status === 'ACTIVE') silent.push(`${r.tenantId} is ACTIVE with no gateway running`);
      const reasons = cloud.fake.ecs.tasks.filter((t) => t.serviceName === resourceNames.service({ cell: LOCAL_CELL.cellId, tenantId: r.tenantId }) && t.stoppedReason).map((t) => t.stoppedReason!.slice(0, 300));
      console.log(`  ${pad(r.tenantId, 18)} ${r.status}: no gateway running${reasons.length > 0 ? `; its tasks stopped with:\n${reasons.map((x) => `      - ${x}`).join('\n')}` : ''}`);
      continue;
    }
    const probe = await g.handle.health();
    const answered = probe.ok ? `answered GET /healthz ${probe.status ?? '?'} ${JSON.stringify(probe.body)}` : `did NOT answer /healthz (${probe.status ?? 'no response'})`;
    const took = g.healthyAfterMs !== undefined ? `, health check first passed ${(g.healthyAfterMs / 1000).toFixed(1)} s after the task started` : '';
    console.log(`  ${pad(r.tenantId, 18)} ${r.status}: real OpenClaw (${g.family}:${g.revision}, pid ${g.handle.pid}, netns ${g.handle.netns}) ${answered}${took}`);
    if (r.status === 'ACTIVE' && !probe.ok) silent.push(`${r.tenantId} is ACTIVE but its gateway does not answer /healthz`);
  }
  return silent;
}

/** Waits until the tenant's running gateway answers /healthz; false after budgetMs. */
async function awaitGateway(runtime: OpenClawTaskRuntime, tenantId: string, budgetMs: number): Promise<boolean> {
  const until = Date.now() + budgetMs;
  while (Date.now() < until) {
    const g = runtime.runningGateway(resourceNames.service({ cell: LOCAL_CELL.cellId, tenantId }));
    if (g && (await g.handle.health()).ok) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

/** The gateway's answer to an authenticated call of a tool its config denies over HTTP. */
function isGatewayToolRefusal(answer: { status: number; body: string }): boolean {
  if (answer.status !== 404) return false;
  try {
    const json: unknown = JSON.parse(answer.body);
    return typeof json === 'object' && json !== null && (json as { ok?: unknown }).ok === false && (json as { error?: { type?: unknown } }).error?.type === 'not_found';
  } catch {
    return false;
  }
}

/** A request through the local HAProxy with the Host of `url` (Node's fetch cannot set Host; *.localhost needs no resolver this way). */
async function throughIngress(ingress: RealGatewayIngress, url: string, path: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  const target = new URL(ingress.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: Number(target.port), path, method, headers: { host: new URL(url).host, ...headers }, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url}${path} within 30 s`)));
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * Each ACTIVE tenant's host through HAProxy: its own token gets its gateway's answer (the denied
 * tool's 404 JSON, not 401), the next tenant's token is refused there (401: the host never reaches
 * another gateway), and an unknown host gets 404. Returns what did not hold.
 */
async function checkLocalIngress(ingress: RealGatewayIngress, records: TenantRecord[], cloud: LocalCloud): Promise<string[]> {
  const problems: string[] = [];
  const routed = records.filter((r) => r.status === 'ACTIVE' && r.ingress);
  const token = (tenantId: string) => cloud.fake.secret(resourceNames.secret({ cell: LOCAL_CELL.cellId, tenantId }))?.secretString ?? '';
  const invoke = (url: string, bearer: string) =>
    throughIngress(ingress, url, '/tools/invoke', 'POST', { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, JSON.stringify({ tool: 'sessions_list', args: {} }));
  for (const [i, r] of routed.entries()) {
    const url = ingress.localUrl(r.ingress!.hostname);
    const own = await invoke(url, token(r.tenantId));
    const other = routed[(i + 1) % routed.length]!;
    const foreign = other === r ? undefined : await invoke(url, token(other.tenantId));
    console.log(`  ${pad(r.tenantId, 18)} ${url}/tools/invoke: own token ${own.status} ${own.body.slice(0, 60)}${foreign ? `; ${other.tenantId}'s token ${foreign.status}` : ''}`);
    // The gateway's own JSON answer, nothing less: the tool is denied over HTTP, so 404 {"ok":false,"error":{"type":"not_found"}}.
    if (!isGatewayToolRefusal(own)) problems.push(`${r.tenantId}'s own token got ${own.status} ${own.body.slice(0, 80)} through the local ingress, not the gateway's JSON refusal of the tool (404 not_found)`);
    if (foreign && foreign.status !== 401) problems.push(`${other.tenantId}'s token got ${foreign.status} (not 401) at ${r.tenantId}'s host through the local ingress`);
  }
  const unknown = await throughIngress(ingress, ingress.localUrl(`nobody.${LOCAL_INGRESS_DOMAIN}`), '/', 'GET');
  console.log(`  unknown host ${ingress.localUrl(`nobody.${LOCAL_INGRESS_DOMAIN}`)}/: ${unknown.status} ${unknown.body.slice(0, 40)}`);
  if (unknown.status !== 404) problems.push(`an unknown host got ${unknown.status}, not 404, through the local ingress`);
  if (ingress.lastError) problems.push(`the local ingress could not load the fake's rules: ${ingress.lastError}`);
  return problems;
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
