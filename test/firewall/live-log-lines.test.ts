/**
 * @module `newLogLines`: which lines of a polled log window are new since the previous window (the diff behind
 * `GET /gateways/{id}/logs/stream`), as a decision table including repeats, rotation and an overrun window.
 */
import { describe, expect, it } from 'vitest';
import { newLogLines } from '../../src/firewall/live.ts';

describe('newLogLines', () => {
  it.each([
    { row: 'first poll: everything is new, no gap', previous: [], batch: ['a', 'b'], lines: ['a', 'b'], gap: false },
    { row: 'nothing new', previous: ['a', 'b'], batch: ['a', 'b'], lines: [], gap: false },
    { row: 'one appended, window not full', previous: ['a', 'b'], batch: ['a', 'b', 'c'], lines: ['c'], gap: false },
    { row: 'window full: oldest dropped', previous: ['a', 'b', 'c'], batch: ['b', 'c', 'd'], lines: ['d'], gap: false },
    { row: 'two appended, window full', previous: ['a', 'b', 'c'], batch: ['c', 'd', 'e'], lines: ['d', 'e'], gap: false },
    { row: 'repeated lines keep the longest overlap', previous: ['x', 'x'], batch: ['x', 'x', 'x'], lines: ['x'], gap: false },
    { row: 'more new lines than the window: gap', previous: ['a', 'b'], batch: ['c', 'd'], lines: ['c', 'd'], gap: true },
    { row: 'log rotated to empty: nothing, no gap', previous: ['a'], batch: [], lines: [], gap: false },
  ])('$row', ({ previous, batch, lines, gap }) => {
    expect(newLogLines(previous, batch)).toEqual({ lines, gap });
  });

  it('never returns a line of the previous window as new when the window only slid', () => {
    const log = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    for (let end = 10; end < 50; end++) {
      const previous = log.slice(end - 10, end);
      const batch = log.slice(end - 7, end + 3);
      expect(newLogLines(previous, batch)).toEqual({ lines: log.slice(end, end + 3), gap: false });
    }
  });
});
