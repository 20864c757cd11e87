import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { createLocalEventBus, drainAll, type BusEvent, type LocalEventBus } from '../local-cloud/event-bus';
import { currentInvocation } from '../local-cloud/invocation-context';
import { createLocalStepFunctions } from '../local-cloud/step-functions';
import { createFixtureHandlers, RUNNER_FIXTURE } from './fixtures/handlers';

const signup = (tenantId: string, source = 'octw.tenants'): PutEventsRequestEntry => ({
  Source: source,
  DetailType: 'TenantSignedUp',
  Detail: JSON.stringify({ tenantId }),
  EventBusName: 'octw-local',
});
const bodies = (calls: unknown[]): BusEvent[] => calls.map((c) => JSON.parse((c as SQSEvent).Records[0]?.body ?? 'null') as BusEvent);

let bus: LocalEventBus;
const client = new EventBridgeClient({});
beforeEach(() => {
  bus = createLocalEventBus();
});
afterEach(async () => {
  await bus.stop();
});

describe('local event bus', () => {
  it('answers PutEvents with FailedEntryCount 0 and one EventId per entry, and records the events', async () => {
    const out = await client.send(new PutEventsCommand({ Entries: [signup('acme'), signup('beta')] }));
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries?.map((e) => e.EventId)).toEqual(bus.events.map((e) => e.id));
    expect(bus.events.map((e) => [e['detail-type'], e.detail])).toEqual([
      ['TenantSignedUp', { tenantId: 'acme' }],
      ['TenantSignedUp', { tenantId: 'beta' }],
    ]);
  });

  it('fails an entry whose Detail is not a JSON object with MalformedDetail', async () => {
    const out = await client.send(new PutEventsCommand({ Entries: [{ ...signup('acme'), Detail: '[1' }, signup('beta')] }));
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[0]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(bus.events).toHaveLength(1);
  });

  it('delivers matching events asynchronously as SQS records whose body is the event, and skips others', async () => {
    const calls: unknown[] = [];
    bus.subscribe({ source: 'octw.tenants', detailType: 'TenantSignedUp' }, (event) => {
      calls.push(event);
      return Promise.resolve({ batchItemFailures: [] });
    }, { handlerKey: 'Intake' });
    await client.send(new PutEventsCommand({ Entries: [signup('acme'), signup('evil', 'someone.else')] }));
    expect(calls).toHaveLength(0);
    await bus.drain();
    expect(bodies(calls).map((b) => b.detail)).toEqual([{ tenantId: 'acme' }]);
    expect((calls[0] as SQSEvent).Records[0]).toMatchObject({ eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: '1' } });
  });

  it('delivers each message twice with the same messageId when duplicateDelivery is on', async () => {
    const calls: unknown[] = [];
    bus.subscribe({ detailType: 'TenantSignedUp' }, (event) => Promise.resolve(void calls.push(event)), { duplicateDelivery: true });
    bus.put([signup('acme')]);
    await bus.drain();
    const ids = calls.map((c) => (c as SQSEvent).Records[0]?.messageId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  it('redelivers when the target throws, crashes or reports the record failed, and dead-letters after maxReceiveCount', async () => {
    const receives: string[] = [];
    let n = 0;
    bus.subscribe({ detailType: 'TenantSignedUp' }, (event) => {
      const record = (event as SQSEvent).Records[0];
      receives.push(record?.attributes.ApproximateReceiveCount ?? '');
      n += 1;
      if (n === 1) return Promise.reject(new Error('boom'));
      if (n === 2) {
        const inv = currentInvocation();
        if (inv !== undefined) inv.crashed = { service: 'SFN', operation: 'StartExecution' };
        return Promise.resolve({});
      }
      return Promise.resolve({ batchItemFailures: [{ itemIdentifier: record?.messageId ?? '' }] });
    }, { handlerKey: 'Intake', maxReceiveCount: 3 });
    bus.put([signup('acme')]);
    await bus.drain();
    expect(receives).toEqual(['1', '2', '3']);
    expect(bus.deadLetters).toHaveLength(1);
    expect(bus.deadLetters[0]).toMatchObject({ handlerKey: 'Intake', receiveCount: 3, lastError: 'reported in batchItemFailures' });
  });

  it('captures through a source such as the AWS fake instead of patching the client when attached', async () => {
    await bus.stop();
    const listeners = new Set<(e: PutEventsRequestEntry[]) => void>();
    bus = createLocalEventBus({ attachTo: { onPutEvents: (l) => (listeners.add(l), () => listeners.delete(l)) } });
    for (const l of listeners) l([signup('acme')]);
    expect(bus.events.map((e) => e.detail)).toEqual([{ tenantId: 'acme' }]);
    await expect(client.send(new PutEventsCommand({ Entries: [signup('beta')] }))).rejects.toThrow();
  });

  it('lets a subscriber start a workflow through SFNClient and drainAll waits for both', async () => {
    const fixture = createFixtureHandlers();
    const sfn = createLocalStepFunctions({
      stateMachines: RUNNER_FIXTURE,
      handlers: fixture.handlers,
      substitutions: { CellTag: 'c' },
      definitionsDir: join(__dirname, 'fixtures', 'state-machines'),
    });
    const sfnClient = new SFNClient({});
    bus.subscribe({ detailType: 'TenantSignedUp' }, async (event) => {
      const body = JSON.parse((event as SQSEvent).Records[0]?.body ?? '{}') as BusEvent;
      const { tenantId } = body.detail as { tenantId: string };
      await sfnClient.send(
        new StartExecutionCommand({
          stateMachineArn: sfn.stateMachineArns.RunnerFixture,
          name: `provision-${tenantId}`,
          input: JSON.stringify({ key: tenantId, failTimes: 0, mode: 'throttled' }),
        }),
      );
      return {};
    }, { duplicateDelivery: true });
    bus.put([signup('acme')]);
    await drainAll(bus, sfn);
    const runs = sfn.list();
    expect(runs.map((r) => [r.name, r.status])).toEqual([['provision-acme', 'SUCCEEDED']]);
    expect(bus.deadLetters).toHaveLength(0);
    await sfn.stop();
  });
});
