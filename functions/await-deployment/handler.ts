import { z } from 'zod';
import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { finishDeploymentPorts } from '../../shared/aws/port-sets';
import { awsBase, withClients } from '../../shared/aws/ports';
import { callbackPorts } from '../../shared/aws/sfn-clients';
import type { AwsPorts } from '../../shared/aws/wiring';
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
export function wire(aws: Pick<AwsPorts, 'stores' | 'callbacks' | 'deployer' | 'alarms' | 'clock'>) {
  return createHandler(finishDeploymentPorts(aws));
}

export const handler = wire(withClients(awsBase(), dynamoPorts, deployerPorts, alarmPorts, callbackPorts));
