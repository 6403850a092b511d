import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import { DependencyRejected, TransientDependencyError } from '../domain/errors';
import type { EventPublisher, OutboundEvent } from '../ports';
import { awsDependencyError, isPermanentAwsError } from './errors';

/** PutEvents in batches of 10 (the API's limit); a partial failure is an error, never ignored. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    await this.put(events);
  }

  /** As `publish`, and returns the id EventBridge gave each event, in order. */
  async put(events: readonly OutboundEvent[]): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      let out: PutEventsCommandOutput;
      try {
        out = await this.client.send(
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
      } catch (error) {
        throw awsDependencyError('EventBridge PutEvents', error);
      }
      if (out.FailedEntryCount) {
        // Each failed entry carries its own code: one the request caused (a malformed detail, an
        // entry too large, access denied) fails for good; throttling or an internal error may pass.
        const failed = (out.Entries ?? []).filter((e) => e.ErrorCode);
        const message = `EventBridge PutEvents: ${out.FailedEntryCount} entries failed (${failed
          .map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`)
          .join('; ')})`;
        const permanent = failed.some((e) => isPermanentAwsError({ name: e.ErrorCode }));
        throw permanent ? new DependencyRejected(message) : new TransientDependencyError(message);
      }
      for (const entry of out.Entries ?? []) ids.push(entry.EventId ?? '');
    }
    return ids;
  }
}
