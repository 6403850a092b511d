import type { Platform } from './deploy-configs';
import { matchesPattern } from './event-pattern';
import type { Policy, PolicyRule } from './policy';
import { assessRisk, type RiskLevel, riskRank } from './risk';
import type { Bump } from './semver';
import type { Verdict } from './verification';
import { isInWindow, localParts, nextInstantInAll, WINDOW_HORIZON_DAYS, weekdays } from './windows';

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
  verification: {
    verdict: Verdict;
    findings: { code: string; message: string }[];
    candidate?: { errorRate: number; p95Ms: number };
  };
  now: string;
  /** When the workflow started, for the policy's maximum execution time. */
  startedAt?: string;
  lastUpgradeAt?: string;
  alarmsInAlarm: readonly string[];
  deferrals: number;
  /** A human already approved this workflow. */
  approved?: boolean;
}

export interface TraceEntry {
  check: string;
  matched: boolean;
  detail: string;
}

export interface DecisionReason {
  code: string;
  message: string;
}

export interface Decision {
  decision: DecisionKind;
  reasons: DecisionReason[];
  risk: RiskLevel;
  priority: number;
  deploymentConfig: string;
  bakeMinutes: number;
  approvalTimeoutSeconds: number;
  approvals: { required: number; groups: string[]; allowPublisher: boolean };
  /** The workflow must end EXPIRED instead of waiting again (deferral limit or maximum age). */
  expired: boolean;
  /** The next instant (ISO UTC) a shift may start, whenever deployment must wait. */
  deferUntil?: string;
  /** Every check and rule evaluated, in order, and whether it matched. */
  trace: TraceEntry[];
}

/** Precedence of decision kinds: the lowest number wins. */
export const precedence: Record<DecisionKind, number> = { REJECT: 0, MANUAL_REVIEW: 1, DEFER: 2, APPROVE: 3 };

interface Vote extends DecisionReason {
  kind: DecisionKind;
  priority: number;
  source: string;
}

const SYSTEM_PRIORITY = 50;
const ALARM_RETRY_MS = 5 * 60_000;

/**
 * The object custom rules match against (documented in docs/policies.md). Flat names, so a rule
 * reads like `{ "labels": ["security"], "bump": ["patch"] }`.
 */
export function ruleFacts(facts: DecisionFacts, risk: RiskLevel, priority: number): Record<string, unknown> {
  const now = Date.parse(facts.now);
  const utc = localParts(now, 'UTC');
  return {
    component: facts.component,
    environment: facts.environment,
    version: facts.version,
    ...(facts.currentVersion ? { currentVersion: facts.currentVersion } : {}),
    bump: facts.bump,
    labels: [...facts.labels],
    platform: facts.platform,
    risk,
    priority,
    verification: {
      verdict: facts.verification.verdict,
      ...(facts.verification.candidate
        ? { errorRate: facts.verification.candidate.errorRate, p95Ms: facts.verification.candidate.p95Ms }
        : {}),
    },
    time: { iso: facts.now, weekday: weekdays[new Date(now).getUTCDay()], hourUtc: utc.hour },
    ...(facts.lastUpgradeAt
      ? { minutesSinceLastUpgrade: Math.floor((now - Date.parse(facts.lastUpgradeAt)) / 60_000) }
      : {}),
    alarmsInAlarm: [...facts.alarmsInAlarm],
    alarmActive: facts.alarmsInAlarm.length > 0,
    deferrals: facts.deferrals,
    approved: !!facts.approved,
  };
}

