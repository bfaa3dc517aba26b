/**
 * @module Membership indexes over CIDR sets, both families, built once and queried in O(log n) by binary search
 * (docs/adr/0052-prefix-index.md; measured designs in docs/reference/stack.md §3.5).
 *
 * - `PrefixSet`: one set of prefixes → sorted disjoint merged intervals. `has(address)`.
 * - `MultiPrefixIndex`: many sets at once → elementary intervals, each labelled with an interned "class": the
 *   bitset of the sets that contain it. `classOf(address)` then `classHas(class, set)` answers membership in any
 *   of the sets with one search; the policy evaluator memoises per class which rules can match.
 *
 * IPv4 bounds live in `Float64Array`s (exact for 0…2^32; the multi-set index uses a `Uint32Array` of interval
 * starts, half the memory, so lookups miss the cache less), IPv6 bounds in plain `bigint` arrays. Families never
 * mix: an IPv4 prefix never contains an IPv6 address (v4-mapped included).
 */
import { type Cidr, cidrBounds, IPV4_MAX, IPV6_MAX, type IpAddress } from './ip.ts';

/** Sorted, disjoint, non-adjacent inclusive intervals of one family. */
interface Intervals<T extends number | bigint> {
  starts: T[];
  ends: T[];
}

/** Sorts (in place) and merges overlapping or adjacent `[first, last]` pairs; shared with the policy lint. */
export function mergeIntervals<T extends number | bigint>(
  pairs: Array<[T, T]>,
  successor: (value: T) => T,
): Intervals<T> {
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const starts: T[] = [];
  const ends: T[] = [];
  for (const [first, last] of pairs) {
    const n = ends.length - 1;
    const previousEnd = ends[n];
    // Adjacent (previous end + 1 === first) or overlapping: extend.
    if (previousEnd !== undefined && first <= successor(previousEnd)) {
      if (last > previousEnd) ends[n] = last;
    } else {
      starts.push(first);
      ends.push(last);
    }
  }
  return { starts, ends };
}

const nextNumber = (value: number): number => value + 1;
const nextBigint = (value: bigint): bigint => value + 1n;

function splitByFamily(cidrs: Iterable<Cidr>): { v4: Array<[number, number]>; v6: Array<[bigint, bigint]> } {
  const v4: Array<[number, number]> = [];
  const v6: Array<[bigint, bigint]> = [];
  for (const cidr of cidrs) {
    if (cidr.family === 4) {
      const { first, last } = cidrBounds(cidr);
      v4.push([first, last]);
    } else {
      const { first, last } = cidrBounds(cidr);
      v6.push([first, last]);
    }
  }
  return { v4, v6 };
}

/** Index of the last element `<= value` in a sorted array, or -1. */
function floorIndexNumber(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= value) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

function floorIndexBigint(sorted: readonly bigint[], value: bigint): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as bigint) <= value) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** A set of prefixes of both families, as merged intervals. */
export class PrefixSet {
  private readonly v4Starts: Float64Array;
  private readonly v4Ends: Float64Array;
  private readonly v6Starts: bigint[];
  private readonly v6Ends: bigint[];

  constructor(cidrs: Iterable<Cidr>) {
    const { v4, v6 } = splitByFamily(cidrs);
    const merged4 = mergeIntervals(v4, nextNumber);
    const merged6 = mergeIntervals(v6, nextBigint);
    this.v4Starts = Float64Array.from(merged4.starts);
    this.v4Ends = Float64Array.from(merged4.ends);
    this.v6Starts = merged6.starts;
    this.v6Ends = merged6.ends;
  }

  /** Number of disjoint intervals (IPv4 + IPv6) after merging. */
  get intervalCount(): number {
    return this.v4Starts.length + this.v6Starts.length;
  }

  hasV4(value: number): boolean {
    const i = floorIndexNumber(this.v4Starts, value);
    return i >= 0 && value <= (this.v4Ends[i] as number);
  }

  hasV6(value: bigint): boolean {
    const i = floorIndexBigint(this.v6Starts, value);
    return i >= 0 && value <= (this.v6Ends[i] as bigint);
  }

  has(address: IpAddress): boolean {
    return address.family === 4 ? this.hasV4(address.value) : this.hasV6(address.value);
  }
}

/** Interns bitsets (as `Uint32Array` rows of `words` words) and hands out dense class ids. */
class ClassTable {
  readonly rows: number[] = [];
  /** Zobrist hash of a bitset → ids with that hash (verified word by word, so collisions are harmless). */
  private readonly byHash = new Map<number, number[]>();
  private count = 0;
  /** One random 32-bit value per set; a bitset's hash is the XOR of its members' values, updated per toggle. */
  readonly zobrist: Uint32Array;

