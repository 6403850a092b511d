import { z } from 'zod';
import type { Target } from './catalog';
import { type Artifact, ec2Artifact, ecsArtifact, lambdaArtifact } from './events/artifact';
import type { Reason } from './events/upshift-events';
import { ownValue } from './own';
import { compareVersions } from './semver';
import { strictObject } from './strict-object';
import { PROMOTION_SOURCE } from './trusted-sources';

/**
 * Promotion waves (docs/waves.md, decisions 0032-0033): after a COMPLETED upgrade in one
 * environment and a soak with that environment's alarms quiet, Upshift publishes the same version
 * to the next environment of the component's order, where that environment's own policy decides.
 * Everything here is pure: the time, the ids and what the alarms say are passed in.
 */

export { PROMOTION_SOURCE };

/** The event Upshift puts on its bus when a wave changes (docs/events.md). */
export const WAVE_UPDATED = 'Promotion Wave Updated';

/** The Upshift events that move a wave (rule pattern `promotionInputs` in shared/domain/patterns.ts). */
export const waveInputDetailTypes = [
  'Upgrade Started',
  'Approval Requested',
  'Upgrade Deferred',
  'Upgrade Completed',
  'Upgrade Rolled Back',
  'Upgrade Rejected',
  'Upgrade Failed',
  'Upgrade Rollback Failed',
  'Upgrade Shadowed',
  'Upgrade Ended',
] as const;

/** The order a component promotes in when its policy names none (those of them it has). */
export const DEFAULT_ORDER = ['development', 'staging', 'production'] as const;

/** A soak lasts at most a week: a wave is a delivery path, not a parking place. */
export const MAX_SOAK_MINUTES = 7 * 24 * 60;

/** How often a stage held by `after` looks again at the wave it waits for. */
export const AFTER_RECHECK_MINUTES = 1;

/** How long a stage waits for the waves it comes after, by default, before the wave halts (AFTER_TIMEOUT). */
export const DEFAULT_AFTER_TIMEOUT_MINUTES = 24 * 60;

/**
 * How long a claim to send a coordinated rollback holds: the sender that claimed it sends it and
 * marks it sent; after this, a sender that finds it still unsent (a crash) may claim it again.
 */
export const ROLLBACK_CLAIM_MINUTES = 5;

/** How long a wave (and its closed soaks and links) is kept after it ended: the table's TTL. */
export const WAVE_RETENTION_DAYS = 90;

const environmentName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected an environment name');
const componentName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a component name');
const minutes = z
  .number({ error: 'expected a number of minutes' })
  .int('expected whole minutes')
  .min(0)
  .max(MAX_SOAK_MINUTES, `expected at most ${MAX_SOAK_MINUTES} minutes (a week)`);

/**
 * A component's promotion policy (or the catalog's default, `promotion` at the top level).
 *
 * @example
 * { "order": ["development", "staging", "production"],
 *   "soakMinutes": { "development": 10, "staging": 60 },
 *   "coordinatedRollback": true, "after": ["pricing"] }
 */
export const promotionPolicySchema = strictObject({
  /** The environments in promotion order; by default development → staging → production. */
  order: z.array(environmentName).min(2, 'expected at least two environments to promote through').optional(),
  /** Minutes each stage soaks after it completed, before the next is published: one number, or per environment. */
  soakMinutes: z.union([minutes, z.record(environmentName, minutes)]).default(30),
  /** A failed stage also rolls the wave's earlier environments back to the version they had before it. */
  coordinatedRollback: z.boolean().default(false),
  /** Components whose wave of the same release must have completed a stage before this one promotes to it. */
  after: z.array(componentName).default([]),
  /** Minutes a soaked stage waits for the waves it comes after before the wave halts (AFTER_TIMEOUT). */
  afterTimeoutMinutes: minutes.default(DEFAULT_AFTER_TIMEOUT_MINUTES),
});
export type PromotionPolicy = z.infer<typeof promotionPolicySchema>;

/** The environments a component promotes through, in order; fewer than two means no waves. */
export function promotionOrder(policy: PromotionPolicy, environments: readonly string[]): string[] {
  if (policy.order) return [...policy.order];
  return DEFAULT_ORDER.filter((e) => environments.includes(e));
}

