/**
 * Issue 8, finding 1: a new signup must never take over an existing tenant (its data, uid and
 * gateway token). Only a new tenant, or a retry of a FAILED *first* provisioning (never ACTIVE,
 * no deprovision) by the same owner, is admitted; re-provisioning a tenant that held data is an
 * operator action ({tenantId, reprovision: true}), and every new generation gets a fresh token.
 * Everything runs through the real workflows in the local cloud.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { executionsOf, gatewaySecretName, provision, runWorkflow, signupFor } from './support';

// Several whole workflows per step: allow for a loaded machine (jest's default is 5 s).
jest.setTimeout(60_000);

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

const ATTACKER = { displayName: 'Mallory Ltd', ownerEmail: 'mallory@attacker.example' };
const tokenOf = (tenantId: string) => cloud.fake.secret(gatewaySecretName(tenantId))?.secretString;

/** The rejections recorded for a tenant: TenantSignupRejected events' reasons. */
const rejectionsOf = (tenantId: string): string[] =>
  cloud.bus.events
    .filter((e) => e['detail-type'] === 'TenantSignupRejected' && (e.detail as { tenantId?: string }).tenantId === tenantId)
    .flatMap((e) => (e.detail as { reasons: string[] }).reasons);

/** An ACTIVE tenant with files on EFS whose deprovision failed for good: FAILED, data still there. */
async function failedWithData(tenantId: string) {
  const active = await provision(cloud, tenantId);
  expect(active?.status).toBe('ACTIVE');
  const dir = join(process.env.TENANTS_MOUNT_PATH!, tenantId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'secrets.json'), '{"victim":"private"}');
  const token = tokenOf(tenantId);
  cloud.fake.inject({ service: 'EFS', operation: 'DeleteAccessPoint', kind: 'permanent' });
  const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId });
  expect(done.status).toBe('FAILED');
  const failed = await cloud.tenant(tenantId);
  expect(failed?.status).toBe('FAILED');
  return { record: failed!, token, dataFile: join(dir, 'secrets.json') };
}

describe('signup takeover of a FAILED tenant that held data (finding 1)', () => {
  const tenantId = 'victim-co';
  let before: Awaited<ReturnType<typeof failedWithData>>;

  beforeAll(async () => {
    before = await failedWithData(tenantId);
    await cloud.signup(signupFor(tenantId, ATTACKER));
    await cloud.settle();
  });

  it("refuses the attacker's signup: the tenant stays FAILED with the victim as owner, same generation and uid", async () => {
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({
      status: 'FAILED',
      ownerEmail: before.record.ownerEmail,
      displayName: before.record.displayName,
      generation: before.record.generation,
      version: before.record.version,
      uid: before.record.uid,
    });
    expect(await readFile(before.dataFile, 'utf8')).toBe('{"victim":"private"}');
  });

  it('starts no provision run and recreates no access point on the victim data', () => {
    expect(executionsOf(cloud, tenantId).filter((e) => e.stateMachineName === 'ProvisionTenant')).toHaveLength(1);
    expect(cloud.fake.resourcesByTenant(tenantId).filter((r) => r.type === 'AWS::EFS::AccessPoint')).toHaveLength(1);
    expect(tokenOf(tenantId)).toBe(before.token);
  });

  it('records the refusal with a clear reason (TenantSignupRejected)', () => {
    expect(rejectionsOf(tenantId).join(' ')).toMatch(/already exists \(FAILED\).*(was ACTIVE|held data).*operator/);
  });

  it('refuses the same owner too: a tenant that once held data is re-provisioned only by an operator', async () => {
    await cloud.signup(signupFor(tenantId));
    await cloud.settle();
    expect((await cloud.tenant(tenantId))?.status).toBe('FAILED');
    expect(rejectionsOf(tenantId).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a console provision run with the attacker signup too, changing nothing', async () => {
    const arn = await cloud.startProvision(signupFor(tenantId, ATTACKER), 'console-takeover');
    const done = await cloud.sfn.waitForExecution(arn);
    expect(done.status).toBe('FAILED');
    expect((await cloud.tenant(tenantId))).toMatchObject({ status: 'FAILED', ownerEmail: before.record.ownerEmail, version: before.record.version });
  });

  it('lets an operator re-provision it explicitly: same owner and uid, new generation, fresh gateway token', async () => {
    const { executionArn } = await cloud.sfn.startExecution('ProvisionTenant', { tenantId, reprovision: true }, `provision-${tenantId}-g${before.record.generation + 1}`);
    const done = await cloud.sfn.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({
      status: 'ACTIVE',
      ownerEmail: before.record.ownerEmail,
      uid: before.record.uid,
      generation: before.record.generation + 1,
    });
    expect(tokenOf(tenantId)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenOf(tenantId)).not.toBe(before.token);
  });
});

describe('retry of a FAILED first provisioning (finding 1)', () => {
  /** A first provisioning that failed at the service, whose rollback could not delete the secret. */
  async function failedFirstProvisioning(tenantId: string) {
    cloud.fake.inject({ service: 'ECS', operation: 'CreateService', kind: 'permanent' });
    cloud.fake.inject({ service: 'SecretsManager', operation: 'DeleteSecret', kind: 'permanent' });
    const failed = await provision(cloud, tenantId);
    expect(failed?.status).toBe('FAILED');
    const token = tokenOf(tenantId);
    expect(token).toBeDefined();
    return { record: failed!, token };
  }

  it('admits the same owner, and the new generation gets a fresh gateway token, never the old one', async () => {
    const tenantId = 'retry-same';
    const before = await failedFirstProvisioning(tenantId);
    await cloud.signup(signupFor(tenantId));
    await cloud.settle();
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'ACTIVE', generation: before.record.generation + 1, ownerEmail: before.record.ownerEmail });
    expect(tokenOf(tenantId)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenOf(tenantId)).not.toBe(before.token);
  });

  it.each(['transient', 'crashAfterSuccess'] as const)('rotates the token exactly once despite a %s fault in PutSecretValue', async (kind) => {
    const tenantId = `rotate-${kind === 'transient' ? 'transient' : 'crash'}`;
    const before = await failedFirstProvisioning(tenantId);
    const fired = cloud.fake.faults.fired.length;
    cloud.fake.inject({ service: 'SecretsManager', operation: 'PutSecretValue', kind });
    await cloud.signup(signupFor(tenantId));
    await cloud.settle();
    expect(cloud.fake.faults.fired.slice(fired)).toContainEqual(expect.objectContaining({ operation: 'PutSecretValue', kind }));
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
    expect(tokenOf(tenantId)).not.toBe(before.token);
    // The first generation's version and one for the second: the retried step wrote no third.
    expect(cloud.fake.secret(gatewaySecretName(tenantId))?.versions.size).toBe(2);
  });

  it('refuses another owner, recording why', async () => {
    const tenantId = 'retry-other';
    const before = await failedFirstProvisioning(tenantId);
    await cloud.signup(signupFor(tenantId, ATTACKER));
    await cloud.settle();
    expect(await cloud.tenant(tenantId)).toMatchObject({ status: 'FAILED', ownerEmail: before.record.ownerEmail, version: before.record.version });
    expect(rejectionsOf(tenantId).join(' ')).toMatch(/another owner/);
    expect(tokenOf(tenantId)).toBe(before.token);
  });
});
