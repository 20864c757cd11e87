/** What a command needs from its surroundings, so that tests can run it in-process. */
import type { Env } from './config';

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  /** OCTW_* configuration and AWS_REGION (the SDK itself reads process.env for credentials and endpoints). */
  readonly env: Env;
  /** Base directory of relative --file paths. Default process.cwd(). */
  readonly cwd?: string;
  /** Pause between --wait polls; tests pass a short one. Default setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Reads all of stdin (a credential given as FIELD=- or `--key-file -`). Default: the process's stdin. */
  readonly readStdin?: () => Promise<string>;
}
