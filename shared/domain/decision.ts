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
  /** What an unanswered approval does when it times out (the policy's `approvalExpiry`). */
  approvalExpiry: 'reject' | 'defer';
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

/** What one check concludes: its trace line, the votes it casts, and when a shift may start. */
interface CheckVerdict {
  trace: TraceEntry;
  votes?: Vote[];
  /** DEFER reasons that apply only when the allowed start lies in the future. */
  waits?: Vote[];
  /** The earliest instant (ms) this check lets a shift start. */
  notBefore?: number;
}

function entry(check: string, matched: boolean, detail: string): TraceEntry {
  return { check, matched, detail };
}

function systemVote(kind: DecisionKind, code: string, message: string, source: string): Vote {
  return { kind, code, message, source, priority: SYSTEM_PRIORITY };
}

function checkRisk(assessment: ReturnType<typeof assessRisk>): CheckVerdict {
  return {
    trace: entry(
      'risk',
      true,
      `${assessment.risk} (priority ${assessment.priority}): ${assessment.reasons.join('; ')}`,
    ),
  };
}

function checkVerification(facts: DecisionFacts): CheckVerdict {
  const v = facts.verification;
  const trace = entry('verification', v.verdict !== 'PASS', `verdict ${v.verdict}`);
  if (v.verdict === 'PASS') return { trace };
  const details = v.findings.map((f) => f.message).join('; ');
  return {
    trace,
    votes: [
      v.verdict === 'FAIL'
        ? systemVote('REJECT', 'VERIFICATION_FAILED', `verification failed: ${details}`, 'verification')
        : systemVote(
            'MANUAL_REVIEW',
            'VERIFICATION_INCONCLUSIVE',
            `verification was inconclusive: ${details}`,
            'verification',
          ),
    ],
  };
}

function checkAutoApprove(facts: DecisionFacts, policy: Policy, risk: RiskLevel): CheckVerdict {
  const upTo = policy.autoApproveUpTo;
  if (upTo === 'NONE') {
    return {
      trace: entry('auto-approve', false, 'the policy always asks a human'),
      votes: [
        systemVote(
          'MANUAL_REVIEW',
          'MANUAL_APPROVAL_REQUIRED',
          `${facts.environment} requires a manual approval`,
          'auto-approve',
        ),
      ],
    };
  }
  const ok = riskRank(risk) <= riskRank(upTo);
  return {
    trace: entry('auto-approve', ok, `risk ${risk}, auto-approve up to ${upTo}`),
    ...(ok
      ? {}
      : {
          votes: [
            systemVote(
              'MANUAL_REVIEW',
              'RISK_ABOVE_AUTO_APPROVE',
              `risk ${risk} is above the auto-approve level ${upTo}`,
              'auto-approve',
            ),
          ],
        }),
  };
}

/** What the custom rules add beyond votes: the deployment config, bake time and deferral. */
interface RuleEffects {
  deploymentConfig: string;
  configFrom: string;
  bakeMinutes: number;
  deferUntil?: number;
}

/** One custom rule: whether it matched, its votes, and what it changes in `effects`. */
function applyRule(
  rule: PolicyRule,
  facts: DecisionFacts,
  factsObject: Record<string, unknown>,
  nowMs: number,
  effects: RuleEffects,
): CheckVerdict {
  if (!matchesPattern(rule.when as never, factsObject)) {
    return { trace: entry(`rule:${rule.name}`, false, `priority ${rule.priority}: no match`) };
  }
  const t = rule.actions;
  const message = t.message ?? `rule ${rule.name}`;
  const source = `rule:${rule.name}`;
  const actions: string[] = [];
  const votes: Vote[] = [];
  if (t.decision) {
    actions.push(`decision ${t.decision}`);
    const code = `RULE_${rule.name.toUpperCase().replace(/-/g, '_')}`;
    votes.push({ kind: t.decision, code, message, source, priority: rule.priority });
    if (t.decision === 'DEFER')
      effects.deferUntil = Math.max(effects.deferUntil ?? 0, nowMs + t.deferMinutes * 60_000);
  }
  if (t.requireApproval) {
    actions.push('requires approval');
    votes.push({
      kind: 'MANUAL_REVIEW',
      code: 'RULE_REQUIRES_APPROVAL',
      message: `${message}: requires approval`,
      source,
      priority: rule.priority,
    });
  }
  // The first rule (in evaluation order) that sets a config wins.
  const override = t.deploymentConfig?.[facts.platform];
  if (override && effects.configFrom === 'policy') {
    effects.deploymentConfig = override;
    effects.configFrom = source;
    actions.push(`deployment config ${override}`);
  }
  if (t.addBakeMinutes) {
    effects.bakeMinutes += t.addBakeMinutes;
    actions.push(`+${t.addBakeMinutes} bake minutes`);
  }
  return { trace: entry(source, true, actions.join(', ') || 'matched'), votes };
}

