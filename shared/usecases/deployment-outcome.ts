import { environmentAlarms } from '../domain/catalog';
import type { DeploymentStatusResult } from '../domain/steps';
import type { AlarmReader, CatalogStore, Clock, Deployer, DeploymentInfo } from '../ports';

export interface DeploymentOutcomePorts {
  catalog: CatalogStore;
  deployer: Deployer;
  alarms: AlarmReader;
  clock: Clock;
}

export const endedStatuses = new Set(['Succeeded', 'Failed', 'Stopped']);

/**
 * What became of a deployment: GetDeployment (the state-change event carries no error or rollback
 * details), and on Failed or Stopped the component's alarms in ALARM, to name the one that fired.
 */
export async function readDeploymentOutcome(
  input: { deploymentId: string; component: string; environment: string; info?: DeploymentInfo },
  ports: DeploymentOutcomePorts,
): Promise<DeploymentStatusResult> {
  const info = input.info ?? (await ports.deployer.getDeployment(input.deploymentId));
  const alarms: DeploymentStatusResult['alarms'] = [];
  if (info.status === 'Failed' || info.status === 'Stopped') {
    const component = await ports.catalog.getComponent(input.component);
    const names = component ? environmentAlarms(input.component, component, input.environment) : [];
    if (names.length) {
      for (const s of await ports.alarms.describe(names)) {
        if (s.state === 'ALARM') alarms.push({ name: s.name, reason: s.reason, at: s.updatedAt });
      }
    }
  }
  return {
    status: info.status,
    ...(info.trafficPercent !== undefined ? { trafficPercent: info.trafficPercent } : {}),
    ...(info.errorCode ? { errorCode: info.errorCode } : {}),
    ...(info.errorMessage ? { errorMessage: info.errorMessage } : {}),
    alarms,
    ...(info.rollbackDeploymentId ? { rollbackDeploymentId: info.rollbackDeploymentId } : {}),
    checkedAt: ports.clock.now().toISOString(),
  };
}

/** A history line for a deployment's status. */
export function describeStatus(result: DeploymentStatusResult): string {
  return [
    result.trafficPercent !== undefined ? `traffic ${result.trafficPercent}%` : '',
    result.errorCode ? `${result.errorCode}: ${result.errorMessage ?? ''}` : '',
    result.alarms.length ? `alarm ${result.alarms.map((a) => a.name).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
