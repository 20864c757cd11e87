/**
 * octw end to end against the local cloud (DynamoDB Local, the AWS fake, the local bus and the
 * real state machines), in-process: the same SDK calls the CLI makes against a real account.
 */
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { cliWith, jsonError, localCloudCliEnv, runCli, tempFile } from './support';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

/** Runs octw with the local cloud's configuration; --wait polls every 5 ms. */
const cli = cliWith(() => localCloudCliEnv(cloud));

const signupOf = (tenantId: string) => ({
  tenantId,
  displayName: `Tenant ${tenantId}`,
  ownerEmail: `ops@${tenantId}.example`,
  plan: 'standard',
  egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443], description: 'partner API' }],
});

const executionArn = (machine: string, name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machine}:${name}`;

describe('octw tenants provision --wait', () => {
  const tenantId = 'cli-acme';
  let provisioned: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    provisioned = await cli('tenants', 'provision', '--file', tempFile('signup.json', signupOf(tenantId)), '--wait');
  });

  it('exits 0 with the execution ARN on stdout once the tenant is ACTIVE', async () => {
    expect(provisioned.code).toBe(0);
    expect(provisioned.stdout.split('\n')[0]).toBe(executionArn('ProvisionTenant', `provision-${tenantId}-g1`));
    expect(provisioned.stdout).toMatch(/^SUCCEEDED in \d+\.\ds$/m);
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
  });

  it('shows progress on stderr: elapsed time, status and the step the workflow is in', () => {
    const lines = provisioned.stderr.trim().split('\n');
    expect(lines[0]).toBe(`provision of ${tenantId}: started ProvisionTenant as provision-${tenantId}-g1`);
    expect(lines.some((l) => /^\[\s*\d+\.\ds\] RUNNING\s+\w+/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^\[\s*\d+\.\ds\] SUCCEEDED$/);
  });

  it('lists the tenant with --json: id, status, plan, cell, since, version', async () => {
    const r = await cli('tenants', 'list', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { count: number; tenants: Record<string, unknown>[] };
    const record = await cloud.tenant(tenantId);
    expect(doc.count).toBe(doc.tenants.length);
    expect(doc.tenants).toContainEqual({
      tenantId,
      status: 'ACTIVE',
      plan: 'standard',
      cell: LOCAL_CELL.cellId,
      since: record?.transitions.ACTIVE,
      version: record?.version,
    });
  });

  it('lists the tenant in the table, and only under its own status', async () => {
    const active = await cli('tenants', 'list', '--status', 'active');
    expect(active.code).toBe(0);
    expect(active.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+PLAN\s+CELL\s+SINCE\s+LAST ERROR$/);
    expect(active.stdout).toMatch(new RegExp(`^${tenantId}\\s+ACTIVE\\s+standard\\s+local\\s+\\S+\\s+-$`, 'm'));
    const failed = await cli('tenants', 'list', '--status', 'FAILED,SUSPENDED', '--json');
    expect((JSON.parse(failed.stdout) as { tenants: { tenantId: string }[] }).tenants.map((t) => t.tenantId)).not.toContain(tenantId);
  });

  it('shows the record, its resources and its transitions with --json', async () => {
    const r = await cli('tenants', 'show', tenantId, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      tenant: Record<string, unknown> & { resources: Record<string, string> };
      transitions: { transition: string; from: string; to: string; version: number }[];
    };
    expect(doc.tenant).toMatchObject({ tenantId, status: 'ACTIVE', plan: 'standard', cell: LOCAL_CELL.cellId });
    expect(doc.tenant).not.toHaveProperty('pk');
    expect(doc.tenant).not.toHaveProperty('gsi1pk');
    expect(Object.keys(doc.tenant.resources).sort()).toEqual(
      ['accessPointArn', 'accessPointId', 'inferenceProfiles', 'logGroupName', 'proxySecretArn', 'roleArn', 'roleCreatedAt', 'roleName', 'secretArn', 'securityGroupId', 'serviceArn', 'taskDefinitionArn'].sort(),
    );
    expect(doc.transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['PROVISIONING->ACTIVE', 'REQUESTED->PROVISIONING', '-->REQUESTED']);
    expect(doc.transitions[0]).not.toHaveProperty('pk');
  });

  it('shows the tenant for humans: status, resources and transitions', async () => {
    const r = await cli('tenants', 'show', tenantId);
    expect(r.code).toBe(0);
    const record = await cloud.tenant(tenantId);
    expect(r.stdout).toContain(`status:`);
    expect(r.stdout).toContain(`ACTIVE since ${record?.transitions.ACTIVE}`);
    expect(r.stdout).toContain(`securityGroupId:`);
    expect(r.stdout).toContain(record?.resources.serviceArn);
    expect(r.stdout).toMatch(/provisioned\s+PROVISIONING\s+ACTIVE/);
  });

  it('refuses to provision the ACTIVE tenant again (exit 3) and starts nothing', async () => {
    const before = cloud.sfn.list().length;
    const r = await cli('tenants', 'provision', '--file', tempFile('signup.json', signupOf(tenantId)), '--json');
    expect(r.code).toBe(3);
    expect(jsonError(r)).toMatchObject({ name: 'TenantStateConflictError', message: expect.stringContaining('already exists (ACTIVE)') });
    expect(cloud.sfn.list()).toHaveLength(before);
  });

  it('refuses to resume a tenant that is not suspended (exit 3), naming the allowed status', async () => {
    const r = await cli('tenants', 'resume', tenantId);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`refusing to resume tenant "${tenantId}": it is ACTIVE; resume is allowed from SUSPENDED`);
  });
});

describe('octw on tenants that do not exist', () => {
  it.each([['show'], ['suspend'], ['deprovision'], ['purge']])('exits 3 for tenants %s of an unknown tenant', async (command) => {
    const r = await cli('tenants', command, 'cli-nobody', '--json');
    expect(r.code).toBe(3);
    expect(jsonError(r).name).toBe('TenantNotFoundError');
  });
});

describe('octw AWS errors', () => {
  it('exits 4 with the AWS error name when the table does not exist', async () => {
    const r = await runCli(['tenants', 'list', '--json', '--table', 'octw-no-such-table'], localCloudCliEnv(cloud));
    expect(r.code).toBe(4);
    expect(jsonError(r).name).toBe('ResourceNotFoundException');
  });

  it('exits 4 with a configuration hint when the state machine does not exist', async () => {
    const file = tempFile('signup.json', signupOf('cli-nomachine'));
    const r = await runCli(['tenants', 'provision', '--file', file, '--json'], {
      ...localCloudCliEnv(cloud),
      OCTW_STATE_MACHINE_ARN_PREFIX: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:octw-elsewhere-`,
    });
    expect(r.code).toBe(4);
    expect(jsonError(r)).toMatchObject({ name: 'StateMachineDoesNotExist', message: expect.stringContaining('check OCTW_STATE_MACHINE_ARN_PREFIX') });
  });
});

