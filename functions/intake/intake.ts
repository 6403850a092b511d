import {
  detailTypes,
  type Reason,
  version as schemaVersion,
  source as upshiftSource,
} from '../../shared/domain/events/upshift-events';
import { classifyBump, compareVersions } from '../../shared/domain/semver';
import { isTrustedSource, untrustedSourceReason } from '../../shared/domain/trusted-sources';
import type { RegistryEntry, UpgradeRequest } from '../../shared/domain/workflow';
import type {
  AlarmReader,
  BakeWatchStore,
  CatalogStore,
  Clock,
  DedupeStore,
  Deployer,
  DeploymentWaitStore,
  EventPublisher,
  PolicyStore,
  RegistryStore,
  StoredPolicy,
  TaskCallbacks,
  WorkflowStore,
} from '../../shared/ports';
import { finishBake, MANUAL_ROLLBACK_ALARM } from '../../shared/usecases/finish-waits';
import {
  type Candidate,
  parseCandidate,
  resolveCandidate,
  resolvedFor,
} from '../../shared/usecases/resolve-event';

export interface IntakeInput {
  event: unknown;
  workflowId: string;
}

export type IntakeOutcome = 'ACCEPTED' | 'SKIPPED' | 'IGNORED' | 'INVALID' | 'ROLLED_BACK';

export interface IntakeResult {
  outcome: IntakeOutcome;
  workflowId: string;
  reasons: Reason[];
  request?: UpgradeRequest;
}

export interface IntakePorts {
  catalog: CatalogStore;
  deployer: Deployer;
  waits: DeploymentWaitStore;
  watches: BakeWatchStore;
  alarms: AlarmReader;
  callbacks: TaskCallbacks;
  registry: RegistryStore;
  dedupe: DedupeStore;
  workflows: WorkflowStore;
  events: EventPublisher;
  /** The environment's policy names the sources that may start upgrades and rollbacks there. */
  policies: PolicyStore;
  clock: Clock;
}

/** The key that makes a second delivery of the same upgrade a duplicate. */
export function dedupeKey(component: string, environment: string, version: string): string {
  return `${component}#${environment}#${version}`;
}

/**
 * Intake: turns an event into an UpgradeRequest, or ends it with a recorded reason.
 * 1. validate the event against its detail-type's schema (INVALID names each field);
 * 2. find the component and environment in the catalog (IGNORED when nobody claims it);
 *    an event from a source the environment's policy does not trust is IGNORED, before it
 *    seeds, claims or stops anything;
 * 3. claim the dedupe key, so a second delivery is SKIPPED as a duplicate;
 * 4. compare with the registry's current version (SKIPPED when not newer);
 * 5. record the workflow and announce `Upgrade Started`.
 * The policy and the registry are read in one round trip, the registry seeded only when that read
 * found no entry; the request carries what was resolved (target, alarms, probes, thresholds), so
 * later steps do not read the catalog again (decision 0018).
 */
