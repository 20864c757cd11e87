/**
 * Tokens a tenant used, read from the per-tenant metrics Bedrock publishes for each application
 * inference profile: namespace AWS/Bedrock, metrics InputTokenCount and OutputTokenCount, dimension
 * `ModelId` = the profile's id (the last part of its ARN), as AWS's own usage analyser queries them
 * (uni-intelligence/bedrock-usage-analyzer: profile ids as ModelId in GetMetricData). One
 * GetMetricData call (paged) per tenant, Stat Sum over one-day periods, all periods added up.
 *
 * Throttling and server errors are retried here with exponential backoff and full jitter (the
 * scheduled run reads many tenants in a row); what still fails is thrown as ThrottledError /
 * TransientAwsError for the caller to count and the schedule to retry.
 */
import type { CloudWatchClient, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { setTimeout as sleep } from 'node:timers/promises';
import { ThrottledError, TransientAwsError, ValidationError } from '../domain/errors';
import { classifyAwsError } from '../shared/aws-errors';
import type { TokenUsageSource } from '../usecases/model-budget';

export const BEDROCK_METRICS_NAMESPACE = 'AWS/Bedrock';
export const TOKEN_METRICS = ['InputTokenCount', 'OutputTokenCount'] as const;
/** The dimension Bedrock's runtime metrics carry the model, or application inference profile, id in. */
export const MODEL_ID_DIMENSION = 'ModelId';
/** One-day periods: a multiple of 3,600 s, as CloudWatch requires for data older than 63 days. */
export const USAGE_PERIOD_SECONDS = 86_400;

const PROFILE_ARN = /^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:application-inference-profile\/([a-z0-9]+)$/;

/** The id Bedrock's metrics name an application inference profile by (the last part of its ARN). */
export function profileIdOf(arn: string): string {
  const m = PROFILE_ARN.exec(arn);
  if (!m) throw new ValidationError(`not an application inference profile ARN: ${arn}`);
  return m[1]!;
}

export interface TokenUsageOptions {
  /** Attempts per GetMetricData call, the first included. Default 4. */
  attempts?: number;
  /** Base of the exponential backoff (full jitter). Default 200 ms. */
  baseDelayMs?: number;
  random?: () => number;
}

export class CloudWatchTokenUsage implements TokenUsageSource {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly random: () => number;

  constructor(
    private readonly cloudwatch: Pick<CloudWatchClient, 'send'>,
    options: TokenUsageOptions = {},
  ) {
    this.attempts = options.attempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.random = options.random ?? Math.random;
  }

  /** The queries for `profileArns`: two per profile (input and output tokens). */
  static queries(profileArns: readonly string[]): MetricDataQuery[] {
    return profileArns.flatMap((arn, i) =>
      TOKEN_METRICS.map((metric) => ({
        Id: `p${i}_${metric === 'InputTokenCount' ? 'in' : 'out'}`,
        MetricStat: {
          Metric: { Namespace: BEDROCK_METRICS_NAMESPACE, MetricName: metric, Dimensions: [{ Name: MODEL_ID_DIMENSION, Value: profileIdOf(arn) }] },
          Period: USAGE_PERIOD_SECONDS,
          Stat: 'Sum',
        },
        ReturnData: true,
      })),
    );
  }

  async tokensUsed(profileArns: readonly string[], since: Date, until: Date): Promise<number> {
    if (profileArns.length === 0) return 0;
    const queries = CloudWatchTokenUsage.queries(profileArns);
    let total = 0;
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const out = await this.withRetries(() =>
        this.cloudwatch.send(
          new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: since, EndTime: until, ...(token !== undefined ? { NextToken: token } : {}) }),
        ),
      );
      for (const r of out.MetricDataResults ?? []) for (const v of r.Values ?? []) total += v;
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return total;
  }

  private async withRetries<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const e = classifyAwsError(err, 'CloudWatch GetMetricData');
        const retryable = e instanceof ThrottledError || e instanceof TransientAwsError;
        if (!retryable || attempt >= this.attempts) throw e;
        await sleep(Math.floor(this.random() * this.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}
