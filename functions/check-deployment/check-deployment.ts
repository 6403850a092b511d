import type { DeploymentHandle, DeploymentStatusResult } from '../../shared/domain/steps';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { WorkflowStore } from '../../shared/ports';
import {
  type DeploymentOutcomePorts,
  describeStatus,
  endedStatuses,
  readDeploymentOutcome,
} from '../../shared/usecases/deployment-outcome';

export interface CheckDeploymentPorts extends DeploymentOutcomePorts {
  workflows: WorkflowStore;
}

/**
 * CheckDeployment: one look at a deployment, the fallback when the event-driven wait timed out.
 * 1. GetDeployment;
 * 2. past the deadline: StopDeployment with rollback, so an execution never hangs;
 * 3. on Failed or Stopped: name the alarm that fired; 4. record progress.
 */
export async function checkDeployment(
  input: { workflowId: string; request: UpgradeRequest; deployment: DeploymentHandle },
  ports: CheckDeploymentPorts,
): Promise<DeploymentStatusResult> {
  const { request, deployment } = input;
  const now = ports.clock.now();
  let info = await ports.deployer.getDeployment(deployment.deploymentId);
  if (!endedStatuses.has(info.status) && now.getTime() > Date.parse(deployment.deadline)) {
    await ports.deployer.stopDeployment(deployment.deploymentId, true);
    info = {
      ...info,
      status: 'Stopped',
      errorCode: 'UPSHIFT_DEADLINE',
      errorMessage: `still ${info.status} at the deadline ${deployment.deadline}; stopped with rollback`,
    };
  }
  const result = await readDeploymentOutcome(
    {
      deploymentId: deployment.deploymentId,
      component: request.component,
      environment: request.environment,
      info,
    },
    ports,
  );
  await ports.workflows.append(input.workflowId, {
    stage: deployment.mode === 'upgrade' ? 'Deploy' : 'Revert',
    at: now.toISOString(),
    status: info.status,
    detail: `polled: ${describeStatus(result)}`,
  });
  return result;
}
