import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalog } from '../../shared/domain/catalog';

/** The project root: local/twin/ is two levels below it. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The two stacks' templates, as `cdk synth` writes them (bundling skipped). */
export interface SynthesizedApp {
  stateful: CfnTemplate;
  stateless: CfnTemplate;
  /** Names of the stacks, as CloudFormation would see them. */
  statefulName: string;
  statelessName: string;
  /**
   * The stateless stack's nested stacks (the components' applications, groups and alarms, and
   * the catalog seeding), in construct order. `name` stands for the name CloudFormation gives a
   * nested stack (`<parent>-<logical id>-<suffix>`): `<parent>-<logical id>`.
   */
  nested: { name: string; template: CfnTemplate }[];
}

/**
 * The cache file format. Raise it whenever SynthesizedApp changes shape, so files written by an
 * older twin are rebuilt instead of read.
 */
const CACHE_FORMAT = 2;

/** The cache file of a synthKey, named with the format it holds. */
export function cacheFileName(key: string): string {
  return `twin-v${CACHE_FORMAT}-${key}.json`;
}

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
  Parameters?: Record<string, unknown>;
}

/** What the synthesized app depends on: a change to any of these invalidates the cache. */
const SOURCES = ['infra', 'statemachines', 'shared/domain', 'shared/aws', 'package-lock.json'];

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && e.name !== 'cdk.out')
    .flatMap((e) => listFiles(join(path, e.name)))
    .sort();
}

/** A content hash of the catalog, the extra context and every source file the app depends on. */
export function synthKey(catalog: Catalog, context?: Record<string, unknown>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(catalog));
  if (context && Object.keys(context).length > 0) hash.update(JSON.stringify(context));
  for (const file of SOURCES.flatMap((s) => listFiles(join(projectRoot, s)))) {
    hash.update(relative(projectRoot, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 24);
}

export interface SynthOptions {
  catalog: Catalog;
  /** Where synthesized templates are kept between runs; `.upshift/cache` in the project by default. */
  cacheDir?: string;
  /**
   * Changes the app before it is synthesized (tests add a function to the construct this way).
   * A customized app is never cached.
   */
  customize?: (built: Awaited<ReturnType<typeof import('../../infra/app')['buildApp']>>) => void;
  /**
   * More CDK context, as `cdk synth -c key=value` gives it (`upshift up` sets `upshift:ciFeedback`
   * this way). Part of the cache key.
   */
  context?: Record<string, unknown>;
}

export interface SynthResult {
  app: SynthesizedApp;
  /** Whether the templates came from the cache. */
  cached: boolean;
  ms: number;
}

/**
 * Synthesizes the app exactly as `cdk synth` does (the same buildApp, with the catalog given),
 * with asset bundling skipped: the twin runs the handlers from source. The templates are cached
 * by a content hash of what they depend on, so a warm start does not load aws-cdk-lib at all.
 */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const started = performance.now();
  const cacheDir = options.cacheDir ?? join(projectRoot, '.upshift', 'cache');
  const key = options.customize ? undefined : synthKey(options.catalog, options.context);
  const cacheFile = key ? join(cacheDir, cacheFileName(key)) : undefined;
  if (cacheFile && existsSync(cacheFile)) {
    try {
      const app = JSON.parse(readFileSync(cacheFile, 'utf8')) as SynthesizedApp;
      if (Array.isArray(app.nested)) return { app, cached: true, ms: performance.now() - started };
    } catch {
      // A torn cache file is rebuilt below.
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'upshift-synth-'));
  try {
    const catalogFile = join(work, 'catalog.json');
    writeFileSync(catalogFile, JSON.stringify(options.catalog));
    const [{ App, NestedStack, Stack }, { buildApp }] = await Promise.all([
      import('aws-cdk-lib'),
      import('../../infra/app'),
    ]);
    const built = buildApp(
      new App({
        outdir: join(work, 'cdk.out'),
        context: {
          'aws:cdk:bundling-stacks': [],
          'upshift:catalog': catalogFile,
          ...cdkJsonContext(),
          ...options.context,
        },
      }),
    );
    options.customize?.(built);
    const assembly = built.app.synth();
    const template = (name: string) => assembly.getStackByName(name).template as CfnTemplate;
    // A nested stack's template is a file of the assembly, named by the nested stack.
    const nested = built.stateless.node
      .findAll()
      .filter((c) => NestedStack.isNestedStack(c))
      .map((stack) => {
        const resource = stack.nestedStackResource;
        if (!resource) throw new Error(`nested stack ${stack.node.path} has no resource in its parent`);
        const parent = Stack.of(resource);
        const file = join(assembly.directory, stack.templateFile);
        return {
          name: `${parent.stackName}-${parent.getLogicalId(resource)}`,
          template: JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate,
        };
      });
    const app: SynthesizedApp = {
      stateful: template(built.stateful.stackName),
      stateless: template(built.stateless.stackName),
      statefulName: built.stateful.stackName,
      statelessName: built.stateless.stackName,
      nested,
    };
    // Cached only if the sources did not change while they were read (an editor saving midway
    // would otherwise file one version's templates under another's hash).
    if (cacheFile && key === synthKey(options.catalog, options.context)) {
      mkdirSync(cacheDir, { recursive: true });
      // Write then rename: a reader never sees half a file.
      writeFileSync(`${cacheFile}.${process.pid}.tmp`, JSON.stringify(app));
      renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
    }
    return { app, cached: false, ms: performance.now() - started };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The feature flags of cdk.json, so the twin synthesizes with the same context as `cdk synth`. */
function cdkJsonContext(): Record<string, unknown> {
  const file = join(projectRoot, 'cdk.json');
  if (!existsSync(file)) return {};
  const context =
    (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
  const { 'upshift:catalog': _catalog, ...flags } = context;
  return flags;
}
