/**
 * The twin's figures (issue 7): alarm → revert reaction, cold and warm start, DynamoDB calls per
 * upgrade by kind, per-upgrade time against the catalog's size, and many upgrades at once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import demoCatalog from '../catalog/demo.catalog.json';
import { LocalStack } from '../local/stack';
import { cacheFileName, projectRoot, synthKey } from '../local/twin/synth';
import { type Catalog, parseCatalog } from '../shared/domain/catalog';
import { percentile } from '../shared/domain/statistics';

const START = new Date('2026-12-02T10:00:00Z');
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
/**
 * CPU time of this process's main thread (the handlers, the engine, the emulators, the SDK), in
 * ms, from Linux's per-thread accounting; undefined elsewhere. On a shared machine it says what
 * the wall time would be with the cores to ourselves better than the wall time does.
 */
function mainThreadCpuMs(): number | undefined {
  const file = `/proc/self/task/${process.pid}/stat`;
  if (!existsSync(file)) return undefined;
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, in clock ticks of 10 ms (USER_HZ).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time (user and system) this process used since `start`, in ms: steadier than wall time on a shared machine. */
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/** A Version Published event for one component, its Lambda version numbered after the semver. */
export function benchEvent(
  component: string,
  environment: string,
  version: string,
  functionVersion: string,
  id: string,
) {
  return {
    version: '0',
    id,
    'detail-type': 'Version Published',
    source: 'bench',
    account: '000000000000',
    time: START.toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      component,
      version,
      environment,
      artifact: {
        type: 'lambda',
        // The demo catalog gives each checkout environment its own function.
        functionName: component === 'checkout' ? `checkout-${environment}` : component,
        functionVersion,
      },
    },
  };
}

/**
 * A catalog of `n` Lambda components cloned from the demo's checkout, one environment each
 * (development: all at once, a 1-minute bake), each its own function with its own alarms.
 *
 * Each probe takes at least 2 / maxErrorRate samples (40 against the 5 % ceiling). The profile
 * fails 0.1 % of requests, as a healthy service does; with the demo's 15 samples a single such
 * failure is 6.7 %, above the ceiling, so 1 − 0.999^30 ≈ 3 % of healthy upgrades were REJECTED
 * (34 of 1,000 in a burst). With 40, one or two stray failures stay within it and three reject:
 * p ≈ 2 × 10⁻⁵ per healthy upgrade, while a version failing 10 % is still caught by a probe with
 * p ≈ 0.78, as with 15 samples (0.79). (20 samples, 1 / maxErrorRate, still rejected 1 of 1,000
 * healthy upgrades, and catch the 10 % version with p ≈ 0.61 only.)
 */
export function largeCatalog(n: number): Catalog {
  const demo = structuredClone(demoCatalog) as unknown as {
    components: Record<string, Record<string, unknown>>;
    policies: Record<string, unknown>;
  };
  const ceiling = parseCatalog(demoCatalog).policies.development?.verification.maxErrorRate ?? 0.05;
  const checkout = demo.components.checkout as Record<string, unknown>;
  const probes = checkout.probes as { samples?: number };
  probes.samples = Math.max(probes.samples ?? 0, Math.ceil(2 / ceiling - 1e-9));
  const components: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    components[name] = {
      ...structuredClone(checkout),
      description: `bench component ${i}`,
      target: { type: 'lambda', functionName: name, alias: 'development' },
      environments: {
        development: {
          baseline: {
            version: '1.0.0',
            artifact: { type: 'lambda', functionName: name, functionVersion: '1' },
          },
          target: { type: 'lambda', functionName: name, alias: 'development' },
        },
      },
    };
  }
  return parseCatalog({ components, policies: demo.policies });
}

