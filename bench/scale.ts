/**
 * Only the scale figures of `npm run bench` (issue 7), for profiling:
 * `npx tsx bench/scale.ts [--sizes 20,1000] [--burst 1000] [--no-sizes] [--no-burst]`.
 * Prints the CPU time the process used besides the wall time, as the machine may be shared.
 */
import { scaleBenchmarks } from './twin';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sizes = (flag('--sizes') ?? '20,1000').split(',').map(Number);
const burst = Number(flag('--burst') ?? sizes.at(-1) ?? 1000);
const cpu = process.cpuUsage();
await scaleBenchmarks((line) => console.log(line), {
  sizes: process.argv.includes('--no-sizes') ? [] : sizes,
  burst: process.argv.includes('--no-burst') ? 0 : burst,
});
const used = process.cpuUsage(cpu);
console.log(
  `CPU time of this process: ${((used.user + used.system) / 1e6).toFixed(1)} s (user ${(used.user / 1e6).toFixed(1)} s, system ${(used.system / 1e6).toFixed(1)} s)`,
);
