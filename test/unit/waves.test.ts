import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { parseCatalog } from '../../shared/domain/catalog';
import { InvalidDocument } from '../../shared/domain/errors';
import * as published from '../../shared/domain/events/version-published';
import {
  applyStageEvent,
  endSoak,
  promotedArtifact,
  promotionOrder,
  promotionPolicySchema,
  publishFailed,
  rollbackSent,
  type StageArtifacts,
  type StageEvent,
  soakMinutesFor,
  startWave,
  supersede,
  unsentRollbacks,
  type Wave,
} from '../../shared/domain/waves';
import type { WaveStore } from '../../shared/ports';
import { keepStageArtifacts } from '../../shared/usecases/waves';

const T0 = '2026-12-02T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const quiet = { alarms: [], afterWaves: {} };

function wave(
  policy: Record<string, unknown> = {},
  overrides: Partial<Parameters<typeof startWave>[0]> = {},
): Wave {
  return startWave({
    waveId: 'wave-1',
    component: 'checkout',
    version: '1.1.0',
    environment: 'development',
    order: ['development', 'staging', 'production'],
    policy: promotionPolicySchema.parse({ soakMinutes: { development: 10, staging: 30 }, ...policy }),
    workflowId: 'wf-dev',
    fromVersion: '1.0.0',
    at: T0,
    ...overrides,
  });
}

const completed = (workflowId: string, minutes: number): StageEvent => ({
  kind: 'ended',
  workflowId,
  at: at(minutes),
  outcome: 'COMPLETED',
  reasons: [],
});

/** Development completed and soaked: staging is published. */
function atStaging(policy: Record<string, unknown> = {}): Wave {
  const soaking = applyStageEvent(wave(policy), 'development', completed('wf-dev', 1)).wave;
  return endSoak(soaking, 'development', { at: at(11), ...quiet }).wave;
}

describe('the promotion policy', () => {
  it('defaults to development → staging → production, those the component has, and 30 minutes', () => {
    // Prepare
    const policy = promotionPolicySchema.parse({});
    // Act / Assess
    expect(promotionOrder(policy, ['production', 'staging'])).toEqual(['staging', 'production']);
    expect(soakMinutesFor(policy, 'staging')).toBe(30);
    expect(soakMinutesFor(promotionPolicySchema.parse({ soakMinutes: { staging: 5 } }), 'development')).toBe(
      0,
    );
  });

  it('a catalog default applies to components without their own', () => {
    // Prepare
    const doc = { ...structuredClone(demoCatalog), promotion: { soakMinutes: 15 } };
    // Act
    const catalog = parseCatalog(doc);
    // Assess
    expect(catalog.components.checkout?.promotion?.soakMinutes).toBe(15);
  });

  it('refuses an unknown environment, a duplicate, an unknown component, a cycle and an untrusted promotion source, by path', () => {
    // Prepare
    const doc = structuredClone(demoCatalog) as unknown as {
      components: Record<string, Record<string, unknown>>;
      policies: Record<string, Record<string, unknown>>;
    };
    (doc.components.checkout as Record<string, unknown>).promotion = {
      order: ['development', 'qa', 'development'],
      after: ['pricing', 'nobody'],
    };
    (doc.components.pricing as Record<string, unknown>).promotion = { after: ['checkout'] };
    doc.policies.production = { ...doc.policies.production, trustedSources: ['ci.github'] };
    (doc.components.storefront as Record<string, unknown>).promotion = {
      order: ['staging', 'production'],
      soakMinuts: 3,
    };
    // Act
    const problems = (() => {
      try {
        parseCatalog(doc);
        return [];
      } catch (error) {
        return (error as InvalidDocument).problems;
      }
    })();
    // Assess: the schema's problem first (a typo, with a did-you-mean)
    expect(problems.join('\n')).toContain(
      'components.storefront.promotion.soakMinuts: unknown key, did you mean "soakMinutes"?',
    );
    // Act again without the typo
    (doc.components.storefront as Record<string, unknown>).promotion = undefined;
    const again = (() => {
      try {
        parseCatalog(doc);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidDocument);
        return (error as InvalidDocument).problems;
      }
    })();
    expect(again).toEqual(
      expect.arrayContaining([
        'components.checkout.promotion.order[1]: "qa" is not an environment of checkout',
        'components.checkout.promotion.order[2]: "development" appears twice',
        'components.checkout.promotion.after[1]: no component "nobody" in the catalog',
        'promotion.after: a cycle (checkout → pricing → checkout); no wave could ever promote',
      ]),
    );
    doc.policies.production = { ...doc.policies.production, trustedSources: ['ci.github'] };
    (doc.components.checkout as Record<string, unknown>).promotion = {};
    (doc.components.pricing as Record<string, unknown>).promotion = undefined;
    expect(() => parseCatalog(doc)).toThrow(
      'checkout promotes to production, whose policy\'s trustedSources lacks "upshift.promotion"',
    );
    doc.policies.production = {
      ...doc.policies.production,
      trustedSources: ['ci.github', 'upshift.promotion'],
    };
    doc.policies.development = { ...doc.policies.development, trustedSources: ['ci.github'] };
    expect(() => parseCatalog(doc)).not.toThrow();
    (doc.components.checkout as Record<string, unknown>).promotion = { coordinatedRollback: true };
    expect(() => parseCatalog(doc)).toThrow(
      'checkout may roll development back, whose policy\'s trustedSources lacks "upshift.promotion"',
    );
  });
});

