/**
 * Two cells in one AWS account (issue 8, finding 2): one fake account, two local cells with their
 * own tables, buses, file systems, clusters and handlers, sharing the VPC (the `existingVpc`
 * layout). Tenant ids are unique per cell only, so the same id lives in both. Whatever cell A does
 * to its tenant — every workflow, and a permanent fault at each provisioning call so that
 * compensation runs — cell B's tenant of the same id keeps exactly what it had: the same resource
 * ids, the same rules and policies, the same secret value, log group and task definitions.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CELL, LOCAL_CELL_B } from '../local-cloud/env';
import { startLocalCloud, startSecondCell, type LocalCloud } from '../local-cloud/local-cloud';
import { PROVISION_CALLS } from './fault-matrix';
import { signupFor } from './support';

const mountA = mkdtempSync(join(tmpdir(), 'octw-cell-a-efs-'));
const mountB = mkdtempSync(join(tmpdir(), 'octw-cell-b-efs-'));
let a: LocalCloud;
let b: LocalCloud;

beforeAll(async () => {
  a = await startLocalCloud({ env: { TENANTS_MOUNT_PATH: mountA } });
  b = await startSecondCell(a, LOCAL_CELL_B, (fn) => jest.isolateModulesAsync(fn), { env: { TENANTS_MOUNT_PATH: mountB } });
}, 60_000);
// A fault cell A never reached must not fire in the next test's setup.
afterEach(() => a.fake.faults.clear());
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  rmSync(mountA, { recursive: true, force: true });
  rmSync(mountB, { recursive: true, force: true });
});

async function provisionIn(cloud: LocalCloud, tenantId: string) {
  await cloud.signup(signupFor(tenantId));
  await cloud.settle();
  return cloud.tenant(tenantId);
}

async function run(cloud: LocalCloud, stateMachine: string, input: unknown) {
  const { executionArn } = await cloud.sfn.startExecution(stateMachine, input);
  return cloud.sfn.waitForExecution(executionArn);
}

/**
 * Everything the tenant owns in the fake account, found through its own cell's record (never by
 * name), with the state a neighbour could damage.
 */
async function footprint(cloud: LocalCloud, tenantId: string) {
  const record = await cloud.tenant(tenantId);
  if (!record) throw new Error(`no record of ${tenantId} in cell ${cloud.cell.cellId}`);
  const r = record.resources;
  const fake = cloud.fake;
  fake.ecs.settleAll();
  const sg = r.securityGroupId ? fake.securityGroup(r.securityGroupId) : undefined;
  const ap = r.accessPointId ? fake.accessPoint(r.accessPointId) : undefined;
  const role = [...fake.iam.roles.values()].find((x) => x.arn === r.roleArn);
  const secret = [...fake.secrets.secrets.values()].find((s) => s.arn === r.secretArn);
  const logGroup = r.logGroupName ? fake.logGroup(r.logGroupName) : undefined;
  const family = r.taskDefinitionArn?.split('/').pop()?.replace(/:\d+$/, '');
  const service = [...fake.ecs.services.values()].find((s) => s.arn === r.serviceArn);
  return {
    status: record.status,
    securityGroup: sg && {
      id: sg.groupId,
      tags: Object.fromEntries(sg.tags),
      rules: sg.rules.map((x) => `${x.isEgress ? 'out' : 'in'} ${x.ipProtocol} ${x.fromPort}-${x.toPort} ${x.cidrIpv4 ?? x.cidrIpv6 ?? x.prefixListId ?? x.referencedGroupId}`).sort(),
    },
    accessPoint: ap && { id: ap.accessPointId, fileSystemId: ap.fileSystemId, root: ap.rootDirectory?.Path, uid: ap.posixUser?.Uid },
    role: role && {
      id: role.roleId,
      trust: role.assumeRolePolicyDocument,
      policies: Object.fromEntries(role.policies),
      tags: Object.fromEntries(role.tags),
    },
    secret: secret && { arn: secret.arn, value: secret.secretString, deletionDate: secret.deletionDate, tags: Object.fromEntries(secret.tags) },
    logGroup: logGroup && { arn: logGroup.arn, createdAt: logGroup.createdAt, retention: logGroup.retentionInDays, tags: Object.fromEntries(logGroup.tags) },
    taskDefinitions: family ? (fake.ecs.families.get(family) ?? []).map((t) => `${t.arn} ${t.status}`) : [],
    service: service && {
      arn: service.arn,
      status: fake.ecs.statusOf(service),
      desiredCount: service.desiredCount,
      taskDefinition: service.taskDefinitionArn,
    },
  };
}

