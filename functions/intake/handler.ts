import { z } from 'zod';
import { type AwsPorts, awsPorts } from '../../shared/aws/wiring';
import { stepHandler } from '../../shared/runtime/middleware';
import { type IntakePorts, intake } from './intake';

export const inputSchema = z.object({ event: z.unknown(), workflowId: z.string().min(1) });

export function createHandler(ports: IntakePorts) {
  return stepHandler('Intake', inputSchema, (input) => intake(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: AwsPorts) {
  return createHandler({
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
    policies: aws.stores().policies,
    clock: aws.clock,
  });
}

export const handler = wire(awsPorts());