export async function twinBenchmarks(log: (line: string) => void): Promise<void> {
  const catalog = parseCatalog(demoCatalog);

  // Cold and warm start, each in a fresh process: cold with an empty synthesis cache (loads
  // aws-cdk-lib, synthesizes, runs cdk-nag), warm with the cache filled by the cold run.
  const cacheDir = mkdtempSync(join(tmpdir(), 'upshift-bench-cache-'));
  try {
    const once = () => {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', 'bench/start-once.ts', '--cache', cacheDir],
        {
          encoding: 'utf8',
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        },
      );
      return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
        synthMs: number;
        cached: boolean;
        startMs: number;
      };
    };
    const cold = once();
    const warm = [once(), once(), once()];
    log(
      `twin start in a fresh process: cold ${cold.startMs} ms (synthesis ${cold.synthMs} ms, cache ${cold.cached ? 'hit' : 'miss'}); warm median ${percentile(
        warm.map((w) => w.startMs),
        50,
      )} ms (synthesis ${percentile(
        warm.map((w) => w.synthMs),
        50,
      )} ms from the content-hash cache)`,
    );
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }

  // Reaction: an all-at-once release of the faulty 1.2.0 in development, baking 10 minutes.
  const bakeCatalog = structuredClone(catalog);
  const dev = bakeCatalog.policies.development;
  if (!dev) throw new Error('demo catalog lacks development');
  bakeCatalog.policies.development = { ...dev, bakeMinutes: 10 };
  const real: number[] = [];
  const virtual: number[] = [];
  const fromShift: number[] = [];
  for (let i = 0; i < 5; i++) {
    const stack = await LocalStack.start({ catalog: bakeCatalog, startAt: START });
    let alarmAt: { real: number; virtual: number } | undefined;
    let shiftedAt: number | undefined;
    stack.alarms.onTransition((t) => {
      if (t.to === 'ALARM' && !alarmAt) alarmAt = { real: performance.now(), virtual: Date.parse(t.at) };
    });
    stack.codedeploy.onProgress((p) => {
      if (p.trafficPercent === 100 && shiftedAt === undefined) shiftedAt = p.atMs;
      const d = stack.codedeploy.list().find((x) => x.deploymentId === p.deploymentId);
      if (alarmAt && d?.overrideAlarmConfiguration && p.note.startsWith('started') && real.length === i) {
        real.push(performance.now() - alarmAt.real);
        virtual.push((p.atMs - alarmAt.virtual) / 1000);
        if (shiftedAt !== undefined) fromShift.push((alarmAt.virtual - shiftedAt) / 1000);
      }
    });
    await stack.run(benchEvent('checkout', 'development', '1.2.0', '8', `bench-reaction-${i}`));
    await stack.close();
  }
  log(
    `reaction, alarm enters ALARM -> revert CreateDeployment: ${percentile(virtual, 50)} s virtual; pipeline overhead median ${percentile(real, 50).toFixed(1)} ms real, max ${Math.max(...real).toFixed(1)} ms (${real.length} runs); the alarm itself entered ALARM ${percentile(fromShift, 50)} s after the bad version took all traffic (2 of 2 one-minute periods, evaluated on the alarm's own schedule, read by nobody)`,
  );

  // DynamoDB calls of one upgrade, by function and kind.
  {
    const stack = await LocalStack.start({ catalog, startAt: START });
    stack.transport.record(true);
    const { record } = await stack.run(benchEvent('checkout', 'staging', '1.1.0', '7', 'bench-calls'));
    const byKind = new Map<string, number>();
    let workflow = 0;
    let reconciler = 0;
    for (const c of stack.transport.calls) {
      if (c.service !== 'dynamodb' || c.caller === 'local-cli') continue;
      if (c.caller === 'Reconcile') {
        reconciler++;
        continue;
      }
      workflow++;
      byKind.set(c.command, (byKind.get(c.command) ?? 0) + 1);
    }
    const kinds = [...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`);
    log(
      `DynamoDB calls of one canary upgrade (${record?.outcome}; 5-minute canary, 10-minute bake): ${workflow} by the workflow's functions (${kinds.join(', ')}; goal ≤ 20), plus ${reconciler} by the reconciler's minute ticks while it waited (a fixed cost per minute, not per upgrade)`,
    );
    await stack.close();
  }
}

/**
 * Synthesizes the bench catalog of `n` components in a child process, which fills the template
 * cache, so the process that measures starts warm and does not keep aws-cdk-lib and its
 * validator in memory (some 450 MiB at 1,000 components). Returns whether the cache now holds it
 * (another change to infra/ or shared/ while it synthesized leaves it uncached).
 */
function synthesizeApart(n: number): boolean {
  const cached = () =>
    existsSync(join(projectRoot, '.upshift', 'cache', cacheFileName(synthKey(largeCatalog(n)))));
  // Up to three tries: a source edited while one ran leaves nothing cached under the new hash.
  for (let attempt = 0; attempt < 3 && !cached(); attempt++) {
    execFileSync(process.execPath, ['--import', 'tsx', 'bench/start-once.ts', '--components', String(n)], {
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
  }
  return cached();
}

/** Per-upgrade time against the catalog's size, and many upgrades started together. */
export async function scaleBenchmarks(
  log: (line: string) => void,
  options: { sizes?: number[]; burst?: number } = {},
): Promise<void> {
  const sizes = options.sizes ?? [20, 1000];
  for (const n of sizes) {
    const catalog = largeCatalog(n);
    const warm = synthesizeApart(n);
    const t0 = performance.now();
    const stack = await LocalStack.start({ catalog, startAt: START });
    const startMs = performance.now() - t0;
    // Three warm-up upgrades of components not measured: they run through the first virtual
    // minutes after the start, when every alarm of the catalog makes its first evaluations (once
    // per start, as a new alarm on AWS does), and through the first calls of each code path.
    for (let i = 1; i <= 3; i++) {
      const component = `svc-${String(n - i).padStart(4, '0')}`;
      await stack.run(benchEvent(component, 'development', '1.1.0', '7', `bench-warm-${n}-${i}`));
    }
    const times: number[] = [];
    const cpu = process.cpuUsage();
    const mainCpu = mainThreadCpuMs();
    for (let i = 0; i < 10; i++) {
      const component = `svc-${String((i * 7) % n).padStart(4, '0')}`;
      const t = performance.now();
      await stack.run(benchEvent(component, 'development', '1.1.0', '7', `bench-size-${n}-${i}`));
      times.push(performance.now() - t);
    }
    const cpuMs = cpuMsSince(cpu) / times.length;
    const mainEnd = mainThreadCpuMs();
    const mainMs =
      mainCpu !== undefined && mainEnd !== undefined ? (mainEnd - mainCpu) / times.length : undefined;
    await stack.close();
    log(
      `one upgrade at a time with ${n} components in the catalog: median ${percentile(times, 50).toFixed(0)} ms per upgrade; CPU ${cpuMs.toFixed(0)} ms per upgrade in all${
        mainMs !== undefined ? `, ${mainMs.toFixed(0)} ms on the main thread` : ''
      } (10 upgrades after 3 warm-up ones; stack start ${startMs.toFixed(0)} ms, templates ${warm ? 'from the cache' : 'synthesized in this process'})`,
    );
  }
  const n = options.burst ?? sizes.at(-1) ?? 1000;
  if (n <= 0) return;
  const catalog = largeCatalog(n);
  const warm = synthesizeApart(n);
  const stack = await LocalStack.start({ catalog, startAt: START });
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const t = performance.now();
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuMs();
  const runs = Array.from({ length: n }, (_, i) =>
    stack.startExecution(
      benchEvent(`svc-${String(i).padStart(4, '0')}`, 'development', '1.1.0', '7', `bench-burst-${i}`),
    ),
  );
  const results = await Promise.all(runs);
  const ms = performance.now() - t;
  const cpuMs = cpuMsSince(cpu);
  const mainEnd = mainThreadCpuMs();
  const mainMs = mainCpu !== undefined && mainEnd !== undefined ? mainEnd - mainCpu : undefined;
  clearInterval(sampler);
  const outcomes = new Map<string, number>();
  for (const r of results) {
    const record = await stack.stores.workflows.get(r.name);
    const key = record?.outcome ?? r.status;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  await stack.close();
  log(
    `${n} upgrades of ${n} components started together: ${(ms / 1000).toFixed(1)} s real (goal ≤ 60 s; CPU ${(cpuMs / 1000).toFixed(1)} s in all${
      mainMs !== undefined ? `, ${(mainMs / 1000).toFixed(1)} s of it on the main thread` : ''
    }), peak RSS ${mib(peak)} MiB (goal ≤ 1,024; at the start ${mib(rssBefore)} MiB, templates ${warm ? 'from the cache' : 'synthesized in this process'}), outcomes ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
}
