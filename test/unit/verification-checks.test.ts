import { describe, expect, it } from 'vitest';
import { type Probe, probeSchema } from '../../shared/domain/catalog';
import { policySchema } from '../../shared/domain/policy';
import { firstDifference, securityFindings } from '../../shared/domain/probes';
import { judgeProbes, MAX_CHECK_ROWS, type ProbeSample } from '../../shared/domain/verification';

const thresholds = { maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxLatencyRatio: 1.5, minSamples: 10 };
const probe = (over: Partial<Probe> = {}): Probe => probeSchema.parse({ name: 'quote', ...over });
function answers(
  n: number,
  body: Record<string, unknown>,
  latency: (i: number) => number,
  over: Partial<ProbeSample> = {},
) {
  return Array.from(
    { length: n },
    (_, i): ProbeSample => ({
      probe: 'quote',
      ok: true,
      latencyMs: latency(i),
      body,
      fields: Object.keys(body),
      types: Object.fromEntries(
        Object.entries(body).map(([k, v]) => [
          k,
          typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : 'object',
        ]),
      ) as ProbeSample['types'],
      seq: i,
      ...over,
    }),
  );
}
const judge = (candidate: ProbeSample[], current: ProbeSample[], probes: Probe[] = [probe()], over = {}) =>
  judgeProbes({
    candidateVersion: '2.3.0',
    currentVersion: '2.0.0',
    candidate,
    current,
    probes,
    thresholds: { ...thresholds, ...over },
  });
const jitter = (base: number) => (i: number) => base * (0.8 + (0.4 * ((i * 7919) % 101)) / 101);

