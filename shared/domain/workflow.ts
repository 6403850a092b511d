import { z } from 'zod';
import { componentSchema, targetSchema } from './catalog';
import { artifactSchema } from './events/artifact';
import { type Outcome, outcomeSchema, type Reason, reasonSchema } from './events/upshift-events';
import { policySchema } from './policy';

export const platformSchema = z.enum(['lambda', 'ecs', 'ec2']);

/**
 * What Intake resolved from the catalog and the environment's policy, carried in the execution
 * state so that Verify, Decide, Deploy and the bake do not read the catalog again (decision 0018):
 * the target, its alarms, the probes (when small enough, see MAX_CARRIED_PROBES_CHARS) and the
 * verification thresholds of the policy version Intake read.
 */
export const resolvedSchema = z.object({
  target: targetSchema,
  alarmNames: z.array(z.string()),
  probes: componentSchema.shape.probes.unwrap().optional(),
  policyVersion: z.number().int().optional(),
  verification: policySchema.shape.verification.unwrap().optional(),
  /** The environment is in shadow mode: decide, record SHADOWED, never deploy (decision 0030). */
  shadow: z.boolean().optional(),
});
export type Resolved = z.infer<typeof resolvedSchema>;

/** Probes larger than this (serialized) are read from the catalog by Verify instead of carried. */
export const MAX_CARRIED_PROBES_CHARS = 32 * 1024;

/** An accepted event, normalized. Every later step works from this, never from the raw event. */
export const upgradeRequestSchema = z.object({
  workflowId: z.string().min(1),
  component: z.string().min(1),
  environment: z.string().min(1),
  version: z.string().min(1),
  artifact: artifactSchema,
  platform: platformSchema,
  labels: z.array(z.string()).default([]),
  commit: z.string().optional(),
  /** When the commit was made, as CI stated it (`committedAt`): lead time from commit (docs/metrics.md). */
  committedAt: z.string().optional(),
  publishedBy: z.string().optional(),
  source: z.string(),
  eventId: z.string(),
  receivedAt: z.string(),
  currentVersion: z.string().optional(),
  currentArtifact: artifactSchema.optional(),
  bump: z.enum(['major', 'minor', 'patch', 'prerelease', 'none', 'downgrade']),
  /** `rollback`: a manual rollback to a known version; no verification, no policy, all at once. */
  mode: z.enum(['upgrade', 'rollback']).default('upgrade'),
  rollback: z.object({ reason: z.string(), requestedBy: z.string().optional() }).optional(),
  /** Absent in executions started before decision 0018: the steps read the catalog then. */
  resolved: resolvedSchema.optional(),
});
export type UpgradeRequest = z.infer<typeof upgradeRequestSchema>;

export const historyEntrySchema = z.object({
  stage: z.string(),
  at: z.string(),
  status: z.string(),
  detail: z.string().default(''),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export interface WorkflowRecord {
  workflowId: string;
  status: 'RUNNING' | 'ENDED';
  outcome?: Outcome;
  reasons: Reason[];
  component?: string;
  environment?: string;
  version?: string;
  source?: string;
  eventId?: string;
  startedAt: string;
  endedAt?: string;
  history: HistoryEntry[];
  /** Evidence kept for approvers and on-call: verification, decision, deployment, rollback. */
  evidence: Record<string, unknown>;
}

export const workflowRecordSchema = z.object({
  workflowId: z.string(),
  status: z.enum(['RUNNING', 'ENDED']),
  outcome: outcomeSchema.optional(),
  reasons: z.array(reasonSchema),
  component: z.string().optional(),
  environment: z.string().optional(),
  version: z.string().optional(),
  source: z.string().optional(),
  eventId: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  history: z.array(historyEntrySchema),
  evidence: z.record(z.string(), z.unknown()),
});

/** What the registry knows about one component in one environment. */
export interface RegistryEntry {
  component: string;
  environment: string;
  current: { version: string; artifact: z.infer<typeof artifactSchema>; deploymentId?: string; at: string };
  previous?: { version: string; artifact: z.infer<typeof artifactSchema>; deploymentId?: string; at: string };
  lastKnownGood: {
    version: string;
    artifact: z.infer<typeof artifactSchema>;
    deploymentId?: string;
    at: string;
  };
  lastUpgradeAt?: string;
}

/**
 * Outcomes after which the same version may be published again (the dedupe claim is released).
 * SHADOWED deployed nothing: once the environment goes live, the same version is published for
 * real (decision 0030).
 */
export const retryableOutcomes: readonly Outcome[] = ['FAILED', 'EXPIRED', 'DEFERRED', 'SHADOWED'];
