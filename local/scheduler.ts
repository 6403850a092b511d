import type { Clock } from '../shared/ports';

interface Sleeper {
  at: number;
  seq: number;
  /** Called with a busy slot already taken for the woken work. */
  wake: () => void;
  /** Set when the wait ended otherwise: the sleeper stays in the heap and is skipped. */
  cancelled?: boolean;
}

/** Earlier first; at the same instant, in the order they were scheduled. */
const before = (a: Sleeper, b: Sleeper) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * The sleepers in a binary heap: a thousand executions and their alarms' ticks wait at once, and
 * each wake-up takes the earliest in O(log n) instead of sorting them all.
 */
class SleeperHeap {
  private readonly items: Sleeper[] = [];
  /** Sleepers not cancelled. */
  size = 0;

  push(sleeper: Sleeper): void {
    const items = this.items;
    items.push(sleeper);
    this.size++;
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(sleeper, items[parent] as Sleeper)) break;
      items[i] = items[parent] as Sleeper;
      i = parent;
    }
    items[i] = sleeper;
  }

  cancel(sleeper: Sleeper): void {
    if (sleeper.cancelled) return;
    sleeper.cancelled = true;
    this.size--;
  }

  /** The earliest sleeper not cancelled, left in place. */
  peek(): Sleeper | undefined {
    while (this.items[0]?.cancelled) this.removeTop();
    return this.items[0];
  }

  /** Removes and returns the earliest sleeper not cancelled. */
  pop(): Sleeper | undefined {
    const top = this.peek();
    if (top) {
      this.removeTop();
      this.size--;
    }
    return top;
  }

  private removeTop(): void {
    const items = this.items;
    const last = items.pop() as Sleeper;
    if (items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length && before(items[right] as Sleeper, items[left] as Sleeper) ? right : left;
      if (!before(items[child] as Sleeper, last)) break;
      items[i] = items[child] as Sleeper;
      i = child;
    }
    items[i] = last;
  }
}

/**
 * A virtual clock with a discrete-event scheduler. Running work holds a busy slot; when no slot is
 * held (every execution waits on a Wait state, a task token or a timer), time jumps to the
 * earliest wake-up. A 15-minute canary or a four-day deferral takes milliseconds, and events keep
 * the order they would have had in real time.
 */
export class VirtualScheduler implements Clock {
  private nowMs: number;
  private readonly sleepers = new SleeperHeap();
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
    const next = this.sleepers.peek();
    return this.busy === 0 && !this.checking && !(next && next.at <= this.nowMs);
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
          this.sleepers.cancel(sleeper);
          this.busy++;
          resolve(value);
        },
        (error) => {
          if (settled) return;
          settled = true;
          this.sleepers.cancel(sleeper);
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
    if (this.checking || this.busy > 0 || this.sleepers.size === 0) return;
    this.checking = true;
    // Two turns of the event loop let pending I/O callbacks and microtasks run: only then is the
    // system really idle.
    setImmediate(() =>
      setImmediate(() => {
        this.checking = false;
        if (this.busy > 0 || this.sleepers.size === 0) return;
        if (this.frozen > 0 && (this.sleepers.peek() as Sleeper).at > this.nowMs) return;
        const first = this.sleepers.pop() as Sleeper;
        this.nowMs = Math.max(this.nowMs, first.at);
        this.busy++;
        first.wake();
      }),
    );
  }
}

/** Node's timers take at most 2^31-1 ms; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The wall clock for the long-lived `upshift up`, optionally sped up: `speed` 60 makes a 15-minute
 * canary take 15 seconds. Time starts at `start` (the real time, or a kept state's last instant
 * when that is later, so time never runs backwards) and runs `speed` times as fast as real time.
 * At speed 1 every stamp in a kept state is a real time. Work does not hold the clock: time passes
 * while handlers run, as on AWS. The same interface as VirtualScheduler, so the stack, the engine
 * and the emulators run unchanged on either.
 */
export class WallClock extends VirtualScheduler {
  private readonly startMs: number;
  private readonly realStart = Date.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private working = 0;
  private stopped = false;

  constructor(
    start: Date,
    readonly speed = 1,
  ) {
    super(start);
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new Error(`speed must be a positive number, not ${speed}`);
    this.startMs = start.getTime();
  }

  override now(): Date {
    return new Date(this.startMs + (Date.now() - this.realStart) * this.speed);
  }

  override hold(): () => void {
    this.working++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.working--;
    };
  }

  /** The wall clock cannot be held still. */
  override freeze(): () => void {
    return () => undefined;
  }

  override quietNow(): boolean {
    return this.working === 0;
  }

  override async track<T>(fn: () => Promise<T>): Promise<T> {
    const release = this.hold();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  override pause(atMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.working--;
      this.sleepUntil(atMs, () => {
        this.working++;
        resolve();
      });
    });
  }

  override at(atMs: number, fn: () => void | Promise<void>): void {
    this.sleepUntil(atMs, () => {
      this.working++;
      Promise.resolve()
        .then(fn)
        .catch((error) => {
          process.stderr.write(`scheduled work failed: ${(error as Error).stack ?? String(error)}\n`);
        })
        .finally(() => {
          this.working--;
        });
    });
  }

  override waitFor<T>(promise: Promise<T>, timeoutAtMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      this.working--;
      const cancel = this.sleepUntil(timeoutAtMs, () => {
        if (settled) return;
        settled = true;
        this.working++;
        reject(onTimeout());
      });
      promise.then(
        (value) => {
          if (settled) return;
          settled = true;
          cancel();
          this.working++;
          resolve(value);
        },
        (error) => {
          if (settled) return;
          settled = true;
          cancel();
          this.working++;
          reject(error);
        },
      );
    });
  }

  override async settled(): Promise<void> {
    while (this.working > 0) await new Promise((r) => setImmediate(r));
  }

  /** Cancels every timer: the stack is closing and nothing due later may run. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Calls `wake` once the clock reaches `atMs`; returns a cancel. A wait past any real timer never fires. */
  private sleepUntil(atMs: number, wake: () => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = () => {
      if (cancelled || this.stopped) return;
      const realMs = Math.max(0, (atMs - this.now().getTime()) / this.speed);
      if (!Number.isFinite(realMs) || atMs >= Number.MAX_SAFE_INTEGER / 2) return;
      timer = setTimeout(
        () => {
          if (timer) this.timers.delete(timer);
          if (realMs > MAX_TIMER_MS) arm();
          else if (!cancelled && !this.stopped) wake();
        },
        Math.min(realMs, MAX_TIMER_MS),
      );
      // Timers do not keep the process alive: the server (or a test) does.
      timer.unref();
      this.timers.add(timer);
    };
    arm();
    return () => {
      cancelled = true;
      if (timer) {
        clearTimeout(timer);
        this.timers.delete(timer);
      }
    };
  }
}
