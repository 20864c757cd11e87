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
  cloud.fake.calls.slice(from).filter((c) => !/^(Describe|Get|List)/.test(c.operation)).map((c) => `${c.service} ${c.operation}`);

beforeAll(async () => {
  cloud = await startLocalCloud({ env: { RECONCILE_SETTINGS_JSON: JSON.stringify({ mode: 'repair', orphanGraceHours: 1, pageSize: 2 }) } });
  reconcile = (await import('../../functions/handlers/reconcile')).handler;
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
});
afterAll(async () => {
  doc?.destroy();
  await cloud.stop();
});

describe('isolation audit on a clean tenant', () => {
  it('passes every check (the egress policy included: the local cell has a proxy)', async () => {
    const t = (await provision(cloud, 'rc-clean'))!;
    expect(t.status).toBe('ACTIVE');
    const report = await audit('rc-clean');
    expect(report.findings.map((f) => f.checkId)).toEqual(CHECK_IDS);
    expect(report.findings.filter((f) => f.status !== 'pass')).toEqual([]);
    expect(report.drift).toEqual([]);
  });
});
