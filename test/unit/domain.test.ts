import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { parseCatalog } from '../../shared/domain/catalog';
import { type DecisionFacts, evaluatePolicy } from '../../shared/domain/decision';
import { shiftDurationMinutes, suggestConfig } from '../../shared/domain/deploy-configs';
import { InvalidDocument } from '../../shared/domain/errors';
import * as published from '../../shared/domain/events/version-published';
import { policySchema } from '../../shared/domain/policy';
import { assessRisk } from '../../shared/domain/risk';
import { classifyBump, compareVersions } from '../../shared/domain/semver';
import { judgeVerification, type ProbeSample } from '../../shared/domain/verification';
import { isInWindow, nextWindowStart } from '../../shared/domain/windows';

describe('semver', () => {
  it('orders versions by semver precedence', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('1.0.0-alpha', '1.0.0')).toBe(-1);
    expect(compareVersions('1.0.0-alpha.2', '1.0.0-alpha.10')).toBe(-1);
    expect(compareVersions('1.0.0+build', '1.0.0')).toBe(0);
  });
  it('classifies bumps', () => {
    expect(classifyBump('1.0.0', '2.0.0')).toBe('major');
    expect(classifyBump('1.0.0', '1.1.0')).toBe('minor');
    expect(classifyBump('1.0.0', '1.0.1')).toBe('patch');
    expect(classifyBump('1.0.0', '1.1.0-rc.1')).toBe('prerelease');
    expect(classifyBump('1.1.0', '1.0.0')).toBe('downgrade');
  });
});

describe('Version Published schema', () => {
  it('accepts the CI contract example', () => {
    const event = {
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': 'Version Published',
      source: 'ci.github',
      account: '123456789012',
      time: '2026-12-02T10:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: {
        component: 'checkout',
        version: '1.1.0',
        environment: 'staging',
        artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '7' },
        labels: ['security'],
        commit: '9f1c2ab',
        publishedBy: 'ci@example.com',
      },
    };
    expect(published.schema.safeParse(event).success).toBe(true);
  });
  it('rejects $LATEST as a Lambda version, naming the field', () => {
    const r = published.detail.safeParse({
      component: 'checkout',
      version: '1.1.0',
      artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '$LATEST' },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['artifact', 'functionVersion']);
  });
});

