import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { componentOf, environmentOf, parseCatalog } from '../../shared/domain/catalog';
import { isPredefinedConfig } from '../../shared/domain/deploy-configs';
import { didYouMean } from '../../shared/domain/did-you-mean';
import { matchesPattern } from '../../shared/domain/event-pattern';
import * as rollbackRequested from '../../shared/domain/events/rollback-requested';
import * as published from '../../shared/domain/events/version-published';
import { ownValue } from '../../shared/domain/own';
import { mergeDefaults, parsePolicies, policyOf } from '../../shared/domain/policy';
import { describeIssues } from '../../shared/domain/zod-issues';
import { versionPublished } from '../support/events';

const demoCatalog = () => JSON.parse(readFileSync('catalog/demo.catalog.json', 'utf8'));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    return (error as { problems?: string[] }).problems ?? [String(error)];
  }
  return [];
}

describe('issue 9 finding 6: typos are rejected with the path and a did-you-mean', () => {
  it('suggests the closest known word, and nothing for a word far from all of them', () => {
    // Prepare
    const known = ['bakeMinutes', 'maintenanceWindows', 'autoApproveUpTo', 'alarms'];
    // Act
    const hints = ['bakeMinuts', 'maintenanceWindow', 'autoAproveUpTo', 'alrms', 'zzz'].map((w) =>
      didYouMean(w, known),
    );
    // Assess
    expect(hints).toEqual(['bakeMinutes', 'maintenanceWindows', 'autoApproveUpTo', 'alarms', undefined]);
  });

  it('a policy with bakeMinuts, autoAproveUpTo or a singular maintenanceWindow is invalid, naming each', () => {
    // Prepare
    const document = {
      production: { bakeMinuts: 30, autoAproveUpTo: 'LOW', maintenanceWindow: [] },
    };
    // Act
    const { problems } = parsePolicies(document);
    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        'production.bakeMinuts: unknown key, did you mean "bakeMinutes"?',
        'production.autoAproveUpTo: unknown key, did you mean "autoApproveUpTo"?',
        'production.maintenanceWindow: unknown key, did you mean "maintenanceWindows"?',
      ]),
    );
  });

  it('nested policy objects are strict too (a window, a rule action)', () => {
    // Prepare
    const document = {
      production: {
        maintenanceWindows: [{ days: ['SUN'], start: '02:00', end: '04:00', timezon: 'UTC' }],
        rules: [{ name: 'r', when: { bump: ['major'] }, actions: { decison: 'REJECT', decision: 'REJECT' } }],
      },
    };
    // Act
    const { problems } = parsePolicies(document);
    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        'production.maintenanceWindows[0].timezon: unknown key, did you mean "timezone"?',
        'production.rules[0].actions.decison: unknown key, did you mean "decision"?',
      ]),
    );
  });

  it('defaults are strict as well', () => {
    // Prepare
    const document = { defaults: { bakeMinuts: 5 }, production: {} };
    // Act
    const { problems } = parsePolicies(document);
    // Assess
    expect(problems).toContain('defaults.bakeMinuts: unknown key, did you mean "bakeMinutes"?');
  });

  it('a catalog whose component misspells alarms is invalid, naming the path', () => {
    // Prepare
    const document = demoCatalog();
    document.components.checkout.alrms = document.components.checkout.alarms;
    delete document.components.checkout.alarms;
    // Act
    const problems = problemsOf(() => parseCatalog(document));
    // Assess
    expect(problems).toContain('components.checkout.alrms: unknown key, did you mean "alarms"?');
  });

  it('a catalog with a typo inside a target, a baseline artifact or an alarm is invalid', () => {
    // Prepare
    const document = demoCatalog();
    document.components.checkout.target.functionNme = 'x';
    document.components.checkout.environments.staging.baseline.artifact.functionVersin = '1';
    document.components.checkout.alarms[0].treshold = 3;
    document.polices = {};
    // Act
    const problems = problemsOf(() => parseCatalog(document));
    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        'components.checkout.target.functionNme: unknown key, did you mean "functionName"?',
        'components.checkout.environments.staging.baseline.artifact.functionVersin: unknown key, did you mean "functionVersion"?',
        'components.checkout.alarms[0].treshold: unknown key, did you mean "threshold"?',
        'polices: unknown key, did you mean "policies"?',
      ]),
    );
  });

  it('a Version Published detail with an unknown key is invalid; extra fields go under metadata', () => {
    // Prepare
    const typo = versionPublished({ version: '1.1.0' });
    (typo.detail as Record<string, unknown>).lables = ['security'];
    const extra = versionPublished({ version: '1.1.0' });
    (extra.detail as Record<string, unknown>).metadata = { pipeline: 'release', run: 42 };
    // Act
    const rejected = published.schema.safeParse(typo);
    const accepted = published.schema.safeParse(extra);
    // Assess
    expect(rejected.success).toBe(false);
    expect(describeIssues(rejected.error as never)).toContain(
      'detail.lables: unknown key, did you mean "labels"?',
    );
    expect(accepted.success).toBe(true);
  });

  it('a Rollback Requested detail with an unknown key is invalid', () => {
    // Prepare
    const event = {
      ...versionPublished({ version: '1.0.0' }),
      'detail-type': rollbackRequested.detailType,
      detail: { component: 'checkout', environment: 'staging', reason: 'r', toVerison: '1.0.0' },
    };
    // Act
    const result = rollbackRequested.schema.safeParse(event);
    // Assess
    expect(result.success).toBe(false);
    expect(describeIssues(result.error as never)).toContain(
      'detail.toVerison: unknown key, did you mean "toVersion"?',
    );
  });

  it("AWS's envelope stays tolerant of fields AWS adds", () => {
    // Prepare
    const event = { ...versionPublished({ version: '1.1.0' }), 'replay-name': 'r1' };
    // Act
    const result = published.schema.safeParse(event);
    // Assess
    expect(result.success).toBe(true);
  });
});

