import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { versionPublished } from '../support/events';

const dir = mkdtempSync(join(tmpdir(), 'upshift-policies-'));
function eventFile(name: string, detail: Parameters<typeof versionPublished>[0]): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(versionPublished(detail)));
  return file;
}

async function cli(args: string[]) {
  let text = '';
  const code = await main(args, (s) => {
    text += s;
  });
  return {
    code,
    text,
    json: (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
  };
}

async function explain(file: string, at: string, extra: string[] = []) {
  const { code, json } = await cli(['policies', 'explain', '--event', file, '--at', at, '--json', ...extra]);
  expect(code).toBe(0);
  return json;
}

describe('upshift policies explain (the dry run) with the demo catalog', () => {
  it('a patch in development on any day: APPROVE, all at once', async () => {
    const file = eventFile('dev-patch', { version: '1.0.1', environment: 'development' });
    for (const at of ['2026-12-02T10:00:00Z', '2026-12-05T23:30:00Z', '2026-12-06T03:00:00Z']) {
      const json = await explain(file, at);
      expect(json.decision.decision).toBe('APPROVE');
      expect(json.decision.deploymentConfig).toBe('CodeDeployDefault.LambdaAllAtOnce');
    }
  });

  it('a major bump in staging: MANUAL_REVIEW, risk HIGH', async () => {
    const json = await explain(
      eventFile('staging-major', { version: '2.0.0', environment: 'staging' }),
      '2026-12-02T10:00:00Z',
    );
    expect(json.decision.decision).toBe('MANUAL_REVIEW');
    expect(json.decision.risk).toBe('HIGH');
  });

  it('a minor in production on a Wednesday: MANUAL_REVIEW until the Sunday window', async () => {
    const json = await explain(
      eventFile('prod-minor', { version: '1.1.0', environment: 'production' }),
      '2026-12-02T10:00:00Z',
    );
    expect(json.decision.decision).toBe('MANUAL_REVIEW');
    expect(json.decision.deferUntil).toBe('2026-12-06T02:00:00.000Z');
    expect(json.decision.trace.map((t: { check: string }) => t.check)).toEqual(
      expect.arrayContaining(['risk', 'verification', 'auto-approve', 'maintenance-window', 'freeze']),
    );
  });

  it('the same inside the window: MANUAL_REVIEW with no deferUntil', async () => {
    const json = await explain(
      eventFile('prod-minor-2', { version: '1.1.0', environment: 'production' }),
      '2026-12-06T02:30:00Z',
    );
    expect(json.decision.decision).toBe('MANUAL_REVIEW');
    expect(json.decision.deferUntil).toBeUndefined();
  });

  it('a verification FAIL anywhere: REJECT', async () => {
    for (const environment of ['development', 'staging', 'production']) {
      const json = await explain(
        eventFile(`fail-${environment}`, { version: '1.0.1', environment }),
        '2026-12-02T10:00:00Z',
        ['--verdict', 'FAIL'],
      );
      expect(json.decision.decision).toBe('REJECT');
      expect(json.decision.reasons[0].code).toBe('VERIFICATION_FAILED');
    }
  });

  it('really probes when no verdict is given: 1.3.0 fails its probes', async () => {
    const json = await explain(
      eventFile('probe-fail', { version: '1.3.0', environment: 'staging' }),
      '2026-12-02T10:00:00Z',
    );
    expect(json.verification.verdict).toBe('FAIL');
    expect(json.decision.decision).toBe('REJECT');
  });

  it('starts nothing', async () => {
    const state = mkdtempSync(join(tmpdir(), 'upshift-state-'));
    await cli([
      'policies',
      'explain',
      '--event',
      eventFile('nothing', { version: '1.1.0', environment: 'development' }),
      '--state',
      state,
    ]);
    const list = await cli(['workflows', 'list', '--state', state, '--json']);
    expect(list.json).toEqual([]);
  });
});

describe('upshift policies put / history / validate', () => {
  it('keeps versions with who and what changed, and validates with paths', async () => {
    const state = mkdtempSync(join(tmpdir(), 'upshift-state-'));
    const file = join(dir, 'staging.json');
    writeFileSync(file, JSON.stringify({ staging: { autoApproveUpTo: 'LOW', bakeMinutes: 20 } }));
    const put = await cli([
      'policies',
      'put',
      '--file',
      file,
      '--state',
      state,
      '--comment',
      'stricter',
      '--json',
    ]);
    expect(put.code).toBe(0);
    expect(put.json).toEqual([{ environment: 'staging', version: 2 }]);
    const history = await cli(['policies', 'history', 'staging', '--state', state, '--json']);
    expect(history.json[0].version).toBe(2);
    expect(history.json[0].comment).toBe('stricter');
    expect(history.json[0].changes).toEqual(
      expect.arrayContaining([
        { path: 'autoApproveUpTo', before: 'MEDIUM', after: 'LOW' },
        { path: 'bakeMinutes', before: 10, after: 20 },
      ]),
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ production: { maintenanceWindows: [{ days: ['SUN'], start: '2am', end: '04:00' }] } }),
    );
    expect((await cli(['policies', 'validate', '--file', bad])).code).toBe(2);
    expect((await cli(['policies', 'validate', '--file', file])).code).toBe(0);
  });
});
