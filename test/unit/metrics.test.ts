import { describe, expect, it } from 'vitest';
import { auditCsv, auditEntry, csvField } from '../../shared/domain/audit-export';
import { deliveryMetrics, rollbackCauseOf, summarize } from '../../shared/domain/metrics';
import { knownHistory, knownWindow, workflow } from '../support/history';

describe('delivery metrics over a known week (docs/metrics.md)', () => {
  it('every figure, worked out by hand', () => {
    // Prepare: test/support/history.ts, 16 workflows, one before the window
    // Act
    const m = deliveryMetrics(knownHistory, knownWindow);
    // Assess
    expect(m.window).toEqual({ since: knownWindow.since, until: knownWindow.until });
    expect(m.workflows).toEqual({
      total: 15,
      byOutcome: {
        COMPLETED: 5,
        ROLLED_BACK: 3,
        FAILED: 2,
        REJECTED: 1,
        ROLLBACK_FAILED: 1,
        SHADOWED: 1,
        RUNNING: 1,
        INVALID: 1,
      },
    });
    // w01 w02 w03 w06 w08 w09 w10 w11 w12 created a deployment; w04 failed before, w07 is a rollback.
    expect(m.deployments).toEqual({
      started: 9,
      completed: 5,
      rolledBack: 2,
      rollbackFailed: 1,
      failed: 1,
      running: 0,
    });
    expect(m.deploymentFrequency).toEqual({ completed: 5, days: 7, perDay: 0.71, perWeek: 5 });
    // Publish to COMPLETED: 60, 30, 45, 50, 20 minutes; commit to COMPLETED: 120 and 140.
    expect(m.leadTime.fromPublish).toEqual({
      count: 5,
      medianMinutes: 45,
      p90Minutes: 60,
      meanMinutes: 41,
      maxMinutes: 60,
    });
    expect(m.leadTime.fromCommit).toEqual({
      count: 2,
      medianMinutes: 130,
      p90Minutes: 140,
      meanMinutes: 130,
      maxMinutes: 140,
    });
    // w02 w08 w09 w12 did not complete; w06 completed and was rolled back by hand (w07).
    expect(m.changeFailureRate).toEqual({ failures: 5, deployments: 9, rate: 0.5556 });
    // Incidents: w02 (10:40 -> w03 12:30, 110 min), w06 (rollback asked 12:00 -> w07 12:05, 5 min),
    // w08+w09 (10:20 -> w10 12:50, 150 min), staging w12 (still open).
    expect(m.timeToRestore).toEqual({
      count: 3,
      medianMinutes: 110,
      p90Minutes: 150,
      meanMinutes: 88.33,
      maxMinutes: 150,
      incidents: 4,
      open: 1,
    });
    expect(m.rollbacks).toEqual({
      total: 4,
      failed: 1,
      byCause: { SHIFT_ALARM: 1, DEPLOYMENT_FAILED: 0, BAKE_ALARM: 2, MANUAL: 1 },
    });
    // Waits: 30 (w01), 20 (w05), 10 (w06); w14 still waits.
    expect(m.approvals).toEqual({
      requested: 4,
      approved: 2,
      rejected: 1,
      expired: 0,
      pending: 1,
      wait: { count: 3, medianMinutes: 20, p90Minutes: 30, meanMinutes: 20, maxMinutes: 30 },
    });
    expect(m.shadowed).toEqual({ total: 1, wouldDeploy: 1 });
    expect(m.targets.map((t) => `${t.component}/${t.environment}`)).toEqual([
      'checkout/production',
      'checkout/staging',
      'pricing/production',
    ]);
    const [production, staging] = m.targets;
    expect(production?.changeFailureRate).toEqual({ failures: 4, deployments: 7, rate: 0.5714 });
    expect(staging?.changeFailureRate).toEqual({ failures: 1, deployments: 2, rate: 0.5 });
    expect(staging?.timeToRestore).toMatchObject({ count: 0, incidents: 1, open: 1 });
  });

  it('filters by component and environment, and the window bounds what counts', () => {
    // Act
    const staging = deliveryMetrics(knownHistory, { ...knownWindow, environment: 'staging' });
    const all = deliveryMetrics(knownHistory, { until: knownWindow.until });
    const pricing = deliveryMetrics(knownHistory, { ...knownWindow, component: 'pricing' });
    // Assess
    expect(staging.workflows.total).toBe(2);
    expect(staging.filters).toEqual({ component: null, environment: 'staging' });
    // Without --since: from the first record (w15, 2026-10-30T10:00Z), which now counts.
    expect(all.window.since).toBe('2026-10-30T10:00:00.000Z');
    expect(all.deployments.completed).toBe(6);
    expect(pricing.deployments.started).toBe(0);
    expect(pricing.changeFailureRate.rate).toBeNull();
    expect(pricing.shadowed).toEqual({ total: 1, wouldDeploy: 1 });
  });

  it('summaries: median of an even count, p90 by nearest rank, none when empty', () => {
    expect(summarize([])).toEqual({
      count: 0,
      medianMinutes: null,
      p90Minutes: null,
      meanMinutes: null,
      maxMinutes: null,
    });
    const minutes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => m * 60_000);
    expect(summarize(minutes)).toMatchObject({ medianMinutes: 5.5, p90Minutes: 9, maxMinutes: 10 });
  });

  it('the cause of a rollback comes from its reason codes', () => {
    const r = (...codes: string[]) => codes.map((code) => ({ code, message: '' }));
    expect(rollbackCauseOf('ROLLED_BACK', r('DEPLOYMENT_STOPPED', 'ALARM', 'MANUAL_ROLLBACK'))).toBe(
      'MANUAL',
    );
    expect(rollbackCauseOf('ROLLED_BACK', r('DEPLOYMENT_STOPPED', 'ALARM'))).toBe('SHIFT_ALARM');
    expect(rollbackCauseOf('ROLLED_BACK', r('DEPLOYMENT_FAILED'))).toBe('DEPLOYMENT_FAILED');
    expect(rollbackCauseOf('ROLLBACK_FAILED', r('ROLLBACK_FAILED', 'BAKE_ALARM'))).toBe('BAKE_ALARM');
    expect(rollbackCauseOf('COMPLETED', r('DEPLOYED'))).toBeUndefined();
  });
});

