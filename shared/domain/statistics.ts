/**
 * Statistics for verification. The normal distribution comes from @stdlib (Apache-2.0, one small
 * module); the Mann-Whitney U statistic, its tie correction and the two-proportion z statistic are
 * a few lines of arithmetic on top of it, checked against published values in
 * test/unit/verification-statistics.test.ts (docs/decisions/0015-verification-statistics.md).
 */
import stdlibNormalCdf from '@stdlib/stats-base-dists-normal-cdf';

/** Nearest-rank percentile (CloudWatch's and the twin's convention); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return percentileOfSorted(sorted, p);
}

/** Nearest-rank percentile of values sorted ascending. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return stdlibNormalCdf(z, 0, 1);
}

/** P(Z ≥ z) for a standard normal Z, without the cancellation of 1 - Φ(z) for large z. */
export function normalUpperTail(z: number): number {
  return stdlibNormalCdf(-z, 0, 1);
}

/**
 * One-sided two-proportion z-test (pooled): the p-value for "the candidate's failure rate is
 * higher than the baseline's". With no failures on either side, or all failures, there is no
 * evidence of a difference (p = 1).
 */
export function proportionIncreasePValue(failA: number, nA: number, failB: number, nB: number): number {
  const z = proportionIncreaseZ(failA, nA, failB, nB);
  return z === undefined ? 1 : normalUpperTail(z);
}

/** The pooled two-proportion z statistic, or undefined when it is not defined. */
export function proportionIncreaseZ(
  failA: number,
  nA: number,
  failB: number,
  nB: number,
): number | undefined {
  if (nA === 0 || nB === 0) return undefined;
  const pooled = (failA + failB) / (nA + nB);
  if (pooled === 0 || pooled === 1) return undefined;
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  return (failA / nA - failB / nB) / se;
}

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (a, b) with a > b, ties counting one half. */
  u: number;
  n1: number;
  n2: number;
  /** z with the tie-corrected variance and a continuity correction of 1/2. */
  z: number;
  /** One-sided p-value for "the first sample's values tend to be larger". */
  pGreater: number;
  /** Two-sided p-value. */
  pTwoSided: number;
  /**
   * The common-language effect size (Vargha-Delaney A): P(a > b) + P(a = b)/2, in [0, 1]; 0.5 is
   * no effect.
   */
  probabilityOfSuperiority: number;
  /** The rank-biserial correlation 2A - 1, in [-1, 1]. */
  rankBiserial: number;
}

/**
 * The Mann-Whitney U test by the normal approximation with the tie correction of the variance and
 * a continuity correction, as SciPy's `mannwhitneyu(method='asymptotic')` computes it. `scaleA`
 * divides the first sample first: with the policy's allowed latency ratio r, the test asks whether
 * the candidate is slower than r times the baseline (a non-inferiority margin), not merely slower.
 *
 * O((n1 + n2) log(n1 + n2)): one sort of both samples together in a Float64Array.
 */
export function mannWhitney(a: ArrayLike<number>, b: ArrayLike<number>, scaleA = 1): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) {
    return { u: 0, n1, n2, z: 0, pGreater: 1, pTwoSided: 1, probabilityOfSuperiority: 0.5, rankBiserial: 0 };
  }
  // Sort values and remember the group in the lowest bit of an index array: a pair sort on one
  // Float64Array of values and one Uint32Array of indexes is the fastest in V8 at 10^4 per side.
  const n = n1 + n2;
  const values = new Float64Array(n);
  for (let i = 0; i < n1; i++) values[i] = (a[i] as number) / scaleA;
  for (let i = 0; i < n2; i++) values[n1 + i] = b[i] as number;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => (values[x] as number) - (values[y] as number));
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    const v = values[order[i] as number] as number;
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === v) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if ((order[k] as number) < n1) rankSumA += rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const probabilityOfSuperiority = u / (n1 * n2);
  const effect = { probabilityOfSuperiority, rankBiserial: 2 * probabilityOfSuperiority - 1 };
  if (!(variance > 0)) return { u, n1, n2, z: 0, pGreater: 1, pTwoSided: 1, ...effect };
  const sd = Math.sqrt(variance);
  const z = (u - mean - 0.5) / sd;
  const zTwo = (Math.abs(u - mean) - 0.5) / sd;
  return {
    u,
    n1,
    n2,
    z,
    pGreater: normalUpperTail(z),
    pTwoSided: Math.min(1, 2 * normalUpperTail(zTwo)),
    ...effect,
  };
}

/** p50, p95 and p99 (nearest rank) of values, with the count. */
export function latencySummary(values: ArrayLike<number>): {
  n: number;
  p50: number;
  p95: number;
  p99: number;
} {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const pick = (p: number) => (sorted.length ? round1(percentileOfSorted(sorted, p)) : 0);
  return { n: sorted.length, p50: pick(50), p95: pick(95), p99: pick(99) };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
