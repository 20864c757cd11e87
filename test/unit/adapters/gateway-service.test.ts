import { DescribeServicesCommand, ECSClient, type Service } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { GatewayServices } from '../../../functions/adapters/gateway-service';
import { PermanentAwsError } from '../../../functions/domain/errors';

const ecs = mockClient(ECSClient);
const sleeps: number[] = [];
const services = new GatewayServices(new ECSClient({ region: 'eu-west-1' }), { cell: 'cell-1', clusterName: 'octw-cell-1', subnetIds: ['subnet-1'] }, (ms) => {
  sleeps.push(ms);
  return Promise.resolve();
});
const TD = 'arn:aws:ecs:eu-west-1:1:task-definition/octw-cell-1--acme:1';
const serviceWith = (rolloutState: 'IN_PROGRESS' | 'COMPLETED', running: number): Service => ({
  serviceName: 'octw-cell-1--acme',
  status: 'ACTIVE',
  taskDefinition: TD,
  runningCount: running,
  deployments: [{ status: 'PRIMARY', taskDefinition: TD, rolloutState, runningCount: running, pendingCount: 1 - running }],
});
const unavailable = () => Object.assign(new Error('The request has failed due to a temporary failure of the server.'), { name: 'ServiceUnavailableException', $fault: 'server' as const, $metadata: { httpStatusCode: 503 } });
const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $fault: 'client' as const, $metadata: { httpStatusCode: 400 } });

afterEach(() => {
  ecs.reset();
  sleeps.length = 0;
});

describe('GatewayServices.waitForSteady', () => {
  it('keeps waiting through a transient DescribeServices failure and returns STEADY once the gateway is healthy', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [serviceWith('IN_PROGRESS', 0)] })
      .rejectsOnce(unavailable())
      .rejectsOnce(unavailable())
      .resolves({ services: [serviceWith('COMPLETED', 1)] });
    await expect(services.waitForSteady('acme', { budgetMs: 60_000, pollMs: 100, expectedTaskDefinition: TD })).resolves.toEqual({
      state: 'STEADY',
      runningCount: 1,
      taskDefinition: TD,
    });
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 4);
    // Backs off after each failed read, then returns to the normal pace.
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it('returns PENDING (not an error) when every read in the budget failed transiently', async () => {
    ecs.on(DescribeServicesCommand).rejects(unavailable());
    await expect(services.waitForSteady('acme', { budgetMs: 0, pollMs: 100 })).resolves.toMatchObject({ state: 'PENDING' });
  });

  it('fails at once on a permanent error', async () => {
    ecs.on(DescribeServicesCommand).rejects(denied());
    await expect(services.waitForSteady('acme', { budgetMs: 60_000, pollMs: 100 })).rejects.toBeInstanceOf(PermanentAwsError);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
  });
});

describe('GatewayServices.waitForDeleted', () => {
  it('keeps waiting through a transient failure and reports the service gone once it is INACTIVE', async () => {
    ecs
      .on(DescribeServicesCommand)
      .rejectsOnce(unavailable())
      .resolvesOnce({ services: [{ ...serviceWith('COMPLETED', 1), status: 'DRAINING' }] })
      .resolves({ services: [{ ...serviceWith('COMPLETED', 0), status: 'INACTIVE' }] });
    await expect(services.waitForDeleted('acme', { budgetMs: 60_000, pollMs: 100 })).resolves.toBe(true);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 3);
  });
});
