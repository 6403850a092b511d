import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepHandler } from '../../shared/runtime/middleware';
import { logger } from '../../shared/runtime/observability';
import { promote, promoteInputSchema, type WavePorts } from '../../shared/usecases/waves';

/**
 * The rule on Upshift's own upgrade events (pattern `promotionInputs`): moves the promotion wave
 * of the event's stage; and the rule on Version Published: keeps the later stages' artifacts the
 * event names (docs/waves.md). The soak's end is the reconciler's (finishSoak). A Version
 * Published it cannot read is logged with its problems, each naming the field, and not retried:
 * Intake records the same event as INVALID.
 */
export function createHandler(ports: WavePorts) {
  return stepHandler('Promote', promoteInputSchema, (event) => promote(event, ports), {
    onResult: (event, result) => {
      if ('problems' in result && result.problems?.length) {
        logger.warn('Version Published: metadata not kept', {
          eventId: (event as { id?: unknown }).id,
          problems: result.problems,
        });
      }
    },
  });
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'events' | 'clock'>) {
  const stores = aws.stores();
  return createHandler({
    waves: stores.waves,
    catalog: stores.catalog,
    workflows: stores.workflows,
    registry: stores.registry,
    events: aws.events(),
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, eventPorts));
