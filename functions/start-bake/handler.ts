import { z } from 'zod';
import { type AwsPorts, awsPorts, finishBakePorts } from '../../shared/aws/wiring';
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

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: AwsPorts) {
  return createHandler({ ...finishBakePorts(aws), catalog: aws.stores().catalog });
}

export const handler = wire(awsPorts());
