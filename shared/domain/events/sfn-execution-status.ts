import { z } from 'zod';
import { eventBridgeEnvelope } from './envelope';

/**
 * `Step Functions Execution Status Change` from `aws.states`, which Step Functions puts on the
 * default bus for every status change of a Standard execution. Upshift acts on the ends that
 * never reach its Record step: FAILED (outside every Catch), TIMED_OUT and ABORTED. AWS's own
 * event, so unknown fields are kept, not refused.
 */
export const detailType = 'Step Functions Execution Status Change' as const;
export const source = 'aws.states' as const;
export const version = '0';

export const endedStatuses = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export const detail = z.looseObject({
  executionArn: z.string().min(1),
  stateMachineArn: z.string().min(1),
  name: z.string().min(1),
  status: z.string(),
  startDate: z.number().optional(),
  stopDate: z.number().nullable().optional(),
  error: z.string().nullable().optional(),
  cause: z.string().nullable().optional(),
  input: z.string().nullable().optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail).extend({ source: z.literal(source) });
export type ExecutionStatusChange = z.infer<typeof schema>;
