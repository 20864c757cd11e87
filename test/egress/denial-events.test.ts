/**
 * Denials made visible (issue 10, item 4): the proxy's denial lines → one rate-limited
 * TenantEgressDenied event per tenant. The rate limit is a real conditional write on DynamoDB Local;
 * EventBridge is the local cloud's fake (PutEvents captured).
 */
import { gzipSync } from 'node:zlib';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { EventBridgePublisher } from '../../functions/adapters/lifecycle-events';
import { DynamoDbDenialGate, notifyDenials, summarizeDenials, TENANT_EGRESS_DENIED } from '../../functions/egress/denial-events';
import { FakeAws, installFakeAws } from '../local-cloud/fake-aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local-cloud/dynamodb-local';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
const table = `egress-denial-gate-${process.pid}-${Date.now()}`;

/** A denial line exactly as squid-config.ts's octw_denied log format writes it (fields URL-escaped by Squid). */
const line = (tenant: string, host: string, reason = 'not_in_policy', policy = 'not_in_policy', port = '443') =>
  `{"event":"egress_denied","ts":1796147033.450,"tenant":"${tenant}","client":"10.0.1.7","method":"CONNECT","host":"${host}","port":"${port}","status":403,"squid":"TCP_DENIED","sni":"-","reason":"${reason}","policy":"${policy}","bytesOut":0,"bytesIn":0,"ms":1}`;
const ev = (message: string, timestamp = 1_796_147_033_450) => ({ id: String(Math.random()), timestamp, message });

let fake: FakeAws;
let uninstall: () => void;
const published: { DetailType?: string; Detail?: string; Source?: string }[] = [];

beforeAll(async () => {
  await new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }).send(
    new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }] }),
  );
  fake = new FakeAws();
  uninstall = installFakeAws(fake);
  fake.onPutEvents((entries) => published.push(...entries));
});
afterAll(() => uninstall());
beforeEach(() => (published.length = 0));

describe('egress denial events', () => {
  it('summarizes denial lines per tenant: counts, reasons (the helper detail), distinct destinations; unauthenticated and foreign lines are not attributed', () => {
    const { tenants, ignored } = summarizeDenials([
      ev(line('tenant-alpha', 'evil.example.net')),
      ev(line('tenant-alpha', 'evil.example.net')),
      ev(line('tenant-alpha', 'api.telegram.org', 'sni_mismatch', 'sni_mismatch')),
      ev(line('tenant-alpha', '127.0.0.1', 'ip_literal', '-')),
      ev(line('tenant-bravo', 'discord.com', 'not_in_policy', 'policy_unavailable'), 1_796_147_040_000),
      ev(line('-', 'discord.com', 'no_valid_credential', '-')),
      ev(line('tenant-alpha%22,%22x', 'a.example.com')),
      ev('{"event":"egress","tenant":"tenant-alpha"}'),
      ev('not json'),
    ]);
    expect(ignored).toBe(4);
    expect(tenants).toEqual([
      { tenantId: 'tenant-alpha', count: 4, reasons: { not_in_policy: 2, sni_mismatch: 1, ip_literal: 1 }, destinations: ['evil.example.net:443', 'api.telegram.org:443', '127.0.0.1:443'], firstAt: '2026-12-01T17:43:53.450Z', lastAt: '2026-12-01T17:43:53.450Z' },
      { tenantId: 'tenant-bravo', count: 1, reasons: { policy_unavailable: 1 }, destinations: ['discord.com:443'], firstAt: '2026-12-01T17:44:00.000Z', lastAt: '2026-12-01T17:44:00.000Z' },
    ]);
  });

  it('puts at most one TenantEgressDenied event per tenant per interval (conditional write on DynamoDB Local), then again after it', async () => {
    let now = 1_000_000;
    const deps = { gate: new DynamoDbDenialGate(doc, table), events: new EventBridgePublisher(new EventBridgeClient({}), 'octw-cell-1', 'octw.egress'), cellId: 'cell-1', intervalMs: 300_000, now: () => now };
    const { tenants } = summarizeDenials([ev(line('tenant-rate', 'evil.example.net')), ev(line('tenant-other', 'evil.example.net'))]);
    await expect(notifyDenials(tenants, deps)).resolves.toEqual({ published: ['tenant-rate', 'tenant-other'], suppressed: [] });
    now += 60_000;
    await expect(notifyDenials(tenants, deps)).resolves.toEqual({ published: [], suppressed: ['tenant-rate', 'tenant-other'] });
    // Two invocations racing for the same tenant: exactly one wins.
    now += 240_000;
    const race = await Promise.all([notifyDenials(tenants.slice(0, 1), deps), notifyDenials(tenants.slice(0, 1), deps)]);
    expect(race.flatMap((r) => r.published)).toEqual(['tenant-rate']);
    expect(published.filter((e) => e.DetailType === TENANT_EGRESS_DENIED)).toHaveLength(3);
    expect(JSON.parse(published[0]?.Detail ?? '{}')).toEqual({ tenantId: 'tenant-rate', cellId: 'cell-1', denials: 1, reasons: { not_in_policy: 1 }, destinations: ['evil.example.net:443'], firstAt: expect.any(String), lastAt: expect.any(String), nextEventAfterSeconds: 300 });
  });

  it('the Lambda handler decodes the subscription payload (gzip, base64) and refuses anything else with a clear error', async () => {
    Object.assign(process.env, { EVENT_BUS_NAME: 'octw-cell-1', EVENT_SOURCE: 'octw.egress', CELL_ID: 'cell-1', DENIAL_GATE_TABLE: table, DENIAL_EVENT_INTERVAL_SECONDS: '300' });
    const { handler } = await import('../../functions/handlers/egress-denials');
    const payload = { messageType: 'DATA_MESSAGE', owner: '111122223333', logGroup: '/octw/cell-1/egress-proxy', logStream: 'proxy/proxy/abc', subscriptionFilters: ['denials'], logEvents: [ev(line('tenant-handler', 'evil.example.net')), ev(line('tenant-handler', 'x.example.org'))] };
    const data = gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64');
    const ctx = { functionName: 'egress-denials', awsRequestId: 'r1' } as Context;
    await expect(handler({ awslogs: { data } }, ctx)).resolves.toEqual({ published: ['tenant-handler'], suppressed: [], ignored: 0 });
    await expect(handler({ awslogs: { data } }, ctx)).resolves.toEqual({ published: [], suppressed: ['tenant-handler'], ignored: 0 });
    expect(published.map((e) => [e.DetailType, e.Source])).toEqual([[TENANT_EGRESS_DENIED, 'octw.egress']]);
    expect(JSON.parse(published[0]?.Detail ?? '{}')).toMatchObject({ tenantId: 'tenant-handler', denials: 2, destinations: ['evil.example.net:443', 'x.example.org:443'] });
    await expect(handler({ awslogs: { data: 'bm90IGd6aXA=' } }, ctx)).rejects.toThrow(/not base64 gzip JSON/);
    await expect(handler({ records: [] }, ctx)).rejects.toThrow(/invalid input/);
    const control = gzipSync(Buffer.from(JSON.stringify({ ...payload, messageType: 'CONTROL_MESSAGE', logEvents: [ev('CWL CONTROL MESSAGE: Checking health of destination')] }))).toString('base64');
    await expect(handler({ awslogs: { data: control } }, ctx)).resolves.toEqual({ published: [], suppressed: [], ignored: 0 });
  });
});
