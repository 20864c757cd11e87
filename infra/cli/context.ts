/** Everything a command gets: configuration, clients (lazy) and the output channels. */
import type { CliClients } from './aws';
import type { CliConfig } from './config';
import type { CliIo } from './io';

export interface CommandContext {
  readonly io: CliIo;
  readonly config: CliConfig;
  readonly clients: CliClients;
  readonly json: boolean;
  /** Human output on stdout (not used with --json). */
  print(text: string): void;
  /** Notes and progress on stderr (suppressed with --json). */
  note(text: string): void;
  /** The one JSON document on stdout (--json). */
  emit(doc: unknown): void;
}
