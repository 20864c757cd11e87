/**
 * Issue 13, items 2 and 3 with ingress on: the tenant's live route (listener rule, target group, DNS
 * record) in the isolation audit and the reconcile. Drift is injected behind the platform's back with
 * the SDK calls an operator would make against the AWS fake (ModifyRule, ChangeResourceRecordSets);
 * the real Reconcile handler reports it with stable check ids, repairs it in place through the
 * ingress adapter, and `octw audit` exits with the worst severity.
 */
import { CreateRuleCommand, CreateTargetGroupCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand, type Action as SdkAction } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Finding } from '../../functions/domain/isolation-audit';
import { names, tenantTagMap } from '../../functions/domain/naming';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { TenantReport } from '../../functions/usecases/reconcile';
import type { CliClients } from '../../infra/cli/aws';
import { ReconcileAnswerSchema } from '../../infra/cli/fleet-reconcile';
import { LOCAL_INGRESS_ZONE_ID, startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { lambdaContextFor } from '../local-cloud/step-functions';
import { noAws, runCli } from '../cli/support';
import { provision } from '../workflows/support';

const OIDC = {
  issuer: 'https://login.example.com',
  authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
  tokenEndpoint: 'https://login.example.com/oauth2/token',
  userInfoEndpoint: 'https://login.example.com/oauth2/userinfo',
  clientId: 'octw-tenant-client',
};
const ROUTE_CHECKS = ['ingress.dns_record', 'ingress.oidc_enforced', 'ingress.rule_as_recorded', 'ingress.rule_target_own'];

let cloud: LocalCloud;
let reconcile: (event: unknown, context: ReturnType<typeof lambdaContextFor>) => Promise<unknown>;
const elb = new ElasticLoadBalancingV2Client({});
const r53 = new Route53Client({});
const sm = new SecretsManagerClient({});
let n = 0;
let a: TenantRecord;
let b: TenantRecord;

interface Answer {
  worst: string | null;
  tenants: TenantReport[];
}
const invoke = async (event: Record<string, unknown>) => (await reconcile(event, lambdaContextFor('Reconcile', `ri-${++n}`))) as Answer;
const audit = async (tenantId: string) => (await invoke({ action: 'audit', tenantId })).tenants[0]!;
const failing = (r: TenantReport) => r.findings.filter((f: Finding) => f.status === 'fail').map((f) => f.checkId).sort();
const finding = (r: TenantReport, id: string) => r.findings.find((f) => f.checkId === id)!;
/** The rule as the fake holds it (with the OIDC client secret ELBv2 never returns). */
const fakeRule = (t: TenantRecord) => cloud.fake.ingress.elb.rules.get(t.ingress!.ruleArn)!;

beforeAll(async () => {
  cloud = await startLocalCloud({ ingress: { shards: 1 }, env: { RECONCILE_SETTINGS_JSON: JSON.stringify({ mode: 'repair', orphanGraceHours: 1, pageSize: 10 }) } });
  reconcile = (await import('../../functions/handlers/reconcile')).handler;
  const secretName = names.credentialSecret({ cell: cloud.cell.cellId, tenantId: 'ri-a' }, 'oidc-client-secret');
  await sm.send(
    new CreateSecretCommand({ Name: secretName, SecretString: 'oidc-secret-value', Tags: Object.entries(tenantTagMap({ cell: cloud.cell.cellId, tenantId: 'ri-a' })).map(([Key, Value]) => ({ Key, Value })) }),
  );
  a = (await provision(cloud, 'ri-a', { ingressOidc: { ...OIDC, clientSecret: 'oidc-client-secret' } }))!;
  b = (await provision(cloud, 'ri-b'))!;
  expect([a.status, b.status]).toEqual(['ACTIVE', 'ACTIVE']);
}, 180_000);
afterAll(async () => {
  for (const c of [elb, r53, sm]) c.destroy();
  await cloud.stop();
});

describe('ingress route in the audit', () => {
  it('passes every route check on clean tenants (OIDC checked where recorded, skipped where not)', async () => {
    const ra = await audit('ri-a');
    expect(ra.findings.filter((f) => f.status === 'fail')).toEqual([]);
    for (const id of ROUTE_CHECKS) expect(finding(ra, id).status).toBe('pass');
    const rb = await audit('ri-b');
    expect(failing(rb)).toEqual([]);
    expect(finding(rb, 'ingress.oidc_enforced').status).toBe('skip');
    expect(finding(rb, 'ingress.rule_target_own').status).toBe('pass');
  });

  it("A's host forwarded to B's target group: critical ingress.rule_target_own naming B, repaired in place", async () => {
    const actions = fakeRule(a).actions.map((x) => (x.Type === 'forward' ? { ...x, TargetGroupArn: b.ingress!.targetGroupArn } : x)) as SdkAction[];
    await elb.send(new ModifyRuleCommand({ RuleArn: a.ingress!.ruleArn, Actions: actions }));

    const report = await audit('ri-a');
    expect(failing(report)).toEqual(['ingress.rule_as_recorded', 'ingress.rule_target_own']);
    expect(finding(report, 'ingress.rule_target_own')).toMatchObject({ severity: 'critical', repair: 'ingressRoute' });
    expect(finding(report, 'ingress.rule_target_own').detail).toBe(`forwards ${a.ingress!.hostname} to target group ${b.ingress!.targetGroupArn} of tenant ri-b`);
    expect(report.worst).toBe('critical');

    const repaired = (await invoke({ action: 'reconcile', tenantId: 'ri-a', repair: true })).tenants[0]!;
    expect(repaired).toMatchObject({ repaired: ['ingressRoute'], remaining: [] });
    expect(fakeRule(a).actions.map((x) => [x.Type, x.TargetGroupArn])).toEqual([['authenticate-oidc', undefined], ['forward', a.ingress!.targetGroupArn]]);
    expect((await cloud.tenant('ri-a'))?.ingress).toEqual(a.ingress);
  });

  it("A's DNS record deleted: high ingress.dns_record, octw audit exits 7, the repair puts the alias back", async () => {
    const shard = cloud.ingress!.settings.shards.find((s) => s.id === a.ingress!.shardId)!;
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: LOCAL_INGRESS_ZONE_ID,
        ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: { Name: `${a.ingress!.hostname}.`, Type: 'A', AliasTarget: { HostedZoneId: shard.canonicalHostedZoneId, DNSName: `dualstack.${shard.dnsName}.`, EvaluateTargetHealth: false } } }] },
      }),
    );
    expect(failing(await audit('ri-a'))).toEqual(['ingress.dns_record']);

    const clients = Object.assign(Object.create(noAws) as CliClients, { reconcile: (payload: Record<string, unknown>) => reconcile(payload, lambdaContextFor('Reconcile', `ri-cli-${++n}`)) });
    const env = { OCTW_CELL: 'local', AWS_REGION: 'us-east-1' };
    const cli = await runCli(['audit', '--tenant', 'ri-a', '--json'], env, { clients });
    expect(cli.code).toBe(7);
    const answer = ReconcileAnswerSchema.parse(JSON.parse(cli.stdout));
    expect(answer.tenants[0]!.findings.filter((f) => f.status === 'fail').map((f) => [f.checkId, f.severity])).toEqual([['ingress.dns_record', 'high']]);

    const fixed = await runCli(['fleet', 'reconcile', '--tenant', 'ri-a', '--repair', '--json'], env, { clients });
    expect(fixed.code).toBe(0);
    expect(ReconcileAnswerSchema.parse(JSON.parse(fixed.stdout)).tenants[0]!.repaired).toEqual(['ingressRoute']);
    expect(failing(await audit('ri-a'))).toEqual([]);
  });

  it('the OIDC action removed: high ingress.oidc_enforced, reported only in report mode, repaired with the recorded provider', async () => {
    await elb.send(new ModifyRuleCommand({ RuleArn: a.ingress!.ruleArn, Actions: [{ Type: 'forward', Order: 1, TargetGroupArn: a.ingress!.targetGroupArn }] }));
    const report = (await invoke({ action: 'reconcile', tenantId: 'ri-a', repair: false })).tenants[0]!;
    expect(report.drift).toEqual(['ingress.oidc_enforced']);
    expect(finding(report, 'ingress.oidc_enforced')).toMatchObject({ severity: 'high', detail: expect.stringMatching(/the first action is forward, not authenticate-oidc/) });
    expect(fakeRule(a).actions.map((x) => x.Type)).toEqual(['forward']);

    const repaired = (await invoke({ action: 'reconcile', tenantId: 'ri-a', repair: true })).tenants[0]!;
    expect(repaired).toMatchObject({ repaired: ['ingressRoute'], remaining: [] });
    expect(fakeRule(a).actions[0]).toMatchObject({ Type: 'authenticate-oidc', AuthenticateOidcConfig: { Issuer: OIDC.issuer, ClientId: OIDC.clientId, ClientSecret: 'oidc-secret-value' } });
  });

  it("leaves a rule that no longer routes the tenant's host to an operator (never rewritten or recreated)", async () => {
    await elb.send(new ModifyRuleCommand({ RuleArn: b.ingress!.ruleArn, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['someone-else.local.octw.test'] } }] }));
    const report = await audit('ri-b');
    expect(failing(report)).toEqual(['ingress.rule_as_recorded']);
    expect(finding(report, 'ingress.rule_as_recorded').repair).toBeUndefined();
    const repaired = (await invoke({ action: 'reconcile', tenantId: 'ri-b', repair: true })).tenants[0]!;
    expect(repaired.remaining).toEqual(['ingress.rule_as_recorded']);
    expect(cloud.fake.ingress.elb.rules.size).toBe(2);
  });
});

