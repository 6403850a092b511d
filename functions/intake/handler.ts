import { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepHandler } from '../../shared/runtime/middleware';
import { type IntakePorts, intake } from './intake';

export const inputSchema = z.object({ event: z.unknown(), workflowId: z.string().min(1) });

export function createHandler(ports: IntakePorts) {
  return stepHandler('Intake', inputSchema, (input) => intake(input, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  deployer: aws.deployer(),
  waits: aws.stores().deploymentWaits,
  watches: aws.stores().bakeWatches,
  alarms: aws.alarms(),
  callbacks: aws.callbacks(),
  registry: aws.stores().registry,
  dedupe: aws.stores().dedupe,
  workflows: aws.stores().workflows,
  events: aws.events(),
  clock: aws.clock,
});
