/**
 * Issue 13, items 2, 3 and 6: the reconcile, the isolation audit and the orphan sweep against the
 * local cloud: tenants provisioned by the real workflows, drift injected by changing the fake's
 * resources behind the platform's back (the SDK calls an operator would make, or the fake's state
 * where AWS has no such call), the real Reconcile handler and the real ReconcileCell ASL.
 */
import { AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, CreateTagsCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupEgressCommand } from '@aws-sdk/client-ec2';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { CreateAccessPointCommand, EFSClient } from '@aws-sdk/client-efs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Finding } from '../../functions/domain/isolation-audit';
import { CHECK_IDS } from '../../functions/domain/isolation-audit';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { TenantReport } from '../../functions/usecases/reconcile';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { provision, runWorkflow } from '../workflows/support';
import type { CliClients } from '../../infra/cli/aws';
import { ReconcileAnswerSchema } from '../../infra/cli/fleet-reconcile';
import { noAws, runCli } from '../cli/support';

let cloud: LocalCloud;
let reconcile: (event: unknown, context: ReturnType<typeof lambdaContextFor>) => Promise<unknown>;
let doc: DynamoDBDocumentClient;
const ec2 = new EC2Client({});
const ecs = new ECSClient({});
const efs = new EFSClient({});
const iam = new IAMClient({});
const sm = new SecretsManagerClient({});
let n = 0;

interface Answer {
  worst: string | null;
  tenants: TenantReport[];
  orphans?: { kind: string; id: string; tenantId: string; reason: string; outcome: string }[];
}
const invoke = async (event: Record<string, unknown>) => (await reconcile(event, lambdaContextFor('Reconcile', `reconcile-${++n}`))) as Answer;
const audit = async (tenantId: string) => (await invoke({ action: 'audit', tenantId })).tenants[0]!;
const failing = (r: TenantReport) => r.findings.filter((f: Finding) => f.status === 'fail').map((f) => f.checkId).sort();
const mutatingCalls = (from: number) =>
  cloud.fake.calls.slice(from).filter((c) => c.service !== 'EventBridge' && !/^(Describe|Get|List)/.test(c.operation)).map((c) => `${c.service} ${c.operation}`);

beforeAll(async () => {
  cloud = await startLocalCloud({ env: { RECONCILE_SETTINGS_JSON: JSON.stringify({ mode: 'repair', orphanGraceHours: 1, pageSize: 2 }) } });
  reconcile = (await import('../../functions/handlers/reconcile')).handler;
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
});
afterAll(async () => {
  doc?.destroy();
  for (const c of [ec2, ecs, efs, iam, sm]) c.destroy();
  await cloud.stop();
});

describe('isolation audit on a clean tenant', () => {
  it('passes every check (the egress policy included: the local cell has a proxy)', async () => {
    const t = (await provision(cloud, 'rc-clean'))!;
    expect(t.status).toBe('ACTIVE');
    const report = await audit('rc-clean');
    expect(report.findings.map((f) => f.checkId)).toEqual(CHECK_IDS);
    // The route checks skip: the local cell here has no ingress (test/fleet/reconcile-ingress.test.ts has).
    expect(report.findings.filter((f) => f.status !== 'pass').map((f) => `${f.checkId} ${f.status}`)).toEqual(
      ['ingress.rule_target_own', 'ingress.rule_as_recorded', 'ingress.oidc_enforced', 'ingress.dns_record'].map((id) => `${id} skip`),
    );
    expect(report.drift).toEqual([]);
  });
});

/** A drift the repair puts back: what it injects and exactly which checks it makes fail. */
interface RepairableDrift {
  name: string;
  fails: string[];
  inject: (t: TenantRecord) => Promise<void>;
}

const groupRules = async (t: TenantRecord) =>
  (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [t.resources.securityGroupId!] }] }))).SecurityGroupRules ?? [];

