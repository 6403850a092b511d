import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the state folder for this process. dynalite's LevelDB allows one process per folder and
 * fails deep inside a request otherwise, so the folder is claimed up front. A claim left by a
 * process that no longer runs is taken over.
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
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new StateInUse(dir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new StateInUse(dir, 0);
}
