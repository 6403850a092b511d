import { z } from 'zod';
import { type AwsPorts, awsPorts, finishDeploymentPorts } from '../../shared/aws/wiring';
import { deploymentSchema, stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import type { FinishDeploymentPorts } from '../../shared/usecases/finish-waits';
import { awaitDeployment } from './await-deployment';

export const inputSchema = stepBase.extend({
  taskToken: z.string().min(1).max(2048),
  deployment: deploymentSchema,
});

export function createHandler(ports: FinishDeploymentPorts) {
  return stepHandler('AwaitDeployment', inputSchema, (input) => awaitDeployment(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: AwsPorts) {
  return createHandler(finishDeploymentPorts(aws));
}

export const handler = wire(awsPorts());
