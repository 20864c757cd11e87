/**
 * The latency model the benchmark runs the real workflow under, in MODEL milliseconds (AWS time).
 * Everything here is multiplied by `scale` before it reaches the clock; every figure the bench
 * prints is divided by it again.
 *
 * - Control-plane calls (EC2, ECS, EFS, IAM, Secrets Manager, CloudWatch Logs, EventBridge): a fixed
 *   latency per operation (reads 60 ms, writes 110 ms, creations/registrations 150 ms), added by the
 *   bench in front of the fake's own pipeline (the fake's `perCallMs` is one figure for all calls).
 * - Fargate start, IAM propagation, access point creation: the fake's `latencies`.
 * - DynamoDB: DynamoDB Local, real (not scaled): its real latency, divided by the scale, inflates
 *   model time; the bench reports how much of it lies on the measured path.
 * - Throttling: the fake's buckets (config.ts THROTTLE_GROUPS), refilled on the compressed clock.
 */
export const LATENCY_CLASSES = { read: 60, write: 110, create: 150 } as const;

/** Modelled DynamoDB latency per call for the floor (single-digit ms in AWS). */
export const DYNAMODB_FLOOR_MS = 8;

export function callLatencyMs(service: string, operation: string): number {
  if (service === 'DynamoDB') return DYNAMODB_FLOOR_MS;
  if (/^(Describe|List|Get)/.test(operation)) return LATENCY_CLASSES.read;
  if (/^(Create|Register)/.test(operation)) return LATENCY_CLASSES.create;
  return LATENCY_CLASSES.write;
}

export interface ModelLatencies {
  readonly taskStartMs: number;
  readonly iamPropagationMs: number;
  readonly accessPointCreateMs: number;
  readonly serviceDrainMs: number;
  readonly eniReleaseMs: number;
  readonly healthCheckFailMs: number;
}

/** The fake's defaults (test/local-cloud/fake-aws/config.ts), restated so the report can print them. */
export const DEFAULT_LATENCIES: ModelLatencies = {
  taskStartMs: 45_000,
  iamPropagationMs: 10_000,
  accessPointCreateMs: 1_000,
  serviceDrainMs: 30_000,
  eniReleaseMs: 60_000,
  healthCheckFailMs: 30_000,
};

/** The production defaults of the gateway wait (infra/config.ts), used as model values. */
export const GATEWAY_POLL_INTERVAL_MODEL_MS = 2_000;
export const GATEWAY_WAIT_MODEL_SECONDS = 240;
/** infra/config.ts `iamPropagationGraceSeconds` default (model ms; the harness converts it to real ms: it is a deadline from IAM's real CreateDate). */
export const IAM_PROPAGATION_GRACE_MODEL_MS = 8_000;
/** Gateway Lambda timeout 300 s minus the handler's 15 s margin: one invocation's polling budget. */
export const GATEWAY_INVOCATION_BUDGET_MODEL_MS = (300 - 15) * 1000;

/** Handlers that sleep in real time between polls (access point availability, service steadiness). */
export const SLEEPING_HANDLERS: ReadonlySet<string> = new Set(['Storage', 'Gateway']);
