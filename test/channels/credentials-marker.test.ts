/**
 * Issue 11, item 2: credentials never pass through the workflow. A marker bot token goes through a
 * full local-cloud run driven by the operator CLI (signup, channel add, token rotation, suspend,
 * resume, channel remove, deprovision): it reaches the tenant's container only as the env var ECS injects from the
 * tenant's own secret, and is searched for in the fake's trace, every execution's input and
 * history, every table item, every event and every log line the run printed: never found.
 * Attack tests: a reference to another tenant's or another cell's secret, or to a secret outside the
 * tenant's credentials prefix, is refused and changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { names } from '../../functions/domain/naming';
import { StandInRuntime } from '../local-cloud/fake-aws/stand-in-runtime';
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { cliWith, localCloudCliEnv, tempFile } from '../cli/support';
import { causeMessage, runWorkflow } from '../workflows/support';

jest.setTimeout(120_000);

const MARKER = `7000000001:MARKER-${randomBytes(12).toString('hex')}`;
/** The token the marker is rotated to (octw tenants channels rotate): searched for as well. */
const ROTATED = `7000000001:ROTATED-${randomBytes(12).toString('hex')}`;
const runtime = new StandInRuntime();
/** What the CLI printed at each step of the marker tenant's life. */
const results: Record<string, { code: number; stdout: string; stderr: string }> = {};
let cloud: LocalCloud;
const printed: string[] = [];
const restore: (() => void)[] = [];

beforeAll(async () => {
  // Every line anything in this process prints (handlers' Powertools logs, the CLI, the harness).
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
    restore.push(() => (stream.write = write));
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      printed.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
    restore.push(() => (console[level] = original));
  }
  // Every handler log line at the most verbose level (the local cloud keeps them silent otherwise).
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  // The agent probes the stand-in's health check every 5 ms instead of at the task definition's
  // 15 s interval: HEALTHY is seen as soon as the container passes (the failure budget, interval ×
  // retries, stays the task definition's). Probing at 15 s made each start wait 15 s of real time.
  cloud = await startLocalCloud({ taskRuntime: { runtime, options: { probeEveryMs: 5 } } });
});
afterAll(async () => {
  await cloud?.stop();
  for (const r of restore.reverse()) r();
});

const cli = cliWith(() => ({ ...localCloudCliEnv(cloud), OCTW_CELL: LOCAL_CELL.cellId }));
const signup = (tenantId: string) =>
  tempFile('signup.json', { tenantId, displayName: `Tenant ${tenantId}`, ownerEmail: `ops@${tenantId}.example`, plan: 'standard', egressAllowlist: [] });
const sm = new SecretsManagerClient({ region: LOCAL_REGION });

