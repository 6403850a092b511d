/**
 * `npm run bench`: figures for docs/benchmarks.md. Each figure is measured here, on this machine,
 * never asserted in a test.
 */

import { spawnSync } from 'node:child_process';
import demoCatalog from '../catalog/demo.catalog.json';
import { LocalStack } from '../local/stack';
import { parseCatalog } from '../shared/domain/catalog';
import { type DecisionFacts, evaluatePolicy } from '../shared/domain/decision';
import { matchesPattern } from '../shared/domain/event-pattern';
import { rulePatterns } from '../shared/domain/patterns';
import { policySchema } from '../shared/domain/policy';
import { percentile } from '../shared/domain/statistics';
import { bundleBenchmarks } from './bundles';
import { benchEvent, scaleBenchmarks, twinBenchmarks } from './twin';
import { verifyBenchmarks } from './verify';

/** The old-space cap of the capped burst, in MiB: three times the burst's live heap. */
const TWIN_HEAP_MB = 640;

function timeEach(n: number, fn: (i: number) => void): { perSecond: number; p50us: number; p99us: number } {
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn(i);
    samples.push((performance.now() - t) * 1000);
  }
  const total = performance.now() - start;
  return {
    perSecond: Math.round((n / total) * 1000),
    p50us: percentile(samples, 50),
    p99us: percentile(samples, 99),
  };
}

const fmt = (r: { perSecond: number; p50us: number; p99us: number }) =>
  `${r.perSecond.toLocaleString('en-US')}/s, p50 ${r.p50us.toFixed(1)} µs, p99 ${r.p99us.toFixed(1)} µs`;

