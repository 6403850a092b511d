import { type Decision, evaluatePolicy } from '../../shared/domain/decision';
import { NotFound } from '../../shared/domain/errors';
import { detailTypes, source, version } from '../../shared/domain/events/upshift-events';
import { shadowPlan } from '../../shared/domain/shadow';
import type { VerificationResult } from '../../shared/domain/verification';
import type { HistoryEntry, UpgradeRequest } from '../../shared/domain/workflow';
import type {
  AlarmReader,
  CatalogStore,
  Clock,
  EventPublisher,
  PolicyStore,
  RegistryStore,
  TargetFacts,
  WorkflowStore,
} from '../../shared/ports';
import { assertBakeWithinCap } from '../../shared/usecases/bake-limits';
import { targetOfRequest } from '../../shared/usecases/resolve-event';
import { asOfNow, assertNotSuperseded } from '../../shared/usecases/superseded';
import { lockAcquiredLine, lockKey } from '../lock/lock';
import { verifiedLine } from '../verify/verify';

export interface DecidePorts {
  catalog: CatalogStore;
  policies: PolicyStore;
  registry: RegistryStore;
  alarms: AlarmReader;
  events: EventPublisher;
  workflows: WorkflowStore;
  clock: Clock;
}

/**
 * Decide: evaluates the environment's policy, read from DynamoDB, against the facts.
 * 1. gather facts (policy, registry and lock in one consistent read; alarms now; verification;
 *    time); a request no newer than what the registry now serves is superseded;
 * 2. evaluate (pure, explainable: reasons and a trace); a bake past the cap fails (BakeTooLong);
 * 3. record the lock, the verification and the decision in one write (decision 0018);
 * 4. announce a deferral (not in shadow mode, where the plan is recorded instead, decision 0030).
 * The result carries the request as of the registry read here, for Deploy.
 */
export async function decide(
  input: {
    workflowId: string;
    request: UpgradeRequest;
    verification: VerificationResult & { at?: string; policyVersion?: number };
    deferrals: number;
    approval?: { approved?: boolean; by?: string };
  },
  ports: DecidePorts,
): Promise<Decision & { decidedAt: string; request: UpgradeRequest }> {
  const key = lockKey(input.request.component, input.request.environment);
  const facts = await readFacts(input.request, key, ports);
  const { policy, registry } = facts;
  const now = ports.clock.now().toISOString();
  // After an approval, the lock and verification lines were written by the decision that asked.
  const lines = input.approval?.approved === undefined ? roundLines(input, facts, now) : [];
  // With the lock held: a newer version deployed since Intake makes this one superseded, and an
  // upgrade deployed since makes the bump smaller (judged from what serves now).
  try {
    assertNotSuperseded(input.request, registry);
  } catch (superseded) {
    if (lines.length) await ports.workflows.append(input.workflowId, lines);
    throw superseded;
  }
  const request = asOfNow(input.request, registry);
  if (!policy) throw new NotFound(`no policy for environment ${request.environment}`);
  const shadow = request.resolved?.shadow === true;
  // Policies are read per decision, so an edit applies to the next decision of every workflow.
  const { alarmNames: names } = await targetOfRequest(request, ports.catalog);
  const states = names.length ? await ports.alarms.describe(names) : [];

  const decision = evaluatePolicy(
    {
      component: request.component,
      environment: request.environment,
      version: request.version,
      ...(request.currentVersion ? { currentVersion: request.currentVersion } : {}),
      bump: request.bump,
      labels: request.labels,
      platform: request.platform,
      verification: input.verification,
      now,
      startedAt: request.receivedAt,
      approved: input.approval?.approved === true,
      ...(registry?.lastUpgradeAt ? { lastUpgradeAt: registry.lastUpgradeAt } : {}),
      alarmsInAlarm: states.filter((s) => s.state === 'ALARM').map((s) => s.name),
      deferrals: input.deferrals,
    },
    policy.policy,
  );
  // Rules add bake minutes to the policy's: the sum must stay within what a bake can last.
  if (decision.decision !== 'REJECT') assertBakeWithinCap(request.environment, decision.bakeMinutes);
  await ports.workflows.append(
    input.workflowId,
    [
      ...lines,
      {
        stage: 'Decide',
        at: now,
        status: decision.decision,
        detail: `${decision.risk} risk; policy v${policy.version}; ${decision.reasons.map((r) => r.code).join(', ')}${
          decision.deferUntil ? `; until ${decision.deferUntil}` : ''
        }`,
      },
    ],
    {
      decision,
      verification: input.verification,
      // Shadow mode: what a live run would have done, and when (decision 0030).
      ...(shadow ? { shadow: shadowPlan({ ...decision, decidedAt: now }, request, now) } : {}),
    },
  );
  // A shadow run announces no deferral: it ends SHADOWED at once, and nobody is waiting on it.
  if (decision.decision === 'DEFER' && !shadow) {
    await ports.events.publish([
      {
        source,
        detailType: detailTypes.DEFERRED,
        time: now,
        detail: {
          schemaVersion: version,
          workflowId: input.workflowId,
          component: request.component,
          environment: request.environment,
          version: request.version,
          reasons: decision.reasons,
          deferUntil: decision.deferUntil,
        },
      },
    ]);
  }
  return { ...decision, decidedAt: now, request };
}

/** Policy, registry and our lock, in one consistent round trip when the store can. */
async function readFacts(request: UpgradeRequest, key: string, ports: DecidePorts): Promise<TargetFacts> {
  if (ports.registry.readTogether) {
    return ports.registry.readTogether(request.component, request.environment, {
      policy: true,
      lockKey: key,
    });
  }
  const [policy, registry] = await Promise.all([
    ports.policies.get(request.environment),
    ports.registry.get(request.component, request.environment),
  ]);
  return { ...(policy ? { policy } : {}), ...(registry ? { registry } : {}) };
}

/**
 * The lines of this round that Lock and Verify left to Decide: the lock taken (from the lock item
 * read with the registry, when we hold it) and the verification.
 */
function roundLines(
  input: { workflowId: string; verification: VerificationResult & { at?: string } },
  facts: TargetFacts,
  now: string,
): HistoryEntry[] {
  const lines: HistoryEntry[] = [];
  if (facts.lock?.owner === input.workflowId) lines.push(lockAcquiredLine(facts.lock));
  lines.push(verifiedLine(input.verification, input.verification.at ?? now));
  return lines;
}
