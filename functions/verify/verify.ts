import { type Component, type Target, targetFor } from '../../shared/domain/catalog';
import { NotFound, UnsupportedArtifact } from '../../shared/domain/errors';
import type { Artifact } from '../../shared/domain/events/artifact';
import { probeTransport } from '../../shared/domain/probes';
import {
  judgeProbes,
  type ProbeSample,
  type VerificationResult,
  type VerificationThresholds,
  type VersionMeasurement,
} from '../../shared/domain/verification';
import type { Resolved, UpgradeRequest } from '../../shared/domain/workflow';
import type {
  CatalogStore,
  Clock,
  EvidenceStore,
  PairedProber,
  PolicyStore,
  ProbeRun,
  Prober,
  WorkflowStore,
} from '../../shared/ports';

export interface VerifyPorts {
  catalog: CatalogStore;
  policies: PolicyStore;
  /** The Lambda Invoke prober. */
  prober: Prober | (Prober & PairedProber);
  /** The HTTP prober (ECS, EC2, Lambda function URLs); without it such targets are INCONCLUSIVE. */
  httpProber?: PairedProber;
  /** Where raw samples go; without it only the table is kept. */
  evidence?: EvidenceStore;
  /** Unused since decision 0018 (Decide records the verification); kept for the wiring. */
  workflows?: WorkflowStore;
  clock: Clock;
}

/** What is verified: a candidate of a component in an environment, against the version serving. */
export interface VerificationSubject {
  workflowId: string;
  component: string;
  environment: string;
  version: string;
  artifact: Artifact;
  currentVersion?: string;
  currentArtifact?: Artifact;
  /** What Intake resolved (target, probes, thresholds); without it, the catalog and policy are read. */
  resolved?: Resolved;
}

/**
 * Verify as a step: verifies the candidate with what Intake resolved, and hands the result on.
 * 1. verify (verifyCandidate), stamped with its time and policy version;
 * 2. nothing is written here: Decide records the verdict and the table with its own line, in one
 *    write (decision 0018), right after.
 */
export async function verify(
  input: { workflowId: string; request: UpgradeRequest },
  ports: VerifyPorts,
): Promise<VerificationResult & { at: string; policyVersion?: number }> {
  const { request } = input;
  const result = await verifyCandidate(
    {
      workflowId: input.workflowId,
      component: request.component,
      environment: request.environment,
      version: request.version,
      artifact: request.artifact,
      ...(request.currentVersion ? { currentVersion: request.currentVersion } : {}),
      ...(request.currentArtifact ? { currentArtifact: request.currentArtifact } : {}),
      ...(request.resolved ? { resolved: request.resolved } : {}),
    },
    ports,
  );
  return {
    ...result,
    at: ports.clock.now().toISOString(),
    ...(request.resolved?.policyVersion !== undefined
      ? { policyVersion: request.resolved.policyVersion }
      : {}),
  };
}

/** The history line of a verification (Decide writes it). */
export function verifiedLine(result: Pick<VerificationResult, 'verdict' | 'findings'>, at: string) {
  return {
    stage: 'Verify',
    at,
    status: result.verdict,
    detail: result.findings.map((f) => f.message).join('; '),
  };
}

/**
 * Runs the component's probe suite against the candidate and the current version and judges
 * them; `upshift verify` calls this alone, the Verify step through `verify`.
 * 1. load the component and the environment's verification policy;
 * 2. pick the prober the target needs (Invoke, HTTP); none: INCONCLUSIVE (NO_PROBER);
 * 3. probe both versions, interleaved;
 * 4. judge check by check; 5. keep the raw samples in the evidence store, their reference in the result.
 */