const REPAIRABLE: RepairableDrift[] = [
  {
    name: 'an SSH ingress rule from anywhere',
    fails: ['network.ingress_tier_only'],
    inject: async (t) => {
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: t.resources.securityGroupId!, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    },
  },
  {
    name: 'an allow-all egress rule',
    fails: ['network.egress_allowed_only'],
    inject: async (t) => {
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: t.resources.securityGroupId!, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    },
  },
  {
    name: 'a platform egress rule revoked',
    fails: ['network.egress_complete'],
    inject: async (t) => {
      const efsRule = (await groupRules(t)).find((r) => r.IsEgress && r.FromPort === 2049)!;
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: t.resources.securityGroupId!, SecurityGroupRuleIds: [efsRule.SecurityGroupRuleId!] }));
    },
  },
  {
    name: "a widened inline policy under the platform's name",
    fails: ['role.scope'],
    inject: async (t) => {
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: t.resources.roleName!,
          PolicyName: t.resources.roleName!,
          PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Everything', Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
        }),
      );
    },
  },
  {
    name: 'a public IP on the service',
    fails: ['network.no_public_ip'],
    inject: async (t) => {
      await ecs.send(
        new UpdateServiceCommand({
          cluster: cloud.cell.clusterName,
          service: `octw-local--${t.tenantId}`,
          networkConfiguration: { awsvpcConfiguration: { subnets: [...cloud.cell.subnetIds], securityGroups: [t.resources.securityGroupId!], assignPublicIp: 'ENABLED' } },
        }),
      );
    },
  },
  {
    name: 'ECS Exec turned on',
    fails: ['ecs.exec_disabled'],
    inject: async (t) => {
      await ecs.send(new UpdateServiceCommand({ cluster: cloud.cell.clusterName, service: `octw-local--${t.tenantId}`, enableExecuteCommand: true }));
    },
  },
  {
    name: 'the service scaled to zero while ACTIVE',
    fails: ['service.desired_count'],
    inject: async (t) => {
      await ecs.send(new UpdateServiceCommand({ cluster: cloud.cell.clusterName, service: `octw-local--${t.tenantId}`, desiredCount: 0 }));
    },
  },
  {
    name: 'a privileged, writable, root revision with SYS_ADMIN run in its place',
    fails: ['config.hash_recorded', 'container.capabilities_dropped', 'container.read_only_root', 'container.runs_as_tenant_uid'],
    inject: async (t) => {
      const recorded = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: t.resources.taskDefinitionArn!, include: ['TAGS'] }));
      const td = recorded.taskDefinition!;
      const rogue = {
        family: td.family,
        taskRoleArn: td.taskRoleArn,
        executionRoleArn: td.executionRoleArn,
        networkMode: td.networkMode,
        requiresCompatibilities: td.requiresCompatibilities,
        cpu: td.cpu,
        memory: td.memory,
        volumes: td.volumes,
        containerDefinitions: td.containerDefinitions!.map((c) =>
          c.name === 'gateway'
            ? { ...c, user: '0:0', readonlyRootFilesystem: false, privileged: true, linuxParameters: { ...c.linuxParameters, capabilities: { drop: [], add: ['SYS_ADMIN'] } } }
            : c,
        ),
        tags: recorded.tags,
      } as RegisterTaskDefinitionCommandInput;
      const arn = (await ecs.send(new RegisterTaskDefinitionCommand(rogue))).taskDefinition!.taskDefinitionArn!;
      await ecs.send(new UpdateServiceCommand({ cluster: cloud.cell.clusterName, service: `octw-local--${t.tenantId}`, taskDefinition: arn }));
    },
  },
  {
    name: "the proxy's policy item widened to any host",
    fails: ['egress.policy_as_recorded'],
    inject: async (t) => {
      const item = (await doc.send(new GetCommand({ TableName: cloud.egressPolicyTableName, Key: { tenantId: t.tenantId } }))).Item!;
      await doc.send(new PutCommand({ TableName: cloud.egressPolicyTableName, Item: { ...item, rules: [{ host: '*.evil.example', ports: [443], origin: ['tenant'] }] } }));
    },
  },
];

