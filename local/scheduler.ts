import type { Clock } from '../shared/ports';

interface Sleeper {
  at: number;
  seq: number;
  /** Called with a busy slot already taken for the woken work. */
  wake: () => void;
}

/**
 * A virtual clock with a discrete-event scheduler. Running work holds a busy slot; when no slot is
 * held (every execution waits on a Wait state, a task token or a timer), time jumps to the
 * earliest wake-up. A 15-minute canary or a four-day deferral takes milliseconds, and events keep
 * the order they would have had in real time.
 */
export class VirtualScheduler implements Clock {
  private nowMs: number;
  private sleepers: Sleeper[] = [];
  private busy = 0;
  private seq = 0;
  private checking = false;
  private frozen = 0;

  constructor(start: Date) {
    this.nowMs = start.getTime();
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  /** Takes a busy slot; the returned function gives it back (once). */
  hold(): () => void {
    this.busy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy--;
      this.kick();
    };
  }

  /**
   * Keeps virtual time from advancing (work due now still runs) until the returned function is
   * called. The local stack freezes time between a driver's calls.
   */
  freeze(): () => void {
    this.frozen++;
    let thawed = false;
    return () => {
      if (thawed) return;
      thawed = true;
      this.frozen--;
      this.kick();
    };
  }

  /** Whether nothing runs and nothing is due at the current instant. */
  quietNow(): boolean {
    return this.busy === 0 && !this.checking && !this.sleepers.some((x) => x.at <= this.nowMs);
  }

  /** Runs `fn` holding a busy slot. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    const release = this.hold();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** For work that holds a slot: gives it up until virtual time `atMs`, then takes it back. */
  pause(atMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.push(atMs, resolve);
      this.busy--;
      this.kick();
    });
  }

  /** Runs `fn` at virtual time `atMs`, holding a slot while it runs. */
  at(atMs: number, fn: () => void | Promise<void>): void {
    this.push(atMs, () => {
      Promise.resolve()
        .then(fn)
        .catch((error) => {
          process.stderr.write(`scheduled work failed: ${(error as Error).stack ?? String(error)}\n`);
        })
        .finally(() => {
          this.busy--;
          this.kick();
        });
    });
    this.kick();
  }

  /**
   * For work that holds a slot: waits for `promise`, giving up the slot meanwhile. If virtual time
   * reaches `timeoutAtMs` first, rejects with `onTimeout()`.
   */
  waitFor<T>(promise: Promise<T>, timeoutAtMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const sleeper = this.push(timeoutAtMs, () => {
        if (settled) {
          this.busy--;
          return;
        }
        settled = true;
        reject(onTimeout());
      });
      this.busy--;
      this.kick();
      promise.then(
        (value) => {
          if (settled) return;
          settled = true;
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          this.busy++;
          resolve(value);
        },
        (error) => {
          if (settled) return;
          settled = true;
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          this.busy++;
          reject(error);
        },
      );
    });
  }

  /** Resolves once no work holds a slot (timers may still be pending). */
  async settled(): Promise<void> {
    while (this.busy > 0) await new Promise((r) => setImmediate(r));
  }

  private push(atMs: number, wake: () => void): Sleeper {
    const sleeper = { at: Math.max(atMs, this.nowMs), seq: this.seq++, wake };
    this.sleepers.push(sleeper);
    return sleeper;
  }

  private kick(): void {
    if (this.checking || this.busy > 0 || this.sleepers.length === 0) return;
    this.checking = true;
    // Two turns of the event loop let pending I/O callbacks and microtasks run: only then is the
    // system really idle.
    setImmediate(() =>
      setImmediate(() => {
        this.checking = false;
        if (this.busy > 0 || this.sleepers.length === 0) return;
        this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        if (this.frozen > 0 && (this.sleepers[0] as Sleeper).at > this.nowMs) return;
        const first = this.sleepers.shift() as Sleeper;
        this.nowMs = Math.max(this.nowMs, first.at);
        this.busy++;
        first.wake();
      }),
    );
  }
}
