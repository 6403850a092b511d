import type { Reason } from './events/upshift-events';
import type { Policy } from './policy';

export const UNTRUSTED_SOURCE = 'UNTRUSTED_SOURCE';

/**
 * The source of the Version Published and Rollback Requested events a promotion wave sends
 * (docs/waves.md). Like any source it must be listed where a policy names its trusted sources.
 */
export const PROMOTION_SOURCE = 'upshift.promotion';

/**
 * Whether an event from `source` may start an upgrade or a rollback in the policy's environment.
 * A policy without `trustedSources` accepts any source (and `cdk synth` warns about it); with a
 * list, the source must be in it exactly, as EventBridge compares sources.
 *
 * @example
 * isTrustedSource({ trustedSources: ['ci.github'] }, 'ci.github') // true
 * isTrustedSource({ trustedSources: ['ci.github'] }, 'ci.evil')   // false
 * isTrustedSource({}, 'anyone')                                   // true
 */
export function isTrustedSource(policy: Pick<Policy, 'trustedSources'>, source: string): boolean {
  return policy.trustedSources === undefined || policy.trustedSources.includes(source);
}

/** The reason an untrusted event ends IGNORED. */
export function untrustedSourceReason(environment: string, source: string): Reason {
  return {
    code: UNTRUSTED_SOURCE,
    message: `source "${source}" is not in the trusted sources of ${environment}; the event starts nothing`,
  };
}