describe('a channel credential through a whole tenant life (marker)', () => {
  const tenantId = 'marker-co';
  const tokenFile = tempFile('telegram-token.txt', `${MARKER}\n`);
  const rotatedFile = tempFile('telegram-token-rotated.txt', `${ROTATED}\n`);
  let injected: Record<string, string> = {};
  let injectedAfterRotate: Record<string, string> = {};
  let rotatedRecord: Awaited<ReturnType<LocalCloud['tenant']>>;
  let addedRecord: Awaited<ReturnType<LocalCloud['tenant']>>;
  let afterRemove = '';

  beforeAll(async () => {
    results.provision = await cli('tenants', 'provision', '--file', signup(tenantId), '--wait');
    results.add = await cli('tenants', 'channels', 'add', tenantId, '--type', 'telegram', '--credential', `botToken=${tokenFile}`, '--groups=-1001234567890', '--wait');
    addedRecord = await cloud.tenant(tenantId);
    const running = runtime.running(names.taskFamily({ cell: LOCAL_CELL.cellId, tenantId }));
    injected = { ...running.at(-1)?.context.secrets.gateway };
    results.rotate = await cli('tenants', 'channels', 'rotate', tenantId, '--type', 'telegram', '--credential', `botToken=${rotatedFile}`, '--wait');
    rotatedRecord = await cloud.tenant(tenantId);
    injectedAfterRotate = { ...runtime.running(names.taskFamily({ cell: LOCAL_CELL.cellId, tenantId })).at(-1)?.context.secrets.gateway };
    results.show = await cli('tenants', 'show', tenantId);
    results.list = await cli('tenants', 'channels', 'list', tenantId, '--json');
    results.suspend = await cli('tenants', 'suspend', tenantId, '--wait');
    results.resume = await cli('tenants', 'resume', tenantId, '--wait');
    results.remove = await cli('tenants', 'channels', 'remove', tenantId, '--type', 'telegram', '--wait');
    afterRemove = JSON.stringify(cloud.fake.ecs.families.get(names.taskFamily({ cell: LOCAL_CELL.cellId, tenantId }))?.at(-1)?.input);
    results.deprovision = await cli('tenants', 'deprovision', tenantId, '--wait');
    await cloud.settle();
  });

  it('runs every step to success', () => {
    for (const [step, r] of Object.entries(results)) expect({ step, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ step, code: 0, stderr: '' });
  });

  it('stores the token as the tenant secret and the record as a reference only, with an audit entry', async () => {
    const name = `octw/tenants/${LOCAL_CELL.cellId}/${tenantId}/credentials/telegram-bot-token`;
    expect(cloud.fake.secret(name)?.tags.get('octw:tenant')).toBe(tenantId);
    expect(addedRecord?.channels).toEqual([
      { type: 'telegram', settings: { allowFrom: [], groups: ['-1001234567890'] }, credentials: { botToken: { secretArn: cloud.fake.secret(name)?.arn } } },
    ]);
    const audit = await cloud.store.listAudit(tenantId, 50);
    expect(audit.map((a) => a.changes).filter(Boolean)).toEqual(expect.arrayContaining([['channels: -telegram'], ['channels: +telegram']]));
  });

  it('reaches the container only as OCTW_CHANNEL_TELEGRAM_BOT_TOKEN, injected by ECS from the secret', () => {
    expect(injected.OCTW_CHANNEL_TELEGRAM_BOT_TOKEN).toBe(MARKER);
  });

  it('rotates the token: same secret, next generation, a new revision whose task ECS gives the new value; audited', async () => {
    const name = `octw/tenants/${LOCAL_CELL.cellId}/${tenantId}/credentials/telegram-bot-token`;
    expect(rotatedRecord?.channels?.[0]?.credentials).toEqual({ botToken: { secretArn: cloud.fake.secret(name)?.arn, generation: 1 } });
    expect(rotatedRecord?.resources.taskDefinitionArn).not.toBe(addedRecord?.resources.taskDefinitionArn);
    expect(injectedAfterRotate.OCTW_CHANNEL_TELEGRAM_BOT_TOKEN).toBe(ROTATED);
    const audit = await cloud.store.listAudit(tenantId, 50);
    expect(audit.map((a) => a.changes ?? []).flat()).toContain('credentials: rotated channels.telegram.botToken (generation 1)');
  });

  it('shows the channel in octw tenants show and channels list without the token', () => {
    expect(results.show?.stdout).toMatch(/channels:\n {2}telegram .*credentials: botToken=secret:octw\/tenants\/local\/marker-co\/credentials\/telegram-bot-token/);
    expect(JSON.parse(results.list?.stdout ?? '{}')).toMatchObject({ channels: [{ type: 'telegram', credentials: { botToken: `octw/tenants/local/${tenantId}/credentials/telegram-bot-token` } }] });
  });

  it('removes the channel: no telegram entry, plugin or credential env var in the last revision, and its secret scheduled for deletion', async () => {
    const record = await cloud.tenant(tenantId);
    expect(record?.channels).toEqual([]);
    expect(afterRemove).toContain('OPENCLAW_CONFIG_JSON');
    expect(afterRemove).not.toContain('OCTW_CHANNEL_');
    expect(afterRemove).not.toContain('telegram');
    const name = `octw/tenants/${LOCAL_CELL.cellId}/${tenantId}/credentials/telegram-bot-token`;
    expect(cloud.fake.secret(name)?.deletionDate).toBeDefined();
  });

});

