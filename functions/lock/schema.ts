import { z } from 'zod';
import { stepBase } from '../../shared/domain/steps';

/**
 * Lock's input. `expectedAs` says how the caller takes the two expected outcomes of an acquire,
 * "another upgrade holds the lock" and "a newer version supersedes this one":
 * - `result`: returned (`held`, `superseded`), and the state machine routes on them in the Choice
 *   that follows Lock. A thrown error is a Lambda function error, which the FunctionErrors alarm
 *   counts, and neither of these is a failure (docs/operations.md).
 * - `error` (the default): thrown as `LockHeld` and `Superseded`, for the definitions before this
 *   one. An execution runs on the definition it started with (for up to its 14-day timeout), and a
 *   deferred or waiting one calls this function again after an update of the stack.
 */
export const inputSchema = stepBase.extend({
  action: z.enum(['acquire', 'release']),
  expectedAs: z.enum(['result', 'error']).default('error'),
});
export type LockInput = z.infer<typeof inputSchema>;

/** The lease taken (or renewed): the workflow holds the lock and goes on. */
export const leaseSchema = z.object({
  key: z.string(),
  owner: z.string(),
  expiresAt: z.string(),
  acquiredAt: z.string().optional(),
  queuedUntil: z.string().optional(),
});

/** Another upgrade holds the lock: this one has its place in the queue, and waits and retries. */
export const heldSchema = z.object({
  held: z.literal(true),
  holder: z.string(),
  expiresAt: z.string(),
});

/** A newer upgrade holds the lock or waits for it: this one ends SKIPPED, its queue place left. */
export const supersededSchema = z.object({
  superseded: z.object({ message: z.string() }),
});

/** The lock released while the workflow waits for a window. */
export const releasedSchema = z.object({ released: z.boolean() });

/**
 * What Lock returns at `$.lease`; the Choice after it (`Rollback?`) tests `held` and `superseded`
 * first, so a lease taken costs no extra state transition.
 */
export const lockResultSchema = z.union([heldSchema, supersededSchema, releasedSchema, leaseSchema]);
export type LockResult = z.infer<typeof lockResultSchema>;
