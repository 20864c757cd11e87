/**
 * The shared create-or-adopt of a tenant's secret (functions/adapters/tenant-owned-secret.ts), through
 * both of its users: the gateway-token secret (GatewaySecrets, one version per provisioning
 * generation) and the egress-proxy URL secret (ProxyCredentialSecrets, a new version per put).
 * Against the stateful AWS fake (Secrets Manager's real error codes); a "racing" client lets another
 * writer act between two calls of the adapter.
 */
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ForeignResourceError } from '../../../functions/domain/errors';
import { names } from '../../../functions/domain/naming';
import { ProxyCredentialSecrets } from '../../../functions/adapters/proxy-credentials';
import { GatewaySecrets, tokenVersionId } from '../../../functions/adapters/tenant-secrets';
import { clients, setUp, type Harness } from '../../local-cloud/fake-aws/testing';

const CELL = 'cell-1';
const TENANT = 'acme';
const gatewayName = names.secret({ cell: CELL, tenantId: TENANT });
const proxyName = names.proxySecret({ cell: CELL, tenantId: TENANT });
const tags = (tenantId: string, cell: string) => [
  { Key: 'octw:tenant', Value: tenantId },
  { Key: 'octw:cell', Value: cell },
];

let h: Harness;
let tokens: number;
const newToken = () => `token-${++tokens}`;
beforeEach(() => {
  h = setUp();
  tokens = 0;
});
afterEach(() => h.uninstall());

const gateway = (sm: SecretsManagerClient = clients.sm) => new GatewaySecrets(sm, CELL, newToken);
const proxy = (sm: SecretsManagerClient = clients.sm) => new ProxyCredentialSecrets(sm, CELL);
const valueOf = async (name: string) => (await clients.sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
const plant = (name: string, tenantId = TENANT, cell = CELL) => clients.sm.send(new CreateSecretCommand({ Name: name, SecretString: 'planted', Tags: tags(tenantId, cell) }));

/** A client that runs `before` once, just before its first call of `operation` reaches the fake. */
function racing(operation: string, before: () => Promise<unknown>): SecretsManagerClient {
  const sm = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const send = sm.send.bind(sm) as (command: unknown) => Promise<unknown>;
  let fired = false;
  sm.send = async (command: { constructor: { name: string } }) => {
    if (!fired && command.constructor.name === `${operation}Command`) {
      fired = true;
      await before();
    }
    return send(command);
  };
  return sm;
}

describe('creates the secret with the tenant tags', () => {
  it("gateway token: this generation's version id, a fresh token", async () => {
    const arn = await gateway().ensure(TENANT, 1);
    const secret = h.fake.secret(gatewayName);
    expect(secret?.arn).toBe(arn);
    expect(secret?.versionId).toBe(tokenVersionId(CELL, TENANT, 1));
    expect(Object.fromEntries(secret?.tags ?? [])).toMatchObject({ 'octw:tenant': TENANT, 'octw:cell': CELL });
    expect(await valueOf(gatewayName)).toBe('token-1');
  });

  it('proxy URL: the value given', async () => {
    const arn = await proxy().put(TENANT, 'http://tenant-acme:pw@proxy:3128');
    expect(h.fake.secret(proxyName)?.arn).toBe(arn);
    expect(Object.fromEntries(h.fake.secret(proxyName)?.tags ?? [])).toMatchObject({ 'octw:tenant': TENANT, 'octw:cell': CELL });
    expect(await valueOf(proxyName)).toBe('http://tenant-acme:pw@proxy:3128');
  });
});

describe("adopts the tenant's own existing secret", () => {
  it('gateway token: a secret left by an earlier generation gets a fresh token as the new generation\'s version', async () => {
    const planted = await plant(gatewayName);
    await expect(gateway().ensure(TENANT, 3)).resolves.toBe(planted.ARN);
    expect(h.fake.secret(gatewayName)?.versionId).toBe(tokenVersionId(CELL, TENANT, 3));
    expect(await valueOf(gatewayName)).toBe('token-1');
  });

  it('proxy URL: a new value as a new current version', async () => {
    const planted = await plant(proxyName);
    await expect(proxy().put(TENANT, 'http://new')).resolves.toBe(planted.ARN);
    expect(await valueOf(proxyName)).toBe('http://new');
    expect(h.fake.secret(proxyName)?.previousVersionId).toBe(planted.VersionId);
  });
});

describe('versions', () => {
  it('gateway token: a repeated step of one generation writes nothing; the next generation writes a new token, the old one AWSPREVIOUS', async () => {
    const arn = await gateway().ensure(TENANT, 1);
    await expect(gateway().ensure(TENANT, 1)).resolves.toBe(arn);
    expect(tokens).toBe(1);
    expect(await valueOf(gatewayName)).toBe('token-1');
    await expect(gateway().ensure(TENANT, 2)).resolves.toBe(arn);
    expect(await valueOf(gatewayName)).toBe('token-2');
    expect(h.fake.secret(gatewayName)).toMatchObject({ versionId: tokenVersionId(CELL, TENANT, 2), previousVersionId: tokenVersionId(CELL, TENANT, 1) });
  });

  it('proxy URL: every put is a new version, even with the same value', async () => {
    await proxy().put(TENANT, 'http://a');
    const first = h.fake.secret(proxyName)?.versionId;
    await proxy().put(TENANT, 'http://a');
    expect(h.fake.secret(proxyName)?.previousVersionId).toBe(first);
    expect(h.fake.secret(proxyName)?.versionId).not.toBe(first);
  });

  it("gateway token: accepts this generation's version written by a concurrent attempt between its DescribeSecret and its PutSecretValue", async () => {
    await gateway().ensure(TENANT, 1);
    const concurrent = () => clients.sm.send(new PutSecretValueCommand({ SecretId: gatewayName, ClientRequestToken: tokenVersionId(CELL, TENANT, 2), SecretString: 'theirs' }));
    await expect(gateway(racing('PutSecretValue', concurrent)).ensure(TENANT, 2)).resolves.toBe(h.fake.secret(gatewayName)?.arn);
    expect(await valueOf(gatewayName)).toBe('theirs');
  });
});

describe('adopts a secret created between its DescribeSecret and its CreateSecret (ResourceExistsException)', () => {
  it('gateway token: read back, verified, given this generation\'s token', async () => {
    let planted: string | undefined;
    const sm = racing('CreateSecret', async () => (planted = (await plant(gatewayName)).ARN));
    const arn = await gateway(sm).ensure(TENANT, 1);
    expect(planted).toBeDefined();
    expect(arn).toBe(planted);
    expect(h.fake.secret(gatewayName)?.versionId).toBe(tokenVersionId(CELL, TENANT, 1));
  });

  it('proxy URL: read back and given the value; another tenant\'s is refused', async () => {
    const sm = racing('CreateSecret', () => plant(proxyName));
    await proxy(sm).put(TENANT, 'http://mine');
    expect(await valueOf(proxyName)).toBe('http://mine');
    h.uninstall();
    h = setUp();
    const foreign = racing('CreateSecret', () => plant(proxyName, 'other-co'));
    await expect(proxy(foreign).put(TENANT, 'http://mine')).rejects.toBeInstanceOf(ForeignResourceError);
    expect(await valueOf(proxyName)).toBe('planted');
  });
});

describe('refuses a secret another tenant or another cell tagged (ForeignResourceError), and leaves it as it was', () => {
  it.each([
    ['another tenant', 'other-co', CELL, /octw:tenant=other-co/],
    ['another cell', TENANT, 'cell-2', /octw:cell=cell-2/],
  ])('%s', async (_who, tenantId, cell, reason) => {
    await plant(gatewayName, tenantId, cell);
    await plant(proxyName, tenantId, cell);
    for (const attempt of [() => gateway().ensure(TENANT, 1), () => proxy().put(TENANT, 'http://x'), () => gateway().delete(TENANT, {}), () => proxy().delete(TENANT)]) {
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ForeignResourceError);
      expect((err as Error).message).toMatch(reason);
    }
    expect(await valueOf(gatewayName)).toBe('planted');
    expect(await valueOf(proxyName)).toBe('planted');
    expect(tokens).toBe(0);
  });
});

