import type { Probe, ProbeKind, Severity } from './catalog';
import type { Policy, SeverityAction } from './policy';
import { bodyText, firstDifference, type JsonType, jsonTypeOf, securityFindings } from './probes';
import { latencySummaryOfSorted, mannWhitneySorted, proportionIncreasePValue } from './statistics';

/** One answer to one probe request. */
export interface ProbeSample {
  probe: string;
  /** The version answered as a good answer does (the expected status; no function error). */
  ok: boolean;
  latencyMs: number;
  /** Top-level fields of a successful JSON object response, for the shape check. */
  fields?: string[];
  /** Their JSON types. */
  types?: Record<string, JsonType>;
  /** The parsed JSON body, or its text (cut at 4 KiB). */
  body?: unknown;
  /** HTTP status. */
  status?: number;
  /** HTTP response headers, lower-case names. */
  headers?: Record<string, string>;
  /** The URL requested (HTTP). */
  url?: string;
  error?: string;
  /**
   * The prober's own trouble, not the version's: throttled (Lambda 429, HTTP 429/503), a network
   * error or a timeout of the prober. Such an answer is evidence of nothing and is left out.
   */
  inconclusive?: 'THROTTLED' | 'NETWORK' | 'TIMEOUT';
  /** The request's index within its probe and phase (the same request to both versions). */
  seq?: number;
  /** `burst`: sent during a load probe's burst. */
  phase?: 'steady' | 'burst';
}

export interface VersionMeasurement {
  version: string;
  samples: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms?: number;
  /** Answers left out as the prober's own trouble (throttling, network). */
  inconclusive?: number;
}

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';
export type CheckStatus = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

export interface Finding {
  code: string;
  message: string;
}

/** One version's numbers in a check. */
export interface SideNumbers {
  n: number;
  errors: number;
  errorRate: number;
  p50: number;
  p95: number;
  p99: number;
  /** Answers left out (throttled, network, timeout). */
  inconclusive: number;
}

/** One row of the evidence table. */
export interface CheckResult {
  probe: string;
  kind: ProbeKind;
  check: 'samples' | 'errors' | 'shape' | 'same-as-baseline' | 'latency' | 'security';
  severity: Severity;
  status: CheckStatus;
  /** What the policy makes of this row when it is not a PASS. */
  action?: SeverityAction;
  /** A stable code for the reasons (ERROR_RATE_TOO_HIGH, LATENCY_REGRESSION, FIELD_TYPE_CHANGED...). */
  code?: string;
  candidate?: SideNumbers;
  baseline?: SideNumbers;
  /** The test's p-value, when the check is a test. */
  p?: number;
  /** Mann-Whitney's common-language effect size (P(candidate slower)), for latency. */
  effect?: number;
  reasons: string[];
}

export interface VerificationResult {
  verdict: Verdict;
  findings: Finding[];
  candidate: VersionMeasurement;
  current?: VersionMeasurement;
  /** The evidence table: at most MAX_CHECK_ROWS rows, the rows that are not a PASS first. */
  checks?: CheckResult[];
  /** Rows left out of `checks` to keep the record small, with how many of them failed. */
  omittedChecks?: { rows: number; failed: number };
  /** Where the raw samples are kept (S3 or the state folder) and how many. */
  evidence?: { ref: string; samples: number };
}

/** Policy thresholds as the judge reads them. */
export type VerificationThresholds = Policy['verification'];

/** Before any policy says otherwise: today's behaviour (a failed check REJECTs). */
export const DEFAULT_SEVERITY_ACTIONS: Readonly<Record<Severity, SeverityAction>> = {
  info: 'IGNORE',
  warning: 'NOTE',
  error: 'REJECT',
  critical: 'REJECT',
};

/** The verdict's false FAIL rate from noise, shared by its one-sided tests (Bonferroni). */
export const SIGNIFICANCE = 0.05;
/** Rows and reasons kept in the record: bounded at any probe count (docs/verification.md). */
export const MAX_CHECK_ROWS = 40;
const MAX_REASONS = 3;
const MAX_REASON_CHARS = 300;
const MAX_FINDINGS = 20;

export interface JudgeInput {
  candidateVersion: string;
  currentVersion?: string;
  candidate: readonly ProbeSample[];
  current: readonly ProbeSample[];
  probes: readonly Probe[];
  thresholds: VerificationThresholds;
}

