/**
 * @module Expiry scheduler: one timer, armed for the earliest pending expiry, re-armed as keys are added,
 * moved or removed — never a coarse poll (docs/adr/0074-expiry-scheduler.md).
 *
 * - Keys (grant ids) map to an expiry instant in epoch milliseconds; a binary min-heap with lazy deletion keeps
 *   set/delete at O(log n) for tens of thousands of grants.
 * - `setTimeout` holds at most 2^31-1 ms (~24.8 days); longer waits are chained.
 * - Timers may fire a millisecond early against `Date.now()`; a wake-up that finds nothing due re-arms for the
 *   remainder, so a key is never reported before its instant.
 * - Every key due at the wake-up is reported in one call, in expiry order (ties in scheduling order).
 */

/** The longest delay `setTimeout` honours; larger values fire after 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface ExpirySchedulerOptions {
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

interface HeapNode<K> {
  key: K;
  at: number;
  /** Scheduling order, so keys due at the same instant come out in the order they were set. */
  seq: number;
}

function before<K>(a: HeapNode<K>, b: HeapNode<K>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class ExpiryScheduler<K> {
  private readonly due = new Map<K, number>();
  private readonly heap: HeapNode<K>[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedAt: number | undefined;
  private stopped = false;
  private seq = 0;
  private readonly now: () => number;

  /** `onExpire` receives the keys whose instant has come, earliest first; they are already removed. */
  constructor(
    private readonly onExpire: (keys: K[]) => void,
    options: ExpirySchedulerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Number of pending keys. */
  get size(): number {
    return this.due.size;
  }

  /** The earliest pending instant, or undefined when nothing is pending. */
  nextAt(): number | undefined {
    this.dropStale();
    return this.heap[0]?.at;
  }

  /** Schedules (or moves) `key` to expire at `at`. An instant already past is reported on the next tick. */
  set(key: K, at: number): void {
    if (!Number.isFinite(at)) throw new RangeError(`expiry instant must be finite, got ${at}`);
    if (this.due.get(key) === at) return;
    this.due.set(key, at);
    this.push({ key, at, seq: this.seq++ });
    if (this.heap.length > 2 * this.due.size + 64) this.compact();
    this.arm();
  }

  /** Forgets `key` (revoked or ended early). Unknown keys are ignored. */
  delete(key: K): void {
    if (!this.due.delete(key)) return;
    this.arm();
  }

  has(key: K): boolean {
    return this.due.has(key);
  }

  /** Cancels the timer and forgets everything. */
  stop(): void {
    this.stopped = true;
    this.disarm();
    this.due.clear();
    this.heap.length = 0;
  }

  private arm(): void {
    if (this.stopped) return;
    const next = this.nextAt();
    if (next === this.armedAt && this.timer !== undefined) return;
    this.disarm();
    if (next === undefined) return;
    const delay = Math.min(Math.max(next - this.now(), 0), MAX_TIMER_DELAY_MS);
    this.armedAt = next;
    this.timer = setTimeout(() => this.wake(), delay);
    // An expiry timer alone must not keep a process alive (the server's listeners do).
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
  }

  private wake(): void {
    this.timer = undefined;
    this.armedAt = undefined;
    const now = this.now();
    const expired: K[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (top === undefined || top.at > now) break;
      this.pop();
      this.due.delete(top.key);
      expired.push(top.key);
    }
    this.arm();
    if (expired.length > 0) this.onExpire(expired);
  }

  /** Removes heap tops that no longer match the current instant of their key. */
  private dropStale(): void {
    for (let top = this.heap[0]; top !== undefined && this.due.get(top.key) !== top.at; top = this.heap[0])
      this.pop();
  }

  /** Rebuilds the heap from the live keys, shedding the stale nodes that moved keys leave behind. */
  private compact(): void {
    const live = new Map<K, HeapNode<K>>();
    for (const node of this.heap) {
      if (this.due.get(node.key) !== node.at) continue;
      const seen = live.get(node.key);
      if (seen === undefined || node.seq > seen.seq) live.set(node.key, node);
    }
    this.heap.length = 0;
    for (const node of live.values()) this.push(node);
  }

  private push(node: HeapNode<K>): void {
    const heap = this.heap;
    heap.push(node);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as HeapNode<K>;
      if (!before(node, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = node;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const l = heap[left] as HeapNode<K>;
      const r = heap[right];
      const child = r !== undefined && before(r, l) ? right : left;
      const c = heap[child] as HeapNode<K>;
      if (!before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
