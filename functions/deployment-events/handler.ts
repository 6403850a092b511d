import { type AwsPorts, awsPorts, finishDeploymentPorts } from '../../shared/aws/wiring';
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
export function wire(aws: AwsPorts) {
  return createHandler(finishDeploymentPorts(aws));
}

export const handler = wire(awsPorts());
