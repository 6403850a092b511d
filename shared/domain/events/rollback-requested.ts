import { z } from 'zod';
import { isSemVer } from '../semver';
import { eventBridgeEnvelope } from './envelope';

/**
 * `Rollback Requested`: on-call asks for a rollback. While a shift is in flight it is stopped with
 * CodeDeploy's rollback; otherwise the component goes back to `toVersion`, or to the version
 * before the current one.
 */
export const detailType = 'Rollback Requested' as const;
export const source = undefined;
export const version = '1';

export const detail = z.object({
  component: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected the component name'),
  environment: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected an environment name'),
  toVersion: z.string().refine(isSemVer, 'expected a semantic version such as 1.2.3').optional(),
  reason: z
    .string({ error: 'expected the reason for the rollback' })
    .min(1, 'expected the reason for the rollback')
    .max(1000),
  requestedBy: z.string().min(1).max(256).optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail);
export type RollbackRequested = z.infer<typeof schema>;