/** Provisions `tenantId` in cell B and returns its footprint, checked complete. */
async function activeInB(tenantId: string) {
  const record = await provisionIn(b, tenantId);
  expect(record?.status).toBe('ACTIVE');
  const before = await footprint(b, tenantId);
  for (const part of ['securityGroup', 'accessPoint', 'role', 'secret', 'logGroup', 'service'] as const) expect(before[part]).toBeDefined();
  expect(before.taskDefinitions).toHaveLength(1);
  return before;
}

describe('two cells in one account, the same tenant id in both', () => {
  it('every workflow in cell A leaves cell B\'s tenant untouched', async () => {
    const tenantId = 'shared-name';
    const before = await activeInB(tenantId);
    mkdirSync(join(mountB, tenantId), { recursive: true });
    writeFileSync(join(mountB, tenantId, 'state.json'), '{"cell":"b"}');

    const steps: [string, () => Promise<string | undefined>][] = [
      ['provision', async () => (await provisionIn(a, tenantId))?.status],
      ['update', async () => (await run(a, 'UpdateTenant', { tenantId, plan: 'pro', egressAllowlist: [{ cidr: '192.0.2.0/28', ports: [443] }] })).status],
      ['suspend', async () => (await run(a, 'SuspendTenant', { tenantId })).status],
      ['resume', async () => (await run(a, 'ResumeTenant', { tenantId })).status],
      ['deprovision', async () => (await run(a, 'DeprovisionTenant', { tenantId })).status],
      ['purge', async () => (await run(a, 'PurgeTenant', { tenantId, immediate: true })).status],
    ];
    for (const [name, step] of steps) {
      const outcome = await step();
      // Cell A's own tenant goes through its lifecycle normally...
      expect({ step: name, outcome }).toEqual({ step: name, outcome: name === 'provision' ? 'ACTIVE' : 'SUCCEEDED' });
      // ...and cell B's is exactly as it was.
      expect({ step: name, footprint: await footprint(b, tenantId) }).toEqual({ step: name, footprint: before });
    }
    expect((await a.tenant(tenantId))?.status).toBe('PURGED');
    expect(readFileSync(join(mountB, tenantId, 'state.json'), 'utf8')).toBe('{"cell":"b"}');
  }, 120_000);

  it('gives the same tenant different names in each cell for everything named per account or per VPC', async () => {
    const tenantId = 'names-differ';
    await activeInB(tenantId);
    expect((await provisionIn(a, tenantId))?.status).toBe('ACTIVE');
    const ra = (await a.tenant(tenantId))!.resources;
    const rb = (await b.tenant(tenantId))!.resources;
    for (const key of ['securityGroupId', 'roleArn', 'secretArn', 'logGroupName', 'taskDefinitionArn', 'serviceArn', 'accessPointId'] as const) {
      expect({ key, same: ra[key] === rb[key] }).toEqual({ key, same: false });
    }
  }, 60_000);

  // A permanent fault at each provisioning call in cell A: the workflow compensates, and
  // compensation must remove only what cell A created.
  describe.each(PROVISION_CALLS.filter(([s]) => s !== 'EventBridge').map(([service, operation], index) => ({ service, operation, index })))(
    'a permanent fault in cell A at $service $operation',
    ({ service, operation, index }) => {
      it("fails cell A's provisioning and leaves cell B's tenant untouched", async () => {
        const tenantId = `fault-${index}-cells`;
        const before = await activeInB(tenantId);
        a.fake.inject({ service, operation, kind: 'permanent' });
        const record = await provisionIn(a, tenantId);
        expect(a.fake.faults.fired.some((f) => f.service === service && f.operation === operation && f.kind === 'permanent')).toBe(true);
        expect(record?.status).toBe('FAILED');
        expect(await footprint(b, tenantId)).toEqual(before);
        // Nothing of cell A's attempt is left behind either.
        const leftovers = a.fake.allResources().filter((x) => x.tags['octw:tenant'] === tenantId && x.tags['octw:cell'] === a.cell.cellId);
        expect(leftovers.map((x) => `${x.type} ${x.id}`)).toEqual([]);
      }, 60_000);
    },
  );

  // Adoption: a resource that already carries cell A's deterministic name for the tenant, but
  // another cell's tag (a hand-made copy, a restored backup, a misconfigured cell id). Cell A must
  // neither adopt it nor delete it while compensating.
  const foreignTags = (tenantId: string) => ({ 'octw:tenant': tenantId, 'octw:cell': 'elsewhere', 'octw:managed-by': 'octw' });
  const keyValue = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const planted: Record<string, { plant: (tenantId: string) => void; read: (tenantId: string) => unknown }> = {
    secret: {
      plant: (id) => void a.fake.secrets.operations.CreateSecret({ Name: `octw/tenants/local/${id}/gateway-token`, SecretString: 'not-yours', Tags: keyValue(foreignTags(id)) }),
      read: (id) => a.fake.secret(`octw/tenants/local/${id}/gateway-token`),
    },
    'log group': {
      plant: (id) => void a.fake.logs.operations.CreateLogGroup({ logGroupName: `/octw/tenants/local/${id}`, tags: foreignTags(id) }),
      read: (id) => a.fake.logGroup(`/octw/tenants/local/${id}`),
    },
    role: {
      plant: (id) =>
        void a.fake.iam.operations.CreateRole({
          RoleName: `octw-local--${id}`,
          Path: '/octw/tenants/',
          AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
          PermissionsBoundary: LOCAL_CELL.permissionsBoundaryArn,
          Tags: keyValue(foreignTags(id)),
        }),
      read: (id) => a.fake.role(`octw-local--${id}`),
    },
    'security group': {
      plant: (id) =>
        void a.fake.ec2.operations.CreateSecurityGroup({
          GroupName: `octw-local--${id}`,
          Description: 'not yours',
          VpcId: LOCAL_CELL.vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: keyValue(foreignTags(id)) }],
        }),
      read: (id) => a.fake.securityGroup(`octw-local--${id}`),
    },
    'task definition': {
      plant: (id) =>
        void a.fake.ecs.operations.RegisterTaskDefinition({
          family: `octw-local--${id}`,
          containerDefinitions: [{ name: 'gateway', image: 'example.invalid/theirs@sha256:' + '0'.repeat(64) }],
          tags: Object.entries(foreignTags(id)).map(([key, value]) => ({ key, value })),
        }),
      read: (id) => (a.fake.ecs.families.get(`octw-local--${id}`) ?? []).map((t) => `${t.arn} ${t.status}`),
    },
  };
  describe.each(Object.keys(planted))('a foreign %s under cell A\'s name for the tenant', (kind) => {
    it('is refused with ForeignResourceError and left as it was, compensation included', async () => {
      const tenantId = `foreign-${kind.replace(/ /g, '-')}`;
      const { plant, read } = planted[kind]!;
      plant(tenantId);
      const before = JSON.stringify(read(tenantId));
      expect(read(tenantId)).toBeTruthy();
      const record = await provisionIn(a, tenantId);
      expect(record?.status).toBe('FAILED');
      expect(JSON.stringify(record?.lastError)).toMatch(/ForeignResourceError|not tenant/);
      expect(JSON.stringify(read(tenantId))).toBe(before);
    }, 60_000);
  });
});
