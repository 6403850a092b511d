/**
 * `npm run chaos`: the reliability suite at full size. Prints each scenario's figures and exits
 * non-zero when an invariant broke.
 */
import {
  type Figures,
  faultAtEveryStep,
  hostileEvents,
  killedMidUpgrade,
  lostAndRepeatedEvents,
  manyVersionsAtOnce,
  sameEventManyTimes,
} from './scenarios';

const started = performance.now();
const all: Figures[] = [];
const print = (f: Figures & { droppedByRule?: number }) => {
  all.push(f);
  console.log(`\n${f.scenario}`);
  console.log(
    `  events delivered ${f.eventsDelivered}${f.droppedByRule !== undefined ? ` (${f.droppedByRule} matched no rule)` : ''}, upgrades ${f.upgrades}, deployments ${f.deployments}`,
  );
  console.log(
    `  crashes ${f.crashes}, leaked locks ${f.leakedLocks}, stuck executions ${f.stuckExecutions}, wrong registry entries ${f.wrongRegistryEntries}`,
  );
  console.log(
    `  outcomes ${Object.entries(f.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  for (const v of f.violations.slice(0, 20)) console.log(`  VIOLATION ${v}`);
};

print(await sameEventManyTimes(100));
print(await manyVersionsAtOnce(50));
print(await hostileEvents(Number(process.env.CHAOS_HOSTILE ?? 10_000)));
print(await faultAtEveryStep());
print(
  await killedMidUpgrade([
    'Intake',
    'Lock',
    'Verify',
    'Decide',
    'Deploy',
    'WaitForDeployment',
    'Bake',
    'Record',
    'random',
    'random',
    'random',
    'random',
  ]),
);
print(await lostAndRepeatedEvents());

const broken = all.filter(
  (f) => f.crashes || f.leakedLocks || f.stuckExecutions || f.wrongRegistryEntries || f.violations.length,
);
console.log(
  `\n${all.length} scenarios in ${((performance.now() - started) / 1000).toFixed(1)} s; ${broken.length ? `BROKEN: ${broken.map((f) => f.scenario).join('; ')}` : 'every invariant held'}`,
);
process.exitCode = broken.length ? 1 : 0;
