/**
 * One twin start in a fresh process, for the cold and warm start figures: prints
 * `{"synthMs", "cached", "startMs"}`. `--cache DIR` keeps the synthesized templates there.
 */
import demoCatalog from '../catalog/demo.catalog.json';
import { LocalStack } from '../local/stack';
import { synthesize } from '../local/twin/synth';
import { parseCatalog } from '../shared/domain/catalog';

const cacheDir = process.argv[process.argv.indexOf('--cache') + 1];
const started = performance.now();
const catalog = parseCatalog(demoCatalog);
const synth = await synthesize({ catalog, ...(cacheDir ? { cacheDir } : {}) });
const stack = await LocalStack.start({
  catalog,
  startAt: new Date('2026-12-02T10:00:00Z'),
  ...(cacheDir ? { cacheDir } : {}),
});
const startMs = performance.now() - started;
await stack.close();
process.stdout.write(
  `${JSON.stringify({ synthMs: Math.round(synth.ms), cached: synth.cached, startMs: Math.round(startMs) })}\n`,
);
