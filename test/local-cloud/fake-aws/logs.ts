/** CloudWatch Logs log groups. Errors: CloudWatch Logs API Reference. */
import type * as cwl from '@aws-sdk/client-cloudwatch-logs';
import { InvalidParameterException, ResourceAlreadyExistsException, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import type { ResourceRef, TagMap } from './core';
import { mergeTags, tagRecord, tagsFromRecord } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta } from './errors';
import { paginate } from './ec2';

export interface LogGroup {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly tags: TagMap;
  retentionInDays?: number;
  /** Streams and their events (CreateLogStream, PutLogEvents; read by FilterLogEvents). */
  readonly streams?: Map<string, { timestamp: number; message: string; ingestionTime: number; eventId: string }[]>;
}

/**
 * The subset of CloudWatch Logs JSON filter patterns the fake evaluates: `{ $.a = "x" && $.b = "y*" }`
 * (string equality, `*` wildcard, `&&`), or an empty pattern. Anything else is InvalidParameterException,
 * as AWS answers a pattern it cannot parse (a real pattern outside the subset must not silently match everything).
 */
function compileFilterPattern(pattern: string | undefined): (message: string) => boolean {
  const p = (pattern ?? '').trim();
  if (p === '') return () => true;
  const m = /^\{(.*)\}$/s.exec(p);
  if (!m) throw new InvalidParameterException({ message: `Invalid filter pattern: ${p} (the fake evaluates JSON patterns only)`, $metadata: meta(400) });
  const terms = (m[1] ?? '').split('&&').map((t) => {
    const tm = /^\s*\$\.([A-Za-z0-9_.]+)\s*=\s*"([^"]*)"\s*$/.exec(t);
    if (!tm) throw new InvalidParameterException({ message: `Invalid filter pattern term: ${t.trim()}`, $metadata: meta(400) });
    const [, field = '', value = ''] = tm;
    const re = new RegExp(`^${value.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return (doc: unknown) => {
      let v: unknown = doc;
      for (const k of field.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
      return (typeof v === 'string' || typeof v === 'number') && re.test(String(v));
    };
  });
  return (message) => {
    let doc: unknown;
    try {
      doc = JSON.parse(message);
    } catch {
      return false;
    }
    return terms.every((t) => t(doc));
  };
}

// PutRetentionPolicy accepts only these values (CloudWatch Logs API Reference).
const RETENTION_DAYS = new Set([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]);

export class LogsFake implements EmulatedService {
  readonly name = 'CloudWatchLogs' as const;
  readonly groups = new Map<string, LogGroup>();

  constructor(private readonly ctx: ServiceContext) {}

  readonly operations = {
    CreateLogGroup: op((i: cwl.CreateLogGroupCommandInput): cwl.CreateLogGroupCommandOutput => {
      const name = i.logGroupName ?? '';
      if (this.groups.has(name)) throw new ResourceAlreadyExistsException({ message: 'The specified log group already exists', $metadata: meta(400) });
      this.groups.set(name, {
        name,
        arn: `arn:aws:logs:${this.ctx.config.region}:${this.ctx.config.account}:log-group:${name}`,
        createdAt: this.ctx.now(),
        tags: tagsFromRecord(i.tags),
        streams: new Map(),
      });
      return { $metadata: {} };
    }),
    PutRetentionPolicy: op((i: cwl.PutRetentionPolicyCommandInput): cwl.PutRetentionPolicyCommandOutput => {
      const g = this.must(i.logGroupName);
      if (i.retentionInDays === undefined || !RETENTION_DAYS.has(i.retentionInDays)) {
        throw new InvalidParameterException({ message: `Invalid retentionInDays value: ${i.retentionInDays ?? ''}`, $metadata: meta(400) });
      }
      g.retentionInDays = i.retentionInDays;
      return { $metadata: {} };
    }),
    DeleteLogGroup: op((i: cwl.DeleteLogGroupCommandInput): cwl.DeleteLogGroupCommandOutput => {
      this.must(i.logGroupName);
      this.groups.delete(i.logGroupName!);
      return { $metadata: {} };
    }),
    DescribeLogGroups: op((i: cwl.DescribeLogGroupsCommandInput): cwl.DescribeLogGroupsCommandOutput => {
      const prefix = i.logGroupNamePrefix ?? '';
      const all = [...this.groups.values()].filter((g) => g.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
      // DescribeLogGroups limit defaults to 50 (CloudWatch Logs API Reference).
      const { page, next } = paginate(all, i.limit ?? 50, i.nextToken);
      return {
        $metadata: {},
        logGroups: page.map((g) => ({
          logGroupName: g.name,
          arn: `${g.arn}:*`,
          logGroupArn: g.arn,
          creationTime: g.createdAt,
          ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
          storedBytes: 0,
        })),
        ...(next ? { nextToken: next } : {}),
      };
    }),
    CreateLogStream: op((i: cwl.CreateLogStreamCommandInput): cwl.CreateLogStreamCommandOutput => {
      const streams = this.streamsOf(this.must(i.logGroupName));
      const name = i.logStreamName ?? '';
      if (streams.has(name)) throw new ResourceAlreadyExistsException({ message: 'The specified log stream already exists', $metadata: meta(400) });
      streams.set(name, []);
      return { $metadata: {} };
    }),
    PutLogEvents: op((i: cwl.PutLogEventsCommandInput): cwl.PutLogEventsCommandOutput => {
      const stream = this.streamsOf(this.must(i.logGroupName)).get(i.logStreamName ?? '');
      if (!stream) throw new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: meta(400) });
      const events = i.logEvents ?? [];
      if (events.length === 0 || events.length > 10_000) throw new InvalidParameterException({ message: '1 validation error detected: Value at \'logEvents\' failed to satisfy constraint: Member must have length between 1 and 10000', $metadata: meta(400) });
      for (let k = 1; k < events.length; k += 1) {
        if ((events[k]?.timestamp ?? 0) < (events[k - 1]?.timestamp ?? 0)) throw new InvalidParameterException({ message: 'Log events in a single PutLogEvents request must be in chronological order.', $metadata: meta(400) });
      }
      for (const e of events) stream.push({ timestamp: e.timestamp ?? 0, message: e.message ?? '', ingestionTime: this.ctx.now(), eventId: String(this.nextEventId++).padStart(56, '0') });
      return { $metadata: {} };
    }),
    // FilterLogEvents (CloudWatch Logs API Reference): events of every stream (or logStreamNames) in
    // [startTime, endTime], oldest first, `limit` 1-10000 (default: as many as fit 1 MB; the fake: 10000).
    FilterLogEvents: op((i: cwl.FilterLogEventsCommandInput): cwl.FilterLogEventsCommandOutput => {
      const g = this.must(i.logGroupName);
      if (i.limit !== undefined && (i.limit < 1 || i.limit > 10_000)) throw new InvalidParameterException({ message: `1 validation error detected: Value '${i.limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000`, $metadata: meta(400) });
      const match = compileFilterPattern(i.filterPattern);
      const streams = this.streamsOf(g);
      const names = i.logStreamNames ?? [...streams.keys()];
      const all = names
        .flatMap((name) => (streams.get(name) ?? []).map((e) => ({ ...e, logStreamName: name })))
        .filter((e) => (i.startTime === undefined || e.timestamp >= i.startTime) && (i.endTime === undefined || e.timestamp <= i.endTime) && match(e.message))
        .sort((a, b) => a.timestamp - b.timestamp || a.eventId.localeCompare(b.eventId));
      if (i.nextToken !== undefined && !/^offset:\d+$/.test(Buffer.from(i.nextToken, 'base64').toString('utf8'))) {
        throw new InvalidParameterException({ message: 'The specified nextToken is invalid.', $metadata: meta(400) });
      }
      const page = paginate(all, i.limit ?? 10_000, i.nextToken);
      return { $metadata: {}, events: page.page, searchedLogStreams: [], ...(page.next ? { nextToken: page.next } : {}) };
    }),
    TagResource: op((i: cwl.TagResourceCommandInput): cwl.TagResourceCommandOutput => {
      const g = [...this.groups.values()].find((x) => x.arn === i.resourceArn || `${x.arn}:*` === i.resourceArn);
      if (!g) throw new ResourceNotFoundException({ message: 'The specified resource does not exist.', $metadata: meta(400) });
      mergeTags(g.tags, tagsFromRecord(i.tags));
      return { $metadata: {} };
    }),
    // ListTagsForResource takes the log group ARN without the trailing ":*" (CloudWatch Logs API
    // Reference, ListTagsForResource: "arn:aws:logs:Region:account-id:log-group:log-group-name").
    ListTagsForResource: op((i: cwl.ListTagsForResourceCommandInput): cwl.ListTagsForResourceCommandOutput => {
      const g = [...this.groups.values()].find((x) => x.arn === i.resourceArn);
      if (!g) throw new ResourceNotFoundException({ message: 'The specified resource does not exist.', $metadata: meta(400) });
      return { $metadata: {}, tags: tagRecord(g.tags) };
    }),
  };

  private nextEventId = 1;

  private streamsOf(g: LogGroup): NonNullable<LogGroup['streams']> {
    if (!g.streams) throw new Error(`log group ${g.name} was created without a stream map`);
    return g.streams;
  }

  /** Appends events to a stream directly (what a log driver or a subscription source would have written). */
  appendEvents(groupName: string, streamName: string, events: readonly { timestamp: number; message: string }[]): void {
    const streams = this.streamsOf(this.must(groupName));
    if (!streams.has(streamName)) streams.set(streamName, []);
    for (const e of events) streams.get(streamName)!.push({ ...e, ingestionTime: this.ctx.now(), eventId: String(this.nextEventId++).padStart(56, '0') });
  }

  private must(name: string | undefined): LogGroup {
    const g = name ? this.groups.get(name) : undefined;
    if (!g) throw new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: meta(400) });
    return g;
  }

  resources(): ResourceRef[] {
    return [...this.groups.values()].map((g) => ({ service: 'CloudWatchLogs', type: 'AWS::Logs::LogGroup', id: g.name, arn: g.arn, tags: tagRecord(g.tags) }));
  }
}