describe('catalog', () => {
  it('parses the demo catalog', () => {
    const catalog = parseCatalog(demoCatalog);
    expect(Object.keys(catalog.components.checkout?.environments ?? {})).toEqual([
      'development',
      'staging',
      'production',
    ]);
  });
  it('names the path and the expectation of each problem', () => {
    const bad = structuredClone(demoCatalog) as Record<string, unknown> & typeof demoCatalog;
    (bad.components.checkout.alarms[0] as Record<string, unknown>).threshold = 'high';
    (bad.policies.production.maintenanceWindows[0] as Record<string, unknown>).start = '2am';
    try {
      parseCatalog(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidDocument);
      const problems = (error as InvalidDocument).problems.join('\n');
      expect(problems).toContain('components.checkout.alarms[0].threshold');
      expect(problems).toContain('policies.production.maintenanceWindows[0].start: expected HH:MM');
    }
  });
  it('checks deployment configs against the platform and suggests the right spelling', () => {
    const r = policySchema.safeParse({
      deploymentConfig: { ecs: 'CodeDeployDefault.ECSLinear10PercentEvery1Minute' },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('CodeDeployDefault.ECSLinear10PercentEvery1Minutes');
    expect(suggestConfig('lambda', 'CodeDeployDefault.LambdaLinear10PercentEvery1Minutes')).toBe(
      'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
    );
    expect(shiftDurationMinutes('lambda', 'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes')).toBe(18);
  });
});

describe('windows', () => {
  const sunday = [{ days: ['SUN' as const], start: '02:00', end: '04:00', timezone: 'UTC' }];
  it('finds the next Sunday window from a Wednesday', () => {
    expect(new Date(nextWindowStart(sunday, Date.parse('2026-12-02T10:00:00Z')) ?? 0).toISOString()).toBe(
      '2026-12-06T02:00:00.000Z',
    );
  });
  it('returns the instant itself inside a window', () => {
    const at = Date.parse('2026-12-06T02:30:00Z');
    expect(nextWindowStart(sunday, at)).toBe(at);
    expect(isInWindow(sunday, Date.parse('2026-12-06T04:00:00Z'))).toBe(false);
  });
  it('handles windows that cross midnight in a DST zone', () => {
    const night = [{ days: ['SAT' as const], start: '23:00', end: '01:00', timezone: 'Europe/Berlin' }];
    // 2026-03-28 23:00 in Berlin is CET (+01:00); the clocks go forward the next night.
    expect(new Date(nextWindowStart(night, Date.parse('2026-03-27T12:00:00Z')) ?? 0).toISOString()).toBe(
      '2026-03-28T22:00:00.000Z',
    );
    expect(isInWindow(night, Date.parse('2026-03-28T23:30:00Z'))).toBe(true);
  });
});

describe('verification', () => {
  const ok = (n: number, latency = 40): ProbeSample[] =>
    Array.from({ length: n }, () => ({ probe: 'p', ok: true, latencyMs: latency, fields: ['status'] }));
  const thresholds = { maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxLatencyRatio: 1.5, minSamples: 10 };
  it('is INCONCLUSIVE with too few samples, never a silent pass', () => {
    const r = judgeVerification({
      candidateVersion: '2',
      currentVersion: '1',
      candidate: ok(3),
      current: ok(3),
      expectFields: {},
      thresholds,
    });
    expect(r.verdict).toBe('INCONCLUSIVE');
  });
  it('fails on errors, latency and missing fields', () => {
    const failing = ok(20).map((s, i) => (i < 10 ? { ...s, ok: false } : s));
    expect(
      judgeVerification({
        candidateVersion: '2',
        currentVersion: '1',
        candidate: failing,
        current: ok(20),
        expectFields: {},
        thresholds,
      }).verdict,
    ).toBe('FAIL');
    const slow = judgeVerification({
      candidateVersion: '2',
      currentVersion: '1',
      candidate: ok(20, 90),
      current: ok(20, 40),
      expectFields: {},
      thresholds,
    });
    expect(slow.findings.map((f) => f.code)).toContain('LATENCY_REGRESSION');
    const shape = judgeVerification({
      candidateVersion: '2',
      currentVersion: '1',
      candidate: ok(20).map((s) => ({ ...s, fields: [] })),
      current: ok(20),
      expectFields: {},
      thresholds,
    });
    expect(shape.findings.map((f) => f.code)).toContain('INCOMPATIBLE_RESPONSE');
  });
  it('passes a healthy candidate', () => {
    expect(
      judgeVerification({
        candidateVersion: '2',
        currentVersion: '1',
        candidate: ok(20),
        current: ok(20),
        expectFields: { p: ['status'] },
        thresholds,
      }).verdict,
    ).toBe('PASS');
  });
});

describe('policy evaluation', () => {
  const catalog = parseCatalog(demoCatalog);
  const facts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
    component: 'checkout',
    environment: 'development',
    version: '1.0.1',
    currentVersion: '1.0.0',
    bump: 'patch',
    labels: [],
    platform: 'lambda',
    verification: { verdict: 'PASS', findings: [] },
    now: '2026-12-02T10:00:00Z',
    alarmsInAlarm: [],
    deferrals: 0,
    ...over,
  });
  it('approves a patch in development, all at once', () => {
    const d = evaluatePolicy(facts(), catalog.policies.development as never);
    expect(d.decision).toBe('APPROVE');
    expect(d.deploymentConfig).toBe('CodeDeployDefault.LambdaAllAtOnce');
  });
  it('asks a human for a major bump in staging', () => {
    const d = evaluatePolicy(
      facts({ environment: 'staging', bump: 'major', version: '2.0.0' }),
      catalog.policies.staging as never,
    );
    expect(d.decision).toBe('MANUAL_REVIEW');
    expect(d.risk).toBe('HIGH');
  });
  it('asks a human in production and carries the next window', () => {
    const d = evaluatePolicy(
      facts({ environment: 'production', bump: 'minor' }),
      catalog.policies.production as never,
    );
    expect(d.decision).toBe('MANUAL_REVIEW');
    expect(d.deferUntil).toBe('2026-12-06T02:00:00.000Z');
    const inside = evaluatePolicy(
      facts({ environment: 'production', bump: 'minor', now: '2026-12-06T02:30:00Z' }),
      catalog.policies.production as never,
    );
    expect(inside.decision).toBe('MANUAL_REVIEW');
    expect(inside.deferUntil).toBeUndefined();
  });
  it('rejects a failed verification anywhere', () => {
    for (const env of ['development', 'staging', 'production'] as const) {
      const d = evaluatePolicy(
        facts({
          environment: env,
          verification: { verdict: 'FAIL', findings: [{ code: 'X', message: 'bad' }] },
        }),
        catalog.policies[env] as never,
      );
      expect(d.decision).toBe('REJECT');
    }
  });
  it('defers within the minimum interval', () => {
    const d = evaluatePolicy(
      facts({ lastUpgradeAt: '2026-12-02T09:58:00Z' }),
      catalog.policies.development as never,
    );
    expect(d.decision).toBe('DEFER');
    expect(d.deferUntil).toBe('2026-12-02T10:03:00.000Z');
  });
  it('rates a security patch low risk but urgent', () => {
    expect(assessRisk('patch', ['security'])).toMatchObject({ risk: 'LOW', priority: 1 });
    expect(assessRisk('minor', ['breaking']).risk).toBe('HIGH');
  });
});
