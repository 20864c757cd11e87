/**
 * The DynamoDB fault plug-in against the real DynamoDB Local: each kind fails the way DynamoDB
 * fails, under the SDK's own retry, and only inside a handler invocation.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { installDynamoDbFaults, type DynamoFaults } from '../local-cloud/dynamodb-faults';
import { createTenantsTable, uniqueTableName } from '../local-cloud/dynamodb-local';
import { runInvocation } from '../local-cloud/invocation-context';

const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '';
const tableName = uniqueTableName();
let client: DynamoDBClient;
let faults: DynamoFaults | undefined;

beforeAll(async () => {
  await createTenantsTable(endpoint, tableName);
  client = new DynamoDBClient({});
});
afterEach(() => {
  faults?.uninstall();
  faults = undefined;
});
afterAll(() => client.destroy());

const inHandler = <T>(fn: () => Promise<T>) => runInvocation({ invocationId: `i-${Math.random()}`, handler: 'Lifecycle' }, fn);
const put = (tenantId: string, conditional = true) =>
  client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: tenantId }, sk: { S: 'TENANT' }, n: { N: '1' } },
      ...(conditional ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
    }),
  );
const exists = async (tenantId: string) => (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: tenantId }, sk: { S: 'TENANT' } } }))).Item !== undefined;

describe('DynamoDB faults', () => {
  it('leaves calls outside a handler invocation alone', async () => {
    faults = installDynamoDbFaults({ rate: 1, seed: 1 });
    await put('outside');
    expect(faults.fired).toEqual([]);
  });

  it('throttles with ProvisionedThroughputExceededException, which the SDK retries itself until it gives up', async () => {
    faults = installDynamoDbFaults({ rate: 1, seed: 1, kinds: ['throttle'] });
    const err = (await inHandler(() => put('throttled')).catch((e: unknown) => e)) as Error & { $metadata: { attempts?: number } };
    expect(err.name).toBe('ProvisionedThroughputExceededException');
    // The SDK's default attempts for DynamoDB, every one of them throttled.
    expect(err.$metadata.attempts).toBeGreaterThan(1);
    expect(faults.fired).toHaveLength(err.$metadata.attempts!);
    expect(await exists('throttled')).toBe(false);
  });

  it('fails a transaction with TransactionCanceledException (reason TransactionConflict), not retried by the SDK', async () => {
    faults = installDynamoDbFaults({ rate: 1, seed: 1, kinds: ['conflict'] });
    const err = (await inHandler(() =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: tableName, Item: { pk: { S: 'tx-a' }, sk: { S: 'TENANT' } } } }, { Put: { TableName: tableName, Item: { pk: { S: 'tx-b' }, sk: { S: 'TENANT' } } } }],
        }),
      ),
    ).catch((e: unknown) => e)) as Error & { CancellationReasons?: { Code?: string }[]; $metadata: { attempts?: number } };
    expect(err.name).toBe('TransactionCanceledException');
    expect(err.CancellationReasons?.map((r) => r.Code)).toEqual(['TransactionConflict', 'None']);
    expect(err.$metadata.attempts).toBe(1);
    expect(await exists('tx-a')).toBe(false);
  });

  it('loses the response of a write that DynamoDB applied: the SDK retry then meets the write it already made', async () => {
    faults = installDynamoDbFaults({ rate: 1, seed: 1, kinds: ['lostResponse'] });
    // Every attempt is applied and its response lost: the first attempt's write makes the retry's condition fail.
    const err = (await inHandler(() => put('lost')).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('ConditionalCheckFailedException');
    expect(await exists('lost')).toBe(true);
    // The first attempt wrote, its response was lost; the retry's condition met that write (a 400, not retried).
    expect(faults.fired.map((f) => f.kind)).toEqual(['lostResponse', 'lostResponse']);
  });

  it('answers server errors with InternalServerError (500), retried by the SDK', async () => {
    faults = installDynamoDbFaults({ rate: 0.5, seed: 3, kinds: ['internal'] });
    for (let i = 0; i < 10; i++) await inHandler(() => put(`internal-${i}`, false)).catch(() => undefined);
    expect(faults.fired.length).toBeGreaterThan(0);
    expect(faults.fired.every((f) => f.kind === 'internal')).toBe(true);
  });

  describe('scheduled at one call site (the fault matrices)', () => {
    const inState = <T>(stateName: string, fn: () => Promise<T>) =>
      runInvocation({ invocationId: `i-${Math.random()}`, handler: 'Lifecycle', stateName }, fn);

    it('records each call once with its site, whatever its attempts, and faults only the scheduled site', async () => {
      faults = installDynamoDbFaults({ rate: 0, seed: 1 });
      faults.schedule({ site: 'Activate', operation: 'PutItem', kind: 'conflict' });
      await inState('Register', () => put('site-other'));
      expect(faults.fired).toEqual([]);
      expect(faults.pending).toHaveLength(1);
      expect(faults.calls).toEqual([{ operation: 'PutItem', handler: 'Lifecycle', site: 'Register' }]);
    });

    it('throttles every attempt of that one call, so the caller sees ProvisionedThroughputExceededException; the next call passes', async () => {
      faults = installDynamoDbFaults({ rate: 0, seed: 1 });
      faults.schedule({ site: 'Activate', operation: 'PutItem', kind: 'throttle' });
      const err = (await inState('Activate', () => put('sched-throttle')).catch((e: unknown) => e)) as Error & { $metadata: { attempts?: number } };
      expect(err.name).toBe('ProvisionedThroughputExceededException');
      expect(err.$metadata.attempts).toBeGreaterThan(1);
      expect(await exists('sched-throttle')).toBe(false);
      await inState('Activate', () => put('sched-throttle'));
      expect(await exists('sched-throttle')).toBe(true);
      expect(faults.fired).toEqual([{ operation: 'PutItem', kind: 'throttle', handler: 'Lifecycle', site: 'Activate', scheduled: true }]);
      expect(faults.pending).toEqual([]);
    });

    it('fails a single-item write once with TransactionConflictException, not retried by the SDK', async () => {
      faults = installDynamoDbFaults({ rate: 0, seed: 1 });
      faults.schedule({ site: 'Activate', operation: 'PutItem', kind: 'conflict' });
      const err = (await inState('Activate', () => put('sched-conflict')).catch((e: unknown) => e)) as Error & { $metadata: { attempts?: number } };
      expect(err.name).toBe('TransactionConflictException');
      expect(err.$metadata.attempts).toBe(1);
      expect(await exists('sched-conflict')).toBe(false);
    });

    it('lostResponse: the first attempt is applied and its response lost; the SDK retry meets that write', async () => {
      faults = installDynamoDbFaults({ rate: 0, seed: 1 });
      faults.schedule({ site: 'Activate', operation: 'PutItem', kind: 'lostResponse' });
      const conditional = (await inState('Activate', () => put('sched-lost')).catch((e: unknown) => e)) as Error;
      expect(conditional.name).toBe('ConditionalCheckFailedException');
      faults.schedule({ site: 'Activate', operation: 'PutItem', kind: 'lostResponse' });
      // An unconditional write simply succeeds on the SDK's retry.
      await inState('Activate', () => put('sched-lost-plain', false));
      expect(await exists('sched-lost')).toBe(true);
      expect(await exists('sched-lost-plain')).toBe(true);
    });

    it('lostResponseAll: every attempt is applied and lost, so the caller fails although the item was written', async () => {
      faults = installDynamoDbFaults({ rate: 0, seed: 1 });
      faults.schedule({ site: 'Activate', operation: 'PutItem', kind: 'lostResponseAll' });
      const err = (await inState('Activate', () => put('sched-lost-all', false)).catch((e: unknown) => e)) as Error & { $metadata?: { attempts?: number } };
      expect(err.name).toBe('TimeoutError');
      expect(await exists('sched-lost-all')).toBe(true);
    });
  });
});
