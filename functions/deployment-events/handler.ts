import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { deployerPorts } from '../../shared/aws/codedeploy-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { finishDeploymentPorts } from '../../shared/aws/port-sets';
import { awsBase, withClients } from '../../shared/aws/ports';
import { callbackPorts } from '../../shared/aws/sfn-clients';
import type { AwsPorts } from '../../shared/aws/wiring';
import * as codedeploy from '../../shared/domain/events/codedeploy-state-change';
import { stepHandler } from '../../shared/runtime/middleware';
import { type FinishDeploymentPorts, finishDeploymentWait } from '../../shared/usecases/finish-waits';

/**
 * The rule on `CodeDeploy Deployment State-change Notification` (SUCCESS, FAILURE, STOP): resumes
 * the execution waiting for that deployment. Deployments Upshift did not start are ignored.
 */
export function createHandler(ports: FinishDeploymentPorts) {
  return stepHandler('DeploymentEvents', codedeploy.schema, (event) =>
    finishDeploymentWait({ deploymentId: event.detail.deploymentId, via: 'event' }, ports),
  );
}

/** The one wiring of this handler: its ports from the AWS adapters (the local twin passes its own). */
export function wire(aws: Pick<AwsPorts, 'stores' | 'callbacks' | 'deployer' | 'alarms' | 'clock'>) {
  return createHandler(finishDeploymentPorts(aws));
}

export const handler = wire(withClients(awsBase(), dynamoPorts, deployerPorts, alarmPorts, callbackPorts));
