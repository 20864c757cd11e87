/**
 * Issue 10 through the real workflows: a tenant's host policy and proxy credential reach the cell's
 * egress policy table (DynamoDB Local, the exact item format the proxy's sidecar reads), change with
 * an update (diffed, audited, version bumped, credential kept) and go with the tenant; a host outside
 * the plan's bounds is refused at signup and at update, leaving nothing half-made.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { passwordOf } from '../../functions/domain/egress-proxy-client';
import { sha512Crypt } from '../../functions/egress/sha512-crypt';
import { DynamoDbPolicySource } from '../../functions/egress/policy-source-dynamodb';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { ACTIVE_TENANT_RESOURCE_TYPES, causeMessage, executionsOf, leftovers, provision, resourceTypes, runWorkflow, signupFor } from './support';

jest.setTimeout(90_000);

let cloud: LocalCloud;
let doc: DynamoDBDocumentClient;
/** What the handlers log (Powertools, to stdout), at DEBUG, kept here instead of printed. */
const logged: string[] = [];
beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  cloud = await startLocalCloud();
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
});
afterAll(async () => {
  doc.destroy();
  await cloud.stop();
});

const proxySecretName = (tenantId: string) => `octw/tenants/local/${tenantId}/egress-proxy`;
const item = async (tenantId: string) =>
  (await doc.send(new GetCommand({ TableName: cloud.egressPolicyTableName, Key: { tenantId }, ConsistentRead: true }))).Item;
const version = async () => Number((await item('#version'))?.version ?? 0);
const hosts = (rules: unknown) => (rules as { host: string }[]).map((r) => r.host);
const rejectionOf = (tenantId: string) =>
  (cloud.bus.events.find((e) => e['detail-type'] === 'TenantSignupRejected' && (e.detail as { tenantId?: string }).tenantId === tenantId)?.detail as
    | { reasons?: string[] }
    | undefined)?.reasons?.join(' ');

/** The gateway container of the tenant's latest task definition. */
function gatewayContainer(tenantId: string) {
  const td = cloud.fake.taskDefinition(`octw-local--${tenantId}`);
  const c = td?.input.containerDefinitions?.find((d) => d.name === 'gateway');
  if (!c) throw new Error(`no gateway container for ${tenantId}`);
  return c;
}

describe('provisioning writes the tenant policy item and its proxy credential', () => {
  const tenantId = 'tele-co';
  beforeAll(async () => {
    expect((await provision(cloud, tenantId, { hostAllowlist: [{ preset: 'telegram' }] }))?.status).toBe('ACTIVE');
  });

  it('stores the expanded host allowlist in the record', async () => {
    expect((await cloud.tenant(tenantId))?.hostAllowlist).toEqual([{ host: 'api.telegram.org', ports: [443], origin: ['preset:telegram'] }]);
  });

  it('writes {tenantId, credentialHash, rules, updatedAt} with a SHA-512 crypt hash of the password in the proxy URL secret, never the password', async () => {
    const it_ = await item(tenantId);
    expect(Object.keys(it_ ?? {}).sort()).toEqual(['credentialHash', 'rules', 'tenantId', 'updatedAt']);
    const url = cloud.fake.secret(proxySecretName(tenantId))?.secretString ?? '';
    expect(url).toMatch(new RegExp(`^http://${tenantId}:[A-Za-z0-9_-]{43}@proxy\\.local\\.octw\\.internal:3128$`));
    const password = passwordOf(url)!;
    const hash = String(it_?.credentialHash);
    const salt = hash.split('$')[2]!;
    expect(sha512Crypt(password, salt)).toBe(hash);
    expect(sha512Crypt(`${password}x`, salt)).not.toBe(hash);
    expect(JSON.stringify(it_)).not.toContain(password);
    expect(hosts(it_?.rules)).toEqual(['api.telegram.org']);
  });

  it('is read back by the proxy sidecar policy source as this tenant with these rules', async () => {
    const loaded = (await new DynamoDbPolicySource(doc, cloud.egressPolicyTableName).load()) as { tenants: { tenantId: string; rules: unknown }[] };
    expect(loaded.tenants.find((t) => t.tenantId === tenantId)?.rules).toEqual([{ host: 'api.telegram.org', ports: [443], origin: ['preset:telegram'] }]);
  });

  it('injects the proxy URL only as ECS secrets, with NO_PROXY for the AWS endpoints (Bedrock plan: environment routing)', async () => {
    const record = await cloud.tenant(tenantId);
    const c = gatewayContainer(tenantId);
    const proxySecrets = (c.secrets ?? []).filter((s) => s.valueFrom === record?.resources.proxySecretArn).map((s) => s.name).sort();
    expect(proxySecrets).toEqual(['HTTPS_PROXY', 'HTTP_PROXY']);
    expect(c.environment?.find((e) => e.name === 'NO_PROXY')?.value).toContain('.amazonaws.com');
    expect(c.environment?.find((e) => e.name === 'NO_PROXY')?.value).toContain('169.254.170.2');
    expect(JSON.stringify(c.environment)).not.toContain('proxy.local.octw.internal');
  });

  it('gives a plan without Bedrock OpenClaw managed routing (OPENCLAW_PROXY_URL)', async () => {
    expect((await provision(cloud, 'offline-co', { plan: 'offline', hostAllowlist: [{ preset: 'telegram' }] }))?.status).toBe('ACTIVE');
    const names = (gatewayContainer('offline-co').secrets ?? []).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['OPENCLAW_PROXY_URL', 'HTTPS_PROXY', 'HTTP_PROXY']));
  });

  it("never puts one tenant's rules in another tenant's item", async () => {
    expect((await provision(cloud, 'slack-co', { hostAllowlist: [{ preset: 'slack' }] }))?.status).toBe('ACTIVE');
    expect(hosts((await item('slack-co'))?.rules)).toEqual(['*.slack.com', 'slack.com']);
    expect(hosts((await item(tenantId))?.rules)).toEqual(['api.telegram.org']);
    expect(JSON.stringify(await item(tenantId))).not.toContain('slack');
    expect(JSON.stringify(await item('slack-co'))).not.toContain('telegram');
  });
});

