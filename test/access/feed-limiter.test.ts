/**
 * @module The refused-fetch limiter of the EDL feed (src/access/service/feed.ts): at most N rows per knoc per
 * window, the rest counted and reported with the next recorded refusal (security finding 6).
 */
import { describe, expect, it } from 'vitest';
import { RefusedFetchLimiter } from '../../src/access/service/feed.ts';

describe('RefusedFetchLimiter', () => {
  it('records the first N refusals of a window and counts the rest for the next recorded one', () => {
    const limiter = new RefusedFetchLimiter(3, 1_000);
    const t0 = 10_000;
    const admitted = Array.from({ length: 10 }, (_, i) => limiter.admit('k1', t0 + i));
    expect(admitted.map((a) => a.record)).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(admitted.every((a) => a.suppressed === 0)).toBe(true);
    // Next window: the first recorded refusal reports the 7 left out.
    expect(limiter.admit('k1', t0 + 1_000)).toEqual({ record: true, suppressed: 7 });
    expect(limiter.admit('k1', t0 + 1_001)).toEqual({ record: true, suppressed: 0 });
  });

  it('keeps a separate budget per knoc', () => {
    const limiter = new RefusedFetchLimiter(1, 1_000);
    expect(limiter.admit('a', 0).record).toBe(true);
    expect(limiter.admit('a', 1).record).toBe(false);
    expect(limiter.admit('b', 2).record).toBe(true);
  });
});
