import type { Outcome, Reason } from './events/upshift-events';
import type { HistoryEntry, WorkflowRecord } from './workflow';

/**
 * Delivery metrics over workflow records (docs/metrics.md has the definitions). Pure: the records
 * and the window are passed in; nothing here reads a clock or a store.
 */

/** Why a version stopped serving. */
export const rollbackCauses = ['SHIFT_ALARM', 'DEPLOYMENT_FAILED', 'BAKE_ALARM', 'MANUAL'] as const;
export type RollbackCause = (typeof rollbackCauses)[number];

/** A distribution of durations, in minutes (two decimals); null figures when there is none. */
export interface DurationSummary {
  count: number;
  medianMinutes: number | null;
  p90Minutes: number | null;
  meanMinutes: number | null;
  maxMinutes: number | null;
}

export interface DeliveryFigures {
  /** Workflows in the population, by outcome (RUNNING for those not ended). */
  workflows: { total: number; byOutcome: Record<string, number> };
  /** Upgrades whose deployment started (CreateDeployment was called), and how they ended. */
  deployments: {
    started: number;
    completed: number;
    rolledBack: number;
    rollbackFailed: number;
    failed: number;
    running: number;
  };
  /** Completed upgrades per day and per week of the window. */
  deploymentFrequency: { completed: number; days: number; perDay: number; perWeek: number };
  leadTime: { fromPublish: DurationSummary; fromCommit: DurationSummary };
  /** Failed changes over deployments started (null with no deployment). */
  changeFailureRate: { failures: number; deployments: number; rate: number | null };
  /** From the first failure of an incident to the next completed upgrade (or manual rollback). */
  timeToRestore: DurationSummary & { incidents: number; open: number };
  rollbacks: { total: number; failed: number; byCause: Record<RollbackCause, number> };
  approvals: {
    requested: number;
    approved: number;
    rejected: number;
    expired: number;
    pending: number;
    wait: DurationSummary;
  };
  /** Shadow runs (decision 0030): how many, and how many would have deployed. */
  shadowed: { total: number; wouldDeploy: number };
}

export interface TargetFigures extends DeliveryFigures {
  component: string;
  environment: string;
}

export interface DeliveryMetrics extends DeliveryFigures {
  window: { since: string | null; until: string };
  filters: { component: string | null; environment: string | null };
  /** The same figures per component and environment, in name order. */
  targets: TargetFigures[];
}

