/** Binds `run` to the real process: argv, stdout/stderr, environment, exit code. */
import { run } from './run';

export async function main(argv: readonly string[]): Promise<number> {
  return run(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}
