import { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type StartBakePorts, startBake } from './start-bake';

export const inputSchema = stepBase.extend({
  taskToken: z.string().min(1).max(2048),
  decision: z.object({ bakeMinutes: z.number().int().min(0) }),
});

export function createHandler(ports: StartBakePorts) {
  return stepHandler('StartBake', inputSchema, (input) => startBake(input, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  watches: aws.stores().bakeWatches,
  alarms: aws.alarms(),
  callbacks: aws.callbacks(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
  pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
});
