/**
 * A local EventBridge bus: captures PutEvents and delivers matching events to in-process targets,
 * mimicking rule → SQS queue → Lambda (event source mapping): asynchronous, at least once, with
 * redelivery when the target throws, crashes or reports the record in `batchItemFailures`, and a
 * dead-letter list after `maxReceiveCount` receives. `duplicateDelivery` delivers every message
 * twice (same messageId, as an SQS duplicate), to prove the target is idempotent.
 *
 * An SQS-shaped subscription is consumed as an event source mapping consumes a queue: up to
 * `batchSize` records per invocation and at most `maxConcurrency` invocations at once (the CDK
 * stack's values for the signup queue, infra/signup-intake.ts); messages beyond that wait in the
 * queue, in order, and a failed message goes back to the end of it. An EventBridge-shaped
 * subscription (a rule invoking a function asynchronously) gets one event per invocation, with no
 * concurrency bound unless one is given.
 *
 * Capture, two modes (only one thing may own EventBridgeClient.send):
 * - with the AWS fake (test/local-cloud/fake-aws), which already routes EventBridgeClient through
 *   its pipeline (throttling, faults, trace): `createLocalEventBus({ attachTo: fake })` subscribes to
 *   `fake.onPutEvents` and patches nothing;
 * - alone: `createLocalEventBus()` patches EventBridgeClient.prototype.send for PutEvents
 *   (FailedEntryCount 0 and an EventId per entry; MalformedDetail per bad entry); `stop()` restores it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventBridgeClient, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './env';
import { runInvocation, type InvocationContext } from './invocation-context';
import { lambdaContextFor, type LocalHandler } from './step-functions';

/** The EventBridge event as a rule target (and the SQS message body) receives it. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
  /** Not part of the AWS shape: the bus the entry was put on. */
  readonly eventBusName: string;
}

export interface EventPattern {
  readonly source?: string | readonly string[];
  readonly detailType?: string | readonly string[];
  readonly eventBusName?: string;
}

export interface SubscribeOptions {
  /** Handler key for the invocation context and the Lambda context (e.g. "Intake"). Default "Subscriber". */
  readonly handlerKey?: string;
  /** "sqs" (default): the target gets an SQSEvent whose record body is the event JSON; "eventbridge": the event itself. */
  readonly shape?: 'sqs' | 'eventbridge';
  /** Deliver every message twice. Default false. */
  readonly duplicateDelivery?: boolean;
  /** Receives before the message goes to `deadLetters`. Default 3. */
  readonly maxReceiveCount?: number;
  /** "sqs" shape only: records per invocation, at most (the event source mapping's BatchSize). Default 1. */
  readonly batchSize?: number;
  /** Invocations running at once, at most (the event source mapping's ScalingConfig.MaximumConcurrency). Default unbounded. */
  readonly maxConcurrency?: number;
}

export interface DeadLetter {
  readonly event: BusEvent;
  readonly handlerKey: string;
  readonly receiveCount: number;
  readonly lastError: string;
}

export interface LocalEventBus {
  /** Every event put on any bus, in order. */
  readonly events: readonly BusEvent[];
  /** Messages that exhausted their receives. */
  readonly deadLetters: readonly DeadLetter[];
  /** Routes matching events to `target`; returns an unsubscribe function. */
  subscribe(pattern: EventPattern, target: LocalHandler, options?: SubscribeOptions): () => void;
  /** Puts entries directly (as PutEvents would); returns the event ids. */
  put(entries: readonly PutEventsRequestEntry[]): string[];
  /** Deliveries queued or running. */
  pending(): number;
  /** Waits until no delivery is queued or running (including redeliveries). */
  drain(): Promise<void>;
  /** Stops delivering, waits for running deliveries, uninstalls the client patch (alone mode). */
  stop(): Promise<void>;
}

export interface PutEventsSource {
  onPutEvents(listener: (entries: PutEventsRequestEntry[]) => void): () => void;
}

export interface LocalEventBusOptions {
  /** Capture through the AWS fake instead of patching EventBridgeClient. */
  readonly attachTo?: PutEventsSource;
  /** With `attachTo`: capture only entries put on this bus (two cells sharing one fake each have their own). */
  readonly eventBusName?: string;
}

