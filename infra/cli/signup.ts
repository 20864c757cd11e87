/** `octw signup --file event.json`: a TenantSignedUp event on the bus, as a signup service would put it. */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { SignupRequestSchema } from '../../functions/domain/tenant';
import type { CommandContext } from './context';
import { awsCodeOf, AwsCallError, UsageError } from './errors';
import { readJsonFile, validate } from './inputs';

export const SIGNUP_DETAIL_TYPE = 'TenantSignedUp';

/** A PutEvents entry as in state-machines/examples/tenant-signed-up.event.json (Detail as text or object). */
const EntrySchema = z
  .object({
    Source: z.string().min(1).optional(),
    DetailType: z.literal(SIGNUP_DETAIL_TYPE, { error: `DetailType must be "${SIGNUP_DETAIL_TYPE}"` }).optional(),
    Detail: z.union([z.string(), z.record(z.string(), z.unknown())]),
    EventBusName: z.string().min(1).optional(),
  })
  .strict();

export async function putSignup(ctx: CommandContext, file: string | undefined): Promise<void> {
  const content = await readJsonFile(file, '--file', ctx.io.cwd ?? process.cwd());
  const isEntry = typeof content === 'object' && content !== null && ('Detail' in content || 'DetailType' in content);
  const entry = isEntry ? validate(EntrySchema, content, `event ${file ?? ''}`.trim()) : undefined;
  let detail: unknown = entry ? entry.Detail : content;
  if (typeof detail === 'string') {
    try {
      detail = JSON.parse(detail) as unknown;
    } catch {
      throw new UsageError(`--file ${file ?? ''}: Detail is not valid JSON`);
    }
  }
  const request = validate(SignupRequestSchema, detail, 'signup detail');
  const source = entry?.Source ?? ctx.config.signupSource();
  const eventBusName = entry?.EventBusName ?? ctx.config.eventBusName();

  let out;
  try {
    out = await ctx.clients.events.send(
      new PutEventsCommand({ Entries: [{ Source: source, DetailType: SIGNUP_DETAIL_TYPE, Detail: JSON.stringify(detail), EventBusName: eventBusName }] }),
    );
  } catch (err) {
    throw new AwsCallError(awsCodeOf(err) ?? 'PutEventsError', `PutEvents on ${eventBusName}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const result = out.Entries?.[0];
  if ((out.FailedEntryCount ?? 0) > 0 || result?.EventId === undefined) {
    throw new AwsCallError(result?.ErrorCode ?? 'PutEventsFailed', `PutEvents on ${eventBusName} refused the event: ${result?.ErrorMessage ?? 'no event id returned'}`);
  }
  const doc = { eventId: result.EventId, eventBusName, source, detailType: SIGNUP_DETAIL_TYPE, tenantId: request.tenantId };
  if (ctx.json) ctx.emit(doc);
  else {
    ctx.note(`TenantSignedUp for ${request.tenantId} put on ${eventBusName} (source ${source})`);
    ctx.print(`${result.EventId}\n`);
  }
}