describe('a wave', () => {
  it('soaks a completed stage, then publishes the next one when its alarms are quiet', () => {
    // Prepare
    const w = wave();
    // Act
    const soaking = applyStageEvent(w, 'development', completed('wf-dev', 1));
    const early = endSoak(soaking.wave, 'development', { at: at(5), ...quiet });
    const promoted = endSoak(soaking.wave, 'development', { at: at(11), ...quiet });
    // Assess
    expect(soaking.effects).toEqual([{ type: 'soak', environment: 'development', until: at(11) }]);
    expect(early.changed).toBe(false);
    expect(promoted.effects).toEqual([{ type: 'publish', environment: 'staging' }]);
    expect(promoted.wave.stages.map((s) => s.status)).toEqual(['PASSED', 'PUBLISHED', 'PENDING']);
  });

  it('is idempotent: a duplicate or late event, or another workflow of the stage, changes nothing', () => {
    // Prepare
    const staging = atStaging();
    const started = applyStageEvent(staging, 'staging', {
      kind: 'started',
      workflowId: 'wf-stg',
      at: at(11),
    }).wave;
    const ended = applyStageEvent(started, 'staging', completed('wf-stg', 26)).wave;
    // Act / Assess
    expect(applyStageEvent(ended, 'staging', completed('wf-stg', 26)).changed).toBe(false);
    expect(
      applyStageEvent(ended, 'staging', { kind: 'started', workflowId: 'wf-stg', at: at(11) }).changed,
    ).toBe(false);
    expect(applyStageEvent(started, 'staging', completed('wf-other', 26)).changed).toBe(false);
    expect(
      applyStageEvent(staging, 'staging', {
        kind: 'ended',
        workflowId: 'wf-dup',
        at: at(11),
        outcome: 'SKIPPED',
        reasons: [{ code: 'DUPLICATE', message: 'already handled' }],
      }).changed,
    ).toBe(false);
    // An outcome that arrives before its start still ends the stage (EventBridge reorders).
    expect(applyStageEvent(staging, 'staging', completed('wf-stg', 26)).wave.stages[1]?.status).toBe(
      'SOAKING',
    );
  });

  it('halts where a stage failed, with the reason; the stages after it are never reached', () => {
    // Prepare
    const staging = atStaging();
    // Act
    const t = applyStageEvent(staging, 'staging', {
      kind: 'ended',
      workflowId: 'wf-stg',
      at: at(20),
      outcome: 'ROLLED_BACK',
      reasons: [{ code: 'DEPLOYMENT_STOPPED', message: 'alarm checkout-staging-error-rate' }],
    });
    // Assess
    expect(t.wave.status).toBe('HALTED');
    expect(t.wave.halted).toMatchObject({ environment: 'staging', at: at(20) });
    expect(t.wave.halted?.reasons[0]?.message).toContain('the upgrade in staging ended ROLLED_BACK');
    expect(t.wave.stages.map((s) => s.status)).toEqual(['PASSED', 'FAILED', 'STOPPED']);
    expect(t.effects).toEqual([]);
  });

  it('with coordinated rollback, returns the earlier stages to their version from before the wave, once', () => {
    // Prepare
    const staging = atStaging({ coordinatedRollback: true });
    // Act
    const t = applyStageEvent(staging, 'staging', {
      kind: 'ended',
      workflowId: 'wf-stg',
      at: at(20),
      outcome: 'FAILED',
      reasons: [],
    });
    const sent = rollbackSent(t.wave, 'development', at(20)).wave;
    // Assess
    expect(t.effects).toEqual([{ type: 'rollback', environment: 'development' }]);
    expect(t.wave.stages[0]?.rollback).toMatchObject({ toVersion: '1.0.0', sent: false });
    expect(unsentRollbacks(t.wave).map((s) => s.environment)).toEqual(['development']);
    expect(unsentRollbacks(sent)).toEqual([]);
    expect(rollbackSent(sent, 'development', at(21)).changed).toBe(false);
  });

  it('a rejection halts without a coordinated rollback', () => {
    // Prepare
    const staging = atStaging({ coordinatedRollback: true });
    // Act
    const t = applyStageEvent(staging, 'staging', {
      kind: 'ended',
      workflowId: 'wf-stg',
      at: at(20),
      outcome: 'REJECTED',
      reasons: [{ code: 'REJECTED_BY_APPROVER', message: 'not now' }],
    });
    // Assess
    expect(t.wave.status).toBe('HALTED');
    expect(t.effects).toEqual([]);
  });

  it('an alarm in ALARM at the end of a soak halts the wave there', () => {
    // Prepare
    const soaking = applyStageEvent(
      wave({ coordinatedRollback: true }),
      'development',
      completed('wf-dev', 1),
    ).wave;
    // Act
    const t = endSoak(soaking, 'development', {
      at: at(11),
      alarms: [{ name: 'checkout-development-error-rate', state: 'ALARM', reason: 'Threshold Crossed' }],
      afterWaves: {},
    });
    // Assess
    expect(t.wave.status).toBe('HALTED');
    expect(t.wave.halted?.reasons[0]).toMatchObject({ code: 'SOAK_ALARM' });
    expect(t.wave.halted?.reasons[0]?.message).toContain('checkout-development-error-rate in ALARM');
    expect(t.effects).toEqual([{ type: 'rollback', environment: 'development' }]);
  });

  it('waits for the wave of the same release it comes after, then promotes', () => {
    // Prepare
    const soaking = applyStageEvent(
      wave({ after: ['pricing'] }, { release: 'abc1234' }),
      'development',
      completed('wf-dev', 1),
    ).wave;
    const pricing = { ...atStaging(), waveId: 'wave-p', component: 'pricing' };
    // Act
    const held = endSoak(soaking, 'development', { at: at(11), alarms: [], afterWaves: { pricing } });
    const pricingDone = applyStageEvent(
      applyStageEvent(pricing, 'staging', { kind: 'started', workflowId: 'wf-p', at: at(11) }).wave,
      'staging',
      completed('wf-p', 20),
    ).wave;
    const released = endSoak(held.wave, 'development', {
      at: at(21),
      alarms: [],
      afterWaves: { pricing: pricingDone },
    });
    // Assess
    expect(held.wave.stages[0]?.status).toBe('WAITING');
    expect(held.effects).toEqual([{ type: 'recheck', environment: 'development', at: at(12) }]);
    expect(released.effects).toEqual([{ type: 'publish', environment: 'staging' }]);
  });

  it('halts when the wave it comes after halted before that stage', () => {
    // Prepare
    const soaking = applyStageEvent(
      wave({ after: ['pricing'] }, { release: 'abc1234' }),
      'development',
      completed('wf-dev', 1),
    ).wave;
    const pricing = {
      ...atStaging(),
      waveId: 'wave-p',
      component: 'pricing',
      status: 'HALTED' as const,
    };
    // Act
    const t = endSoak(soaking, 'development', { at: at(11), alarms: [], afterWaves: { pricing } });
    // Assess
    expect(t.wave.status).toBe('HALTED');
    expect(t.wave.halted?.reasons[0]?.code).toBe('AFTER_HALTED');
  });

  it('a newer version supersedes it: it promotes no further', () => {
    // Prepare
    const soaking = applyStageEvent(wave(), 'development', completed('wf-dev', 1)).wave;
    // Act
    const t = supersede(soaking, { waveId: 'wave-2', version: '1.2.0' }, at(5));
    const older = supersede(soaking, { waveId: 'wave-0', version: '1.0.5' }, at(5));
    // Assess
    expect(t.wave.status).toBe('SUPERSEDED');
    expect(t.wave.supersededBy).toEqual({ waveId: 'wave-2', version: '1.2.0', at: at(5) });
    expect(t.wave.stages.map((s) => s.status)).toEqual(['COMPLETED', 'STOPPED', 'STOPPED']);
    expect(endSoak(t.wave, 'development', { at: at(11), ...quiet }).effects).toEqual([]);
    expect(older.changed).toBe(false);
  });

  it('a stage that cannot be published fails, and the wave halts with the reason', () => {
    // Prepare
    const staging = atStaging();
    // Act
    const t = publishFailed(
      staging,
      'staging',
      { code: 'PROMOTION_UNPUBLISHABLE', message: 'artifact: expected an artifact' },
      at(11),
    );
    // Assess
    expect(t.wave.status).toBe('HALTED');
    expect(t.wave.stages.map((s) => s.status)).toEqual(['PASSED', 'FAILED', 'STOPPED']);
  });
});

