/**
 * The shape every Lambda entry point shares: parse the input with zod (a clear ValidationError
 * otherwise), run one use case, and let only stable OctwError names reach the state machine.
 */
import type { Context } from 'aws-lambda';
import type { z } from './zod';
import { OctwError, ValidationError } from '../domain/errors';
import { classifyAwsError } from './aws-errors';
import { logger, metrics } from './powertools';

export type LambdaHandler<TOut> = (event: unknown, context: Context) => Promise<TOut>;

export function makeHandler<S extends z.ZodMiniType, TOut>(
  name: string,
  schema: S,
  run: (input: z.infer<S>, context: Context) => Promise<TOut>,
): LambdaHandler<TOut> {
  return async (event, context) => {
    logger.addContext(context);
    const parsed = schema.safeParse(event);
    try {
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(input)', message: i.message }));
        throw new ValidationError(`${name}: invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
      }
      return await run(parsed.data, context);
    } catch (err) {
      const octw = err instanceof OctwError ? err : classifyAwsError(err, name);
      logger.error(`${name} failed`, { errorName: octw.name, error: octw });
      throw octw;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** The Catch output of a failed state: `{ Error, Cause }`. Cause is Lambda's JSON or plain text. */
export function describeCaught(caught: { Error?: string; Cause?: string } | undefined): { name: string; message: string } {
  if (!caught) return { name: 'Unknown', message: 'no error information' };
  let message = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // plain-text cause
  }
  return { name: caught.Error ?? 'Unknown', message: message.slice(0, 2000) };
}