/** Rules in evaluation order: priority (0 first), then name. */
export function orderRules(rules: readonly PolicyRule[]): PolicyRule[] {
  return [...rules].sort(
    (a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/**
 * Evaluates one environment's policy against the facts, explaining itself.
 *
 * Precedence is REJECT, then MANUAL_REVIEW, then DEFER, then APPROVE; among reasons of the same
 * kind, by priority (0 first), then by name. A MANUAL_REVIEW outside the allowed time still
 * carries `deferUntil`: approvers act at any time, the shift waits for the window.
 */
export function evaluatePolicy(facts: DecisionFacts, policy: Policy): Decision {
  const trace: TraceEntry[] = [];
  const votes: Vote[] = [];
  const nowMs = Date.parse(facts.now);
  const check = (name: string, matched: boolean, detail: string) => {
    trace.push({ check: name, matched, detail });
    return matched;
  };
  const vote = (
    kind: DecisionKind,
    code: string,
    message: string,
    source: string,
    priority = SYSTEM_PRIORITY,
  ) => votes.push({ kind, code, message, source, priority });

  // 1. Risk.
  const assessment = assessRisk(facts.bump, facts.labels);
  check(
    'risk',
    true,
    `${assessment.risk} (priority ${assessment.priority}): ${assessment.reasons.join('; ')}`,
  );

  // 2. Verification.
  const v = facts.verification;
  if (check('verification', v.verdict !== 'PASS', `verdict ${v.verdict}`)) {
    const details = v.findings.map((f) => f.message).join('; ');
    if (v.verdict === 'FAIL')
      vote('REJECT', 'VERIFICATION_FAILED', `verification failed: ${details}`, 'verification');
    else
      vote(
        'MANUAL_REVIEW',
        'VERIFICATION_INCONCLUSIVE',
        `verification was inconclusive: ${details}`,
        'verification',
      );
  }

  // 3. Auto-approval by risk.
  const autoUpTo = policy.autoApproveUpTo;
  const autoOk = autoUpTo !== 'NONE' && riskRank(assessment.risk) <= riskRank(autoUpTo);
  if (
    !check(
      'auto-approve',
      autoOk,
      autoUpTo === 'NONE'
        ? 'the policy always asks a human'
        : `risk ${assessment.risk}, auto-approve up to ${autoUpTo}`,
    )
  ) {
    if (autoUpTo === 'NONE') {
      vote(
        'MANUAL_REVIEW',
        'MANUAL_APPROVAL_REQUIRED',
        `${facts.environment} requires a manual approval`,
        'auto-approve',
      );
    } else {
      vote(
        'MANUAL_REVIEW',
        'RISK_ABOVE_AUTO_APPROVE',
        `risk ${assessment.risk} is above the auto-approve level ${autoUpTo}`,
        'auto-approve',
      );
    }
  }

  // 4. Custom rules.
  const factsObject = ruleFacts(facts, assessment.risk, assessment.priority);
  let deploymentConfig = policy.deploymentConfig[facts.platform];
  let configFrom = 'policy';
  let bakeMinutes = policy.bakeMinutes;
  let ruleDeferUntil: number | undefined;
  for (const rule of orderRules(policy.rules)) {
    const matched = matchesPattern(rule.when as never, factsObject);
    const actions: string[] = [];
    if (matched) {
      const t = rule.actions;
      const message = t.message ?? `rule ${rule.name}`;
      if (t.decision) {
        actions.push(`decision ${t.decision}`);
        vote(
          t.decision,
          `RULE_${rule.name.toUpperCase().replace(/-/g, '_')}`,
          message,
          `rule:${rule.name}`,
          rule.priority,
        );
        if (t.decision === 'DEFER')
          ruleDeferUntil = Math.max(ruleDeferUntil ?? 0, nowMs + t.deferMinutes * 60_000);
      }
      if (t.requireApproval) {
        actions.push('requires approval');
        vote(
          'MANUAL_REVIEW',
          'RULE_REQUIRES_APPROVAL',
          `${message}: requires approval`,
          `rule:${rule.name}`,
          rule.priority,
        );
      }
      const override = t.deploymentConfig?.[facts.platform];
      if (override && configFrom === 'policy') {
        deploymentConfig = override;
        configFrom = `rule:${rule.name}`;
        actions.push(`deployment config ${override}`);
      }
      if (t.addBakeMinutes) {
        bakeMinutes += t.addBakeMinutes;
        actions.push(`+${t.addBakeMinutes} bake minutes`);
      }
    }
    check(
      `rule:${rule.name}`,
      matched,
      matched ? actions.join(', ') || 'matched' : `priority ${rule.priority}: no match`,
    );
  }

  // 5. An approval given by a human satisfies every MANUAL_REVIEW vote.
  if (facts.approved) {
    const satisfied = votes.filter((x) => x.kind === 'MANUAL_REVIEW');
    check(
      'approval',
      true,
      `approved; satisfies ${satisfied.map((x) => x.code).join(', ') || 'nothing pending'}`,
    );
    for (const x of satisfied) votes.splice(votes.indexOf(x), 1);
  }

  // 6. When may the shift start? Alarms, minimum interval, freezes, windows, business hours.
  let earliest = nowMs;
  const waitCodes: Vote[] = [];
  if (facts.alarmsInAlarm.length) {
    const bypass = facts.labels.some((l) => policy.alarmBypassLabels.includes(l));
    if (
      check(
        'alarms',
        !bypass,
        `in ALARM: ${facts.alarmsInAlarm.join(', ')}${bypass ? ' (a bypass label lets it through)' : ''}`,
      )
    ) {
      earliest = Math.max(earliest, nowMs + ALARM_RETRY_MS);
      waitCodes.push({
        kind: 'DEFER',
        code: 'ALARM_ACTIVE',
        message: `alarm ${facts.alarmsInAlarm.join(', ')} is in ALARM`,
        source: 'alarms',
        priority: SYSTEM_PRIORITY,
      });
    }
  } else {
    check('alarms', false, 'no alarm in ALARM');
  }
  if (facts.lastUpgradeAt && policy.minIntervalMinutes > 0) {
    const end = Date.parse(facts.lastUpgradeAt) + policy.minIntervalMinutes * 60_000;
    if (
      check(
        'min-interval',
        end > nowMs,
        `last upgrade ${facts.lastUpgradeAt}, minimum ${policy.minIntervalMinutes} min`,
      )
    ) {
      earliest = Math.max(earliest, end);
      waitCodes.push({
        kind: 'DEFER',
        code: 'MIN_INTERVAL',
        message: `the last upgrade was less than ${policy.minIntervalMinutes} minutes ago`,
        source: 'min-interval',
        priority: SYSTEM_PRIORITY,
      });
    }
  } else {
    check('min-interval', false, policy.minIntervalMinutes ? 'no earlier upgrade' : 'no minimum interval');
  }
  if (ruleDeferUntil !== undefined) earliest = Math.max(earliest, ruleDeferUntil);

  const exempt =
    facts.labels.some((l) => policy.windowExemption.labels.includes(l)) &&
    (policy.windowExemption.bumps as readonly string[]).includes(facts.bump);
  const windowSets = [exempt ? [] : policy.maintenanceWindows, policy.businessHours];
  const freezes = policy.freezes.filter((f) => !f.allowLabels.some((l) => facts.labels.includes(l)));
  let allowed: number | undefined = earliest;
  // A freeze can end inside a closed window and a window can open inside a freeze: iterate.
  for (let i = 0; i < 20 && allowed !== undefined; i++) {
    const at: number = allowed;
    const frozen = freezes.find((f) => Date.parse(f.start) <= at && at < Date.parse(f.end));
    const next = frozen ? Date.parse(frozen.end) : nextInstantInAll(windowSets, at);
    if (next === at) break;
    allowed = next;
  }
  const activeFreeze = freezes.find((f) => Date.parse(f.start) <= nowMs && nowMs < Date.parse(f.end));
  check(
    'freeze',
    !!activeFreeze,
    activeFreeze
      ? `frozen until ${activeFreeze.end}: ${activeFreeze.reason}`
      : policy.freezes.length
        ? 'no freeze now (or the labels pass through)'
        : 'no freezes',
  );
  if (activeFreeze) {
    waitCodes.push({
      kind: 'DEFER',
      code: 'CHANGE_FREEZE',
      message: `change freeze until ${activeFreeze.end}: ${activeFreeze.reason}`,
      source: 'freeze',
      priority: SYSTEM_PRIORITY,
    });
  }
  const inWindow =
    policy.maintenanceWindows.length === 0 || exempt || isInWindow(policy.maintenanceWindows, nowMs);
  check(
    'maintenance-window',
    !inWindow,
    policy.maintenanceWindows.length === 0
      ? 'no maintenance windows'
      : exempt
        ? `exempt: ${facts.bump} labelled ${policy.windowExemption.labels.join(' or ')}`
        : inWindow
          ? 'inside a window'
          : 'outside the windows',
  );
  if (!inWindow) {
    waitCodes.push({
      kind: 'DEFER',
      code: 'OUTSIDE_WINDOW',
      message: `outside the maintenance window${allowed !== undefined ? `; the shift may start ${iso(allowed)}` : ''}`,
      source: 'maintenance-window',
      priority: SYSTEM_PRIORITY,
    });
  }
  const inHours = policy.businessHours.length === 0 || isInWindow(policy.businessHours, nowMs);
  check(
    'business-hours',
    !inHours,
    policy.businessHours.length === 0 ? 'no business hours' : inHours ? 'inside' : 'outside',
  );
  if (!inHours) {
    waitCodes.push({
      kind: 'DEFER',
      code: 'OUTSIDE_BUSINESS_HOURS',
      message: 'outside business hours',
      source: 'business-hours',
      priority: SYSTEM_PRIORITY,
    });
  }

  let deferUntilMs: number | undefined;
  if (allowed === undefined) {
    vote(
      'REJECT',
      'NO_WINDOW',
      `no allowed time to shift within ${WINDOW_HORIZON_DAYS} days`,
      'maintenance-window',
    );
  } else if (allowed > nowMs) {
    deferUntilMs = allowed;
    votes.push(...waitCodes);
  }

  // 7. Combine by precedence, then priority, then name.
  votes.sort(
    (a, b) =>
      precedence[a.kind] - precedence[b.kind] ||
      a.priority - b.priority ||
      (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
  );
  const decision: DecisionKind = votes[0]?.kind ?? 'APPROVE';

  // 8. Limits: deferrals and the maximum execution time.
  let expired = false;
  const reasons: DecisionReason[] = [];
  if (decision === 'DEFER') {
    if (facts.deferrals >= policy.maxDeferrals) {
      expired = true;
      reasons.push({
        code: 'DEFERRAL_LIMIT',
        message: `deferred ${facts.deferrals} times already; the policy allows ${policy.maxDeferrals}`,
      });
    }
    const deadline = Date.parse(facts.startedAt ?? facts.now) + policy.maxExecutionMinutes * 60_000;
    if (deferUntilMs !== undefined && deferUntilMs > deadline) {
      expired = true;
      reasons.push({
        code: 'MAX_EXECUTION_TIME',
        message: `the next chance (${iso(deferUntilMs)}) is past the maximum execution time (${iso(deadline)})`,
      });
    }
  }
  check(
    'limits',
    expired,
    expired ? reasons.map((r) => r.code).join(', ') : `deferrals ${facts.deferrals}/${policy.maxDeferrals}`,
  );

  const kept = decision === 'REJECT' ? votes.filter((x) => x.kind === 'REJECT') : votes;
  reasons.unshift(...kept.map(({ code, message }) => ({ code, message })));
  if (decision === 'APPROVE') {
    reasons.push({
      code: facts.approved ? 'APPROVED_BY_HUMAN' : 'AUTO_APPROVED',
      message: facts.approved
        ? 'approved by a human; inside the allowed time'
        : `risk ${assessment.risk}: approved by policy`,
    });
  }
  if (configFrom !== 'policy')
    reasons.push({ code: 'CONFIG_BY_RULE', message: `${deploymentConfig} set by ${configFrom}` });

  return {
    decision,
    reasons,
    risk: assessment.risk,
    priority: assessment.priority,
    deploymentConfig,
    bakeMinutes,
    approvalTimeoutSeconds: policy.approvalTimeoutMinutes * 60,
    approvals: policy.approvals,
    expired,
    ...((decision === 'DEFER' || decision === 'MANUAL_REVIEW') && deferUntilMs !== undefined
      ? { deferUntil: iso(deferUntilMs) }
      : {}),
    trace,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
