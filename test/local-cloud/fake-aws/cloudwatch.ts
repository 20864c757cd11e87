/**
 * Amazon CloudWatch metrics, the part the platform reads: GetMetricData over MetricStat queries
 * (Sum, SampleCount, Minimum, Maximum, Average), with datapoints a test or the demo puts in
 * (`putDatapoint`, standing in for what Bedrock publishes under AWS/Bedrock). Behaviour and errors
 * from the CloudWatch API Reference (GetMetricData, Common Errors) and the client's modelled
 * exceptions (@aws-sdk/client-cloudwatch 3.1164.0, an awsQuery-compatible protocol):
 * - 1-500 `MetricDataQueries`, each `Id` unique, matching `^[a-z][a-zA-Z0-9_]*$`, 1-255 characters;
 *   `StartTime` < `EndTime`; `Period` ≥ 1 and a multiple of 60 (no high-resolution metrics here);
 *   anything else: ValidationError (HTTP 400). Only MetricStat queries are emulated; an `Expression`
 *   query is NotEmulatedError (loud).
 * - `NextToken` not from a previous answer: InvalidNextToken.
 * - A period bucket is [start + k·Period, start + (k+1)·Period); empty buckets are not returned
 *   (CloudWatch returns only periods with data); results newest first (ScanBy TimestampDescending,
 *   the default).
 * - Throttling: `Throttling` (HTTP 400), through the fake's token buckets and fault injection.
 */
import * as cw from '@aws-sdk/client-cloudwatch';
import type { ResourceRef } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta, serviceError } from './errors';
import { NotEmulatedError } from './errors';

export interface Datapoint {
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension name → value; a query matches a datapoint only with exactly the same dimensions. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly timestamp: number;
  readonly value: number;
}

const ID = /^[a-z][a-zA-Z0-9_]*$/;
/** Datapoints one GetMetricData answer carries at most before it pages (AWS default MaxDatapoints: 100,800). */
const PAGE_DATAPOINTS = 100_800;

const validation = (message: string) => serviceError('CloudWatch', 'ValidationError', message, 400);

const dimensionKey = (d: Readonly<Record<string, string>>) =>
  JSON.stringify(
    Object.entries(d).sort(([a], [b]) => a.localeCompare(b)),
  );

