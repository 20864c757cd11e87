/** JSON-lines trace of every AWS call the handlers make. */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { ServiceName } from './core';
import type { IngressServiceName } from './ingress-errors';

export interface TraceEntry {
  readonly ts: string;
  readonly service: ServiceName | IngressServiceName;
  readonly operation: string;
  /** The request exactly as sent. */
  readonly input: unknown;
  readonly outcome: 'ok' | 'error';
  readonly error?: { readonly name: string; readonly message: string };
  /** Summary of the response: ids only, never secrets. */
  readonly output?: unknown;
  readonly invocation?: { readonly handler: string; readonly executionName?: string; readonly stateName?: string };
  /** Set on the entry of a call that succeeded and was then followed by an injected crash. */
  readonly crashedAfter?: boolean;
}

export class TraceWriter {
  constructor(
    private readonly file: string | undefined,
    private readonly sink: ((entry: TraceEntry) => void) | undefined,
  ) {
    if (file) writeFileSync(file, '');
  }

  write(entry: TraceEntry): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    this.sink?.(entry);
  }
}

const ID_KEYS = /(Id|Arn|Name|Ids|Arns|Names|arn|name|Status|status|revision|State)$/;

/** Keeps identifiers and states from a response, drops bulk and anything secret. */
export function summariseOutput(output: unknown, depth = 0): unknown {
  if (depth > 4 || output === null || output === undefined) return undefined;
  if (Array.isArray(output)) return output.slice(0, 20).map((v) => summariseOutput(v, depth + 1));
  if (typeof output !== 'object') return output;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(output)) {
    if (k === '$metadata' || k === 'RandomPassword' || k === 'SecretString') continue;
    if (typeof v === 'object' && v !== null) {
      const s = summariseOutput(v, depth + 1);
      if (s !== undefined && !(typeof s === 'object' && s !== null && Object.keys(s).length === 0)) out[k] = s;
    } else if (ID_KEYS.test(k)) out[k] = v;
  }
  return out;
}