/** A human's approval satisfies every MANUAL_REVIEW vote; the rest stand. */
function applyApproval(facts: DecisionFacts, votes: Vote[]): { trace?: TraceEntry; votes: Vote[] } {
  if (!facts.approved) return { votes };
  const satisfied = votes.filter((x) => x.kind === 'MANUAL_REVIEW');
  return {
    trace: entry(
      'approval',
      true,
      `approved; satisfies ${satisfied.map((x) => x.code).join(', ') || 'nothing pending'}`,
    ),
    votes: votes.filter((x) => x.kind !== 'MANUAL_REVIEW'),
  };
}

function checkAlarms(facts: DecisionFacts, policy: Policy, nowMs: number): CheckVerdict {
  if (!facts.alarmsInAlarm.length) return { trace: entry('alarms', false, 'no alarm in ALARM') };
  const names = facts.alarmsInAlarm.join(', ');
  const bypass = facts.labels.some((l) => policy.alarmBypassLabels.includes(l));
  const trace = entry(
    'alarms',
    !bypass,
    `in ALARM: ${names}${bypass ? ' (a bypass label lets it through)' : ''}`,
  );
  if (bypass) return { trace };
  return {
    trace,
    notBefore: nowMs + ALARM_RETRY_MS,
    waits: [systemVote('DEFER', 'ALARM_ACTIVE', `alarm ${names} is in ALARM`, 'alarms')],
  };
}

function checkMinInterval(facts: DecisionFacts, policy: Policy, nowMs: number): CheckVerdict {
  const minutes = policy.minIntervalMinutes;
  if (!facts.lastUpgradeAt || minutes <= 0) {
    return { trace: entry('min-interval', false, minutes ? 'no earlier upgrade' : 'no minimum interval') };
  }
  const end = Date.parse(facts.lastUpgradeAt) + minutes * 60_000;
  const trace = entry(
    'min-interval',
    end > nowMs,
    `last upgrade ${facts.lastUpgradeAt}, minimum ${minutes} min`,
  );
  if (end <= nowMs) return { trace };
  return {
    trace,
    notBefore: end,
    waits: [
      systemVote(
        'DEFER',
        'MIN_INTERVAL',
        `the last upgrade was less than ${minutes} minutes ago`,
        'min-interval',
      ),
    ],
  };
}

/** Whether the version's labels and bump exempt it from the maintenance windows. */
function isWindowExempt(facts: DecisionFacts, policy: Policy): boolean {
  return (
    facts.labels.some((l) => policy.windowExemption.labels.includes(l)) &&
    (policy.windowExemption.bumps as readonly string[]).includes(facts.bump)
  );
}

/** The freezes that hold this version (its labels do not pass through them). */
function freezesFor(facts: DecisionFacts, policy: Policy): Policy['freezes'] {
  return policy.freezes.filter((f) => !f.allowLabels.some((l) => facts.labels.includes(l)));
}

/**
 * The first instant at or after `earliest` outside every freeze and inside the windows, or
 * undefined when there is none within the horizon.
 */
function allowedStart(facts: DecisionFacts, policy: Policy, earliest: number): number | undefined {
  const windowSets = [isWindowExempt(facts, policy) ? [] : policy.maintenanceWindows, policy.businessHours];
  const freezes = freezesFor(facts, policy);
  let allowed: number | undefined = earliest;
  // A freeze can end inside a closed window and a window can open inside a freeze: iterate.
  for (let i = 0; i < 20 && allowed !== undefined; i++) {
    const at: number = allowed;
    const frozen = freezes.find((f) => Date.parse(f.start) <= at && at < Date.parse(f.end));
    const next = frozen ? Date.parse(frozen.end) : nextInstantInAll(windowSets, at);
    if (next === at) break;
    allowed = next;
  }
  return allowed;
}

