import { z } from 'zod';
import { isPredefinedConfig, suggestConfig } from './deploy-configs';
import { validatePattern } from './event-pattern';
import { findReservedKeys, ownValue } from './own';
import { riskLevels } from './risk';
import { strictObject } from './strict-object';
import { isValidTimeZone, weekdays } from './windows';
import { describeIssues } from './zod-issues';

/** What a failed verification check of some severity does to the decision. */
export const severityActions = ['REJECT', 'MANUAL_REVIEW', 'NOTE', 'IGNORE'] as const;
export type SeverityAction = (typeof severityActions)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');

export const windowSchema = strictObject({
  days: z
    .array(z.enum(weekdays, { error: `expected one of ${weekdays.join(', ')}` }))
    .min(1, 'expected at least one day'),
  start: hhmm,
  end: hhmm,
  timezone: z
    .string()
    .refine(isValidTimeZone, 'expected an IANA time zone such as Europe/Berlin')
    .default('UTC'),
});

const lambdaConfig = z.string().refine((name) => isPredefinedConfig('lambda', name), {
  error: (issue) => {
    const hint = suggestConfig('lambda', String(issue.input));
    return `expected a predefined Lambda deployment config${hint ? ` (did you mean ${hint}?)` : ''}`;
  },
});
const ecsConfig = z.string().refine((name) => isPredefinedConfig('ecs', name), {
  error: (issue) => {
    const hint = suggestConfig('ecs', String(issue.input));
    return `expected a predefined ECS deployment config${hint ? ` (did you mean ${hint}?)` : ''}`;
  },
});
const ec2Config = z
  .string()
  .refine(
    (name) => isPredefinedConfig('ec2', name),
    'expected a predefined EC2/on-premises deployment config',
  );

const bumpKinds = ['major', 'minor', 'patch', 'prerelease'] as const;

export const freezeSchema = strictObject({
  start: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time such as 2026-12-20T00:00:00Z' }),
  end: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time such as 2027-01-04T00:00:00Z' }),
  reason: z.string().min(1, 'expected the reason for the freeze'),
  /** Labels that pass through the freeze, such as `security` or `hotfix`. */
  allowLabels: z.array(z.string()).default([]),
}).refine((f) => Date.parse(f.end) > Date.parse(f.start), {
  error: 'expected end after start',
  path: ['end'],
});

const deploymentConfigOverride = strictObject({
  lambda: lambdaConfig.optional(),
  ecs: ecsConfig.optional(),
  ec2: ec2Config.optional(),
}).refine((o) => Object.keys(o).length > 0, 'expected a config for at least one platform');

export const ruleSchema = strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a rule name: lowercase letters, digits and dashes'),
  description: z.string().default(''),
  /** 0 is the highest priority. Ties go by name. */
  priority: z.number().int().min(0).max(1000).default(100),
  /** An EventBridge-style pattern over the decision's facts (docs/policies.md). */
  when: z.record(z.string(), z.unknown()).superRefine((pattern, ctx) => {
    for (const problem of validatePattern(pattern)) {
      const [path, ...rest] = problem.split(': ');
      ctx.addIssue({ code: 'custom', message: `${path}: ${rest.join(': ')}` });
    }
  }),
  actions: strictObject({
    decision: z.enum(['APPROVE', 'REJECT', 'DEFER', 'MANUAL_REVIEW']).optional(),
    requireApproval: z.boolean().optional(),
    deploymentConfig: deploymentConfigOverride.optional(),
    addBakeMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
    /** With decision DEFER: how long to wait before deciding again. */
    deferMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    message: z.string().optional(),
  }).refine(
    (t) => t.decision || t.requireApproval || t.deploymentConfig || t.addBakeMinutes,
    'expected at least one action: decision, requireApproval, deploymentConfig or addBakeMinutes',
  ),
});
export type PolicyRule = z.infer<typeof ruleSchema>;