describe('issue 9 finding 7: prototype keys', () => {
  it('a pattern on "constructor" does not match an object without that own key', () => {
    // Prepare
    const pattern = { constructor: [{ exists: true }] };
    // Act
    const matchedPlain = matchesPattern(pattern, { a: 1 });
    const matchedOwn = matchesPattern(pattern, JSON.parse('{"constructor": "x"}'));
    // Assess
    expect(matchedPlain).toBe(false);
    expect(matchedOwn).toBe(true);
  });

  it('inherited names are absent for exists:false and for value and nested patterns', () => {
    // Prepare
    const event = { a: 1 };
    // Act
    const absent = matchesPattern({ toString: [{ exists: false }] }, event);
    const nested = matchesPattern({ constructor: { name: ['Object'] } }, event);
    const prefix = matchesPattern({ hasOwnProperty: [{ prefix: '' }] }, event);
    // Assess
    expect(absent).toBe(true);
    expect(nested).toBe(false);
    expect(prefix).toBe(false);
  });

  it('a policy with "__proto__" does not raise auto-approval; it is rejected with its path', () => {
    // Prepare
    const document = JSON.parse('{"production": {"__proto__": {"autoApproveUpTo": "HIGH"}}}');
    // Act
    const { policies, problems } = parsePolicies(document);
    // Assess
    expect(policies.production).toBeUndefined();
    expect(problems).toContain('production.__proto__: reserved key; not allowed in a document');
  });

  it('defaults with "__proto__" do not leak into every environment', () => {
    // Prepare
    const document = JSON.parse('{"defaults": {"__proto__": {"autoApproveUpTo": "HIGH"}}, "dev": {}}');
    // Act
    const { problems } = parsePolicies(document);
    const merged = mergeDefaults(JSON.parse('{"__proto__": {"x": 1}}'), {}) as Record<string, unknown>;
    // Assess
    expect(problems).toContain('defaults.__proto__: reserved key; not allowed in a document');
    expect(merged.x).toBeUndefined();
  });

  it('a catalog with "constructor" or "prototype" keys is rejected with the path', () => {
    // Prepare
    const document = demoCatalog();
    document.components.checkout.probes.requests[0].payload = JSON.parse('{"__proto__": {"a": 1}}');
    document.components.constructor = document.components.checkout;
    // Act
    const problems = problemsOf(() => parseCatalog(document));
    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        'components.checkout.probes.requests[0].payload.__proto__: reserved key; not allowed in a document',
        'components.constructor: reserved key; not allowed in a document',
      ]),
    );
  });

  it('a deployment config named like an Object member is not predefined', () => {
    // Prepare / Act
    const answers = ['constructor', 'toString', '__proto__'].map((n) => isPredefinedConfig('lambda', n));
    // Assess
    expect(answers).toEqual([false, false, false]);
  });
});

