import type { DeploymentHandle } from '../../shared/domain/steps';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { DeploymentWait } from '../../shared/ports';
import { type FinishDeploymentPorts, finishDeploymentWait } from '../../shared/usecases/finish-waits';

/**
 * AwaitDeployment: called with a task token; the execution waits for the deployment to end.
 * 1. store the token against the deployment id (one write; due at once for the reconciler's first
 *    look);
 * 2. look once (GetDeployment, not the table): a deployment that already ended (its event came
 *    first) resumes at once.
 * Then the CodeDeploy state-change event resumes it, or the reconciler if the event is lost.
 */
export async function awaitDeployment(
  input: { taskToken: string; workflowId: string; request: UpgradeRequest; deployment: DeploymentHandle },
  ports: FinishDeploymentPorts,
): Promise<{ deploymentId: string; waiting: boolean }> {
  const { deployment, request } = input;
  const wait: DeploymentWait = {
    deploymentId: deployment.deploymentId,
    workflowId: input.workflowId,
    component: request.component,
    environment: request.environment,
    mode: deployment.mode,
    status: 'PENDING',
    registeredAt: ports.clock.now().toISOString(),
    deadline: deployment.deadline,
  };
  await ports.waits.register(wait, input.taskToken);
  const done = await finishDeploymentWait(
    { deploymentId: deployment.deploymentId, via: 'registration', wait },
    ports,
  );
  return { deploymentId: deployment.deploymentId, waiting: !done.resumed };
}
