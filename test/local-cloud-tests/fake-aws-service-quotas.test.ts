/**
 * Fidelity of what the quota guard reads from the fake (issue 13.5), through the real SDK clients:
 * Service Quotas (applied value vs AWS default, NoSuchResourceException, IllegalArgumentException,
 * TooManyRequestsException as the client's own classes), IAM's account summary, EC2 network
 * interfaces and subnets (InvalidSubnetID.NotFound), and Fargate vCPU in AWS/Usage.
 */
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  IllegalArgumentException,
  NoSuchResourceException,
  ServiceQuotasClient,
  TooManyRequestsException,
} from '@aws-sdk/client-service-quotas';
import { GetAccountSummaryCommand, IAMClient } from '@aws-sdk/client-iam';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { errorOf, setUp, VPC } from '../local-cloud/fake-aws/testing';

const creds = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 };
const sq = new ServiceQuotasClient(creds);
const ec2 = new EC2Client(creds);
const iam = new IAMClient(creds);

let h: Harness;
beforeEach(() => {
  h = setUp();
});
afterEach(() => h.uninstall());

describe('Service Quotas', () => {
  it('answers NoSuchResourceException for a quota without an applied value, and the AWS default from GetAWSDefaultServiceQuota', async () => {
    const err = await errorOf(() => sq.send(new GetServiceQuotaCommand({ ServiceCode: 'vpc', QuotaCode: 'L-E79EC296' })));
    expect(err).toBeInstanceOf(NoSuchResourceException);
    const dflt = await sq.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'vpc', QuotaCode: 'L-E79EC296' }));
    expect(dflt.Quota).toMatchObject({ QuotaCode: 'L-E79EC296', QuotaName: 'VPC security groups per Region', Value: 2500 });
  });

  it('returns the applied value once the account has one', async () => {
    h.fake.serviceQuotas.setApplied('fargate', 'L-3032A538', 48);
    const out = await sq.send(new GetServiceQuotaCommand({ ServiceCode: 'fargate', QuotaCode: 'L-3032A538' }));
    expect(out.Quota).toMatchObject({ Value: 48, ServiceCode: 'fargate', QuotaArn: 'arn:aws:servicequotas:us-east-1:123456789012:fargate/L-3032A538' });
  });

  it('refuses an unknown service or quota code with NoSuchResourceException, a missing code with IllegalArgumentException', async () => {
    expect(await errorOf(() => sq.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'nope', QuotaCode: 'L-E79EC296' })))).toBeInstanceOf(NoSuchResourceException);
    expect(await errorOf(() => sq.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'vpc', QuotaCode: 'L-00000000' })))).toBeInstanceOf(NoSuchResourceException);
    expect(await errorOf(() => sq.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'vpc', QuotaCode: '' })))).toBeInstanceOf(IllegalArgumentException);
  });

  it('throttles with TooManyRequestsException', async () => {
    h.fake.inject({ service: 'ServiceQuotas', operation: 'GetAWSDefaultServiceQuota', kind: 'throttle' });
    expect(await errorOf(() => sq.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'vpc', QuotaCode: 'L-E79EC296' })))).toBeInstanceOf(TooManyRequestsException);
  });
});

describe('usage the guard counts', () => {
  it('IAM GetAccountSummary counts the roles the fake holds and the others of the account', async () => {
    h.fake.iam.otherRoles = 7;
    const out = await iam.send(new GetAccountSummaryCommand({}));
    expect(out.SummaryMap).toMatchObject({ Roles: 7, RolesQuota: 1000 });
  });

  it('EC2 DescribeSubnets answers free addresses (CIDR minus the 5 AWS reserves) and InvalidSubnetID.NotFound for an unknown id', async () => {
    h.fake.ec2.network?.addSubnet({ subnetId: 'subnet-0a', vpcId: VPC, cidr: '10.0.0.0/28' });
    const out = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0a'] }));
    expect(out.Subnets?.[0]).toMatchObject({ SubnetId: 'subnet-0a', AvailableIpAddressCount: 11 });
    const err = await errorOf(() => ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0b'] })));
    expect(err.name).toBe('InvalidSubnetID.NotFound');
  });
});
