import { z } from 'zod';
import { isSemVer } from '../semver';
import { ec2Artifact, ecsArtifact, lambdaArtifact } from './artifact';
import { eventBridgeEnvelope } from './envelope';

/**
 * `Version Published`: the CI contract. Any source may send it to the Upshift bus.
 *
 * @example
 * { "detail-type": "Version Published", "source": "ci.github", "detail": {
 *   "component": "checkout", "version": "1.1.0", "environment": "staging",
 *   "artifact": { "type": "lambda", "functionName": "checkout", "functionVersion": "7" },
 *   "labels": ["security"], "commit": "9f1c2ab", "publishedBy": "ci@example.com" } }
 */
export const detailType = 'Version Published' as const;
export const source = undefined;
export const version = '1';

export const detail = z.object({
  component: z
    .string({ error: 'expected the component name' })
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a component name: lowercase letters, digits and dashes'),
  version: z
    .string({ error: 'expected a semantic version such as 1.2.3' })
    .refine(isSemVer, 'expected a semantic version such as 1.2.3'),
  environment: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected an environment name')
    .optional(),
  artifact: z.discriminatedUnion('type', [lambdaArtifact, ecsArtifact, ec2Artifact], {
    error: 'expected an artifact with type "lambda", "ecs" or "ec2"',
  }),
  labels: z.array(z.string().min(1).max(64)).max(20).default([]),
  commit: z.string().min(1).max(64).optional(),
  publishedBy: z.string().min(1).max(256).optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail);
export type VersionPublished = z.infer<typeof schema>;