  constructor(
    readonly words: number,
    sets: number,
  ) {
    this.zobrist = new Uint32Array(sets);
    let x = 0x9e3779b9;
    for (let i = 0; i < sets; i++) {
      // xorshift32: deterministic, well spread.
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.zobrist[i] = x >>> 0;
    }
  }

  /** The id of `bits` (whose Zobrist hash is `hash`), adding it when new. */
  intern(bits: Uint32Array, hash: number): number {
    const candidates = this.byHash.get(hash);
    if (candidates !== undefined) {
      for (const id of candidates) if (this.sameRow(id, bits)) return id;
    }
    const id = this.count++;
    for (const word of bits) this.rows.push(word);
    if (candidates === undefined) this.byHash.set(hash, [id]);
    else candidates.push(id);
    return id;
  }

  private sameRow(id: number, bits: Uint32Array): boolean {
    const base = id * this.words;
    for (let w = 0; w < this.words; w++) if (this.rows[base + w] !== bits[w]) return false;
    return true;
  }
}

/** Elementary intervals of one family: `starts[i]` … `starts[i+1]-1` all carry class `classes[i]`. */
interface ClassIntervals<T> {
  starts: T;
  classes: Int32Array;
}

/**
 * Membership in many prefix sets with one binary search. Set `i` is `sets[i]` as given to the constructor. The
 * empty class (no set) is always id 0.
 */
export class MultiPrefixIndex {
  readonly setCount: number;
  private readonly words: number;
  private readonly classBits: Uint32Array;
  private readonly v4: ClassIntervals<Uint32Array>;
  /** For each /16, the first IPv4 interval index to search from, so a lookup scans a short slice (cache-friendly). */
  private readonly v4Slices: Int32Array;
  private readonly v6: ClassIntervals<bigint[]>;

  constructor(sets: ReadonlyArray<Iterable<Cidr>>) {
    this.setCount = sets.length;
    this.words = Math.max(1, Math.ceil(sets.length / 32));
    const table = new ClassTable(this.words, sets.length);
    table.intern(new Uint32Array(this.words), 0); // id 0 = in no set
    const per4: Array<Intervals<number>> = [];
    const per6: Array<Intervals<bigint>> = [];
    for (const cidrs of sets) {
      const { v4, v6 } = splitByFamily(cidrs);
      per4.push(mergeIntervals(v4, nextNumber));
      per6.push(mergeIntervals(v6, nextBigint));
    }
    this.v4 = sweepV4(per4, table);
    this.v4Slices = sliceStarts(this.v4.starts);
    this.v6 = sweepV6(per6, table);
    this.classBits = Uint32Array.from(table.rows);
  }

  /** Number of distinct classes (distinct combinations of sets that occur). */
  get classCount(): number {
    return this.classBits.length / this.words;
  }

  /** Number of elementary intervals (both families). */
  get intervalCount(): number {
    return this.v4.classes.length + this.v6.classes.length;
  }

  classOfV4(value: number): number {
    const starts = this.v4.starts;
    const high = Math.floor(value / 65536);
    // The interval holding `value` starts at or before the first interval of its /16 slice (or is the one before).
    let lo = Math.max(0, (this.v4Slices[high] as number) - 1);
    let hi = (this.v4Slices[high + 1] as number) - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((starts[mid] as number) <= value) lo = mid;
      else hi = mid - 1;
    }
    return this.v4.classes[lo] as number;
  }

  classOfV6(value: bigint): number {
    return this.v6.classes[floorIndexBigint(this.v6.starts, value)] as number;
  }

  classOf(address: IpAddress): number {
    return address.family === 4 ? this.classOfV4(address.value) : this.classOfV6(address.value);
  }

  /** Whether every address of class `classId` is in set `setIndex`. */
  classHas(classId: number, setIndex: number): boolean {
    const word = this.classBits[classId * this.words + (setIndex >>> 5)] as number;
    return ((word >>> (setIndex & 31)) & 1) === 1;
  }

  /** The set indexes of a class, ascending. */
  classMembers(classId: number): number[] {
    const members: number[] = [];
    for (let s = 0; s < this.setCount; s++) if (this.classHas(classId, s)) members.push(s);
    return members;
  }

  has(address: IpAddress, setIndex: number): boolean {
    return this.classHas(this.classOf(address), setIndex);
  }

  /**
   * The elementary intervals of one family in address order: `starts[i]` up to the next start (or the end of the
   * family's space) all carry class `classes[i]`. Read-only views, for callers that walk classes as regions (the
   * policy diff).
   */
  elementaryIntervals(family: 4): { starts: ArrayLike<number>; classes: ArrayLike<number> };
  elementaryIntervals(family: 6): { starts: readonly bigint[]; classes: ArrayLike<number> };
  elementaryIntervals(family: 4 | 6): {
    starts: ArrayLike<number> | readonly bigint[];
    classes: ArrayLike<number>;
  } {
    return family === 4 ? this.v4 : this.v6;
  }
}