describe('drift the reconcile repairs', () => {
  let t: TenantRecord;
  beforeAll(async () => {
    t = (await provision(cloud, 'rc-fix'))!;
    expect(t.status).toBe('ACTIVE');
    expect(failing(await audit('rc-fix'))).toEqual([]);
  });

  it.each(REPAIRABLE)('$name: fails exactly $fails, is reported without a change in report mode, and is repaired', async (d) => {
    await d.inject(t);
    expect(failing(await audit(t.tenantId))).toEqual([...d.fails].sort());

    // Report-only: the drift is an event, and nothing is changed.
    const from = cloud.fake.calls.length;
    const eventsBefore = cloud.bus.events.length;
    const report = (await invoke({ action: 'reconcile', tenantId: t.tenantId, repair: false })).tenants[0]!;
    await cloud.settle();
    expect(report.drift.sort()).toEqual([...d.fails].sort());
    expect(report.repaired).toBeUndefined();
    expect(mutatingCalls(from)).toEqual([]);
    const drifted = cloud.bus.events.slice(eventsBefore).filter((e) => e['detail-type'] === 'TenantDriftDetected');
    expect(drifted.map((e) => (e.detail as { tenantId: string }).tenantId)).toEqual([t.tenantId]);
    expect(failing(await audit(t.tenantId))).toEqual([...d.fails].sort());

    // Repair: re-applied through the workflows' adapters, audited on the tenant, clean afterwards.
    const repaired = (await invoke({ action: 'reconcile', tenantId: t.tenantId, repair: true })).tenants[0]!;
    expect(repaired.repairErrors).toBeUndefined();
    expect(repaired.remaining).toEqual([]);
    expect(failing(await audit(t.tenantId))).toEqual([]);
    const trail = await cloud.store.listAudit(t.tenantId, 1);
    expect(trail[0]!.transition).toBe('reconcileRepair');
  });
});

describe('drift only an operator can put back', () => {
  it('fails exactly the checks meant to catch it, and the repair reports it as remaining instead of guessing', async () => {
    const t = (await provision(cloud, 'rc-broken'))!;
    expect(failing(await audit(t.tenantId))).toEqual([]);
    // The boundary detached (no SDK path the platform grants; changed in the fake's state).
    const role = cloud.fake.iam.roles.get(t.resources.roleName!.toLowerCase())!;
    delete (role as { permissionsBoundary?: string }).permissionsBoundary;
    // An extra inline policy next to the platform's.
    await iam.send(new PutRolePolicyCommand({ RoleName: t.resources.roleName!, PolicyName: 'extra', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }) }));
    // The access point now presents root (AWS cannot change an access point; the fake's state can).
    const ap = cloud.fake.efs.accessPoints.get(t.resources.accessPointId!)!;
    (ap as { posixUser?: { Uid: number; Gid: number } }).posixUser = { Uid: 0, Gid: 0 };
    // Another access point presenting the tenant's uid.
    await efs.send(
      new CreateAccessPointCommand({
        FileSystemId: cloud.cell.fileSystemId,
        PosixUser: { Uid: t.uid!, Gid: t.gid! },
        RootDirectory: { Path: '/tenants/rc-twin' },
        Tags: [{ Key: 'octw:cell', Value: 'local' }, { Key: 'octw:tenant', Value: 'rc-twin' }],
      }),
    );
    // The gateway token retagged to another tenant, and the security group's managed-by changed.
    await sm.send(new TagResourceCommand({ SecretId: t.resources.secretArn!, Tags: [{ Key: 'octw:tenant', Value: 'rc-other' }] }));
    await ec2.send(new CreateTagsCommand({ Resources: [t.resources.securityGroupId!], Tags: [{ Key: 'octw:managed-by', Value: 'someone' }] }));

    const expected = ['resources.tags', 'role.boundary_attached', 'role.scope', 'secrets.scoped', 'storage.access_point_root', 'storage.uid_unique'];
    const report = await audit(t.tenantId);
    expect(failing(report)).toEqual(expected);
    expect(report.worst).toBe('critical');
    expect(report.findings.filter((f) => f.status === 'fail' && f.repair !== undefined)).toEqual([]);

    const repaired = (await invoke({ action: 'reconcile', tenantId: t.tenantId, repair: true })).tenants[0]!;
    expect(repaired.repaired).toEqual([]);
    expect(repaired.remaining!.sort()).toEqual(expected);
  });
});

