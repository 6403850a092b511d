import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { parseCatalog } from '../../shared/domain/catalog';
import { InvalidDocument } from '../../shared/domain/errors';
import {
  applyStageEvent,
  claimRollback,
  DEFAULT_AFTER_TIMEOUT_MINUTES,
  endSoak,
  promotionPolicySchema,
  publishSent,
  ROLLBACK_CLAIM_MINUTES,
  releaseRollback,
  rollbackSent,
  startWave,
  type Wave,
} from '../../shared/domain/waves';

const T0 = '2026-12-02T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const quiet = { alarms: [], afterWaves: {} };

function wave(id: string, component: string, order: string[], policy: Record<string, unknown> = {}): Wave {
  return startWave({
    waveId: id,
    component,
    version: '1.1.0',
    release: 'abc1234',
    environment: order[0] as string,
    order,
    policy: promotionPolicySchema.parse({ soakMinutes: 0, ...policy }),
    workflowId: `wf-${id}`,
    fromVersion: '1.0.0',
    at: T0,
  });
}

/** The wave's stage in `environment` completed (a workflow of its own). */
function completed(w: Wave, environment: string, minutes = 0): Wave {
  const stage = w.stages.find((s) => s.environment === environment);
  return applyStageEvent(w, environment, {
    kind: 'ended',
    workflowId: stage?.workflowId ?? `wf-${w.waveId}-${environment}`,
    at: at(minutes),
    outcome: 'COMPLETED',
    reasons: [],
  }).wave;
}

describe('after', () => {
  it('a wave of the release that does not go to the next environment holds nothing there', () => {
    // Prepare: pricing promotes development → staging and COMPLETED; checkout goes on to production
    let pricing = wave('p', 'pricing', ['development', 'staging']);
    pricing = completed(pricing, 'development');
    pricing = endSoak(pricing, 'development', { at: T0, ...quiet }).wave;
    pricing = completed(pricing, 'staging');
    const checkout = completed(
      wave('c', 'checkout', ['staging', 'production'], { after: ['pricing'] }),
      'staging',
    );
    // Act
    const t = endSoak(checkout, 'staging', { at: at(1), alarms: [], afterWaves: { pricing } });
    // Assess
    expect(pricing.status).toBe('COMPLETED');
    expect(t.wave.status).toBe('ACTIVE');
    expect(t.effects).toEqual([{ type: 'publish', environment: 'production' }]);
  });

  it('waits until its deadline, looking again each minute without a change, then halts with AFTER_TIMEOUT', () => {
    // Prepare: pricing's wave never completes staging
    const pricing = wave('p', 'pricing', ['development', 'staging']);
    const soaked = completed(
      wave('c', 'checkout', ['development', 'staging'], { after: ['pricing'], afterTimeoutMinutes: 2 }),
      'development',
    );
    const findings = (minutes: number) => ({ at: at(minutes), alarms: [], afterWaves: { pricing } });
    // Act
    const held = endSoak(soaked, 'development', findings(0));
    const again = endSoak(held.wave, 'development', findings(1));
    const late = endSoak(held.wave, 'development', findings(1.5));
    const timedOut = endSoak(held.wave, 'development', findings(2));
    // Assess
    expect(held.changed).toBe(true);
    expect(held.wave.stages[0]).toMatchObject({ status: 'WAITING', waitingSince: T0 });
    expect(again.changed).toBe(false);
    expect(again.effects).toEqual([{ type: 'recheck', environment: 'development', at: at(2) }]);
    expect(late.effects).toEqual([{ type: 'recheck', environment: 'development', at: at(2) }]);
    expect(timedOut.wave.status).toBe('HALTED');
    expect(timedOut.wave.halted?.reasons[0]).toMatchObject({ code: 'AFTER_TIMEOUT' });
    expect(timedOut.wave.stages.map((s) => s.status)).toEqual(['PASSED', 'STOPPED']);
    expect(promotionPolicySchema.parse({}).afterTimeoutMinutes).toBe(DEFAULT_AFTER_TIMEOUT_MINUTES);
  });
});

