/**
 * octw lifecycle operations end to end against the local cloud: suspend, resume, update,
 * deprovision and purge through the CLI, with --wait; a workflow that fails exits 1; a repeated
 * request under the same execution name starts nothing new.
 */
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { cliWith, jsonError, localCloudCliEnv, tempFile } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

/** Runs octw with the local cloud's configuration; --wait polls every 5 ms. */
const cli = cliWith(() => localCloudCliEnv(cloud));
const executionArn = (machine: string, name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machine}:${name}`;

async function provisioned(tenantId: string): Promise<number> {
  const signup = { tenantId, displayName: tenantId, ownerEmail: `ops@${tenantId}.example`, plan: 'standard', egressAllowlist: [] };
  const r = await cli('tenants', 'provision', '--file', tempFile('signup.json', signup), '--wait');
  expect(r.code).toBe(0);
  const record = await cloud.tenant(tenantId);
  expect(record?.status).toBe('ACTIVE');
  return record?.version ?? 0;
}

describe('octw tenants suspend | resume | update | deprovision | purge', () => {
  const tenantId = 'cli-cycle';

  beforeAll(async () => {
    await provisioned(tenantId);
  });

  it('suspends: exit 0, SuspendTenant started as suspend-<id>-v<version>, tenant SUSPENDED', async () => {
    const version = (await cloud.tenant(tenantId))?.version;
    const r = await cli('tenants', 'suspend', tenantId, '--wait');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(executionArn('SuspendTenant', `suspend-${tenantId}-v${version}`));
    expect((await cloud.tenant(tenantId))?.status).toBe('SUSPENDED');
  });

  it('refuses to suspend it again (exit 3) without starting anything', async () => {
    const before = cloud.sfn.list().length;
    const r = await cli('tenants', 'suspend', tenantId);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('it is SUSPENDED; suspend is allowed from ACTIVE');
    expect(cloud.sfn.list()).toHaveLength(before);
  });

  it('resumes with --json: one document with the execution and its outcome', async () => {
    const version = (await cloud.tenant(tenantId))?.version;
    const r = await cli('tenants', 'resume', tenantId, '--wait', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      operation: 'resume',
      tenantId,
      stateMachineArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:ResumeTenant`,
      executionName: `resume-${tenantId}-v${version}`,
      executionArn: executionArn('ResumeTenant', `resume-${tenantId}-v${version}`),
      alreadyStarted: false,
      status: 'SUCCEEDED',
      startDate: expect.any(String),
      stopDate: expect.any(String),
      durationMs: expect.any(Number),
      output: expect.anything(),
    });
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
  });

  it('updates the plan and the allowlist from a file', async () => {
    const allowlist = tempFile('allowlist.json', { egressAllowlist: [{ cidr: '198.51.100.0/24', ports: [443], description: 'new partner' }] });
    const r = await cli('tenants', 'update', tenantId, '--plan', 'pro', '--allowlist-file', allowlist, '--wait');
    expect(r.code).toBe(0);
    const record = await cloud.tenant(tenantId);
    expect(record).toMatchObject({ status: 'ACTIVE', plan: 'pro', egressAllowlist: [{ cidr: '198.51.100.0/24', ports: [443] }] });
  });

  it('reports a repeated request as already started, with the ARN of the first execution', async () => {
    // The same plan again changes nothing: the update succeeds without a transition, so the record
    // version and with it the execution name stay the same; the second StartExecution is refused
    // as ExecutionAlreadyExists.
    const version = (await cloud.tenant(tenantId))?.version;
    const first = await cli('tenants', 'update', tenantId, '--plan', 'pro', '--wait');
    expect(first.code).toBe(0);
    expect((await cloud.tenant(tenantId))?.version).toBe(version);
    const again = await cli('tenants', 'update', tenantId, '--plan', 'pro', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      alreadyStarted: true,
      executionArn: executionArn('UpdateTenant', `update-${tenantId}-v${version}`),
    });
    expect(cloud.sfn.list().filter((e) => e.name === `update-${tenantId}-v${version}`)).toHaveLength(1);
  });

  it('deprovisions: DEPROVISIONED, data retained, listed under its status', async () => {
    const r = await cli('tenants', 'deprovision', tenantId, '--wait');
    expect(r.code).toBe(0);
    const record = await cloud.tenant(tenantId);
    expect(record?.status).toBe('DEPROVISIONED');
    expect(record?.dataRetainedUntil).toBeDefined();
    const listed = JSON.parse((await cli('tenants', 'list', '--status', 'DEPROVISIONED', '--json')).stdout) as { tenants: { tenantId: string }[] };
    expect(listed.tenants.map((t) => t.tenantId)).toContain(tenantId);
  });

  it('refuses to purge before the retention ends (exit 3), then purges with --immediate', async () => {
    const refused = await cli('tenants', 'purge', tenantId);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('give --immediate');
    const r = await cli('tenants', 'purge', tenantId, '--immediate', '--wait');
    expect(r.code).toBe(0);
    expect((await cloud.tenant(tenantId))?.status).toBe('PURGED');
  });
});

describe('octw --wait on a workflow that fails', () => {
  const tenantId = 'cli-stuck';

  beforeAll(async () => {
    await provisioned(tenantId);
  });

  it('exits 1 and prints the error and cause; the tenant stays ACTIVE', async () => {
    cloud.fake.inject({ service: 'ECS', operation: 'UpdateService', kind: 'permanent' });
    const version = (await cloud.tenant(tenantId))?.version;
    const r = await cli('tenants', 'suspend', tenantId, '--wait');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(executionArn('SuspendTenant', `suspend-${tenantId}-v${version}`));
    expect(r.stdout).toMatch(/^FAILED in /m);
    expect(r.stderr).toMatch(new RegExp(`SuspendTenant suspend-${tenantId}-v${version} ended FAILED: \\w+`));
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
  });

  it('with --json: the outcome on stdout and a WorkflowFailedError on stderr', async () => {
    cloud.fake.inject({ service: 'ECS', operation: 'UpdateService', kind: 'permanent' });
    const r = await cli('tenants', 'suspend', tenantId, '--wait', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ operation: 'suspend', status: 'FAILED', error: expect.any(String), cause: expect.any(String) });
    expect(jsonError(r)).toMatchObject({ name: 'WorkflowFailedError', exitCode: 1 });
  });
});

describe('octw tenants reprovision (issue 8 finding 1: the operator action for a tenant that held data)', () => {
  const tenantId = 'cli-revive';

  beforeAll(async () => {
    await provisioned(tenantId);
  });

  it('refuses an ACTIVE tenant (exit 3), starting nothing', async () => {
    const r = await cli('tenants', 'reprovision', tenantId);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('only a FAILED tenant can be re-provisioned');
  });

  it('re-provisions a tenant whose deprovision failed: ACTIVE again, same owner and uid, next generation', async () => {
    cloud.fake.inject({ service: 'EFS', operation: 'DeleteAccessPoint', kind: 'permanent' });
    expect((await cli('tenants', 'deprovision', tenantId, '--wait')).code).toBe(1);
    const failed = await cloud.tenant(tenantId);
    expect(failed?.status).toBe('FAILED');
    const r = await cli('tenants', 'reprovision', tenantId, '--wait');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(executionArn('ProvisionTenant', `provision-${tenantId}-g${failed!.generation + 1}`));
    expect(await cloud.tenant(tenantId)).toMatchObject({
      status: 'ACTIVE',
      generation: failed!.generation + 1,
      uid: failed?.uid,
      ownerEmail: failed?.ownerEmail,
    });
  });
});
