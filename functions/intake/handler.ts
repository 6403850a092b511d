import middy from '@middy/core';
import { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepLogging, zodInput } from '../../shared/runtime/middleware';
import { type IntakePorts, intake } from './intake';

export const inputSchema = z.object({ event: z.unknown(), workflowId: z.string().min(1) });

export function createHandler(ports: IntakePorts) {
  return middy()
    .use(stepLogging('Intake'))
    .use(zodInput('Intake', inputSchema))
    .handler((event) => intake(event as z.infer<typeof inputSchema>, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  registry: aws.stores().registry,
  dedupe: aws.stores().dedupe,
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