describe('update changes the policy item', () => {
  const tenantId = 'upd-egress';
  beforeAll(async () => {
    expect((await provision(cloud, tenantId, { hostAllowlist: [{ preset: 'telegram' }] }))?.status).toBe('ACTIVE');
  });

  it('diffs, rewrites the rules with the same credential, bumps the version and audits the difference, without a new revision', async () => {
    const before = await item(tenantId);
    const v0 = await version();
    const revisions = cloud.fake.taskDefinition(`octw-local--${tenantId}`)?.revision;
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, hostAllowlist: [{ preset: 'discord' }] });
    expect(done.status).toBe('SUCCEEDED');
    const after = await item(tenantId);
    expect(hosts(after?.rules)).toEqual(['*.discord.gg', 'cdn.discordapp.com', 'discord.com', 'gateway.discord.gg']);
    expect(after?.credentialHash).toBe(before?.credentialHash);
    expect(await version()).toBeGreaterThan(v0);
    expect(cloud.fake.taskDefinition(`octw-local--${tenantId}`)?.revision).toBe(revisions);
    const audit = await doc.send(
      new QueryCommand({ TableName: cloud.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)', ExpressionAttributeValues: { ':pk': `TENANT#${tenantId}`, ':a': 'AUDIT#' } }),
    );
    const entry = (audit.Items ?? []).find((i) => i.transition === 'egressPolicy');
    expect(entry?.egressPolicy).toEqual({
      add: [
        { host: '*.discord.gg', port: 443 },
        { host: 'cdn.discordapp.com', port: 443 },
        { host: 'discord.com', port: 443 },
        { host: 'gateway.discord.gg', port: 443 },
      ],
      remove: [{ host: 'api.telegram.org', port: 443 }],
    });
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
  });

  it.each([
    [{ host: 'evil.example.org', ports: [443] }, /update refused: hostAllowlist\[0\]: host "evil.example.org" on port\(s\) 443 is outside the plan's bounds/],
    [{ preset: 'openai' }, /preset "openai" is not allowed by the plan/],
    [{ host: '169.254.169.254', ports: [80] }, /IP literal/],
  ])('refuses %j with a clear error and changes nothing', async (entry, message) => {
    const record = await cloud.tenant(tenantId);
    const before = await item(tenantId);
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, hostAllowlist: [entry] });
    expect(done.error).toBe('ValidationError');
    expect(causeMessage(done)).toMatch(message);
    expect(await cloud.tenant(tenantId)).toEqual(record);
    expect(await item(tenantId)).toEqual(before);
  });
});

