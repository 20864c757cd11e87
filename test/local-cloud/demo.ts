/**
 * `npm run demo`: the main job of OCTW, end to end on this machine.
 *
 * Starts the local cloud (DynamoDB Local, the AWS control-plane fake, the real state machines and
 * handlers), sends TenantSignedUp events for a few sample tenants plus one with a bad allowlist,
 * shows the workflows' progress, prints the tenants and their resources, then operates on one
 * tenant (suspend, resume, update) and deprovisions another, showing its resources are gone.
 *
 *   npm run demo -- [--tenants N] [--fault-rate 0..1] [--trace FILE] [--time-scale S]
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../infra/cli/run';
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_REGION } from './env';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { startLocalCloud, type LocalCloud } from './local-cloud';
import type { ProgressEvent } from './step-functions';

const USAGE = `Usage: npm run demo -- [options]

  --tenants N        sample tenants to sign up (1-50, default 4), plus one refused signup
  --fault-rate F     probability (0-1) that any AWS call fails transiently (default 0)
  --trace FILE       write every AWS call the handlers make as JSON lines to FILE
  --time-scale S     model time compression (default 0.02: a 45 s Fargate start takes 0.9 s)
  --help             this text`;

const SAMPLE = ['acme-robotics', 'globex-labs', 'initech', 'umbrella-bio', 'hooli-search', 'stark-industries', 'wayne-ent', 'cyberdyne'];

interface Options {
  tenants: number;
  faultRate: number;
  trace?: string;
  timeScale: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      tenants: { type: 'string' },
      'fault-rate': { type: 'string' },
      trace: { type: 'string' },
      'time-scale': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const tenants = Number(values.tenants ?? 4);
  const faultRate = Number(values['fault-rate'] ?? 0);
  const timeScale = Number(values['time-scale'] ?? 0.02);
  if (!Number.isInteger(tenants) || tenants < 1 || tenants > 50) throw new Error('--tenants must be an integer from 1 to 50');
  if (!(faultRate >= 0 && faultRate <= 1)) throw new Error('--fault-rate must be between 0 and 1');
  if (!(timeScale > 0 && timeScale <= 1)) throw new Error('--time-scale must be in (0, 1]');
  return { tenants, faultRate, timeScale, ...(values.trace ? { trace: values.trace } : {}) };
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
async function octw(cloud: LocalCloud, argv: string[]): Promise<number> {
  console.log(`\n  $ octw ${argv.join(' ')}`);
  const indent = (chunk: string) => chunk.replace(/^(?=.)/gm, '    ');
  return run(argv.includes('--wait') ? [...argv, '--poll-interval', '20'] : argv, {
    stdout: { write: (c: string) => process.stdout.write(indent(c)) },
    stderr: { write: (c: string) => process.stdout.write(indent(c)) },
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
  console.log(`OCTW local demo: ${names.length} tenant(s) + 1 refused signup, fault rate ${options.faultRate}, time scale ${options.timeScale}`);
  console.log('Starting the local cloud (DynamoDB Local, AWS fake, state machines)…');

  const cloud = await startLocalCloud({
    fake: {
      timeScale: options.timeScale,
      faultRate: options.faultRate,
      ...(options.trace ? { trace: { file: options.trace } } : {}),
    },
    waitScale: options.timeScale,
    retryScale: options.timeScale,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cloud.stop();
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
        plan: i % 3 === 2 ? 'pro' : 'standard',
        egressAllowlist: [{ cidr: `203.0.113.${(i * 16) % 256}/28`, ports: [443], description: `${tenantId} CRM` }],
      });
    }
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
    const executions = cloud.sfn.list().filter((e) => e.stateMachineName === 'ProvisionTenant');
    const avg = (f: (e: (typeof executions)[number]) => number) => (executions.reduce((s, e) => s + f(e), 0) / Math.max(1, executions.length)).toFixed(1);
    console.log(
      `\n${executions.length} provision run(s): avg ${avg((e) => e.counters.stateTransitions)} state transitions, ${avg((e) => e.counters.taskInvocations)} Lambda invocations, ${avg(
        (e) => (e.counters.durationMs ?? 0) / 1000 / options.timeScale,
      )} s modelled signup→ACTIVE; ${cloud.fake.calls.length} AWS control-plane calls in all${options.faultRate > 0 ? `, ${cloud.fake.faults.fired.length} injected faults retried` : ''}`,
    );

    const active = records.filter((r) => r.status === 'ACTIVE').map((r) => r.tenantId);
    const operated = active[0];
    const leaving = active.length > 1 ? active[active.length - 1] : undefined;
    // From here on the operator CLI drives the workflows; its --wait output shows their steps.
    stopProgress();
    if (operated) {
      console.log(`\nLifecycle of "${operated}" with the operator CLI: suspend, resume, update the allowlist`);
      await octw(cloud, ['tenants', 'suspend', operated, '--wait']);
      await octw(cloud, ['tenants', 'resume', operated, '--wait']);
      const allowlist = join(mkdtempSync(join(tmpdir(), 'octw-demo-')), 'allowlist.json');
      writeFileSync(
        allowlist,
        JSON.stringify([
          { cidr: '203.0.113.0/28', ports: [443], description: 'CRM' },
          { cidr: '198.51.100.0/24', ports: [443], description: 'new partner' },
        ]),
      );
      await octw(cloud, ['tenants', 'update', operated, '--allowlist-file', allowlist, '--wait']);
      await octw(cloud, ['tenants', 'show', operated]);
    }
    if (leaving) {
      console.log(`\nDeprovisioning "${leaving}"`);
      const before = cloud.fake.resourcesByTenant(leaving).map((r) => r.type);
      await octw(cloud, ['tenants', 'deprovision', leaving, '--wait']);
      const after = cloud.fake.resourcesByTenant(leaving);
      const record = await cloud.store.require(leaving);
      console.log(`  before: ${before.length} resources (${before.map((t) => t.split('::').pop()).join(', ')})`);
      console.log(
        `  after:  ${after.length === 0 ? 'none' : after.map((r) => `${r.type.split('::').pop()}${r.state ? ` (${r.state})` : ''}`).join(', ')}; data on EFS retained until ${record.dataRetainedUntil ?? '-'}`,
      );
    }
    await octw(cloud, ['tenants', 'list']);

    // The demo doubles as a smoke test in CI: say so, and fail, if the story did not hold.
    const problems: string[] = [];
    const notActive = records.filter((r) => r.status !== 'ACTIVE').map((r) => `${r.tenantId} is ${r.status}`);
    if (records.length !== names.length || notActive.length > 0) problems.push(`not every sample tenant became ACTIVE: ${notActive.join(', ')}`);
    if (await cloud.store.get('mallory-corp')) problems.push('the refused signup left a tenant record');
    if (cloud.fake.resourcesByTenant('mallory-corp').length > 0) problems.push('the refused signup left resources');
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

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