describe('octw signup', () => {
  it('puts the TenantSignedUp event on the bus; the intake provisions the tenant', async () => {
    const tenantId = 'cli-signup';
    const file = tempFile('event.json', { Source: 'octw.signup', DetailType: 'TenantSignedUp', Detail: JSON.stringify(signupOf(tenantId)) });
    const r = await cli('signup', '--file', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      eventId: expect.any(String),
      eventBusName: LOCAL_CELL.eventBusName,
      source: 'octw.signup',
      detailType: 'TenantSignedUp',
      tenantId,
    });
    await cloud.settle();
    expect((await cloud.tenant(tenantId))?.status).toBe('ACTIVE');
    expect(cloud.fake.events.some((e) => e.DetailType === 'TenantSignedUp' && e.EventBusName === LOCAL_CELL.eventBusName && e.Source === 'octw.signup')).toBe(true);
  });

  it('accepts a bare signup detail and puts it with the configured source', async () => {
    const tenantId = 'cli-bare';
    const r = await runCli(['signup', '--file', tempFile('detail.json', signupOf(tenantId))], { ...localCloudCliEnv(cloud), OCTW_SIGNUP_SOURCE: 'octw.portal' });
    expect(r.code).toBe(0);
    await cloud.settle();
    const put = cloud.fake.events.find((e) => e.Source === 'octw.portal');
    expect(JSON.parse(put?.Detail ?? '{}')).toMatchObject({ tenantId });
  });
});