const DetailSchema = z.string().transform((raw, ctx) => {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // fall through
  }
  ctx.addIssue({ code: 'custom', message: 'Detail is malformed.' });
  return z.NEVER;
});

const matches = (value: string, expected: string | readonly string[] | undefined): boolean =>
  expected === undefined || (typeof expected === 'string' ? value === expected : expected.includes(value));

interface Subscription {
  readonly pattern: EventPattern;
  readonly target: LocalHandler;
  readonly options: Required<SubscribeOptions>;
  /** Messages waiting for a free invocation slot, in order. */
  readonly queue: Message[];
  /** Invocations running now. */
  active: number;
  /** A poll is scheduled (asynchronous as in AWS: never inside the PutEvents call). */
  pumping: boolean;
}

interface Message {
  readonly event: BusEvent;
  readonly messageId: string;
  readonly receiveCount: number;
}

export function createLocalEventBus(options: LocalEventBusOptions = {}): LocalEventBus {
  const events: BusEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const subscriptions = new Set<Subscription>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  const sqsRecord = (sub: Subscription, m: Message): SQSRecord => {
    const body = JSON.stringify(m.event);
    return {
      messageId: m.messageId,
      receiptHandle: `${m.messageId}#${m.receiveCount}`,
      body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(Date.parse(m.event.time)),
        SenderId: 'AIDAEVENTBRIDGE',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:octw-${sub.options.handlerKey.toLowerCase()}`,
      awsRegion: LOCAL_REGION,
    };
  };

  /** One invocation of the target with `batch`; what failed goes back to the queue or to the dead letters. */
  const deliver = async (sub: Subscription, batch: readonly Message[]): Promise<void> => {
    if (stopped) return;
    const invocationId = randomUUID();
    const ctx: InvocationContext = { invocationId, handler: sub.options.handlerKey };
    const payload: SQSEvent | BusEvent = sub.options.shape === 'sqs' ? { Records: batch.map((m) => sqsRecord(sub, m)) } : batch[0]!.event;
    let failed: ReadonlySet<string> = new Set();
    let failure = '';
    try {
      const result = await runInvocation(ctx, () => sub.target(JSON.parse(JSON.stringify(payload)), lambdaContextFor(sub.options.handlerKey, invocationId)));
      const partial = z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.string() })) }).safeParse(result);
      if (partial.success) {
        failed = new Set(partial.data.batchItemFailures.map((f) => f.itemIdentifier));
        failure = 'reported in batchItemFailures';
      }
    } catch (err) {
      failed = new Set(batch.map((m) => m.messageId));
      failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (ctx.crashed !== undefined) {
      failed = new Set(batch.map((m) => m.messageId));
      failure = `Lambda.Unknown (crashed after ${ctx.crashed.service}.${ctx.crashed.operation})`;
    }
    for (const m of batch) {
      if (!failed.has(m.messageId)) continue;
      if (m.receiveCount >= sub.options.maxReceiveCount) {
        deadLetters.push({ event: m.event, handlerKey: sub.options.handlerKey, receiveCount: m.receiveCount, lastError: failure });
      } else {
        enqueue(sub, { ...m, receiveCount: m.receiveCount + 1 });
      }
    }
  };

  /**
   * On the next turn (as a poller would find them: every message put in one PutEvents call is there),
   * starts invocations while the subscription has queued messages and a free slot.
   */
  const pump = (sub: Subscription): void => {
    if (sub.pumping) return;
    sub.pumping = true;
    const poll = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        sub.pumping = false;
        while (sub.queue.length > 0 && sub.active < sub.options.maxConcurrency) {
          const batch = sub.queue.splice(0, sub.options.shape === 'sqs' ? sub.options.batchSize : 1);
          sub.active += 1;
          const invocation = deliver(sub, batch).finally(() => {
            sub.active -= 1;
            running.delete(invocation);
            pump(sub);
          });
          running.add(invocation);
        }
      })
      .finally(() => running.delete(poll));
    running.add(poll);
  };

  const enqueue = (sub: Subscription, m: Message): void => {
    sub.queue.push(m);
    pump(sub);
  };

  const put = (entries: readonly PutEventsRequestEntry[]): PutEventsResultEntry[] =>
    entries.map((entry) => {
      const detail = DetailSchema.safeParse(entry.Detail ?? '');
      if (entry.Source === undefined || entry.DetailType === undefined) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter(s) Source, DetailType must be specified.' };
      }
      if (!detail.success) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: LOCAL_ACCOUNT,
        time: (entry.Time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: LOCAL_REGION,
        resources: entry.Resources ?? [],
        detail: detail.data,
        eventBusName: entry.EventBusName ?? 'default',
      };
      events.push(event);
      if (!stopped) {
        for (const sub of subscriptions) {
          const p = sub.pattern;
          if (!matches(event.source, p.source) || !matches(event['detail-type'], p.detailType) || !matches(event.eventBusName, p.eventBusName)) continue;
          const message: Message = { event, messageId: randomUUID(), receiveCount: 1 };
          enqueue(sub, message);
          if (sub.options.duplicateDelivery) enqueue(sub, message);
        }
      }
      return { EventId: event.id };
    });

  let uninstall: () => void = () => undefined;
  if (options.attachTo !== undefined) {
    const only = options.eventBusName;
    uninstall = options.attachTo.onPutEvents((entries) => void put(only === undefined ? entries : entries.filter((e) => (e.EventBusName ?? 'default') === only)));
  } else {
    const proto = EventBridgeClient.prototype as { send?: unknown };
    const own = Object.getOwnPropertyDescriptor(proto, 'send');
    if (own !== undefined) {
      throw new Error('EventBridgeClient.send is already patched (the AWS fake?): use createLocalEventBus({ attachTo: fake })');
    }
    Object.defineProperty(proto, 'send', {
      configurable: true,
      writable: true,
      value(command: { input?: unknown; constructor: { name: string } }): Promise<unknown> {
        if (command.constructor.name !== 'PutEventsCommand') {
          return Promise.reject(new Error(`local event bus: ${command.constructor.name} is not emulated`));
        }
        const input = z.object({ Entries: z.array(z.custom<PutEventsRequestEntry>((v) => v !== null && typeof v === 'object')).min(1).max(10) }).safeParse(command.input);
        if (!input.success) {
          const err = new Error('1 validation error detected: Value at \'entries\' failed to satisfy constraint: Member must have length between 1 and 10');
          err.name = 'ValidationException';
          return Promise.reject(err);
        }
        const results = put(input.data.Entries);
        return Promise.resolve({ FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results, $metadata: {} });
      },
    });
    uninstall = () => {
      delete proto.send;
    };
  }

  const queued = (): number => [...subscriptions].reduce((n, sub) => n + sub.queue.length, 0);
  const drain = async (): Promise<void> => {
    while (running.size > 0) await Promise.all([...running]);
  };

  return {
    events,
    deadLetters,
    subscribe: (pattern, target, opts = {}) => {
      const sub: Subscription = {
        pattern,
        target,
        options: {
          handlerKey: opts.handlerKey ?? 'Subscriber',
          shape: opts.shape ?? 'sqs',
          duplicateDelivery: opts.duplicateDelivery ?? false,
          maxReceiveCount: opts.maxReceiveCount ?? 3,
          batchSize: opts.batchSize ?? 1,
          maxConcurrency: opts.maxConcurrency ?? Number.POSITIVE_INFINITY,
        },
        queue: [],
        active: 0,
        pumping: false,
      };
      if (!Number.isInteger(sub.options.batchSize) || sub.options.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${sub.options.batchSize}`);
      if (!(sub.options.maxConcurrency >= 1)) throw new Error(`maxConcurrency must be at least 1, got ${sub.options.maxConcurrency}`);
      subscriptions.add(sub);
      return () => subscriptions.delete(sub);
    },
    put: (entries) => put(entries).map((r) => r.EventId ?? ''),
    pending: () => running.size + queued(),
    drain,
    stop: async () => {
      stopped = true;
      await drain();
      uninstall();
      uninstall = () => undefined;
    },
  };
}

/** Something that can be waited for: the bus, the local Step Functions. */
export interface Drainable {
  pending(): number;
  drain(): Promise<void>;
}

/**
 * Waits until every part is idle at the same time: an event can start an execution whose handler
 * puts another event, so drain in rounds until a round finds nothing pending.
 */
export async function drainAll(...parts: readonly Drainable[]): Promise<void> {
  for (;;) {
    for (const part of parts) await part.drain();
    if (parts.every((p) => p.pending() === 0)) return;
  }
}
