import { describe, expect, it } from 'vitest';
import { type Probe, probeSchema } from '../../shared/domain/catalog';
import { binomialMinTrials, binomialUpperTail } from '../../shared/domain/statistics';
import { ceilingTest, judgeProbes, type ProbeSample } from '../../shared/domain/verification';
import { mulberry32 } from '../support/seeded';

const thresholds = { maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxLatencyRatio: 1.5, minSamples: 10 };

/** n answers of one probe, the first `errors` of them failed. */
function answers(probe: string, n: number, errors: number): ProbeSample[] {
  return Array.from({ length: n }, (_, i) => ({
    probe,
    ok: i >= errors,
    latencyMs: 40 + (i % 7),
    fields: ['total'],
    types: { total: 'number' as const },
    seq: i,
    ...(i < errors ? { status: 500, error: 'HTTP 500' } : {}),
  }));
}
/** n answers, each failed with probability `rate`. */
function seededAnswers(probe: string, n: number, rate: number, uniform: () => number): ProbeSample[] {
  return Array.from({ length: n }, (_, i) => ({
    probe,
    ok: uniform() >= rate,
    latencyMs: 40 + (i % 7),
    fields: ['total'],
    types: { total: 'number' as const },
    seq: i,
  }));
}
const probeNamed = (name: string, kind: Probe['kind'] = 'functional'): Probe =>
  probeSchema.parse({ name, kind });

/** The errors row of a one-probe judgement, without a baseline (the ceiling test alone). */
function errorsRow(n: number, errors: number, over: Partial<typeof thresholds> = {}) {
  const result = judgeProbes({
    candidateVersion: '2.0.0',
    candidate: answers('p', n, errors),
    current: [],
    probes: [probeNamed('p')],
    thresholds: { ...thresholds, ...over },
  });
  const row = result.checks?.find((r) => r.check === 'errors' || r.check === 'samples');
  if (!row) throw new Error('no errors row');
  return { verdict: result.verdict, row, findings: result.findings };
}

describe('the exact one-sided binomial test', () => {
  it("matches SciPy's binomtest(k, n, p, alternative='greater')", () => {
    // Prepare: p-values from scipy.stats.binomtest 1.17.1.
    const table: [number, number, number, number][] = [
      [4, 40, 0.05, 0.1381497755010656],
      [1, 15, 0.05, 0.5367087698402466],
      [4, 15, 0.05, 0.005467258656916667],
      [20, 200, 0.05, 0.0026645795498294435],
      [682, 1000, 0.7, 0.8986453558147836],
      [2, 15, 0.001, 0.00010409408301298643],
      [30, 1000, 0.01, 2.059988850971949e-7],
    ];
    // Act / Assess: relative error below 1e-10.
    for (const [k, n, p, want] of table) {
      expect(Math.abs(binomialUpperTail(k, n, p) - want) / want).toBeLessThan(1e-10);
    }
  });

  it('handles the edges and names bad arguments', () => {
    expect(binomialUpperTail(0, 15, 0.05)).toBe(1);
    expect(binomialUpperTail(16, 15, 0.05)).toBe(0);
    expect(binomialUpperTail(1, 15, 0)).toBe(0);
    expect(binomialUpperTail(15, 15, 1)).toBe(1);
    expect(binomialUpperTail(15, 15, 0.5) / 0.5 ** 15).toBeCloseTo(1, 12);
    expect(() => binomialUpperTail(1.5, 15, 0.05)).toThrow(/k and n must be integers/);
    expect(() => binomialUpperTail(1, 15, 1.2)).toThrow(/p must be in \[0, 1\]; got 1.2/);
  });

  it('knows the fewest trials with which it can reject at all', () => {
    // 0.05^2 = 0.0025 < 0.0125 ≤ 0.05^1; 0.5^7 = 0.0078 < 0.0125 ≤ 0.5^6 = 0.0156.
    expect(binomialMinTrials(0.05, 0.0125)).toBe(2);
    expect(binomialMinTrials(0.5, 0.0125)).toBe(7);
    expect(binomialMinTrials(0, 0.0125)).toBe(1);
    expect(binomialMinTrials(1, 0.0125)).toBe(Number.POSITIVE_INFINITY);
    for (const [p, alpha] of [
      [0.05, 0.025],
      [0.2, 0.001],
      [0.5, 0.00625],
    ] as const) {
      const n = binomialMinTrials(p, alpha);
      expect(p ** n).toBeLessThan(alpha);
      expect(p ** (n - 1)).toBeGreaterThanOrEqual(alpha);
    }
    expect(() => binomialMinTrials(0.05, 0)).toThrow(/alpha must be in \(0, 1\)/);
  });
});

