import { type core, z } from 'zod';
import { didYouMean } from './did-you-mean';

/** What an unknown key reads as: `unknown key, did you mean "bakeMinutes"?`. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const hint = didYouMean(key, known);
  return `unknown key${hint ? `, did you mean "${hint}"?` : ''}`;
}

/**
 * A zod object that rejects keys it does not declare, instead of stripping them: a typo such as
 * `bakeMinuts` would otherwise validate and leave the default in force without a word. Use it for
 * our own documents (catalog, policies, the details of the events CI sends); AWS's envelopes stay
 * tolerant because AWS adds fields.
 *
 * zod reports all unknown keys of one object in a single issue; the message holds one line per key,
 * in the order of `issue.keys`, and `describeIssues` turns each into `path.key: message`.
 *
 * @example
 * strictObject({ bakeMinutes: z.number() }).safeParse({ bakeMinuts: 5 })
 * // describeIssues → ['bakeMinuts: unknown key, did you mean "bakeMinutes"?']
 */
export function strictObject<T extends core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => unknownKeyMessage(key, known)).join('\n')
        : undefined,
  });
}
