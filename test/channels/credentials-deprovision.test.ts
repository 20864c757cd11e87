/**
 * Contract 1 / issue 11: deprovision deletes the tenant's credential secrets (channel tokens, its own
 * provider keys, and anything else under `octw/tenants/<cell>/<id>/credentials/` tagged as its own),
 * scheduled for deletion with the same recovery window as the gateway token; a secret under that
 * prefix tagged for another tenant or cell is left alone and reported (attack test), and another
 * tenant's credentials are untouched.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { names, tenantTagMap } from '../../functions/domain/naming';
import { LOCAL_CELL, LOCAL_REGION } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision, runWorkflow } from '../workflows/support';

jest.setTimeout(60_000);

let cloud: LocalCloud;
const sm = new SecretsManagerClient({ region: LOCAL_REGION });
const cell = LOCAL_CELL.cellId;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Stores a secret under `owner`'s credential prefix with `tags` (the tenant's own unless told otherwise). */
async function credential(owner: string, name: string, tags: Record<string, string> = tenantTagMap({ cell, tenantId: owner })): Promise<string> {
  const Name = names.credentialSecret({ cell, tenantId: owner }, name);
  await sm.send(new CreateSecretCommand({ Name, SecretString: `value-of-${owner}-${name}`, Tags: tagList(tags) }));
  return Name;
}

describe('deprovision and the tenant\'s credential secrets', () => {
  it('schedules every credential of the tenant for deletion with the recovery window, leaves a foreign-tagged one and another tenant\'s alone, and reports the foreign one', async () => {
    const tenantId = 'cred-gone';
    const neighbour = 'cred-stays';
    await provision(cloud, tenantId);
    await provision(cloud, neighbour);
    const telegram = await credential(tenantId, 'telegram-bot-token');
    const unused = await credential(tenantId, 'stored-never-used');
    const neighbours = await credential(neighbour, 'telegram-bot-token');
    // The attack: a secret planted under this tenant's prefix, tagged as the neighbour's.
    const planted = await credential(tenantId, 'planted', tenantTagMap({ cell, tenantId: neighbour }));
    // And one tagged for another cell.
    const otherCell = await credential(tenantId, 'other-cell', tenantTagMap({ cell: 'elsewhere', tenantId }));
    const added = await runWorkflow(cloud, 'UpdateTenant', { tenantId, channels: [{ type: 'telegram', credentials: { botToken: telegram } }] });
    expect(added.status).toBe('SUCCEEDED');

    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId });
    expect(done.status).toBe('SUCCEEDED');
    expect((await cloud.tenant(tenantId))?.status).toBe('DEPROVISIONED');

    const gatewayToken = cloud.fake.secret(`octw/tenants/${cell}/${tenantId}/gateway-token`);
    expect(gatewayToken?.deletionDate).toBeDefined();
    for (const name of [telegram, unused]) {
      // Same recovery window as the gateway token: restorable until then.
      expect(Math.abs((cloud.fake.secret(name)?.deletionDate ?? 0) - gatewayToken!.deletionDate!)).toBeLessThan(5_000);
    }
    for (const name of [planted, otherCell, neighbours]) expect(cloud.fake.secret(name)?.deletionDate).toBeUndefined();

    const audit = await cloud.store.listAudit(tenantId, 20);
    const changes = audit.find((a) => a.transition === 'credentialsDeleted')?.changes ?? [];
    expect(changes.filter((c) => c.startsWith('credential scheduled for deletion: ')).sort()).toEqual([telegram, unused].map((n) => `credential scheduled for deletion: ${n}`).sort());
    const foreign = changes.filter((c) => c.startsWith('credential NOT deleted'));
    expect(foreign).toHaveLength(2);
    expect(foreign.find((c) => c.includes(planted))).toMatch(/octw:tenant/);
    expect(foreign.find((c) => c.includes(otherCell))).toMatch(/octw:cell/);
    // No value of any secret in the audit.
    expect(JSON.stringify(audit)).not.toMatch(/value-of-/);
    // Nothing in the trace deleted a foreign secret.
    const deletes = cloud.fake.calls.filter((c) => c.service === 'SecretsManager' && c.operation === 'DeleteSecret').map((c) => JSON.stringify(c.input));
    for (const name of [planted, otherCell, neighbours]) expect(deletes.some((d) => d.includes(name))).toBe(false);
  });

  it('changes nothing when the deletion step runs again after the deprovision ended', async () => {
    const tenantId = 'cred-twice';
    await provision(cloud, tenantId);
    const key = await credential(tenantId, 'openai-key');
    const { handler } = await import('../../functions/handlers/secrets');
    const { lambdaContextFor } = await import('../local-cloud/step-functions');
    const done = await runWorkflow(cloud, 'DeprovisionTenant', { tenantId }, `deprovision-${tenantId}-manual`);
    expect(done.status).toBe('SUCCEEDED');
    const firstDate = cloud.fake.secret(key)?.deletionDate;
    expect(firstDate).toBeDefined();
    // The step again, as a retry after a crash would run it (the record is DEPROVISIONED now: refused before any deletion).
    await expect(
      handler({ action: 'delete', tenantId, executionArn: done.executionArn, mode: 'deprovision' }, lambdaContextFor('Secrets', 'again')),
    ).rejects.toBeDefined();
    expect(cloud.fake.secret(key)?.deletionDate).toBe(firstDate);
  });
});