describe('restores a secret scheduled for deletion', () => {
  it('gateway token: deprovisioned (recovery window), then provisioned again: restored with a fresh token', async () => {
    const arn = await gateway().ensure(TENANT, 1);
    await expect(gateway().delete(TENANT, { recoveryDays: 7 })).resolves.toBe('deleted');
    expect(h.fake.secret(gatewayName)?.deletionDate).toBeDefined();
    // Deleting again keeps the schedule (no new window).
    await expect(gateway().delete(TENANT, { recoveryDays: 7 })).resolves.toBe('deleted');
    await expect(gateway().ensure(TENANT, 2)).resolves.toBe(arn);
    expect(h.fake.secret(gatewayName)?.deletionDate).toBeUndefined();
    expect(await valueOf(gatewayName)).toBe('token-2');
  });

  it('proxy URL: restored and given the value', async () => {
    const planted = await plant(proxyName);
    await clients.sm.send(new DeleteSecretCommand({ SecretId: proxyName, RecoveryWindowInDays: 7 }));
    await expect(proxy().put(TENANT, 'http://back')).resolves.toBe(planted.ARN);
    expect(h.fake.secret(proxyName)?.deletionDate).toBeUndefined();
    expect(await valueOf(proxyName)).toBe('http://back');
  });
});

describe('deletes', () => {
  it('at once without a recovery window, and reports a missing secret as absent', async () => {
    await gateway().ensure(TENANT, 1);
    await proxy().put(TENANT, 'http://x');
    await expect(gateway().delete(TENANT, {})).resolves.toBe('deleted');
    await expect(proxy().delete(TENANT)).resolves.toBe('deleted');
    expect(h.fake.secret(gatewayName)).toBeUndefined();
    expect(h.fake.secret(proxyName)).toBeUndefined();
    await expect(gateway().delete(TENANT, {})).resolves.toBe('absent');
    await expect(proxy().delete(TENANT)).resolves.toBe('absent');
  });
});
