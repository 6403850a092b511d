import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';

const dir = mkdtempSync(join(tmpdir(), 'upshift-synth-'));

/** The demo catalog, changed by `edit`, written to a temporary file. */
// biome-ignore lint/suspicious/noExplicitAny: the test edits a raw JSON document freely, typos included
function catalogFile(name: string, edit: (catalog: Record<string, any>) => void): string {
  const catalog = JSON.parse(readFileSync('catalog/demo.catalog.json', 'utf8'));
  edit(catalog);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(catalog));
  return file;
}

function appFor(file: string): App {
  // Skip esbuild bundling: these tests read annotations and errors, not code.
  return new App({ context: { 'aws:cdk:bundling-stacks': [], 'upshift:catalog': file } });
}

describe('issue 9 finding 6: cdk synth rejects a catalog with a typo', () => {
  it('a misspelled alarms fails the build with the path and a did-you-mean', () => {
    // Prepare
    const file = catalogFile('alrms', (c) => {
      c.components.checkout.alrms = c.components.checkout.alarms;
      delete c.components.checkout.alarms;
    });
    // Act
    const build = () => buildApp(appFor(file));
    // Assess
    expect(build).toThrow(/components\.checkout\.alrms: unknown key, did you mean "alarms"\?/);
  });

  it('a catalog that is not JSON fails with the file named', () => {
    // Prepare
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "components": ');
    // Act
    const build = () => buildApp(appFor(file));
    // Assess
    expect(build).toThrow(/broken\.json is invalid:[\s\S]*malformed JSON/);
  });
});

describe('issue 9 finding 10: cdk synth warns for environments without trusted sources', () => {
  it('warns once per environment whose policy names no trustedSources', () => {
    // Prepare
    const file = catalogFile('trusted', (c) => {
      c.policies.production.trustedSources = ['ci.github'];
    });
    // Act
    const built = buildApp(appFor(file));
    const annotations = Annotations.fromStack(built.stateless);
    // Assess
    const warnings = annotations.findWarning('*', Match.stringLikeRegexp('trustedSources'));
    const text = warnings.map((w) => String(w.entry.data)).join('\n');
    expect(text).toMatch(/development/);
    expect(text).toMatch(/staging/);
    expect(text).not.toMatch(/production/);
  });
});
