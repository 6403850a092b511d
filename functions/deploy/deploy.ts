import { alarmName, targetFor } from '../../shared/domain/catalog';
import { allAtOnceConfig, shiftDurationMinutes } from '../../shared/domain/deploy-configs';
import { NotFound } from '../../shared/domain/errors';
import type { DeploymentHandle } from '../../shared/domain/steps';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type {
  CatalogStore,
  Clock,
  Deployer,
  LockStore,
  RegistryStore,
  WorkflowStore,
} from '../../shared/ports';
import { bakeTimeoutSeconds } from '../../shared/usecases/bake-limits';
import { assertNotSuperseded } from '../../shared/usecases/superseded';
import { lockKey } from '../lock/lock';

export interface DeployPorts {
  catalog: CatalogStore;
  registry: RegistryStore;
  deployer: Deployer;
  locks: LockStore;
  workflows: WorkflowStore;
  clock: Clock;
  pollSeconds: number;
}

/** How long past the config's shift time a deployment may run before Upshift stops it. */
export const DEPLOYMENT_GRACE_MINUTES = 60;

/**
 * Deploy: starts a CodeDeploy deployment through the deployer port.
 * - `upgrade`: the candidate, with the decision's deployment config;
 * - `revert`: the last known-good version, all at once, to leave a bad bake fast;
 * - `rollback`: a manual rollback to the version the request names, all at once.
 * 1. build the request; 2. create the deployment; 3. extend the lease over shift and bake;
 * 4. record the deployment id.
 */
export async function deploy(
  input: {
    workflowId: string;
    request: UpgradeRequest;
    decision: { deploymentConfig: string; bakeMinutes: number };
    mode: 'upgrade' | 'revert' | 'rollback';
  },
  ports: DeployPorts,
): Promise<DeploymentHandle & { bakeTimeoutSeconds: number }> {
  const { request, mode } = input;
  const component = await ports.catalog.getComponent(request.component);
  if (!component) throw new NotFound(`component ${request.component} is no longer in the catalog`);
  const target = targetFor(component, request.environment);
  const alarmNames = component.alarms.map((a) => alarmName(request.component, request.environment, a.id));

  let version = request.version;
  let artifact = request.artifact;
  let currentVersion = request.currentVersion;
  let currentArtifact = request.currentArtifact;
  let deploymentConfig = input.decision.deploymentConfig;
  if (mode === 'upgrade') {
    // The last look before CreateDeployment: never an older version over a newer one.
    assertNotSuperseded(request, await ports.registry.get(request.component, request.environment));
  } else if (mode === 'revert') {
    const registry = await ports.registry.get(request.component, request.environment);
    if (!registry) throw new NotFound(`no registry entry for ${request.component} in ${request.environment}`);
    version = registry.lastKnownGood.version;
    artifact = registry.lastKnownGood.artifact;
    currentVersion = request.version;
    currentArtifact = request.artifact;
    deploymentConfig = allAtOnceConfig[request.platform];
  } else if (mode === 'rollback') {
    // A manual rollback: the request already names a known version and the current one.
    deploymentConfig = allAtOnceConfig[request.platform];
  }

  const { deploymentId, artifact: deployed } = await ports.deployer.createDeployment({
    workflowId: input.workflowId,
    component: request.component,
    environment: request.environment,
    platform: request.platform,
    target,
    version,
    artifact,
    ...(currentVersion ? { currentVersion } : {}),
    ...(currentArtifact ? { currentArtifact } : {}),
    deploymentConfig,
    alarmNames,
    revert: mode !== 'upgrade',
  });
  const now = ports.clock.now();
  const shiftMinutes = shiftDurationMinutes(request.platform, deploymentConfig);
  const deadline = new Date(now.getTime() + (shiftMinutes + DEPLOYMENT_GRACE_MINUTES) * 60_000);
  await ports.locks.acquire(
    lockKey(request.component, request.environment),
    input.workflowId,
    now,
    (shiftMinutes + DEPLOYMENT_GRACE_MINUTES + input.decision.bakeMinutes) * 60 + 15 * 60,
  );
  await ports.workflows.append(
    input.workflowId,
    {
      stage: mode === 'upgrade' ? 'Deploy' : 'Revert',
      at: now.toISOString(),
      status: 'CREATED',
      detail: `${deploymentId}: ${version} with ${deploymentConfig}`,
    },
    { [mode === 'upgrade' ? 'deployment' : 'revert']: { deploymentId, version, deploymentConfig } },
  );
  return {
    deploymentId,
    mode,
    version,
    deploymentConfig,
    startedAt: now.toISOString(),
    deadline: deadline.toISOString(),
    pollSeconds: ports.pollSeconds,
    // The Bake task's timeout follows the bake (TimeoutSecondsPath).
    bakeTimeoutSeconds: bakeTimeoutSeconds(input.decision.bakeMinutes),
    ...(deployed ? { artifact: deployed } : {}),
  };
}
