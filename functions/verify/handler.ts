import middy from '@middy/core';
import type { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepLogging, zodInput } from '../../shared/runtime/middleware';
import { type VerifyPorts, verify } from './verify';

export const inputSchema = stepBase;

export function createHandler(ports: VerifyPorts) {
  return middy()
    .use(stepLogging('Verify'))
    .use(zodInput('Verify', inputSchema))
    .handler((event) => verify(event as z.infer<typeof inputSchema>, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  prober: aws.prober(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