/**
 * Judges the probes' answers, check by check, and maps failed checks to a verdict by the policy's
 * severities.
 * 1. Per probe, leave out the prober's own trouble (throttling, network); fewer valid answers
 *    than the minimum on either side: that probe's checks are INCONCLUSIVE.
 * 2. Run the checks of the probe's kind: functional (errors, shape and types, sameness with the
 *    baseline, latency), performance (errors, latency), load (errors and latency under the burst),
 *    security (headers, bodies, TLS).
 * 3. A FAIL row whose severity maps to REJECT fails the verification; one that maps to
 *    MANUAL_REVIEW, or an INCONCLUSIVE row of such a severity, makes it INCONCLUSIVE (a person
 *    decides); NOTE rows are reported; IGNORE rows only appear in the table.
 */
export function judgeProbes(input: JudgeInput): VerificationResult {
  const { thresholds, probes } = input;
  const hasBaseline = input.currentVersion !== undefined;
  const actions = { ...DEFAULT_SEVERITY_ACTIONS, ...definedOnly(thresholds.severities ?? {}) };
  const byProbe = (samples: readonly ProbeSample[]) => {
    const out = new Map<string, ProbeSample[]>();
    for (const s of samples) {
      const list = out.get(s.probe);
      if (list) list.push(s);
      else out.set(s.probe, [s]);
    }
    return out;
  };
  const cand = byProbe(input.candidate);
  const base = byProbe(input.current);
  // Bonferroni: the verdict's false FAIL rate from noise stays at SIGNIFICANCE, split evenly
  // over the statistical tests that can fail it (an error-rate and a latency test per probe).
  const tests = 2 * Math.max(1, probes.filter((p) => p.kind !== 'security').length);
  const alpha = SIGNIFICANCE / tests;
  const rows: CheckResult[] = [];
  for (const probe of probes) {
    const phase = probe.kind === 'load' ? 'burst' : 'steady';
    const inPhase = (s: ProbeSample) => (s.phase ?? 'steady') === phase;
    const c = (cand.get(probe.name) ?? []).filter(inPhase);
    const b = (base.get(probe.name) ?? []).filter(inPhase);
    rows.push(
      ...judgeProbe(probe, c, b, {
        hasBaseline,
        thresholds,
        alphaErrors: alpha,
        alphaLatency: alpha,
        candidateVersion: input.candidateVersion,
        ...(input.currentVersion ? { currentVersion: input.currentVersion } : {}),
      }),
    );
  }
  for (const row of rows) if (row.status !== 'PASS') row.action = actions[row.severity];

  const failing = rows.filter((r) => r.status === 'FAIL');
  const rejecting = failing.filter((r) => r.action === 'REJECT');
  const blocking = (r: CheckResult) => r.action === 'REJECT' || r.action === 'MANUAL_REVIEW';
  const review = rows.filter(
    (r) =>
      (r.status === 'FAIL' && r.action === 'MANUAL_REVIEW') || (r.status === 'INCONCLUSIVE' && blocking(r)),
  );
  const verdict: Verdict = rejecting.length ? 'FAIL' : review.length ? 'INCONCLUSIVE' : 'PASS';

  const candidate = measure(input.candidateVersion, input.candidate);
  const current = input.currentVersion ? measure(input.currentVersion, input.current) : undefined;
  const findings: Finding[] = [];
  for (const r of [...rejecting, ...review]) {
    findings.push({ code: r.code ?? 'CHECK_FAILED', message: findingMessage(r) });
  }
  for (const r of rows) {
    if (r.status !== 'PASS' && r.action === 'NOTE') {
      findings.push({ code: 'VERIFICATION_NOTE', message: `${r.severity}: ${findingMessage(r)}` });
    }
  }
  if (verdict === 'PASS') {
    findings.unshift({
      code: 'VERIFIED',
      message: `candidate ${input.candidateVersion}: ${candidate.errors}/${candidate.samples} probe errors, p95 ${candidate.p95Ms} ms${
        current
          ? ` (current ${current.version}: ${current.errors}/${current.samples}, p95 ${current.p95Ms} ms)`
          : ''
      }`,
    });
  }
  const table = compactTable(rows);
  return {
    verdict,
    findings: findings.slice(0, MAX_FINDINGS),
    candidate,
    ...(current ? { current } : {}),
    checks: table.checks,
    ...(table.omitted ? { omittedChecks: table.omitted } : {}),
  };
}