/** The soak of one stage, in minutes (a stage a per-environment map leaves out soaks 0). */
export function soakMinutesFor(policy: Pick<PromotionPolicy, 'soakMinutes'>, environment: string): number {
  return typeof policy.soakMinutes === 'number'
    ? policy.soakMinutes
    : (ownValue(policy.soakMinutes, environment) ?? 0);
}

/**
 * What is wrong with the promotion policies of a catalog, by path: an order naming an environment
 * the component lacks or twice, an `after` naming an unknown component, itself, or a cycle, and
 * an environment whose policy trusts listed sources but not the promotion's. A component in
 * `inherited` has the catalog's default policy: its problems are the default's, at `promotion`,
 * saying which component the default does not fit.
 */
export function promotionProblems(
  components: Readonly<
    Record<string, { environments: Record<string, unknown>; promotion?: PromotionPolicy }>
  >,
  trustedSourcesOf: (environment: string) => readonly string[] | undefined,
  inherited: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  for (const [name, component] of Object.entries(components)) {
    const policy = component.promotion;
    if (!policy) continue;
    const fromDefault = inherited.has(name);
    const at = fromDefault ? 'promotion' : `components.${name}.promotion`;
    const forWhom = fromDefault ? ` (the default policy of ${name})` : '';
    const environments = Object.keys(component.environments);
    const order = promotionOrder(policy, environments);
    for (const [i, env] of (policy.order ?? []).entries()) {
      if (!environments.includes(env))
        problems.push(`${at}.order[${i}]: "${env}" is not an environment of ${name}`);
      if (policy.order?.indexOf(env) !== i) problems.push(`${at}.order[${i}]: "${env}" appears twice`);
    }
    // Promotions go to every stage but the first; coordinated rollbacks to every stage but the last.
    for (const [i, env] of order.entries()) {
      const promoted = i > 0;
      const rolledBack = policy.coordinatedRollback && i < order.length - 1;
      const trusted = trustedSourcesOf(env);
      if ((promoted || rolledBack) && trusted && !trusted.includes(PROMOTION_SOURCE)) {
        const what = promoted ? `promotes to ${env}` : `may roll ${env} back`;
        problems.push(
          `${at}: ${name} ${what}, whose policy's trustedSources lacks "${PROMOTION_SOURCE}" (its events would be IGNORED there)`,
        );
      }
    }
    for (const [i, other] of policy.after.entries()) {
      if (other === name) problems.push(`${at}.after[${i}]: a component cannot wait for itself${forWhom}`);
      else if (!Object.hasOwn(components, other))
        problems.push(`${at}.after[${i}]: no component "${other}" in the catalog`);
    }
  }
  const cycle = findAfterCycle(components);
  if (cycle) problems.push(`promotion.after: a cycle (${cycle.join(' → ')}); no wave could ever promote`);
  return problems;
}

