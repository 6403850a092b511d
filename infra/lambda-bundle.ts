import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

/**
 * How every function is bundled (esbuild, ESM, minified). The CDK asset, the bundle test and
 * `bench/bundles.ts` all bundle through `bundleFunction`, so a bundling mistake fails the tests and
 * the figures are those of what is deployed (docs/decisions/0019-lean-functions.md).
 */
export const lambdaBundle = {
  target: 'node24',
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  // middy is ESM-only; some dependencies still call require().
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  // The Node.js 24 Lambda runtime provides the AWS SDK v3 (decision 0019 says why we trust it), and
  // the Powertools layer of the pinned version provides Logger, Metrics and Tracer with the X-Ray
  // SDK (infra/powertools-layer.ts; decision 0024: bundling the tracer would pass 300 KB).
  external: ['@aws-sdk/*', '@aws-lambda-powertools/*'],
  minify: true,
  // Stack traces keep function and class names; the error names the ASL matches are set explicitly.
  keepNames: true,
  // No source maps in the asset: minified names are kept, and a map would double the upload and
  // cost --enable-source-maps at every cold start (decision 0019).
  sourcemap: false,
  legalComments: 'none',
} as const;

/**
 * zod's `z` namespace re-exports every locale (about 260 KB minified) for `z.locales.xx()`, which
 * no function calls; English, the default, is imported by zod's schemas directly. The namespace
 * defeats tree-shaking, so the locales index is replaced by English alone.
 */
export function zodEnglishOnly(): Plugin {
  return {
    name: 'zod-english-only',
    setup(b) {
      b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
        /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
          ? { path: resolve(args.resolveDir, '../locales/index.js'), namespace: 'zod-locales' }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
        contents: "export { default as en } from './en.js';",
        resolveDir: resolve(args.path, '..'),
        loader: 'js',
      }));
    },
  };
}

/**
 * `import { z } from 'zod'` reaches every schema kind through one namespace object, which esbuild
 * cannot tree-shake (Rollup can); `import * as z from 'zod'`, the form zod's docs use, names the
 * same exports and lets esbuild keep only the kinds a function uses (about 200 KB less). Our
 * sources are read with the named import rewritten to the namespace form; nothing else changes.
 */
export function zodNamespaceImports(): Plugin {
  const named = /import \{([^}]*)\} from 'zod';/g;
  return {
    name: 'zod-namespace-imports',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (/[\\/]node_modules[\\/]/.test(args.path)) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!source.includes("from 'zod'")) return undefined;
        const contents = source.replace(named, (whole, names: string) => {
          const list = names
            .split(',')
            .map((n) => n.trim())
            .filter(Boolean);
          if (!list.includes('z')) return whole;
          const rest = list.filter((n) => n !== 'z');
          return `import * as z from 'zod';${rest.length ? ` import { ${rest.join(', ')} } from 'zod';` : ''}`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

export interface BundleResult {
  outfile: string;
  bytes: number;
  metafile: Metafile;
}

/** Bundles one handler (`entry`, from the project root) to `outfile` with the stack's options. */
export async function bundleFunction(
  entry: string,
  outfile: string,
  overrides: Pick<BuildOptions, 'target' | 'external'> = {},
): Promise<BundleResult> {
  const { banner, ...options } = lambdaBundle;
  const result = await build({
    ...options,
    mainFields: [...options.mainFields],
    external: [...options.external],
    ...overrides,
    entryPoints: [entry],
    bundle: true,
    banner: { js: banner },
    outfile,
    metafile: true,
    plugins: [zodEnglishOnly(), zodNamespaceImports()],
    logLevel: 'warning',
  });
  const output = Object.values(result.metafile.outputs)[0];
  return { outfile, bytes: output?.bytes ?? 0, metafile: result.metafile };
}

// `node --import tsx infra/lambda-bundle.ts ENTRY OUTFILE`: CDK's local bundling runs this in a
// child process, because esbuild plugins need the asynchronous API and CDK bundles synchronously.
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [entry, outfile] = process.argv.slice(2);
  if (!entry || !outfile) {
    process.stderr.write('usage: lambda-bundle.ts ENTRY OUTFILE\n');
    process.exitCode = 2;
  } else {
    await bundleFunction(entry, outfile);
  }
}
