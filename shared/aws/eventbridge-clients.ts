import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from './eventbridge-publisher';
import { type AwsBase, once } from './ports';

/** The publisher of Upshift's events on its bus. */
export function eventPorts(base: AwsBase) {
  return {
    events: once(
      () => new EventBridgePublisher(base.client(EventBridgeClient), base.config.UPSHIFT_EVENT_BUS_NAME),
    ),
  };
}
