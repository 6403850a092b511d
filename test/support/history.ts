import type { HistoryEntry, WorkflowRecord } from '../../shared/domain/workflow';

/** One workflow of a known history, written the way the steps write it. */
interface Spec {
  id: string;
  component?: string;
  environment?: string;
  version?: string;
  outcome?: WorkflowRecord['outcome'];
  startedAt: string;
  endedAt?: string;
  /** A deployment was created (Deploy's intent and id, and its line). */
  deployed?: boolean;
  reasons?: string[];
  mode?: 'upgrade' | 'rollback';
  currentVersion?: string;
  committedAt?: string;
  approval?: { requestedAt: string; status?: 'APPROVED' | 'REJECTED' | 'EXPIRED'; at?: string; by?: string };
  shadow?: 'deploy' | 'reject';
  /** Ended at intake (no request in the evidence). */
  intakeOnly?: boolean;
}

export function workflow(s: Spec): WorkflowRecord {
  const history: HistoryEntry[] = [{ stage: 'Intake', at: s.startedAt, status: 'ACCEPTED', detail: '' }];
  const evidence: Record<string, unknown> = {};
  if (!s.intakeOnly) {
    evidence.request = {
      workflowId: s.id,
      component: s.component ?? 'checkout',
      environment: s.environment ?? 'production',
      version: s.version,
      mode: s.mode ?? 'upgrade',
      publishedBy: s.mode === 'rollback' ? 'oncall@example.com' : 'ci@example.com',
      commit: 'abc1234',
      ...(s.currentVersion ? { currentVersion: s.currentVersion } : {}),
      ...(s.committedAt ? { committedAt: s.committedAt } : {}),
      receivedAt: s.startedAt,
    };
  }
  if (s.approval) {
    history.push({
      stage: 'Approval',
      at: s.approval.requestedAt,
      status: 'REQUESTED',
      detail: `approval apr-${s.id} requested`,
    });
    if (s.approval.status && s.approval.at) {
      if (s.approval.status === 'APPROVED') {
        history.push({
          stage: 'Approval',
          at: s.approval.at,
          status: 'VOTE',
          detail: `approved by ${s.approval.by ?? 'alice'} (1 of 1): looks good, ship it`,
        });
      }
      history.push({
        stage: 'Approval',
        at: s.approval.at,
        status: s.approval.status,
        detail: `${s.approval.status.toLowerCase()} by ${s.approval.by ?? 'alice'}: "quoted", with a comma`,
      });
    }
  }
  if (s.deployed) {
    const at = s.approval?.at ?? s.startedAt;
    history.push({ stage: 'Deploy', at, status: 'CREATED', detail: `d-${s.id}` });
    evidence.deployment = {
      version: s.version,
      deploymentConfig: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      deploymentId: `d-${s.id}`,
      intentAt: at,
    };
  }
  if (!s.intakeOnly && s.mode !== 'rollback') {
    evidence.decision = { decision: 'APPROVE', risk: 'MEDIUM', trace: [] };
    evidence.verification = {
      verdict: 'PASS',
      policyVersion: 3,
      evidence: { ref: `s3://evidence/verification/${s.id}.json`, samples: 60 },
    };
  }
  if (s.shadow) evidence.shadow = { decision: 'APPROVE', action: s.shadow };
  const ended = s.outcome !== undefined;
  if (ended)
    history.push({ stage: 'Record', at: s.endedAt ?? s.startedAt, status: s.outcome ?? '', detail: '' });
  return {
    workflowId: s.id,
    status: ended ? 'ENDED' : 'RUNNING',
    ...(s.outcome ? { outcome: s.outcome } : {}),
    reasons: (s.reasons ?? []).map((code) => ({ code, message: `${code.toLowerCase()}, see "the record"` })),
    ...(s.component !== undefined || !s.intakeOnly ? { component: s.component ?? 'checkout' } : {}),
    ...(s.environment !== undefined || !s.intakeOnly ? { environment: s.environment ?? 'production' } : {}),
    ...(s.version ? { version: s.version } : {}),
    source: 'ci.test',
    eventId: `evt-${s.id}`,
    startedAt: s.startedAt,
    ...(ended ? { endedAt: s.endedAt ?? s.startedAt } : {}),
    history,
    evidence,
  };
}

const d = (day: number, time: string) => `2026-11-${String(day).padStart(2, '0')}T${time}:00.000Z`;

/**
 * A week of checkout (production and staging) and pricing with every kind of ending; the figures
 * it gives are worked out by hand in test/unit/metrics.test.ts.
 */
