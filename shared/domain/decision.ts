import type { Platform } from './deploy-configs';
import type { Policy } from './policy';
import { assessRisk, type RiskLevel, riskRank } from './risk';
import type { Bump } from './semver';
import type { Verdict } from './verification';
import { nextWindowStart } from './windows';

export const decisions = ['APPROVE', 'REJECT', 'DEFER', 'MANUAL_REVIEW'] as const;
export type DecisionKind = (typeof decisions)[number];

/** Everything a decision depends on. Time is passed in; nothing here reads a clock. */
export interface DecisionFacts {
  component: string;
  environment: string;
  version: string;
  currentVersion?: string;
  bump: Bump;
  labels: readonly string[];
  platform: Platform;
  verification: { verdict: Verdict; findings: { code: string; message: string }[] };
  now: string;
  lastUpgradeAt?: string;
  alarmsInAlarm: readonly string[];
  deferrals: number;
}

export interface TraceEntry {
  check: string;
  matched: boolean;
  detail: string;
}

export interface Decision {
  decision: DecisionKind;
  reasons: { code: string; message: string }[];
  risk: RiskLevel;
  priority: number;
  deploymentConfig: string;
  bakeMinutes: number;
  approvalTimeoutSeconds: number;
  /** A DEFER after the policy's last allowed deferral: the workflow ends EXPIRED. */
  deferralsExhausted: boolean;
  /** The next window start (ISO UTC) when deployment must wait. */
  deferUntil?: string;
  trace: TraceEntry[];
}

const precedence: Record<DecisionKind, number> = { REJECT: 0, MANUAL_REVIEW: 1, DEFER: 2, APPROVE: 3 };

/**
 * Evaluates one environment's policy against the facts.
 * Precedence: REJECT, then MANUAL_REVIEW, then DEFER, then APPROVE. A MANUAL_REVIEW outside the
 * window still carries `deferUntil`: approvers may act at any time, the shift waits for the window.
 */
