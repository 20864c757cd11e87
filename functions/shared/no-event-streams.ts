/**
 * What every function bundle gets for `@smithy/core/event-streams` (infra/constructs/bundling.ts
 * replaces that module with this one in function bundles only; tests, the local cloud and the CLI
 * keep the SDK's own).
 *
 * Event streams (a response or request body of framed messages: CloudWatch Logs StartLiveTail,
 * S3 SelectObjectContent, Lambda InvokeWithResponseStream, Bedrock runtime streaming...) are never
 * used by the functions: test/infra/bundle-replacements.test.ts checks that no command they import
 * has an event-stream member. The SDK's protocol reaches the event-stream serde through a dynamic
 * import that esbuild bundles anyway (about 18.5 KB of every bundle with the framing code only it uses); clients with event-stream
 * operations (CloudWatch Logs, S3) also build a marshaller when constructed.
 *
 * So this module keeps the names those call sites use, builds a marshaller that cannot marshal,
 * and fails with a clear error if an event-stream operation is ever sent from a function bundle.
 */
export class EventStreamsNotBundledError extends Error {
  override readonly name = 'EventStreamsNotBundledError';
  constructor(what: string) {
    super(
      `AWS SDK event streams are not in this function bundle (${what}): infra/constructs/bundling.ts replaces @smithy/core/event-streams; ` +
        'a function that sends an event-stream operation needs that replacement removed',
    );
  }
}

/** The marshaller a client with event-stream operations builds at construction: it refuses to marshal. */
export class EventStreamMarshaller {
  serialize(): never {
    throw new EventStreamsNotBundledError('serialize an event stream');
  }
  deserialize(): never {
    throw new EventStreamsNotBundledError('deserialize an event stream');
  }
}

export const eventStreamSerdeProvider = (_options?: unknown): EventStreamMarshaller => new EventStreamMarshaller();

/** As the SDK's: the client config gains the marshaller its provider builds. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(
  input: T,
): T & { eventStreamMarshaller: unknown } => Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** What the protocol constructs when an operation has an event-stream member: fails there, before any request. */
export class EventStreamSerde {
  constructor(_options?: unknown) {
    throw new EventStreamsNotBundledError('an operation with an event-stream member');
  }
}
