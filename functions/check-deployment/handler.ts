import middy from '@middy/core';
import type { z } from 'zod';
import { awsPorts } from '../../shared/aws/wiring';
import { deploymentSchema, stepBase } from '../../shared/domain/steps';
import { stepLogging, zodInput } from '../../shared/runtime/middleware';
import { type CheckDeploymentPorts, checkDeployment } from './check-deployment';

export const inputSchema = stepBase.extend({ deployment: deploymentSchema });

export function createHandler(ports: CheckDeploymentPorts) {
  return middy()
    .use(stepLogging('CheckDeployment'))
    .use(zodInput('CheckDeployment', inputSchema))
    .handler((event) => checkDeployment(event as z.infer<typeof inputSchema>, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  deployer: aws.deployer(),
  alarms: aws.alarms(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
