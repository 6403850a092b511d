import { UpshiftError } from '../domain/errors';
import { classifyBump, compareVersions } from '../domain/semver';
import type { RegistryEntry, UpgradeRequest, WorkflowRecord } from '../domain/workflow';

/**
 * A newer version of the same component and environment is deployed or in flight, so this older
 * request ends SKIPPED (superseded) instead of deploying over it (decision 0011). Decide and Deploy
 * throw it, and the state machine catches it by name; Lock returns its outcome instead
 * (`newerInFlight`), and throws it only to a caller that asks for the error (functions/lock).
 */
export class Superseded extends UpshiftError {
  constructor(message: string) {
    super(message);
    this.name = 'Superseded';
  }
}

/** How long a waiter's place in the queue lasts without renewal: three lock attempts. */
export const WAITER_TTL_SECONDS = 3 * 60;

/** Only upgrades can be superseded: a manual rollback is an explicit act on what serves. */
function supersedable(request: UpgradeRequest): boolean {
  return request.mode !== 'rollback';
}

/**
 * Throws Superseded when the registry already serves this version or a newer one. Called with the
 * lock held, right before anything is decided or deployed: the registry may have moved since Intake.
 */
export function assertNotSuperseded(request: UpgradeRequest, registry: RegistryEntry | undefined): void {
  if (!supersedable(request) || !registry) return;
  const serving = registry.current.version;
  if (compareVersions(request.version, serving) <= 0) {
    throw new Superseded(
      `${serving} is already deployed to ${request.component} in ${request.environment} (since ${registry.current.at}); ${request.version} is not newer`,
    );
  }
}

/**
 * The upgrade as it stands now, under the lock: the version it replaces is what the registry says
 * serves, not what Intake read. Another upgrade may have deployed since (it held the lock while
 * this one queued), and CodeDeploy fails a Lambda deployment whose AppSpec CurrentVersion is not
 * the alias's version; the policy judges the bump from what serves, too. A manual rollback names
 * its own versions and is left as it is.
 */
export function asOfNow(request: UpgradeRequest, registry: RegistryEntry | undefined): UpgradeRequest {
  if (!supersedable(request) || !registry) return request;
  const { version, artifact } = registry.current;
  if (version === request.currentVersion && sameArtifact(artifact, request.currentArtifact)) return request;
  return {
    ...request,
    currentVersion: version,
    currentArtifact: artifact,
    bump: classifyBump(version, request.version),
  };
}

function sameArtifact(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Why this request is superseded by a newer upgrade of the same target holding the lock or
 * waiting for it, or undefined when none is. `holder` is the lock holder's workflow record;
 * `waiters` the queue of other waiting workflows. Not an error: Lock returns it as its outcome,
 * because an older version meeting a newer one is an ordinary event of a busy pipeline, not a
 * function failure (docs/operations.md, FunctionErrors).
 */
export function newerInFlight(
  request: UpgradeRequest,
  workflowId: string,
  holder: WorkflowRecord | undefined,
  waiters: readonly { owner: string; version: string }[],
): string | undefined {
  if (!supersedable(request)) return undefined;
  const sameTarget =
    holder?.status === 'RUNNING' &&
    holder.workflowId !== workflowId &&
    holder.component === request.component &&
    holder.environment === request.environment;
  const holderRequest = holder?.evidence.request as UpgradeRequest | undefined;
  if (
    sameTarget &&
    holder.version &&
    holderRequest?.mode !== 'rollback' &&
    compareVersions(holder.version, request.version) > 0
  ) {
    return `${holder.version} (workflow ${holder.workflowId}) is in flight for ${request.component} in ${request.environment}; ${request.version} is older`;
  }
  const newer = waiters
    .filter((w) => w.owner !== workflowId && compareVersions(w.version, request.version) > 0)
    .sort((a, b) => compareVersions(b.version, a.version))[0];
  if (newer) {
    return `${newer.version} (workflow ${newer.owner}) is queued for ${request.component} in ${request.environment}; ${request.version} is older`;
  }
  return undefined;
}
