import type { Reason } from './events/upshift-events';
import type { HistoryEntry, WorkflowRecord } from './workflow';

/**
 * The audit trail of one workflow, for an auditor (`upshift export`, docs/metrics.md): who asked,
 * what, when, what was decided and why, who approved, and where the evidence is. Pure: built from
 * the workflow record alone.
 */
export interface AuditEntry {
  workflowId: string;
  /** `upgrade`, `rollback` (asked for by hand), or `event` (ended at intake: invalid, ignored...). */
  kind: 'upgrade' | 'rollback' | 'event';
  component: string | null;
  environment: string | null;
  version: string | null;
  fromVersion: string | null;
  /** The event's source and id, and who published it (CI's `publishedBy`, the CLI's caller). */
  source: string | null;
  eventId: string | null;
  publishedBy: string | null;
  commit: string | null;
  committedAt: string | null;
  startedAt: string;
  endedAt: string | null;
  /** The workflow's outcome, or RUNNING. */
  outcome: string;
  /** The last decision of the policy, its risk and the policy version it was read from. */
  decision: string | null;
  risk: string | null;
  policyVersion: number | null;
  verdict: string | null;
  deploymentConfig: string | null;
  deploymentId: string | null;
  approvalRequestedAt: string | null;
  /** APPROVED, REJECTED or EXPIRED (the last request's answer), PENDING, or null if none was asked. */
  approvalStatus: string | null;
  /** Who answered: the approvers of an approval, the person who rejected. */
  approvedBy: string[];
  approvalAt: string | null;
  /** The last Approval line, as the record states it (it carries the comment). */
  approvalDetail: string | null;
  reasons: Reason[];
  /** Where the raw verification samples are (S3 URI, or the local evidence key). */
  evidenceRef: string | null;
}

/** The columns of the CSV, in order. */
export const auditColumns = [
  'workflowId',
  'kind',
  'component',
  'environment',
  'version',
  'fromVersion',
  'source',
  'eventId',
  'publishedBy',
  'commit',
  'committedAt',
  'startedAt',
  'endedAt',
  'outcome',
  'decision',
  'risk',
  'policyVersion',
  'verdict',
  'deploymentConfig',
  'deploymentId',
  'approvalRequestedAt',
  'approvalStatus',
  'approvedBy',
  'approvalAt',
  'approvalDetail',
  'reasons',
  'evidenceRef',
] as const satisfies readonly (keyof AuditEntry)[];

interface RequestEvidence {
  mode?: string;
  currentVersion?: string;
  publishedBy?: string;
  commit?: string;
  committedAt?: string;
  resolved?: { policyVersion?: number };
}

/** The audit entry of one workflow record. */
export function auditEntry(record: WorkflowRecord): AuditEntry {
  const e = record.evidence;
  const request = e.request as RequestEvidence | undefined;
  const decision = e.decision as { decision?: string; risk?: string } | undefined;
  const verification = e.verification as
    | { verdict?: string; policyVersion?: number; evidence?: { ref?: string } }
    | undefined;
  const deployment = e.deployment as { deploymentConfig?: string; deploymentId?: string } | undefined;
  const approval = approvalOf(record.history, e.approval as StoredApproval | undefined);
  return {
    workflowId: record.workflowId,
    kind: request ? (request.mode === 'rollback' ? 'rollback' : 'upgrade') : 'event',
    component: record.component ?? null,
    environment: record.environment ?? null,
    version: record.version ?? null,
    fromVersion: request?.currentVersion ?? null,
    source: record.source ?? null,
    eventId: record.eventId ?? null,
    publishedBy: request?.publishedBy ?? null,
    commit: request?.commit ?? null,
    committedAt: request?.committedAt ?? null,
    startedAt: record.startedAt,
    endedAt: record.endedAt ?? null,
    outcome: record.outcome ?? record.status,
    decision: decision?.decision ?? null,
    risk: decision?.risk ?? null,
    policyVersion: verification?.policyVersion ?? request?.resolved?.policyVersion ?? null,
    verdict: verification?.verdict ?? null,
    deploymentConfig: deployment?.deploymentConfig ?? null,
    deploymentId: deployment?.deploymentId ?? null,
    ...approval,
    reasons: record.reasons,
    evidenceRef: verification?.evidence?.ref ?? null,
  };
}

/** What decide-approval and the expiry keep under `evidence.approval` (the last answer). */
interface StoredApproval {
  status?: string;
  approvers?: string[];
  by?: string;
  at?: string;
}

type ApprovalFields = Pick<
  AuditEntry,
  'approvalRequestedAt' | 'approvalStatus' | 'approvedBy' | 'approvalAt' | 'approvalDetail'
>;

/**
 * The last approval request and its answer, from the record's Approval lines; who answered from
 * `evidence.approval` when the record has it, else from the votes (`approved by NAME (i of n)`).
 */
function approvalOf(history: readonly HistoryEntry[], stored: StoredApproval | undefined): ApprovalFields {
  const lines = history.filter((h) => h.stage === 'Approval');
  const requested = lines.findLastIndex((h) => h.status === 'REQUESTED');
  if (requested < 0) {
    return {
      approvalRequestedAt: null,
      approvalStatus: null,
      approvedBy: [],
      approvalAt: null,
      approvalDetail: null,
    };
  }
  const after = lines.slice(requested + 1);
  const answer = after.find(
    (h) => h.status === 'APPROVED' || h.status === 'REJECTED' || h.status === 'EXPIRED',
  );
  const votes = after.flatMap((h) => {
    const m = h.status === 'VOTE' ? /^approved by (.+?) \(\d+ of \d+\)/.exec(h.detail) : null;
    return m?.[1] ? [m[1]] : [];
  });
  const fromStore =
    stored && answer && stored.status === answer.status && stored.at === answer.at
      ? stored.status === 'REJECTED'
        ? stored.by
          ? [stored.by]
          : []
        : (stored.approvers ?? [])
      : undefined;
  return {
    approvalRequestedAt: lines[requested]?.at ?? null,
    approvalStatus: answer?.status ?? 'PENDING',
    approvedBy: fromStore ?? (answer?.status === 'EXPIRED' ? [] : votes),
    approvalAt: answer?.at ?? null,
    approvalDetail: (answer ?? lines[requested])?.detail ?? null,
  };
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The entry's fields as the CSV writes them: lists one item per line, absent values empty. */
export function csvValues(entry: AuditEntry): Record<(typeof auditColumns)[number], string> {
  const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
  return Object.fromEntries(
    auditColumns.map((column) => {
      const v = entry[column];
      if (column === 'reasons')
        return [column, entry.reasons.map((r) => `${r.code}: ${r.message}`).join('\n')];
      if (column === 'approvedBy') return [column, entry.approvedBy.join('\n')];
      return [column, text(v)];
    }),
  ) as Record<(typeof auditColumns)[number], string>;
}

/** The audit trail as RFC 4180 CSV: a header line, one record per line, CRLF line breaks. */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const lines = [
    auditColumns.join(','),
    ...entries.map((entry) => {
      const values = csvValues(entry);
      return auditColumns.map((c) => csvField(values[c])).join(',');
    }),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
