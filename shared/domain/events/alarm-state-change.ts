import { z } from 'zod';
import { eventBridgeEnvelope } from './envelope';

/** `CloudWatch Alarm State Change`. `reasonData` is a JSON string and timestamps use `+0000`. */
export const detailType = 'CloudWatch Alarm State Change' as const;
export const source = 'aws.cloudwatch' as const;
export const version = '0';

const alarmState = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string().default(''),
  reasonData: z.string().optional(),
  timestamp: z.string(),
});

export const detail = z.object({
  alarmName: z.string().min(1),
  state: alarmState,
  previousState: alarmState.optional(),
  configuration: z.record(z.string(), z.unknown()).optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail).extend({ source: z.literal(source) });
export type AlarmStateChange = z.infer<typeof schema>;
