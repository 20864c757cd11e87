/**
 * `octw tenants pairing`: what is refused before any gateway is asked (arguments, a tenant that is
 * missing, not ACTIVE, or has no endpoint because ingress is off), against the local cloud. The
 * calls through a real gateway are proven by `npm run test:pairing` (test/ingress/browser/pairing.ts).
 */
import { endpointUrl } from '../../infra/cli/pairing';
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { signupFor } from '../local-cloud/samples';
import { runWorkflow } from '../workflows/support';
import { jsonError, runCli } from './support';

let cloud: LocalCloud;
let env: Record<string, string>;
beforeAll(async () => {
  cloud = await startLocalCloud();
  env = {
    OCTW_TABLE: cloud.tableName,
    OCTW_STATE_MACHINE_ARN_PREFIX: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:{key}`,
    OCTW_EVENT_BUS: LOCAL_CELL.eventBusName,
    AWS_REGION: LOCAL_REGION,
  };
  await cloud.signup(signupFor('pair-noingress'));
  await cloud.signup(signupFor('pair-paused'));
  await cloud.settle();
  expect((await runWorkflow(cloud, 'SuspendTenant', { tenantId: 'pair-paused' })).status).toBe('SUCCEEDED');
});
afterAll(async () => {
  await cloud.stop();
});

const cli = (...argv: string[]) => runCli([...argv, '--json'], env);

describe('octw tenants pairing: refused before the gateway is asked', () => {
  it.each([
    [['tenants', 'pairing'], /missing command after "tenants pairing": list or approve/],
    [['tenants', 'pairing', 'show', 'acme'], /unknown command "tenants pairing show"/],
    [['tenants', 'pairing', 'approve', 'acme'], /missing REQUEST/],
    [['tenants', 'pairing', 'list', 'acme', 'extra'], /unexpected argument "extra"/],
    [['tenants', 'pairing', 'list', 'acme', '--channel', 'Tele gram'], /--channel "Tele gram" is not a channel id/],
    [['tenants', 'pairing', 'list', 'acme', '--endpoint', 'ftp://x'], /must be an http\(s\) origin/],
  ])('%j: usage error (exit 2)', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(jsonError(r).message).toMatch(message);
  });

  it('a tenant that does not exist: exit 3', async () => {
    const r = await cli('tenants', 'pairing', 'list', 'nobody-here');
    expect(r.code).toBe(3);
    expect(jsonError(r)).toMatchObject({ name: 'TenantNotFoundError' });
  });

  it('a tenant that is not ACTIVE: exit 3, saying its status', async () => {
    const r = await cli('tenants', 'pairing', 'list', 'pair-paused');
    expect(r.code).toBe(3);
    expect(jsonError(r).message).toMatch(/is SUSPENDED: its gateway is reachable only when ACTIVE/);
  });

  it('an ACTIVE tenant in a cell without ingress: exit 3, no endpoint', async () => {
    expect((await cloud.tenant('pair-noingress'))?.status).toBe('ACTIVE');
    const r = await cli('tenants', 'pairing', 'approve', 'pair-noingress', 'some-request');
    expect(r.code).toBe(3);
    expect(jsonError(r).message).toMatch(/has no endpoint: ingress is off/);
  });
});

describe('octw tenants devices: refused before the gateway is asked', () => {
  it.each([
    [['tenants', 'devices'], 2, /missing command after "tenants devices": list or approve/],
    [['tenants', 'devices', 'approve', 'pair-noingress'], 2, /missing REQUEST/],
    [['tenants', 'devices', 'list', 'nobody-here'], 3, /tenant "nobody-here" does not exist/],
    [['tenants', 'devices', 'list', 'pair-paused'], 3, /is SUSPENDED: its gateway is reachable only when ACTIVE/],
    [['tenants', 'devices', 'approve', 'pair-noingress', 'some-request'], 3, /has no endpoint: ingress is off/],
    [['tenants', 'devices', 'list', 'pair-noingress', '--channel', 'telegram'], 2, /option --channel does not apply to "octw tenants devices"/],
  ])('%j: exit %i', async (argv, code, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(code);
    expect(jsonError(r).message).toMatch(message);
  });
});

describe('endpointUrl', () => {
  const record = { ingress: { hostname: 'acme.cell-1.example.com' } } as Parameters<typeof endpointUrl>[0];
  it('is wss://<tenant host>/ unless overridden by an http(s) origin', () => {
    expect(endpointUrl(record, undefined)).toBe('wss://acme.cell-1.example.com/');
    expect(endpointUrl(record, 'http://acme.localhost:8080/anything')).toBe('ws://acme.localhost:8080/');
    expect(endpointUrl(record, 'https://gw.example.net')).toBe('wss://gw.example.net/');
    expect(() => endpointUrl(record, 'not a url')).toThrow(/not a URL/);
  });
});
