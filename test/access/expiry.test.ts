/** @module Expiry scheduler: one timer for the next instant, exact firing, long delays (fake timers). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpiryScheduler, MAX_TIMER_DELAY_MS } from '../../src/access/expiry.ts';

const T0 = Date.UTC(2026, 0, 1);

describe('ExpiryScheduler', () => {
  let fired: { at: number; keys: string[] }[];
  let scheduler: ExpiryScheduler<string>;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    fired = [];
    scheduler = new ExpiryScheduler<string>((keys) => fired.push({ at: Date.now(), keys }));
  });
  afterEach(() => {
    scheduler.stop();
    vi.useRealTimers();
  });

  it('fires each key at its exact instant, not before', () => {
    scheduler.set('a', T0 + 1_000);
    scheduler.set('b', T0 + 2_500);
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([{ at: T0 + 1_000, keys: ['a'] }]);
    vi.advanceTimersByTime(1_500);
    expect(fired).toEqual([
      { at: T0 + 1_000, keys: ['a'] },
      { at: T0 + 2_500, keys: ['b'] },
    ]);
    expect(scheduler.size).toBe(0);
  });

  it('keeps exactly one timer armed however many keys are pending', () => {
    for (let i = 0; i < 1_000; i++) scheduler.set(`g${i}`, T0 + 60_000 + i);
    expect(vi.getTimerCount()).toBe(1);
    expect(scheduler.nextAt()).toBe(T0 + 60_000);
  });

  it('reports keys due at the same instant in one call, earliest first', () => {
    scheduler.set('late', T0 + 10);
    scheduler.set('early', T0 + 5);
    scheduler.set('same', T0 + 10);
    vi.advanceTimersByTime(20);
    expect(fired.map((f) => f.keys)).toEqual([['early'], ['late', 'same']]);
  });

  it('re-arms when an earlier key arrives, a key moves, or the earliest is deleted', () => {
    scheduler.set('a', T0 + 10_000);
    scheduler.set('b', T0 + 3_000);
    expect(scheduler.nextAt()).toBe(T0 + 3_000);
    scheduler.set('b', T0 + 20_000); // extended
    expect(scheduler.nextAt()).toBe(T0 + 10_000);
    scheduler.delete('a'); // revoked
    expect(scheduler.nextAt()).toBe(T0 + 20_000);
    vi.advanceTimersByTime(19_999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([{ at: T0 + 20_000, keys: ['b'] }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('chains waits longer than setTimeout can hold and still fires at the instant', () => {
    const at = T0 + MAX_TIMER_DELAY_MS * 2 + 12_345; // ~50 days
    scheduler.set('long', at);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(12_344);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([{ at, keys: ['long'] }]);
  });

  it('never reports early when the timer wakes before the clock reaches the instant', () => {
    let offset = 0;
    const clock = () => Date.now() + offset;
    const early = new ExpiryScheduler<string>((keys) => fired.push({ at: clock(), keys }), { now: clock });
    early.set('k', T0 + 100); // armed for 100 ms
    offset = -3; // by the wake-up the scheduler's clock lags the timer by 3 ms
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(2);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([{ at: T0 + 100, keys: ['k'] }]);
    early.stop();
  });

  it('reports an instant already past on the next tick', () => {
    scheduler.set('past', T0 - 5_000);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([{ at: T0, keys: ['past'] }]);
  });

  it('sheds stale heap nodes when keys move often', () => {
    for (let i = 0; i < 10_000; i++) scheduler.set('moving', T0 + 1_000 + i);
    expect(scheduler.size).toBe(1);
    vi.advanceTimersByTime(1_000 + 9_999);
    expect(fired).toEqual([{ at: T0 + 10_999, keys: ['moving'] }]);
  });

  it('rejects a non-finite instant', () => {
    expect(() => scheduler.set('x', Number.NaN)).toThrow(RangeError);
  });
});
