import { alarmName } from '../../shared/domain/catalog';
import { type Decision, evaluatePolicy } from '../../shared/domain/decision';
import { NotFound } from '../../shared/domain/errors';
import { detailTypes, source, version } from '../../shared/domain/events/upshift-events';
import type { VerificationResult } from '../../shared/domain/verification';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type {
  AlarmReader,
  CatalogStore,
  Clock,
  EventPublisher,
  PolicyStore,
  RegistryStore,
  WorkflowStore,
} from '../../shared/ports';
import { assertBakeWithinCap } from '../../shared/usecases/bake-limits';
import { asOfNow, assertNotSuperseded } from '../../shared/usecases/superseded';

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
 * 1. gather facts (policy, registry, alarms now, verification, time); a request no newer than
 *    what the registry now serves is superseded;
 * 2. evaluate (pure, explainable: reasons and a trace); a bake past the cap fails (BakeTooLong);
 * 3. record the decision; 4. announce a deferral.
 */
export async function decide(
  input: {
    workflowId: string;
    request: UpgradeRequest;
    verification: VerificationResult;
    deferrals: number;
    approval?: { approved?: boolean; by?: string };
  },
  ports: DecidePorts,
): Promise<Decision> {
  const [policy, component, registry] = await Promise.all([
    ports.policies.get(input.request.environment),
    ports.catalog.getComponent(input.request.component),
    ports.registry.get(input.request.component, input.request.environment),
  ]);
  // With the lock held: a newer version deployed since Intake makes this one superseded, and an
  // upgrade deployed since makes the bump smaller (judged from what serves now).
  assertNotSuperseded(input.request, registry);
  const request = asOfNow(input.request, registry);
  if (!policy) throw new NotFound(`no policy for environment ${request.environment}`);
  // Policies are read per decision, so an edit applies to the next decision of every workflow.
  if (!component) throw new NotFound(`component ${request.component} is no longer in the catalog`);
  const names = component.alarms.map((a) => alarmName(request.component, request.environment, a.id));
  const states = names.length ? await ports.alarms.describe(names) : [];
  const now = ports.clock.now().toISOString();

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
    {
      stage: 'Decide',
      at: now,
      status: decision.decision,
      detail: `${decision.risk} risk; policy v${policy.version}; ${decision.reasons.map((r) => r.code).join(', ')}${
        decision.deferUntil ? `; until ${decision.deferUntil}` : ''
      }`,
    },
    { decision },
  );
  if (decision.decision === 'DEFER') {
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
  return decision;
}
