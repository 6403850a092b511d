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
 */
export function mannWhitney(a: ArrayLike<number>, b: ArrayLike<number>, scaleA = 1): MannWhitneyResult {
  return mannWhitneySorted(Float64Array.from(a).sort(), Float64Array.from(b).sort(), scaleA);
}

/**
 * Mann-Whitney on samples already sorted ascending: one merge of the two, so the cost is the two
 * native numeric sorts (no comparator), about 1 ms for 10^4 values a side.
 */
export function mannWhitneySorted(sa: Float64Array, sb: Float64Array, scaleA = 1): MannWhitneyResult {
  const n1 = sa.length;
  const n2 = sb.length;
  if (n1 === 0 || n2 === 0) {
    return { u: 0, n1, n2, z: 0, pGreater: 1, pTwoSided: 1, probabilityOfSuperiority: 0.5, rankBiserial: 0 };
  }
  const n = n1 + n2;
  let i = 0;
  let j = 0;
  let position = 0;
  let rankSumA = 0;
  let tieTerm = 0;
  while (i < n1 || j < n2) {
    const va = i < n1 ? (sa[i] as number) / scaleA : Number.POSITIVE_INFINITY;
    const vb = j < n2 ? (sb[j] as number) : Number.POSITIVE_INFINITY;
    const v = Math.min(va, vb);
    let ca = 0;
    while (i < n1 && (sa[i] as number) / scaleA === v) {
      i++;
      ca++;
    }
    let cb = 0;
    while (j < n2 && sb[j] === v) {
      j++;
      cb++;
    }
    const t = ca + cb;
    // The tied values share the mean of the ranks position+1 .. position+t.
    rankSumA += ca * (position + (t + 1) / 2);
    tieTerm += t * t * t - t;
    position += t;
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

/** p50, p95 and p99 (nearest rank) of values sorted ascending, with the count. */
export function latencySummaryOfSorted(sorted: Float64Array): {
  n: number;
  p50: number;
  p95: number;
  p99: number;
} {
  const pick = (p: number) => (sorted.length ? round1(percentileOfSorted(sorted, p)) : 0);
  return { n: sorted.length, p50: pick(50), p95: pick(95), p99: pick(99) };
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
