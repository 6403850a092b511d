import middy from '@middy/core';
import { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepBase, verificationSchema } from '../../shared/domain/steps';
import { stepLogging, zodInput } from '../../shared/runtime/middleware';
import { type DecidePorts, decide } from './decide';

export const inputSchema = stepBase.extend({
  verification: verificationSchema,
  deferrals: z.number().int().min(0).default(0),
});

export function createHandler(ports: DecidePorts) {
  return middy()
    .use(stepLogging('Decide'))
    .use(zodInput('Decide', inputSchema))
    .handler((event) => decide(event as z.infer<typeof inputSchema>, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  registry: aws.stores().registry,
  alarms: aws.alarms(),
  events: aws.events(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