/**
 * The longest bake Upshift runs: two days. The Bake task's timeout follows the bake (decision
 * 0012), and the execution (14 days) must still hold an approval wait, deferrals and the shift.
 */
export const MAX_BAKE_MINUTES = 2 * 24 * 60;

/** The bake when every rule that adds minutes matches: the policy's worst case. */
export function longestBakeMinutes(policy: {
  bakeMinutes: number;
  rules: readonly { actions: { addBakeMinutes?: number | undefined } }[];
}): number {
  return policy.rules.reduce((sum, rule) => sum + (rule.actions.addBakeMinutes ?? 0), policy.bakeMinutes);
}

/** One environment's policy. Every field has a safe default, so `{}` is a valid, cautious policy. */
export const policySchema = strictObject({
  description: z.string().default(''),
  deploymentConfig: strictObject({
    lambda: lambdaConfig.default('CodeDeployDefault.LambdaCanary10Percent5Minutes'),
    ecs: ecsConfig.default('CodeDeployDefault.ECSCanary10Percent5Minutes'),
    ec2: ec2Config.default('CodeDeployDefault.OneAtATime'),
  }).default({
    lambda: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    ecs: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    ec2: 'CodeDeployDefault.OneAtATime',
  }),
  /** Highest risk approved without a human; `NONE` always asks. */
  autoApproveUpTo: z.enum([...riskLevels, 'NONE'] as const).default('NONE'),
  approvals: strictObject({
    /** Distinct approvers needed (quorum). */
    required: z.number().int().min(1).max(10).default(1),
    /** When set, an approver must belong to one of these groups. */
    groups: z.array(z.string().min(1)).default([]),
    /** Whether the person who published the version may approve it. */
    allowPublisher: z.boolean().default(false),
  }).default({ required: 1, groups: [], allowPublisher: false }),
  /** Shifts happen only inside these windows (none: any time). */
  maintenanceWindows: z.array(windowSchema).default([]),
  /** Versions that may shift outside the maintenance windows once approved. */
  windowExemption: strictObject({
    labels: z.array(z.string()).default([]),
    bumps: z.array(z.enum(bumpKinds)).default(['patch']),
  }).default({ labels: [], bumps: ['patch'] }),
  /**
   * The event sources (`ci.github`, `aws.ecr`...) that may start upgrades and rollbacks in this
   * environment. Absent: any source on the bus may, and `cdk synth` warns.
   */
  trustedSources: z
    .array(z.string().min(1).max(256))
    .min(1, 'expected at least one source; leave the key out to accept any source')
    .max(50)
    .optional(),
  /** Absolute periods with no shifts, except for the labels each lets through. */
  freezes: z.array(freezeSchema).default([]),
  /** When set, shifts also wait for business hours (someone is around to watch). */
  businessHours: z.array(windowSchema).default([]),
  /** Labels that deploy even while one of the component's alarms is in ALARM (the fix for the fire). */
  alarmBypassLabels: z.array(z.string()).default(['hotfix']),
  minIntervalMinutes: z.number().int().min(0).default(0),
  bakeMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(10),
  approvalTimeoutMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(24 * 60),
  /**
   * What an approval nobody answered in time does: `reject` ends the upgrade EXPIRED; `defer` waits
   * for the next maintenance window and asks again (counted as a deferral; without a window to
   * wait for it ends EXPIRED too). The lock is released either way.
   */
  approvalExpiry: z.enum(['reject', 'defer'], { error: 'expected "reject" or "defer"' }).default('reject'),
  maxDeferrals: z.number().int().min(0).max(100).default(3),
  /** A workflow that would still be waiting past this age ends EXPIRED. */
  maxExecutionMinutes: z
    .number()
    .int()
    .min(10)
    .max(13 * 24 * 60)
    .default(7 * 24 * 60),
  verification: strictObject({
    /** Highest error rate (0..1) the candidate may show under probes. */
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    /** Highest increase of the error rate over the current version. */
    maxErrorRateIncrease: z.number().min(0).max(1).default(0.02),
    /** Highest ratio of candidate p95 latency to the current version's. */
    maxLatencyRatio: z.number().min(1).default(1.5),
    /** Fewer samples per version than this gives INCONCLUSIVE. */
    minSamples: z.number().int().min(1).default(10),
    /**
     * What a failed check of each severity does (docs/verification.md). Unset severities keep
     * their defaults: critical and error REJECT, warning is a NOTE, info is IGNOREd.
     */
    severities: strictObject({
      info: z.enum(severityActions).optional(),
      warning: z.enum(severityActions).optional(),
      error: z.enum(severityActions).optional(),
      critical: z.enum(severityActions).optional(),
    }).optional(),
  }).default({ maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxLatencyRatio: 1.5, minSamples: 10 }),
  rules: z
    .array(ruleSchema)
    .default([])
    .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, 'expected unique rule names'),
}).superRefine((policy, ctx) => {
  // Rules that match add their minutes to the policy's: all of them may match one upgrade.
  const longest = longestBakeMinutes(policy);
  if (longest > MAX_BAKE_MINUTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['bakeMinutes'],
      message: `bakeMinutes plus every rule's addBakeMinutes can reach ${longest} minutes; a bake lasts at most ${MAX_BAKE_MINUTES} minutes (two days)`,
    });
  }
});

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** The reserved key of global defaults in a policies document. */
export const DEFAULTS_KEY = 'defaults';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Objects merge key by key; arrays and values from `over` replace those of `base`. Only own keys
 * are read, and the result has no prototype, so a `__proto__` key stays a plain (rejected) key
 * instead of replacing the prototype the schema would then read defaults from.
 */
