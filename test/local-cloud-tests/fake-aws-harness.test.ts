import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecurityGroupCommand, CreateVpcCommand, DescribeSecurityGroupsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, GetRoleCommand, IAMServiceException } from '@aws-sdk/client-iam';
import { CreateLogGroupCommand, ThrottlingException } from '@aws-sdk/client-cloudwatch-logs';
import { ServerException } from '@aws-sdk/client-ecs';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { runInvocation, SimulatedCrashError } from '../local-cloud/invocation-context';
import type { InvocationContext } from '../local-cloud/invocation-context';
import { FakeAws, installFakeAws, ManualClock, NotEmulatedError } from '../local-cloud/fake-aws';
import type { TraceEntry } from '../local-cloud/fake-aws';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { clients, CLUSTER, errorOf, setUp, VPC } from '../local-cloud/fake-aws/testing';

const { ec2, iam, logs, ecs } = clients;
const trust = JSON.stringify({ Version: '2012-10-17', Statement: [] });
let h: Harness;
afterEach(() => h.uninstall());

const createSg = (name: string) => ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'd', VpcId: VPC }));

describe('plug-in', () => {
  beforeEach(() => {
    h = setUp();
  });

  it('routes clients created before installation to the fake, and fails loudly for an operation it does not emulate', async () => {
    await createSg('a');
    expect(h.fake.securityGroup('a')).toBeDefined();
    const err = await errorOf(() => ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' })));
    expect(err).toBeInstanceOf(NotEmulatedError);
    expect(err.message).toContain('EC2 CreateVpc is not emulated');
  });

  it('leaves DynamoDB and Step Functions clients alone while patching the emulated ones', () => {
    expect(Object.prototype.hasOwnProperty.call(DynamoDBClient.prototype, 'send')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(SFNClient.prototype, 'send')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(EC2Client.prototype, 'send')).toBe(true);
  });

  it('captures EventBridge PutEvents entries and tells subscribers', async () => {
    const seen: PutEventsRequestEntry[][] = [];
    h.fake.onPutEvents((entries) => seen.push(entries));
    const eb = new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const entry = { Source: 'octw.signup', DetailType: 'TenantSignedUp', Detail: '{"tenantId":"acme"}' };
    const out = await eb.send(new PutEventsCommand({ Entries: [entry] }));
    expect(out.FailedEntryCount).toBe(0);
    expect(h.fake.events).toEqual([entry]);
    expect(seen).toEqual([[entry]]);
  });

  it('restores the clients on uninstall', () => {
    h.uninstall();
    h = { ...h, uninstall: () => undefined };
    expect(Object.prototype.hasOwnProperty.call(EC2Client.prototype, 'send')).toBe(false);
    const again = installFakeAws(new FakeAws({ throttling: { enabled: false } }));
    again();
  });
});

describe('throttling', () => {
  it('answers RequestLimitExceeded once the EC2 mutating burst is spent, and recovers after refill', async () => {
    h = setUp({ throttling: { enabled: true, buckets: { 'EC2:CreateSecurityGroup': { burst: 3, refillPerSecond: 1 } } } });
    for (let n = 0; n < 3; n++) await createSg(`g${n}`);
    const err = await errorOf(() => createSg('g3'));
    expect(err).toBeInstanceOf(EC2ServiceException);
    expect(err.name).toBe('RequestLimitExceeded');
    expect(err.$metadata?.httpStatusCode).toBe(503);
    // Other EC2 APIs have their own buckets.
    await ec2.send(new DescribeSecurityGroupsCommand({}));
    h.clock.advance(999);
    expect((await errorOf(() => createSg('g3'))).name).toBe('RequestLimitExceeded');
    h.clock.advance(1);
    await createSg('g3');
    expect(h.fake.securityGroup('g3')).toBeDefined();
  });

  it('uses the published defaults: CloudWatch Logs CreateLogGroup allows 5 per second (ThrottlingException)', async () => {
    h = setUp({ throttling: { enabled: true } });
    for (let n = 0; n < 5; n++) await logs.send(new CreateLogGroupCommand({ logGroupName: `/g${n}` }));
    expect(await errorOf(() => logs.send(new CreateLogGroupCommand({ logGroupName: '/g5' })))).toBeInstanceOf(ThrottlingException);
    h.clock.advance(200);
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/g5' }));
  });

  it('answers IAM throttling with the code Throttling, and never throttles when disabled', async () => {
    h = setUp({ throttling: { enabled: true, buckets: { 'IAM:write': { burst: 1, refillPerSecond: 1 } } } });
    await iam.send(new CreateRoleCommand({ RoleName: 'a', AssumeRolePolicyDocument: trust }));
    const err = await errorOf(() => iam.send(new CreateRoleCommand({ RoleName: 'b', AssumeRolePolicyDocument: trust })));
    expect(err).toBeInstanceOf(IAMServiceException);
    expect(err.name).toBe('Throttling');
    h.fake.throttling.enabled = false;
    await iam.send(new CreateRoleCommand({ RoleName: 'b', AssumeRolePolicyDocument: trust }));
  });
});

describe('fault injection', () => {
  beforeEach(() => {
    h = setUp();
  });

  it('fails the nth call of an operation with a transient 5xx error, leaving other calls untouched', async () => {
    h.fake.inject({ service: 'EC2', operation: 'CreateSecurityGroup', nth: 2, kind: 'transient' });
    await createSg('a');
    const err = await errorOf(() => createSg('b'));
    expect([err.name, err.$fault, err.$metadata?.httpStatusCode]).toEqual(['ServiceUnavailable', 'server', 503]);
    expect(h.fake.securityGroup('b')).toBeUndefined();
    await createSg('b');
  });

  it('uses the modelled class for a transient ECS failure and a permanent access-denied error for `times` calls', async () => {
    h.fake.inject({ service: 'ECS', operation: 'DescribeServices', kind: 'transient' });
    expect(await errorOf(() => ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['x'] })))).toBeInstanceOf(ServerException);
    h.fake.inject({ service: 'IAM', operation: 'GetRole', kind: 'permanent', times: 2 });
    await iam.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: trust }));
    for (let n = 0; n < 2; n++) {
      const err = await errorOf(() => iam.send(new GetRoleCommand({ RoleName: 'r' })));
      expect([err.name, err.$fault]).toEqual(['AccessDenied', 'client']);
    }
    await iam.send(new GetRoleCommand({ RoleName: 'r' }));
  });

  it('applies the call, then crashes the invocation: later calls in it fail without effect, other invocations carry on', async () => {
    h.fake.inject({ service: 'EC2', operation: 'CreateSecurityGroup', kind: 'crashAfterSuccess' });
    const ctx: InvocationContext = { invocationId: 'i-1', handler: 'Network', executionName: 'acme-1', stateName: 'CreateNetwork' };
    const err = await errorOf(() =>
      runInvocation(ctx, async () => {
        await createSg('a');
        return 'unreachable';
      }),
    );
    expect(err).toBeInstanceOf(SimulatedCrashError);
    expect(ctx.crashed).toEqual({ service: 'EC2', operation: 'CreateSecurityGroup' });
    expect(h.fake.securityGroup('a')).toBeDefined();
    const later = await errorOf(() => runInvocation(ctx, () => createSg('b')));
    expect(later).toBeInstanceOf(SimulatedCrashError);
    expect(h.fake.securityGroup('b')).toBeUndefined();
    await runInvocation({ invocationId: 'i-2', handler: 'Network' }, () => createSg('b'));
    expect(h.fake.securityGroup('b')).toBeDefined();
  });

  it('fails about the configured fraction of attempts on the wire, and the SDK retries them as it retries AWS 5xx', async () => {
    h.uninstall();
    h = setUp({ faultRate: 0.3, seed: 7 });
    let failed = 0;
    let retried = 0;
    for (let n = 0; n < 200; n++) {
      try {
        const out = await ec2.send(new DescribeSecurityGroupsCommand({}));
        if ((out.$metadata.attempts ?? 1) > 1) retried++;
      } catch (e) {
        expect((e as EC2ServiceException).$metadata.attempts).toBe(3);
        failed++;
      }
    }
    const attempts = h.fake.calls.filter((c) => c.operation === 'DescribeSecurityGroups');
    const faulted = attempts.filter((c) => c.outcome === 'error').length;
    // Per attempt: about 30 %. Per call, after the SDK's 3 attempts: about 0.3^3 = 2.7 %.
    expect(faulted / attempts.length).toBeGreaterThan(0.2);
    expect(faulted / attempts.length).toBeLessThan(0.4);
    expect(retried).toBeGreaterThan(30);
    expect(failed).toBeLessThan(20);
    expect(attempts.length).toBe(200 - failed + faulted);
  });

  it('hands a scheduled fault to the caller without the SDK retrying it (it stands for a fault the SDK gave up on)', async () => {
    h.fake.inject({ service: 'EC2', operation: 'DescribeSecurityGroups', kind: 'transient' });
    const err = await errorOf(() => ec2.send(new DescribeSecurityGroupsCommand({})));
    expect(err.name).toBe('ServiceUnavailable');
    expect(h.fake.calls.filter((c) => c.operation === 'DescribeSecurityGroups')).toHaveLength(1);
  });
});

