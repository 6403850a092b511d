import { allAtOnceConfig, shiftDurationMinutes } from '../../shared/domain/deploy-configs';
import { NotFound } from '../../shared/domain/errors';
import type { Artifact } from '../../shared/domain/events/artifact';
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
import { targetOfRequest } from '../../shared/usecases/resolve-event';
import { asOfNow, assertNotSuperseded } from '../../shared/usecases/superseded';
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
 * 1. build the request: an upgrade's request comes from Decide, as of the registry it read under
 *    this lease, so it is not read again; the target and alarms are what Intake resolved;
 * 2. extend the lease over shift and bake, only if it is still the same lease; if it lapsed, take
 *    the lock again and read the registry again (an upgrade no newer than what serves is
 *    superseded); 3. record the intent unless one is recorded (one write that returns the stored
 *    intent), and reuse the deployment an earlier attempt recorded or created (found by workflow
 *    id); 4. else CreateDeployment; 5. record the deployment id. Retries (a Lambda timeout too)
 *    never create a second deployment (decisions 0014, 0018).
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
  const { target, alarmNames } = await targetOfRequest(request, ports.catalog);
  const now = ports.clock.now();
  const key = lockKey(request.component, request.environment);
  const leaseSeconds = (shift: number) =>
    (shift + DEPLOYMENT_GRACE_MINUTES + input.decision.bakeMinutes) * 60 + 15 * 60;

  let version = request.version;
  let artifact = request.artifact;
  let currentVersion = request.currentVersion;
  let currentArtifact = request.currentArtifact;
  let deploymentConfig = input.decision.deploymentConfig;
  if (mode === 'upgrade') {
    // The lease first: it must cover the shift and the bake before anything starts. While it is
    // the lease Decide held, only this workflow can have changed the registry since Decide read
    // it, so the request Decide handed on is what serves (decisions 0011, 0016, 0018).
    const sameLease = await ports.locks.extend?.(
      key,
      input.workflowId,
      now,
      leaseSeconds(shiftDurationMinutes(request.platform, deploymentConfig)),
    );
    if (!sameLease) {
      // The lease lapsed (or there is no `extend`): take it again and look at the registry again.
      await ports.locks.acquire(
        key,
        input.workflowId,
        now,
        leaseSeconds(shiftDurationMinutes(request.platform, deploymentConfig)),
      );
      const registry = await ports.registry.get(request.component, request.environment);
      assertNotSuperseded(request, registry);
      const serving = asOfNow(request, registry);
      currentVersion = serving.currentVersion;
      currentArtifact = serving.currentArtifact;
    }
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

  const deploymentRequest = {
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
  };
  const shiftMinutes = shiftDurationMinutes(request.platform, deploymentConfig);
  if (mode !== 'upgrade') {
    // A revert or rollback takes (or renews) the lease for its own all-at-once shift.
    await ports.locks.acquire(key, input.workflowId, now, leaseSeconds(shiftMinutes));
  }

  const evidence = evidenceKey(mode);
  const stage = mode === 'upgrade' ? 'Deploy' : 'Revert';
  const fresh: DeployIntent = { version, deploymentConfig, intentAt: now.toISOString(), attempt: 1 };
  const { prior, intent: recorded } = await recordIntent(input.workflowId, evidence, fresh, ports.workflows);
  let created: { deploymentId: string; artifact?: Artifact } | undefined = prior?.deploymentId
    ? { deploymentId: prior.deploymentId, ...(prior.artifact ? { artifact: prior.artifact } : {}) }
    : undefined;
  if (!created && prior && !prior.refused) {
    // A retry after the intent was recorded: CreateDeployment may have run. Find it by workflow id.
    created = await ports.deployer.findDeployment?.({
      workflowId: input.workflowId,
      component: request.component,
      environment: request.environment,
      revert: mode !== 'upgrade',
      createdAfter: prior.intentAt,
      target,
    });
  }
  const intent: DeployIntent =
    prior?.deploymentId || !prior
      ? recorded
      : {
          version,
          deploymentConfig,
          intentAt: prior.intentAt,
          attempt: prior.attempt + 1,
        };
  if (!created) {
    // A retry whose earlier attempt created nothing that can be found: a new attempt, noted.
    if (prior) await ports.workflows.append(input.workflowId, [], { [evidence]: intent });
    try {
      created = await ports.deployer.createDeployment(deploymentRequest);
    } catch (error) {
      // Refused on the first attempt: nothing was created. On a retry, the refusal may be
      // CodeDeploy's "already in progress" for the first attempt's deployment, so it stays unknown.
      const refused = !prior && (error as Error).name === 'DeploymentCreationFailed';
      if (refused) {
        await ports.workflows.append(
          input.workflowId,
          { stage, at: now.toISOString(), status: 'REFUSED', detail: (error as Error).message },
          { [evidence]: { ...intent, refused: true } },
        );
      }
      throw error;
    }
  }
  const { deploymentId, artifact: deployed } = created;
  const startedAt = intent.startedAt ?? now.toISOString();
  if (!prior?.deploymentId) {
    await ports.workflows.append(
      input.workflowId,
      {
        stage,
        at: now.toISOString(),
        status: 'CREATED',
        detail: `${deploymentId}: ${version} with ${deploymentConfig}`,
      },
      {
        [evidence]: {
          ...intent,
          deploymentId,
          startedAt,
          ...(deployed ? { artifact: deployed } : {}),
        } satisfies DeployIntent,
      },
    );
  }
  const deadline = new Date(
    Date.parse(startedAt) + (shiftMinutes + DEPLOYMENT_GRACE_MINUTES) * 60_000,
  ).toISOString();
  return {
    deploymentId,
    mode,
    version,
    deploymentConfig,
    startedAt,
    deadline,
    pollSeconds: ports.pollSeconds,
    // The Bake task's timeout follows the bake (TimeoutSecondsPath).
    bakeTimeoutSeconds: bakeTimeoutSeconds(input.decision.bakeMinutes),
    ...(deployed ? { artifact: deployed } : {}),
  };
}

