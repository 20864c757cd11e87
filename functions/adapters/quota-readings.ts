/**
 * Reads the quotas of functions/domain/quotas.ts: the limit from Service Quotas (GetServiceQuota,
 * the account's applied value; NoSuchResourceException → GetAWSDefaultServiceQuota, AWS's default)
 * and the usage counted from each service's own API. Read-only: nothing here creates anything.
 *
 * Usage sources:
 * - Fargate vCPU: CloudWatch `AWS/Usage` ResourceCount {Service=Fargate, Type=Resource,
 *   Resource=vCPU, Class=Standard/OnDemand | Standard/Spot}, the maximum of the last 5 minutes (the
 *   metric Service Quotas shows against the quota; account-wide, so other workloads count too);
 * - IAM roles: GetAccountSummary `Roles`;
 * - security groups and network interfaces: DescribeSecurityGroups / DescribeNetworkInterfaces, counted
 *   over every page (Region-wide, as the quotas are);
 * - task-subnet addresses: DescribeSubnets `AvailableIpAddressCount` summed over the task subnets
 *   (reported as the limit, with usage 0: what is free is what is left);
 * - EFS access points: DescribeAccessPoints of the cell's file system, every page;
 * - target groups: DescribeTargetGroups, every page;
 * - Bedrock application inference profiles: ListInferenceProfiles with typeEquals APPLICATION, every
 *   page (Region-wide, every workload's profiles, as the quota counts them); the limit from the
 *   cell's configuration (see functions/domain/quotas.ts). One call per signup while the Region holds
 *   up to 1,000 (the page size), a few more after a raised quota: a read as cheap as the other counts.
 */
import { ListInferenceProfilesCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeAccessPointsCommand, type EFSClient } from '@aws-sdk/client-efs';
import { DescribeTargetGroupsCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetAccountSummaryCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { QUOTAS, type QuotaId, type QuotaReading } from '../domain/quotas';
import { awsCall, awsErrorCode } from '../shared/aws-errors';

type Sender = { send(command: never): Promise<unknown> };
const send = <T>(client: Sender, command: unknown) => (client.send as (c: unknown) => Promise<T>)(command);

export interface QuotaReaderClients {
  readonly serviceQuotas: Pick<ServiceQuotasClient, 'send'>;
  /** Service Quotas in the Region that answers for IAM (us-east-1). */
  readonly serviceQuotasIam: Pick<ServiceQuotasClient, 'send'>;
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly iam: Pick<IAMClient, 'send'>;
  readonly ec2: Pick<EC2Client, 'send'>;
  readonly efs: Pick<EFSClient, 'send'>;
  readonly elbv2: Pick<ElasticLoadBalancingV2Client, 'send'>;
  readonly bedrock: Pick<BedrockClient, 'send'>;
}

export interface QuotaReaderSettings {
  readonly fileSystemId: string;
  readonly subnetIds: readonly string[];
  readonly accessPointsPerFileSystem: number;
  /** Bedrock "Application inference profiles per account" (cell configuration). */
  readonly applicationInferenceProfiles: number;
  readonly now?: () => number;
}

/** The port the quota guard reads through. */
export interface QuotaReadings {
  read(ids: readonly QuotaId[]): Promise<QuotaReading[]>;
}

export const FARGATE_USAGE_CLASS: Partial<Record<QuotaId, string>> = {
  fargateOnDemandVcpu: 'Standard/OnDemand',
  fargateSpotVcpu: 'Standard/Spot',
};

export class AwsQuotaReadings implements QuotaReadings {
  constructor(
    private readonly clients: QuotaReaderClients,
    private readonly settings: QuotaReaderSettings,
  ) {}

  async read(ids: readonly QuotaId[]): Promise<QuotaReading[]> {
    return Promise.all(ids.map((id) => this.readOne(id)));
  }

  private async readOne(id: QuotaId): Promise<QuotaReading> {
    if (id === 'subnetAddresses') return { id, limit: await this.freeSubnetAddresses(), usage: 0, source: 'subnets' };
    if (id === 'efsAccessPoints') return { id, limit: this.settings.accessPointsPerFileSystem, usage: await this.accessPoints(), source: 'config' };
    if (id === 'applicationInferenceProfiles') return { id, limit: this.settings.applicationInferenceProfiles, usage: await this.applicationInferenceProfiles(), source: 'config' };
    const [{ value, source }, usage] = await Promise.all([this.limit(id), this.usage(id)]);
    return { id, limit: value, usage, source };
  }

  /** The applied value, or AWS's default where the account has none applied. */
  async limit(id: QuotaId): Promise<{ value: number; source: 'applied' | 'default' }> {
    const sq = QUOTAS[id].serviceQuota;
    if (!sq) throw new Error(`quota ${id} has no Service Quotas code`);
    const client = sq.serviceCode === 'iam' ? this.clients.serviceQuotasIam : this.clients.serviceQuotas;
    const input = { ServiceCode: sq.serviceCode, QuotaCode: sq.quotaCode };
    const context = `Service Quotas ${sq.serviceCode}/${sq.quotaCode}`;
    const applied = await awsCall(context, async () => {
      try {
        return await send<{ Quota?: { Value?: number } }>(client, new GetServiceQuotaCommand(input));
      } catch (err) {
        if (awsErrorCode(err) === 'NoSuchResourceException') return undefined;
        throw err;
      }
    });
    if (applied?.Quota?.Value !== undefined) return { value: applied.Quota.Value, source: 'applied' };
    const dflt = await awsCall(context, () => send<{ Quota?: { Value?: number } }>(client, new GetAWSDefaultServiceQuotaCommand(input)));
    if (dflt.Quota?.Value === undefined) throw new Error(`${context}: no value in the answer`);
    return { value: dflt.Quota.Value, source: 'default' };
  }

  private async usage(id: QuotaId): Promise<number> {
    switch (id) {
      case 'fargateOnDemandVcpu':
      case 'fargateSpotVcpu':
        return this.fargateVcpu(FARGATE_USAGE_CLASS[id]!);
      case 'iamRoles': {
        const out = await awsCall('IAM GetAccountSummary', () => send<{ SummaryMap?: Record<string, number> }>(this.clients.iam, new GetAccountSummaryCommand({})));
        return out.SummaryMap?.Roles ?? 0;
      }
      case 'securityGroups':
        return this.countPages('EC2 DescribeSecurityGroups', (NextToken) =>
          send<{ SecurityGroups?: unknown[]; NextToken?: string }>(this.clients.ec2, new DescribeSecurityGroupsCommand({ MaxResults: 1000, ...(NextToken ? { NextToken } : {}) })).then((o) => ({ n: o.SecurityGroups?.length ?? 0, next: o.NextToken })),
        );
      case 'networkInterfaces':
        return this.countPages('EC2 DescribeNetworkInterfaces', (NextToken) =>
          send<{ NetworkInterfaces?: unknown[]; NextToken?: string }>(this.clients.ec2, new DescribeNetworkInterfacesCommand({ MaxResults: 1000, ...(NextToken ? { NextToken } : {}) })).then((o) => ({ n: o.NetworkInterfaces?.length ?? 0, next: o.NextToken })),
        );
      case 'targetGroups':
        return this.countPages('ELBv2 DescribeTargetGroups', (Marker) =>
          send<{ TargetGroups?: unknown[]; NextMarker?: string }>(this.clients.elbv2, new DescribeTargetGroupsCommand({ PageSize: 400, ...(Marker ? { Marker } : {}) })).then((o) => ({ n: o.TargetGroups?.length ?? 0, next: o.NextMarker })),
        );
      case 'rulesPerSecurityGroup':
        // A bound on one tenant's own group: there is nothing to count.
        return 0;
      default:
        throw new Error(`quota ${id} has no usage reader`);
    }
  }

  private async fargateVcpu(usageClass: string): Promise<number> {
    const now = (this.settings.now ?? Date.now)();
    const out = await awsCall('CloudWatch GetMetricData AWS/Usage', () =>
      send<{ MetricDataResults?: { Values?: number[] }[] }>(
        this.clients.cloudwatch,
        new GetMetricDataCommand({
          StartTime: new Date(now - 5 * 60_000),
          EndTime: new Date(now),
          MetricDataQueries: [
            {
              Id: 'vcpu',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/Usage',
                  MetricName: 'ResourceCount',
                  Dimensions: [
                    { Name: 'Service', Value: 'Fargate' },
                    { Name: 'Type', Value: 'Resource' },
                    { Name: 'Resource', Value: 'vCPU' },
                    { Name: 'Class', Value: usageClass },
                  ],
                },
                Period: 60,
                Stat: 'Maximum',
              },
            },
          ],
        }),
      ),
    );
    const values = out.MetricDataResults?.[0]?.Values ?? [];
    return values.length > 0 ? Math.max(...values) : 0;
  }

  private async freeSubnetAddresses(): Promise<number> {
    const out = await awsCall('EC2 DescribeSubnets', () =>
      send<{ Subnets?: { AvailableIpAddressCount?: number }[] }>(this.clients.ec2, new DescribeSubnetsCommand({ SubnetIds: [...this.settings.subnetIds] })),
    );
    return (out.Subnets ?? []).reduce((sum, s) => sum + (s.AvailableIpAddressCount ?? 0), 0);
  }

  private accessPoints(): Promise<number> {
    return this.countPages('EFS DescribeAccessPoints', (NextToken) =>
      send<{ AccessPoints?: unknown[]; NextToken?: string }>(
        this.clients.efs,
        new DescribeAccessPointsCommand({ FileSystemId: this.settings.fileSystemId, MaxResults: 1000, ...(NextToken ? { NextToken } : {}) }),
      ).then((o) => ({ n: o.AccessPoints?.length ?? 0, next: o.NextToken })),
    );
  }

  private applicationInferenceProfiles(): Promise<number> {
    return this.countPages('Bedrock ListInferenceProfiles', (nextToken) =>
      send<{ inferenceProfileSummaries?: unknown[]; nextToken?: string }>(
        this.clients.bedrock,
        new ListInferenceProfilesCommand({ typeEquals: 'APPLICATION', maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
      ).then((o) => ({ n: o.inferenceProfileSummaries?.length ?? 0, next: o.nextToken })),
    );
  }

  private async countPages(context: string, page: (token: string | undefined) => Promise<{ n: number; next: string | undefined }>): Promise<number> {
    let total = 0;
    let token: string | undefined;
    do {
      const out = await awsCall(context, () => page(token));
      total += out.n;
      token = out.next;
    } while (token);
    return total;
  }
}