describe('the audit trail', () => {
  it('an entry says who, what, when, the decision, the reasons and where the evidence is', () => {
    // Act
    const w01 = auditEntry(knownHistory[0] as never);
    const w05 = auditEntry(knownHistory[4] as never);
    const w14 = auditEntry(knownHistory[13] as never);
    // Assess
    expect(w01).toMatchObject({
      workflowId: 'w01',
      kind: 'upgrade',
      component: 'checkout',
      environment: 'production',
      version: '1.1.0',
      publishedBy: 'ci@example.com',
      committedAt: '2026-11-01T09:00:00.000Z',
      outcome: 'COMPLETED',
      decision: 'APPROVE',
      risk: 'MEDIUM',
      policyVersion: 3,
      verdict: 'PASS',
      deploymentId: 'd-w01',
      approvalStatus: 'APPROVED',
      approvedBy: ['alice'],
      approvalAt: '2026-11-01T10:30:00.000Z',
      evidenceRef: 's3://evidence/verification/w01.json',
    });
    expect(w05).toMatchObject({
      approvalStatus: 'REJECTED',
      approvalDetail: 'rejected by bob: "quoted", with a comma',
    });
    expect(w14).toMatchObject({ outcome: 'RUNNING', approvalStatus: 'PENDING', approvedBy: [] });
  });

  it('who rejected comes from the stored answer when the record has it', () => {
    // Prepare: decide-approval keeps the answer under evidence.approval
    const record = workflow({
      id: 'wr',
      version: '1.0.2',
      outcome: 'REJECTED',
      startedAt: '2026-11-02T10:00:00.000Z',
      approval: {
        requestedAt: '2026-11-02T10:00:00.000Z',
        status: 'REJECTED',
        at: '2026-11-02T10:05:00.000Z',
        by: 'arn:aws:sts::123456789012:assumed-role/oncall/carol',
      },
    });
    record.evidence.approval = {
      status: 'REJECTED',
      by: 'arn:aws:sts::123456789012:assumed-role/oncall/carol',
      approvers: [],
      at: '2026-11-02T10:05:00.000Z',
    };
    // Act / Assess
    expect(auditEntry(record).approvedBy).toEqual(['arn:aws:sts::123456789012:assumed-role/oncall/carol']);
  });

  it('CSV fields are quoted as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('')).toBe('');
    const csv = auditCsv([]);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')[0]?.split(',')[0]).toBe('workflowId');
  });
});
