/**
 * @module Aligns two rule lists by their match signatures: a longest common subsequence found with Myers' O(ND)
 * difference algorithm after stripping the common prefix and suffix. Rules outside the alignment are the
 * "changed" rules of the semantic diff (docs/adr/0140-policy-diff-regions.md). Any common subsequence keeps the
 * diff exact; a longer one only prunes more, so a very large edit distance falls back to prefix and suffix. Pure.
 */

/** Beyond this many edits the middle is not aligned (memory grows with the square of the edit distance). */
const MAX_EDITS = 2000;

/** Index pairs `[i, j]` with `a[i] === b[j]`, strictly increasing in both. */
export function alignSignatures(a: readonly number[], b: readonly number[]): Array<[number, number]> {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < start; i++) pairs.push([i, i]);
  for (const [i, j] of myers(a.slice(start, endA), b.slice(start, endB))) pairs.push([start + i, start + j]);
  for (let i = endA, j = endB; i < a.length; i++, j++) pairs.push([i, j]);
  return pairs;
}

/** Matched pairs of a shortest edit script (E. Myers, "An O(ND) Difference Algorithm", 1986), ascending. */
function myers(a: readonly number[], b: readonly number[]): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return [];
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  /** `trace[d][k + d + 1]` = furthest x on diagonal k before step d. */
  const trace: Int32Array[] = [];
  let found = -1;
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
          ? (v[offset + k + 1] as number)
          : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break outer;
      }
    }
  }
  if (found < 0) return [];
  const pairs: Array<[number, number]> = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const before = trace[d] as Int32Array;
    const at = (k: number) => before[k + d + 1] as number;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const snakeStart = prevK === k + 1 ? prevX : prevX + 1;
    while (x > snakeStart) {
      x--;
      y--;
      pairs.push([x, y]);
    }
    x = prevX;
    y = prevX - prevK;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    pairs.push([x, y]);
  }
  return pairs.reverse();
}
