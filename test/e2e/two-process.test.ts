import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, approvalsCatalog, eventually, publishFromCi, START } from './support';

let dir: string;
let server: ChildProcess;
let output = '';
let exited: Promise<number | null>;

/** `upshift ...` in its own process, as a second terminal runs it. */
function upshift(...args: string[]) {
  const run = spawnSync(process.execPath, ['cli/bin.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'upshift-two-'));
  const catalog = approvalsCatalog();
  writeFileSync(join(dir, 'catalog.json'), JSON.stringify(catalog));
  server = spawn(
    process.execPath,
    [
      'cli/bin.mjs',
      'up',
      '--port',
      '0',
      '--state',
      join(dir, 'state'),
      '--speed',
      '600',
      '--at',
      START,
      '--catalog',
      join(dir, 'catalog.json'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout?.on('data', (c) => {
    output += String(c);
  });
  server.stderr?.on('data', (c) => {
    output += String(c);
  });
  exited = new Promise((resolve) => server.once('exit', (code) => resolve(code)));
  await eventually('upshift up to print its URLs', async () =>
    /events\s+http/.test(output) ? true : undefined,
  );
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('upshift up in one process, upshift approve in another', () => {
  it('the SDK with an endpoint starts the upgrade; approvals list and approve answer it; it completes', {
    timeout: 300_000,
  }, async () => {
    // Prepare: the URLs upshift up printed.
    const events = /events\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] as string;
    expect(output).toMatch(/console\s+http:\/\/127\.0\.0\.1:\d+\//);
    expect(output).toMatch(/api\s+http:\/\/127\.0\.0\.1:\d+\/api/);
    const state = join(dir, 'state');

    // Act: CI's PutEvents with the SDK pointed at upshift up.
    const put = await publishFromCi(events, '1.0.1');
    expect(put.FailedEntryCount).toBe(0);
    const approval = await eventually('a pending approval', async () => {
      const listed = upshift('approvals', 'list', '--state', state, '--as', 'alice', '--json');
      if (listed.status !== 0) return undefined;
      const list = JSON.parse(listed.stdout).approvals as Record<string, unknown>[];
      return list[0];
    });
    const refused = upshift(
      'approve',
      String(approval.id),
      '--comment',
      'fine by me',
      '--as',
      'dave',
      '--state',
      state,
    );
    const approved = upshift(
      'approve',
      String(approval.id),
      '--comment',
      'evidence is clean',
      '--as',
      'alice',
      '--state',
      state,
    );
    const again = upshift(
      'approve',
      String(approval.id),
      '--comment',
      'again',
      '--as',
      'alice',
      '--state',
      state,
    );

    // Assess
    expect(approval).toMatchObject({
      component: 'checkout',
      version: '1.0.1',
      environment: 'production',
      requestedAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /dave is not in an approver group of the production policy \(release-managers\)/,
    );
    expect(approved).toMatchObject({ status: 0, stdout: 'checkout 1.0.1 to production approved by alice\n' });
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/alice already answered .* nothing was changed/);
    const record = await eventually('the upgrade to end', async () => {
      const res = await apiAs(events, 'alice', '/api/workflows');
      const w = (JSON.parse(res.text).workflows as Record<string, unknown>[]).find(
        (x) => x.version === '1.0.1',
      );
      return w?.status === 'ENDED' ? w : undefined;
    });
    expect(record.outcome).toBe('COMPLETED');
    expect(JSON.stringify(record.history)).toContain('approved by alice: evidence is clean');
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/upshift up: stopped/);
  });
});
