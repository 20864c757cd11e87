/**
 * EventBridge adapter: one event per lifecycle transition (and per refused signup).
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { TransientAwsError } from '../domain/errors';
import { awsCall } from '../shared/aws-errors';

export interface EventPublisher {
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source: string,
  ) {}

  async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    const out = await awsCall(`EventBridge PutEvents ${detailType}`, () =>
      this.client.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: this.busName, Source: this.source, DetailType: detailType, Detail: JSON.stringify(detail) }],
        }),
      ),
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.find((e) => e.ErrorCode);
      // PutEvents reports per-entry failures in a 200 response; they are retryable.
      throw new TransientAwsError(`EventBridge PutEvents ${detailType} failed: ${entry?.ErrorCode ?? '?'} ${entry?.ErrorMessage ?? ''}`);
    }
  }
}
