/**
 * Service Quotas, the two reads the quota guard makes (issue 13.5): GetServiceQuota (the account's
 * applied value) and GetAWSDefaultServiceQuota (AWS's default). Behaviour and errors from the Service
 * Quotas API Reference and the client's modelled exceptions (@aws-sdk/client-service-quotas 3.1138.0,
 * JSON protocol):
 * - an unknown service code or quota code: NoSuchResourceException;
 * - GetServiceQuota of a quota the account has no applied value for: NoSuchResourceException ("If the
 *   applied quota value is not available for a quota, the quota is not retrieved"); the caller then
 *   reads the default. `setApplied` gives the account a value (what an approved increase, or a lower
 *   test limit, does);
 * - a missing ServiceCode or QuotaCode: IllegalArgumentException;
 * - throttling: TooManyRequestsException (through the fake's token buckets and fault injection).
 * Defaults are AWS's as Service Quotas lists them; the Region the client asks in is not modelled
 * (IAM's global quotas are answered in us-east-1 in AWS).
 */
import * as sq from '@aws-sdk/client-service-quotas';
import type { ResourceRef } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta } from './errors';

export interface FakeQuota {
  readonly serviceCode: string;
  readonly serviceName: string;
  readonly quotaCode: string;
  readonly quotaName: string;
  readonly defaultValue: number;
  readonly global?: boolean;
}

/** The quotas the fake knows, with AWS's defaults. */
export const KNOWN_QUOTAS: readonly FakeQuota[] = [
  { serviceCode: 'fargate', serviceName: 'AWS Fargate', quotaCode: 'L-3032A538', quotaName: 'Fargate On-Demand vCPU resource count', defaultValue: 4000 },
  { serviceCode: 'fargate', serviceName: 'AWS Fargate', quotaCode: 'L-36FBB829', quotaName: 'Fargate Spot vCPU resource count', defaultValue: 4000 },
  { serviceCode: 'iam', serviceName: 'AWS Identity and Access Management (IAM)', quotaCode: 'L-FE177D64', quotaName: 'Roles per account', defaultValue: 1000, global: true },
  { serviceCode: 'vpc', serviceName: 'Amazon Virtual Private Cloud (Amazon VPC)', quotaCode: 'L-E79EC296', quotaName: 'VPC security groups per Region', defaultValue: 2500 },
  { serviceCode: 'vpc', serviceName: 'Amazon Virtual Private Cloud (Amazon VPC)', quotaCode: 'L-0EA8095F', quotaName: 'Inbound or outbound rules per security group', defaultValue: 60 },
  { serviceCode: 'vpc', serviceName: 'Amazon Virtual Private Cloud (Amazon VPC)', quotaCode: 'L-DF5E4CA3', quotaName: 'Network interfaces per Region', defaultValue: 5000 },
  { serviceCode: 'elasticloadbalancing', serviceName: 'Elastic Load Balancing (ELB)', quotaCode: 'L-B22855CB', quotaName: 'Target Groups per Region', defaultValue: 3000 },
];

const noSuch = (message: string) => new sq.NoSuchResourceException({ message, $metadata: meta(400) });
const illegal = (message: string) => new sq.IllegalArgumentException({ message, $metadata: meta(400) });

export class ServiceQuotasFake implements EmulatedService {
  readonly name = 'ServiceQuotas' as const;
  private readonly applied = new Map<string, number>();

  constructor(private readonly ctx: ServiceContext) {}

  /** The account's applied value of a known quota (an approved increase, or a test's low limit). */
  setApplied(serviceCode: string, quotaCode: string, value: number): void {
    this.find(serviceCode, quotaCode);
    this.applied.set(`${serviceCode}/${quotaCode}`, value);
  }

  clearApplied(): void {
    this.applied.clear();
  }

  private find(serviceCode: string | undefined, quotaCode: string | undefined): FakeQuota {
    if (!serviceCode || !quotaCode) throw illegal('ServiceCode and QuotaCode are required.');
    if (!KNOWN_QUOTAS.some((q) => q.serviceCode === serviceCode)) throw noSuch(`The request failed because the specified service ${serviceCode} does not exist.`);
    const quota = KNOWN_QUOTAS.find((q) => q.serviceCode === serviceCode && q.quotaCode === quotaCode);
    if (!quota) throw noSuch(`The request failed because the specified quota ${quotaCode} does not exist for service ${serviceCode}.`);
    return quota;
  }

  private shape(q: FakeQuota, value: number): sq.ServiceQuota {
    const region = q.global ? 'us-east-1' : this.ctx.config.region;
    return {
      ServiceCode: q.serviceCode,
      ServiceName: q.serviceName,
      QuotaArn: `arn:aws:servicequotas:${region}:${this.ctx.config.account}:${q.serviceCode}/${q.quotaCode}`,
      QuotaCode: q.quotaCode,
      QuotaName: q.quotaName,
      Value: value,
      Unit: 'None',
      Adjustable: true,
      GlobalQuota: q.global === true,
    };
  }

  readonly operations = {
    GetServiceQuota: op((i: sq.GetServiceQuotaCommandInput): sq.GetServiceQuotaCommandOutput => {
      const q = this.find(i.ServiceCode, i.QuotaCode);
      const value = this.applied.get(`${q.serviceCode}/${q.quotaCode}`);
      if (value === undefined) throw noSuch(`The request failed because the applied value of quota ${q.quotaCode} is not available.`);
      return { $metadata: {}, Quota: this.shape(q, value) };
    }),
    GetAWSDefaultServiceQuota: op((i: sq.GetAWSDefaultServiceQuotaCommandInput): sq.GetAWSDefaultServiceQuotaCommandOutput => {
      const q = this.find(i.ServiceCode, i.QuotaCode);
      return { $metadata: {}, Quota: this.shape(q, q.defaultValue) };
    }),
  };

  resources(): ResourceRef[] {
    return [];
  }
}
