/**
 * Runs the real provision workflow in the local cloud under the bench's latency model and records
 * every AWS call (service, operation, invocation, real start/end, outcome) for the figures.
 *
 * Time compression: the fake's latencies × scale (timeScale), ASL waits and retry pauses × scale
 * (waitScale/retryScale), bucket refill ÷ scale (refillScale, set by startLocalCloud), the bench's
 * per-call latency × scale, and the real-time sleeps inside the Storage and Gateway handlers
 * (access point availability and service polling) × scale (see `scaleHandlerSleeps`).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalCloud, type LocalCloud } from '../test/local-cloud/local-cloud';
import { startDynamoDbLocal, type DynamoDbLocal } from '../test/local-cloud/dynamodb-local';
import { currentInvocation } from '../test/local-cloud/invocation-context';
import type { FakeAwsOptions, ServiceName } from '../test/local-cloud/fake-aws';
import type { ProgressEvent } from '../test/local-cloud/step-functions';
import {
  callLatencyMs,
  DEFAULT_LATENCIES,
  GATEWAY_POLL_INTERVAL_MODEL_MS,
  GATEWAY_WAIT_MODEL_SECONDS,
  IAM_PROPAGATION_GRACE_MODEL_MS,
  SLEEPING_HANDLERS,
  type ModelLatencies,
} from './model';

export interface CallRecord {
  readonly service: ServiceName | 'DynamoDB';
  readonly operation: string;
  readonly handler: string | undefined;
  readonly invocationId: string | undefined;
  readonly executionName: string | undefined;
  readonly stateName: string | undefined;
  /** Real epoch ms. */
  readonly start: number;
  end: number;
  ok: boolean;
  errorName?: string;
}

export interface Recorder {
  readonly calls: CallRecord[];
  readonly progress: ProgressEvent[];
}

let sleepsScaled = false;
let ddbPatched = false;
const ddbSink: { recorder?: Recorder } = {};

/**
 * The Storage and Gateway handlers sleep with the global setTimeout between polls, in real
 * milliseconds (200 ms doubling for the access point, GATEWAY_POLL_INTERVAL_MS for the service).
 * Inside an invocation of those handlers only, timers are multiplied by the scale so the model
 * keeps their AWS-time values. The interpreter's timers and the fake's (node:timers/promises) are untouched.
 */
function scaleHandlerSleeps(scale: number): void {
  if (sleepsScaled) return;
  sleepsScaled = true;
  const real = globalThis.setTimeout;
  const scaled = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const inv = currentInvocation();
    const wait = inv && SLEEPING_HANDLERS.has(inv.handler) && typeof ms === 'number' ? ms * scale : ms;
    return real(callback, wait, ...args);
  };
  globalThis.setTimeout = Object.assign<typeof scaled, typeof setTimeout>(scaled, real);
}

/** Counts and times DynamoDB calls (DynamoDB Local is real and not delayed) made inside invocations. */
function recordDynamoDb(): void {
  if (ddbPatched) return;
  ddbPatched = true;
  const protos: Set<object> = new Set([Object.getPrototypeOf(DynamoDBClient.prototype) as object, Object.getPrototypeOf(DynamoDBDocumentClient.prototype) as object]);
  for (const proto of protos) {
    const p = proto as { send: (this: unknown, command: unknown, ...rest: unknown[]) => Promise<unknown> };
    const original = p.send;
    p.send = async function (this: unknown, command: unknown, ...rest: unknown[]): Promise<unknown> {
      const inv = currentInvocation();
      const isDdb = this instanceof DynamoDBClient || this instanceof DynamoDBDocumentClient;
      if (!inv || !isDdb || !ddbSink.recorder) return original.call(this, command, ...rest);
      const name = (command as { constructor?: { name?: string } }).constructor?.name?.replace(/Command$/, '') ?? '?';
      const rec: CallRecord = {
        service: 'DynamoDB',
        operation: name,
        handler: inv.handler,
        invocationId: inv.invocationId,
        executionName: inv.executionName,
        stateName: inv.stateName,
        start: Date.now(),
        end: 0,
        ok: true,
      };
      ddbSink.recorder.calls.push(rec);
      try {
        return await original.call(this, command, ...rest);
      } catch (e) {
        rec.ok = false;
        rec.errorName = e instanceof Error ? e.name : 'Error';
        throw e;
      } finally {
        rec.end = Date.now();
      }
    };
  }
}

