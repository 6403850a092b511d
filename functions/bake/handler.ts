import { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type BakePorts, bake } from './bake';

export const inputSchema = stepBase.extend({
  decision: z.object({ bakeMinutes: z.number().int().min(0) }),
  bake: z.object({ until: z.string().optional() }).optional(),
});

export function createHandler(ports: BakePorts) {
  return stepHandler('Bake', inputSchema, (input) => bake(input, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  alarms: aws.alarms(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
  pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
});
