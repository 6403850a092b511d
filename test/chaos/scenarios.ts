/**
 * The reliability suite (issue 9): each scenario drives the twin (the synthesized app with IAM,
 * the real handlers and adapters) through races, faults and hostile input, then checks the
 * invariants an operator relies on. `npm run chaos` runs them at full size and prints the figures;
 * `test/chaos/chaos.test.ts` runs them small in `npm test`.
 */
import fc from 'fast-check';
import demoCatalog from '../../catalog/demo.catalog.json';
import type { ExecutionResult } from '../../local/engine';
import { LocalStack, type LocalStackOptions } from '../../local/stack';
import { type Catalog, parseCatalog } from '../../shared/domain/catalog';
import { compareVersions } from '../../shared/domain/semver';
import { versionPublished } from '../support/events';
import { deployments } from '../support/twin';

export const START = new Date('2026-12-02T10:00:00Z');

/** What every scenario reports; the invariants are the zeros. */
export interface Figures {
  scenario: string;
  eventsDelivered: number;
  upgrades: number;
  deployments: number;
  crashes: number;
  leakedLocks: number;
  stuckExecutions: number;
  wrongRegistryEntries: number;
  /** Scenario-specific violations, each named. */
  violations: string[];
  outcomes: Record<string, number>;
}

function emptyFigures(scenario: string): Figures {
  return {
    scenario,
    eventsDelivered: 0,
    upgrades: 0,
    deployments: 0,
    crashes: 0,
    leakedLocks: 0,
    stuckExecutions: 0,
    wrongRegistryEntries: 0,
    violations: [],
    outcomes: {},
  };
}

export function demo(mutate?: (c: Record<string, Record<string, Record<string, unknown>>>) => void): Catalog {
  const copy = structuredClone(demoCatalog) as unknown as Record<
    string,
    Record<string, Record<string, unknown>>
  >;
  mutate?.(copy);
  return parseCatalog(copy);
}

/** Opens a twin, runs `body`, and always closes it. */
async function withStack<T>(
  options: Omit<LocalStackOptions, 'startAt'>,
  body: (s: LocalStack) => Promise<T>,
) {
  const stack = await LocalStack.start({ startAt: START, ...options });
  try {
    return await body(stack);
  } finally {
    await stack.close();
  }
}

/**
 * The invariants after everything has settled: every execution ended, no lock held, no pending
 * wait, bake or approval, every record terminal, and the registry naming what the alias serves.
 */
async function checkSettled(s: LocalStack, figures: Figures, results: ExecutionResult[]) {
  for (const r of results) {
    const record = await s.stores.workflows.get(r.name);
    const outcome = record?.outcome ?? 'NO_RECORD';
    figures.outcomes[outcome] = (figures.outcomes[outcome] ?? 0) + 1;
    if (!record?.outcome || !record.endedAt) figures.stuckExecutions++;
    if (r.status === 'FAILED' && r.error === 'States.Runtime') figures.crashes++;
  }
  for (const [name, component] of Object.entries(s.options.catalog.components)) {
    for (const [environment, env] of Object.entries(component.environments)) {
      if (await s.stores.locks.get(`${name}#${environment}`)) figures.leakedLocks++;
      const target = env.target ?? component.target;
      if (target.type !== 'lambda') continue;
      const serving = s.lambda.aliasVersion(target.functionName, target.alias);
      const label = serving ? s.lambda.codeLabel(target.functionName, serving) : undefined;
      const registry = await s.stores.registry.get(name, environment);
      if (label && registry && registry.current.version !== label) {
        figures.wrongRegistryEntries++;
        figures.violations.push(
          `${name}/${environment}: registry says ${registry.current.version}, ${label} serves`,
        );
      }
    }
  }
  const [waits, bakes, approvals] = await Promise.all([
    s.stores.deploymentWaits.listPending(1000),
    s.stores.bakeWatches.listPending(1000),
    s.stores.approvals.listPending(1000),
  ]);
  figures.stuckExecutions += waits.length + bakes.length + approvals.length;
  figures.upgrades = results.length;
  figures.deployments = deployments(s).filter((d) => d.creator === 'user').length;
}