describe('issue 9 finding 13: names that collide with Object.prototype', () => {
  it('componentOf, environmentOf and policyOf find only own entries', () => {
    // Prepare
    const catalog = parseCatalog(demoCatalog());
    const checkout = componentOf(catalog, 'checkout');
    // Act
    const lookups = ['constructor', 'toString', '__proto__', 'hasOwnProperty'].flatMap((name) => [
      componentOf(catalog, name),
      checkout && environmentOf(checkout, name),
      policyOf(catalog.policies, name),
    ]);
    // Assess
    expect(checkout?.target.type).toBe('lambda');
    expect(checkout && environmentOf(checkout, 'staging')?.baseline.version).toBe('1.0.0');
    expect(policyOf(catalog.policies, 'production')).toBeDefined();
    expect(lookups.every((x) => x === undefined)).toBe(true);
  });

  it('ownValue reads own keys only', () => {
    // Prepare
    const record: Record<string, number> = { a: 1 };
    // Act / Assess
    expect(ownValue(record, 'a')).toBe(1);
    expect(ownValue(record, 'valueOf')).toBeUndefined();
  });
});

describe('issue 9 finding 14: values beyond AWS limits are invalid at the schema', () => {
  it('a version longer than 128 characters is invalid, naming the limit', () => {
    // Prepare
    const event = versionPublished({ version: `1.0.0-${'a'.repeat(3000)}` });
    // Act
    const result = published.schema.safeParse(event);
    // Assess
    expect(result.success).toBe(false);
    expect(describeIssues(result.error as never).join('\n')).toMatch(
      /detail\.version: expected at most 128 characters/,
    );
  });

  it('a version of exactly 128 characters passes', () => {
    // Prepare
    const event = versionPublished({ version: `1.0.0-${'a'.repeat(122)}` });
    // Act
    const result = published.schema.safeParse(event);
    // Assess
    expect(event.detail.version).toHaveLength(128);
    expect(result.success).toBe(true);
  });

  it('metadata beyond 8 KiB, an over-long label and a huge commit are invalid', () => {
    // Prepare
    const event = versionPublished({ version: '1.1.0', labels: ['x'.repeat(65)] });
    (event.detail as Record<string, unknown>).metadata = { blob: 'x'.repeat(9000) };
    (event.detail as Record<string, unknown>).commit = 'c'.repeat(65);
    // Act
    const result = published.schema.safeParse(event);
    const lines = result.success ? [] : describeIssues(result.error);
    // Assess
    expect(lines.some((l) => l.startsWith('detail.metadata:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('detail.labels[0]:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('detail.commit:'))).toBe(true);
  });

  it('an event holding null is invalid with a clear reason, not a crash', () => {
    // Prepare / Act
    const result = published.schema.safeParse(null);
    // Assess
    expect(result.success).toBe(false);
    expect(describeIssues(result.error as never)[0]).toMatch(/^\(root\): expected an EventBridge event/);
  });

  it('a rollback reason and a toVersion are bounded too', () => {
    // Prepare
    const event = {
      ...versionPublished({ version: '1.0.0' }),
      'detail-type': rollbackRequested.detailType,
      detail: {
        component: 'checkout',
        environment: 'staging',
        reason: 'r',
        toVersion: `1.0.0-${'a'.repeat(200)}`,
      },
    };
    // Act
    const result = rollbackRequested.schema.safeParse(event);
    // Assess
    expect(result.success).toBe(false);
  });
});
