import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type DecisionFacts, evaluatePolicy } from '../../shared/domain/decision';
import { policySchema } from '../../shared/domain/policy';

interface Example {
  policy: unknown;
  facts: Partial<DecisionFacts> & { verdict?: 'PASS' | 'FAIL' | 'INCONCLUSIVE'; now: string };
  expect: Record<string, unknown> & { reasons?: string[] };
}

const markdown = readFileSync('docs/policies.md', 'utf8');
const examples = [...markdown.matchAll(/```json example\n([\s\S]*?)```/g)].map(
  (m) => JSON.parse(m[1] as string) as Example,
);

describe('docs/policies.md worked examples', () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
  });

  it.each(examples.map((e, i) => [i + 1, e] as const))('example %i', (_i, example) => {
    // Prepare
    const policy = policySchema.parse(example.policy);
    const { verdict, ...facts } = example.facts;
    const full: DecisionFacts = {
      component: 'checkout',
      environment: 'production',
      version: '1.1.0',
      currentVersion: '1.0.0',
      bump: 'minor',
      labels: [],
      platform: 'lambda',
      verification: {
        verdict: verdict ?? 'PASS',
        findings: verdict === 'FAIL' ? [{ code: 'X', message: 'probes failed' }] : [],
      },
      alarmsInAlarm: [],
      deferrals: 0,
      ...facts,
    };
    // Act
    const decision = evaluatePolicy(full, policy);
    // Assess
    const { reasons, ...fields } = example.expect;
    expect(decision).toMatchObject(fields);
    if (reasons) expect(decision.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(reasons));
    if (!('deferUntil' in fields) && fields.decision === 'APPROVE')
      expect(decision.deferUntil).toBeUndefined();
  });
});
