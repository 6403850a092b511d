import { z } from 'zod';
import { decisions } from './decision';
import { artifactSchema } from './events/artifact';
import type { CheckResult } from './verification';
import { upgradeRequestSchema } from './workflow';

/**
 * Schemas of what the steps hand each other through the state machine. Each handler validates
 * the parts of the state it reads with these.
 */
const finding = z.object({ code: z.string(), message: z.string() });
const measurement = z.object({
  version: z.string(),
  samples: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  p50Ms: z.number(),
  p95Ms: z.number(),
});

export const verificationSchema = z.object({
  verdict: z.enum(['PASS', 'FAIL', 'INCONCLUSIVE']),
  findings: z.array(finding),
  candidate: measurement,
  current: measurement.optional(),
  /** The evidence table and where the raw samples are: Decide records them (decision 0018). */
  checks: z.array(z.custom<CheckResult>((v) => typeof v === 'object' && v !== null)).optional(),
  omittedChecks: z.object({ rows: z.number(), failed: z.number() }).optional(),
  evidence: z.object({ ref: z.string(), samples: z.number() }).optional(),
  /** When Verify judged, and by which policy version's thresholds. */
  at: z.string().optional(),
  policyVersion: z.number().optional(),
});

export const decisionSchema = z.object({
  decision: z.enum(decisions),
  reasons: z.array(finding),
  risk: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
  priority: z.number(),
  deploymentConfig: z.string(),
  bakeMinutes: z.number(),
  approvalTimeoutSeconds: z.number(),
  approvalExpiry: z.enum(['reject', 'defer']).default('reject'),
  approvals: z
    .object({ required: z.number(), groups: z.array(z.string()), allowPublisher: z.boolean() })
    .default({ required: 1, groups: [], allowPublisher: false }),
  expired: z.boolean().default(false),
  deferUntil: z.string().optional(),
  trace: z.array(z.object({ check: z.string(), matched: z.boolean(), detail: z.string() })),
  /** When Decide decided (it writes the Lock, Verify and Decide lines then, decision 0018). */
  decidedAt: z.string().optional(),
  /**
   * The request as of the registry Decide read under the lock (what serves, the bump): Deploy
   * takes it from here, so it does not read the registry again while the same lease is held.
   */
  request: upgradeRequestSchema.optional(),
});

export const deploymentSchema = z.object({
  deploymentId: z.string(),
  mode: z.enum(['upgrade', 'revert', 'rollback']),
  version: z.string(),
  deploymentConfig: z.string(),
  startedAt: z.string(),
  deadline: z.string(),
  pollSeconds: z.number().int().min(1),
  /** The artifact deployed, when the deployer derived it (an image became a task definition). */
  artifact: artifactSchema.optional(),
});
export type DeploymentHandle = z.infer<typeof deploymentSchema>;

export const deploymentStatusSchema = z.object({
  status: z.string(),
  trafficPercent: z.number().optional(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  alarms: z.array(z.object({ name: z.string(), reason: z.string(), at: z.string() })).default([]),
  rollbackDeploymentId: z.string().optional(),
  checkedAt: z.string(),
});
export type DeploymentStatusResult = z.infer<typeof deploymentStatusSchema>;

export const bakeSchema = z.object({
  status: z.enum(['BAKING', 'PASSED', 'ALARM']),
  until: z.string(),
  pollSeconds: z.number().int().min(1),
  alarm: z.object({ name: z.string(), reason: z.string(), at: z.string() }).optional(),
});
export type BakeResult = z.infer<typeof bakeSchema>;

export const approvalResultSchema = z.object({
  approved: z.boolean(),
  approvalId: z.string(),
  by: z.string(),
  at: z.string(),
  comment: z.string().default(''),
});

export const stepBase = z.object({ workflowId: z.string().min(1), request: upgradeRequestSchema });
