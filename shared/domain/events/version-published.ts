import { z } from 'zod';
import { limits, utf8Bytes } from '../limits';
import { isSemVer } from '../semver';
import { strictObject } from '../strict-object';
import { ec2Artifact, ecsArtifact, lambdaArtifact } from './artifact';
import { eventBridgeEnvelope } from './envelope';

/**
 * `Version Published`: the CI contract. Any source may send it to the Upshift bus; a policy's
 * `trustedSources` says which sources may start upgrades in its environment.
 *
 * The detail is strict: an unknown key (a typo such as `lables`) makes the event INVALID with a
 * did-you-mean. Anything else CI wants to carry goes under `metadata`, which is free-form and
 * bounded (docs/events.md).
 *
 * @example
 * { "detail-type": "Version Published", "source": "ci.github", "detail": {
 *   "component": "checkout", "version": "1.1.0", "environment": "staging",
 *   "artifact": { "type": "lambda", "functionName": "checkout", "functionVersion": "7" },
 *   "labels": ["security"], "commit": "9f1c2ab", "committedAt": "2026-12-02T09:41:00Z",
 *   "publishedBy": "ci@example.com",
 *   "metadata": { "pipeline": "release", "run": 4211 } } }
 */
export const detailType = 'Version Published' as const;
export const source = undefined;
export const version = '1';

/** A semantic version short enough for every key and name it ends up in (shared/domain/limits.ts). */
export const versionText = z
  .string({ error: 'expected a semantic version such as 1.2.3' })
  .max(limits.versionChars, `expected at most ${limits.versionChars} characters`)
  .refine(isSemVer, 'expected a semantic version such as 1.2.3');

/** The free-form part of an event from CI: anything JSON, up to 8 KiB. */
export const metadata = z
  .record(z.string(), z.unknown(), { error: 'expected an object' })
  .refine((m) => utf8Bytes(JSON.stringify(m)) <= limits.metadataBytes, {
    error: `expected at most ${limits.metadataBytes} bytes of JSON`,
  });

export const detail = strictObject({
  component: z
    .string({ error: 'expected the component name' })
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a component name: lowercase letters, digits and dashes'),
  version: versionText,
  environment: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected an environment name')
    .optional(),
  artifact: z.discriminatedUnion('type', [lambdaArtifact, ecsArtifact, ec2Artifact], {
    error: 'expected an artifact with type "lambda", "ecs" or "ec2"',
  }),
  labels: z.array(z.string().min(1).max(limits.labelChars)).max(limits.labels).default([]),
  commit: z.string().min(1).max(limits.commitChars).optional(),
  /** When the commit was made (ISO 8601 with a zone): lead time from commit in `upshift metrics`. */
  committedAt: z.iso
    .datetime({ offset: true, error: 'expected an ISO 8601 time with a zone, such as 2026-12-02T09:41:00Z' })
    .optional(),
  publishedBy: z.string().min(1).max(limits.actorChars).optional(),
  metadata: metadata.optional(),
});

export const schema = eventBridgeEnvelope(detailType, detail);
export type VersionPublished = z.infer<typeof schema>;
