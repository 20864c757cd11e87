/**
 * `octw tenants denials ID` against the local cloud's CloudWatch Logs fake (FilterLogEvents with the
 * JSON pattern the CLI sends; AWS's error codes for a missing log group and a bad limit).
 */
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, FilterLogEventsCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { FakeAws, installFakeAws } from '../local-cloud/fake-aws';
import { jsonError, runCli } from './support';

const GROUP = '/octw/cell-1/egress-proxy';
const line = (event: string, tenant: string, host: string, reason: string, policy = '-', sni = '-') =>
  JSON.stringify({ event, ts: 1, tenant, client: '10.0.1.7', method: 'CONNECT', host, port: '443', status: 403, squid: 'TCP_DENIED', sni, reason, policy, bytesOut: 0, bytesIn: 0, ms: 1 });

let uninstall: () => void;
const logs = new CloudWatchLogsClient({ region: 'eu-west-1' });

beforeAll(async () => {
  uninstall = installFakeAws(new FakeAws());
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: 'proxy/proxy/task-1' }));
  const now = Date.now();
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: GROUP,
      logStreamName: 'proxy/proxy/task-1',
      logEvents: [
        { timestamp: now - 3 * 3_600_000, message: line('egress_denied', 'tenant-alpha', 'old.example.net', 'not_in_policy', 'not_in_policy') },
        { timestamp: now - 50_000, message: line('egress_denied', 'tenant-alpha', 'evil.example.net', 'not_in_policy', 'not_in_policy') },
        { timestamp: now - 40_000, message: line('egress', 'tenant-alpha', 'api.telegram.org', 'allowed', 'allowed') },
        { timestamp: now - 30_000, message: line('egress_denied', 'tenant-bravo', 'evil.example.net', 'not_in_policy', 'not_in_policy') },
        { timestamp: now - 20_000, message: line('egress_denied', 'tenant-alpha', 'api.telegram.org', 'sni_mismatch', 'sni_mismatch', 'discord.com') },
        { timestamp: now - 10_000, message: line('egress_denied', 'tenant-alpha', 'files.example.org', 'not_in_policy', 'policy_unavailable') },
        { timestamp: now - 5_000, message: '{"source":"egress-sync","event":"policy_sync","state":"applied"}' },
      ],
    }),
  );
});
afterAll(() => uninstall());

describe('octw tenants denials', () => {
  it("lists the tenant's latest denials only (not other tenants', not allowed lines, not older than --since), newest last", async () => {
    const r = await runCli(['tenants', 'denials', 'tenant-alpha', '--cell', 'cell-1', '--region', 'eu-west-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(2);
    expect(rows.map((l) => l.split(/\s{2,}/).slice(1))).toEqual([['evil.example.net:443', 'not_in_policy'], ['api.telegram.org:443', 'sni_mismatch', 'discord.com'], ['files.example.org:443', 'policy_unavailable']]);
    const limited = await runCli(['tenants', 'denials', 'tenant-alpha', '--limit', '1', '--since', '600', '--json', '--log-group', GROUP, '--region', 'eu-west-1']);
    expect(JSON.parse(limited.stdout)).toMatchObject({ tenantId: 'tenant-alpha', logGroup: GROUP, sinceMinutes: 600, denials: [{ host: 'files.example.org', reason: 'policy_unavailable' }] });
    const wide = await runCli(['tenants', 'denials', 'tenant-alpha', '--since', '600', '--json', '--cell', 'cell-1', '--region', 'eu-west-1']);
    expect((JSON.parse(wide.stdout) as { denials: unknown[] }).denials).toHaveLength(4);
    const none = await runCli(['tenants', 'denials', 'tenant-charlie', '--cell', 'cell-1', '--region', 'eu-west-1']);
    expect(none.stdout).toMatch(/no egress denials for tenant-charlie/);
  });

  it('refuses bad input locally and reports AWS errors with their codes (missing log group → ResourceNotFoundException, exit 4)', async () => {
    expect((await runCli(['tenants', 'denials', 'Bad_ID', '--cell', 'cell-1'])).code).toBe(2);
    expect((await runCli(['tenants', 'denials', 'tenant-alpha', '--cell', 'cell-1', '--limit', '0'])).code).toBe(2);
    const noGroup = await runCli(['tenants', 'denials', 'tenant-alpha'], {});
    expect(noGroup.code).toBe(2);
    expect(noGroup.stderr).toMatch(/--log-group or --cell/);
    const missing = await runCli(['tenants', 'denials', 'tenant-alpha', '--cell', 'cell-9', '--region', 'eu-west-1', '--json']);
    expect(missing.code).toBe(4);
    expect(jsonError(missing).name).toBe('ResourceNotFoundException');
  });

  it('fake fidelity: FilterLogEvents validates limit, patterns and tokens as CloudWatch Logs does, and pages', async () => {
    await expect(logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, limit: 0 }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: '{ $.event ~ x }' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, nextToken: '%%%' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    const first = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: '{ $.event = "egress_denied" }', limit: 2 }));
    expect(first.events?.map((e) => (JSON.parse(e.message ?? '{}') as { host: string }).host)).toEqual(['old.example.net', 'evil.example.net']);
    const second = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: '{ $.event = "egress_denied" }', limit: 2, nextToken: first.nextToken }));
    expect(second.events).toHaveLength(2);
    expect((await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: '{ $.tenant = "tenant-*" && $.reason = "sni_*" }' }))).events).toHaveLength(1);
    await expect(logs.send(new PutLogEventsCommand({ logGroupName: GROUP, logStreamName: 'nope', logEvents: [{ timestamp: 1, message: 'x' }] }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      logs.send(new PutLogEventsCommand({ logGroupName: GROUP, logStreamName: 'proxy/proxy/task-1', logEvents: [{ timestamp: 2, message: 'x' }, { timestamp: 1, message: 'y' }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});
