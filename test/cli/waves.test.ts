import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { runCli as cli } from '../support/cli';

describe('upshift waves', () => {
  it('lists the waves of a state and shows one, as text and as JSON', async () => {
    // Prepare: checkout promotes development → staging; one run in development
    const dir = mkdtempSync(join(tmpdir(), 'upshift-waves-'));
    const catalog = structuredClone(demoCatalog) as unknown as {
      components: Record<string, Record<string, unknown>>;
    };
    (catalog.components.checkout as Record<string, unknown>).promotion = {
      order: ['development', 'staging'],
      soakMinutes: 5,
    };
    // `run` starts the state machine directly (no bus): each environment is an alias of one
    // function, so the wave passes on the artifact that serves (docs/waves.md).
    const environments = (
      catalog.components.checkout as { environments: Record<string, Record<string, unknown>> }
    ).environments;
    for (const [name, env] of Object.entries(environments)) {
      env.target = { type: 'lambda', functionName: 'checkout-development', alias: name };
      (env.baseline as { artifact: { functionName: string } }).artifact.functionName = 'checkout-development';
    }
    const catalogFile = join(dir, 'catalog.json');
    writeFileSync(catalogFile, JSON.stringify(catalog));
    const state = join(dir, 'state');
    const started = await cli([
      'run',
      '--event',
      'test/fixtures/events/checkout-1.1.0-development.json',
      '--catalog',
      catalogFile,
      '--state',
      state,
      '--json',
    ]);
    expect(started.code).toBe(0);
    // Act
    const list = await cli(['waves', 'list', '--state', state, '--catalog', catalogFile]);
    const json = await cli(['waves', 'list', '--state', state, '--catalog', catalogFile, '--json']);
    const waves = JSON.parse(json.text) as { waveId: string; status: string }[];
    const show = await cli([
      'waves',
      'show',
      String(waves[0]?.waveId),
      '--state',
      state,
      '--catalog',
      catalogFile,
    ]);
    const missing = await cli(['waves', 'show', 'wave-nope', '--state', state, '--catalog', catalogFile]);
    const bad = await cli(['waves', 'remove', '--state', state]);
    // Assess
    expect(list.code).toBe(0);
    expect(list.text).toMatch(/checkout 1\.1\.0 COMPLETED: development PASSED → staging COMPLETED/);
    expect(waves).toHaveLength(1);
    expect(waves[0]?.status).toBe('COMPLETED');
    expect(show.text).toContain(`${waves[0]?.waveId}: checkout 1.1.0 COMPLETED`);
    expect(show.text).toMatch(/staging\s+COMPLETED\s+started /);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('no wave "wave-nope"')]);
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('waves: expected "list" or "show ID"')]);
  }, 180_000);
});
