/**
 * @module The emulator's clock: real time by default, plus an offset that `advance(ms)` moves forward, or a
 * manual clock that only moves on `advance`. Timers registered with `schedule` fire on either (a real timer
 * for real time, `runDue()` after each advance), in due-time order.
 */

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  real: NodeJS.Timeout | null;
}

export class EmulatorClock {
  private offset = 0;
  private readonly timers = new Map<number, Timer>();
  private seq = 0;
  private readonly manualStart: number | null;

  constructor(mode: 'real' | 'manual' = 'real', start = Date.now()) {
    this.manualStart = mode === 'manual' ? start : null;
  }

  now(): number {
    return (this.manualStart ?? Date.now()) + this.offset;
  }

  /** Runs `fn` after `delayMs` of emulated time; returns a handle for `cancel`. */
  schedule(delayMs: number, fn: () => void): number {
    const id = ++this.seq;
    const timer: Timer = { id, at: this.now() + Math.max(0, delayMs), fn, real: null };
    if (this.manualStart === null) {
      timer.real = setTimeout(() => this.runDue(), Math.max(0, delayMs) + 1);
      timer.real.unref();
    }
    this.timers.set(id, timer);
    return id;
  }

  cancel(id: number | null | undefined): void {
    if (id === null || id === undefined) return;
    const timer = this.timers.get(id);
    if (timer?.real) clearTimeout(timer.real);
    this.timers.delete(id);
  }

  /** Moves emulated time forward and fires every timer that came due, oldest first. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advance(ms) needs a non-negative number');
    this.offset += ms;
    this.runDue();
  }

  runDue(): void {
    for (;;) {
      const now = this.now();
      const due = [...this.timers.values()].filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.id - b.id);
      const next = due[0];
      if (!next) return;
      this.cancel(next.id);
      next.fn();
    }
  }

  /** Cancels every timer (on close). */
  clear(): void {
    for (const id of [...this.timers.keys()]) this.cancel(id);
  }
}
