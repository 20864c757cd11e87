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

  private must(name: string | undefined): LogGroup {
    const g = name ? this.groups.get(name) : undefined;
    if (!g) throw new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: meta(400) });
    return g;
  }

  resources(): ResourceRef[] {
    return [...this.groups.values()].map((g) => ({ service: 'CloudWatchLogs', type: 'AWS::Logs::LogGroup', id: g.name, arn: g.arn, tags: tagRecord(g.tags) }));
  }
}
