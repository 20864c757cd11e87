/**
 * The ingress services of the AWS fake (ELBv2, Route 53) behind one call pipeline: scheduled
 * faults → operation → trace. Standalone for now: the integration round adds 'ELBv2' and
 * 'Route53' to ServiceName and routes FakeAws.call here (and install.ts patches the two SDK
 * clients' send()), so the entries land in the same trace.
 *
 * Trace entries have the shape of TraceEntry; `ClientSecret` of authenticate-oidc actions is
 * redacted, as SecretString is.
 */
import type { TraceEntry } from './trace';
import { summariseOutput } from './trace';
import { Rng } from './core';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from './config';
import type { ElbLimits } from './elbv2';
import { DEFAULT_ELB_LIMITS, ElbV2Fake } from './elbv2';
import type { IngressResourceRef, IngressServiceName } from './ingress-errors';
import { FakeServiceError } from './ingress-errors';
import { DEFAULT_RECORDS_PER_ZONE, Route53Fake } from './route53';

export type IngressTraceEntry = Omit<TraceEntry, 'service'> & { readonly service: IngressServiceName };

export interface IngressFakeOptions {
  readonly seed?: number;
  readonly account?: string;
  readonly region?: string;
  readonly now?: () => number;
  readonly elbLimits?: Partial<ElbLimits>;
  readonly recordsPerZone?: number;
  readonly sink?: (entry: IngressTraceEntry) => void;
}

interface Scheduled {
  readonly service: IngressServiceName;
  readonly operation: string;
  readonly code: string;
  readonly status: number;
  remaining: number;
}

export class IngressFake {
  readonly elb: ElbV2Fake;
  readonly route53: Route53Fake;
  readonly calls: IngressTraceEntry[] = [];
  private readonly scheduled: Scheduled[] = [];
  private readonly now: () => number;
  private readonly sink: ((entry: IngressTraceEntry) => void) | undefined;

  constructor(options: IngressFakeOptions = {}) {
    const rng = new Rng(options.seed ?? 7);
    this.elb = new ElbV2Fake(rng, options.account ?? DEFAULT_ACCOUNT, options.region ?? DEFAULT_REGION, { ...DEFAULT_ELB_LIMITS, ...options.elbLimits });
    this.route53 = new Route53Fake(rng, options.recordsPerZone ?? DEFAULT_RECORDS_PER_ZONE);
    this.now = options.now ?? (() => Date.now());
    this.sink = options.sink;
  }

  /** The next `times` calls of an operation fail with an AWS error `code` (e.g. Throttling, 400). */
  failNext(service: IngressServiceName, operation: string, code: string, status = 400, times = 1): void {
    this.scheduled.push({ service, operation, code, status, remaining: times });
  }

  /** One call, as a patched SDK client (or a port bound to the fake) hands it over. */
  async call(service: IngressServiceName, operation: string, input: unknown): Promise<unknown> {
    // A real await: concurrent callers interleave here, as they do over the network.
    await Promise.resolve();
    const ops = service === 'ELBv2' ? this.elb.operations : this.route53.operations;
    const handler = ops[operation] as ((i: unknown) => unknown) | undefined;
    try {
      if (!handler) throw new Error(`AWS fake: ${service} ${operation} is not emulated. Add it to test/local-cloud/fake-aws or mock it in the test.`);
      const fault = this.scheduled.find((s) => s.service === service && s.operation === operation && s.remaining > 0);
      if (fault) {
        fault.remaining -= 1;
        throw new FakeServiceError(service, fault.code, `injected ${fault.code}`, fault.status);
      }
      const output = handler(structuredClone(input));
      this.record(service, operation, input, undefined, output);
      return { ...(output as object), $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } };
    } catch (e) {
      this.record(service, operation, input, e);
      throw e;
    }
  }

  private record(service: IngressServiceName, operation: string, input: unknown, error: unknown, output?: unknown): void {
    const err = error instanceof Error ? { name: error.name, message: error.message } : undefined;
    const entry: IngressTraceEntry = {
      ts: new Date(this.now()).toISOString(),
      service,
      operation,
      input: redactIngress(input),
      outcome: err ? 'error' : 'ok',
      ...(err ? { error: err } : {}),
      ...(output !== undefined ? { output: summariseOutput(output) } : {}),
    };
    this.calls.push(entry);
    this.sink?.(entry);
  }

  resources(): IngressResourceRef[] {
    return [...this.elb.resources(), ...this.route53.resources()];
  }
}

/** Deep copy of a request with every `ClientSecret` replaced: the trace is for audit. */
export function redactIngress(input: unknown): unknown {
  if (Array.isArray(input)) return input.map(redactIngress);
  if (input === null || typeof input !== 'object') return input;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k] = k === 'ClientSecret' ? '<redacted>' : redactIngress(v);
  return out;
}
