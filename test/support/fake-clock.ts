import type { TwinClock } from '../../local/twin/contracts';

/** A virtual clock for emulator tests: `at` callbacks run in time order when a test advances it. */
export class FakeClock implements TwinClock {
  private queue: { at: number; seq: number; fn: () => void | Promise<void> }[] = [];
  private seq = 0;
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  at(atMs: number, fn: () => void | Promise<void>): void {
    this.queue.push({ at: Math.max(atMs, this.ms), seq: this.seq++, fn });
  }
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > target) break;
      this.queue.shift();
      this.ms = next.at;
      await next.fn();
    }
    this.ms = target;
  }
}
