import { z } from 'zod';
import { outcomeSchema, reasonSchema } from '../../shared/domain/events/upshift-events';
import {
  approvalResultSchema,
  bakeSchema,
  decisionSchema,
  deploymentSchema,
  deploymentStatusSchema,
} from '../../shared/domain/steps';
import { upgradeRequestSchema } from '../../shared/domain/workflow';

/** The parts of the workflow state that Record reads; any may be missing, depending on the path. */
export const recordStateSchema = z.object({
  terminal: z.object({ outcome: outcomeSchema, stage: z.string().optional() }),
  intake: z
    .object({
      outcome: z.string(),
      reasons: z.array(reasonSchema).default([]),
      request: upgradeRequestSchema.optional(),
    })
    .optional(),
  decision: decisionSchema.partial().optional(),
  approval: approvalResultSchema.partial().optional(),
  deployment: deploymentSchema.partial().optional(),
  deploymentStatus: deploymentStatusSchema.partial().optional(),
  bake: bakeSchema.partial().optional(),
  revert: deploymentSchema.partial().optional(),
  revertStatus: deploymentStatusSchema.partial().optional(),
  error: z.object({ Error: z.string(), Cause: z.unknown().optional() }).optional(),
});
export type RecordState = z.infer<typeof recordStateSchema>;

export const inputSchema = z.object({
  workflowId: z.string().min(1),
  state: recordStateSchema,
  /** Set by the state machine when Record itself failed for good: end the record FAILED. */
  fallback: z.object({ Error: z.string(), Cause: z.unknown().optional() }).optional(),
});