export const knownHistory: WorkflowRecord[] = [
  workflow({
    id: 'w01',
    version: '1.1.0',
    outcome: 'COMPLETED',
    startedAt: d(1, '10:00'),
    endedAt: d(1, '11:00'),
    deployed: true,
    committedAt: d(1, '09:00'),
    approval: { requestedAt: d(1, '10:00'), status: 'APPROVED', at: d(1, '10:30') },
    reasons: ['DEPLOYED', 'BAKED'],
  }),
  workflow({
    id: 'w02',
    version: '1.2.0',
    outcome: 'ROLLED_BACK',
    startedAt: d(2, '10:00'),
    endedAt: d(2, '10:40'),
    deployed: true,
    reasons: ['BAKE_ALARM'],
  }),
  workflow({
    id: 'w03',
    version: '1.2.1',
    outcome: 'COMPLETED',
    startedAt: d(2, '12:00'),
    endedAt: d(2, '12:30'),
    deployed: true,
    reasons: ['DEPLOYED'],
  }),
  workflow({
    id: 'w04',
    version: '1.3.0',
    outcome: 'FAILED',
    startedAt: d(3, '10:00'),
    endedAt: d(3, '10:05'),
    reasons: ['TransientDependencyError'],
  }),
  workflow({
    id: 'w05',
    version: '1.3.0',
    outcome: 'REJECTED',
    startedAt: d(3, '11:00'),
    endedAt: d(3, '11:20'),
    approval: { requestedAt: d(3, '11:00'), status: 'REJECTED', at: d(3, '11:20'), by: 'bob' },
    reasons: ['REJECTED_BY_APPROVER'],
  }),
  workflow({
    id: 'w06',
    version: '1.4.0',
    outcome: 'COMPLETED',
    startedAt: d(4, '10:00'),
    endedAt: d(4, '10:45'),
    deployed: true,
    approval: { requestedAt: d(4, '10:00'), status: 'APPROVED', at: d(4, '10:10') },
    reasons: ['DEPLOYED'],
  }),
  workflow({
    id: 'w07',
    version: '1.2.1',
    mode: 'rollback',
    currentVersion: '1.4.0',
    outcome: 'ROLLED_BACK',
    startedAt: d(4, '12:00'),
    endedAt: d(4, '12:05'),
    reasons: ['MANUAL_ROLLBACK'],
  }),
  workflow({
    id: 'w08',
    version: '1.5.0',
    outcome: 'FAILED',
    startedAt: d(5, '10:00'),
    endedAt: d(5, '10:20'),
    deployed: true,
    reasons: ['States.TaskFailed'],
  }),
  workflow({
    id: 'w09',
    version: '1.5.1',
    outcome: 'ROLLED_BACK',
    startedAt: d(5, '11:00'),
    endedAt: d(5, '11:10'),
    deployed: true,
    reasons: ['DEPLOYMENT_STOPPED', 'ALARM'],
  }),
  workflow({
    id: 'w10',
    version: '1.5.2',
    outcome: 'COMPLETED',
    startedAt: d(5, '12:00'),
    endedAt: d(5, '12:50'),
    deployed: true,
    reasons: ['DEPLOYED'],
  }),
  workflow({
    id: 'w11',
    environment: 'staging',
    version: '1.6.0',
    outcome: 'COMPLETED',
    startedAt: d(6, '10:00'),
    endedAt: d(6, '10:20'),
    deployed: true,
    committedAt: d(6, '08:00'),
    reasons: ['DEPLOYED'],
  }),
  workflow({
    id: 'w12',
    environment: 'staging',
    version: '1.7.0',
    outcome: 'ROLLBACK_FAILED',
    startedAt: d(6, '11:00'),
    endedAt: d(6, '11:30'),
    deployed: true,
    reasons: ['ROLLBACK_FAILED', 'BAKE_ALARM'],
  }),
  workflow({
    id: 'w13',
    component: 'pricing',
    version: '2.0.0',
    outcome: 'SHADOWED',
    startedAt: d(7, '10:00'),
    endedAt: d(7, '10:00'),
    shadow: 'deploy',
    reasons: ['SHADOWED'],
  }),
  workflow({
    id: 'w14',
    version: '1.9.0',
    startedAt: d(7, '12:00'),
    approval: { requestedAt: d(7, '12:00') },
  }),
  workflow({
    id: 'w15',
    version: '1.0.1',
    outcome: 'COMPLETED',
    startedAt: '2026-10-30T10:00:00.000Z',
    endedAt: '2026-10-30T10:30:00.000Z',
    deployed: true,
    reasons: ['DEPLOYED'],
  }),
  workflow({
    id: 'w16',
    outcome: 'INVALID',
    startedAt: d(7, '13:00'),
    intakeOnly: true,
    reasons: ['INVALID_EVENT'],
  }),
];

export const knownWindow = { since: '2026-11-01T00:00:00.000Z', until: '2026-11-08T00:00:00.000Z' };
