/**
 * @module Exact set algebra on sorted, disjoint, non-adjacent inclusive intervals (flat `[s0, e0, s1, e1, …]`),
 * over IPv4 (number), IPv6 (bigint) and port (number) spaces. The lint's coverage relation is
 * `covers(A, B) ⇔ B − A = ∅`, i.e. `isSubset(B, A)` (docs/adr/0080-lint-coverage.md). Pure.
 */
import { type Cidr, cidrBounds, IPV4_MAX, IPV6_MAX, parseCidr } from '../../net/ip.ts';
import { mergeIntervals } from '../../net/prefix-index.ts';

/** One ordered value space: its bounds and successor/predecessor. */
export interface Space<T extends number | bigint> {
  min: T;
  max: T;
  succ: (value: T) => T;
  pred: (value: T) => T;
}

export const IPV4_SPACE: Space<number> = { min: 0, max: IPV4_MAX, succ: (v) => v + 1, pred: (v) => v - 1 };
export const IPV6_SPACE: Space<bigint> = { min: 0n, max: IPV6_MAX, succ: (v) => v + 1n, pred: (v) => v - 1n };
export const PORT_SPACE: Space<number> = { min: 0, max: 65535, succ: (v) => v + 1, pred: (v) => v - 1 };

/** Flat merged intervals. */
export type Intervals<T extends number | bigint> = readonly T[];

/** Sorts and merges overlapping or adjacent `[first, last]` pairs (src/net/prefix-index.ts), flattened. */
export function merge<T extends number | bigint>(pairs: Array<[T, T]>, space: Space<T>): T[] {
  const { starts, ends } = mergeIntervals(pairs, space.succ);
  return starts.flatMap((start, i) => [start, ends[i] as T]);
}

/** The whole space as one interval. */
export function full<T extends number | bigint>(space: Space<T>): T[] {
  return [space.min, space.max];
}

/** Everything in the space that is not in `set`. */
export function complement<T extends number | bigint>(set: Intervals<T>, space: Space<T>): T[] {
  const out: T[] = [];
  let next: T | null = space.min;
  for (let i = 0; i < set.length; i += 2) {
    const start = set[i] as T;
    const end = set[i + 1] as T;
    if (next !== null && start > next) out.push(next, space.pred(start));
    next = end === space.max ? null : space.succ(end);
  }
  if (next !== null) out.push(next, space.max);
  return out;
}

/** Index of the last interval whose start is `<= value`, or -1. */
function floorInterval<T extends number | bigint>(set: Intervals<T>, value: T): number {
  let lo = 0;
  let hi = set.length / 2 - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((set[mid * 2] as T) <= value) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** `inner ⊆ outer`: every interval of `inner` lies inside one interval of `outer` (both merged). */
export function isSubset<T extends number | bigint>(inner: Intervals<T>, outer: Intervals<T>): boolean {
  for (let i = 0; i < inner.length; i += 2) {
    const k = floorInterval(outer, inner[i] as T);
    if (k < 0 || (inner[i + 1] as T) > (outer[k * 2 + 1] as T)) return false;
  }
  return true;
}

/** `a ∩ b ≠ ∅`. */
export function intersects<T extends number | bigint>(a: Intervals<T>, b: Intervals<T>): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const aEnd = a[i + 1] as T;
    const bEnd = b[j + 1] as T;
    if ((a[i] as T) <= bEnd && (b[j] as T) <= aEnd) return true;
    if (aEnd < bEnd) i += 2;
    else j += 2;
  }
  return false;
}

/** Merged intervals of the CIDRs of one family; texts that do not parse are skipped (the generator reports them). */
export function cidrIntervals(texts: readonly string[], family: 4): number[];
export function cidrIntervals(texts: readonly string[], family: 6): bigint[];
export function cidrIntervals(texts: readonly string[], family: 4 | 6): number[] | bigint[] {
  const parsed = texts
    .map((text) => parseCidr(text))
    .filter((c): c is Cidr => c !== null && c.family === family);
  if (family === 4) {
    return merge(
      parsed.map((c) => {
        const b = cidrBounds(c) as { first: number; last: number };
        return [b.first, b.last] as [number, number];
      }),
      IPV4_SPACE,
    );
  }
  return merge(
    parsed.map((c) => {
      const b = cidrBounds(c) as { first: bigint; last: bigint };
      return [b.first, b.last] as [bigint, bigint];
    }),
    IPV6_SPACE,
  );
}

interface StabItem<T> {
  start: T;
  end: T;
  id: number;
}

interface StabNode<T> {
  center: T;
  /** Items containing `center`, by ascending start and by descending end. */
  byStart: StabItem<T>[];
  byEnd: StabItem<T>[];
  left: StabNode<T> | null;
  right: StabNode<T> | null;
}

const ascending = <T extends number | bigint>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A static centered interval tree: which items contain a point, in O(log n + k). The lint uses it to find the
 * few rules whose address set can contain another rule's (docs/adr/0082-lint-performance.md).
 */
export class IntervalStabber<T extends number | bigint> {
  private readonly root: StabNode<T> | null;

  constructor(items: StabItem<T>[]) {
    this.root = IntervalStabber.build(items);
  }

  private static build<T extends number | bigint>(items: StabItem<T>[]): StabNode<T> | null {
    if (items.length === 0) return null;
    const starts = items.map((item) => item.start).sort(ascending);
    const center = starts[starts.length >> 1] as T;
    const left: StabItem<T>[] = [];
    const right: StabItem<T>[] = [];
    const mid: StabItem<T>[] = [];
    for (const item of items) {
      if (item.end < center) left.push(item);
      else if (item.start > center) right.push(item);
      else mid.push(item);
    }
    return {
      center,
      byStart: [...mid].sort((a, b) => ascending(a.start, b.start)),
      byEnd: mid.sort((a, b) => ascending(b.end, a.end)),
      left: IntervalStabber.build(left),
      right: IntervalStabber.build(right),
    };
  }

  /** Ids of the items whose interval contains `point` (unordered). */
  stab(point: T): number[] {
    const out: number[] = [];
    let node = this.root;
    while (node !== null) {
      if (point < node.center) {
        for (const item of node.byStart) {
          if (item.start > point) break;
          out.push(item.id);
        }
        node = node.left;
      } else if (point > node.center) {
        for (const item of node.byEnd) {
          if (item.end < point) break;
          out.push(item.id);
        }
        node = node.right;
      } else {
        for (const item of node.byStart) out.push(item.id);
        node = null;
      }
    }
    return out;
  }
}