async function main() {
  const catalog = parseCatalog(demoCatalog);
  const policy = catalog.policies.production;
  if (!policy) throw new Error('demo catalog lacks production');
  const facts: DecisionFacts = {
    component: 'checkout',
    environment: 'production',
    version: '1.1.0',
    currentVersion: '1.0.0',
    bump: 'minor',
    labels: ['security'],
    platform: 'lambda',
    verification: { verdict: 'PASS', findings: [] },
    now: '2026-12-02T10:00:00Z',
    alarmsInAlarm: [],
    deferrals: 0,
  };
  timeEach(2000, () => evaluatePolicy(facts, policy)); // warm-up
  const decide = timeEach(20_000, (i) =>
    evaluatePolicy({ ...facts, now: new Date(Date.parse(facts.now) + i * 60_000).toISOString() }, policy),
  );
  console.log(`policy evaluation (production policy, window maths included): ${fmt(decide)}`);

  // 100 policies of 10 rules each: the yardstick.
  const policies = Array.from({ length: 100 }, (_, p) =>
    policySchema.parse({
      autoApproveUpTo: ['LOW', 'MEDIUM', 'HIGH', 'NONE'][p % 4],
      maintenanceWindows:
        p % 3 === 0
          ? [{ days: ['SUN', 'WED'], start: '02:00', end: '04:00', timezone: 'Europe/Berlin' }]
          : [],
      businessHours:
        p % 5 === 0
          ? [
              {
                days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
                start: '09:00',
                end: '17:00',
                timezone: 'America/New_York',
              },
            ]
          : [],
      freezes:
        p % 7 === 0
          ? [
              {
                start: '2026-12-21T00:00:00Z',
                end: '2027-01-04T00:00:00Z',
                reason: 'holidays',
                allowLabels: ['hotfix'],
              },
            ]
          : [],
      minIntervalMinutes: 30,
      rules: Array.from({ length: 10 }, (_, r) => ({
        name: `rule-${r}`,
        priority: (r * 7) % 10,
        when: [
          { labels: ['breaking'] },
          { component: [{ prefix: `svc-${r}` }] },
          { verification: { errorRate: [{ numeric: ['>', 0.01 * r] }] } },
          { environment: [{ 'anything-but': ['dev', 'test'] }], bump: ['major'] },
          { $or: [{ labels: ['security'] }, { risk: ['HIGH', 'CRITICAL'] }] },
          { time: { weekday: ['SAT', 'SUN'] } },
          { minutesSinceLastUpgrade: [{ numeric: ['<', 120] }] },
          { alarmActive: [true] },
          { version: [{ wildcard: '*-rc*' }] },
          { currentVersion: [{ exists: true }], bump: ['minor'] },
        ][r],
        actions: [
          { requireApproval: true },
          { addBakeMinutes: 5 },
          { decision: 'DEFER', deferMinutes: 30 },
          { deploymentConfig: { lambda: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute' } },
          { decision: 'MANUAL_REVIEW' },
        ][r % 5],
      })),
    }),
  );
  const bumps = ['major', 'minor', 'patch', 'prerelease'] as const;
  const labelSets = [[], ['security'], ['breaking'], ['hotfix']];
  const factsFor = (i: number): DecisionFacts => ({
    ...facts,
    component: `svc-${i % 13}`,
    environment: ['dev', 'staging', 'prod'][i % 3] as string,
    bump: bumps[i % 4] as (typeof bumps)[number],
    labels: labelSets[i % 4] as string[],
    version: i % 9 === 0 ? '2.0.0-rc.1' : '2.0.0',
    verification: { verdict: 'PASS', findings: [], candidate: { errorRate: (i % 10) / 100, p95Ms: 50 } },
    now: new Date(Date.parse('2026-12-01T00:00:00Z') + ((i * 7919) % (30 * 86_400)) * 1000).toISOString(),
    lastUpgradeAt: '2026-11-30T22:00:00Z',
    alarmsInAlarm: i % 11 === 0 ? ['a'] : [],
  });
  timeEach(5000, (i) => evaluatePolicy(factsFor(i), policies[i % 100] as never));
  const hundred = timeEach(50_000, (i) => evaluatePolicy(factsFor(i), policies[(i * 31) % 100] as never));
  console.log(`decisions, 100 policies x 10 rules (windows, business hours, freezes): ${fmt(hundred)}`);

  const event = {
    source: 'aws.ecr',
    'detail-type': 'ECR Image Action',
    detail: {
      'action-type': 'PUSH',
      result: 'SUCCESS',
      'repository-name': 'storefront',
      'image-tag': '3.1.0',
    },
  };
  timeEach(10_000, () => matchesPattern(rulePatterns.ecrImagePush, event));
  const match = timeEach(200_000, () => matchesPattern(rulePatterns.ecrImagePush, event));
  console.log(`event pattern match (ECR push rule): ${fmt(match)}`);

  const rss = process.memoryUsage().rss;
  const stack = await LocalStack.start({ catalog, startAt: new Date('2026-12-02T10:00:00Z') });
  const runs: number[] = [];
  let transitions = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const { execution } = await stack.run(
      benchEvent('checkout', 'staging', `1.1.${i}`, String(20 + i), `bench-canary-${i}`),
    );
    runs.push(performance.now() - t);
    transitions = execution.transitions;
  }
  await stack.close();
  console.log(
    `local canary upgrade end to end (LambdaCanary10Percent5Minutes + 10 min bake, ~16 virtual minutes): median ${percentile(runs, 50).toFixed(0)} ms real, ${transitions} state transitions`,
  );
  await costBenchmarks(catalog);
  await twinBenchmarks((line) => console.log(line));
  await verifyBenchmarks((line) => console.log(line));
  await bundleBenchmarks((line) => console.log(line));
  if (!process.argv.includes('--quick')) {
    await scaleBenchmarks((line) => console.log(line));
    cappedHeapBurst((line) => console.log(line));
  }
  console.log(
    `resident memory at the end: ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB (at start ${Math.round(rss / 2 ** 20)} MiB)`,
  );
}

/**
 * The same burst in a fresh process whose V8 old space is capped (TWIN_HEAP_MB). On a roomy machine
 * V8 lets garbage grow well past the live heap (about 200 MiB at 1,000 upgrades in flight) before a
 * major collection, so the default figure says little about what the twin needs; docs/local-runtime.md
 * says how to run `upshift up` the same way.
 */
function cappedHeapBurst(log: (line: string) => void) {
  const result = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${TWIN_HEAP_MB}`,
      '--import',
      'tsx',
      'bench/scale.ts',
      '--no-sizes',
      '--burst',
      '1000',
    ],
    { encoding: 'utf8', env: process.env },
  );
  const lines = `${result.stdout}`.trim().split('\n').filter(Boolean);
  if (result.status !== 0) {
    log(
      `burst with node --max-old-space-size=${TWIN_HEAP_MB}: failed (exit ${result.status}): ${result.stderr.trim().split('\n').at(-1)}`,
    );
    return;
  }
  for (const line of lines) log(`(node --max-old-space-size=${TWIN_HEAP_MB}) ${line}`);
}

/** Transitions and cost of a happy-path upgrade with a 30-minute canary and a 10-minute bake. */
async function costBenchmarks(catalog: ReturnType<typeof parseCatalog>) {
  const SFN_PER_TRANSITION = 0.025 / 1000; // Standard workflows, us-east-1
  const PIPELINE_PER_ACTION_MINUTE = 0.002; // CodePipeline V2
  const canaryCatalog = structuredClone(catalog);
  const staging = canaryCatalog.policies.staging;
  if (!staging) throw new Error('demo catalog lacks staging');
  canaryCatalog.policies.staging = {
    ...staging,
    deploymentConfig: {
      ...staging.deploymentConfig,
      lambda: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
    },
  };
  const stack = await LocalStack.start({ catalog: canaryCatalog, startAt: new Date('2026-12-02T10:00:00Z') });
  const { execution, record } = await stack.run(
    benchEvent('checkout', 'staging', '1.1.0', '7', 'bench-cost'),
  );
  await stack.close();
  const minutes = (Date.parse(record?.endedAt ?? '') - Date.parse(record?.startedAt ?? '')) / 60_000;
  const pollTransitions = execution.transitions + Math.round(((30 + 10) * 60) / 30) * 3;
  console.log(
    `happy path, LambdaCanary10Percent30Minutes + 10 min bake (${minutes.toFixed(0)} virtual min): ${execution.transitions} state transitions = $${(
      execution.transitions * SFN_PER_TRANSITION
    ).toFixed(
      5,
    )} per upgrade; polling every 30 s instead: ~${pollTransitions} transitions = $${(pollTransitions * SFN_PER_TRANSITION).toFixed(5)}; a CodePipeline V2 CodeDeploy action for the same 30-minute shift: 30 action-minutes = $${(
      30 * PIPELINE_PER_ACTION_MINUTE
    ).toFixed(3)}`,
  );
}

await main();