/**
 * Records the intent before CreateDeployment, in one write that also says whether an earlier
 * attempt recorded one (`prior`): the value stored is returned, ours or the earlier one.
 */
async function recordIntent(
  workflowId: string,
  key: 'deployment' | 'revert',
  intent: DeployIntent,
  workflows: WorkflowStore,
): Promise<{ prior?: DeployIntent; intent: DeployIntent }> {
  if (workflows.recordOnce) {
    const { written, value } = await workflows.recordOnce(workflowId, key, { ...intent });
    const stored = value as unknown as DeployIntent;
    return written ? { intent: stored } : { prior: stored, intent: stored };
  }
  const prior = (await workflows.get(workflowId))?.evidence[key] as DeployIntent | undefined;
  if (!prior) await workflows.append(workflowId, [], { [key]: intent });
  return { ...(prior ? { prior } : {}), intent: prior ?? intent };
}

/**
 * What the workflow record keeps about one deployment it starts (evidence `deployment` or
 * `revert`): the intent, written before CreateDeployment, then the deployment id. A retry reads
 * it, so it never creates a second deployment (decision 0014).
 */
export interface DeployIntent {
  version: string;
  deploymentConfig: string;
  intentAt: string;
  attempt: number;
  deploymentId?: string;
  startedAt?: string;
  artifact?: Artifact;
  /** CodeDeploy refused the first attempt: nothing was created. */
  refused?: boolean;
}

/** The workflow record's evidence key for a deployment of this mode. */
export function evidenceKey(mode: 'upgrade' | 'revert' | 'rollback'): 'deployment' | 'revert' {
  return mode === 'upgrade' ? 'deployment' : 'revert';
}