export async function verifyCandidate(
  subject: VerificationSubject,
  ports: Omit<VerifyPorts, 'workflows'>,
): Promise<VerificationResult> {
  const { target, probeSuite, thresholds } = await verificationInputs(subject, ports);
  const probes = probeSuite.requests;
  if (probes.length === 0) {
    return inconclusive(subject, 'NO_PROBES', `${subject.component} declares no probes`);
  }
  let samples: { candidate: ProbeSample[]; baseline: ProbeSample[] };
  try {
    samples = await probe(subject, target, probeSuite, ports);
  } catch (error) {
    // No prober for this kind of target here: say so, and let policy send it to a human.
    if (!(error instanceof UnsupportedArtifact)) throw error;
    return inconclusive(subject, 'NO_PROBER', `${subject.component} cannot be probed here: ${error.message}`);
  }
  const result = judgeProbes({
    candidateVersion: subject.version,
    ...(subject.currentVersion && subject.currentArtifact ? { currentVersion: subject.currentVersion } : {}),
    candidate: samples.candidate,
    current: samples.baseline,
    probes,
    thresholds,
  });
  if (ports.evidence) {
    try {
      const ref = await ports.evidence.put({
        workflowId: subject.workflowId,
        component: subject.component,
        environment: subject.environment,
        candidateVersion: subject.version,
        ...(subject.currentVersion ? { currentVersion: subject.currentVersion } : {}),
        at: ports.clock.now().toISOString(),
        candidate: samples.candidate,
        baseline: samples.baseline,
      });
      result.evidence = { ref, samples: samples.candidate.length + samples.baseline.length };
    } catch (error) {
      // The verdict stands on the table; losing the raw samples is worth a note, not a failure.
      result.findings.push({
        code: 'EVIDENCE_NOT_STORED',
        message: `the raw samples could not be stored: ${(error as Error).message}`,
      });
    }
  }
  return result;
}

/**
 * The target, probes and thresholds: carried in the request by Intake, or (an execution started
 * before decision 0018, probes too large to carry, `upshift verify`) read from the catalog and
 * the environment's policy.
 */
async function verificationInputs(
  subject: VerificationSubject,
  ports: Pick<VerifyPorts, 'catalog' | 'policies'>,
): Promise<{ target: Target; probeSuite: Component['probes']; thresholds: VerificationThresholds }> {
  const carried = subject.resolved;
  if (carried?.probes && carried.verification) {
    return { target: carried.target, probeSuite: carried.probes, thresholds: carried.verification };
  }
  const component = await ports.catalog.getComponent(subject.component);
  if (!component) throw new NotFound(`component ${subject.component} is no longer in the catalog`);
  const policy = carried?.verification ? undefined : (await ports.policies.get(subject.environment))?.policy;
  const thresholds = carried?.verification ?? policy?.verification;
  if (!thresholds) throw new NotFound(`no policy for environment ${subject.environment}`);
  return {
    target: carried?.target ?? targetFor(component, subject.environment),
    probeSuite: component.probes,
    thresholds,
  };
}

async function probe(
  subject: VerificationSubject,
  target: Target,
  probeSuite: Component['probes'],
  ports: Omit<VerifyPorts, 'workflows'>,
): Promise<{ candidate: ProbeSample[]; baseline: ProbeSample[] }> {
  const component = { probes: probeSuite };
  const base = { component: subject.component, environment: subject.environment, target };
  const run: ProbeRun = {
    candidate: { ...base, version: subject.version, artifact: subject.artifact },
    ...(subject.currentVersion && subject.currentArtifact
      ? { baseline: { ...base, version: subject.currentVersion, artifact: subject.currentArtifact } }
      : {}),
    probes: component.probes.requests,
    samples: component.probes.samples,
    concurrency: component.probes.concurrency,
    timeoutMs: component.probes.timeoutMs,
    ...(component.probes.http ? { endpoints: component.probes.http } : {}),
    workflowId: subject.workflowId,
  };
  if (probeTransport(target, component.probes) === 'http') {
    if (!ports.httpProber) throw new UnsupportedArtifact('no HTTP prober is wired');
    return ports.httpProber.compare(run);
  }
  const prober = ports.prober;
  if ('compare' in prober && typeof prober.compare === 'function') return prober.compare(run);
  // A prober without interleaving: one version after the other.
  const requests = run.probes.filter((p) => p.kind !== 'load');
  const candidate = await prober.run(run.candidate, requests, run.samples);
  const baseline = run.baseline ? await prober.run(run.baseline, requests, run.samples) : [];
  return { candidate, baseline };
}

function inconclusive(subject: VerificationSubject, code: string, message: string): VerificationResult {
  const empty: VersionMeasurement = {
    version: subject.version,
    samples: 0,
    errors: 0,
    errorRate: 0,
    p50Ms: 0,
    p95Ms: 0,
  };
  return { verdict: 'INCONCLUSIVE', findings: [{ code, message }], candidate: empty, checks: [] };
}
