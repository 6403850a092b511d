import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { stepHandler } from '../../shared/runtime/middleware';
import { upshiftMetrics } from '../../shared/runtime/observability';
import { type RecordPorts, record } from './record';
import { inputSchema } from './schema';

export function createHandler(ports: RecordPorts) {
  return stepHandler('Record', inputSchema, (input) => record(input, ports), {
    onResult: (_input, result) => {
      upshiftMetrics.upgradeEnded(result.outcome);
      if (result.outcome === 'ROLLED_BACK') upshiftMetrics.rolledBack();
    },
  });
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'events' | 'clock'>) {
  return createHandler({
    registry: aws.stores().registry,
    locks: aws.stores().locks,
    dedupe: aws.stores().dedupe,
    workflows: aws.stores().workflows,
    events: aws.events(),
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, eventPorts));
