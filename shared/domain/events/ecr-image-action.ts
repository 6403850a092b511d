import { z } from 'zod';
import { eventBridgeEnvelope } from './envelope';

/** `ECR Image Action` from `aws.ecr`. Only a successful PUSH is routed to Upshift. */
export const detailType = 'ECR Image Action' as const;
export const source = 'aws.ecr' as const;
export const version = '0';

export const detail = z.object({
  result: z.string(),
  'repository-name': z.string().min(1, 'expected the repository name'),
  'image-digest': z.string().min(1, 'expected the image digest'),
  'action-type': z.string(),
  'image-tag': z.string().optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail).extend({ source: z.literal(source) });
export type EcrImageAction = z.infer<typeof schema>;