export function mergeDefaults(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(base)) out[k] = base[k];
  for (const k of Object.keys(over)) out[k] = mergeDefaults(ownValue(base, k), over[k]);
  return out;
}

/** One environment's policy, or undefined: `constructor` or `toString` is no environment. */
export function policyOf<P>(policies: Readonly<Record<string, P>>, environment: string): P | undefined {
  return ownValue(policies, environment);
}

/**
 * Parses a policies document `{ "defaults"?: {...}, "<environment>": {...} }`. Each environment's
 * policy is its own object merged over the defaults. Problems name their path, e.g.
 * `production.maintenanceWindows[0].start: expected HH:MM` or
 * `production.bakeMinuts: unknown key, did you mean "bakeMinutes"?`.
 */
export function parsePolicies(
  document: unknown,
  root = '',
): { policies: Record<string, Policy>; problems: string[] } {
  const policies: Record<string, Policy> = {};
  const prefix = root ? `${root}.` : '';
  if (!isPlainObject(document))
    return { policies, problems: [`${root || '(root)'}: expected an object of environments`] };
  // A prototype key is refused before anything is merged or parsed.
  const reserved = findReservedKeys(document, root);
  if (reserved.length) return { policies, problems: reserved };
  const defaults = ownValue(document, DEFAULTS_KEY) ?? {};
  const defaultsCheck = policySchema.safeParse(defaults);
  const defaultsProblems = defaultsCheck.success ? [] : describeIssues(defaultsCheck.error);
  const problems = defaultsCheck.success
    ? []
    : describeIssues(defaultsCheck.error, `${prefix}${DEFAULTS_KEY}`);
  for (const [env, raw] of Object.entries(document)) {
    if (env === DEFAULTS_KEY) continue;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(env)) {
      problems.push(`${prefix}${env}: expected an environment name: lowercase letters, digits and dashes`);
      continue;
    }
    const result = policySchema.safeParse(mergeDefaults(defaults, raw));
    if (result.success) {
      policies[env] = result.data;
      continue;
    }
    // A problem of the defaults is reported once, under defaults, not again in every environment.
    const relative = describeIssues(result.error);
    const rooted = describeIssues(result.error, `${prefix}${env}`);
    problems.push(...rooted.filter((_, i) => !defaultsProblems.includes(relative[i] as string)));
  }
  return { policies, problems: [...new Set(problems)] };
}
