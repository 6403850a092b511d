import { describe, expect, it } from 'vitest';
import {
  type Figures,
  faultAtEveryStep,
  hostileEvents,
  killedMidUpgrade,
  lostAndRepeatedEvents,
  manyVersionsAtOnce,
  sameEventManyTimes,
} from './scenarios';

/** The invariants every scenario must keep: the zeros `npm run chaos` prints. */
function expectInvariants(f: Figures) {
  expect(f.violations).toEqual([]);
  expect({
    crashes: f.crashes,
    leakedLocks: f.leakedLocks,
    stuck: f.stuckExecutions,
    wrong: f.wrongRegistryEntries,
  }).toEqual({
    crashes: 0,
    leakedLocks: 0,
    stuck: 0,
    wrong: 0,
  });
}

// The fast part of the reliability suite; `npm run chaos` runs the same scenarios at full size.
describe('reliability suite (small)', () => {
  it('the same event delivered 20 times at once makes exactly one deployment', async () => {
    // Act
    const f = await sameEventManyTimes(20);
    // Assess
    expectInvariants(f);
    expect(f.deployments).toBe(1);
    expect(f.outcomes).toEqual({ COMPLETED: 1, SKIPPED: 19 });
  });

  it('10 versions at once: serialized, never older over newer, the newest serves, none EXPIRED', async () => {
    // Act
    const f = await manyVersionsAtOnce(10);
    // Assess
    expectInvariants(f);
    expect(f.outcomes.EXPIRED ?? 0).toBe(0);
    expect((f.outcomes.COMPLETED ?? 0) + (f.outcomes.SKIPPED ?? 0)).toBe(10);
  });

  it('300 generated hostile events: no crash, each INVALID or IGNORED with a reason, nothing else deployed', async () => {
    // Act
    const f = await hostileEvents(300);
    // Assess
    expectInvariants(f);
    expect(f.eventsDelivered).toBe(300);
  });

  it('a fault before or after each call of an upgrade: retried or FAILED with a reason; the next upgrade proceeds', async () => {
    // Act
    const f = await faultAtEveryStep(6);
    // Assess
    expectInvariants(f);
    expect(f.upgrades).toBe(24);
  });

  it('a process killed while it waits for a deployment or bakes: the dead workflow is ended, the next upgrade proceeds', async () => {
    // Act
    const f = await killedMidUpgrade(['WaitForDeployment', 'Bake']);
    // Assess
    expectInvariants(f);
    expect(f.outcomes).toEqual({ 'killed:FAILED': 2, 'next:COMPLETED': 2 });
  });

  it('dropped, duplicated or reordered CodeDeploy and alarm events do not change the outcome', async () => {
    // Act
    const f = await lostAndRepeatedEvents();
    // Assess
    expectInvariants(f);
    expect(f.outcomes).toEqual({ 'good:COMPLETED': 4, 'bad:ROLLED_BACK': 4 });
  });
});