/** The same event delivered `copies` times at once: exactly one deployment. */
export async function sameEventManyTimes(copies: number): Promise<Figures> {
  const figures = emptyFigures(`the same event delivered ${copies} times, concurrently`);
  return withStack({ catalog: demo() }, async (s) => {
    const event = versionPublished({ version: '1.1.0', environment: 'development', id: 'chaos-duplicate' });
    const results = await Promise.all(
      Array.from({ length: copies }, () => s.startExecution(structuredClone(event))),
    );
    await s.drain();
    figures.eventsDelivered = copies;
    await checkSettled(s, figures, results);
    if (figures.deployments !== 1) figures.violations.push(`${figures.deployments} deployments, expected 1`);
    if ((figures.outcomes.COMPLETED ?? 0) !== 1) figures.violations.push('not exactly one COMPLETED');
    return figures;
  });
}

/**
 * `count` versions of one component published at once: deployments serialized, never an older
 * version over a newer one, the highest serving at the end, the rest SKIPPED as superseded.
 */
export async function manyVersionsAtOnce(count: number): Promise<Figures> {
  const figures = emptyFigures(`${count} versions of one component published at once`);
  const catalog = demo((c) => {
    // No minimum interval between upgrades: the scenario is about ordering, not about policy.
    const policies = c.policies as Record<string, Record<string, unknown>>;
    policies.development = { ...policies.development, minIntervalMinutes: 0 };
  });
  return withStack({ catalog }, async (s) => {
    const versions = Array.from({ length: count }, (_, i) => `1.1.${i}`);
    // Shuffled so arrival order is not version order.
    const order = versions.map((v, i) => ({ v, k: (i * 7919) % count })).sort((a, b) => a.k - b.k);
    const inFlight = new Map<string, number>();
    let maxInFlight = 0;
    s.codedeploy.onProgress((p) => {
      const active = s.codedeploy
        .list()
        .filter(
          (d) =>
            d.deploymentGroupName === p.deploymentGroupName && ['Created', 'InProgress'].includes(d.status),
        );
      inFlight.set(p.deploymentGroupName, active.length);
      maxInFlight = Math.max(maxInFlight, active.length);
    });
    const results = await Promise.all(
      order.map(({ v }) => s.startExecution(versionPublished({ version: v, environment: 'development' }))),
    );
    await s.drain();
    figures.eventsDelivered = count;
    await checkSettled(s, figures, results);
    if (maxInFlight > 1)
      figures.violations.push(`${maxInFlight} deployments in flight at once for one group`);
    const highest = [...versions].sort(compareVersions).at(-1);
    const registry = await s.stores.registry.get('checkout', 'development');
    if (registry?.current.version !== highest) {
      figures.violations.push(`the registry serves ${registry?.current.version}, expected ${highest}`);
    }
    let served = '0.0.0';
    for (const d of deployments(s).filter((x) => x.creator === 'user' && x.status === 'Succeeded')) {
      if (d.toVersion && compareVersions(d.toVersion, served) < 0) {
        figures.violations.push(`${d.toVersion} deployed over ${served}`);
      }
      if (d.toVersion) served = d.toVersion;
    }
    if (figures.outcomes.EXPIRED) figures.violations.push(`${figures.outcomes.EXPIRED} EXPIRED`);
    return figures;
  });
}