export interface BenchCloudOptions {
  readonly scale: number;
  readonly latencies?: Partial<ModelLatencies>;
  readonly throttling?: boolean;
  /** Account limits of the fake other than AWS's defaults (e.g. a quota an operator raised for a large burst). */
  readonly limits?: FakeAwsOptions['limits'];
}

export interface BenchCloud {
  readonly cloud: LocalCloud;
  readonly recorder: Recorder;
  readonly latencies: ModelLatencies;
  stop(): Promise<void>;
}

let dynamo: DynamoDbLocal | undefined;

/** Starts DynamoDB Local once for the whole bench (the local cloud then reuses its table across runs). */
export async function ensureDynamo(): Promise<void> {
  if (dynamo || process.env.AWS_ENDPOINT_URL_DYNAMODB) return;
  dynamo = await startDynamoDbLocal();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
}

export async function stopDynamo(): Promise<void> {
  if (dynamo) await dynamo.stop();
  dynamo = undefined;
}

export async function startBenchCloud(options: BenchCloudOptions): Promise<BenchCloud> {
  const { scale } = options;
  await ensureDynamo();
  scaleHandlerSleeps(scale);
  recordDynamoDb();
  process.env.AWS_ENDPOINT_URL ??= 'http://127.0.0.1:9';
  const latencies: ModelLatencies = { ...DEFAULT_LATENCIES, ...options.latencies };
  const cloud = await startLocalCloud({
    fake: {
      timeScale: scale,
      latencies: { ...latencies, perCallMs: 0 },
      throttling: { enabled: options.throttling ?? true },
      ...(options.limits ? { limits: options.limits } : {}),
    },
    env: {
      // Production defaults (infra/config.ts); the handler's sleeps are scaled, see scaleHandlerSleeps.
      GATEWAY_POLL_INTERVAL_MS: String(GATEWAY_POLL_INTERVAL_MODEL_MS),
      GATEWAY_WAIT_SECONDS: String(GATEWAY_WAIT_MODEL_SECONDS),
      // A deadline from the role's real CreateDate, slept with an unscaled timer: real ms.
      IAM_PROPAGATION_GRACE_MS: String(Math.round(IAM_PROPAGATION_GRACE_MODEL_MS * scale)),
    },
    waitScale: scale,
    retryScale: scale,
    // The gateway wait's heartbeat (120 s in the ASL) on the bench's clock, as in AWS: a check
    // round only when no event came for 120 model seconds (the local default, 0.01, is for tests).
    heartbeatScale: scale,
  });
  const recorder: Recorder = { calls: [], progress: [] };
  ddbSink.recorder = recorder;
  // Every attempt on the wire (the fake's plug-in calls `attempt` below the SDK's retry, so a retried
  // call is several records, as in CloudTrail): the model latency, then the fake.
  const fake = cloud.fake;
  const original = fake.attempt.bind(fake);
  fake.attempt = async (service: ServiceName, operation: string, input: unknown, crashAfterSuccess?: boolean): Promise<unknown> => {
    const inv = currentInvocation();
    const rec: CallRecord = {
      service,
      operation,
      handler: inv?.handler,
      invocationId: inv?.invocationId,
      executionName: inv?.executionName,
      stateName: inv?.stateName,
      start: Date.now(),
      end: 0,
      ok: true,
    };
    if (inv) recorder.calls.push(rec);
    await delay(callLatencyMs(service, operation) * scale);
    try {
      return await original(service, operation, input, crashAfterSuccess);
    } catch (e) {
      rec.ok = false;
      rec.errorName = e instanceof Error ? e.name : 'Error';
      throw e;
    } finally {
      rec.end = Date.now();
    }
  };
  const unsubscribe = cloud.sfn.onProgress((ev) => {
    if (ev.kind !== 'StateExited') recorder.progress.push(ev);
  });
  return {
    cloud,
    recorder,
    latencies,
    async stop() {
      unsubscribe();
      ddbSink.recorder = undefined;
      await cloud.stop();
    },
  };
}
