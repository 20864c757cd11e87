/**
 * Models (issue 11, item 3) through the real workflows: platform-paid Bedrock through one
 * application inference profile per tenant and plan model, the task role scoped to those
 * profiles; tenant-paid providers with the tenant's own key, by reference only; no platform key
 * in any tenant container.
 */
import { createHash } from 'node:crypto';
import type { PolicyDocument } from '../../functions/adapters/task-roles';
import { modelProviderKeyEnv } from '../../functions/domain/models';
import { effectiveHostRules } from '../../functions/domain/tenant-egress';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Plan } from '../../functions/domain/tenant';
import { LOCAL_CELL, LOCAL_PLANS } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision, runWorkflow } from './support';

/** The offline plan with its bring-your-own-key provider at another endpoint (a plan whose provider moved). */
const OFFLINE = LOCAL_PLANS.find((p) => p.id === 'offline')!;
const MOVED_ENDPOINT = { host: '127.0.0.2', port: 18792 };
const OFFLINE_MOVED: Plan = {
  ...OFFLINE,
  id: 'offline-moved',
  modelProviders: OFFLINE.modelProviders.map((p) => (p.id === 'byok' ? { ...p, baseUrl: `http://${MOVED_ENDPOINT.host}:${MOVED_ENDPOINT.port}/v1` } : p)),
};

let cloud: LocalCloud;
let doc: DynamoDBDocumentClient;
beforeAll(async () => {
  cloud = await startLocalCloud({ cell: { ...LOCAL_CELL, plans: [...LOCAL_PLANS, OFFLINE_MOVED] } });
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }));
});
afterAll(async () => {
  doc.destroy();
  await cloud.stop();
});

/** The host rules the egress proxy enforces for the tenant (its item in the cell's policy table). */
const policyRules = async (tenantId: string) =>
  ((await doc.send(new GetCommand({ TableName: cloud.egressPolicyTableName, Key: { tenantId }, ConsistentRead: true }))).Item?.rules ?? []) as { host: string; ports: number[] }[];

const CELL = LOCAL_CELL.cellId;
const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';

const profilesOf = (tenantId: string) => [...cloud.fake.bedrock.profiles.values()].filter((p) => p.tags.get('octw:tenant') === tenantId);
const policyOf = (tenantId: string) => JSON.parse(cloud.fake.role(`octw-${CELL}--${tenantId}`)!.policies.get(`octw-${CELL}--${tenantId}`)!) as PolicyDocument;
function taskDefinitionOf(record: { resources: { taskDefinitionArn?: string | undefined } }) {
  const m = /:task-definition\/([^:]+):(\d+)$/.exec(record.resources.taskDefinitionArn ?? '')!;
  return cloud.fake.taskDefinition(m[1]!, Number(m[2]))!.input;
}
const gatewayOf = (record: Parameters<typeof taskDefinitionOf>[0]) => taskDefinitionOf(record).containerDefinitions!.find((c) => c.name === 'gateway')!;
const configOf = (record: Parameters<typeof taskDefinitionOf>[0]) =>
  JSON.parse(taskDefinitionOf(record).containerDefinitions!.find((c) => c.name === 'config-init')!.environment!.find((e) => e.name === 'OPENCLAW_CONFIG_JSON')!.value!) as {
    models: { providers: Record<string, { models: { id: string; name: string }[]; apiKey?: unknown }> };
    agents: { defaults: { model: { primary: string } } };
  };

/** Stores a tenant credential as the CLI does: under the tenant's prefix, tagged for it. */
function storeCredential(tenantId: string, name: string, value: string, tags: Record<string, string> = { 'octw:tenant': tenantId, 'octw:cell': CELL, 'octw:managed-by': 'octw' }) {
  const out = cloud.fake.secrets.operations.CreateSecret({
    Name: `octw/tenants/${CELL}/${tenantId}/credentials/${name}`,
    SecretString: value,
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  }) as { ARN: string };
  return out.ARN;
}

