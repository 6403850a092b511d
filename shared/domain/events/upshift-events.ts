import { z } from 'zod';

/**
 * Events Upshift emits, source `upshift`. Schema version 1; consumers should ignore fields they
 * do not know. Documented in docs/events.md.
 */
export const source = 'upshift' as const;
export const version = '1';

export const outcomes = [
  'COMPLETED',
  'ROLLED_BACK',
  'REJECTED',
  'DEFERRED',
  'EXPIRED',
  'SKIPPED',
  'IGNORED',
  'INVALID',
  'FAILED',
  /** A revert (after a bake alarm, or a manual rollback) whose deployment ended Failed or Stopped. */
  'ROLLBACK_FAILED',
  /** Shadow mode: verified and decided for real, nothing deployed; the decision is the evidence. */
  'SHADOWED',
] as const;
export const outcomeSchema = z.enum(outcomes);
export type Outcome = z.infer<typeof outcomeSchema>;

/**
 * A reason: a code, a message for people, and, for a `DUPLICATE`, the workflow holding the version
 * (`holder`, optional so reasons recorded before it was added still parse; for programs, not the
 * message text).
 */
export const reasonSchema = z.object({
  code: z.string(),
  message: z.string(),
  holder: z.object({ workflowId: z.string() }).optional(),
});
export type Reason = z.infer<typeof reasonSchema>;

export const detailTypes = {
  started: 'Upgrade Started',
  approvalRequested: 'Approval Requested',
  COMPLETED: 'Upgrade Completed',
  ROLLED_BACK: 'Upgrade Rolled Back',
  REJECTED: 'Upgrade Rejected',
  DEFERRED: 'Upgrade Deferred',
  FAILED: 'Upgrade Failed',
  ROLLBACK_FAILED: 'Upgrade Rollback Failed',
  SHADOWED: 'Upgrade Shadowed',
} as const;

/** The detail-type for a terminal outcome; outcomes without their own type report as ended. */
export function detailTypeForOutcome(outcome: Outcome): string {
  switch (outcome) {
    case 'COMPLETED':
    case 'ROLLED_BACK':
    case 'REJECTED':
    case 'DEFERRED':
    case 'FAILED':
    case 'ROLLBACK_FAILED':
    case 'SHADOWED':
      return detailTypes[outcome];
    case 'EXPIRED':
      return detailTypes.REJECTED;
    default:
      return 'Upgrade Ended';
  }
}

export const upgradeEventDetail = z.object({
  schemaVersion: z.literal(version),
  workflowId: z.string(),
  component: z.string().optional(),
  environment: z.string().optional(),
  version: z.string().optional(),
  outcome: outcomeSchema.optional(),
  reasons: z.array(reasonSchema).default([]),
  approvalId: z.string().optional(),
});
export type UpgradeEventDetail = z.infer<typeof upgradeEventDetail>;
