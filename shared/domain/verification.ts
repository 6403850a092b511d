import type { Policy } from './policy';
import { mannWhitneyGreaterPValue, percentile, proportionIncreasePValue } from './statistics';

export interface ProbeSample {
  probe: string;
  ok: boolean;
  latencyMs: number;
  /** Top-level fields of a successful response, for the shape check. */
  fields?: string[];
  error?: string;
}

export interface VersionMeasurement {
  version: string;
  samples: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
}

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

export interface Finding {
  code: string;
  message: string;
}

export interface VerificationResult {
  verdict: Verdict;
  findings: Finding[];
  candidate: VersionMeasurement;
  current?: VersionMeasurement;
}

function measure(version: string, samples: readonly ProbeSample[]): VersionMeasurement {
  const errors = samples.filter((s) => !s.ok).length;
  const latencies = samples.map((s) => s.latencyMs);
  return {
    version,
    samples: samples.length,
    errors,
    errorRate: samples.length ? errors / samples.length : 0,
    p50Ms: samples.length ? percentile(latencies, 50) : 0,
    p95Ms: samples.length ? percentile(latencies, 95) : 0,
  };
}

const SIGNIFICANCE = 0.05;

/**
 * Compares the candidate's probe results with the current version's.
 * 1. Too few samples on either side: INCONCLUSIVE, never a silent pass.
 * 2. Error rate above the policy's ceiling, or a significant increase beyond the allowed margin: FAIL.
 * 3. p95 latency beyond the allowed ratio with a significant shift (Mann-Whitney): FAIL.
 * 4. A field that the current version's responses carry, or that a probe expects, missing: FAIL.
 */
export function judgeVerification(input: {
  candidateVersion: string;
  currentVersion?: string;
  candidate: readonly ProbeSample[];
  current: readonly ProbeSample[];
  expectFields: Record<string, readonly string[]>;
  thresholds: Policy['verification'];
}): VerificationResult {
  const { thresholds } = input;
  const candidate = measure(input.candidateVersion, input.candidate);
  const current = input.currentVersion ? measure(input.currentVersion, input.current) : undefined;
  const findings: Finding[] = [];

  if (candidate.samples < thresholds.minSamples || (current && current.samples < thresholds.minSamples)) {
    findings.push({
      code: 'TOO_FEW_SAMPLES',
      message: `need ${thresholds.minSamples} samples per version; got ${candidate.samples} for the candidate${
        current ? ` and ${current.samples} for the current version` : ''
      }`,
    });
    return { verdict: 'INCONCLUSIVE', findings, candidate, ...(current ? { current } : {}) };
  }

  if (candidate.errorRate > thresholds.maxErrorRate) {
    findings.push({
      code: 'ERROR_RATE_TOO_HIGH',
      message: `candidate ${input.candidateVersion} failed ${candidate.errors} of ${candidate.samples} probes (${pct(
        candidate.errorRate,
      )}); the ceiling is ${pct(thresholds.maxErrorRate)}`,
    });
  }
  if (current) {
    const increase = candidate.errorRate - current.errorRate;
    const p = proportionIncreasePValue(candidate.errors, candidate.samples, current.errors, current.samples);
    if (increase > thresholds.maxErrorRateIncrease && p < SIGNIFICANCE) {
      findings.push({
        code: 'ERROR_RATE_REGRESSION',
        message: `error rate rose from ${pct(current.errorRate)} to ${pct(candidate.errorRate)} (p=${p.toFixed(4)})`,
      });
    }
    const okLatency = (s: readonly ProbeSample[]) => s.filter((x) => x.ok).map((x) => x.latencyMs);
    const pLatency = mannWhitneyGreaterPValue(okLatency(input.candidate), okLatency(input.current));
    if (
      current.p95Ms > 0 &&
      candidate.p95Ms / current.p95Ms > thresholds.maxLatencyRatio &&
      pLatency < SIGNIFICANCE
    ) {
      findings.push({
        code: 'LATENCY_REGRESSION',
        message: `p95 latency rose from ${current.p95Ms} ms to ${candidate.p95Ms} ms (p=${pLatency.toFixed(4)})`,
      });
    }
  }

  const currentFields = fieldsByProbe(input.current);
  const candidateFields = fieldsByProbe(input.candidate);
  for (const [probe, fields] of candidateFields) {
    const required = new Set([...(input.expectFields[probe] ?? []), ...(currentFields.get(probe) ?? [])]);
    const missing = [...required].filter((f) => !fields.has(f));
    if (missing.length) {
      findings.push({
        code: 'INCOMPATIBLE_RESPONSE',
        message: `probe "${probe}": the candidate's responses lack ${missing.map((f) => `"${f}"`).join(', ')}`,
      });
    }
  }

  const verdict: Verdict = findings.length ? 'FAIL' : 'PASS';
  if (verdict === 'PASS') {
    findings.push({
      code: 'VERIFIED',
      message: `candidate ${input.candidateVersion}: ${candidate.errors}/${candidate.samples} probe errors, p95 ${candidate.p95Ms} ms${
        current
          ? ` (current ${current.version}: ${current.errors}/${current.samples}, p95 ${current.p95Ms} ms)`
          : ''
      }`,
    });
  }
  return { verdict, findings, candidate, ...(current ? { current } : {}) };
}

/** Fields seen in every successful response of each probe. */
function fieldsByProbe(samples: readonly ProbeSample[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of samples) {
    if (!s.ok || !s.fields) continue;
    const seen = out.get(s.probe);
    if (!seen) out.set(s.probe, new Set(s.fields));
    else for (const f of [...seen]) if (!s.fields.includes(f)) seen.delete(f);
  }
  return out;
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}