describe('the judge, check by check', () => {
  it('a field whose type changes is a FAIL that names the field', () => {
    const r = judge(
      answers(20, { currency: 'EUR', total: '9.00' }, jitter(30)),
      answers(20, { currency: 'EUR', total: 9 }, jitter(30)),
    );
    expect(r.verdict).toBe('FAIL');
    const row = r.checks?.find((c) => c.check === 'shape');
    expect(row).toMatchObject({
      status: 'FAIL',
      code: 'FIELD_TYPE_CHANGED',
      kind: 'functional',
      severity: 'error',
      action: 'REJECT',
    });
    expect(row?.reasons[0]).toContain('field "total" is string');
    expect(r.findings[0]?.message).toContain('"total"');
  });

  it('a version 3× slower FAILs with both sides’ p95 in the reasons', () => {
    const r = judge(answers(15, { status: 'ok' }, jitter(150)), answers(15, { status: 'ok' }, jitter(50)));
    const row = r.checks?.find((c) => c.check === 'latency');
    expect(r.verdict).toBe('FAIL');
    expect(row).toMatchObject({ status: 'FAIL', code: 'LATENCY_REGRESSION', kind: 'performance' });
    expect(row?.reasons[0]).toContain(`from ${row?.baseline?.p95} ms`);
    expect(row?.reasons[0]).toContain(`to ${row?.candidate?.p95} ms`);
    expect(row?.effect).toBe(1);
    expect(row?.p).toBeLessThan(0.001);
  });

  it('a warning-severity finding is a note on a PASS; info is only in the table', () => {
    const probes = [
      probe(),
      probe({ name: 'same', severity: 'warning', sameAsBaseline: { ignore: [] } }),
      probe({ name: 'info', severity: 'info', expectFields: ['absent'] }),
    ];
    const cand = [
      ...answers(12, { total: 95 }, jitter(30)),
      ...answers(12, { total: 95 }, jitter(30)).map((s) => ({ ...s, probe: 'same' })),
      ...answers(12, { total: 95 }, jitter(30)).map((s) => ({ ...s, probe: 'info' })),
    ];
    const curr = [
      ...answers(12, { total: 100 }, jitter(30)),
      ...answers(12, { total: 100 }, jitter(30)).map((s) => ({ ...s, probe: 'same' })),
      ...answers(12, { total: 95 }, jitter(30)).map((s) => ({ ...s, probe: 'info' })),
    ];
    const r = judge(cand, curr, probes);
    expect(r.verdict).toBe('PASS');
    expect(r.findings.map((f) => f.code)).toEqual(['VERIFIED', 'VERIFICATION_NOTE']);
    expect(r.findings[1]?.message).toContain('total: 100 (number) → 95 (number)');
    expect(r.checks?.find((c) => c.probe === 'info' && c.check === 'shape')).toMatchObject({
      status: 'FAIL',
      action: 'IGNORE',
    });
  });

  it('the policy maps severities: error to MANUAL_REVIEW makes the verdict INCONCLUSIVE, critical stays REJECT', () => {
    const bad = answers(20, { total: '1' }, jitter(30));
    const good = answers(20, { total: 1 }, jitter(30));
    const review = judge(bad, good, [probe()], { severities: { error: 'MANUAL_REVIEW' } });
    expect(review.verdict).toBe('INCONCLUSIVE');
    expect(review.checks?.find((c) => c.check === 'shape')).toMatchObject({
      status: 'FAIL',
      action: 'MANUAL_REVIEW',
    });
    const critical = judge(bad, good, [probe({ severity: 'critical' })], {
      severities: { error: 'MANUAL_REVIEW' },
    });
    expect(critical.verdict).toBe('FAIL');
  });

  it('throttled answers are left out as inconclusive evidence, never counted as failures', () => {
    const throttled = answers(20, { total: 1 }, jitter(30)).map((s, i) =>
      i % 2
        ? {
            ...s,
            ok: false,
            inconclusive: 'THROTTLED' as const,
            error: 'TooManyRequestsException: Rate Exceeded.',
          }
        : s,
    );
    const r = judge(throttled, answers(20, { total: 1 }, jitter(30)));
    expect(r.verdict).toBe('PASS');
    expect(r.checks?.find((c) => c.check === 'errors')?.candidate).toMatchObject({
      n: 10,
      errors: 0,
      inconclusive: 10,
    });
    const mostly = answers(20, { total: 1 }, jitter(30)).map((s, i) =>
      i > 2 ? { ...s, ok: false, inconclusive: 'THROTTLED' as const, error: 'HTTP 429' } : s,
    );
    const r2 = judge(mostly, answers(20, { total: 1 }, jitter(30)));
    expect(r2.verdict).toBe('INCONCLUSIVE');
    expect(r2.findings[0]?.code).toBe('PROBES_INCONCLUSIVE');
    expect(r2.findings[0]?.message).toContain('THROTTLED');
  });

  it('security: missing headers, stack traces and secrets in bodies, plain http when TLS is required', () => {
    const sec = probe({
      name: 'quote',
      kind: 'security',
      security: {
        requiredHeaders: ['strict-transport-security'],
        noStackTraces: true,
        noSecrets: true,
        forbiddenPatterns: ['internal-only'],
        tlsOnly: true,
      },
    });
    const leaky = answers(12, { error: 'TypeError: x\n    at price (/app/pricing.js:42:7)' }, jitter(30), {
      headers: { 'content-type': 'application/json' },
      url: 'http://shop.example.com/quote',
    });
    const r = judge(leaky, answers(12, { total: 1 }, jitter(30)), [sec]);
    expect(r.verdict).toBe('FAIL');
    const reasons = r.checks?.[0]?.reasons.join(' | ') ?? '';
    expect(reasons).toContain('a Node.js stack trace');
    expect(reasons).toContain('header strict-transport-security is missing');
    expect(reasons).toContain('is not https');
    expect(
      securityFindings('key AKIAIOSFODNN7EXAMPLE here', {
        noStackTraces: true,
        noSecrets: true,
        forbiddenPatterns: [],
      }),
    ).toEqual(['an AWS access key id']);
  });

  it('sameness with the baseline ignores the paths it is told to', () => {
    expect(
      firstDifference({ a: 1, at: 't1', n: { id: 1 } }, { a: 1, at: 't2', n: { id: 1 } }, ['at']),
    ).toBeUndefined();
    expect(
      firstDifference({ items: [{ id: 1, ts: 1 }] }, { items: [{ id: 1, ts: 2 }] }, ['items.*.ts']),
    ).toBeUndefined();
    expect(firstDifference({ a: { b: 1 } }, { a: { b: '1' } })).toBe('a.b');
  });

  it('keeps the evidence table bounded at any probe count, failing rows first', () => {
    const probes = Array.from({ length: 1000 }, (_, i) => probe({ name: `p${i}` }));
    const mk = (bad: boolean) =>
      probes.flatMap((p, k) =>
        answers(10, { total: bad && k === 999 ? 'x' : 1 }, jitter(30)).map((s) => ({ ...s, probe: p.name })),
      );
    const r = judge(mk(true), mk(false), probes);
    expect(r.checks).toHaveLength(MAX_CHECK_ROWS);
    expect(r.checks?.[0]).toMatchObject({ probe: 'p999', status: 'FAIL' });
    expect(r.omittedChecks?.rows).toBe(3000 - MAX_CHECK_ROWS);
    // Well within Step Functions' 256 KiB and DynamoDB's 400 KB.
    expect(JSON.stringify(r).length).toBeLessThan(96 * 1024);
  });

  it('the policy’s severities are optional and strict; the catalog’s old probes still validate', () => {
    expect(policySchema.parse({}).verification.severities).toBeUndefined();
    expect(
      policySchema.parse({ verification: { severities: { error: 'MANUAL_REVIEW' } } }).verification
        .severities,
    ).toEqual({
      error: 'MANUAL_REVIEW',
    });
    expect(policySchema.safeParse({ verification: { severities: { eror: 'NOTE' } } }).success).toBe(false);
    expect(policySchema.safeParse({ verification: { severities: { error: 'DEFER' } } }).success).toBe(false);
    expect(probeSchema.parse({ name: 'old', payload: { a: 1 }, expectFields: ['status'] })).toMatchObject({
      kind: 'functional',
      severity: 'error',
      expectTypes: {},
    });
    expect(probeSchema.safeParse({ name: 'x', kind: 'load' }).success).toBe(false);
    expect(
      probeSchema.safeParse({ name: 'x', security: { forbiddenPatterns: ['('] }, kind: 'security' }).success,
    ).toBe(false);
  });
});
