/**
 * The quota guard's reading of Bedrock application inference profiles (functions/adapters/quota-readings.ts)
 * against the Bedrock fake through the real SDK clients: the usage is every application profile of
 * the Region (every page of ListInferenceProfiles, typeEquals APPLICATION; other workloads' too, as
 * the quota counts them), the limit the cell's configured value.
 */
import { BedrockClient, CreateInferenceProfileCommand } from '@aws-sdk/client-bedrock';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { AwsQuotaReadings } from '../../../functions/adapters/quota-readings';
import { setUp, type Harness } from '../../local-cloud/fake-aws/testing';

const config = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
const bedrock = new BedrockClient(config);
const FM = 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0';

const readings = (applicationInferenceProfiles: number) =>
  new AwsQuotaReadings(
    {
      serviceQuotas: new ServiceQuotasClient(config),
      serviceQuotasIam: new ServiceQuotasClient(config),
      cloudwatch: new CloudWatchClient(config),
      iam: new IAMClient(config),
      ec2: new EC2Client(config),
      efs: new EFSClient(config),
      elbv2: new ElasticLoadBalancingV2Client(config),
      bedrock,
    },
    { fileSystemId: 'fs-0123456789abcdef0', subnetIds: [], accessPointsPerFileSystem: 10_000, applicationInferenceProfiles },
  );

let h: Harness;
beforeEach(() => {
  h = setUp({ limits: { applicationInferenceProfiles: 2_000 } });
});
afterEach(() => h.uninstall());

async function createProfiles(n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        bedrock.send(new CreateInferenceProfileCommand({ inferenceProfileName: `${prefix}-${i + j}`, modelSource: { copyFrom: FM } })),
      ),
    );
  }
}

describe('AwsQuotaReadings: application inference profiles', () => {
  it('reads 0 used of the configured limit in an empty Region', async () => {
    expect(await readings(1000).read(['applicationInferenceProfiles'])).toEqual([{ id: 'applicationInferenceProfiles', limit: 1000, usage: 0, source: 'config' }]);
  });

  it('counts every application profile of the Region over every page, whoever made it', async () => {
    await createProfiles(700, 'octw-local.tenant');
    await createProfiles(301, 'another-workload');
    const before = h.fake.calls.length;
    expect(await readings(1000).read(['applicationInferenceProfiles'])).toEqual([{ id: 'applicationInferenceProfiles', limit: 1000, usage: 1001, source: 'config' }]);
    const lists = h.fake.calls.slice(before).filter((c) => c.operation === 'ListInferenceProfiles');
    // 1,001 profiles: two pages of at most 1,000, application profiles only.
    expect(lists.map((c) => c.input)).toEqual([
      { typeEquals: 'APPLICATION', maxResults: 1000 },
      { typeEquals: 'APPLICATION', maxResults: 1000, nextToken: expect.any(String) },
    ]);
    expect(h.fake.calls.slice(before).every((c) => c.service === 'Bedrock')).toBe(true);
  });
});