export async function intake(input: IntakeInput, ports: IntakePorts): Promise<IntakeResult> {
  const { workflowId } = input;
  const now = ports.clock.now().toISOString();
  const parsed = await parseCandidate(input.event, ports.catalog);
  const rawMeta = eventMeta(input.event);

  const finishEarly = async (
    outcome: IntakeOutcome,
    reasons: Reason[],
    meta: Partial<Candidate> & { environment?: string },
  ): Promise<IntakeResult> => {
    await ports.workflows.create({
      workflowId,
      status: 'RUNNING',
      reasons,
      ...(meta.component ? { component: meta.component } : {}),
      ...(meta.environment ? { environment: meta.environment } : {}),
      ...(meta.version ? { version: meta.version } : {}),
      ...(rawMeta.source ? { source: rawMeta.source } : {}),
      ...(rawMeta.eventId ? { eventId: rawMeta.eventId } : {}),
      startedAt: now,
      history: [
        { stage: 'Intake', at: now, status: outcome, detail: reasons.map((r) => r.message).join('; ') },
      ],
      evidence: {},
    });
    return { outcome, workflowId, reasons };
  };

  if (!parsed.ok) return finishEarly(parsed.outcome, parsed.reasons, parsed.meta);
  // An event that names its environment: the component, the policy and the registry in one read.
  const named = parsed.candidate.environment;
  const early =
    named && ports.registry.readTogether
      ? await ports.registry.readTogether(parsed.candidate.component, named, {
          policy: true,
          component: true,
        })
      : undefined;
  const resolved = resolveCandidate(
    parsed.candidate,
    early ? early.component : await ports.catalog.getComponent(parsed.candidate.component),
  );
  if (!resolved.ok) return finishEarly(resolved.outcome, resolved.reasons, resolved.meta);
  const { candidate: c, environment, envConfig, target } = resolved;
  const facts = early ?? (await readPolicyAndRegistry(c.component, environment, ports));
  const stored = facts.policy;
  if (stored && !isTrustedSource(stored.policy, c.source)) {
    return finishEarly('IGNORED', [untrustedSourceReason(environment, c.source)], { ...c, environment });
  }

  let registry = facts.registry;
  if (!registry) {
    const baseline: RegistryEntry = {
      component: c.component,
      environment,
      current: { ...envConfig.baseline, at: now },
      lastKnownGood: { ...envConfig.baseline, at: now },
    };
    // Someone else seeded between the read and the write: theirs stands, read it.
    registry = (await ports.registry.seed(baseline))
      ? baseline
      : await ports.registry.get(c.component, environment);
  }
  if (c.rollback)
    return rollbackIntake(
      c as Candidate & { rollback: NonNullable<Candidate['rollback']> },
      environment,
      target.type,
      resolvedFor(c.component, resolved.component, environment, stored),
      now,
      finishEarly,
      ports,
      workflowId,
      registry,
    );

  const key = dedupeKey(c.component, environment, c.version);
  const claim = await ports.dedupe.claim(key, workflowId, now);
  if (!claim.claimed && claim.workflowId !== workflowId) {
    return finishEarly(
      'SKIPPED',
      [
        {
          code: 'DUPLICATE',
          message: `${c.component} ${c.version} in ${environment} is already handled by ${claim.workflowId}`,
          holder: { workflowId: claim.workflowId },
        },
      ],
      { ...c, environment },
    );
  }
  const currentVersion = registry?.current.version;
  if (currentVersion && compareVersions(c.version, currentVersion) <= 0) {
    await ports.dedupe.release(key, workflowId);
    return finishEarly(
      'SKIPPED',
      [
        {
          code: 'VERSION_NOT_NEWER',
          message: `${c.version} is not newer than ${currentVersion}, the current version of ${c.component} in ${environment}`,
        },
      ],
      { ...c, environment },
    );
  }

  const request: UpgradeRequest = {
    workflowId,
    component: c.component,
    environment,
    version: c.version,
    artifact: c.artifact,
    platform: target.type,
    labels: c.labels,
    ...(c.commit ? { commit: c.commit } : {}),
    ...(c.committedAt ? { committedAt: c.committedAt } : {}),
    ...(c.publishedBy ? { publishedBy: c.publishedBy } : {}),
    source: c.source,
    eventId: c.eventId,
    receivedAt: now,
    ...(currentVersion ? { currentVersion } : {}),
    ...(registry?.current.artifact ? { currentArtifact: registry.current.artifact } : {}),
    bump: classifyBump(currentVersion, c.version),
    mode: 'upgrade',
    resolved: resolvedFor(c.component, resolved.component, environment, stored),
  };
  await recordAccepted(
    request,
    `${c.component} ${currentVersion ?? '(none)'} -> ${c.version} in ${environment} (${request.bump})`,
    ports.workflows,
  );
  await ports.events.publish([
    {
      source: upshiftSource,
      detailType: detailTypes.started,
      time: now,
      detail: {
        schemaVersion,
        workflowId,
        component: c.component,
        environment,
        version: c.version,
        ...(currentVersion ? { currentVersion } : {}),
        bump: request.bump,
        reasons: [],
      },
    },
  ]);
  return { outcome: 'ACCEPTED', workflowId, reasons: [], request };
}

/** The environment's policy and the target's registry entry, in one round trip when the store can. */
async function readPolicyAndRegistry(
  component: string,
  environment: string,
  ports: Pick<IntakePorts, 'policies' | 'registry'>,
): Promise<{ policy?: StoredPolicy; registry?: RegistryEntry }> {
  if (ports.registry.readTogether)
    return ports.registry.readTogether(component, environment, { policy: true });
  const [policy, registry] = await Promise.all([
    ports.policies.get(environment),
    ports.registry.get(component, environment),
  ]);
  return { ...(policy ? { policy } : {}), ...(registry ? { registry } : {}) };
}

function eventMeta(event: unknown): { source?: string; eventId?: string } {
  if (!event || typeof event !== 'object') return {};
  const e = event as Record<string, unknown>;
  return {
    ...(typeof e.source === 'string' ? { source: e.source } : {}),
    ...(typeof e.id === 'string' ? { eventId: e.id } : {}),
  };
}

/**
 * A manual rollback request.
 * - A shift in flight for the component and environment: StopDeployment with rollback, noted on
 *   that workflow, which then ends ROLLED_BACK. This request ends ROLLED_BACK too, saying so.
 * - Otherwise: an ACCEPTED request in `rollback` mode, to the version asked for, or to the one
 *   before the current (the last known-good when the current is not it). Only versions the
 *   registry knows, with their artifacts, can be targets.
 */
