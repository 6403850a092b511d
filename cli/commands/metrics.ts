import { z } from 'zod';
import {
  type DeliveryFigures,
  type DeliveryMetrics,
  type DurationSummary,
  deliveryMetrics,
  rollbackCauses,
} from '../../shared/domain/metrics';
import type { WorkflowRecord } from '../../shared/domain/workflow';
import type { AwsDeps } from '../aws/cli-api';
import { awsTargetOf } from '../aws/stack';
import { onStack } from '../aws/workspace';
import { type Flags, isoTime, str, UsageError } from './shared';
import { openWorkspace } from './workspace';

const dateOnly = z.iso.date();
const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/**
 * `--since`: an ISO 8601 time, a date (midnight UTC), or a span back from `now` (`30d`, `12h`,
 * `2w`). A UsageError names the flag and the forms it takes.
 */
export function sinceOf(text: string, now: Date): Date {
  const span = /^(\d{1,5})([hdw])$/.exec(text);
  if (span) return new Date(now.getTime() - Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS]);
  if (dateOnly.safeParse(text).success) return new Date(`${text}T00:00:00Z`);
  try {
    return isoTime('--since', text);
  } catch {
    throw new UsageError(
      `--since: expected an ISO 8601 time (2026-11-01T00:00:00Z), a date (2026-11-01) or a span back from now (30d, 12h, 2w), got "${text}"`,
    );
  }
}

/** What metrics and export read: the workflow records started in the window, with the window. */
export interface RecordWindow {
  records: WorkflowRecord[];
  since: string | undefined;
  until: string;
  component: string | undefined;
  environment: string | undefined;
}

/**
 * Opens the workspace (a saved local state, or `--stack` for a deployed stack's table), reads the
 * workflows started in [--since, now] through the workflow store, and closes it again.
 */
export async function readRecordWindow(
  flags: Flags,
  command: string,
  deps: AwsDeps = {},
): Promise<RecordWindow> {
  const target = awsTargetOf(flags);
  if (!str(flags.state) && !target) {
    throw new UsageError(
      `${command}: --state DIR (the folder that run/publish --state wrote) or --stack NAME (a deployed stack) is required`,
    );
  }
  for (const flag of ['component', 'env', 'since'] as const) {
    if (flags[flag] !== undefined && !str(flags[flag])) throw new UsageError(`--${flag}: expected a value`);
  }
  const ws = await openWorkspace(flags, 'read', deps, ['state', 'at', 'catalog']);
  try {
    const now = ws.now();
    const sinceText = str(flags.since);
    const since = sinceText ? sinceOf(sinceText, now).toISOString() : undefined;
    const until = now.toISOString();
    if (since && since > until) throw new UsageError(`--since: ${since} is after now (${until})`);
    // Inclusive of `now`: a record started at the very instant the state was saved counts.
    const range = { ...(since ? { from: since } : {}), to: new Date(now.getTime() + 1).toISOString() };
    const read = () => ws.stores.workflows.listStarted(range);
    const records =
      ws.kind === 'aws' && target ? await onStack(target, 'read the workflows', read) : await read();
    return { records, since, until, component: str(flags.component), environment: str(flags.env) };
  } finally {
    await ws.close();
  }
}

/** `upshift metrics`: delivery metrics from the workflow records (docs/metrics.md). */
export async function metrics(flags: Flags, out: (s: string) => void, deps: AwsDeps = {}): Promise<number> {
  const window = await readRecordWindow(flags, 'metrics', deps);
  const result = deliveryMetrics(window.records, {
    since: window.since,
    until: window.until,
    component: window.component,
    environment: window.environment,
  });
  out(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatMetrics(result));
  return 0;
}

/** Minutes as a person reads them: minutes up to two hours, then hours, then days. */
export function duration(minutes: number | null): string {
  if (minutes === null) return '-';
  if (minutes < 120) return `${round1(minutes)} min`;
  if (minutes < 48 * 60) return `${round1(minutes / 60)} h`;
  return `${round1(minutes / 1440)} d`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function round1(x: number): string {
  return (Math.round(x * 10) / 10).toFixed(1);
}

function distribution(s: DurationSummary): string {
  if (!s.count) return 'none';
  return `median ${duration(s.medianMinutes)}, p90 ${duration(s.p90Minutes)}, mean ${duration(
    s.meanMinutes,
  )}, max ${duration(s.maxMinutes)} (${s.count})`;
}

function figureLines(f: DeliveryFigures, indent: string): string[] {
  const d = f.deployments;
  const cfr = f.changeFailureRate;
  const causes = rollbackCauses
    .filter((c) => f.rollbacks.byCause[c] > 0)
    .map((c) => `${c} ${f.rollbacks.byCause[c]}`)
    .join(', ');
  const a = f.approvals;
  const rows: [string, string][] = [
    [
      'deployments',
      `${d.started} started: ${d.completed} completed, ${d.rolledBack} rolled back, ${d.rollbackFailed} revert failed, ${d.failed} failed, ${d.running} running`,
    ],
    [
      'frequency',
      `${f.deploymentFrequency.completed} completed in ${f.deploymentFrequency.days} days: ${f.deploymentFrequency.perWeek} a week, ${f.deploymentFrequency.perDay} a day`,
    ],
    ['lead time (publish)', distribution(f.leadTime.fromPublish)],
    ['lead time (commit)', distribution(f.leadTime.fromCommit)],
    [
      'change failure rate',
      cfr.rate === null
        ? '- (no deployment)'
        : `${round1(cfr.rate * 100)}% (${cfr.failures} of ${cfr.deployments})`,
    ],
    [
      'time to restore',
      `${distribution(f.timeToRestore)}; ${count(f.timeToRestore.incidents, 'incident')}, ${f.timeToRestore.open} open`,
    ],
    [
      'rollbacks',
      `${f.rollbacks.total}${causes ? `: ${causes}` : ''}${f.rollbacks.failed ? ` (${f.rollbacks.failed} failed)` : ''}`,
    ],
    [
      'approval wait',
      `${distribution(a.wait)}; ${a.requested} requested: ${a.approved} approved, ${a.rejected} rejected, ${a.expired} expired, ${a.pending} pending`,
    ],
    ['shadowed', `${f.shadowed.total} (${f.shadowed.wouldDeploy} would have deployed)`],
  ];
  return rows.map(([k, v]) => `${indent}${k.padEnd(21)} ${v}`);
}

/** The metrics as text: the whole population, then one block per component and environment. */
export function formatMetrics(m: DeliveryMetrics): string {
  const filters = [
    m.filters.component ? `component ${m.filters.component}` : '',
    m.filters.environment ? `environment ${m.filters.environment}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const lines = [
    `Delivery metrics, workflows started ${m.window.since ?? '(the first)'} .. ${m.window.until}${filters ? ` (${filters})` : ''}: ${count(m.workflows.total, 'workflow')}`,
  ];
  if (!m.workflows.total) return `${lines[0]}\n`;
  lines.push(...figureLines(m, '  '));
  for (const t of m.targets) {
    lines.push(
      '',
      `${t.component} in ${t.environment}: ${count(t.workflows.total, 'workflow')}`,
      ...figureLines(t, '  '),
    );
  }
  return `${lines.join('\n')}\n`;
}