describe('orphan sweep', () => {
  const tags = (cell: string, tenant: string, managedBy = 'octw') => [
    { Key: 'octw:cell', Value: cell },
    { Key: 'octw:tenant', Value: tenant },
    { Key: 'octw:managed-by', Value: managedBy },
  ];
  const exists = (tenantId: string, id: string) => cloud.fake.resourcesByTenant(tenantId).some((r) => r.id === id);

  it('lists what no live tenant owns, removes it only after the grace period, and never touches another cell or an inexact tag', async () => {
    // A tenant deprovisioned, then leftovers of a crashed earlier run of it appear.
    expect((await provision(cloud, 'rc-gone'))!.status).toBe('ACTIVE');
    await runWorkflow(cloud, 'DeprovisionTenant', { tenantId: 'rc-gone' });
    expect((await cloud.tenant('rc-gone'))!.status).toBe('DEPROVISIONED');
    const vpc = cloud.cell.vpcId;
    const leftSg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'octw-local--rc-gone', Description: 'crash', VpcId: vpc, TagSpecifications: [{ ResourceType: 'security-group', Tags: tags('local', 'rc-gone') }] }))).GroupId!;
    const leftAp = (await efs.send(new CreateAccessPointCommand({ FileSystemId: cloud.cell.fileSystemId, PosixUser: { Uid: 299_999, Gid: 299_999 }, RootDirectory: { Path: '/tenants/rc-gone' }, Tags: tags('local', 'rc-gone') }))).AccessPointId!;
    await sm.send(new CreateSecretCommand({ Name: 'octw/tenants/local/rc-gone/credentials/left', SecretString: 'x', Tags: tags('local', 'rc-gone') }));
    // A role of a tenant that has no record at all.
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'octw-local--ghost-t',
        Path: '/octw/tenants/',
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
        PermissionsBoundary: cloud.cell.permissionsBoundaryArn,
        Tags: tags('local', 'ghost-t'),
      }),
    );
    // An older generation's access point of a live tenant.
    const clean = (await cloud.tenant('rc-clean'))!;
    const oldAp = (await efs.send(new CreateAccessPointCommand({ FileSystemId: cloud.cell.fileSystemId, PosixUser: { Uid: clean.uid!, Gid: clean.gid! }, RootDirectory: { Path: '/tenants/rc-clean' }, Tags: tags('local', 'rc-clean') }))).AccessPointId!;
    // Must survive: another cell's group for the same tenant id, inexact tags, a foreign-tagged secret under our prefix.
    const otherCell = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'octw-local-b--rc-gone', Description: 'b', VpcId: vpc, TagSpecifications: [{ ResourceType: 'security-group', Tags: tags('local-b', 'rc-gone') }] }))).GroupId!;
    const caseDiffers = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'not-ours-1', Description: 'c', VpcId: vpc, TagSpecifications: [{ ResourceType: 'security-group', Tags: tags('Local', 'rc-gone') }] }))).GroupId!;
    const notManaged = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'not-ours-2', Description: 'd', VpcId: vpc, TagSpecifications: [{ ResourceType: 'security-group', Tags: tags('local', 'rc-gone', 'terraform') }] }))).GroupId!;
    const spaced = (await efs.send(new CreateAccessPointCommand({ FileSystemId: cloud.cell.fileSystemId, PosixUser: { Uid: 299_998, Gid: 299_998 }, RootDirectory: { Path: '/tenants/rc-gone' }, Tags: tags('local ', 'rc-gone') }))).AccessPointId!;
    await sm.send(new CreateSecretCommand({ Name: 'octw/tenants/local/rc-gone/credentials/foreign', SecretString: 'x', Tags: tags('local-b', 'rc-gone') }));

    // Not listed: rc-broken's gateway token retagged to "rc-other" above (its name and tag disagree).
    const orphanIds = [
      `${leftSg} tenant is DEPROVISIONED`,
      `${leftAp} tenant is DEPROVISIONED`,
      'octw/tenants/local/rc-gone/credentials/left tenant is DEPROVISIONED',
      'octw-local--ghost-t no tenant record',
      `${oldAp} older generation: the tenant's access point is ${clean.resources.accessPointId!}`,
    ].sort();
    const first = (await reconcile({ action: 'sweepOrphans', runId: 'sweep-1' }, lambdaContextFor('Reconcile', 'sweep-1'))) as { orphans: number; removed: number };
    const ledger = (await doc.send(new QueryCommand({ TableName: cloud.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'ORPHANS#local' } }))).Items!;
    expect(ledger.map((i) => `${i.id as string} ${i.reason as string}`).sort()).toEqual(orphanIds);
    expect(first).toMatchObject({ orphans: 5, removed: 0 });
    expect(ledger.find((i) => i.id === oldAp)!.reason).toMatch(/older generation/);

    // A later run, once the grace period (1 h here) has passed since the first sighting.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    for (const item of ledger) {
      await doc.send(new UpdateCommand({ TableName: cloud.tableName, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: 'SET firstSeen = :t', ExpressionAttributeValues: { ':t': twoHoursAgo } }));
    }
    const second = (await reconcile({ action: 'sweepOrphans', runId: 'sweep-2' }, lambdaContextFor('Reconcile', 'sweep-2'))) as { orphans: number; removed: number; errors: number };
    expect(second).toMatchObject({ orphans: 5, removed: 5, errors: 0 });
    for (const id of [leftSg, leftAp, oldAp]) expect(exists(id.startsWith('sg-') ? 'rc-gone' : id === oldAp ? 'rc-clean' : 'rc-gone', id)).toBe(false);
    expect(cloud.fake.resourcesByTenant('ghost-t').filter((r) => r.type === 'AWS::IAM::Role')).toEqual([]);
    // Survivors.
    for (const id of [otherCell, caseDiffers, notManaged, spaced]) expect(exists('rc-gone', id)).toBe(true);
    expect(cloud.fake.resourcesByTenant('rc-gone').some((r) => r.id.includes('credentials/foreign') || r.arn?.includes('credentials/foreign'))).toBe(true);
    // The live tenant keeps its own access point and is still clean.
    expect(failing(await audit('rc-clean'))).toEqual([]);
  });
});

