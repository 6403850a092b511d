import { z } from 'zod';
import { awsPorts, finishDeploymentPorts } from '../../shared/aws/wiring';
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

const aws = awsPorts();
export const handler = createHandler(finishDeploymentPorts(aws));