describe('the artifact a promotion publishes', () => {
  const target = { type: 'lambda', functionName: 'checkout-staging', alias: 'live' } as const;
  const dev = { type: 'lambda', functionName: 'checkout-development', functionVersion: '7' } as const;
  const shared = { type: 'lambda', functionName: 'checkout-staging', functionVersion: '7' } as const;

  it('is the one CI named for the stage, else the serving one when the stage deploys the same function', () => {
    // Act / Assess
    const base = { component: 'checkout', environment: 'staging', from: 'development', target };
    expect(promotedArtifact({ ...base, named: shared, serving: dev })).toEqual({ artifact: shared });
    expect(promotedArtifact({ ...base, serving: shared })).toEqual({ artifact: shared });
  });

  it('refuses another function, saying what CI must send', () => {
    // Act
    const result = promotedArtifact({
      component: 'checkout',
      environment: 'staging',
      from: 'development',
      target,
      serving: dev,
    });
    // Assess
    expect(result).toEqual({
      refused: {
        code: 'PROMOTION_NO_ARTIFACT',
        message:
          "development runs checkout-development:7, but staging deploys checkout-staging; publish the version there and name it in the starting event's metadata.artifacts.staging",
      },
    });
  });

  it("keeps a Version Published's metadata.artifacts by its event id, and reports a map that does not parse", async () => {
    // Prepare
    const kept: { eventId: string; artifacts: StageArtifacts; expiresAt: number }[] = [];
    const waves = {
      saveEventArtifacts: async (eventId: string, artifacts: StageArtifacts, expiresAt: number) => {
        kept.push({ eventId, artifacts, expiresAt });
      },
    } as unknown as WaveStore;
    const event = (artifacts: unknown) =>
      published.schema.parse({
        id: 'ev-1',
        'detail-type': 'Version Published',
        source: 'ci.github',
        time: '2026-12-02T10:00:00Z',
        detail: {
          component: 'checkout',
          version: '1.1.0',
          environment: 'development',
          artifact: dev,
          ...(artifacts === undefined ? {} : { metadata: { artifacts } }),
        },
      });
    // Act
    const none = await keepStageArtifacts(event(undefined), { waves });
    const good = await keepStageArtifacts(event({ staging: shared }), { waves });
    const bad = await keepStageArtifacts(event({ staging: { type: 'lambda', functionName: 'x' } }), {
      waves,
    });
    // Assess
    expect(none).toEqual({ kept: false });
    expect(good).toEqual({ kept: true });
    expect(kept).toEqual([
      {
        eventId: 'ev-1',
        artifacts: { staging: shared },
        expiresAt: Date.parse('2026-12-02T10:00:00Z') / 1000 + 90 * 86_400,
      },
    ]);
    expect(bad.kept).toBe(false);
    expect(bad.problems?.join('\n')).toContain('metadata.artifacts.staging.functionVersion');
  });
});
