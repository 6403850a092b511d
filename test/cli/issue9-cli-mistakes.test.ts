import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';

const dir = mkdtempSync(join(tmpdir(), 'upshift-cli-'));
const event = 'test/fixtures/events/checkout-1.1.0-development.json';

/** Runs the CLI in-process, keeping stdout and stderr apart. */
async function cli(args: string[], out?: (s: string) => void) {
  let stdout = '';
  let stderr = '';
  const code = await main(
    args,
    out ??
      ((s) => {
        stdout += s;
      }),
    (s) => {
      stderr += s;
    },
  );
  return { code, stdout, stderr };
}

/** A stack trace has lines like `    at main (cli/main.ts:10:5)`. */
const stackFrame = /^\s+at .+:\d+:\d+\)?$/m;

function policiesFile(name: string, document: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(document));
  return file;
}

describe('issue 9 finding 6: policies validate and put reject typos', () => {
  it('validate on a file with bakeMinuts exits 2 and names production.bakeMinuts with a did-you-mean', async () => {
    // Prepare
    const file = policiesFile('typo.json', { production: { bakeMinuts: 30 } });
    // Act
    const { code, stderr } = await cli(['policies', 'validate', '--file', file]);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('production.bakeMinuts: unknown key, did you mean "bakeMinutes"?');
  });

  it('put refuses the same file and writes nothing', async () => {
    // Prepare
    const file = policiesFile('typo-put.json', { production: { autoAproveUpTo: 'HIGH' } });
    const state = join(dir, 'put-state');
    // Act
    const { code, stderr } = await cli(['policies', 'put', '--file', file, '--state', state]);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('production.autoAproveUpTo: unknown key, did you mean "autoApproveUpTo"?');
  });

  it('--catalog with a misspelled alarms exits 2 and names the path', async () => {
    // Prepare
    const catalog = JSON.parse(readFileSync('catalog/demo.catalog.json', 'utf8'));
    catalog.components.checkout.alrms = catalog.components.checkout.alarms;
    delete catalog.components.checkout.alarms;
    const file = policiesFile('catalog-typo.json', catalog);
    // Act
    const { code, stderr } = await cli(['run', '--event', event, '--catalog', file]);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('components.checkout.alrms: unknown key, did you mean "alarms"?');
  });
});

describe('issue 9 finding 9: the CLI on ordinary mistakes', () => {
  it('--at 2026-02-30T10:00:00Z is a usage error, not March 2nd', async () => {
    // Prepare / Act
    const { code, stderr } = await cli(['run', '--event', event, '--at', '2026-02-30T10:00:00Z']);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/^upshift: --at: expected an ISO 8601 time/);
  });

  it('--at accepts a real leap day and an offset', async () => {
    // Prepare / Act
    const leap = await cli(['policies', 'explain', '--event', event, '--at', '2028-02-29T10:00:00Z']);
    const offset = await cli(['policies', 'explain', '--event', event, '--at', '2026-12-02T10:00:00+01:00']);
    // Assess
    expect([leap.code, offset.code], `${leap.stderr}${offset.stderr}`).toEqual([0, 0]);
  });

  it('--state naming a file gives one clear line, no stack trace', async () => {
    // Prepare
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // Act
    const { code, stderr } = await cli(['run', '--event', event, '--state', file]);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/--state: .*a-file is a file, not a folder/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(stackFrame);
  });

  it('a corrupt saved state gives one clear line naming the file', async () => {
    // Prepare
    const state = join(dir, 'corrupt');
    mkdirSync(join(state, 'dynamodb'), { recursive: true });
    writeFileSync(join(state, 'simulators.json'), '{"clock": ');
    // Act
    const { code, stderr } = await cli(['status', '--state', state]);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/simulators\.json.*corrupt/);
    expect(stderr).not.toMatch(stackFrame);
  });

  it.runIf(existsSync('/proc/self'))('--state under /proc fails at once with a clear message', async () => {
    // Prepare / Act
    const { code, stderr } = await cli(['run', '--event', event, '--state', '/proc/nope']);
    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/--state: cannot create/);
  });

  it('a mistyped --state for status is an error and creates no folder', async () => {
    // Prepare
    const state = join(dir, 'never-written');
    // Act
    const status = await cli(['status', '--state', state]);
    const list = await cli(['workflows', 'list', '--state', state]);
    // Assess
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/--state: no saved state in .*never-written/);
    expect(list.code).toBe(2);
    expect(existsSync(state)).toBe(false);
  });

  it('an unexpected crash prints one line and where the details went', async () => {
    // Prepare: an output that fails the way a bug would
    const file = policiesFile('good.json', { production: {} });
    // Act
    const { code, stderr } = await cli(['policies', 'validate', '--file', file], () => {
      throw new TypeError('cannot read properties of undefined');
    });
    // Assess
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const path = /details in (\S+)$/.exec(lines[0] ?? '')?.[1];
    expect(path && readFileSync(path, 'utf8')).toMatch(stackFrame);
  });

  it('each command has its own --help', async () => {
    // Prepare / Act
    const runHelp = await cli(['run', '--help']);
    const statusHelp = await cli(['status', '--help']);
    // Assess
    expect(runHelp.code).toBe(0);
    expect(runHelp.stdout).toMatch(/^Usage: upshift run --event FILE/);
    expect(runHelp.stdout).not.toContain('upshift policies validate');
    expect(statusHelp.stdout).toMatch(/^Usage: upshift status/);
  });

  it('an event file holding null ends INVALID with a clear reason', async () => {
    // Prepare
    const file = policiesFile('null.json', null);
    // Act
    const { code, stdout } = await cli(['run', '--event', file, '--json']);
    // Assess
    expect(code).toBe(0);
    const record = JSON.parse(stdout);
    expect(record.outcome).toBe('INVALID');
    expect(record.reasons[0].message).toMatch(/expected an EventBridge event \(a JSON object\), got null/);
  });

  it('upshift demo | head -1 exits quietly', () => {
    // Prepare / Act
    const result = spawnSync('bash', ['-c', 'set -o pipefail; node cli/bin.mjs demo | head -1'], {
      encoding: 'utf8',
    });
    // Assess
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
