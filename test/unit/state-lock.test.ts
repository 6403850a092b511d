import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockStateDir, StateInUse } from '../../local/state-lock';

describe('the --state folder lock', () => {
  it('admits one holder, refuses a second, and frees on release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'upshift-lock-'));
    const release = lockStateDir(dir);
    expect(() => lockStateDir(dir)).toThrow(StateInUse);
    release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    lockStateDir(dir)();
  });

  it('takes over a claim left by a process that no longer runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'upshift-lock-'));
    // Prepare: a pid far above any live one (pid_max is at most 2^22 on Linux).
    writeFileSync(join(dir, '.lock'), String(2 ** 22 + 12345));
    // Act / Assess
    const release = lockStateDir(dir);
    expect(() => lockStateDir(dir)).toThrow(/in use by another upshift process/);
    release();
  });
});
