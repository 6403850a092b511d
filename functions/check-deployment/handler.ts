import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import type { AwsPorts } from '../../shared/aws/wiring';
import { deploymentSchema, stepBase } from '../../shared/domain/steps';
import { stepHandler } from '../../shared/runtime/middleware';
import { type CheckDeploymentPorts, checkDeployment } from './check-deployment';

export const inputSchema = stepBase.extend({ deployment: deploymentSchema });

export function createHandler(ports: CheckDeploymentPorts) {
  return stepHandler('CheckDeployment', inputSchema, (input) => checkDeployment(input, ports));
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'deployer' | 'alarms' | 'clock'>) {
  return createHandler({
    catalog: aws.stores().catalog,
    deployer: aws.deployer(),
    alarms: aws.alarms(),
    workflows: aws.stores().workflows,
    clock: aws.clock,
  });
}

export const handler = wire(withClients(awsBase(), dynamoPorts, deployerPorts, alarmPorts));
