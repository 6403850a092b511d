import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UpshiftError } from '../shared/domain/errors';

/** Another upshift process is using the same --state folder. */
export class StateInUse extends UpshiftError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the state folder ${dir} is in use by another upshift process (pid ${pid}); wait for it or use another --state`,
    );
    this.name = 'StateInUse';
  }
}

/** The --state folder cannot be used: it is a file, cannot be created, or cannot be written. */
export class StateDirUnusable extends UpshiftError {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`--state: ${reason}`);
    this.name = 'StateDirUnusable';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function kind(path: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * Creates `dir` (and its `dynamodb` folder) one level at a time and fails with a clear
 * StateDirUnusable when it cannot.
 *
 * Why not `mkdirSync(dir, { recursive: true })`: on a folder that refuses new entries with ENOENT,
 * such as anything under /proc, Node's recursive mkdir retries the parent (which exists) and the
 * child (ENOENT again) forever, at full CPU. Here every level is tried once.
 */
export function ensureStateDir(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (kind(at) === 'missing' && dirname(at) !== at) {
    missing.unshift(at);
    at = dirname(at);
  }
  if (kind(at) === 'other') throw new StateDirUnusable(dir, `${at} is a file, not a folder`);
  for (const path of [...missing, join(resolve(dir), 'dynamodb')]) {
    try {
      mkdirSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && kind(path) === 'dir') continue;
      throw new StateDirUnusable(dir, `cannot create ${path} (${code ?? (error as Error).message})`);
    }
  }
}

/**
 * Takes the state folder for this process. dynalite's LevelDB allows one process per folder and
 * fails deep inside a request otherwise, so the folder is claimed up front. A claim left by a
 * process that no longer runs is taken over; any other failure (a read-only folder, a file in
 * the way) is a StateDirUnusable, never a retry.
 */
export function lockStateDir(dir: string): () => void {
  const file = join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw new StateDirUnusable(dir, `cannot claim ${file} (${code ?? (error as Error).message})`);
      let pid = 0;
      try {
        pid = Number(readFileSync(file, 'utf8'));
      } catch {
        // A claim that cannot be read is taken over like a stale one.
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new StateInUse(dir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new StateInUse(dir, 0);
}
