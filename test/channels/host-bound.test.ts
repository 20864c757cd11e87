/**
 * Issue 11 (plan egress bounds): a channel's hosts count against the plan's `maxHostRules`, as the
 * tenant's own host rules do. Through the real update workflow: a channel that would take the
 * effective rule count over the bound is refused with a clear error and nothing changes (record,
 * task definition, egress policy item, audit); one within the bound goes through.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { names, tenantTagMap } from '../../functions/domain/naming';
import { LOCAL_CELL, LOCAL_PLANS, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { causeMessage, provision, runWorkflow } from '../workflows/support';

jest.setTimeout(60_000);

const PLANS = [{ ...LOCAL_PLANS[0]!, egress: { ...LOCAL_PLANS[0]!.egress!, maxHostRules: 3 } }, ...LOCAL_PLANS.slice(1)];

let cloud: LocalCloud;
const sm = new SecretsManagerClient({ region: LOCAL_REGION });
beforeAll(async () => {
  cloud = await startLocalCloud({ env: { PLANS_JSON: JSON.stringify(PLANS) } });
});
afterAll(async () => {
  await cloud.stop();
});

async function credential(tenantId: string, name: string): Promise<string> {
  const tenant = { cell: LOCAL_CELL.cellId, tenantId };
  const Name = names.credentialSecret(tenant, name);
  await sm.send(new CreateSecretCommand({ Name, SecretString: `value-of-${name}`, Tags: Object.entries(tenantTagMap(tenant)).map(([Key, Value]) => ({ Key, Value })) }));
  return Name;
}

describe("channel hosts and the plan's maxHostRules", () => {
  const tenantId = 'host-bound';

  it('accepts channels within the bound (telegram 1 + slack 2 = 3 of 3)', async () => {
    await provision(cloud, tenantId, { plan: 'standard' });
    const telegram = await credential(tenantId, 'telegram-bot-token');
    const slackBot = await credential(tenantId, 'slack-bot-token');
    const slackApp = await credential(tenantId, 'slack-app-token');
    const done = await runWorkflow(cloud, 'UpdateTenant', {
      tenantId,
      channels: [
        { type: 'telegram', credentials: { botToken: telegram } },
        { type: 'slack', credentials: { botToken: slackBot, appToken: slackApp } },
      ],
    });
    expect(done.status).toBe('SUCCEEDED');
    expect((await cloud.tenant(tenantId))?.channels?.map((c) => c.type)).toEqual(['slack', 'telegram']);
  });

  it('refuses a channel that would go over the bound, with a clear error, leaving nothing changed', async () => {
    const before = (await cloud.tenant(tenantId))!;
    const auditBefore = await cloud.store.listAudit(tenantId, 50);
    const revisions = cloud.fake.ecs.families.get(`octw-local--${tenantId}`)?.length;
    const discord = await credential(tenantId, 'discord-token');
    const current = before.channels!.map((c) => ({ type: c.type, settings: c.settings, credentials: Object.fromEntries(Object.entries(c.credentials).map(([f, v]) => [f, v.secretArn])) }));
    const done = await runWorkflow(cloud, 'UpdateTenant', { tenantId, channels: [...current, { type: 'discord', credentials: { token: discord } }] });
    expect(done.status).toBe('FAILED');
    expect(causeMessage(done)).toMatch(/would need 7 host rules .*at most 3; new: .*discord\.com \(channel:discord\)/);
    const after = (await cloud.tenant(tenantId))!;
    expect(after.status).toBe('ACTIVE');
    expect(after.version).toBe(before.version);
    expect(after.channels).toEqual(before.channels);
    expect(after.configHash).toBe(before.configHash);
    expect(cloud.fake.ecs.families.get(`octw-local--${tenantId}`)?.length).toBe(revisions);
    expect((await cloud.store.listAudit(tenantId, 50)).length).toBe(auditBefore.length);
  });
});
