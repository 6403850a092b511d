import { targetFor } from '../../shared/domain/catalog';
import { NotFound, UnsupportedArtifact } from '../../shared/domain/errors';
import {
  judgeVerification,
  type ProbeSample,
  type VerificationResult,
} from '../../shared/domain/verification';
import type { UpgradeRequest } from '../../shared/domain/workflow';
import type { CatalogStore, Clock, PolicyStore, Prober, WorkflowStore } from '../../shared/ports';

export interface VerifyPorts {
  catalog: CatalogStore;
  policies: PolicyStore;
  prober: Prober;
  workflows: WorkflowStore;
  clock: Clock;
}

/**
 * Verify: runs the component's probe suite against the candidate and the current version and
 * compares them (error rates, latency, response shapes). The raw measurements are kept as
 * evidence on the workflow record.
 * 1. load the component and the environment's verification thresholds;
 * 2. probe both versions;
 * 3. judge; 4. record the evidence.
 */
export async function verify(
  input: { workflowId: string; request: UpgradeRequest },
  ports: VerifyPorts,
): Promise<VerificationResult> {
  const { request } = input;
  const component = await ports.catalog.getComponent(request.component);
  if (!component) throw new NotFound(`component ${request.component} is no longer in the catalog`);
  const stored = await ports.policies.get(request.environment);
  const policy = stored?.policy;
  if (!policy) throw new NotFound(`no policy for environment ${request.environment}`);
  const target = targetFor(component, request.environment);
  const requests = component.probes.requests;
  const samples = component.probes.samples;

  let result: VerificationResult;
  let noProber: string | undefined;
  if (requests.length === 0) {
    result = {
      verdict: 'INCONCLUSIVE',
      findings: [{ code: 'NO_PROBES', message: `${request.component} declares no probes` }],
      candidate: { version: request.version, samples: 0, errors: 0, errorRate: 0, p50Ms: 0, p95Ms: 0 },
    };
  } else {
    const base = { component: request.component, environment: request.environment, target };
    let candidate: ProbeSample[];
    let current: ProbeSample[];
    try {
      candidate = await ports.prober.run(
        { ...base, version: request.version, artifact: request.artifact },
        requests,
        samples,
      );
      current =
        request.currentVersion && request.currentArtifact
          ? await ports.prober.run(
              { ...base, version: request.currentVersion, artifact: request.currentArtifact },
              requests,
              samples,
            )
          : [];
    } catch (error) {
      // No prober for this kind of target here: say so, and let policy send it to a human.
      if (!(error instanceof UnsupportedArtifact)) throw error;
      candidate = [];
      current = [];
      noProber = error.message;
    }
    result = noProber
      ? {
          verdict: 'INCONCLUSIVE',
          findings: [
            { code: 'NO_PROBER', message: `${request.component} cannot be probed here: ${noProber}` },
          ],
          candidate: { version: request.version, samples: 0, errors: 0, errorRate: 0, p50Ms: 0, p95Ms: 0 },
        }
      : judgeVerification({
          candidateVersion: request.version,
          ...(request.currentVersion ? { currentVersion: request.currentVersion } : {}),
          candidate,
          current,
          expectFields: Object.fromEntries(requests.map((r) => [r.name, r.expectFields])),
          thresholds: policy.verification,
        });
  }
  await ports.workflows.append(
    input.workflowId,
    {
      stage: 'Verify',
      at: ports.clock.now().toISOString(),
      status: result.verdict,
      detail: result.findings.map((f) => f.message).join('; '),
    },
    { verification: result },
  );
  return result;
}