export function evaluatePolicy(facts: DecisionFacts, policy: Policy): Decision {
  const trace: TraceEntry[] = [];
  const reasons: { code: string; message: string; kind: DecisionKind }[] = [];
  const nowMs = Date.parse(facts.now);
  let deferUntilMs: number | undefined;

  const check = (name: string, matched: boolean, detail: string) => {
    trace.push({ check: name, matched, detail });
    return matched;
  };

  const risk = assessRisk(facts.bump, facts.labels);
  trace.push({ check: 'risk', matched: true, detail: `${risk.risk}: ${risk.reasons.join('; ')}` });

  if (check('verification', facts.verification.verdict === 'FAIL', `verdict ${facts.verification.verdict}`)) {
    const failed = facts.verification.findings.map((f) => f.message).join('; ');
    reasons.push({ code: 'VERIFICATION_FAILED', message: `verification failed: ${failed}`, kind: 'REJECT' });
  }
  if (facts.verification.verdict === 'INCONCLUSIVE') {
    reasons.push({
      code: 'VERIFICATION_INCONCLUSIVE',
      message: `verification was inconclusive: ${facts.verification.findings.map((f) => f.message).join('; ')}`,
      kind: 'MANUAL_REVIEW',
    });
  }

  const autoUpTo = policy.autoApproveUpTo;
  const autoOk = autoUpTo !== 'NONE' && riskRank(risk.risk) <= riskRank(autoUpTo);
  if (
    !check(
      'auto-approve',
      autoOk,
      autoUpTo === 'NONE'
        ? 'policy always asks a human'
        : `risk ${risk.risk}, auto-approve up to ${autoUpTo}`,
    )
  ) {
    reasons.push({
      code: autoUpTo === 'NONE' ? 'MANUAL_APPROVAL_REQUIRED' : 'RISK_ABOVE_AUTO_APPROVE',
      message:
        autoUpTo === 'NONE'
          ? `${facts.environment} requires a manual approval`
          : `risk ${risk.risk} is above the auto-approve level ${autoUpTo}`,
      kind: 'MANUAL_REVIEW',
    });
  }

  if (facts.alarmsInAlarm.length) {
    const exempt = facts.labels.some((l) => policy.windowExemptLabels.includes(l));
    if (
      check(
        'alarms',
        !exempt,
        `in ALARM: ${facts.alarmsInAlarm.join(', ')}${exempt ? ' (exempt label)' : ''}`,
      )
    ) {
      reasons.push({
        code: 'ALARM_ACTIVE',
        message: `alarm ${facts.alarmsInAlarm.join(', ')} is in ALARM`,
        kind: 'DEFER',
      });
      deferUntilMs = Math.max(deferUntilMs ?? 0, nowMs + 5 * 60_000);
    }
  } else {
    check('alarms', false, 'no alarm in ALARM');
  }

  if (facts.lastUpgradeAt && policy.minIntervalMinutes > 0) {
    const earliest = Date.parse(facts.lastUpgradeAt) + policy.minIntervalMinutes * 60_000;
    if (
      check(
        'min-interval',
        earliest > nowMs,
        `last upgrade ${facts.lastUpgradeAt}, minimum ${policy.minIntervalMinutes} min`,
      )
    ) {
      reasons.push({
        code: 'MIN_INTERVAL',
        message: `the last upgrade was less than ${policy.minIntervalMinutes} minutes ago`,
        kind: 'DEFER',
      });
      deferUntilMs = Math.max(deferUntilMs ?? 0, earliest);
    }
  }

  if (policy.maintenanceWindows.length) {
    const exempt = facts.labels.some((l) => policy.windowExemptLabels.includes(l));
    const from = deferUntilMs ?? nowMs;
    const next = nextWindowStart(policy.maintenanceWindows, from);
    const outside = next === undefined || next > from;
    if (
      check(
        'maintenance-window',
        outside && !exempt,
        outside ? `outside; next window ${iso(next)}` : 'inside a window',
      )
    ) {
      if (next === undefined) {
        reasons.push({ code: 'NO_WINDOW', message: 'no maintenance window within 8 weeks', kind: 'REJECT' });
      } else {
        reasons.push({
          code: 'OUTSIDE_WINDOW',
          message: `outside the maintenance window; next opens ${iso(next)}`,
          kind: 'DEFER',
        });
        deferUntilMs = next;
      }
    }
  }

  const worst = reasons.reduce<DecisionKind>(
    (acc, r) => (precedence[r.kind] < precedence[acc] ? r.kind : acc),
    'APPROVE',
  );
  const decision = worst;
  // The state machine ends a DEFER past the limit as EXPIRED instead of waiting again.
  const deferralsExhausted = decision === 'DEFER' && facts.deferrals >= policy.maxDeferrals;
  if (deferralsExhausted) {
    reasons.push({
      code: 'DEFERRAL_LIMIT',
      message: `deferred ${facts.deferrals} times already; the policy allows ${policy.maxDeferrals}`,
      kind: 'DEFER',
    });
  }
  if (decision === 'APPROVE')
    reasons.push({ code: 'APPROVED', message: `approved: risk ${risk.risk}`, kind: 'APPROVE' });

  const keep = decision === 'REJECT' ? reasons.filter((r) => r.kind === 'REJECT') : reasons;
  return {
    decision,
    reasons: keep.map(({ code, message }) => ({ code, message })),
    risk: risk.risk,
    priority: risk.priority,
    deploymentConfig: policy.deploymentConfig[facts.platform],
    bakeMinutes: policy.bakeMinutes,
    approvalTimeoutSeconds: policy.approvalTimeoutMinutes * 60,
    deferralsExhausted,
    ...((decision === 'DEFER' || decision === 'MANUAL_REVIEW') && deferUntilMs !== undefined
      ? { deferUntil: iso(deferUntilMs) }
      : {}),
    trace,
  };
}

function iso(ms: number | undefined): string {
  return ms === undefined ? 'never' : new Date(ms).toISOString();
}
