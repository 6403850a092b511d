import middy from '@middy/core';
import type { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepLogging, zodInput } from '../../shared/runtime/middleware';
import { type RecordPorts, record } from './record';
import { inputSchema } from './schema';

export function createHandler(ports: RecordPorts) {
  return middy()
    .use(stepLogging('Record'))
    .use(zodInput('Record', inputSchema))
    .handler((event) => record(event as z.infer<typeof inputSchema>, ports));
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