/**
 * The judge as Verify called it before probes had kinds: every probe a functional probe of
 * severity error expecting `expectFields`. Kept for the decision's dry run.
 */
export function judgeVerification(input: {
  candidateVersion: string;
  currentVersion?: string;
  candidate: readonly ProbeSample[];
  current: readonly ProbeSample[];
  expectFields: Record<string, readonly string[]>;
  thresholds: VerificationThresholds;
  probes?: readonly Probe[];
}): VerificationResult {
  const names = new Set([...input.candidate, ...input.current].map((s) => s.probe));
  for (const name of Object.keys(input.expectFields)) names.add(name);
  const probes =
    input.probes ??
    [...names].map(
      (name): Probe => ({
        name,
        kind: 'functional',
        severity: 'error',
        payload: undefined,
        expectFields: [...(input.expectFields[name] ?? [])],
        expectTypes: {},
      }),
    );
  return judgeProbes({ ...input, probes });
}

interface ProbeContext {
  hasBaseline: boolean;
  thresholds: VerificationThresholds;
  alphaErrors: number;
  alphaLatency: number;
  candidateVersion: string;
  currentVersion?: string;
}

function judgeProbe(
  probe: Probe,
  candidateAll: readonly ProbeSample[],
  baselineAll: readonly ProbeSample[],
  ctx: ProbeContext,
): CheckResult[] {
  const c = candidateAll.filter((s) => !s.inconclusive);
  const b = baselineAll.filter((s) => !s.inconclusive);
  const cNums = sideNumbers(c, candidateAll.length);
  const bNums = ctx.hasBaseline ? sideNumbers(b, baselineAll.length) : undefined;
  const row = (check: CheckResult['check'], kind: ProbeKind = probe.kind): CheckResult => ({
    probe: probe.name,
    kind,
    check,
    severity: probe.severity,
    status: 'PASS',
    candidate: cNums,
    ...(bNums ? { baseline: bNums } : {}),
    reasons: [],
  });
  const min = ctx.thresholds.minSamples;
  if (c.length < min || (ctx.hasBaseline && b.length < min)) {
    const left = candidateAll.length - c.length + (baselineAll.length - b.length);
    const why = [...candidateAll, ...baselineAll].find((s) => s.inconclusive);
    return [
      {
        ...row('samples'),
        status: 'INCONCLUSIVE',
        code: left ? 'PROBES_INCONCLUSIVE' : 'TOO_FEW_SAMPLES',
        reasons: clip([
          `need ${min} valid answers per version; got ${c.length} from the candidate${
            ctx.hasBaseline ? ` and ${b.length} from the current version` : ''
          }`,
          ...(left && why
            ? [
                `${left} answers left out as the prober's own trouble (${why.inconclusive}: ${why.error ?? ''})`,
              ]
            : []),
        ]),
      },
    ];
  }
  if (probe.kind === 'security') return [securityRow(probe, c, row('security'))];
  const rows: CheckResult[] = [errorsRow(c, b, ctx, row('errors'))];
  if (probe.kind === 'functional') {
    rows.push(shapeRow(probe, c, b, ctx, row('shape')));
    if (probe.sameAsBaseline && ctx.hasBaseline) rows.push(samenessRow(probe, c, b, row('same-as-baseline')));
  }
  if (ctx.hasBaseline) {
    rows.push(
      latencyRow(c, b, ctx, row('latency', probe.kind === 'functional' ? 'performance' : probe.kind)),
    );
  }
  return rows;
}

