import { awsPorts } from '../../shared/aws/wiring';
import { deploymentSchema, stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type CheckDeploymentPorts, checkDeployment } from './check-deployment';

export const inputSchema = stepBase.extend({ deployment: deploymentSchema });

export function createHandler(ports: CheckDeploymentPorts) {
  return stepHandler('CheckDeployment', inputSchema, (input) => checkDeployment(input, ports));
}

const aws = awsPorts();
export const handler = createHandler({
  catalog: aws.stores().catalog,
  deployer: aws.deployer(),
  alarms: aws.alarms(),
  workflows: aws.stores().workflows,
  clock: aws.clock,
});
