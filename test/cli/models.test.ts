/**
 * octw tenants models against the local cloud: the key is read from a file or stdin (never argv),
 * stored as the tenant's own credential under its prefix with its tags, and named by reference in
 * an update; listing shows references, never values.
 */
import { run } from '../../infra/cli/run';
import { LOCAL_CELL, LOCAL_PLANS, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision } from '../workflows/support';
import { cliWith, localCloudCliEnv, runCli, tempFile } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

const cli = cliWith(() => localCloudCliEnv(cloud));
const KEY = 'sk-cli-marker-0123456789abcdef';
const SECRET = (tenantId: string) => `octw/tenants/${LOCAL_CELL.cellId}/${tenantId}/credentials/byok-api-key`;

describe('octw tenants models', () => {
  const tenantId = 'cli-byok';
  beforeAll(async () => {
    expect((await provision(cloud, tenantId, { plan: 'offline' }))?.status).toBe('ACTIVE');
  });

  it('stores the key from a file as the tenant credential and updates the tenant by reference', async () => {
    const r = await cli('tenants', 'models', tenantId, '--provider', 'byok', '--key-file', tempFile('key.txt', `${KEY}\n`), '--wait');
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    const secret = cloud.fake.secret(SECRET(tenantId))!;
    expect(secret.secretString).toBe(KEY);
    expect(Object.fromEntries(secret.tags)).toMatchObject({ 'octw:tenant': tenantId, 'octw:cell': LOCAL_CELL.cellId });
    const record = (await cloud.tenant(tenantId))!;
    expect(record.modelKeys?.map((k) => [k.provider, k.secretArn])).toEqual([['byok', secret.arn]]);
    expect(`${r.stdout}${r.stderr}`).not.toContain(KEY);

    const list = await cli('tenants', 'models', tenantId, '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ tenantId, modelKeys: [{ provider: 'byok', secret: secret.arn, endpoint: '127.0.0.1:18791' }] });
    expect(list.stdout).not.toContain(KEY);
  });

  it('replaces a key only with --rotate: the new value in the same secret, an update carrying only its next generation, a new revision', async () => {
    const before = (await cloud.tenant(tenantId))!;
    // A second --key-file without --rotate would only change the secret (no rollout): refused, nothing stored.
    const plain = await cli('tenants', 'models', tenantId, '--provider', 'byok', '--key-file', tempFile('key2.txt', `${KEY}-two\n`), '--wait');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/already has a key for provider "byok": --rotate/);
    expect(cloud.fake.secret(SECRET(tenantId))!.secretString).toBe(KEY);

    const r = await cli('tenants', 'models', tenantId, '--provider', 'byok', '--key-file', tempFile('key2.txt', `${KEY}-two\n`), '--rotate', '--wait');
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(cloud.fake.secret(SECRET(tenantId))!.secretString).toBe(`${KEY}-two`);
    const after = (await cloud.tenant(tenantId))!;
    expect(after.modelKeys).toEqual([{ ...before.modelKeys![0]!, generation: 1 }]);
    expect(after.resources.taskDefinitionArn).not.toBe(before.resources.taskDefinitionArn);
    expect(`${r.stdout}${r.stderr}`).not.toContain(KEY);

    // --rotate needs a key to rotate, and the new value from a file or stdin.
    expect((await cli('tenants', 'models', tenantId, '--provider', 'byok', '--rotate')).code).toBe(2);
    expect((await provision(cloud, 'cli-byok-nokey', { plan: 'offline' }))?.status).toBe('ACTIVE');
    const none = await cli('tenants', 'models', 'cli-byok-nokey', '--provider', 'byok', '--key-file', tempFile('k3', KEY), '--rotate');
    expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 3, stderr: expect.stringMatching(/has no key for provider "byok" to rotate/) });
    expect(cloud.fake.secret(SECRET('cli-byok-nokey'))).toBeUndefined();
  });

  it('reads the key from stdin with --key-file -, and removes it with --remove', async () => {
    const tenantId = 'cli-byok-stdin';
    expect((await provision(cloud, tenantId, { plan: 'offline' }))?.status).toBe('ACTIVE');
    let stdout = '';
    let stderr = '';
    const code = await run(['tenants', 'models', tenantId, '--provider', 'byok', '--key-file', '-', '--wait', '--poll-interval', '5'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: localCloudCliEnv(cloud),
      sleep: (ms) => new Promise<void>((res) => setTimeout(res, ms)),
      readStdin: () => Promise.resolve(`${KEY}-rotated`),
    });
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(cloud.fake.secret(SECRET(tenantId))!.secretString).toBe(`${KEY}-rotated`);
    expect((await cloud.tenant(tenantId))!.modelKeys?.map((k) => k.provider)).toEqual(['byok']);
    expect(stdout).not.toContain(KEY);

    const removed = await cli('tenants', 'models', tenantId, '--provider', 'byok', '--remove', '--wait');
    expect(removed.code).toBe(0);
    expect((await cloud.tenant(tenantId))!.modelKeys ?? []).toEqual([]);
  });

  it('refuses a key on the command line, a provider the plan takes no key for, and a missing tenant', async () => {
    const tenantId = 'cli-byok-refused';
    expect((await provision(cloud, tenantId, { plan: 'offline' }))?.status).toBe('ACTIVE');
    expect((await cli('tenants', 'models', tenantId, '--provider', 'byok', '--key', KEY)).code).toBe(2);
    const noKey = await cli('tenants', 'models', tenantId, '--provider', 'stub', '--key-file', tempFile('k', KEY), '--wait');
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/takes no key/);
    expect((await cli('tenants', 'models', 'nobody-here', '--provider', 'byok', '--remove')).code).toBe(3);
  });

  it('removes the secret it created when the workflow refuses the provider, and never one that existed before', async () => {
    const tenantId = 'cli-byok-cleanup';
    expect((await provision(cloud, tenantId, { plan: 'offline' }))?.status).toBe('ACTIVE');
    const name = `octw/tenants/${LOCAL_CELL.cellId}/${tenantId}/credentials/stub-api-key`;
    // Without --wait too: the CLI waits for the end because it created a secret for this update.
    const refused = await cli('tenants', 'models', tenantId, '--provider', 'stub', '--key-file', tempFile('k2', KEY));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/takes no key/);
    expect(refused.stderr).toContain(`removed secret ${name} again`);
    expect(cloud.fake.secret(name)).toBeUndefined();

    // A secret that existed before the command is left in place.
    const { CreateSecretCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    await new SecretsManagerClient({ region: LOCAL_REGION }).send(
      new CreateSecretCommand({ Name: name, SecretString: 'older', Tags: [{ Key: 'octw:tenant', Value: tenantId }, { Key: 'octw:cell', Value: LOCAL_CELL.cellId }] }),
    );
    const again = await cli('tenants', 'models', tenantId, '--provider', 'stub', '--key-file', tempFile('k3', KEY), '--wait');
    expect(again.code).not.toBe(0);
    expect(again.stderr).not.toContain('removed secret');
    expect(cloud.fake.secret(name)?.deletionDate).toBeUndefined();
  });

  it('refuses before storing anything when it knows the plan catalogue (OCTW_PLANS_JSON)', async () => {
    const tenantId = 'cli-byok-precheck';
    expect((await provision(cloud, tenantId, { plan: 'offline' }))?.status).toBe('ACTIVE');
    const before = cloud.fake.calls.filter((c) => c.operation === 'CreateSecret').length;
    const r = await runCli(['tenants', 'models', tenantId, '--provider', 'stub', '--key-file', tempFile('k4', KEY)], { ...localCloudCliEnv(cloud), OCTW_PLANS_JSON: JSON.stringify(LOCAL_PLANS) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a key of provider "stub" is not allowed by plan "offline"; nothing was stored/);
    expect(cloud.fake.calls.filter((c) => c.operation === 'CreateSecret').length).toBe(before);
    const ok = await runCli(['tenants', 'models', tenantId, '--provider', 'byok', '--key-file', tempFile('k5', KEY), '--wait', '--poll-interval', '5'], { ...localCloudCliEnv(cloud), OCTW_PLANS_JSON: JSON.stringify(LOCAL_PLANS) });
    expect({ code: ok.code, stderr: ok.code === 0 ? '' : ok.stderr }).toEqual({ code: 0, stderr: '' });
  });
});
