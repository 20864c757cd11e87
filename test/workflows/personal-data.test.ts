/**
 * Issue 8, finding 10: the state machines log at level ALL with execution data (90-day logs), so a
 * provision run's input and history must not carry the signup's personal data. Intake keeps the
 * owner's email and display name in the tenant record and starts the run with what it needs only.
 */
import { provisionExecutionName } from '../../functions/usecases/intake';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { executionsOf, signupFor } from './support';

// Several whole workflows per step: allow for a loaded machine (jest's default is 5 s).
jest.setTimeout(60_000);

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
});
afterAll(async () => {
  await cloud.stop();
});

const PERSONAL = { displayName: 'Jane Q. Customer', ownerEmail: 'jane.customer@private-mail.example' };

describe('personal data stays out of the provision execution (finding 10)', () => {
  const tenantId = 'quiet-co';
  let history: string;
  let input: string;

  beforeAll(async () => {
    await cloud.signup(signupFor(tenantId, PERSONAL));
    await cloud.settle();
    const run = executionsOf(cloud, tenantId).find((e) => e.name === provisionExecutionName(tenantId, 1));
    expect(run?.status).toBe('SUCCEEDED');
    input = run!.input;
    history = JSON.stringify(cloud.sfn.history(run!.executionArn));
  });

  it('provisions the tenant, with the personal fields kept in its record', async () => {
    expect(await cloud.tenant(tenantId)).toMatchObject({ status: 'ACTIVE', ...PERSONAL });
  });

  it('starts the run with tenantId, generation, plan, allowlist and config hash only', async () => {
    const record = await cloud.tenant(tenantId);
    expect(JSON.parse(input)).toEqual({
      tenantId,
      generation: 1,
      plan: 'standard',
      egressAllowlist: record?.egressAllowlist,
      configHash: record?.configHash,
    });
  });

  it('has neither the owner email nor the display name anywhere in the execution input or history', () => {
    expect(history.length).toBeGreaterThan(1000);
    for (const text of [input, history]) {
      expect(text).not.toContain(PERSONAL.ownerEmail);
      expect(text).not.toContain('private-mail.example');
      expect(text).not.toContain(PERSONAL.displayName);
    }
  });

  it('announces lifecycle events without them either', () => {
    const events = JSON.stringify(cloud.bus.events.filter((e) => (e.detail as { tenantId?: string }).tenantId === tenantId && e['detail-type'] !== 'TenantSignedUp'));
    expect(events).not.toContain(PERSONAL.ownerEmail);
    expect(events).not.toContain(PERSONAL.displayName);
  });
});