describe('a host outside the plan at signup', () => {
  it('is refused as a rejection, with nothing created', async () => {
    const tenantId = 'too-wide';
    const v0 = await version();
    await cloud.signup(signupFor(tenantId, { hostAllowlist: [{ preset: 'telegram' }, { host: 'pastebin.com', ports: [443] }] }));
    await cloud.settle();
    expect(rejectionOf(tenantId)).toMatch(/hostAllowlist\[1\]: host "pastebin.com" on port\(s\) 443 is outside the plan's bounds/);
    expect(await cloud.tenant(tenantId)).toBeUndefined();
    expect(executionsOf(cloud, tenantId)).toHaveLength(0);
    expect(leftovers(cloud, tenantId)).toEqual([]);
    expect(await item(tenantId)).toBeUndefined();
    expect(await version()).toBe(v0);
  });
});

describe('the item and the credential go with the tenant', () => {
  it('deprovision deletes the item (version bumped) and the proxy secret', async () => {
    const tenantId = 'leaving-co';
    expect((await provision(cloud, tenantId, { hostAllowlist: [{ preset: 'telegram' }] }))?.status).toBe('ACTIVE');
    expect(await item(tenantId)).toBeDefined();
    const v0 = await version();
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId });
    expect(done.status).toBe('SUCCEEDED');
    expect(await item(tenantId)).toBeUndefined();
    expect(await version()).toBeGreaterThan(v0);
    expect(cloud.fake.secret(proxySecretName(tenantId))).toBeUndefined();
    expect((await cloud.tenant(tenantId))?.resources.proxySecretArn).toBeUndefined();
  });

  it('compensation of a failed provisioning deletes them too', async () => {
    const tenantId = 'doomed-co';
    cloud.fake.inject({ service: 'ECS', operation: 'CreateService', kind: 'permanent' });
    const record = await provision(cloud, tenantId, { hostAllowlist: [{ preset: 'telegram' }] });
    expect(record?.status).toBe('FAILED');
    expect(await item(tenantId)).toBeUndefined();
    expect(cloud.fake.secret(proxySecretName(tenantId))).toBeUndefined();
    expect(resourceTypes(cloud, tenantId)).toEqual([]);
  });

  it('re-provisioning the FAILED tenant gives it a new credential and item', async () => {
    const tenantId = 'doomed-co';
    const { executionArn } = await cloud.sfn.startExecution('ProvisionTenant', { tenantId, reprovision: true });
    expect((await cloud.sfn.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
    expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
    const hash = String((await item(tenantId))?.credentialHash);
    const password = passwordOf(cloud.fake.secret(proxySecretName(tenantId))?.secretString ?? '')!;
    expect(sha512Crypt(password, hash.split('$')[2]!)).toBe(hash);
  });
});

describe('the scan of everything a run leaves behind', () => {
  it('finds the proxy password nowhere but in its secret', async () => {
    const tenantId = 'secret-keeper';
    expect((await provision(cloud, tenantId, { hostAllowlist: [{ preset: 'telegram' }] }))?.status).toBe('ACTIVE');
    await runWorkflow(cloud, 'UpdateTenant', { tenantId, hostAllowlist: [{ preset: 'slack' }] });
    const url = cloud.fake.secret(proxySecretName(tenantId))?.secretString ?? '';
    const password = passwordOf(url);
    expect(password).toHaveLength(43);
    const tenantsTable = await doc.send(new ScanCommand({ TableName: cloud.tableName }));
    const policyTable = await doc.send(new ScanCommand({ TableName: cloud.egressPolicyTableName }));
    const places: Record<string, string> = {
      trace: JSON.stringify(cloud.fake.calls),
      histories: JSON.stringify(executionsOf(cloud, tenantId).map((e) => [e.input, cloud.sfn.history(e.executionArn)])),
      tenantsTable: JSON.stringify(tenantsTable.Items),
      policyTable: JSON.stringify(policyTable.Items),
      events: JSON.stringify(cloud.bus.events),
      taskDefinitions: JSON.stringify(cloud.fake.taskDefinition(`octw-local--${tenantId}`)),
      logs: logged.join(''),
    };
    expect(places.histories!.length).toBeGreaterThan(1000);
    expect(places.logs).toContain(tenantId);
    for (const [where, text] of Object.entries(places)) {
      expect({ where, leaks: text.includes(password!) }).toEqual({ where, leaks: false });
    }
  });
});