describe('publishing and rolling back once', () => {
  it('a PUBLISHED stage is published again only while its PutEvents is not marked sent', () => {
    // Prepare
    const promoted = endSoak(
      completed(wave('w', 'checkout', ['development', 'staging']), 'development'),
      'development',
      {
        at: T0,
        ...quiet,
      },
    ).wave;
    // Act
    const unsent = endSoak(promoted, 'development', { at: at(1), ...quiet });
    const marked = publishSent(promoted, 'staging', at(1));
    const sent = endSoak(marked.wave, 'development', { at: at(2), ...quiet });
    // Assess
    expect(unsent.effects).toEqual([{ type: 'publish', environment: 'staging' }]);
    expect(marked.wave.stages[1]?.publishSent).toBe(true);
    expect(publishSent(marked.wave, 'staging', at(2)).changed).toBe(false);
    expect(sent.effects).toEqual([]);
  });

  it('a rollback is claimed by one sender until the claim lapses or is given back', () => {
    // Prepare: staging failed; development is rolled back
    let w = wave('w', 'checkout', ['development', 'staging', 'production'], { coordinatedRollback: true });
    w = endSoak(completed(w, 'development'), 'development', { at: T0, ...quiet }).wave;
    const halted = applyStageEvent(w, 'staging', {
      kind: 'ended',
      workflowId: 'wf-stg',
      at: at(1),
      outcome: 'FAILED',
      reasons: [],
    }).wave;
    // Act
    const first = claimRollback(halted, 'development', at(2));
    const second = claimRollback(first.wave, 'development', at(3));
    const lapsed = claimRollback(first.wave, 'development', at(2 + ROLLBACK_CLAIM_MINUTES));
    const givenBack = releaseRollback(first.wave, 'development', at(2));
    const notMine = releaseRollback(first.wave, 'development', at(9));
    const sent = rollbackSent(first.wave, 'development', at(3), { toVersion: '1.0.0' });
    // Assess
    expect(first.changed).toBe(true);
    expect(first.wave.stages[0]?.rollback).toMatchObject({ claimedAt: at(2), sent: false });
    expect(second.changed).toBe(false);
    expect(lapsed.changed).toBe(true);
    expect(givenBack.wave.stages[0]?.rollback?.claimedAt).toBeUndefined();
    expect(notMine.changed).toBe(false);
    expect(sent.wave.stages[0]?.rollback).toEqual(
      expect.objectContaining({ sent: true, toVersion: '1.0.0' }),
    );
    expect(sent.wave.stages[0]?.rollback?.claimedAt).toBeUndefined();
    expect(claimRollback(sent.wave, 'development', at(60)).changed).toBe(false);
  });
});

describe("the catalog's default promotion policy", () => {
  it('is checked at its own path, naming the component it does not fit', () => {
    // Prepare: a default whose order names an environment storefront lacks
    const doc = structuredClone(demoCatalog) as unknown as Record<string, unknown>;
    doc.promotion = { order: ['development', 'qa'] };
    // Act
    const problems = (() => {
      try {
        parseCatalog(doc);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidDocument);
        return (error as InvalidDocument).problems;
      }
    })();
    // Assess
    expect(problems).toContain('promotion.order[1]: "qa" is not an environment of checkout');
    expect(problems.join('\n')).not.toContain('components.checkout.promotion');
  });

  it("a component's own policy keeps its own path", () => {
    // Prepare
    const doc = structuredClone(demoCatalog) as unknown as {
      promotion?: unknown;
      components: Record<string, Record<string, unknown>>;
    };
    doc.promotion = { soakMinutes: 5 };
    (doc.components.checkout as Record<string, unknown>).promotion = { order: ['development', 'qa'] };
    // Act / Assess
    expect(() => parseCatalog(doc)).toThrow(
      'components.checkout.promotion.order[1]: "qa" is not an environment',
    );
  });
});
