import { z } from 'zod';
import { isPredefinedConfig, suggestConfig } from './deploy-configs';
import { riskLevels } from './risk';
import { isValidTimeZone, weekdays } from './windows';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');

export const windowSchema = z.object({
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

/** One environment's policy. Every field has a safe default, so `{}` is a valid, cautious policy. */
export const policySchema = z.object({
  deploymentConfig: z
    .object({
      lambda: lambdaConfig.default('CodeDeployDefault.LambdaCanary10Percent5Minutes'),
      ecs: ecsConfig.default('CodeDeployDefault.ECSCanary10Percent5Minutes'),
      ec2: ec2Config.default('CodeDeployDefault.OneAtATime'),
    })
    .default({
      lambda: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      ecs: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      ec2: 'CodeDeployDefault.OneAtATime',
    }),
  /** Highest risk approved without a human; `NONE` always asks. */
  autoApproveUpTo: z.enum([...riskLevels, 'NONE'] as const).default('NONE'),
  maintenanceWindows: z.array(windowSchema).default([]),
  /** Labels that may deploy outside the maintenance windows once approved. */
  windowExemptLabels: z.array(z.string()).default([]),
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
  maxDeferrals: z.number().int().min(0).max(100).default(3),
  verification: z
    .object({
      /** Highest error rate (0..1) the candidate may show under probes. */
      maxErrorRate: z.number().min(0).max(1).default(0.05),
      /** Highest increase of the error rate over the current version. */
      maxErrorRateIncrease: z.number().min(0).max(1).default(0.02),
      /** Highest ratio of candidate p95 latency to the current version's. */
      maxLatencyRatio: z.number().min(1).default(1.5),
      /** Fewer samples per version than this gives INCONCLUSIVE. */
      minSamples: z.number().int().min(1).default(10),
    })
    .default({ maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxLatencyRatio: 1.5, minSamples: 10 }),
});

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