describe('trace', () => {
  it('writes one JSON line per call with service, operation, input as sent, outcome and invocation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'octw-trace-'));
    const file = join(dir, 'trace.jsonl');
    const sink: TraceEntry[] = [];
    const clock = new ManualClock();
    const fake = new FakeAws({ clock, throttling: { enabled: false }, trace: { file, sink: (e) => sink.push(e) } });
    const uninstall = installFakeAws(fake);
    h = { fake, clock, uninstall };
    const input = { GroupName: 'a', Description: 'd', VpcId: VPC };
    await runInvocation({ invocationId: 'i', handler: 'Network', executionName: 'e', stateName: 's' }, () => ec2.send(new CreateSecurityGroupCommand(input)));
    await errorOf(() => ec2.send(new CreateSecurityGroupCommand(input)));
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceEntry);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual(
      expect.objectContaining({
        service: 'EC2',
        operation: 'CreateSecurityGroup',
        input,
        outcome: 'ok',
        invocation: { handler: 'Network', executionName: 'e', stateName: 's' },
      }),
    );
    expect((lines[0]!.output as { GroupId: string }).GroupId).toMatch(/^sg-/);
    expect(lines[1]).toEqual(expect.objectContaining({ outcome: 'error', error: expect.objectContaining({ name: 'InvalidGroup.Duplicate' }) }));
    expect(sink).toEqual(lines);
  });
});

describe('inspection', () => {
  it('lists every live resource of a tenant across services and nothing of other tenants', async () => {
    h = setUp();
    const tags = [{ Key: 'octw:tenant', Value: 'acme' }];
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'octw-acme', Description: 'd', VpcId: VPC, TagSpecifications: [{ ResourceType: 'security-group', Tags: tags }] }));
    await iam.send(new CreateRoleCommand({ RoleName: 'octw-tenant-acme', AssumeRolePolicyDocument: trust, Tags: tags }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/octw/tenants/acme', tags: { 'octw:tenant': 'acme' } }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/octw/tenants/zed', tags: { 'octw:tenant': 'zed' } }));
    expect(h.fake.resourcesByTenant('acme').map((r) => r.type).sort()).toEqual(['AWS::EC2::SecurityGroup', 'AWS::IAM::Role', 'AWS::Logs::LogGroup']);
    expect(h.fake.allResources()).toHaveLength(4);
  });
});
