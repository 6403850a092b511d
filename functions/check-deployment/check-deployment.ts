import { alarmName } from '../../shared/domain/catalog';
import type { DeploymentHandle, DeploymentStatusResult } from '../../shared/domain/steps';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { AlarmReader, CatalogStore, Clock, Deployer, WorkflowStore } from '../../shared/ports';

export interface CheckDeploymentPorts {
  catalog: CatalogStore;
  deployer: Deployer;
  alarms: AlarmReader;
  workflows: WorkflowStore;
  clock: Clock;
}

const ended = new Set(['Succeeded', 'Failed', 'Stopped']);

/**
 * CheckDeployment: one look at a deployment in flight.
 * 1. GetDeployment;
 * 2. past the deadline: StopDeployment with rollback, so an execution never hangs;
 * 3. on Failed or Stopped: read the component's alarms to name the one that fired;
 * 4. record progress.
 */
export async function checkDeployment(
  input: { workflowId: string; request: UpgradeRequest; deployment: DeploymentHandle },
  ports: CheckDeploymentPorts,
): Promise<DeploymentStatusResult> {
  const { request, deployment } = input;
  const now = ports.clock.now();
  let info = await ports.deployer.getDeployment(deployment.deploymentId);
  if (!ended.has(info.status) && now.getTime() > Date.parse(deployment.deadline)) {
    await ports.deployer.stopDeployment(deployment.deploymentId, true);
    info = {
      ...info,
      status: 'Stopped',
      errorCode: 'UPSHIFT_DEADLINE',
      errorMessage: `still ${info.status} at the deadline ${deployment.deadline}; stopped with rollback`,
    };
  }
  const alarms: DeploymentStatusResult['alarms'] = [];
  if (info.status === 'Failed' || info.status === 'Stopped') {
    const component = await ports.catalog.getComponent(request.component);
    const names = (component?.alarms ?? []).map((a) =>
      alarmName(request.component, request.environment, a.id),
    );
    if (names.length) {
      for (const s of await ports.alarms.describe(names)) {
        if (s.state === 'ALARM') alarms.push({ name: s.name, reason: s.reason, at: s.updatedAt });
      }
    }
  }
  const result: DeploymentStatusResult = {
    status: info.status,
    ...(info.trafficPercent !== undefined ? { trafficPercent: info.trafficPercent } : {}),
    ...(info.errorCode ? { errorCode: info.errorCode } : {}),
    ...(info.errorMessage ? { errorMessage: info.errorMessage } : {}),
    alarms,
    ...(info.rollbackDeploymentId ? { rollbackDeploymentId: info.rollbackDeploymentId } : {}),
    checkedAt: now.toISOString(),
  };
  const stage = deployment.mode === 'revert' ? 'Revert' : 'Deploy';
  await ports.workflows.append(input.workflowId, {
    stage,
    at: now.toISOString(),
    status: info.status,
    detail: [
      info.trafficPercent !== undefined ? `traffic ${info.trafficPercent}%` : '',
      info.errorCode ? `${info.errorCode}: ${info.errorMessage ?? ''}` : '',
      alarms.length ? `alarm ${alarms.map((a) => a.name).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  });
  return result;
}