function checkFreeze(facts: DecisionFacts, policy: Policy, nowMs: number): CheckVerdict {
  const active = freezesFor(facts, policy).find(
    (f) => Date.parse(f.start) <= nowMs && nowMs < Date.parse(f.end),
  );
  if (!active) {
    return {
      trace: entry(
        'freeze',
        false,
        policy.freezes.length ? 'no freeze now (or the labels pass through)' : 'no freezes',
      ),
    };
  }
  return {
    trace: entry('freeze', true, `frozen until ${active.end}: ${active.reason}`),
    waits: [
      systemVote('DEFER', 'CHANGE_FREEZE', `change freeze until ${active.end}: ${active.reason}`, 'freeze'),
    ],
  };
}

function checkMaintenanceWindow(
  facts: DecisionFacts,
  policy: Policy,
  nowMs: number,
  allowed: number | undefined,
): CheckVerdict {
  const windows = policy.maintenanceWindows;
  const exempt = isWindowExempt(facts, policy);
  const inWindow = windows.length === 0 || exempt || isInWindow(windows, nowMs);
  const detail =
    windows.length === 0
      ? 'no maintenance windows'
      : exempt
        ? `exempt: ${facts.bump} labelled ${policy.windowExemption.labels.join(' or ')}`
        : inWindow
          ? 'inside a window'
          : 'outside the windows';
  const trace = entry('maintenance-window', !inWindow, detail);
  if (inWindow) return { trace };
  const next = allowed !== undefined ? `; the shift may start ${iso(allowed)}` : '';
  return {
    trace,
    waits: [
      systemVote('DEFER', 'OUTSIDE_WINDOW', `outside the maintenance window${next}`, 'maintenance-window'),
    ],
  };
}

function checkBusinessHours(policy: Policy, nowMs: number): CheckVerdict {
  const hours = policy.businessHours;
  const inHours = hours.length === 0 || isInWindow(hours, nowMs);
  const trace = entry(
    'business-hours',
    !inHours,
    hours.length === 0 ? 'no business hours' : inHours ? 'inside' : 'outside',
  );
  if (inHours) return { trace };
  return {
    trace,
    waits: [systemVote('DEFER', 'OUTSIDE_BUSINESS_HOURS', 'outside business hours', 'business-hours')],
  };
}

/** Votes by precedence, then priority (0 first), then source name. */
function byPrecedence(a: Vote, b: Vote): number {
  return (
    precedence[a.kind] - precedence[b.kind] ||
    a.priority - b.priority ||
    (a.source < b.source ? -1 : a.source > b.source ? 1 : 0)
  );
}

/** Deferral limit and maximum execution time: a DEFER that can wait no longer ends EXPIRED. */
function checkLimits(
  facts: DecisionFacts,
  policy: Policy,
  decision: DecisionKind,
  deferUntilMs: number | undefined,
): { trace: TraceEntry; expired: boolean; reasons: DecisionReason[] } {
  const reasons: DecisionReason[] = [];
  if (decision === 'DEFER') {
    if (facts.deferrals >= policy.maxDeferrals) {
      reasons.push({
        code: 'DEFERRAL_LIMIT',
        message: `deferred ${facts.deferrals} times already; the policy allows ${policy.maxDeferrals}`,
      });
    }
    const deadline = Date.parse(facts.startedAt ?? facts.now) + policy.maxExecutionMinutes * 60_000;
    if (deferUntilMs !== undefined && deferUntilMs > deadline) {
      reasons.push({
        code: 'MAX_EXECUTION_TIME',
        message: `the next chance (${iso(deferUntilMs)}) is past the maximum execution time (${iso(deadline)})`,
      });
    }
  }
  const expired = reasons.length > 0;
  return {
    trace: entry(
      'limits',
      expired,
      expired ? reasons.map((r) => r.code).join(', ') : `deferrals ${facts.deferrals}/${policy.maxDeferrals}`,
    ),
    expired,
    reasons,
  };
}

/**
 * Evaluates one environment's policy against the facts, explaining itself. Each check is a
 * function that returns its trace line and its votes; they run in the documented order (risk,
 * verification, auto-approve, custom rules, approval, alarms, minimum interval, freeze,
 * maintenance window, business hours, limits).
 *
 * Precedence is REJECT, then MANUAL_REVIEW, then DEFER, then APPROVE; among reasons of the same
 * kind, by priority (0 first), then by name. A MANUAL_REVIEW outside the allowed time still
 * carries `deferUntil`: approvers act at any time, the shift waits for the window.
 */
