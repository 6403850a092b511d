import { describe, expect, it } from 'vitest';
import type { Probe } from '../../shared/domain/catalog';
import {
  latencySummary,
  mannWhitney,
  normalCdf,
  normalUpperTail,
  percentile,
  proportionIncreasePValue,
  proportionIncreaseZ,
} from '../../shared/domain/statistics';
import { judgeProbes, type ProbeSample } from '../../shared/domain/verification';
import { latencies, mulberry32, normals } from '../support/seeded';

describe('statistics against reference values', () => {
  it('the standard normal CDF matches the published table', () => {
    // Prepare: values of Φ from standard normal tables (and Abramowitz & Stegun, table 26.1).
    const table: [number, number][] = [
      [0, 0.5],
      [1, 0.841344746068543],
      [-1, 0.158655253931457],
      [1.644853626951472, 0.95],
      [1.959963984540054, 0.975],
      [2.326347874040841, 0.99],
      [3, 0.99865010196837],
    ];
    // Act / Assess
    for (const [z, phi] of table) expect(normalCdf(z)).toBeCloseTo(phi, 12);
    expect(normalUpperTail(8)).toBeCloseTo(6.22096057427178e-16, 28);
  });

  it('Mann-Whitney U, z and p match SciPy mannwhitneyu (asymptotic, continuity corrected)', () => {
    // Prepare: the example of SciPy's documentation (males against females).
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    // Act
    const r = mannWhitney(males, females);
    // Assess: statistic 17, asymptotic two-sided p 0.11134688653314041.
    expect(r.u).toBe(17);
    expect(r.pTwoSided).toBeCloseTo(0.11134688653314041, 12);
    expect(r.pGreater).toBeCloseTo(0.11134688653314041 / 2, 12);
    expect(r.probabilityOfSuperiority).toBe(17 / 20);
    expect(r.rankBiserial).toBeCloseTo(0.7, 12);
  });

  it('the tie-corrected variance equals the exact permutation variance of U', () => {
    // Prepare: heavy ties; the reference is every split of the pooled values, enumerated.
    const a = [1, 2, 2, 3, 3, 3];
    const b = [2, 3, 4, 4, 1];
    const pooled = [...a, ...b];
    const us: number[] = [];
    const pick = (start: number, chosen: number[]) => {
      if (chosen.length === a.length) {
        const x = chosen.map((i) => pooled[i] as number);
        const y = pooled.filter((_, i) => !chosen.includes(i));
        let u = 0;
        for (const xi of x) for (const yj of y) u += xi > yj ? 1 : xi === yj ? 0.5 : 0;
        us.push(u);
        return;
      }
      for (let i = start; i < pooled.length; i++) pick(i + 1, [...chosen, i]);
    };
    pick(0, []);
    const mean = us.reduce((s, u) => s + u, 0) / us.length;
    const variance = us.reduce((s, u) => s + (u - mean) ** 2, 0) / us.length;
    // Act
    const r = mannWhitney(a, b);
    // Assess: z = (U - mean - 1/2) / sd with the exact moments.
    expect(us).toHaveLength(462);
    expect(r.z).toBeCloseTo((r.u - mean - 0.5) / Math.sqrt(variance), 12);
  });

  it('the two-proportion z-test matches R prop.test without correction', () => {
    // prop.test(c(60, 50), c(100, 100), correct = FALSE): X-squared = 2.0202, p = 0.1552 (two-sided).
    expect((proportionIncreaseZ(60, 100, 50, 100) ?? 0) ** 2).toBeCloseTo(2.0202, 4);
    expect(2 * proportionIncreasePValue(60, 100, 50, 100)).toBeCloseTo(0.1552, 4);
    expect(proportionIncreasePValue(0, 100, 0, 100)).toBe(1);
  });

  it('percentiles are nearest-rank, as CloudWatch reports them', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(latencySummary(values)).toEqual({ n: 100, p50: 50, p95: 95, p99: 99 });
  });
});