function findAfterCycle(
  components: Readonly<Record<string, { promotion?: PromotionPolicy }>>,
): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const next of ownValue(components, name)?.promotion?.after ?? []) {
      if (!Object.hasOwn(components, next)) continue;
      const found = visit(next, [...path, name]);
      if (found) return found;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(components)) {
    const found = visit(name, []);
    if (found) return found;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The wave

export const waveStatuses = ['ACTIVE', 'COMPLETED', 'HALTED', 'SUPERSEDED'] as const;
export type WaveStatus = (typeof waveStatuses)[number];

/**
 * A stage's life: PENDING (not reached) → PUBLISHED (Upshift sent the Version Published) →
 * RUNNING (its upgrade started) → SOAKING (completed; the soak runs) → PASSED (promoted to the
 * next) or COMPLETED (the last stage, or one after which the wave promotes no further). WAITING: soaked, held by `after`. FAILED: its upgrade
 * ended without COMPLETED, or an alarm fired by the end of its soak. STOPPED: the wave halted or
 * was superseded before this stage was reached.
 */
export const stageStatuses = [
  'PENDING',
  'PUBLISHED',
  'RUNNING',
  'SOAKING',
  'WAITING',
  'PASSED',
  'COMPLETED',
  'FAILED',
  'STOPPED',
] as const;
export type StageStatus = (typeof stageStatuses)[number];

export interface WaveStage {
  environment: string;
  status: StageStatus;
  soakMinutes: number;
  workflowId?: string;
  /** The version serving here before the wave's: where a coordinated rollback returns. */
  fromVersion?: string;
  publishedAt?: string;
  startedAt?: string;
  endedAt?: string;
  soakUntil?: string;
  outcome?: string;
  reasons?: Reason[];
  /** The latest thing said about the stage (waiting for a window, an approval, another wave). */
  note?: string;
  /**
   * A coordinated rollback of this environment: requested, claimed by the one sender that sends it
   * (`claimedAt`, for ROLLBACK_CLAIM_MINUTES), and `sent` after PutEvents; `note` when it was not
   * sent because the wave's version no longer serves there.
   */
  rollback?: {
    toVersion?: string;
    reason: string;
    requestedAt: string;
    sent: boolean;
    claimedAt?: string;
    note?: string;
  };
  /** The stage's Version Published was put on the bus (a PUBLISHED stage without it is published again). */
  publishSent?: boolean;
  /** When the stage began to wait for the waves it comes after (AFTER_TIMEOUT counts from it). */
  waitingSince?: string;
}

export interface Wave {
  waveId: string;
  component: string;
  version: string;
  /** Waves of one release (the commit CI published) are "the same wave" for `after`. */
  release?: string;
  status: WaveStatus;
  stages: WaveStage[];
  coordinatedRollback: boolean;
  after: string[];
  /** Minutes a stage may wait for `after` (absent on waves written before it: the default). */
  afterTimeoutMinutes?: number;
  startedAt: string;
  updatedAt: string;
  endedAt?: string;
  /** Where and why the wave stopped. */
  halted?: { environment: string; reasons: Reason[]; at: string };
  supersededBy?: { waveId: string; version: string; at: string };
  /** Optimistic concurrency: every write is conditional on the revision it read. */
  rev: number;
}

/** The id of the wave an upgrade started by CI begins: one wave per starting workflow. */
export function waveIdFor(workflowId: string): string {
  return `wave-${workflowId}`;
}

/**
 * Whether an upgrade of `workflowId` in `environment` may start a new wave although the stage's
 * link names `wave`: the wave ended (HALTED, SUPERSEDED or COMPLETED) and the upgrade is not the
 * one the wave recorded there. A stage of an ended wave that recorded no workflow (published,
 * never started) may still be the promotion's own: the caller starts a new wave only for an
 * upgrade CI started, and otherwise leaves the event to the ended wave.
 */
export function releasesStage(wave: Wave, environment: string, workflowId: string): boolean {
  if (wave.status === 'ACTIVE') return false;
  const stage = wave.stages.find((s) => s.environment === environment);
  return stage?.workflowId !== workflowId;
}

/** Starts a wave at the environment CI published to (the order's stages before it are not in it). */
export function startWave(input: {
  waveId: string;
  component: string;
  version: string;
  release?: string;
  environment: string;
  order: readonly string[];
  policy: PromotionPolicy;
  workflowId: string;
  fromVersion?: string;
  at: string;
}): Wave {
  const from = input.order.indexOf(input.environment);
  if (from < 0 || from === input.order.length - 1) {
    throw new Error(
      `${input.environment} does not start a wave of ${input.component} (${input.order.join(' → ')})`,
    );
  }
  const stages: WaveStage[] = input.order.slice(from).map((environment, i) => ({
    environment,
    status: i === 0 ? 'RUNNING' : 'PENDING',
    soakMinutes: soakMinutesFor(input.policy, environment),
    ...(i === 0
      ? {
          workflowId: input.workflowId,
          startedAt: input.at,
          ...(input.fromVersion ? { fromVersion: input.fromVersion } : {}),
        }
      : {}),
  }));
  return {
    waveId: input.waveId,
    component: input.component,
    version: input.version,
    ...(input.release ? { release: input.release } : {}),
    status: 'ACTIVE',
    stages,
    coordinatedRollback: input.policy.coordinatedRollback,
    after: [...input.policy.after],
    afterTimeoutMinutes: input.policy.afterTimeoutMinutes,
    startedAt: input.at,
    updatedAt: input.at,
    rev: 0,
  };
}

/** What an Upshift event says about one upgrade of a wave's stage. */
export type StageEvent =
  | { kind: 'started'; workflowId: string; at: string; fromVersion?: string }
  | { kind: 'note'; workflowId: string; at: string; note: string }
  | { kind: 'ended'; workflowId: string; at: string; outcome: string; reasons: Reason[] };

/** Something the use case does after a wave changed. */
export type WaveEffect =
  | { type: 'soak'; environment: string; until: string }
  | { type: 'publish'; environment: string }
  | { type: 'recheck'; environment: string; at: string }
  | { type: 'rollback'; environment: string };

export interface Transition {
  wave: Wave;
  changed: boolean;
  effects: WaveEffect[];
}

/** Outcomes after which the earlier environments are rolled back, when the policy coordinates. */
export const ROLLBACK_TRIGGERS: readonly string[] = ['ROLLED_BACK', 'ROLLBACK_FAILED', 'FAILED'];

/** Skips that are not a stage's own outcome: a second delivery of the same promotion. */
const IGNORED_SKIPS = new Set(['DUPLICATE']);

const unchanged = (wave: Wave): Transition => ({ wave, changed: false, effects: [] });

function addMinutes(at: string, minutes: number): string {
  return new Date(Date.parse(at) + minutes * 60_000).toISOString();
}

function withStage(wave: Wave, index: number, stage: WaveStage, at: string): Wave {
  const stages = wave.stages.map((s, i) => (i === index ? stage : s));
  return { ...wave, stages, updatedAt: at };
}

/**
 * Applies one event of an upgrade to the wave's stage in `environment`. Idempotent and tolerant of
 * order: a duplicate, a late `started` after the stage ended, or an event of another workflow for
 * the same stage changes nothing.
 */
export function applyStageEvent(wave: Wave, environment: string, event: StageEvent): Transition {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const stage = wave.stages[index];
  if (!stage) return unchanged(wave);
  // Another workflow of the same stage (a retry CI sent by hand): not the wave's.
  if (stage.workflowId && stage.workflowId !== event.workflowId) return unchanged(wave);
  const live = stage.status === 'PUBLISHED' || stage.status === 'RUNNING';
  if (event.kind === 'started') {
    // Late (the stage already ended) or a duplicate: nothing to learn.
    if (stage.status !== 'PUBLISHED') return unchanged(wave);
    return {
      wave: withStage(
        wave,
        index,
        {
          ...stage,
          status: 'RUNNING',
          workflowId: event.workflowId,
          startedAt: event.at,
          ...(event.fromVersion ? { fromVersion: event.fromVersion } : {}),
        },
        event.at,
      ),
      changed: true,
      effects: [],
    };
  }
  if (event.kind === 'note') {
    if (!live || stage.note === event.note) return unchanged(wave);
    return {
      wave: withStage(wave, index, { ...stage, workflowId: event.workflowId, note: event.note }, event.at),
      changed: true,
      effects: [],
    };
  }
  if (!live) return unchanged(wave);
  if (event.outcome === 'SKIPPED' && event.reasons.some((r) => IGNORED_SKIPS.has(r.code))) {
    return unchanged(wave);
  }
  const ended: WaveStage = {
    ...stage,
    workflowId: event.workflowId,
    endedAt: event.at,
    outcome: event.outcome,
    reasons: event.reasons,
  };
  delete ended.note;
  if (event.outcome === 'COMPLETED') {
    const last = index === wave.stages.length - 1;
    if (last) {
      const done = withStage(wave, index, { ...ended, status: 'COMPLETED' }, event.at);
      // A superseded or halted wave still records what its last stage did, and stays as it is.
      return {
        wave: done.status === 'ACTIVE' ? { ...done, status: 'COMPLETED', endedAt: event.at } : done,
        changed: true,
        effects: [],
      };
    }
    if (wave.status !== 'ACTIVE') {
      // Superseded meanwhile: the stage completed, and the wave promotes no further.
      return {
        wave: withStage(wave, index, { ...ended, status: 'COMPLETED' }, event.at),
        changed: true,
        effects: [],
      };
    }
    const until = addMinutes(event.at, stage.soakMinutes);
    const soaking = withStage(wave, index, { ...ended, status: 'SOAKING', soakUntil: until }, event.at);
    return {
      wave: soaking,
      changed: true,
      effects: [{ type: 'soak', environment, until }],
    };
  }
  const failed = withStage(wave, index, { ...ended, status: 'FAILED' }, event.at);
  return halt(failed, environment, describeEnd(environment, event.outcome, event.reasons), event.at, {
    rollback: ROLLBACK_TRIGGERS.includes(event.outcome),
    includeHere: false,
  });
}

function describeEnd(environment: string, outcome: string, reasons: Reason[]): Reason[] {
  const why = reasons.map((r) => `${r.code}: ${r.message}`).join('; ');
  return [
    {
      code: `STAGE_${outcome}`,
      message: `the upgrade in ${environment} ended ${outcome}${why ? ` (${why})` : ''}`,
    },
    ...reasons,
  ];
}

/**
 * Halts an ACTIVE wave where it is: stages not reached are STOPPED; with coordinated rollback (and
 * `rollback`), each earlier stage that took the wave's version is rolled back to its version from
 * before the wave, and with `includeHere` the halting stage too (an alarm after it completed).
 */
function halt(
  wave: Wave,
  environment: string,
  reasons: Reason[],
  at: string,
  options: { rollback: boolean; includeHere: boolean },
): Transition {
  if (wave.status !== 'ACTIVE') return { wave, changed: true, effects: [] };
  const here = wave.stages.findIndex((s) => s.environment === environment);
  const effects: WaveEffect[] = [];
  const summary = reasons[0]?.message ?? 'halted';
  const stages = wave.stages.map((s, i): WaveStage => {
    if (i > here && (s.status === 'PENDING' || s.status === 'PUBLISHED')) {
      return { ...s, status: 'STOPPED', note: `not reached: the wave halted in ${environment}` };
    }
    const earlier = i < here || (options.includeHere && i === here);
    const tookVersion = ['SOAKING', 'WAITING', 'PASSED', 'COMPLETED'].includes(s.status) || i === here;
    if (options.rollback && wave.coordinatedRollback && earlier && tookVersion && !s.rollback) {
      effects.push({ type: 'rollback', environment: s.environment });
      return {
        ...s,
        ...(s.status === 'SOAKING' || s.status === 'WAITING' ? { status: 'COMPLETED' as const } : {}),
        rollback: {
          ...(s.fromVersion ? { toVersion: s.fromVersion } : {}),
          reason: `coordinated rollback: wave ${wave.waveId} (${wave.component} ${wave.version}) halted in ${environment}: ${summary}`,
          requestedAt: at,
          sent: false,
        },
      };
    }
    return s;
  });
  return {
    wave: {
      ...wave,
      stages,
      status: 'HALTED',
      halted: { environment, reasons, at },
      endedAt: at,
      updatedAt: at,
    },
    changed: true,
    effects,
  };
}

/** An alarm as DescribeAlarms reports it (the AlarmReader port's AlarmState). */
export interface AlarmReading {
  name: string;
  state: string;
  reason: string;
}

/** What the end of a stage's soak found. */
export interface SoakFindings {
  at: string;
  /** The component's alarms in that environment, as DescribeAlarms gave them. */
  alarms: readonly AlarmReading[];
  /** The waves of the same release of the components this one comes after (undefined: none). */
  afterWaves: Readonly<Record<string, Wave | undefined>>;
}

/**
 * The end of a stage's soak: an alarm in ALARM halts the wave there; a component this one comes
 * after that has not completed the next stage holds it (WAITING, looked at again); otherwise the
 * next stage is PUBLISHED. A stage left PUBLISHED by a lost PutEvents is published again.
 */
export function endSoak(wave: Wave, environment: string, findings: SoakFindings): Transition {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const stage = wave.stages[index];
  const next = wave.stages[index + 1];
  if (!stage || !next) return unchanged(wave);
  if (
    stage.status === 'PASSED' &&
    next.status === 'PUBLISHED' &&
    !next.publishSent &&
    wave.status === 'ACTIVE'
  ) {
    return { wave, changed: false, effects: [{ type: 'publish', environment: next.environment }] };
  }
  if (stage.status !== 'SOAKING' && stage.status !== 'WAITING') return unchanged(wave);
  if (wave.status !== 'ACTIVE') return unchanged(wave);
  const at = findings.at;
  if (stage.status === 'SOAKING' && stage.soakUntil && at < stage.soakUntil) return unchanged(wave);
  const firing = findings.alarms.filter((a) => a.state === 'ALARM');
  if (firing.length) {
    const failed = withStage(
      wave,
      index,
      { ...stage, status: 'FAILED', note: `alarm at the end of the soak` },
      at,
    );
    return halt(
      failed,
      environment,
      [
        {
          code: 'SOAK_ALARM',
          message: `${firing.map((a) => a.name).join(', ')} in ALARM at the end of the soak in ${environment}: ${firing[0]?.reason ?? ''}`,
        },
      ],
      at,
      { rollback: true, includeHere: true },
    );
  }
  for (const other of wave.after) {
    const theirs = findings.afterWaves[other];
    if (!theirs) continue;
    const theirStage = theirs.stages.find((s) => s.environment === next.environment);
    // Their wave does not go there (its order lacks the environment, or it started past it):
    // nothing of theirs to wait for in that environment.
    if (!theirStage) continue;
    const done = ['SOAKING', 'WAITING', 'PASSED', 'COMPLETED'].includes(theirStage.status);
    if (done) continue;
    if (theirs.status !== 'ACTIVE') {
      const why = theirs.status === 'SUPERSEDED' ? `was superseded` : `halted`;
      const passed: WaveStage = { ...stage, status: 'PASSED' };
      delete passed.waitingSince;
      return halt(
        withStage(wave, index, passed, at),
        environment,
        [
          {
            code: 'AFTER_HALTED',
            message: `${other}'s wave ${theirs.waveId} of release ${wave.release} ${why} before ${next.environment}; ${wave.component} comes after it`,
          },
        ],
        at,
        { rollback: false, includeHere: false },
      );
    }
    const since = stage.waitingSince ?? at;
    const timeout = wave.afterTimeoutMinutes ?? DEFAULT_AFTER_TIMEOUT_MINUTES;
    const deadline = addMinutes(since, timeout);
    if (at >= deadline) {
      const passed: WaveStage = { ...stage, status: 'PASSED' };
      delete passed.waitingSince;
      return halt(
        withStage(wave, index, passed, at),
        environment,
        [
          {
            code: 'AFTER_TIMEOUT',
            message: `${other}'s wave ${theirs.waveId} of release ${wave.release} did not complete ${next.environment} within ${timeout} minutes (waiting since ${since}); ${wave.component} comes after it`,
          },
        ],
        at,
        { rollback: false, includeHere: false },
      );
    }
    const note = `waiting for ${other} (wave ${theirs.waveId}) to complete ${next.environment}`;
    // Looked at again in a minute, or at the deadline if that comes first.
    const left = (Date.parse(deadline) - Date.parse(at)) / 60_000;
    const recheckAt = addMinutes(at, Math.min(AFTER_RECHECK_MINUTES, left));
    const changed = stage.status !== 'WAITING' || stage.note !== note;
    return {
      wave: changed
        ? withStage(wave, index, { ...stage, status: 'WAITING', note, waitingSince: since }, at)
        : wave,
      changed,
      effects: [{ type: 'recheck', environment, at: recheckAt }],
    };
  }
  const passed: WaveStage = { ...stage, status: 'PASSED' };
  delete passed.note;
  delete passed.waitingSince;
  const promoted = withStage(wave, index, passed, at);
  return {
    wave: withStage(promoted, index + 1, { ...next, status: 'PUBLISHED', publishedAt: at }, at),
    changed: true,
    effects: [{ type: 'publish', environment: next.environment }],
  };
}

/**
 * A newer version's wave supersedes an older ACTIVE one of the same component, once the newer
 * wave's first stage completed (the use case's head step): the older stops promoting (its stages
 * not reached are STOPPED; one in flight finishes, but promotes no further).
 */
export function supersede(wave: Wave, by: { waveId: string; version: string }, at: string): Transition {
  if (wave.status !== 'ACTIVE' || wave.waveId === by.waveId) return unchanged(wave);
  if (compareVersions(by.version, wave.version) <= 0) return unchanged(wave);
  const stages = wave.stages.map((s): WaveStage => {
    if (s.status !== 'PENDING' && s.status !== 'WAITING' && s.status !== 'SOAKING') return s;
    const { waitingSince: _since, ...rest } = s;
    return {
      ...rest,
      status: s.status === 'PENDING' ? 'STOPPED' : 'COMPLETED',
      note: `superseded by ${by.version} (${by.waveId})`,
    };
  });
  return {
    wave: {
      ...wave,
      stages,
      status: 'SUPERSEDED',
      supersededBy: { ...by, at },
      endedAt: at,
      updatedAt: at,
    },
    changed: true,
    effects: [],
  };
}

/**
 * The next stage could not be published (no artifact a Version Published can carry, such as an
 * image known only by its ECR push): it FAILS, and the wave halts there with the reason.
 */
export function publishFailed(wave: Wave, environment: string, reason: Reason, at: string): Transition {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const stage = wave.stages[index];
  if (stage?.status !== 'PUBLISHED' || wave.status !== 'ACTIVE') return unchanged(wave);
  const failed = withStage(wave, index, { ...stage, status: 'FAILED', endedAt: at, reasons: [reason] }, at);
  return halt(failed, environment, [reason], at, { rollback: false, includeHere: false });
}

/**
 * Marks a stage's coordinated rollback sent, with the version it was sent to (or, with `note`,
 * why it was not: the wave's version no longer serves there).
 */
export function rollbackSent(
  wave: Wave,
  environment: string,
  at: string,
  outcome: { toVersion?: string; note?: string } = {},
): Transition {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const stage = wave.stages[index];
  if (!stage?.rollback || stage.rollback.sent) return unchanged(wave);
  const { claimedAt: _claim, ...rest } = stage.rollback;
  return {
    wave: withStage(
      wave,
      index,
      {
        ...stage,
        rollback: {
          ...rest,
          ...(outcome.toVersion ? { toVersion: outcome.toVersion } : {}),
          ...(outcome.note ? { note: outcome.note } : {}),
          sent: true,
        },
      },
      at,
    ),
    changed: true,
    effects: [],
  };
}

/** Rollbacks decided but not yet sent (a crash between the write and PutEvents leaves them). */
export function unsentRollbacks(wave: Wave): WaveStage[] {
  return wave.stages.filter((s) => s.rollback && !s.rollback.sent);
}

/** When a claim on a rollback taken at `claimedAt` lapses. */
export function rollbackClaimLapses(claimedAt: string): string {
  return addMinutes(claimedAt, ROLLBACK_CLAIM_MINUTES);
}

/**
 * Claims a stage's unsent coordinated rollback for one sender (written conditionally on the
 * wave's revision, so of two concurrent senders one wins): unchanged when it is sent, or claimed
 * by another sender less than ROLLBACK_CLAIM_MINUTES ago.
 */
export function claimRollback(wave: Wave, environment: string, now: string): Transition {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const stage = wave.stages[index];
  const rollback = stage?.rollback;
  if (!stage || !rollback || rollback.sent) return unchanged(wave);
  if (rollback.claimedAt && now < rollbackClaimLapses(rollback.claimedAt)) return unchanged(wave);
  return {
    wave: withStage(wave, index, { ...stage, rollback: { ...rollback, claimedAt: now } }, now),
    changed: true,
    effects: [],
  };
}

/** Gives a claim back (its PutEvents failed), so the next attempt need not wait for it to lapse. */
export function releaseRollback(wave: Wave, environment: string, claimedAt: string): Transition {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const stage = wave.stages[index];
  const rollback = stage?.rollback;
  if (!stage || !rollback || rollback.sent || rollback.claimedAt !== claimedAt) return unchanged(wave);
  const { claimedAt: _claim, ...rest } = rollback;
  return {
    wave: withStage(wave, index, { ...stage, rollback: rest }, wave.updatedAt),
    changed: true,
    effects: [],
  };
}

/** Marks a PUBLISHED stage's Version Published as put on the bus. */
export function publishSent(wave: Wave, environment: string, at: string): Transition {
  const index = wave.stages.findIndex((s) => s.environment === environment);
  const stage = wave.stages[index];
  if (stage?.status !== 'PUBLISHED' || stage.publishSent) return unchanged(wave);
  return { wave: withStage(wave, index, { ...stage, publishSent: true }, at), changed: true, effects: [] };
}

/** The first stage completed (SOAKING or later): the wave may move the component's head. */
export function firstStageCompleted(wave: Wave): boolean {
  const first = wave.stages[0];
  return (
    !!first &&
    ['SOAKING', 'WAITING', 'PASSED', 'COMPLETED'].includes(first.status) &&
    first.outcome === 'COMPLETED'
  );
}

/** When an ended wave's items expire (the table's TTL, epoch seconds), or undefined while it runs. */
export function waveExpiresAt(wave: Pick<Wave, 'endedAt'>): number | undefined {
  if (!wave.endedAt) return undefined;
  return Math.floor(Date.parse(wave.endedAt) / 1000) + WAVE_RETENTION_DAYS * 86_400;
}

/**
 * The artifacts CI published for the later stages, in the Version Published that starts a wave:
 * `metadata.artifacts: { "<environment>": <artifact> }`. A component whose environments deploy
 * different Lambda functions needs one per stage: a version number means nothing on another
 * function (docs/waves.md).
 */
export const stageArtifactsSchema = z.record(
  environmentName,
  z.discriminatedUnion('type', [lambdaArtifact, ecsArtifact, ec2Artifact], {
    error: 'expected an artifact with type "lambda", "ecs" or "ec2"',
  }),
);
export type StageArtifacts = z.infer<typeof stageArtifactsSchema>;

/**
 * The artifact a promotion publishes to `environment`: the one CI named for it, else the one that
 * serves in the stage before when the next stage deploys it too (the same Lambda function; an ECS
 * task definition or an EC2 revision). Otherwise a reason that says what CI must send.
 */
export function promotedArtifact(input: {
  component: string;
  environment: string;
  from: string;
  target: Target;
  named?: Artifact | undefined;
  serving?: Artifact | undefined;
}): { artifact: Artifact } | { refused: Reason } {
  if (input.named) return { artifact: input.named };
  const serving = input.serving;
  const sameFunction =
    serving?.type === 'lambda' && input.target.type === 'lambda'
      ? serving.functionName === input.target.functionName
      : serving !== undefined && serving.type !== 'image';
  if (serving && sameFunction) return { artifact: serving };
  const what =
    serving?.type === 'lambda' && input.target.type === 'lambda'
      ? `${input.from} runs ${serving.functionName}:${serving.functionVersion}, but ${input.environment} deploys ${input.target.functionName}`
      : `no artifact of ${input.from} can be deployed to ${input.environment}`;
  return {
    refused: {
      code: 'PROMOTION_NO_ARTIFACT',
      message: `${what}; publish the version there and name it in the starting event's metadata.artifacts.${input.environment}`,
    },
  };
}

/** A one-line summary of where a wave is, for the CLI and the console. */
export function describeWave(wave: Wave): string {
  const path = wave.stages
    .map((s) => `${s.environment} ${s.status}${s.note ? ` (${s.note})` : ''}`)
    .join(' → ');
  const end =
    wave.status === 'HALTED'
      ? `; halted in ${wave.halted?.environment}: ${wave.halted?.reasons[0]?.message ?? ''}`
      : wave.status === 'SUPERSEDED'
        ? `; superseded by ${wave.supersededBy?.version} (${wave.supersededBy?.waveId})`
        : '';
  return `${wave.component} ${wave.version} ${wave.status}: ${path}${end}`;
}

/** A stage's rollback target, for a Rollback Requested: none when the wave never learned it. */
export function rollbackTarget(stage: WaveStage): string | undefined {
  return stage.rollback?.toVersion;
}

/** The version to compare when a new wave meets an existing one of the same component. */
export function isNewerWave(candidate: { version: string }, existing: { version: string }): boolean {
  return compareVersions(candidate.version, existing.version) > 0;
}
