/**
 * Issue 12, per-tenant OIDC through signup and update (local cloud, ingress on): the ALB rule of a
 * live route gets `authenticate-oidc` (issuer, endpoints, client id and the client secret the
 * Ingress function read from the tenant's credential secret at that moment) before `forward`; the
 * staging route the activation handshake uses has none. The client secret (a marker value) appears
 * nowhere else: not in Step Functions input/output/history, DynamoDB items, events, handler logs or
 * the fake's call trace. A secret that is not the tenant's own is never used. An update adds,
 * changes and removes the provider (the update workflow's ApplyRoute state; a failed update's
 * RestoreRoute puts the previous provider back).
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { names, tenantTagMap } from '../../functions/domain/naming';
import { LOCAL_INGRESS_DOMAIN, startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { cliWith, localCloudCliEnv, tempFile } from '../cli/support';
import { executionsOf, leftovers, provision, runWorkflow } from './support';

const MARKER = `oidc-client-secret-MARKER-${Date.now().toString(36)}`;
const OIDC = {
  issuer: 'https://login.example.com',
  authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
  tokenEndpoint: 'https://login.example.com/oauth2/token',
  userInfoEndpoint: 'https://login.example.com/oauth2/userinfo',
  clientId: 'octw-tenant-client',
};

let cloud: LocalCloud;
const output: string[] = [];
const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

beforeAll(async () => {
  // Handler logs on (Powertools at DEBUG), captured: the client secret must not be in them either.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  const capture = (chunk: unknown) => {
    output.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
    return true;
  };
  process.stdout.write = capture;
  process.stderr.write = capture;
  cloud = await startLocalCloud({ ingress: { shards: 1 } });
});
afterAll(async () => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  delete process.env.POWERTOOLS_LOG_LEVEL;
  await cloud.stop();
});

async function storeCredential(owner: string, tenantId: string, name: string, value: string): Promise<string> {
  const sm = new SecretsManagerClient({});
  const tags = tenantTagMap({ cell: cloud.cell.cellId, tenantId: owner });
  const secretName = names.credentialSecret({ cell: cloud.cell.cellId, tenantId }, name);
  await sm.send(new CreateSecretCommand({ Name: secretName, SecretString: value, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  return secretName;
}

function liveRule(tenantId: string) {
  const rules = [...cloud.fake.ingress.elb.rules.values()].filter((r) => JSON.stringify(r.conditions).includes(`${tenantId}.${LOCAL_INGRESS_DOMAIN}`));
  expect(rules).toHaveLength(1);
  return rules[0]!;
}
const oidcActionOf = (tenantId: string) => liveRule(tenantId).actions.find((a) => a.Type === 'authenticate-oidc');

describe('per-tenant OIDC (ALB authenticate-oidc) through signup and update', () => {
  it('signup: the live rule authenticates with the tenant IdP before forwarding; the staging route the handshake used had none', async () => {
    await storeCredential('oidc-one', 'oidc-one', 'oidc-client-secret', MARKER);
    const record = await provision(cloud, 'oidc-one', { ingressOidc: { ...OIDC, clientSecret: 'oidc-client-secret' } });
    expect(record?.status).toBe('ACTIVE');
    expect(record?.ingressOidc).toEqual({ ...OIDC, clientSecretName: names.credentialSecret({ cell: cloud.cell.cellId, tenantId: 'oidc-one' }, 'oidc-client-secret') });
    const actions = liveRule('oidc-one').actions;
    expect(actions.map((a) => a.Type)).toEqual(['authenticate-oidc', 'forward']);
    expect(actions[0]!.AuthenticateOidcConfig).toMatchObject({
      Issuer: OIDC.issuer,
      AuthorizationEndpoint: OIDC.authorizationEndpoint,
      TokenEndpoint: OIDC.tokenEndpoint,
      UserInfoEndpoint: OIDC.userInfoEndpoint,
      ClientId: OIDC.clientId,
      ClientSecret: MARKER,
      OnUnauthenticatedRequest: 'authenticate',
    });
    // The staging rule (CreateRule, before the service) forwarded only: the handshake reached the gateway.
    const created = cloud.fake.calls.filter((c) => c.operation === 'CreateRule' && JSON.stringify(c.input).includes('oidc-one.'));
    expect(created.length).toBeGreaterThan(0);
    expect(JSON.stringify(created[0]!.input)).not.toContain('authenticate-oidc');
  });

  it('signup refuses a client secret outside the tenant prefix, and a provider where the cell has no ingress', async () => {
    const { validateSignup } = await import('../../functions/usecases/signup');
    const ctx = { plans: cloud.cell.plans, vpcCidrs: [cloud.cell.vpcCidr], defaultAllowlist: [] };
    const signup = { tenantId: 'oidc-nope', displayName: 'n', ownerEmail: 'o@n.example', plan: 'standard', ingressOidc: { ...OIDC, clientSecret: 'oidc-client-secret' } };
    expect(() => validateSignup(signup, ctx)).toThrow(/ingressOidc: this cell has no ingress/);
    const withIngress = { ...ctx, ingress: { cell: cloud.cell.cellId } };
    expect(() => validateSignup({ ...signup, ingressOidc: { ...OIDC, clientSecret: 'octw/tenants/local/oidc-one/credentials/oidc-client-secret' } }, withIngress)).toThrow(
      /ingressOidc.clientSecret: secret "octw\/tenants\/local\/oidc-one\/credentials\/oidc-client-secret" is not a credential of tenant "oidc-nope"/,
    );
    expect(() => validateSignup({ ...signup, ingressOidc: { ...OIDC, tokenEndpoint: 'http://login.example.com/token', clientSecret: 'x' } }, withIngress)).toThrow(
      /ingressOidc.tokenEndpoint: tokenEndpoint must be an https:\/\/ URL/,
    );
  });

  it("a client secret under the tenant's prefix but tagged as another tenant's is never read: provisioning fails and leaves nothing", async () => {
    // The attack: tenant "oidc-thief" names a secret in its own prefix that carries oidc-one's tags.
    await storeCredential('oidc-one', 'oidc-thief', 'stolen', 'not-for-the-thief');
    const record = await provision(cloud, 'oidc-thief', { ingressOidc: { ...OIDC, clientSecret: 'stolen' } });
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError?.message).toMatch(/is not a credential of tenant "oidc-thief".*octw:tenant/);
    expect(JSON.stringify([...cloud.fake.ingress.elb.rules.values()])).not.toContain('not-for-the-thief');
    expect(leftovers(cloud, 'oidc-thief').filter((r) => !r.startsWith('secret') && !r.startsWith('log-group'))).toEqual([]);
  });

  it('update adds, changes and removes the provider; the route stays live and on its shard', async () => {
    await provision(cloud, 'oidc-two');
    expect(oidcActionOf('oidc-two')).toBeUndefined();
    await storeCredential('oidc-two', 'oidc-two', 'oidc-client-secret', `${MARKER}-two`);
    const added = await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'oidc-two', ingressOidc: { ...OIDC, clientSecret: 'oidc-client-secret' } });
    expect(added.status).toBe('SUCCEEDED');
    expect(oidcActionOf('oidc-two')?.AuthenticateOidcConfig).toMatchObject({ ClientId: OIDC.clientId, ClientSecret: `${MARKER}-two` });
    const before = (await cloud.tenant('oidc-two'))?.ingress;

    const changed = await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'oidc-two', ingressOidc: { ...OIDC, clientId: 'another-client', clientSecret: 'oidc-client-secret' } });
    expect(changed.status).toBe('SUCCEEDED');
    expect(oidcActionOf('oidc-two')?.AuthenticateOidcConfig).toMatchObject({ ClientId: 'another-client' });

    const removed = await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'oidc-two', ingressOidc: null });
    expect(removed.status).toBe('SUCCEEDED');
    expect(liveRule('oidc-two').actions.map((a) => a.Type)).toEqual(['forward']);
    const after = await cloud.tenant('oidc-two');
    expect(after?.ingressOidc).toBeUndefined();
    expect(after?.ingress).toMatchObject({ mode: 'live', shardId: before?.shardId, ruleArn: before?.ruleArn });
  });

  it("update refuses another tenant's secret before anything changes", async () => {
    const refused = await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'oidc-two', ingressOidc: { ...OIDC, clientSecret: names.credentialSecret({ cell: cloud.cell.cellId, tenantId: 'oidc-one' }, 'oidc-client-secret') } });
    expect(refused.status).toBe('FAILED');
    expect((await cloud.tenant('oidc-two'))?.status).toBe('ACTIVE');
    expect(oidcActionOf('oidc-two')).toBeUndefined();
  });

  it('a failed route update restores the previous provider (update workflow rollback)', async () => {
    await storeCredential('oidc-two', 'oidc-two', 'oidc-client-secret-2', `${MARKER}-restore`);
    await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'oidc-two', ingressOidc: { ...OIDC, clientSecret: 'oidc-client-secret' } });
    cloud.fake.faults.inject({ service: 'ELBv2', operation: 'ModifyRule', kind: 'permanent', nth: 1 });
    const failed = await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'oidc-two', ingressOidc: { ...OIDC, clientId: 'never-applied', clientSecret: 'oidc-client-secret-2' } });
    expect(failed.status).toBe('FAILED');
    const record = await cloud.tenant('oidc-two');
    expect(record?.status).toBe('ACTIVE');
    expect(record?.ingressOidc?.clientId).toBe(OIDC.clientId);
    expect(oidcActionOf('oidc-two')?.AuthenticateOidcConfig).toMatchObject({ ClientId: OIDC.clientId, ClientSecret: `${MARKER}-two` });
  });

  it('octw tenants ingress: stores the client secret from a file (never argv), sets the provider by reference, shows it, removes it with --no-oidc', async () => {
    const cli = cliWith(() => localCloudCliEnv(cloud));
    await provision(cloud, 'oidc-cli');
    const flags = ['--oidc-issuer', OIDC.issuer, '--oidc-authorization-endpoint', OIDC.authorizationEndpoint, '--oidc-token-endpoint', OIDC.tokenEndpoint, '--oidc-userinfo-endpoint', OIDC.userInfoEndpoint, '--client-id', OIDC.clientId];
    const http = await cli('tenants', 'ingress', 'oidc-cli', ...flags.map((f) => (f === OIDC.tokenEndpoint ? 'http://login.example.com/token' : f)), '--client-secret-file', tempFile('s.txt', 'x'));
    expect({ code: http.code, stderr: http.stderr }).toMatchObject({ code: 2, stderr: expect.stringContaining('--oidc-token-endpoint: tokenEndpoint must be an https:// URL') });
    const secretName = names.credentialSecret({ cell: cloud.cell.cellId, tenantId: 'oidc-cli' }, 'ingress-oidc-client-secret');
    expect(cloud.fake.secret(secretName)).toBeUndefined();

    const set = await cli('tenants', 'ingress', 'oidc-cli', ...flags, '--client-secret-file', tempFile('s.txt', `${MARKER}-cli\n`), '--wait');
    expect({ code: set.code, stderr: set.code === 0 ? '' : set.stderr }).toEqual({ code: 0, stderr: '' });
    expect(cloud.fake.secret(secretName)?.secretString).toBe(`${MARKER}-cli`);
    expect(oidcActionOf('oidc-cli')?.AuthenticateOidcConfig).toMatchObject({ ClientId: OIDC.clientId, ClientSecret: `${MARKER}-cli` });
    const shown = await cli('tenants', 'ingress', 'oidc-cli', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ tenantId: 'oidc-cli', mode: 'live', oidc: { issuer: OIDC.issuer, clientSecretName: secretName } });
    expect(`${set.stdout}${set.stderr}${shown.stdout}`).not.toContain(MARKER);

    const off = await cli('tenants', 'ingress', 'oidc-cli', '--no-oidc', '--wait');
    expect(off.code).toBe(0);
    expect(liveRule('oidc-cli').actions.map((a) => a.Type)).toEqual(['forward']);
  });

  it('the client secret appears nowhere but in the ALB rule: not in executions, DynamoDB, events, logs or the trace', async () => {
    const sfn = cloud.sfn.list().map((e) => ({ e, history: cloud.sfn.history(e.executionArn) }));
    expect(executionsOf(cloud, 'oidc-one').length).toBeGreaterThan(0);
    const places: [string, string][] = [
      ['Step Functions executions and histories', JSON.stringify(sfn)],
      ['DynamoDB items', JSON.stringify((await new DynamoDBClient({}).send(new ScanCommand({ TableName: cloud.tableName }))).Items)],
      ['events', JSON.stringify(cloud.bus.events)],
      ['fake call trace', JSON.stringify(cloud.fake.calls)],
      ['handler logs', output.join('')],
    ];
    // The checks can fail: the logs are on, and the marker is where it belongs.
    expect(output.join('').length).toBeGreaterThan(1000);
    expect(JSON.stringify([...cloud.fake.ingress.elb.rules.values()])).toContain(MARKER);
    const leaks = cloud.fake.calls.filter((c) => JSON.stringify(c).includes(MARKER)).map((c) => `${c.service} ${c.operation}`);
    expect(leaks).toEqual([]);
    for (const [where, text] of places) expect({ where, leaked: text.includes(MARKER) }).toEqual({ where, leaked: false });
  });
});