describe('the error-rate ceiling as a test (one probe, no baseline: α = 0.05 / 2 = 0.025)', () => {
  it.each([
    // [n, errors, status]: the ceiling is 5 %; at α = 0.025 the test rejects from 4 of 15 and 6 of 40.
    [15, 0, 'PASS'],
    [15, 1, 'PASS'], // 6.7 %: one stray failure, p = 0.54
    [15, 2, 'PASS'], // 13.3 %, p = 0.17
    [15, 3, 'PASS'], // 20 %, p = 0.036
    [15, 4, 'FAIL'], // 26.7 %, p = 0.0055
    [15, 8, 'FAIL'], // 53 %
    [40, 4, 'PASS'], // 10 %, p = 0.14: not evidence of a rate above 5 % at this size
    [40, 6, 'FAIL'], // 15 %, p = 0.014
    [40, 20, 'FAIL'], // 50 %
    [200, 20, 'FAIL'], // 10 %, p = 0.0027
  ] as const)('%i answers, %i errors: %s', (n, errors, status) => {
    // Act
    const { row, verdict } = errorsRow(n, errors);
    // Assess
    expect(row.status).toBe(status);
    expect(verdict).toBe(status);
    expect(row.pCeiling).toBe(Number(binomialUpperTail(errors, n, 0.05).toPrecision(3)));
    expect(row.alpha).toBe(0.025);
    if (status === 'FAIL') {
      expect(row.code).toBe('ERROR_RATE_TOO_HIGH');
      expect(row.reasons[0]).toMatch(
        new RegExp(`failed ${errors} of ${n} requests .*significantly above the 5.0% ceiling \\(binomial p=`),
      );
    }
  });

  it('an observed rate above the ceiling that is not significant says so in the evidence', () => {
    const { row } = errorsRow(15, 1);
    expect(row.reasons[0]).toBe(
      '1/15 errors (6.7%, above the ceiling but not significantly: binomial p=0.5367 against the 5.0% ceiling, α=0.0250)',
    );
  });

  it('too few answers for the test to ever reject: INCONCLUSIVE naming the samples needed, not a PASS', () => {
    // Prepare: a 50 % ceiling at α = 0.025 needs 6 answers (0.5^6 = 0.016 < 0.025 ≤ 0.5^5).
    // Act
    const { row, verdict, findings } = errorsRow(5, 0, { maxErrorRate: 0.5, minSamples: 5 });
    // Assess
    expect(row.status).toBe('INCONCLUSIVE');
    expect(row.code).toBe('CEILING_UNTESTABLE');
    expect(verdict).toBe('INCONCLUSIVE');
    expect(row.reasons[0]).toMatch(/the probe needs at least 6 samples/);
    expect(findings[0]?.code).toBe('CEILING_UNTESTABLE');
    // With 6 answers the test can reject, and all six failing does.
    expect(errorsRow(6, 0, { maxErrorRate: 0.5, minSamples: 5 }).row.status).toBe('PASS');
    expect(errorsRow(6, 6, { maxErrorRate: 0.5, minSamples: 5 }).row.status).toBe('FAIL');
  });

  it('a ceiling of 100 % allows everything; a ceiling of 0 rejects one failure', () => {
    expect(ceilingTest(15, 15, 1, 0.025)).toMatchObject({ above: false, untestable: false });
    expect(ceilingTest(1, 15, 0, 0.025)).toMatchObject({ above: true, p: 0 });
    expect(ceilingTest(0, 15, 0, 0.025)).toMatchObject({ above: false, p: 1 });
  });
});

describe("seeded simulations in the demo checkout's shape (two probes of 15 answers a side)", () => {
  const probes = [probeNamed('small-cart'), probeNamed('empty-cart', 'performance')];
  function trial(seed: number, candidateRate: number) {
    const u = mulberry32(seed);
    const candidate = probes.flatMap((p) => seededAnswers(p.name, 15, candidateRate, u));
    const current = probes.flatMap((p) => seededAnswers(p.name, 15, 0.001, u));
    const result = judgeProbes({
      candidateVersion: '1.1.0',
      currentVersion: '1.0.0',
      candidate,
      current,
      probes,
      thresholds,
    });
    const pointEstimateRejects = probes.some(
      (p) => candidate.filter((s) => s.probe === p.name && !s.ok).length / 15 > thresholds.maxErrorRate,
    );
    return { verdict: result.verdict, pointEstimateRejects };
  }

  it('a healthy 0.1 % version is never rejected in 1,000 upgrades (the point estimate rejected about 3 %)', () => {
    // Act
    let fail = 0;
    let pointEstimate = 0;
    for (let t = 0; t < 1_000; t++) {
      const r = trial(40_000 + t, 0.001);
      if (r.verdict === 'FAIL') fail++;
      if (r.pointEstimateRejects) pointEstimate++;
    }
    // Assess: P(reject) per upgrade is about 2 × 4.5e-10 by the test, 1 − 0.999^30 ≈ 3 % by the
    // point estimate (measured with these seeds: 0 and 38).
    expect(fail).toBe(0);
    expect(pointEstimate).toBeGreaterThan(10);
  });

  it('a version failing half its requests is rejected in every one of 200 upgrades', () => {
    let fail = 0;
    for (let t = 0; t < 200; t++) if (trial(50_000 + t, 0.5).verdict === 'FAIL') fail++;
    expect(fail).toBe(200);
  });

  it('a version failing 30 % is rejected in most upgrades (power 0.70 per probe, 0.91 for two)', () => {
    let fail = 0;
    for (let t = 0; t < 200; t++) if (trial(60_000 + t, 0.3).verdict === 'FAIL') fail++;
    // Assess: measured 190 of 200.
    expect(fail).toBeGreaterThanOrEqual(170);
  });
});