describe('orphan sweep with ingress', () => {
  it("lists a target group and a listener rule of no live tenant, removes them after the grace period, and never a live tenant's", async () => {
    const tags = Object.entries(tenantTagMap({ cell: 'local', tenantId: 'ri-ghost' })).map(([Key, Value]) => ({ Key, Value }));
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'octw-ri-ghost-left', Protocol: 'HTTP', Port: 18789, VpcId: cloud.ingress!.settings.vpcId, TargetType: 'ip', Tags: tags }))).TargetGroups![0]!.TargetGroupArn!;
    const rule = (
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: cloud.ingress!.settings.shards[0]!.listenerArn,
          Priority: 49_999,
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['ri-ghost.local.octw.test'] } }],
          Actions: [{ Type: 'forward', TargetGroupArn: tg }],
          Tags: tags,
        }),
      )
    ).Rules![0]!.RuleArn!;
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
    const ledger = async () => (await doc.send(new QueryCommand({ TableName: cloud.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'ORPHANS#local' } }))).Items!;
    try {
      const first = (await reconcile({ action: 'sweepOrphans', runId: 'ri-sweep-1' }, lambdaContextFor('Reconcile', 'ri-sweep-1'))) as { orphans: number; removed: number };
      const listed = await ledger();
      expect(listed.map((i) => `${i.kind as string} ${i.id as string} ${i.reason as string}`).sort()).toEqual([`listener-rule ${rule} no tenant record`, `target-group ${tg} no tenant record`]);
      expect(first).toMatchObject({ orphans: 2, removed: 0 });

      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
      for (const item of listed) await doc.send(new UpdateCommand({ TableName: cloud.tableName, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: 'SET firstSeen = :t', ExpressionAttributeValues: { ':t': twoHoursAgo } }));
      const second = (await reconcile({ action: 'sweepOrphans', runId: 'ri-sweep-2' }, lambdaContextFor('Reconcile', 'ri-sweep-2'))) as { orphans: number; removed: number; errors: number };
      expect(second).toMatchObject({ orphans: 2, removed: 2, errors: 0 });
      expect(cloud.fake.ingress.elb.rules.has(rule)).toBe(false);
      expect(cloud.fake.ingress.elb.targetGroups.has(tg)).toBe(false);
      // The live tenants keep their routes.
      for (const t of [a, b]) {
        expect(cloud.fake.ingress.elb.rules.has(t.ingress!.ruleArn)).toBe(true);
        expect(cloud.fake.ingress.elb.targetGroups.has(t.ingress!.targetGroupArn)).toBe(true);
      }
    } finally {
      doc.destroy();
    }
  });
});