describe('credential references that are not the tenant\'s own are refused (attacks)', () => {
  const victim = 'victim-co';
  const attacker = 'attacker-co';
  let victimSecret: string;

  beforeAll(async () => {
    for (const id of [victim, attacker]) expect((await cli('tenants', 'provision', '--file', signup(id), '--wait')).code).toBe(0);
    const add = await cli('tenants', 'channels', 'add', victim, '--type', 'telegram', '--credential', `botToken=${tempFile('t', 'victim-token')}`, '--wait');
    expect(add.code).toBe(0);
    victimSecret = (await cloud.tenant(victim))!.channels![0]!.credentials.botToken!.secretArn;
  });

  const expectRefused = async (reference: string, reason: RegExp) => {
    const before = await cloud.tenant(attacker);
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId: attacker, channels: [{ type: 'telegram', credentials: { botToken: reference } }] });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ForeignResourceError');
    expect(causeMessage(done)).toMatch(reason);
    expect(await cloud.tenant(attacker)).toEqual(before);
  };

  it('refuses another tenant\'s secret, by ARN and by name', async () => {
    await expectRefused(victimSecret, /not a credential of tenant "attacker-co"/);
    await expectRefused(`octw/tenants/${LOCAL_CELL.cellId}/${victim}/credentials/telegram-bot-token`, /not under octw\/tenants\/local\/attacker-co\/credentials\//);
  });

  it('refuses a secret under the tenant\'s own prefix that another tenant or another cell tagged', async () => {
    const name = `octw/tenants/${LOCAL_CELL.cellId}/${attacker}/credentials/planted`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x', Tags: [{ Key: 'octw:cell', Value: LOCAL_CELL.cellId }, { Key: 'octw:tenant', Value: victim }] }));
    await expectRefused(name, /its tag octw:tenant=victim-co/);
    const other = `octw/tenants/${LOCAL_CELL.cellId}/${attacker}/credentials/other-cell`;
    await sm.send(new CreateSecretCommand({ Name: other, SecretString: 'x', Tags: [{ Key: 'octw:cell', Value: 'cell-2' }, { Key: 'octw:tenant', Value: attacker }] }));
    await expectRefused(other, /its tag octw:cell=cell-2/);
  });

  it('refuses another cell\'s secret of the same tenant id, the tenant\'s gateway token and a platform secret', async () => {
    await expectRefused(`octw/tenants/cell-2/${attacker}/credentials/telegram-bot-token`, /not under octw\/tenants\/local\/attacker-co\/credentials\//);
    await expectRefused(names.secret({ cell: LOCAL_CELL.cellId, tenantId: attacker }), /not under/);
    await expectRefused(`arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:octw/platform/db-AbCdEf`, /not under/);
  });

  it('refuses a reference to a secret that does not exist as invalid input', async () => {
    const done = await runWorkflow(cloud, 'UpdateTenant', {
      tenantId: attacker,
      channels: [{ type: 'telegram', credentials: { botToken: `octw/tenants/${LOCAL_CELL.cellId}/${attacker}/credentials/missing` } }],
    });
    expect(done.error).toBe('ValidationError');
  });

  it('never accepts a credential value in the update input (only a secret name or ARN)', async () => {
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId: attacker, channels: [{ type: 'telegram', credentials: { botToken: '123456:ABC def' } }] });
    expect(done.error).toBe('ValidationError');
    expect(causeMessage(done)).toMatch(/secret name or ARN/);
  });
});

// Searched after every run of this file: the marker tenant's whole life and the refused attacks.
describe('after the whole run', () => {
  it('is nowhere in the trace, the executions, the table, the events or the log lines', async () => {
    const needles = [MARKER, MARKER.slice(11), ROTATED, ROTATED.slice(11)];
    const haystacks: Record<string, string> = {
      trace: JSON.stringify(cloud.fake.calls),
      executions: JSON.stringify(cloud.sfn.list().map((e) => ({ input: e.input, output: e.output, history: cloud.sfn.history(e.executionArn) }))),
      table: JSON.stringify(await scanTable(cloud.tableName)),
      events: JSON.stringify([cloud.bus.events, cloud.fake.events]),
      logs: printed.join('\n'),
      cli: JSON.stringify(results),
      taskDefinitions: JSON.stringify([...cloud.fake.ecs.families.values()]),
    };
    // The run did happen and the haystacks hold it.
    expect(haystacks.executions).toContain('channels');
    expect(haystacks.trace).toContain('telegram-bot-token');
    // Handlers log failures: the refused updates below were logged, with their causes.
    expect(haystacks.logs).toContain('ForeignResourceError');
    for (const [where, text] of Object.entries(haystacks)) {
      for (const needle of needles) expect({ where, found: text.includes(needle) }).toEqual({ where, found: false });
    }
  });
});

async function scanTable(tableName: string): Promise<unknown[]> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: LOCAL_REGION }));
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  doc.destroy();
  return items;
}
