import { z } from 'zod';
import { eventBridgeEnvelope } from './envelope';

/**
 * `CodeDeploy Deployment State-change Notification`. Delivery is best effort and the event has
 * no error or rollback details, so consumers call GetDeployment for those. Unknown states are
 * kept as strings rather than rejected.
 */
export const detailType = 'CodeDeploy Deployment State-change Notification' as const;
export const source = 'aws.codedeploy' as const;
export const version = '0';

export const detail = z.object({
  application: z.string(),
  deploymentGroup: z.string(),
  deploymentId: z.string().min(1),
  state: z.string(),
  region: z.string().optional(),
  instanceGroupId: z.string().optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail).extend({ source: z.literal(source) });
export type CodeDeployStateChange = z.infer<typeof schema>;
