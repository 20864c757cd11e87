/** Runs the CLI in-process and captures what it writes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliClients } from '../../infra/cli/aws';
import { run } from '../../infra/cli/run';
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_REGION } from '../local-cloud/env';
import type { LocalCloud } from '../local-cloud/local-cloud';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { clients?: CliClients } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(
    argv,
    {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env,
      // --wait polls the local cloud: a short real pause lets its executions progress.
      sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    },
    options,
  );
  return { code, stdout, stderr };
}

/** The JSON error document the CLI writes on stderr with --json. */
export interface JsonError {
  name: string;
  message: string;
  exitCode: number;
  issues?: { path: string; message: string }[];
}

export function jsonError(result: CliResult): JsonError {
  return (JSON.parse(result.stderr) as { error: JsonError }).error;
}

/** Writes `content` (JSON unless a string) to a fresh temporary file; returns its path. */
export function tempFile(name: string, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'octw-cli-'));
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Clients that throw on use: a test handing them in fails if the CLI reaches AWS. */
export const noAws: CliClients = {
  get doc(): never {
    throw new Error('DynamoDB must not be called');
  },
  get sfn(): never {
    throw new Error('Step Functions must not be called');
  },
  get events(): never {
    throw new Error('EventBridge must not be called');
  },
  get sm(): never {
    throw new Error('Secrets Manager must not be called');
  },
  region: () => Promise.reject(new Error('region must not be resolved')),
  destroy: () => undefined,
};

/** The CLI's environment for a local cloud: its table, its state machines (named by catalogue key: ProvisionTenant, ...), its bus and Region. */
export function localCloudCliEnv(cloud: Pick<LocalCloud, 'tableName'>): Record<string, string> {
  return {
    OCTW_TABLE: cloud.tableName,
    OCTW_STATE_MACHINE_ARN_PREFIX: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:{key}`,
    OCTW_EVENT_BUS: LOCAL_CELL.eventBusName,
    AWS_REGION: LOCAL_REGION,
  };
}

/** Runs octw with `env()` (read at each call); with --wait it polls every 5 ms. */
export const cliWith =
  (env: () => Record<string, string>) =>
  (...argv: string[]): Promise<CliResult> =>
    runCli(argv.includes('--wait') ? [...argv, '--poll-interval', '5'] : argv, env());