function errorsRow(
  c: readonly ProbeSample[],
  b: readonly ProbeSample[],
  ctx: ProbeContext,
  row: CheckResult,
): CheckResult {
  const t = ctx.thresholds;
  const cErr = countFailed(c);
  const bErr = countFailed(b);
  const cRate = cErr / c.length;
  const reasons: string[] = [];
  let code: string | undefined;
  const underLoad = row.kind === 'load' ? ' under load' : '';
  if (cRate > t.maxErrorRate) {
    code = 'ERROR_RATE_TOO_HIGH';
    const sample = c.find((s) => !s.ok);
    reasons.push(
      `candidate ${ctx.candidateVersion} failed ${cErr} of ${c.length} requests${underLoad} (${pct(cRate)}); the ceiling is ${pct(t.maxErrorRate)}${
        sample?.error ? `; e.g. ${sample.error}` : ''
      }`,
    );
  }
  let p: number | undefined;
  if (ctx.hasBaseline) {
    const bRate = bErr / b.length;
    p = proportionIncreasePValue(cErr, c.length, bErr, b.length);
    if (cRate - bRate > t.maxErrorRateIncrease && p < ctx.alphaErrors) {
      code ??= 'ERROR_RATE_REGRESSION';
      reasons.push(
        `error rate${underLoad} rose from ${pct(bRate)} to ${pct(cRate)} (z-test p=${fmtP(p)}; allowed +${pct(t.maxErrorRateIncrease)})`,
      );
    }
  }
  if (!reasons.length) {
    reasons.push(
      `${cErr}/${c.length} errors${underLoad}${ctx.hasBaseline ? ` (current ${bErr}/${b.length})` : ''}`,
    );
  }
  return {
    ...row,
    status: code ? 'FAIL' : 'PASS',
    ...(code ? { code } : {}),
    ...(p !== undefined ? { p: roundP(p) } : {}),
    reasons: clip(reasons),
  };
}

function latencyRow(
  c: readonly ProbeSample[],
  b: readonly ProbeSample[],
  ctx: ProbeContext,
  row: CheckResult,
): CheckResult {
  const cLat = okSorted(c);
  const bLat = okSorted(b);
  const ratio = ctx.thresholds.maxLatencyRatio;
  const cs = latencySummaryOfSorted(cLat);
  const bs = latencySummaryOfSorted(bLat);
  const underLoad = row.kind === 'load' ? ' under load' : '';
  if (cLat.length < 2 || bLat.length < 2) {
    return { ...row, reasons: [`too few good answers to compare latency${underLoad}`] };
  }
  const mw = mannWhitneySorted(cLat, bLat, ratio);
  const effect = Math.round(mannWhitneySorted(cLat, bLat).probabilityOfSuperiority * 1000) / 1000;
  const regressed = mw.pGreater < ctx.alphaLatency;
  const x = bs.p95 > 0 ? `×${(cs.p95 / bs.p95).toFixed(2)}` : '';
  const numbers = `p50 ${bs.p50} → ${cs.p50} ms, p99 ${bs.p99} → ${cs.p99} ms; Mann-Whitney p=${fmtP(mw.pGreater)} against ×${ratio}, P(candidate slower)=${effect.toFixed(2)}`;
  return {
    ...row,
    status: regressed ? 'FAIL' : 'PASS',
    ...(regressed ? { code: 'LATENCY_REGRESSION' } : {}),
    p: roundP(mw.pGreater),
    effect,
    reasons: clip([
      regressed
        ? `p95 latency${underLoad} rose from ${bs.p95} ms (current ${ctx.currentVersion}) to ${cs.p95} ms (candidate ${ctx.candidateVersion}) ${x}: slower than the allowed ×${ratio}`
        : `p95 latency${underLoad} ${bs.p95} ms (current) and ${cs.p95} ms (candidate) ${x}`,
      numbers,
    ]),
  };
}

function shapeRow(
  probe: Probe,
  c: readonly ProbeSample[],
  b: readonly ProbeSample[],
  ctx: ProbeContext,
  row: CheckResult,
): CheckResult {
  const cOk = c.filter((s) => s.ok && s.fields);
  if (!cOk.length) return { ...row, reasons: ['no good answer to check the shape of'] };
  const bOk = b.filter((s) => s.ok && s.fields);
  const cShape = shapeOf(cOk);
  const bShape = shapeOf(bOk);
  const required = new Set([...probe.expectFields, ...bShape.inEvery]);
  const present = cShape.inEvery;
  const missing = [...required].filter((f) => !present.has(f));
  const expected = new Map<string, { type: JsonType; from: string }>();
  for (const [f, types] of bShape.types) {
    const [only] = types;
    if (types.size === 1 && only)
      expected.set(f, { type: only, from: `the current version ${ctx.currentVersion}` });
  }
  for (const [f, type] of Object.entries(probe.expectTypes)) expected.set(f, { type, from: 'the probe' });
  const changed: string[] = [];
  for (const [field, want] of expected) {
    const wrong = [...(cShape.types.get(field) ?? [])].filter((t) => t !== want.type);
    if (wrong.length) {
      changed.push(
        `field "${field}" is ${wrong.join(' or ')} in the candidate's answers, ${want.type} as ${want.from} says`,
      );
    }
  }
  const reasons: string[] = [];
  if (changed.length) reasons.push(...changed);
  if (missing.length) reasons.push(`the candidate's answers lack ${missing.map((f) => `"${f}"`).join(', ')}`);
  const code = changed.length ? 'FIELD_TYPE_CHANGED' : missing.length ? 'INCOMPATIBLE_RESPONSE' : undefined;
  return {
    ...row,
    status: code ? 'FAIL' : 'PASS',
    ...(code ? { code } : {}),
    reasons: clip(reasons.length ? reasons : [`${present.size} fields, types as expected`]),
  };
}

