/**
 * @module The rule alignment of the diff: pairs match equal signatures, increase on both sides, and are a longest
 * common subsequence (checked against the textbook dynamic-programming LCS length on random lists).
 */
import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { alignSignatures } from '../../src/policy/diff/align.ts';

function lcsLength(a: number[], b: number[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1] as number);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

const list = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 });

test.prop([list, list], { numRuns: 500 })('pairs are equal, increasing and a longest common subsequence', (a, b) => {
  const pairs = alignSignatures(a, b);
  for (const [k, [i, j]] of pairs.entries()) {
    expect(a[i]).toBe(b[j]);
    if (k > 0) {
      const [pi, pj] = pairs[k - 1] as [number, number];
      expect(i).toBeGreaterThan(pi);
      expect(j).toBeGreaterThan(pj);
    }
  }
  expect(pairs.length).toBe(lcsLength(a, b));
});

it('keeps the common prefix and suffix around an edit in a long list', () => {
  const a = Array.from({ length: 5000 }, (_, i) => i);
  const b = [...a.slice(0, 2500), 99_999, ...a.slice(2501)];
  const pairs = alignSignatures(a, b);
  expect(pairs).toHaveLength(4999);
  expect(pairs.some(([i]) => i === 2500)).toBe(false);
});
