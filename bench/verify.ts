/**
 * Verification figures for `npm run bench` (the lead's bench/run.ts calls verifyBenchmarks): the
 * time to judge 10,000 samples per side, for the first call in a fresh process and warm. Run as a
 * script with `--child`, it is that fresh process: it builds the samples, then times its import of
 * the judge and one judgement, and prints them as JSON.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Probe } from '../shared/domain/catalog';
import type { judgeProbes as JudgeProbes, ProbeSample } from '../shared/domain/verification';

const PER_SIDE = 10_000;
const probe: Probe = {
  name: 'quote',
  kind: 'functional',
  severity: 'error',
  payload: {},
  expectFields: ['total'],
  expectTypes: { total: 'number' },
};
const thresholds = { maxErrorRate: 0.05, maxErrorRateIncrease: 0.02, maxLatencyRatio: 1.5, minSamples: 10 };

/** 10,000 answers per side: seeded log-normal latencies, 0.5% errors, a small JSON body. */
function samples(seed: number, medianMs: number): ProbeSample[] {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: PER_SIDE }, (_, seq) => {
    const z = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    const ok = uniform() >= 0.005;
    return {
      probe: 'quote',
      ok,
      latencyMs: Math.round(medianMs * Math.exp(0.3 * z) * 10) / 10,
      body: { total: 9, currency: 'EUR' },
      fields: ['total', 'currency'],
      types: { total: 'number', currency: 'string' },
      seq,
    };
  });
}

function judgeOnce(judge: typeof JudgeProbes, candidate: ProbeSample[], current: ProbeSample[]) {
  return judge({
    candidateVersion: '2',
    currentVersion: '1',
    candidate,
    current,
    probes: [probe],
    thresholds,
  });
}

/** The child: import and first call timed in a fresh process. */
async function child(): Promise<void> {
  const candidate = samples(1, 52);
  const current = samples(2, 50);
  const t0 = performance.now();
  const { judgeProbes } = await import('../shared/domain/verification');
  const t1 = performance.now();
  const cpu = process.cpuUsage();
  const verdict = judgeOnce(judgeProbes, candidate, current).verdict;
  const t2 = performance.now();
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  process.stdout.write(`${JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1, cpuMs, verdict })}\n`);
}

export async function verifyBenchmarks(log: (line: string) => void): Promise<void> {
  const runs = Array.from({ length: 5 }, () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'],
      {
        encoding: 'utf8',
      },
    );
    return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      importMs: number;
      firstCallMs: number;
      cpuMs: number;
    };
  });
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const { judgeProbes } = await import('../shared/domain/verification');
  const candidate = samples(1, 52);
  const current = samples(2, 50);
  for (let i = 0; i < 5; i++) judgeOnce(judgeProbes, candidate, current);
  const warm = Array.from({ length: 20 }, () => {
    const t = performance.now();
    judgeOnce(judgeProbes, candidate, current);
    return performance.now() - t;
  });
  const firsts = runs.map((r) => r.firstCallMs);
  log(
    `judging ${PER_SIDE.toLocaleString('en-US')} samples per side: first call in a fresh process median ${med(firsts).toFixed(1)} ms (range ${Math.min(...firsts).toFixed(1)}–${Math.max(...firsts).toFixed(1)} ms over ${runs.length} processes, CPU time median ${med(runs.map((r) => r.cpuMs)).toFixed(1)} ms; importing the judge ${med(runs.map((r) => r.importMs)).toFixed(1)} ms more), warm median ${med(warm).toFixed(1)} ms (max ${Math.max(...warm).toFixed(1)} ms over ${warm.length} calls)`,
  );
}

if (process.argv.includes('--child')) await child();
else if (process.argv[1] === fileURLToPath(import.meta.url))
  await verifyBenchmarks((line) => console.log(line));
