import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../support/cli';

describe('upshift verify', () => {
  it('--json: the verdict and each check’s kind, severity, numbers and reasons', async () => {
    // Act
    const { code, text } = await cli(['verify', '--component', 'pricing', '--candidate', '2.3.0', '--json']);
    // Assess
    expect(code).toBe(0);
    const json = JSON.parse(text) as {
      verdict: string;
      baseline: string;
      checks: {
        kind: string;
        severity: string;
        check: string;
        status: string;
        reasons: string[];
        candidate?: { n: number };
      }[];
    };
    expect(json.verdict).toBe('FAIL');
    expect(json.baseline).toBe('2.0.0');
    const shape = json.checks.find((c) => c.check === 'shape' && c.status === 'FAIL');
    expect(shape).toMatchObject({ kind: 'functional', severity: 'error', candidate: { n: 40 } });
    expect(shape?.reasons[0]).toContain('"total"');
    expect(new Set(json.checks.map((c) => c.kind))).toEqual(
      new Set(['functional', 'performance', 'security']),
    );
  });

  it('prints the evidence table, keeps raw samples in the state folder, and passes a good version', async () => {
    const state = mkdtempSync(join(tmpdir(), 'upshift-verify-'));
    const { code, text } = await cli([
      'verify',
      '--component',
      'pricing',
      '--candidate',
      '2.1.0',
      '--baseline',
      '2.0.0',
      '--state',
      state,
    ]);
    expect(code).toBe(0);
    expect(text.split('\n')[0]).toBe('PASS  pricing 2.1.0 against 2.0.0 in staging');
    expect(text).toMatch(/big-order\s+functional\s+same-as-baseline\s+warning\s+FAIL → NOTE/);
    const ref = /raw samples \(\d+\): file:(\S+)/.exec(text)?.[1];
    expect(ref && existsSync(join(state, 'evidence', ref))).toBe(true);
  });

  it.each([
    [['verify', '--component', 'pricing'], '--component C and --candidate V are required'],
    [['verify', '--component', 'nope', '--candidate', '1.0.0'], 'no component "nope"'],
    [
      ['verify', '--component', 'pricing', '--candidate', '2.1.0', '--env', 'production'],
      'no environment "production"',
    ],
    [['verify', '--component', 'pricing', '--candidate', 'latest'], 'expected a semantic version'],
  ])('a usage mistake exits 2 with one line: %j', async (args, message) => {
    const { code, err } = await cli(args);
    expect(code).toBe(2);
    expect(err).toContain(message);
  });
});
