import { awsPorts } from '../../shared/aws/wiring';
import { stepHandler } from '../../shared/runtime/middleware';
import { type RecordPorts, record } from './record';
import { inputSchema } from './schema';

export function createHandler(ports: RecordPorts) {
  return stepHandler('Record', inputSchema, (input) => record(input, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  registry: aws.stores().registry,
  locks: aws.stores().locks,
  dedupe: aws.stores().dedupe,
  workflows: aws.stores().workflows,
  events: aws.events(),
  clock: aws.clock,
});
