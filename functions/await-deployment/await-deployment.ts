import type { DeploymentHandle } from '../../shared/domain/steps';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import { type FinishDeploymentPorts, finishDeploymentWait } from '../../shared/usecases/finish-waits';

/**
 * AwaitDeployment: called with a task token; the execution waits for the deployment to end.
 * 1. store the token against the deployment id;
 * 2. look once: a deployment that already ended (its event came first) resumes at once.
 * Then the CodeDeploy state-change event resumes it, or the reconciler if the event is lost.
 */
export async function awaitDeployment(
  input: { taskToken: string; workflowId: string; request: UpgradeRequest; deployment: DeploymentHandle },
  ports: FinishDeploymentPorts,
): Promise<{ deploymentId: string; waiting: boolean }> {
  const { deployment, request } = input;
  await ports.waits.register(
    {
      deploymentId: deployment.deploymentId,
      workflowId: input.workflowId,
      component: request.component,
      environment: request.environment,
      mode: deployment.mode,
      status: 'PENDING',
      registeredAt: ports.clock.now().toISOString(),
      deadline: deployment.deadline,
    },
    input.taskToken,
  );
  const done = await finishDeploymentWait(
    { deploymentId: deployment.deploymentId, via: 'registration' },
    ports,
  );
  return { deploymentId: deployment.deploymentId, waiting: !done.resumed };
}
