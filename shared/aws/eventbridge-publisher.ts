import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { TransientDependencyError } from '../domain/errors';
import type { EventPublisher, OutboundEvent } from '../ports';

/** PutEvents in batches of 10 (the API's limit); a partial failure is an error, never ignored. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({
            EventBusName: this.busName,
            Source: e.source,
            DetailType: e.detailType,
            Detail: JSON.stringify(e.detail),
            Resources: e.resources ?? [],
            ...(e.time ? { Time: new Date(e.time) } : {}),
          })),
        }),
      );
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? [])
          .filter((e) => e.ErrorCode)
          .map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
        throw new TransientDependencyError(
          `PutEvents: ${out.FailedEntryCount} entries failed (${failed.join('; ')})`,
        );
      }
    }
  }
}