function samenessRow(
  probe: Probe,
  c: readonly ProbeSample[],
  b: readonly ProbeSample[],
  row: CheckResult,
): CheckResult {
  const ignore = probe.sameAsBaseline?.ignore ?? [];
  const baseBySeq = new Map<number, ProbeSample>();
  for (const s of b) if (s.ok && s.seq !== undefined) baseBySeq.set(s.seq, s);
  let pairs = 0;
  let differing = 0;
  let first: string | undefined;
  for (const s of c) {
    const other = s.seq !== undefined ? baseBySeq.get(s.seq) : undefined;
    if (!s.ok || !other) continue;
    pairs++;
    const d = firstDifference(s.body, other.body, ignore);
    if (d !== undefined) {
      differing++;
      if (!first) {
        first = `${d}: ${short(valueAt(other.body, d))} → ${short(valueAt(s.body, d))}`;
      }
    }
  }
  if (!pairs)
    return {
      ...row,
      status: 'INCONCLUSIVE',
      code: 'NOTHING_TO_COMPARE',
      reasons: ['no pair of good answers to compare'],
    };
  return {
    ...row,
    status: differing ? 'FAIL' : 'PASS',
    ...(differing ? { code: 'RESPONSE_DIFFERS' } : {}),
    reasons: clip(
      differing
        ? [
            `${differing} of ${pairs} answers differ from the current version's${ignore.length ? ` (ignoring ${ignore.join(', ')})` : ''}; first at ${first}`,
          ]
        : [`${pairs} answers equal the current version's`],
    ),
  };
}

function securityRow(probe: Probe, c: readonly ProbeSample[], row: CheckResult): CheckResult {
  const checks = probe.security ?? {
    requiredHeaders: [],
    noStackTraces: true,
    noSecrets: true,
    forbiddenPatterns: [],
    tlsOnly: false,
  };
  const problems = new Map<string, number>();
  const add = (what: string) => problems.set(what, (problems.get(what) ?? 0) + 1);
  let unverifiable: string | undefined;
  for (const s of c) {
    for (const found of securityFindings(bodyText(s.body ?? s.error), checks))
      add(`an answer shows ${found}`);
    if (checks.requiredHeaders.length) {
      if (!s.headers) unverifiable = 'Invoke answers carry no HTTP headers';
      else
        for (const h of checks.requiredHeaders)
          if (!(h.toLowerCase() in s.headers)) add(`header ${h} is missing`);
    }
    if (checks.tlsOnly && s.url && !s.url.startsWith('https:')) add(`${new URL(s.url).origin} is not https`);
  }
  if (problems.size) {
    return {
      ...row,
      status: 'FAIL',
      code: 'SECURITY_CHECK_FAILED',
      reasons: clip([...problems].map(([what, n]) => `${what} (${n} of ${c.length})`)),
    };
  }
  if (unverifiable)
    return { ...row, status: 'INCONCLUSIVE', code: 'SECURITY_UNVERIFIABLE', reasons: [unverifiable] };
  return { ...row, reasons: [`${c.length} answers checked`] };
}

function measure(version: string, all: readonly ProbeSample[]): VersionMeasurement {
  let n = 0;
  let errors = 0;
  let inconclusive = 0;
  const latencies = new Float64Array(all.length);
  for (const s of all) {
    if (s.inconclusive) {
      inconclusive++;
      continue;
    }
    if ((s.phase ?? 'steady') !== 'steady') continue;
    if (!s.ok) errors++;
    latencies[n++] = s.latencyMs;
  }
  const lat = latencySummaryOfSorted(latencies.subarray(0, n).sort());
  return {
    version,
    samples: n,
    errors,
    errorRate: n ? errors / n : 0,
    p50Ms: lat.p50,
    p95Ms: lat.p95,
    p99Ms: lat.p99,
    ...(inconclusive ? { inconclusive } : {}),
  };
}

