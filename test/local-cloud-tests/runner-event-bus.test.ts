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

  it('consumes a burst as an event source mapping does: batches of at most batchSize, at most maxConcurrency invocations at once, every message once', async () => {
    let active = 0;
    let peak = 0;
    const batches: string[][] = [];
    bus.subscribe({ detailType: 'TenantSignedUp' }, async (event) => {
      active += 1;
      peak = Math.max(peak, active);
      batches.push((event as SQSEvent).Records.map((r) => (JSON.parse(r.body) as BusEvent).detail as { tenantId: string }).map((d) => d.tenantId));
      await new Promise((resolve) => setTimeout(resolve, 5));
      active -= 1;
    }, { batchSize: 10, maxConcurrency: 3 });
    const ids = Array.from({ length: 95 }, (_, i) => `t${i}`);
    for (let i = 0; i < ids.length; i += 5) bus.put(ids.slice(i, i + 5).map((id) => signup(id)));
    expect(bus.pending()).toBeGreaterThanOrEqual(95);
    await bus.drain();
    expect(peak).toBe(3);
    expect(Math.max(...batches.map((b) => b.length))).toBe(10);
    expect(batches.flat().sort()).toEqual([...ids].sort());
    expect(bus.pending()).toBe(0);
  });

  it('requeues only the records a batch reports failed, and all of a batch whose invocation throws', async () => {
    const seen: string[] = [];
    let invocations = 0;
    bus.subscribe({ detailType: 'TenantSignedUp' }, (event) => {
      invocations += 1;
      const records = (event as SQSEvent).Records;
      for (const r of records) seen.push(`${(JSON.parse(r.body) as { detail: { tenantId: string } }).detail.tenantId}#${r.attributes.ApproximateReceiveCount}`);
      if (invocations === 1) return Promise.resolve({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
      if (invocations === 2) return Promise.reject(new Error('boom'));
      return Promise.resolve({ batchItemFailures: [] });
    }, { batchSize: 3, maxConcurrency: 1 });
    bus.put([signup('a'), signup('b'), signup('c'), signup('d'), signup('e')]);
    await bus.drain();
    // 1st: a b c, b fails; 2nd: d e b(2), throws; 3rd: d e b again, each received once more.
    expect(seen).toEqual(['a#1', 'b#1', 'c#1', 'd#1', 'e#1', 'b#2', 'd#2', 'e#2', 'b#3']);
    expect(bus.deadLetters).toHaveLength(0);
  });

  it('refuses a batch size or concurrency that an event source mapping could not have', () => {
    expect(() => bus.subscribe({}, () => Promise.resolve(), { batchSize: 0 })).toThrow('batchSize must be a positive integer, got 0');
    expect(() => bus.subscribe({}, () => Promise.resolve(), { maxConcurrency: 0 })).toThrow('maxConcurrency must be at least 1, got 0');
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