/** `slices[p]` = index of the first interval starting at or after `p * 65536`, for p in 0…65536. */
function sliceStarts(starts: Uint32Array): Int32Array {
  const slices = new Int32Array(65537);
  let i = 0;
  for (let p = 0; p <= 65536; p++) {
    while (i < starts.length && (starts[i] as number) < p * 65536) i++;
    slices[p] = i;
  }
  return slices;
}

/**
 * Sweeps toggle events (each set's intervals are disjoint, so entering/leaving flips one bit) in address order
 * and records the class in force from each event position on. Event positions are packed as
 * `position * 2^16 + set` in a Float64Array (exact below 2^53) so a numeric sort orders them.
 */
function sweepV4(perSet: Array<Intervals<number>>, table: ClassTable): ClassIntervals<Uint32Array> {
  if (perSet.length > 0xffff) throw new RangeError('MultiPrefixIndex supports at most 65535 sets');
  let eventCount = 0;
  for (const set of perSet) eventCount += set.starts.length * 2;
  const events = new Float64Array(eventCount);
  let e = 0;
  perSet.forEach((set, s) => {
    for (let i = 0; i < set.starts.length; i++) {
      events[e++] = (set.starts[i] as number) * 65536 + s;
      const end = set.ends[i] as number;
      if (end < IPV4_MAX) events[e++] = (end + 1) * 65536 + s;
    }
  });
  const sorted = events.subarray(0, e).sort();
  const bits = new Uint32Array(table.words);
  let hash = 0;
  const starts: number[] = [0];
  const classes: number[] = [0];
  for (let i = 0; i < sorted.length; ) {
    const position = Math.floor((sorted[i] as number) / 65536);
    while (i < sorted.length && Math.floor((sorted[i] as number) / 65536) === position) {
      const s = (sorted[i] as number) % 65536;
      bits[s >>> 5] = (bits[s >>> 5] as number) ^ (1 << (s & 31));
      hash = (hash ^ (table.zobrist[s] as number)) >>> 0;
      i++;
    }
    pushClass(starts, classes, position, table.intern(bits, hash));
  }
  return { starts: Uint32Array.from(starts), classes: Int32Array.from(classes) };
}

function sweepV6(perSet: Array<Intervals<bigint>>, table: ClassTable): ClassIntervals<bigint[]> {
  const events: Array<[bigint, number]> = [];
  perSet.forEach((set, s) => {
    for (let i = 0; i < set.starts.length; i++) {
      events.push([set.starts[i] as bigint, s]);
      const end = set.ends[i] as bigint;
      if (end < IPV6_MAX) events.push([end + 1n, s]);
    }
  });
  events.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  const bits = new Uint32Array(table.words);
  let hash = 0;
  const starts: bigint[] = [0n];
  const classes: number[] = [0];
  for (let i = 0; i < events.length; ) {
    const position = (events[i] as [bigint, number])[0];
    while (i < events.length && (events[i] as [bigint, number])[0] === position) {
      const s = (events[i] as [bigint, number])[1];
      bits[s >>> 5] = (bits[s >>> 5] as number) ^ (1 << (s & 31));
      hash = (hash ^ (table.zobrist[s] as number)) >>> 0;
      i++;
    }
    pushClass(starts, classes, position, table.intern(bits, hash));
  }
  return { starts, classes: Int32Array.from(classes) };
}

/** Appends an elementary interval, replacing one that starts at the same position or repeating the same class. */
function pushClass<T>(starts: T[], classes: number[], position: T, classId: number): void {
  const last = classes.length - 1;
  if (starts[last] === position) {
    classes[last] = classId;
    if (last > 0 && classes[last - 1] === classId) {
      starts.pop();
      classes.pop();
    }
  } else if (classes[last] !== classId) {
    starts.push(position);
    classes.push(classId);
  }
}
