/**
 * Configuration from the environment, parsed with zod at cold start. A missing or malformed
 * variable fails the function at load time with a message naming it; there are no silent defaults.
 * The variables and their parsers are in ./env-vars.ts; a function names the ones it reads:
 * `loadEnv([vars.TABLE_NAME, vars.CELL_ID])`.
 */
import * as z from './zod';
import type { EnvVarDefinition } from './env-vars';

/** The parsed values of `D`, by variable name. */
export type EnvOf<D extends readonly EnvVarDefinition[]> = { [E in D[number] as E['name']]: z.infer<ReturnType<E['schema']>> };

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Parses exactly the variables `definitions` from `source` (default process.env). Throws naming every bad one. */
export function loadEnv<const D extends readonly EnvVarDefinition[]>(definitions: D, source: NodeJS.ProcessEnv = process.env): EnvOf<D> {
  const schema = z.object(Object.fromEntries(definitions.map((d) => [d.name, d.schema()])));
  const result = schema.safeParse(source);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`Invalid environment: ${details}`);
  }
  return result.data as EnvOf<D>;
}

/** AWS account and region of the running function (Lambda sets AWS_REGION; the account comes from the ARN). */
export function regionFromEnv(source: NodeJS.ProcessEnv = process.env): string {
  const region = source.AWS_REGION ?? source.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigurationError('Invalid environment: AWS_REGION is not set');
  return region;
}