describe('the ReconcileCell workflow', () => {
  it('runs over every tenant in pages, reports the drifted one, and sweeps', async () => {
    const t = (await cloud.tenant('rc-clean'))!;
    await ecs.send(new UpdateServiceCommand({ cluster: cloud.cell.clusterName, service: `octw-local--${t.tenantId}`, enableExecuteCommand: true }));
    const before = cloud.bus.events.length;
    const { executionArn } = await cloud.sfn.startExecution('ReconcileCell', {});
    const out = await cloud.sfn.waitForExecution(executionArn);
    expect(out.status).toBe('SUCCEEDED');
    const drift = cloud.bus.events.slice(before).filter((e) => e['detail-type'] === 'TenantDriftDetected').map((e) => e.detail as { tenantId: string; mode: string });
    expect(drift.map((d) => d.tenantId)).toContain('rc-clean');
    // The cell's mode here is repair: the scheduled run put ECS Exec back off.
    expect(failing(await audit('rc-clean'))).toEqual([]);
  });
});

describe('octw audit and octw fleet reconcile', () => {
  // The CLI's Lambda Invoke replaced by a call of the real handler in-process (the local cloud has no Lambda endpoint).
  const clients = Object.assign(Object.create(noAws) as CliClients, {
    reconcile: (payload: Record<string, unknown>) => reconcile(payload, lambdaContextFor('Reconcile', `cli-${++n}`)),
  });
  const env = { OCTW_CELL: 'local', AWS_REGION: 'us-east-1' };

  it('prints the JSON answer and exits 0 for a clean tenant', async () => {
    const r = await runCli(['audit', '--tenant', 'rc-fix', '--json'], env, { clients });
    expect(r.code).toBe(0);
    const answer = ReconcileAnswerSchema.parse(JSON.parse(r.stdout));
    expect(answer.worst).toBeNull();
    expect(answer.tenants[0]!.findings.map((f) => f.checkId)).toEqual(CHECK_IDS);
  });

  it('prints a table and exits with the worst severity (8 = critical) for a broken tenant', async () => {
    const r = await runCli(['audit', '--tenant', 'rc-broken'], env, { clients });
    expect(r.code).toBe(8);
    expect(r.stdout).toMatch(/rc-broken\s+ACTIVE\s+CRITICAL\s+role\.boundary_attached\s+operator/);
    expect(r.stdout).toMatch(/Worst finding: critical/);
  });

  it('reconciles one tenant with --repair and exits 0 once it is clean', async () => {
    const t = (await cloud.tenant('rc-fix'))!;
    await ecs.send(new UpdateServiceCommand({ cluster: cloud.cell.clusterName, service: `octw-local--${t.tenantId}`, enableExecuteCommand: true }));
    const report = await runCli(['fleet', 'reconcile', '--tenant', 'rc-fix', '--json'], env, { clients });
    expect(report.code).toBe(7);
    const repaired = await runCli(['fleet', 'reconcile', '--tenant', 'rc-fix', '--repair', '--json'], env, { clients });
    expect(repaired.code).toBe(0);
    expect(ReconcileAnswerSchema.parse(JSON.parse(repaired.stdout)).tenants[0]!.repaired).toEqual(['serviceSettings']);
  });

  it('refuses an option of another command', async () => {
    const r = await runCli(['audit', '--repair'], env, { clients });
    expect(r.code).toBe(2);
  });
});
