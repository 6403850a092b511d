/**
 * One twin start in a fresh process, for the cold and warm start figures: prints
 * `{"synthMs", "cached", "startMs"}`. `--cache DIR` keeps the synthesized templates there.
 * `--components N` synthesizes the bench's catalog of N components instead (the scale figures
 * fill the cache this way, so the process they measure does not hold aws-cdk-lib).
 */
import demoCatalog from '../catalog/demo.catalog.json';
import { LocalStack } from '../local/stack';
import { synthesize } from '../local/twin/synth';
import { parseCatalog } from '../shared/domain/catalog';
import { largeCatalog } from './twin';

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const cacheDir = flag('--cache');
const components = flag('--components');
const started = performance.now();
const catalog = components ? largeCatalog(Number(components)) : parseCatalog(demoCatalog);
const synth = await synthesize({ catalog, ...(cacheDir ? { cacheDir } : {}) });
if (!components) {
  const stack = await LocalStack.start({
    catalog,
    startAt: new Date('2026-12-02T10:00:00Z'),
    ...(cacheDir ? { cacheDir } : {}),
  });
  await stack.close();
}
const startMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ synthMs: Math.round(synth.ms), cached: synth.cached, startMs: Math.round(startMs) })}\n`,
);