async function rollbackIntake(
  c: Candidate & { rollback: NonNullable<Candidate['rollback']> },
  environment: string,
  platform: UpgradeRequest['platform'],
  carried: NonNullable<UpgradeRequest['resolved']>,
  now: string,
  finishEarly: (
    outcome: IntakeOutcome | 'ROLLED_BACK',
    reasons: Reason[],
    meta: Partial<Candidate>,
  ) => Promise<IntakeResult>,
  ports: IntakePorts,
  workflowId: string,
  registry: RegistryEntry | undefined,
): Promise<IntakeResult> {
  const who = c.rollback.requestedBy ?? 'someone';
  const inFlight = (await ports.waits.listPending(100)).find(
    (w) =>
      w.status === 'PENDING' &&
      w.component === c.component &&
      w.environment === environment &&
      w.mode === 'upgrade',
  );
  if (inFlight) {
    await ports.workflows.append(
      inFlight.workflowId,
      { stage: 'Rollback', at: now, status: 'REQUESTED', detail: `${who}: ${c.rollback.reason}` },
      { manualRollback: { by: who, reason: c.rollback.reason, at: now, requestWorkflowId: workflowId } },
    );
    await ports.deployer.stopDeployment(inFlight.deploymentId, true);
    return finishEarly(
      'ROLLED_BACK',
      [
        {
          code: 'MANUAL_ROLLBACK',
          message: `stopped ${inFlight.deploymentId} of workflow ${inFlight.workflowId} with rollback, for ${who}: ${c.rollback.reason}`,
        },
      ],
      { ...c, environment },
    );
  }
  // An upgrade baking now: end its bake as if an alarm fired, so it reverts to the last known-good
  // version at once instead of this request waiting for the lock until the bake ends.
  const baking = (await ports.watches.listPending(100)).find(
    (w) => w.status === 'PENDING' && w.component === c.component && w.environment === environment,
  );
  if (baking) {
    await ports.workflows.append(
      baking.workflowId,
      { stage: 'Rollback', at: now, status: 'REQUESTED', detail: `${who}: ${c.rollback.reason}` },
      { manualRollback: { by: who, reason: c.rollback.reason, at: now, requestWorkflowId: workflowId } },
    );
    const ended = await finishBake(
      {
        workflowId: baking.workflowId,
        alarm: { name: MANUAL_ROLLBACK_ALARM, reason: `${who}: ${c.rollback.reason}`, at: now },
      },
      {
        watches: ports.watches,
        alarms: ports.alarms,
        callbacks: ports.callbacks,
        workflows: ports.workflows,
        clock: ports.clock,
        pollSeconds: 30,
      },
      baking,
    );
    if (ended) {
      return finishEarly(
        'ROLLED_BACK',
        [
          {
            code: 'MANUAL_ROLLBACK',
            message: `ended the bake of workflow ${baking.workflowId}, which reverts to its last known-good version, for ${who}: ${c.rollback.reason}`,
          },
        ],
        { ...c, environment },
      );
    }
  }
  if (!registry) {
    return finishEarly('IGNORED', [{ code: 'NOTHING_TO_ROLL_BACK', message: 'no version is recorded yet' }], {
      ...c,
      environment,
    });
  }
  const known = [registry.current, registry.previous, registry.lastKnownGood].filter(
    (v): v is NonNullable<typeof v> => !!v,
  );
  const fallback =
    registry.current.version === registry.lastKnownGood.version ? registry.previous : registry.lastKnownGood;
  const target = c.version ? known.find((v) => v.version === c.version) : fallback;
  if (!target) {
    return finishEarly(
      'INVALID',
      [
        {
          code: c.version ? 'UNKNOWN_VERSION' : 'NOTHING_TO_ROLL_BACK',
          message: c.version
            ? `detail.toVersion: expected one of ${[...new Set(known.map((v) => v.version))].join(', ')} (versions with a known artifact)`
            : `no version before ${registry.current.version} is recorded`,
        },
      ],
      { ...c, environment },
    );
  }
  if (target.version === registry.current.version) {
    return finishEarly(
      'SKIPPED',
      [
        {
          code: 'ALREADY_AT_VERSION',
          message: `${c.component} in ${environment} already runs ${target.version}`,
        },
      ],
      { ...c, environment, version: target.version },
    );
  }
  const request: UpgradeRequest = {
    workflowId,
    component: c.component,
    environment,
    version: target.version,
    artifact: target.artifact,
    platform,
    labels: [],
    ...(c.rollback.requestedBy ? { publishedBy: c.rollback.requestedBy } : {}),
    source: c.source,
    eventId: c.eventId,
    receivedAt: now,
    currentVersion: registry.current.version,
    currentArtifact: registry.current.artifact,
    bump: 'downgrade',
    mode: 'rollback',
    rollback: c.rollback,
    // What Intake resolved, as for an upgrade: a shadow environment's rollback is shadowed too.
    resolved: carried,
  };
  await recordAccepted(
    request,
    `rollback of ${c.component} in ${environment}: ${registry.current.version} -> ${target.version}, for ${who}: ${c.rollback.reason}`,
    ports.workflows,
  );
  return { outcome: 'ACCEPTED', workflowId, reasons: [], request };
}

/** The workflow record of an accepted request, with its first history entry. */
async function recordAccepted(
  request: UpgradeRequest,
  detail: string,
  workflows: WorkflowStore,
): Promise<void> {
  await workflows.create({
    workflowId: request.workflowId,
    status: 'RUNNING',
    reasons: [],
    component: request.component,
    environment: request.environment,
    version: request.version,
    source: request.source,
    eventId: request.eventId,
    startedAt: request.receivedAt,
    history: [{ stage: 'Intake', at: request.receivedAt, status: 'ACCEPTED', detail }],
    evidence: { request },
  });
}