describe('platform-paid Bedrock: one application inference profile per tenant and plan model', () => {
  it('creates a tagged profile copied from the plan model, scopes the role to it, and renders it as the model', async () => {
    const record = (await provision(cloud, 'bedrock-one', { plan: 'standard' }))!;
    expect(record.status).toBe('ACTIVE');
    const [profile, ...more] = profilesOf('bedrock-one');
    expect(more).toEqual([]);
    expect(profile).toMatchObject({ copyFrom: `arn:aws:bedrock:${cloud.fake.config.region}::foundation-model/${SONNET}` });
    expect(Object.fromEntries(profile!.tags)).toMatchObject({ 'octw:tenant': 'bedrock-one', 'octw:cell': CELL });
    expect(record.resources.inferenceProfiles).toEqual({ [SONNET]: profile!.arn });

    const bedrock = policyOf('bedrock-one').Statement.filter((s) => JSON.stringify(s.Action).includes('bedrock:'));
    expect(bedrock.map((s) => s.Sid)).toEqual(['OwnInferenceProfilesOnly', 'PlanModelsThroughOwnProfilesOnly']);
    expect(bedrock[0]!.Resource).toEqual([profile!.arn]);
    expect(bedrock[1]!.Condition).toEqual({ StringEquals: { 'bedrock:InferenceProfileArn': [profile!.arn] } });

    const config = configOf(record);
    expect(config.models.providers['amazon-bedrock']!.models).toEqual([{ id: profile!.arn, name: SONNET }]);
    expect(config.agents.defaults.model.primary).toBe(`amazon-bedrock/${profile!.arn}`);
  });

  it("follows the plan's models on update (a profile per added model, the dropped one deleted) and removes them all on deprovision", async () => {
    await provision(cloud, 'bedrock-moves', { plan: 'standard' });
    const first = profilesOf('bedrock-moves')[0]!.arn;
    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'bedrock-moves', plan: 'pro' })).status).toBe('SUCCEEDED');
    expect(profilesOf('bedrock-moves').map((p) => p.copyFrom.split('/').pop()).sort()).toEqual([HAIKU, SONNET].sort());
    expect(profilesOf('bedrock-moves').map((p) => p.arn)).toContain(first);
    expect(JSON.stringify(policyOf('bedrock-moves'))).toContain(HAIKU);

    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId: 'bedrock-moves', plan: 'standard' })).status).toBe('SUCCEEDED');
    expect(profilesOf('bedrock-moves').map((p) => p.arn)).toEqual([first]);
    expect(JSON.stringify(policyOf('bedrock-moves'))).not.toContain(HAIKU);

    expect((await runWorkflow(cloud, 'DeprovisionTenant', { tenantId: 'bedrock-moves' })).status).toBe('SUCCEEDED');
    expect(profilesOf('bedrock-moves')).toEqual([]);
  });

  it("adopts nothing of another tenant: a profile under the tenant's name tagged for someone else fails the provisioning and stays", async () => {
    const { inferenceProfileName } = await import('../../functions/domain/models');
    const name = inferenceProfileName({ cell: CELL, tenantId: 'bedrock-squat' }, SONNET);
    cloud.fake.bedrock.operations.CreateInferenceProfile({
      inferenceProfileName: name,
      modelSource: { copyFrom: `arn:aws:bedrock:${cloud.fake.config.region}::foundation-model/${SONNET}` },
      tags: [{ key: 'octw:tenant', value: 'someone-else' }, { key: 'octw:cell', value: CELL }],
    });
    const record = await provision(cloud, 'bedrock-squat', { plan: 'standard' });
    expect(record?.status).toBe('FAILED');
    expect(record?.lastError?.name).toBe('ForeignResourceError');
    expect([...cloud.fake.bedrock.profiles.values()].filter((p) => p.name === name).map((p) => p.tags.get('octw:tenant'))).toEqual(['someone-else']);
    expect(cloud.fake.role(`octw-${CELL}--bedrock-squat`)).toBeUndefined();
  });
});

