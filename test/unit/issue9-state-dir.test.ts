import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureStateDir, lockStateDir, StateDirUnusable } from '../../local/state-lock';

describe('issue 9 finding 9: the --state folder is created once or refused clearly', () => {
  it('creates a nested folder and its dynamodb folder, and accepts an existing one', () => {
    // Prepare
    const dir = join(mkdtempSync(join(tmpdir(), 'upshift-state-')), 'a', 'b');
    // Act
    ensureStateDir(dir);
    ensureStateDir(dir);
    // Assess
    expect(statSync(join(dir, 'dynamodb')).isDirectory()).toBe(true);
  });

  it('refuses a path below a file', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'upshift-state-')), 'file');
    writeFileSync(file, 'x');
    // Act / Assess
    expect(() => ensureStateDir(join(file, 'sub'))).toThrow(/is a file, not a folder/);
    expect(() => lockStateDir(file)).toThrow(StateDirUnusable);
  });

  it.runIf(existsSync('/proc/self'))('refuses /proc/nope at once instead of spinning', () => {
    // Prepare / Act / Assess
    expect(() => ensureStateDir('/proc/nope')).toThrow(/cannot create \/proc\/nope/);
  });
});
