/**
 * Bundle figures: every handler bundled with the stack's esbuild options (infra/lambda-bundle.ts,
 * what `cdk synth` uploads), each bundle's size against the 300 KB goal, and the time to import
 * three bundled handlers in a fresh Node process against a bare `node -e ''` start. Measured,
 * never asserted; the median of a few fresh processes each, so one slow start does not decide.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleFunction } from '../infra/lambda-bundle';

export const BUNDLE_GOAL_BYTES = 300 * 1024;
const IMPORTED = ['lock', 'intake', 'verify'] as const;
const RUNS = 5;

/** Milliseconds for a fresh `node ARGS` to exit: the median of `runs`. */
function freshProcessMs(args: string[], env: NodeJS.ProcessEnv, runs = RUNS): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, args, { env, stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

export interface BundleFigures {
  sizes: { fn: string; bytes: number }[];
  bareMs: number;
  imports: { fn: string; ms: number; ratio: number }[];
}

export async function bundleBenchmarks(log: (line: string) => void = console.log): Promise<BundleFigures> {
  const outdir = resolve('.upshift/bench-bundles');
  mkdirSync(outdir, { recursive: true });
  const sizes: BundleFigures['sizes'] = [];
  for (const fn of readdirSync('functions').sort()) {
    const entry = join('functions', fn, 'handler.ts');
    if (!existsSync(entry)) continue;
    const { bytes } = await bundleFunction(entry, join(outdir, `${fn}.mjs`), {
      target: `node${process.versions.node.split('.')[0]}`,
    });
    sizes.push({ fn, bytes });
    const mark = bytes <= BUNDLE_GOAL_BYTES ? '' : '  (over the 300 KB goal)';
    log(`bundle ${fn}: ${(bytes / 1024).toFixed(1)} KB${mark}`);
  }
  const largest = Math.max(...sizes.map((s) => s.bytes));
  log(`bundles: ${sizes.length}, largest ${(largest / 1024).toFixed(1)} KB (goal ≤ 300 KB)`);

  // A handler parses its configuration at import, as on AWS; the SDK is resolved from
  // node_modules here, where the Lambda runtime provides its own (decision 0019).
  const env = {
    ...process.env,
    UPSHIFT_TABLE_NAME: 'bench',
    UPSHIFT_EVENT_BUS_NAME: 'upshift',
    UPSHIFT_LOG_LEVEL: 'silent',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const bareMs = freshProcessMs(['-e', ''], env);
  log(`bare node start (node -e ''): ${bareMs.toFixed(0)} ms`);
  const imports: BundleFigures['imports'] = [];
  for (const fn of IMPORTED) {
    const file = join(outdir, `${fn}.mjs`);
    const ms = freshProcessMs(['-e', `await import(${JSON.stringify(file)})`], env);
    imports.push({ fn, ms, ratio: ms / bareMs });
    log(
      `import ${fn} bundle, fresh process: ${ms.toFixed(0)} ms = ${(ms / bareMs).toFixed(1)}× a bare start`,
    );
  }
  // The trade-off behind decision 0019, measured: the same three handlers with the SDK bundled
  // in (what a 3× import would take) are far past the 300 KB goal. Not what is deployed.
  for (const fn of IMPORTED) {
    const file = join(outdir, `${fn}.with-sdk.mjs`);
    const { bytes } = await bundleFunction(`functions/${fn}/handler.ts`, file, {
      target: `node${process.versions.node.split('.')[0]}`,
      external: ['@aws-lambda-powertools/*'],
    });
    const ms = freshProcessMs(['-e', `await import(${JSON.stringify(file)})`], env);
    log(
      `for comparison, ${fn} with the SDK bundled in: ${(bytes / 1024).toFixed(1)} KB, import ${ms.toFixed(0)} ms = ${(ms / bareMs).toFixed(1)}× a bare start`,
    );
  }
  return { sizes, bareMs, imports };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  await bundleBenchmarks();
}
