/** Local validation of what the operator typed or pointed at, with the platform's own schemas. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { ValidationError } from '../../functions/domain/errors';
import { TenantIdSchema } from '../../functions/domain/tenant';
import { UsageError } from './errors';

/** Parses with a zod schema; failures become a ValidationError listing every issue (exit 2). */
export function validate<S extends z.core.$ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  throw new ValidationError(`${what} is not valid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`, issues);
}

export function parseTenantId(value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError('missing tenant id (octw tenants <command> ID)');
  return validate(TenantIdSchema, value, `tenant id "${value}"`);
}

/** Reads and parses a JSON file; an unreadable or malformed file is a usage error. */
export async function readJsonFile(path: string | undefined, flag: string, cwd: string): Promise<unknown> {
  if (path === undefined || path === '') throw new UsageError(`missing ${flag} FILE`);
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unreadable';
    throw new UsageError(`${flag} ${path}: cannot read the file (${code})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}