function sideNumbers(valid: readonly ProbeSample[], total: number): SideNumbers {
  let errors = 0;
  for (const s of valid) if (!s.ok) errors++;
  const lat = latencySummaryOfSorted(okSorted(valid));
  return {
    n: valid.length,
    errors,
    errorRate: valid.length ? Math.round((errors / valid.length) * 10_000) / 10_000 : 0,
    p50: lat.p50,
    p95: lat.p95,
    p99: lat.p99,
    inconclusive: total - valid.length,
  };
}

/** The sorted latencies of the good answers, computed once per list of samples. */
const sortedOkLatencies = new WeakMap<readonly ProbeSample[], Float64Array>();
function okSorted(samples: readonly ProbeSample[]): Float64Array {
  let sorted = sortedOkLatencies.get(samples);
  if (!sorted) {
    sorted = okLatencies(samples).sort();
    sortedOkLatencies.set(samples, sorted);
  }
  return sorted;
}

function countFailed(samples: readonly ProbeSample[]): number {
  let n = 0;
  for (const s of samples) if (!s.ok) n++;
  return n;
}

function okLatencies(samples: readonly ProbeSample[]): Float64Array {
  let n = 0;
  for (const s of samples) if (s.ok) n++;
  const out = new Float64Array(n);
  let i = 0;
  for (const s of samples) if (s.ok) out[i++] = s.latencyMs;
  return out;
}

/** In one pass: the fields every answer carries, and the types seen per field. */
function shapeOf(samples: readonly ProbeSample[]): {
  inEvery: Set<string>;
  types: Map<string, Set<JsonType>>;
} {
  const count = new Map<string, number>();
  const types = new Map<string, Set<JsonType>>();
  for (const s of samples) {
    for (const f of s.fields ?? []) count.set(f, (count.get(f) ?? 0) + 1);
    const t = s.types;
    if (!t) continue;
    for (const f in t) {
      const type = t[f] as JsonType;
      const seen = types.get(f);
      if (seen) seen.add(type);
      else types.set(f, new Set([type]));
    }
  }
  const inEvery = new Set<string>();
  for (const [f, n] of count) if (n === samples.length) inEvery.add(f);
  return { inEvery, types };
}

/** Keeps the non-PASS rows first and at most MAX_CHECK_ROWS rows. */
function compactTable(rows: CheckResult[]): {
  checks: CheckResult[];
  omitted?: { rows: number; failed: number };
} {
  const rank = (r: CheckResult) => (r.status === 'FAIL' ? 0 : r.status === 'INCONCLUSIVE' ? 1 : 2);
  const ordered = rows.map((r, i) => ({ r, i })).sort((x, y) => rank(x.r) - rank(y.r) || x.i - y.i);
  if (ordered.length <= MAX_CHECK_ROWS) return { checks: rows };
  const kept = ordered.slice(0, MAX_CHECK_ROWS).map((x) => x.r);
  const left = ordered.slice(MAX_CHECK_ROWS).map((x) => x.r);
  return {
    checks: kept,
    omitted: { rows: left.length, failed: left.filter((r) => r.status === 'FAIL').length },
  };
}

function findingMessage(r: CheckResult): string {
  return `probe "${r.probe}" (${r.kind}, ${r.check}): ${r.reasons.join('; ')}`.slice(0, MAX_REASON_CHARS * 2);
}

function clip(reasons: string[]): string[] {
  return reasons
    .slice(0, MAX_REASONS)
    .map((r) => (r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS - 1)}…` : r));
}

function valueAt(body: unknown, path: string): unknown {
  if (path === '(root)') return body;
  let v: unknown = body;
  for (const k of path.split('.')) {
    if (!v || typeof v !== 'object') return undefined;
    v = Object.hasOwn(v as object, k) ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v;
}

function short(v: unknown): string {
  const text = v === undefined ? '(absent)' : `${JSON.stringify(v)} (${jsonTypeOf(v)})`;
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function fmtP(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
}

function roundP(p: number): number {
  return Number(p.toPrecision(3));
}
