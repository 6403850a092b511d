import { z } from 'zod';
import type { DecisionKind } from './decision';

/**
 * What a shadow run (an environment with `"mode": "shadow"`, decision 0030) would have done: the
 * decision and what follows from it, with the time the shift would have started. Recorded as the
 * workflow's `evidence.shadow` and carried by the `Upgrade Shadowed` event.
 */
export const shadowPlanSchema = z.object({
  decision: z.enum(['APPROVE', 'REJECT', 'DEFER', 'MANUAL_REVIEW']),
  /** `deploy`: a shift would have started (at once, after the window, or once approved). */
  action: z.enum(['deploy', 'reject', 'expire']),
  version: z.string(),
  fromVersion: z.string().optional(),
  deploymentConfig: z.string().optional(),
  bakeMinutes: z.number().optional(),
  risk: z.string().optional(),
  /**
   * The earliest instant the shift would have started: the decision's time (APPROVE), the end of
   * the wait (DEFER: the window, freeze, interval or alarm), and for MANUAL_REVIEW the same bound,
   * reached only once approved.
   */
  earliestStartAt: z.string().optional(),
  /** What the live run would have waited for first: `approval`, `allowed-time`. */
  waitsFor: z.array(z.enum(['approval', 'allowed-time'])),
  /** The approval a live run would have asked for (no one is asked in shadow mode). */
  approvals: z.object({ required: z.number(), groups: z.array(z.string()) }).optional(),
  decidedAt: z.string(),
});
export type ShadowPlan = z.infer<typeof shadowPlanSchema>;

/** The parts of Decide's result a plan is made from (any may be missing in an old record). */
export interface ShadowDecisionInput {
  decision?: DecisionKind | undefined;
  deploymentConfig?: string | undefined;
  bakeMinutes?: number | undefined;
  risk?: string | undefined;
  expired?: boolean | undefined;
  deferUntil?: string | undefined;
  approvals?: { required: number; groups: string[] } | undefined;
  decidedAt?: string | undefined;
}

/**
 * The plan of a shadow run from the decision Decide made for it. Pure: the time comes from the
 * decision (`decidedAt`), or `fallbackAt` when the decision carries none.
 */
export function shadowPlan(
  decision: ShadowDecisionInput,
  request: { version: string; currentVersion?: string | undefined },
  fallbackAt: string,
): ShadowPlan {
  const kind = decision.decision ?? 'REJECT';
  const decidedAt = decision.decidedAt ?? fallbackAt;
  const action: ShadowPlan['action'] =
    kind === 'REJECT' ? 'reject' : kind === 'DEFER' && decision.expired ? 'expire' : 'deploy';
  const waitsFor: ShadowPlan['waitsFor'] = [];
  if (kind === 'MANUAL_REVIEW') waitsFor.push('approval');
  if ((kind === 'DEFER' || kind === 'MANUAL_REVIEW') && decision.deferUntil) waitsFor.push('allowed-time');
  const earliestStartAt =
    action !== 'deploy' ? undefined : kind === 'APPROVE' ? decidedAt : (decision.deferUntil ?? decidedAt);
  return {
    decision: kind,
    action,
    version: request.version,
    ...(request.currentVersion ? { fromVersion: request.currentVersion } : {}),
    ...(action === 'deploy' && decision.deploymentConfig
      ? { deploymentConfig: decision.deploymentConfig }
      : {}),
    ...(action === 'deploy' && decision.bakeMinutes !== undefined
      ? { bakeMinutes: decision.bakeMinutes }
      : {}),
    ...(decision.risk ? { risk: decision.risk } : {}),
    ...(earliestStartAt ? { earliestStartAt } : {}),
    waitsFor,
    ...(kind === 'MANUAL_REVIEW' && decision.approvals
      ? { approvals: { required: decision.approvals.required, groups: decision.approvals.groups } }
      : {}),
    decidedAt,
  };
}

/** One line for the record's SHADOWED reason. */
export function describeShadowPlan(plan: ShadowPlan): string {
  const what = `${plan.fromVersion ? `${plan.fromVersion} -> ` : ''}${plan.version}`;
  if (plan.action === 'reject') return `shadow mode: would have rejected ${what}; nothing deployed`;
  if (plan.action === 'expire') {
    return `shadow mode: would have given up waiting (deferral limit or maximum age) for ${what}; nothing deployed`;
  }
  const config = plan.deploymentConfig ? ` with ${plan.deploymentConfig}` : '';
  const bake = plan.bakeMinutes ? ` and a ${plan.bakeMinutes}-minute bake` : '';
  const approval = plan.approvals
    ? `once approved by ${plan.approvals.required} of ${plan.approvals.groups.length ? plan.approvals.groups.join(', ') : 'the approvers'} (no one was asked), `
    : '';
  const when =
    plan.decision === 'APPROVE'
      ? `at ${plan.earliestStartAt}`
      : plan.waitsFor.includes('allowed-time')
        ? `not before ${plan.earliestStartAt}`
        : `from ${plan.earliestStartAt}`;
  return `shadow mode: would have deployed ${what}${config}${bake}, ${approval}${when}; nothing deployed`;
}
