import { environmentAlarms } from '../domain/catalog';
import { type Decision, evaluatePolicy } from '../domain/decision';
import { NotFound } from '../domain/errors';
import type { Reason } from '../domain/events/upshift-events';
import { classifyBump, compareVersions } from '../domain/semver';
import { judgeVerification, type Verdict, type VerificationResult } from '../domain/verification';
import type { AlarmReader, CatalogStore, Clock, PolicyStore, Prober, RegistryStore } from '../ports';
import { resolveEvent } from './resolve-event';

export interface ExplainPorts {
  catalog: CatalogStore;
  policies: PolicyStore;
  registry: RegistryStore;
  prober: Prober;
  alarms: AlarmReader;
  clock: Clock;
}

export type Explanation =
  | {
      outcome: 'DECIDED';
      component: string;
      environment: string;
      version: string;
      currentVersion: string;
      policyVersion: number;
      verification: VerificationResult;
      decision: Decision;
    }
  | { outcome: 'INVALID' | 'IGNORED' | 'SKIPPED'; reasons: Reason[] };

/**
 * The dry run: what would be decided for this event at the clock's time. It reads (the catalog,
 * the policy, the registry, the alarms), probes when no verdict is given, and writes nothing and
 * starts nothing.
 */
export async function explainDecision(
  input: { event: unknown; verdict?: Verdict; approved?: boolean },
  ports: ExplainPorts,
): Promise<Explanation> {
  const resolved = await resolveEvent(input.event, ports.catalog);
  if (!resolved.ok) return { outcome: resolved.outcome, reasons: resolved.reasons };
  const { candidate, component, environment, envConfig, target } = resolved;
  const stored = await ports.policies.get(environment);
  if (!stored) throw new NotFound(`no policy for environment ${environment}`);
  const registry = await ports.registry.get(candidate.component, environment);
  const current = registry?.current ?? envConfig.baseline;
  if (compareVersions(candidate.version, current.version) <= 0) {
    return {
      outcome: 'SKIPPED',
      reasons: [
        { code: 'VERSION_NOT_NEWER', message: `${candidate.version} is not newer than ${current.version}` },
      ],
    };
  }

  let verification: VerificationResult;
  if (input.verdict) {
    verification = {
      verdict: input.verdict,
      findings: [{ code: 'ASSUMED', message: `verdict ${input.verdict} given for the dry run` }],
      candidate: { version: candidate.version, samples: 0, errors: 0, errorRate: 0, p50Ms: 0, p95Ms: 0 },
    };
  } else {
    const requests = component.probes.requests;
    const base = { component: candidate.component, environment, target };
    const [cand, curr] = await Promise.all([
      ports.prober.run(
        { ...base, version: candidate.version, artifact: candidate.artifact },
        requests,
        component.probes.samples,
      ),
      ports.prober.run(
        { ...base, version: current.version, artifact: current.artifact },
        requests,
        component.probes.samples,
      ),
    ]);
    verification = judgeVerification({
      candidateVersion: candidate.version,
      currentVersion: current.version,
      candidate: cand,
      current: curr,
      expectFields: Object.fromEntries(requests.map((r) => [r.name, r.expectFields])),
      thresholds: stored.policy.verification,
    });
  }
  const names = environmentAlarms(candidate.component, component, environment);
  const states = names.length ? await ports.alarms.describe(names) : [];
  const decision = evaluatePolicy(
    {
      component: candidate.component,
      environment,
      version: candidate.version,
      currentVersion: current.version,
      bump: classifyBump(current.version, candidate.version),
      labels: candidate.labels,
      platform: target.type,
      verification,
      now: ports.clock.now().toISOString(),
      ...(registry?.lastUpgradeAt ? { lastUpgradeAt: registry.lastUpgradeAt } : {}),
      alarmsInAlarm: states.filter((s) => s.state === 'ALARM').map((s) => s.name),
      deferrals: 0,
      approved: !!input.approved,
    },
    stored.policy,
  );
  return {
    outcome: 'DECIDED',
    component: candidate.component,
    environment,
    version: candidate.version,
    currentVersion: current.version,
    policyVersion: stored.version,
    verification,
    decision,
  };
}