const probe: Probe = {
  name: 'p',
  kind: 'functional',
  severity: 'error',
  payload: {},
  expectFields: [],
  expectTypes: {},
};
const thresholds = (over: Record<string, number> = {}) => ({
  maxErrorRate: 0.05,
  maxErrorRateIncrease: 0.02,
  maxLatencyRatio: 1.5,
  minSamples: 10,
  ...over,
});
function samples(lat: number[], errorRate: number, uniform: () => number): ProbeSample[] {
  return lat.map((latencyMs, seq) => ({
    probe: 'p',
    ok: uniform() >= errorRate,
    latencyMs,
    fields: ['total'],
    types: { total: 'number' },
    seq,
  }));
}
function verdictOf(candidate: ProbeSample[], current: ProbeSample[], over: Record<string, number> = {}) {
  return judgeProbes({
    candidateVersion: '2.0.0',
    currentVersion: '1.0.0',
    candidate,
    current,
    probes: [probe],
    thresholds: thresholds(over),
  }).verdict;
}
/** How many of 200 seeded trials end with the verdict. */
function trials(
  seedBase: number,
  trial: (uniform: () => number, z: () => number) => string,
  verdict: string,
) {
  let count = 0;
  for (let t = 0; t < 200; t++) {
    const uniform = mulberry32(seedBase + t);
    if (trial(uniform, normals(uniform)) === verdict) count++;
  }
  return count;
}

describe('seeded simulations of the judge (200 trials each, deterministic seeds)', () => {
  it('identical distributions: a false FAIL in at most 5% of trials, even with no allowed regression', () => {
    // Prepare: log-normal latencies (median 50 ms, sigma 0.3), 0.5% errors, 100 samples a side.
    const same = (over: Record<string, number>) => (u: () => number, z: () => number) =>
      verdictOf(
        samples(latencies(100, 50, 0.3, z), 0.005, u),
        samples(latencies(100, 50, 0.3, z), 0.005, u),
        over,
      );
    // Act
    const strict = trials(1_000, same({ maxLatencyRatio: 1, maxErrorRateIncrease: 0 }), 'FAIL');
    const defaults = trials(2_000, same({}), 'FAIL');
    // Assess: 200 × 5% = 10 (measured: 9 and 0).
    expect(strict).toBeLessThanOrEqual(10);
    expect(defaults).toBeLessThanOrEqual(10);
  });

  it('a 25% latency regression with 100 samples a side is caught in at least 95% of trials', () => {
    // Prepare: a policy that allows no latency regression (maxLatencyRatio 1).
    const slower = (u: () => number, z: () => number) =>
      verdictOf(samples(latencies(100, 62.5, 0.3, z), 0, u), samples(latencies(100, 50, 0.3, z), 0, u), {
        maxLatencyRatio: 1,
      });
    // Act
    const caught = trials(5_000, slower, 'FAIL');
    // Assess: 190 of 200 (measured: 199).
    expect(caught).toBeGreaterThanOrEqual(190);
  });

  it('5% against 0.5% errors with 200 samples a side is caught', () => {
    // Prepare: the default policy (5% ceiling, +2% allowed increase).
    const failing = (u: () => number, z: () => number) =>
      verdictOf(samples(latencies(200, 50, 0.3, z), 0.05, u), samples(latencies(200, 50, 0.3, z), 0.005, u));
    // Act
    const caught = trials(9_000, failing, 'FAIL');
    // Assess: measured 179 of 200. The one-sided test at its Bonferroni share (α = 0.025) has
    // about 90% power at this size; 95% needs about 260 samples a side (docs/decisions/0015).
    expect(caught).toBeGreaterThanOrEqual(170);
  });

  it('fewer samples than the minimum is INCONCLUSIVE in every trial', () => {
    const few = (u: () => number, z: () => number) =>
      verdictOf(samples(latencies(9, 150, 0.3, z), 0.5, u), samples(latencies(200, 50, 0.3, z), 0, u));
    expect(trials(13_000, few, 'INCONCLUSIVE')).toBe(200);
  });
});
