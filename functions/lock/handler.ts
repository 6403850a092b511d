import { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type LockPorts, lock } from './lock';

export const inputSchema = stepBase.extend({ action: z.enum(['acquire', 'release']) });

export function createHandler(ports: LockPorts) {
  return stepHandler('Lock', inputSchema, (input) => lock(input, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  locks: aws.stores().locks,
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
