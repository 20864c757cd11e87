/** Runs the CLI in-process and captures what it writes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliClients } from '../../infra/cli/aws';
import { run } from '../../infra/cli/run';

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
