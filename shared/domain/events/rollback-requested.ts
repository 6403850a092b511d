import { z } from 'zod';
import { limits } from '../limits';
import { strictObject } from '../strict-object';
import { eventBridgeEnvelope } from './envelope';
import { metadata, versionText } from './version-published';

/**
 * `Rollback Requested`: on-call asks for a rollback. While a shift is in flight it is stopped with
 * CodeDeploy's rollback; otherwise the component goes back to `toVersion`, or to the version
 * before the current one. The detail is strict, like Version Published's; extra fields go under
 * `metadata`.
 */
export const detailType = 'Rollback Requested' as const;
export const source = undefined;
export const version = '1';

export const detail = strictObject({
  component: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected the component name'),
  environment: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected an environment name'),
  toVersion: versionText.optional(),
  reason: z
    .string({ error: 'expected the reason for the rollback' })
    .min(1, 'expected the reason for the rollback')
    .max(limits.reasonChars),
  requestedBy: z.string().min(1).max(limits.actorChars).optional(),
  metadata: metadata.optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail);
export type RollbackRequested = z.infer<typeof schema>;