export class CloudWatchFake implements EmulatedService {
  readonly name = 'CloudWatch' as const;
  readonly datapoints: Datapoint[] = [];
  private readonly tokens = new Map<string, number>();

  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Issue 13.5: a live source for AWS/Usage metrics (what AWS publishes for Service Quotas, e.g.
   * Fargate's vCPU ResourceCount): asked at query time with the metric's dimensions; a number becomes
   * one datapoint at the current time, `undefined` none. Set by FakeAws from the ECS fake's tasks.
   */
  usageSource?: (metricName: string, dimensions: Readonly<Record<string, string>>) => number | undefined;

  /** Adds one datapoint (what a service such as Bedrock would publish). */
  putDatapoint(p: Datapoint): void {
    this.datapoints.push(p);
  }

  readonly operations = {
    GetMetricData: op((i: cw.GetMetricDataCommandInput): cw.GetMetricDataCommandOutput => {
      const queries = i.MetricDataQueries ?? [];
      if (queries.length < 1 || queries.length > 500) {
        throw validation(`The collection MetricDataQueries must not be empty and must not contain more than 500 items (got ${queries.length}).`);
      }
      const start = i.StartTime instanceof Date ? i.StartTime.getTime() : NaN;
      const end = i.EndTime instanceof Date ? i.EndTime.getTime() : NaN;
      if (Number.isNaN(start) || Number.isNaN(end)) throw validation('The parameters StartTime and EndTime are required.');
      if (start >= end) throw validation('The parameter StartTime must be less than the parameter EndTime.');
      const ids = new Set<string>();
      for (const [n, q] of queries.entries()) {
        const id = q.Id ?? '';
        if (!ID.test(id) || id.length > 255) throw validation(`The value ${id} for parameter MetricDataQueries.member.${n + 1}.Id is not valid.`);
        if (ids.has(id)) throw validation(`The value ${id} for parameter MetricDataQueries.member.${n + 1}.Id is duplicated.`);
        ids.add(id);
        if (q.Expression !== undefined) throw new NotEmulatedError('CloudWatch', 'GetMetricData with an Expression query');
        const period = q.MetricStat?.Period ?? 0;
        if (!q.MetricStat?.Metric?.MetricName || !q.MetricStat.Metric.Namespace || !q.MetricStat.Stat) {
          throw validation(`MetricDataQueries.member.${n + 1}: a MetricStat needs Metric.Namespace, Metric.MetricName and Stat.`);
        }
        if (period < 1 || period % 60 !== 0) throw validation(`The parameter MetricDataQueries.member.${n + 1}.MetricStat.Period must be a multiple of 60.`);
      }
      let offset = 0;
      if (i.NextToken !== undefined) {
        const at = this.tokens.get(i.NextToken);
        if (at === undefined) throw new cw.InvalidNextToken({ message: 'The service returned an error with Error Code InvalidNextToken.', $metadata: meta(400) });
        this.tokens.delete(i.NextToken);
        offset = at;
      }
      // One page at most PAGE_DATAPOINTS (MaxDatapoints when smaller); a query's results are never split.
      const max = Math.min(i.MaxDatapoints ?? PAGE_DATAPOINTS, PAGE_DATAPOINTS);
      const results: cw.MetricDataResult[] = [];
      let used = 0;
      let k = offset;
      for (; k < queries.length; k++) {
        const r = this.result(queries[k]!, start, end, i.ScanBy);
        const n = r.Values?.length ?? 0;
        if (results.length > 0 && used + n > max) break;
        results.push(r);
        used += n;
      }
      let nextToken: string | undefined;
      if (k < queries.length) {
        nextToken = this.ctx.rng.alnum(32);
        this.tokens.set(nextToken, k);
      }
      return { $metadata: {}, MetricDataResults: results, Messages: [], ...(nextToken ? { NextToken: nextToken } : {}) };
    }),
  };

  private result(q: cw.MetricDataQuery, start: number, end: number, scanBy: cw.ScanBy | undefined): cw.MetricDataResult {
    const stat = q.MetricStat!;
    const metric = stat.Metric!;
    const periodMs = stat.Period! * 1000;
    const want = dimensionKey(Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])));
    const buckets = new Map<number, number[]>();
    const live: Datapoint[] = [];
    if (metric.Namespace === 'AWS/Usage' && this.usageSource) {
      const dimensions = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? '']));
      const value = this.usageSource(metric.MetricName!, dimensions);
      const now = this.ctx.now();
      if (value !== undefined) live.push({ namespace: 'AWS/Usage', metricName: metric.MetricName!, dimensions, timestamp: Math.min(now, end - 1), value });
    }
    for (const p of [...this.datapoints, ...live]) {
      if (p.namespace !== metric.Namespace || p.metricName !== metric.MetricName || dimensionKey(p.dimensions) !== want) continue;
      if (p.timestamp < start || p.timestamp >= end) continue;
      const b = start + Math.floor((p.timestamp - start) / periodMs) * periodMs;
      buckets.set(b, [...(buckets.get(b) ?? []), p.value]);
    }
    const rows = [...buckets.entries()].sort(([a], [b]) => (scanBy === 'TimestampAscending' ? a - b : b - a));
    return {
      Id: q.Id!,
      Label: q.Label ?? metric.MetricName!,
      Timestamps: rows.map(([t]) => new Date(t)),
      Values: rows.map(([, values]) => aggregate(stat.Stat!, values)),
      StatusCode: 'Complete',
    };
  }

  resources(): ResourceRef[] {
    return [];
  }
}

function aggregate(stat: string, values: readonly number[]): number {
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'SampleCount':
      return values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    default:
      throw new NotEmulatedError('CloudWatch', `GetMetricData statistic ${stat}`);
  }
}