export interface MetricsQuery {
  /** Records started at or after this instant count (the earliest record's start when absent). */
  since?: string | undefined;
  /** The end of the window (now): records started at or before it count. */
  until: string;
  component?: string | undefined;
  environment?: string | undefined;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The delivery metrics of the records that started in [since, until] and match the filters.
 * @example
 * deliveryMetrics(records, { since: '2026-11-01T00:00:00Z', until: '2026-12-01T00:00:00Z' })
 *   .changeFailureRate // { failures: 1, deployments: 4, rate: 0.25 }
 */
export function deliveryMetrics(records: readonly WorkflowRecord[], query: MetricsQuery): DeliveryMetrics {
  const population = records
    .filter((r) => inWindow(r, query))
    .filter((r) => !query.component || r.component === query.component)
    .filter((r) => !query.environment || r.environment === query.environment)
    .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  const since = query.since ?? population[0]?.startedAt ?? null;
  const days = Math.max(0, (Date.parse(query.until) - Date.parse(since ?? query.until)) / DAY);

  const groups = new Map<string, WorkflowRecord[]>();
  for (const r of population) {
    if (!r.component || !r.environment) continue;
    const key = `${r.component}\u0000${r.environment}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const targets = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, rs]) => {
      const [component = '', environment = ''] = key.split('\u0000');
      return { component, environment, ...figures(rs, days) };
    });
  return {
    window: { since, until: query.until },
    filters: { component: query.component ?? null, environment: query.environment ?? null },
    ...figures(population, days),
    targets,
  };
}

function inWindow(r: WorkflowRecord, q: MetricsQuery): boolean {
  const t = Date.parse(r.startedAt);
  return (q.since === undefined || t >= Date.parse(q.since)) && t <= Date.parse(q.until);
}

/** What one record says, read once. */
interface Facts {
  record: WorkflowRecord;
  target: string;
  kind: 'upgrade' | 'rollback' | 'other';
  /** A deployment of the upgrade was started (its intent and id recorded, or the Deploy line). */
  deployed: boolean;
  endedAt: number | undefined;
  rollbackCause?: RollbackCause;
}

function factsOf(r: WorkflowRecord): Facts {
  const request = r.evidence.request as { mode?: string } | undefined;
  const kind = request ? (request.mode === 'rollback' ? 'rollback' : 'upgrade') : 'other';
  const deployment = r.evidence.deployment as { deploymentId?: string } | undefined;
  const deployed =
    kind === 'upgrade' &&
    (!!deployment?.deploymentId || r.history.some((h) => h.stage === 'Deploy' && h.status === 'CREATED'));
  const endedAt = r.status === 'ENDED' && r.endedAt ? Date.parse(r.endedAt) : undefined;
  const cause = kind === 'rollback' ? 'MANUAL' : rollbackCauseOf(r.outcome, r.reasons);
  return {
    record: r,
    target: `${r.component}\u0000${r.environment}`,
    kind,
    deployed,
    endedAt,
    ...(cause && (r.outcome === 'ROLLED_BACK' || r.outcome === 'ROLLBACK_FAILED')
      ? { rollbackCause: cause }
      : {}),
  };
}

/**
 * The cause of a rollback from the record's reason codes (functions/record): on-call asked for it,
 * an alarm during the bake, an alarm that stopped the shift, or CodeDeploy failing the shift.
 */
export function rollbackCauseOf(
  outcome: Outcome | undefined,
  reasons: readonly Reason[],
): RollbackCause | undefined {
  if (outcome !== 'ROLLED_BACK' && outcome !== 'ROLLBACK_FAILED') return undefined;
  const codes = new Set(reasons.map((r) => r.code));
  if (codes.has('MANUAL_ROLLBACK')) return 'MANUAL';
  if (codes.has('BAKE_ALARM')) return 'BAKE_ALARM';
  if (codes.has('ALARM')) return 'SHIFT_ALARM';
  return 'DEPLOYMENT_FAILED';
}

function figures(records: readonly WorkflowRecord[], days: number): DeliveryFigures {
  const facts = records.map(factsOf);
  const byOutcome: Record<string, number> = {};
  for (const f of facts) {
    const key = f.record.outcome ?? 'RUNNING';
    byOutcome[key] = (byOutcome[key] ?? 0) + 1;
  }

  const deployments = facts.filter((f) => f.deployed);
  const count = (outcome: Outcome) => deployments.filter((f) => f.record.outcome === outcome).length;
  const completed = deployments.filter((f) => f.record.outcome === 'COMPLETED');

  // A failed change: its deployment started and it did not end COMPLETED (rolled back, a failed
  // revert, or FAILED), or it completed and on-call rolled it back by hand afterwards.
  const failedIds = new Set(
    deployments
      .filter((f) => f.endedAt !== undefined && f.record.outcome !== 'COMPLETED')
      .map((f) => f.record.workflowId),
  );
  for (const undone of undoneByHand(facts)) failedIds.add(undone);

  const leadFromPublish = completed.flatMap((f) => span(f.record.startedAt, f.endedAt));
  const leadFromCommit = completed.flatMap((f) => {
    const committedAt = (f.record.evidence.request as { committedAt?: string } | undefined)?.committedAt;
    return committedAt ? span(committedAt, f.endedAt) : [];
  });

  const restore = timesToRestore(facts, failedIds);
  const byCause = Object.fromEntries(rollbackCauses.map((c) => [c, 0])) as Record<RollbackCause, number>;
  const rolled = facts.filter((f) => f.rollbackCause && (f.kind === 'rollback' || f.deployed));
  for (const f of rolled) if (f.rollbackCause) byCause[f.rollbackCause] += 1;

  const shadowed = facts.filter((f) => f.record.outcome === 'SHADOWED');
  return {
    workflows: { total: facts.length, byOutcome },
    deployments: {
      started: deployments.length,
      completed: completed.length,
      rolledBack: count('ROLLED_BACK'),
      rollbackFailed: count('ROLLBACK_FAILED'),
      failed: count('FAILED'),
      running: deployments.filter((f) => f.endedAt === undefined).length,
    },
    deploymentFrequency: {
      completed: completed.length,
      days: round(days),
      perDay: days > 0 ? round(completed.length / days) : 0,
      perWeek: days > 0 ? round((completed.length / days) * 7) : 0,
    },
    leadTime: { fromPublish: summarize(leadFromPublish), fromCommit: summarize(leadFromCommit) },
    changeFailureRate: {
      failures: failedIds.size,
      deployments: deployments.length,
      rate: deployments.length ? round(failedIds.size / deployments.length, 4) : null,
    },
    timeToRestore: { ...summarize(restore.durations), incidents: restore.incidents, open: restore.open },
    rollbacks: {
      total: rolled.length,
      failed: rolled.filter((f) => f.record.outcome === 'ROLLBACK_FAILED').length,
      byCause,
    },
    approvals: approvalFigures(records),
    shadowed: {
      total: shadowed.length,
      wouldDeploy: shadowed.filter(
        (f) => (f.record.evidence.shadow as { action?: string })?.action === 'deploy',
      ).length,
    },
  };
}

/**
 * Completed upgrades that a later manual rollback in the same target undid: the rollback's
 * request names the version it rolled back from (`currentVersion`).
 */
function undoneByHand(facts: readonly Facts[]): string[] {
  const undone: string[] = [];
  for (const rollback of facts) {
    if (rollback.kind !== 'rollback' || rollback.record.outcome !== 'ROLLED_BACK') continue;
    const from = (rollback.record.evidence.request as { currentVersion?: string }).currentVersion;
    const upgrade = facts
      .filter(
        (f) =>
          f.deployed &&
          f.target === rollback.target &&
          f.record.outcome === 'COMPLETED' &&
          f.record.version === from &&
          f.record.startedAt < rollback.record.startedAt,
      )
      .at(-1);
    if (upgrade) undone.push(upgrade.record.workflowId);
  }
  return undone;
}

/**
 * Incidents per target: one opens at the first failed change after the last restore (its end, when
 * Upshift knew), and is restored by the next COMPLETED upgrade or successful manual rollback there.
 * A completed upgrade later undone by hand fails at the rollback's start.
 */
function timesToRestore(
  facts: readonly Facts[],
  failedIds: ReadonlySet<string>,
): { durations: number[]; incidents: number; open: number } {
  const events: { target: string; at: number; kind: 'fail' | 'restore' }[] = [];
  for (const f of facts) {
    if (f.endedAt === undefined) continue;
    const id = f.record.workflowId;
    if (failedIds.has(id) && f.record.outcome !== 'COMPLETED') {
      events.push({ target: f.target, at: f.endedAt, kind: 'fail' });
    }
    if (f.kind === 'upgrade' && f.record.outcome === 'COMPLETED') {
      if (failedIds.has(id)) {
        // Undone by hand: it failed when the rollback was asked for, and it restored nothing.
        const rollback = facts.find(
          (r) =>
            r.kind === 'rollback' &&
            r.target === f.target &&
            (r.record.evidence.request as { currentVersion?: string }).currentVersion === f.record.version &&
            r.record.startedAt > f.record.startedAt,
        );
        if (rollback)
          events.push({ target: f.target, at: Date.parse(rollback.record.startedAt), kind: 'fail' });
      }
      events.push({ target: f.target, at: f.endedAt, kind: 'restore' });
    }
    if (f.kind === 'rollback' && f.record.outcome === 'ROLLED_BACK') {
      events.push({ target: f.target, at: f.endedAt, kind: 'restore' });
    }
  }
  // Failures before restores at the same instant: a restore ends what failed before it.
  events.sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'fail' ? -1 : 1));
  const openSince = new Map<string, number>();
  const durations: number[] = [];
  let incidents = 0;
  for (const e of events) {
    const open = openSince.get(e.target);
    if (e.kind === 'fail') {
      if (open === undefined) {
        openSince.set(e.target, e.at);
        incidents += 1;
      }
    } else if (open !== undefined) {
      durations.push(e.at - open);
      openSince.delete(e.target);
    }
  }
  return { durations, incidents, open: openSince.size };
}

/** Each approval request and its answer, from the record's Approval lines. */
function approvalFigures(records: readonly WorkflowRecord[]): DeliveryFigures['approvals'] {
  const waits: number[] = [];
  const counts = { requested: 0, approved: 0, rejected: 0, expired: 0, pending: 0 };
  for (const r of records) {
    let requestedAt: string | undefined;
    for (const h of r.history as HistoryEntry[]) {
      if (h.stage !== 'Approval') continue;
      if (h.status === 'REQUESTED') {
        counts.requested += 1;
        requestedAt = h.at;
      } else if (
        requestedAt &&
        (h.status === 'APPROVED' || h.status === 'REJECTED' || h.status === 'EXPIRED')
      ) {
        counts[h.status.toLowerCase() as 'approved' | 'rejected' | 'expired'] += 1;
        waits.push(...span(requestedAt, Date.parse(h.at)));
        requestedAt = undefined;
      }
    }
    // A request that the workflow never answered: still waiting, or ended without an answer line.
    if (requestedAt) counts.pending += 1;
  }
  return { ...counts, wait: summarize(waits) };
}

function span(from: string, to: number | undefined): number[] {
  const start = Date.parse(from);
  return to === undefined || Number.isNaN(start) ? [] : [to - start];
}

/** Median (the mean of the two middle values for an even count), p90 by nearest rank, mean, max. */
export function summarize(durationsMs: readonly number[]): DurationSummary {
  if (!durationsMs.length) {
    return { count: 0, medianMinutes: null, p90Minutes: null, meanMinutes: null, maxMinutes: null };
  }
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const n = sorted.length;
  const at = (i: number) => sorted[Math.min(n - 1, Math.max(0, i))] as number;
  const median = n % 2 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  const minutes = (ms: number) => round(ms / MINUTE);
  return {
    count: n,
    medianMinutes: minutes(median),
    p90Minutes: minutes(at(Math.ceil(0.9 * n) - 1)),
    meanMinutes: minutes(sorted.reduce((s, x) => s + x, 0) / n),
    maxMinutes: minutes(at(n - 1)),
  };
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