/** An arbitrary hostile event: wrong types, huge strings, unicode, prototype keys, deep nesting. */
export function hostileEvent(): fc.Arbitrary<unknown> {
  const nasty = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '', ' ', '\u0000'),
    fc.constantFrom(
      '1.0.0',
      '01.2.3',
      '1.2',
      '1.2.3-',
      '1.2.3+build',
      '1.2.3-alpha.01',
      '999999999999999999.0.0',
      'v1.2.3',
    ),
    fc.string({ minLength: 3000, maxLength: 5000 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  const deep = fc.integer({ min: 50, max: 3000 }).map((depth) => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = { nested: v };
    return v;
  });
  const value = fc.oneof(
    nasty,
    deep,
    fc.array(nasty, { maxLength: 5 }),
    fc.dictionary(nasty.map(String), nasty, { maxKeys: 5 }),
  );
  const detail = fc.record(
    {
      component: fc.oneof(
        fc.constantFrom('checkout', 'pricing', 'storefront', 'constructor', '__proto__'),
        value,
      ),
      version: fc.oneof(fc.constantFrom('1.1.0', '2.0.0', '1.0.0'), value),
      environment: fc.oneof(
        fc.constantFrom('development', 'staging', 'production', 'toString', 'prototype'),
        value,
      ),
      artifact: fc.oneof(
        fc.record({
          type: fc.constantFrom('lambda', 'ecs', 'image', 'ec2'),
          functionName: value,
          functionVersion: value,
        }),
        value,
      ),
      labels: fc.oneof(fc.array(value, { maxLength: 30 }), value),
      extra: value,
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    fc.record({
      version: fc.constant('0'),
      id: fc.uuid(),
      'detail-type': fc.constantFrom('Version Published', 'Rollback Requested', 'ECR Image Action'),
      source: fc.constantFrom('ci.test', 'aws.ecr', 'upshift'),
      account: fc.constant('000000000000'),
      time: fc.constant(START.toISOString()),
      region: fc.constant('us-east-1'),
      resources: fc.constant([]),
      detail: fc.oneof(detail, value),
    }),
    value,
  );
}

/**
 * Hostile events through the rules (the Version Published pattern) and Intake: zero crashes,
 * each INVALID or IGNORED with a reason, nothing deployed.
 */
export async function hostileEvents(count: number, seed = 9): Promise<Figures & { droppedByRule: number }> {
  const figures = { ...emptyFigures(`${count} generated hostile events`), droppedByRule: 0 };
  const events = fc.sample(hostileEvent(), { numRuns: count, seed });
  return withStack({ catalog: demo() }, async (s) => {
    const { matchesPattern } = await import('../../shared/domain/event-pattern');
    const { rulePatterns, upgradeTriggerRules } = await import('../../shared/domain/patterns');
    const results: ExecutionResult[] = [];
    // In batches, as a bus delivers them.
    for (let i = 0; i < events.length; i += 100) {
      const batch = events.slice(i, i + 100).filter((event) => {
        let matched = false;
        try {
          matched = upgradeTriggerRules.some((rule) => matchesPattern(rulePatterns[rule], event as never));
        } catch {
          figures.crashes++;
        }
        if (!matched) figures.droppedByRule++;
        return matched;
      });
      results.push(...(await Promise.all(batch.map((event) => s.startExecution(event)))));
    }
    await s.drain();
    figures.eventsDelivered = events.length;
    await checkSettled(s, figures, results);
    for (const r of results) {
      const record = await s.stores.workflows.get(r.name);
      if (!record) continue;
      const allowed = ['INVALID', 'IGNORED', 'SKIPPED', 'REJECTED', 'COMPLETED'];
      if (!allowed.includes(record.outcome ?? '')) figures.violations.push(`${r.name}: ${record.outcome}`);
      if ((record.outcome === 'INVALID' || record.outcome === 'IGNORED') && !record.reasons[0]?.message) {
        figures.violations.push(`${r.name}: ${record.outcome} without a reason`);
      }
    }
    // A hostile event may look like a real one (checkout 1.1.0 in development) and be deployed as
    // it should; anything else deployed is a violation.
    for (const d of deployments(s)) {
      if (d.group !== 'checkout-development' || d.toVersion !== '1.1.0') {
        figures.violations.push(`deployed ${d.toVersion} to ${d.group}`);
      }
    }
    return figures;
  });
}

/**
 * A fault injected into each call an upgrade makes, one at a time (an error before the call, a
 * lost response after it): each run ends retried or FAILED with a reason, nothing left behind,
 * and the next upgrade of the same component and environment proceeds.
 */
export async function faultAtEveryStep(limit = Number.POSITIVE_INFINITY): Promise<Figures> {
  const figures = emptyFigures('a fault injected at every step');
  // The calls of one clean upgrade, by function and command.
  const calls = await withStack({ catalog: demo() }, async (s) => {
    s.transport.record(true);
    await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
    const seen = new Map<string, { caller: string; service: string; command: string }>();
    for (const c of s.transport.calls) {
      if (c.caller === 'local-cli' || c.caller.startsWith('events:') || c.caller === 'Reconcile') continue;
      seen.set(`${c.caller}:${c.service}:${c.command}`, c);
    }
    return [...seen.values()].slice(0, limit);
  });
  for (const call of calls) {
    for (const when of ['before', 'after'] as const) {
      await withStack({ catalog: demo() }, async (s) => {
        s.transport.injectFault({
          service: call.service as never,
          command: call.command,
          caller: call.caller,
          when,
          times: 1,
          // Each service's own 5xx: what a retry is for.
          error: () =>
            Object.assign(new Error(`injected ${when} ${call.caller} ${call.command}`), {
              name: serverFault[call.service] ?? 'InternalServerError',
              $fault: 'server',
            }),
        });
        const first = await s.startExecution(versionPublished({ version: '1.1.0', environment: 'staging' }));
        await s.drain();
        const next = await s.startExecution(versionPublished({ version: '1.1.1', environment: 'staging' }));
        await s.drain();
        figures.eventsDelivered += 2;
        const local: Figures = emptyFigures('');
        await checkSettled(s, local, [first, next]);
        figures.upgrades += 2;
        figures.crashes += local.crashes;
        figures.leakedLocks += local.leakedLocks;
        figures.stuckExecutions += local.stuckExecutions;
        figures.wrongRegistryEntries += local.wrongRegistryEntries;
        for (const [k, v] of Object.entries(local.outcomes))
          figures.outcomes[k] = (figures.outcomes[k] ?? 0) + v;
        const firstRecord = await s.stores.workflows.get(first.name);
        if (!firstRecord) {
          figures.violations.push(
            `${call.caller} ${call.command} ${when}: no workflow record (execution ${first.status}: ${first.error}: ${first.cause?.slice(0, 200)})`,
          );
        }
        if (firstRecord?.outcome === 'FAILED' && !firstRecord.reasons[0]?.message) {
          figures.violations.push(`${call.caller} ${call.command} ${when}: FAILED without a reason`);
        }
        const nextRecord = await s.stores.workflows.get(next.name);
        if (nextRecord?.outcome !== 'COMPLETED') {
          figures.violations.push(
            `${call.caller} ${call.command} ${when}: the next upgrade ended ${nextRecord?.outcome} (${nextRecord?.reasons[0]?.code})`,
          );
        }
      });
    }
  }
  return figures;
}

/** A dropped, duplicated or reordered CodeDeploy or alarm event: the outcome is the same. */
export async function lostAndRepeatedEvents(): Promise<Figures> {
  const figures = emptyFigures('dropped, duplicated and reordered CodeDeploy and alarm events');
  const cases: { name: string; options: Partial<LocalStackOptions>; drop?: boolean }[] = [
    { name: 'clean', options: {} },
    { name: 'CodeDeploy events dropped', options: {}, drop: true },
    { name: 'every event delivered twice', options: { delivery: { duplicates: 1, random: seeded(1) } } },
    {
      name: 'deliveries reordered by up to 30 s',
      options: { delivery: { reorderMs: 30_000, random: seeded(2) } },
    },
  ];
  const expected: Record<string, string> = {};
  for (const c of cases) {
    await withStack({ catalog: demo(), ...c.options }, async (s) => {
      if (c.drop) s.codedeploy.dropEvents = true;
      const good = await s.run(versionPublished({ version: '1.1.0', environment: 'staging' }));
      const bad = await s.run(versionPublished({ version: '1.2.0', environment: 'staging' }));
      await s.drain();
      figures.eventsDelivered += 2;
      const local = emptyFigures('');
      await checkSettled(s, local, [good.execution, bad.execution]);
      figures.upgrades += 2;
      figures.leakedLocks += local.leakedLocks;
      figures.stuckExecutions += local.stuckExecutions;
      figures.wrongRegistryEntries += local.wrongRegistryEntries;
      for (const [label, record] of [
        ['good', good.record],
        ['bad', bad.record],
      ] as const) {
        const outcome = record?.outcome ?? 'NONE';
        figures.outcomes[`${label}:${outcome}`] = (figures.outcomes[`${label}:${outcome}`] ?? 0) + 1;
        expected[label] ??= outcome;
        if (expected[label] !== outcome) {
          figures.violations.push(
            `${c.name}: the ${label} release ended ${outcome}, clean run ${expected[label]}`,
          );
        }
      }
    });
  }
  return figures;
}

/**
 * A process killed at a point of an upgrade with a kept state, then restarted: the dead workflow
 * is ended with its reason, nothing it held stays held, and the next upgrade proceeds at once.
 * `killAt` names the states to kill in (one run each); `random` picks a random real delay instead.
 */
export async function killedMidUpgrade(killAt: string[]): Promise<Figures> {
  const figures = emptyFigures(`a process killed mid-upgrade (${killAt.join(', ')}), then restarted`);
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  for (const point of killAt) {
    const dir = mkdtempSync(join(tmpdir(), 'upshift-chaos-kill-'));
    try {
      const worker = spawn(process.execPath, ['--import', 'tsx', 'test/chaos/worker.ts', dir, '1.1.0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      // Listened for from the start: a worker that ends before the kill has already closed.
      const closed = new Promise((r) => worker.once('close', r));
      let exitCode: number | null = null;
      worker.once('exit', (code) => {
        exitCode = code;
      });
      // Read, so a chatty worker never blocks on a full pipe; the tail explains an early end.
      let stderrTail = '';
      worker.stderr.on('data', (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString()).slice(-600);
      });
      const killedIn = await new Promise<string>((resolve) => {
        let buffer = '';
        worker.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          for (const line of buffer.split('\n')) {
            const state = line.startsWith('STATE ') ? line.slice(6) : undefined;
            if (state === point || (point === 'random' && state && Math.random() < 0.08)) {
              worker.kill('SIGKILL');
              resolve(state);
            }
          }
          buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
        });
        worker.on('exit', () => resolve('(ended before the kill)'));
      });
      await closed;
      figures.eventsDelivered++;
      await withStack({ catalog: demo(), stateDir: dir }, async (s) => {
        await s.drain();
        const [dead] = await s.stores.workflows.list(10);
        const next = await s.startExecution(versionPublished({ version: '1.1.1', environment: 'staging' }));
        await s.drain();
        figures.eventsDelivered++;
        const local = emptyFigures('');
        await checkSettled(s, local, [next]);
        figures.upgrades += 2;
        figures.leakedLocks += local.leakedLocks;
        figures.stuckExecutions += local.stuckExecutions;
        figures.wrongRegistryEntries += local.wrongRegistryEntries;
        const deadOutcome = dead?.outcome ?? 'RUNNING';
        figures.outcomes[`killed:${deadOutcome}`] = (figures.outcomes[`killed:${deadOutcome}`] ?? 0) + 1;
        if (!dead?.outcome || !dead.endedAt) {
          figures.violations.push(
            `killed in ${killedIn}: the dead workflow was not ended (worker exit ${exitCode}; ${stderrTail.replace(/\s+/g, ' ').slice(-300)})`,
          );
        }
        if (dead?.outcome === 'FAILED' && !dead.reasons[0]?.message)
          figures.violations.push(`killed in ${killedIn}: no reason`);
        const nextRecord = await s.stores.workflows.get(next.name);
        const nextOutcome = nextRecord?.outcome ?? 'NONE';
        figures.outcomes[`next:${nextOutcome}`] = (figures.outcomes[`next:${nextOutcome}`] ?? 0) + 1;
        if (nextOutcome !== 'COMPLETED') {
          figures.violations.push(
            `killed in ${killedIn}: the next upgrade ended ${nextOutcome} (${nextRecord?.reasons[0]?.code})`,
          );
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return figures;
}

/** The exception each service answers a server-side failure with. */
const serverFault: Record<string, string> = {
  lambda: 'ServiceException',
  dynamodb: 'InternalServerError',
  codedeploy: 'ServiceUnavailableException',
  cloudwatch: 'InternalServiceFault',
  events: 'InternalException',
  states: 'ServiceUnavailable',
  ecs: 'ServerException',
};

function seeded(seed: number): () => number {
  let x = seed * 2654435761;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}