describe("tenant-paid providers: the tenant's own key, by reference", () => {
  const MARKER = 'sk-octw-marker-7f3e1c9a0b2d4e6f';

  it('injects a verified tenant credential as OCTW_MODEL_<PROVIDER>_API_KEY, referenced by SecretRef, its host in the egress policy, and never its value', async () => {
    const tenantId = 'byok-tenant';
    await provision(cloud, tenantId, { plan: 'offline' });
    const arn = storeCredential(tenantId, 'byok-key', MARKER);
    const from = cloud.fake.calls.length;
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, modelKeys: [{ provider: 'byok', credential: 'byok-key' }] });
    expect(done.status).toBe('SUCCEEDED');
    const record = (await cloud.tenant(tenantId))!;
    expect(record.modelKeys).toEqual([{ provider: 'byok', secretArn: arn, endpoint: { host: '127.0.0.1', port: 18791 } }]);
    const gateway = gatewayOf(record);
    expect(gateway.secrets).toContainEqual({ name: modelProviderKeyEnv('byok'), valueFrom: arn });
    expect(gateway.environment!.map((e) => e.name)).not.toContain(modelProviderKeyEnv('byok'));
    const config = configOf(record);
    expect(config.models.providers.byok!.apiKey).toEqual({ source: 'env', provider: 'default', id: 'OCTW_MODEL_BYOK_API_KEY' });
    expect(config.agents.defaults.model.primary).toBe('byok/octw-stub-1');
    expect(effectiveHostRules(record)).toContainEqual({ host: '127.0.0.1', ports: [18791], origin: ['model:byok'] });

    // The value appears nowhere the platform writes: trace, record, task definition, events, execution output.
    const seen = JSON.stringify([cloud.fake.calls.slice(from), record, taskDefinitionOf(record), cloud.fake.events, done]);
    expect(seen).not.toContain(MARKER);
    expect(seen).not.toContain(createHash('sha256').update(MARKER).digest('hex'));

    // Removing the key removes the secret from the task and the SecretRef from the config.
    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId, modelKeys: [] })).status).toBe('SUCCEEDED');
    const after = (await cloud.tenant(tenantId))!;
    const secretNames = gatewayOf(after).secrets!.map((s) => s.name);
    expect(secretNames).toContain('OPENCLAW_GATEWAY_TOKEN');
    expect(secretNames.filter((n) => n?.startsWith('OCTW_MODEL_'))).toEqual([]);
    expect(configOf(after).models.providers.byok).not.toHaveProperty('apiKey');
    expect(configOf(after).agents.defaults.model.primary).toBe('stub/octw-stub-1');
    expect(effectiveHostRules(after).filter((r) => r.origin.includes('model:byok'))).toEqual([]);
  });

  it("follows the provider's endpoint when the plan moves it: the new host in the egress policy and the config, the old one gone", async () => {
    const tenantId = 'byok-moved';
    await provision(cloud, tenantId, { plan: 'offline' });
    const arn = storeCredential(tenantId, 'byok-key', MARKER);
    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId, modelKeys: [{ provider: 'byok', credential: 'byok-key' }] })).status).toBe('SUCCEEDED');
    expect((await policyRules(tenantId)).map((r) => `${r.host}:${r.ports.join(',')}`)).toContain('127.0.0.1:18791');

    // A plan change that does not name the keys: the key stays, its endpoint is the new plan's.
    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'offline-moved' })).status).toBe('SUCCEEDED');
    const record = (await cloud.tenant(tenantId))!;
    expect(record.modelKeys).toEqual([{ provider: 'byok', secretArn: arn, endpoint: MOVED_ENDPOINT }]);
    const rules = (await policyRules(tenantId)).map((r) => `${r.host}:${r.ports.join(',')}`);
    expect(rules).toContain(`${MOVED_ENDPOINT.host}:${MOVED_ENDPOINT.port}`);
    expect(rules).not.toContain('127.0.0.1:18791');
    expect(JSON.stringify(configOf(record).models.providers.byok)).toContain(`http://${MOVED_ENDPOINT.host}:${MOVED_ENDPOINT.port}/v1`);
    expect(gatewayOf(record).secrets).toContainEqual({ name: modelProviderKeyEnv('byok'), valueFrom: arn });

    // And back: the old endpoint again, the moved one gone.
    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId, plan: 'offline' })).status).toBe('SUCCEEDED');
    const back = (await policyRules(tenantId)).map((r) => `${r.host}:${r.ports.join(',')}`);
    expect(back).toContain('127.0.0.1:18791');
    expect(back).not.toContain(`${MOVED_ENDPOINT.host}:${MOVED_ENDPOINT.port}`);
  });

  it('rotates a key: the update carries only its next generation, a new revision rolls out, audited; a failed rotation restores the counter; the new value is nowhere', async () => {
    const tenantId = 'byok-rotate';
    const ROTATED = 'sk-octw-rotated-2b8d0c6e4f1a3957';
    await provision(cloud, tenantId, { plan: 'offline' });
    const arn = storeCredential(tenantId, 'byok-key', MARKER);
    expect((await runWorkflow(cloud, 'UpdateTenant', { tenantId, modelKeys: [{ provider: 'byok', credential: 'byok-key' }] })).status).toBe('SUCCEEDED');
    const before = (await cloud.tenant(tenantId))!;
    const service = () => [...cloud.fake.ecs.services.values()].find((v) => v.serviceName.includes(tenantId) && v.deletedAt === undefined)!;
    expect(service().taskDefinitionArn).toBe(before.resources.taskDefinitionArn);

    // The new value goes into the same secret (as `octw tenants models --rotate` puts it), then the update names the counter only.
    const from = cloud.fake.calls.length;
    cloud.fake.secrets.operations.PutSecretValue({ SecretId: arn, SecretString: ROTATED });
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, credentialGenerations: { 'modelKeys.byok': 1 } });
    expect(done.status).toBe('SUCCEEDED');
    const after = (await cloud.tenant(tenantId))!;
    expect(after.modelKeys).toEqual([{ ...before.modelKeys![0]!, generation: 1 }]);
    expect(after.configHash).not.toBe(before.configHash);
    // A new task revision, rolled out: its tasks get the secret's current value from ECS.
    expect(after.resources.taskDefinitionArn).not.toBe(before.resources.taskDefinitionArn);
    expect(service().taskDefinitionArn).toBe(after.resources.taskDefinitionArn);
    expect(gatewayOf(after).secrets).toContainEqual({ name: modelProviderKeyEnv('byok'), valueFrom: arn });
    const audit = await cloud.store.listAudit(tenantId, 20);
    expect(audit.map((a) => a.changes ?? []).flat()).toContain('credentials: rotated modelKeys.byok (generation 1)');

    // The same generation again, or one for a credential the tenant does not have: refused, nothing changes.
    for (const credentialGenerations of [{ 'modelKeys.byok': 1 }, { 'modelKeys.stub': 1 }, { 'channels.telegram.botToken': 1 }]) {
      expect({ credentialGenerations, status: (await runWorkflow(cloud, 'UpdateTenant', { tenantId, credentialGenerations })).status }).toEqual({ credentialGenerations, status: 'FAILED' });
    }
    expect((await cloud.tenant(tenantId))!.configHash).toBe(after.configHash);

    // A rotation whose revision fails its health check: the previous counter and revision are restored.
    const next = Number(/:(\d+)$/.exec(after.resources.taskDefinitionArn!)![1]) + 1;
    cloud.fake.ecs.failHealthFor(`octw-${CELL}--${tenantId}:${next}`);
    const failed = await runWorkflow(cloud, 'UpdateTenant', { tenantId, credentialGenerations: { 'modelKeys.byok': 2 } });
    expect(failed.error).toBe('UpdateFailed');
    const restored = (await cloud.tenant(tenantId))!;
    expect(restored).toMatchObject({ status: 'ACTIVE', configHash: after.configHash, modelKeys: after.modelKeys });
    expect(restored.resources.taskDefinitionArn).toBe(after.resources.taskDefinitionArn);

    // Neither value in what the platform wrote (trace, records, task definitions, events, executions); only the counter is in the definition.
    expect(gatewayOf(after).environment).toContainEqual({ name: 'OCTW_CREDENTIAL_GENERATIONS', value: 'modelKeys.byok=1' });
    const seen = JSON.stringify([cloud.fake.calls.slice(from), restored, taskDefinitionOf(restored), cloud.fake.events, done, failed, audit]);
    for (const value of [MARKER, ROTATED]) expect(seen).not.toContain(value);
  });

  it("refuses another tenant's credential, a credential outside the tenant's prefix, and a provider that takes no key; nothing changes", async () => {
    const tenantId = 'byok-thief';
    const before = (await provision(cloud, tenantId, { plan: 'offline' }))!;
    const victim = storeCredential('byok-victim', 'byok-key', MARKER, { 'octw:tenant': 'byok-victim', 'octw:cell': CELL, 'octw:managed-by': 'octw' });
    // Under the thief's own name, but tagged for the victim.
    storeCredential(tenantId, 'retagged', MARKER, { 'octw:tenant': 'byok-victim', 'octw:cell': CELL, 'octw:managed-by': 'octw' });
    for (const [credential, provider] of [
      [victim, 'byok'],
      ['retagged', 'byok'],
      [`octw/tenants/${CELL}/${tenantId}/gateway-token`, 'byok'],
      ['missing-key', 'byok'],
    ] as const) {
      const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, modelKeys: [{ provider, credential }] });
      expect({ credential, status: done.status }).toEqual({ credential, status: 'FAILED' });
    }
    storeCredential(tenantId, 'stub-key', MARKER);
    const noKey = await runWorkflow(cloud, 'UpdateTenant', { tenantId, modelKeys: [{ provider: 'stub', credential: 'stub-key' }] });
    expect(noKey.status).toBe('FAILED');
    const after = (await cloud.tenant(tenantId))!;
    expect(after).toMatchObject({ status: 'ACTIVE', configHash: before.configHash });
    expect(after.modelKeys ?? []).toEqual([]);
    expect(after.resources.taskDefinitionArn).toBe(before.resources.taskDefinitionArn);
  });

  it('never places a platform key in a tenant container: every secret a tenant task receives is under its own prefix', async () => {
    const tenants = ['bedrock-one', 'byok-tenant', 'byok-thief'];
    for (const tenantId of tenants) {
      const record = (await cloud.tenant(tenantId))!;
      for (const c of taskDefinitionOf(record).containerDefinitions!) {
        for (const s of c.secrets ?? []) {
          expect({ tenantId, valueFrom: s.valueFrom }).toEqual({ tenantId, valueFrom: expect.stringContaining(`:secret:octw/tenants/${CELL}/${tenantId}/`) });
        }
      }
    }
  });
});