export function evaluatePolicy(facts: DecisionFacts, policy: Policy): Decision {
  const nowMs = Date.parse(facts.now);
  const assessment = assessRisk(facts.bump, facts.labels);
  const trace: TraceEntry[] = [];
  let votes: Vote[] = [];
  const take = (verdict: CheckVerdict) => {
    trace.push(verdict.trace);
    votes.push(...(verdict.votes ?? []));
    return verdict;
  };

  // 1-3. Risk, verification, auto-approval.
  take(checkRisk(assessment));
  take(checkVerification(facts));
  take(checkAutoApprove(facts, policy, assessment.risk));

  // 4. Custom rules, in priority order.
  const factsObject = ruleFacts(facts, assessment.risk, assessment.priority);
  const effects: RuleEffects = {
    deploymentConfig: policy.deploymentConfig[facts.platform],
    configFrom: 'policy',
    bakeMinutes: policy.bakeMinutes,
  };
  for (const rule of orderRules(policy.rules)) take(applyRule(rule, facts, factsObject, nowMs, effects));

  // 5. A human's approval.
  const approval = applyApproval(facts, votes);
  if (approval.trace) trace.push(approval.trace);
  votes = approval.votes;

  // 6. When may the shift start?
  const alarms = take(checkAlarms(facts, policy, nowMs));
  const interval = take(checkMinInterval(facts, policy, nowMs));
  const earliest = Math.max(
    nowMs,
    alarms.notBefore ?? nowMs,
    interval.notBefore ?? nowMs,
    effects.deferUntil ?? nowMs,
  );
  const allowed = allowedStart(facts, policy, earliest);
  const timing = [
    checkFreeze(facts, policy, nowMs),
    checkMaintenanceWindow(facts, policy, nowMs, allowed),
    checkBusinessHours(policy, nowMs),
  ];
  for (const t of timing) trace.push(t.trace);
  const waits = [alarms, interval, ...timing].flatMap((t) => t.waits ?? []);
  let deferUntilMs: number | undefined;
  if (allowed === undefined) {
    votes.push(
      systemVote(
        'REJECT',
        'NO_WINDOW',
        `no allowed time to shift within ${WINDOW_HORIZON_DAYS} days`,
        'maintenance-window',
      ),
    );
  } else if (allowed > nowMs) {
    deferUntilMs = allowed;
    votes.push(...waits);
  }

  // 7. Combine by precedence, then priority, then name.
  votes.sort(byPrecedence);
  const decision: DecisionKind = votes[0]?.kind ?? 'APPROVE';

  // 8. Limits: deferrals and the maximum execution time.
  const limits = checkLimits(facts, policy, decision, deferUntilMs);
  trace.push(limits.trace);

  const kept = decision === 'REJECT' ? votes.filter((x) => x.kind === 'REJECT') : votes;
  const reasons: DecisionReason[] = [
    ...kept.map(({ code, message }) => ({ code, message })),
    ...limits.reasons,
  ];
  if (decision === 'APPROVE') {
    reasons.push({
      code: facts.approved ? 'APPROVED_BY_HUMAN' : 'AUTO_APPROVED',
      message: facts.approved
        ? 'approved by a human; inside the allowed time'
        : `risk ${assessment.risk}: approved by policy`,
    });
  }
  if (effects.configFrom !== 'policy')
    reasons.push({
      code: 'CONFIG_BY_RULE',
      message: `${effects.deploymentConfig} set by ${effects.configFrom}`,
    });

  return {
    decision,
    reasons,
    risk: assessment.risk,
    priority: assessment.priority,
    deploymentConfig: effects.deploymentConfig,
    bakeMinutes: effects.bakeMinutes,
    approvalTimeoutSeconds: policy.approvalTimeoutMinutes * 60,
    approvalExpiry: policy.approvalExpiry,
    approvals: policy.approvals,
    expired: limits.expired,
    ...((decision === 'DEFER' || decision === 'MANUAL_REVIEW') && deferUntilMs !== undefined
      ? { deferUntil: iso(deferUntilMs) }
      : {}),
    trace,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
