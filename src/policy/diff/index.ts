/**
 * @module The semantic diff of two rulesets: EXACTLY which initial packets (state table empty) change verdict —
 * newly pass, newly block, block ⇄ reject, or may change because of run-time contents — as regions (interface,
 * direction, family, protocols, source/destination ranges, ports, TCP flags, ICMP types) with the deciding rule
 * before and after. Algorithm (docs/adr/0140-policy-diff-regions.md): align the two rule lists by match signature;
 * only packets matched by a rule outside the alignment can change (docs/reference/pf-semantics.md §2.1: the other rules match in
 * the same order on both sides). Per (interface, direction, family, protocol) the packet space is split one
 * dimension at a time into the classes the candidate rules induce (address classes of one shared prefix index,
 * port intervals, flag and ICMP-type values), dropping rules that cannot match, cutting each first-match list
 * after its first rule that certainly matches the whole box, and stopping as soon as no changed rule is left.
 * Unknown contents (dynamic tables, dynamic port aliases, schedules) are explored like the evaluator does
 * (docs/adr/0053): a region is confident only when every possibility agrees. Pure; no I/O.
 */
import { type Cidr, formatCidr, formatIpv4, formatIpv6, rangeToCidrs } from '../../net/ip.ts';
import { type RuleRef, ruleRef, type Verdict } from '../evaluate.ts';
import { merge, type Space } from '../lint/intervals.ts';
import type { AddressFamily, PfRule, PfRuleset } from '../model.ts';
import { PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, protocolName, tcpFlagLetters } from '../packet.ts';
import { alignSignatures } from './align.ts';
import { DiffUniverse, type FamilyClasses, type RuleSpec } from './universe.ts';

/** How the verdict of a region changes. `unknown`: it may change, depending on run-time contents. */
export type DiffChange = 'newly-pass' | 'newly-block' | 'reply-changed' | 'unknown';

/** One side of a region: the verdict and the rule deciding it (null = pf's default pass, or not known). */
interface DiffSide {
  verdict: Verdict;
  rule: RuleRef | null;
  /** False when run-time contents leave the deciding rule open; `rule` is then the one under the known contents. */
  certain: boolean;
}

/**
 * A set of packets with one change: the product of its fields. `null` = any value. Addresses are CIDRs or
 * `first-last` ranges, ports `80` or `1000-2000`; `protocols` lists names, `other` = every protocol no rule of
 * either ruleset names.
 */
export interface DiffRegion {
  change: DiffChange;
  interface: string;
  direction: 'in' | 'out';
  family: AddressFamily;
  protocols: string[] | null;
  source: string[] | null;
  sourcePorts: string[] | null;
  destination: string[] | null;
  destinationPorts: string[] | null;
  /**
   * TCP flag bytes the region holds (F=1 S=2 R=4 P=8 A=16 U=32 E=64 W=128), and the pf flags tests that delimit
   * them in words (`S/SA`, `not S/SA`, `S/SA and not A/A`).
   */
  tcpFlags: { text: string; values: number[] } | null;
  icmpTypes: number[] | null;
  before: DiffSide;
  after: DiffSide;
}

export interface PolicyDiff {
  regions: DiffRegion[];
  counts: Record<DiffChange, number>;
  /** Rules outside the alignment: removed from (or changed in) `before`, added to (or changed in) `after`. */
  changedRules: { before: RuleRef[]; after: RuleRef[] };
  /** Leaf interfaces only one side has (not diffed: no packet can arrive on a missing interface). */
  interfaces: { onlyBefore: string[]; onlyAfter: string[] };
  /** Protocols some rule names (each compared on its own); `other` in a region is every protocol else. */
  namedProtocols: string[];
}

const DST = 0;
const SRC = 1;
const DPORT = 2;
const SPORT = 3;
const FLAGS = 4;
const ICMP = 5;
const SCHEDULE = 6;
const DIM_COUNT = 6;

const NO = 0;
const YES = 1;
const MAYBE = 2;

/** Explored possibilities per region before the answer is `unknown` without listing them (docs/adr/0053). */
const MAX_POSSIBILITIES = 1024;

const LEAF_KINDS = new Set(['interface', 'vpn-tunnel', 'loopback']);

/** A rule of one side. */
interface Entry {
  /** Unique over both sides (memo keys). */
  id: number;
  spec: RuleSpec;
  /** `PfRule.index` in its ruleset. */
  index: number;
  changed: boolean;
  /** Bit per dimension: the rule matches every value of it (per family). */
  full: { 4: number; 6: number };
}

/** A rule still possible in a box; `maybe` has a bit per dimension where its match depends on an unknown fact. */
interface Cand {
  e: Entry;
  maybe: number;
}

/** One part of a dimension: address classes (plus every address no candidate operand names), or values. */
type Part =
  | { kind: 'addr'; classes: number[]; untouched: boolean; touched: readonly number[] }
  | { kind: 'values'; flat: number[]; text?: string };

interface Outcome {
  change: DiffChange;
  before: { verdict: Verdict; index: number | null; certain: boolean };
  after: { verdict: Verdict; index: number | null; certain: boolean };
}

type DiffNode = { kind: 'leaf'; outcome: Outcome } | { kind: 'split'; dim: number; entries: SplitEntry[] };
interface SplitEntry {
  parts: Part[];
  child: DiffNode;
}

interface Group {
  leaf: string;
  direction: 'in' | 'out';
  family: 4 | 6;
  /** Protocol number, or -1 for "every other protocol". */
  proto: number;
}

/** A region before formatting: per dimension flat intervals/values (null = all), plus flags text. */
interface RawRegion {
  group: Group;
  dims: Extent[];
  flagsText: string | null;
  outcome: Outcome;
  /** Protocol numbers, -1 = every protocol no rule names. */
  protocols: number[];
  /** The split parts along the path, per dimension (dimensions not split: every value). */
  parts: Map<number, Part[]>;
}

/** Diffs two generated rulesets (same firewall, before and after a change). */
export function diffRulesets(before: PfRuleset, after: PfRuleset): PolicyDiff {
  const universe = new DiffUniverse();
  const specsBefore = universe.specs(before);
  const specsAfter = universe.specs(after);
  universe.seal();

  const pairs = alignSignatures(
    specsBefore.map((s) => s.signature),
    specsAfter.map((s) => s.signature),
  );
  const alignedBefore = new Set(pairs.map(([i]) => i));
  const alignedAfter = new Set(pairs.map(([, j]) => j));
  let nextId = 0;
  const entry = (spec: RuleSpec, index: number, changed: boolean): Entry => ({
    id: nextId++,
    spec,
    index,
    changed,
    full: { 4: fullMask(universe, spec, 4), 6: fullMask(universe, spec, 6) },
  });
  const entriesBefore = specsBefore.map((s, i) => entry(s, i, !alignedBefore.has(i)));
  const entriesAfter = specsAfter.map((s, j) => entry(s, j, !alignedAfter.has(j)));
  const tagMode = [...specsBefore, ...specsAfter].some((s) => s.tagged !== undefined);

  const leavesOf = (r: PfRuleset) => r.interfaces.filter((i) => LEAF_KINDS.has(i.kind)).map((i) => i.key);
  const leavesBefore = leavesOf(before);
  const leavesAfter = leavesOf(after);
  const leaves = leavesBefore.filter((k) => leavesAfter.includes(k));

  const named = new Set<number>([PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMP6]);
  for (const s of [...specsBefore, ...specsAfter]) for (const p of s.protocols ?? []) named.add(p);
  const protoClasses = [...named].sort((a, b) => a - b);
  let other = -1;
  for (let p = 0; p < 256 && other < 0; p++) if (!named.has(p)) other = p;

  const changedEntries = [...entriesBefore, ...entriesAfter].filter((e) => e.changed);
  const raw: RawRegion[] = [];
  const memos = new Map<string, Map<string, DiffNode | null>>();
  for (const leaf of leaves) {
    for (const direction of ['in', 'out'] as const) {
      for (const family of [4, 6] as const) {
        // Interface, direction and family first (one pass over all rules), then the protocol on what is left.
        const here = (e: Entry) => applicable(e.spec, leaf, direction, family, -1, tagMode);
        if (!changedEntries.some(here)) continue;
        const localBefore = entriesBefore.filter(here);
        const localAfter = entriesAfter.filter(here);
        const localChanged = changedEntries.filter(here);
        for (const protoClass of other >= 0 ? [...protoClasses, -1] : protoClasses) {
          const proto = protoClass < 0 ? other : protoClass;
          const applies = (e: Entry) => applicable(e.spec, leaf, direction, family, proto, tagMode);
          if (!localChanged.some(applies)) continue;
          const memoKey = `${family}:${proto}`;
          let memo = memos.get(memoKey);
          if (memo === undefined) {
            memo = new Map();
            memos.set(memoKey, memo);
          }
          const explorer = new Explorer(universe, family, proto, tagMode, memo, before, after);
          const root = explorer.explore(
            0,
            explorer.order(localBefore.filter(applies)),
            explorer.order(localAfter.filter(applies)),
          );
          const group: Group = { leaf, direction, family, proto: protoClass };
          if (root !== null) collect(root, group, new Map(), raw, protoClass);
        }
      }
    }
  }

  const classCount = protoClasses.length + (other >= 0 ? 1 : 0);
  const regions = mergeRegions(raw, universe).map((r) => formatRegion(r, before, after, classCount, universe));
  const leafOrder = new Map(leaves.map((k, i) => [k, i]));
  regions.sort(
    (a, b) =>
      (leafOrder.get(a.interface) as number) - (leafOrder.get(b.interface) as number) ||
      a.direction.localeCompare(b.direction) ||
      a.family.localeCompare(b.family),
  );
  const counts: Record<DiffChange, number> = {
    'newly-pass': 0,
    'newly-block': 0,
    'reply-changed': 0,
    unknown: 0,
  };
  for (const region of regions) counts[region.change]++;
  return {
    regions,
    counts,
    changedRules: {
      before: entriesBefore.filter((e) => e.changed).map((e) => ruleRef(before.rules[e.index] as PfRule)),
      after: entriesAfter.filter((e) => e.changed).map((e) => ruleRef(after.rules[e.index] as PfRule)),
    },
    interfaces: {
      onlyBefore: leavesBefore.filter((k) => !leavesAfter.includes(k)),
      onlyAfter: leavesAfter.filter((k) => !leavesBefore.includes(k)),
    },
    namedProtocols: protoClasses.map((p) => protocolName(p)),
  };
}

function isDynamic(universe: DiffUniverse, operand: number, family: 4 | 6): boolean {
  const o = universe.operands[operand];
  return o !== undefined && (family === 4 ? o.dynamic4 : o.dynamic6);
}

/** Dimensions a rule matches wholly in a family (static contents only; a dynamic side is never full). */
function fullMask(universe: DiffUniverse, spec: RuleSpec, family: 4 | 6): number {
  const classes = universe.families[family];
  const address = (operand: number, negate: boolean): boolean => {
    if (operand < 0) return !negate;
    if (isDynamic(universe, operand, family)) return false;
    return negate ? (classes.inside[operand] as number[]).length === 0 : (classes.full[operand] as boolean);
  };
  const ports = (p: RuleSpec['srcPorts']) =>
    p === null || (!p.dynamic && p.ranges.length === 2 && p.ranges[0] === 0 && p.ranges[1] === 65535);
  let mask = 0;
  if (address(spec.dst, spec.dstNegate)) mask |= 1 << DST;
  if (address(spec.src, spec.srcNegate)) mask |= 1 << SRC;
  if (ports(spec.dstPorts)) mask |= 1 << DPORT;
  if (ports(spec.srcPorts)) mask |= 1 << SPORT;
  if (!spec.hasFlags) mask |= 1 << FLAGS;
  if ((family === 4 ? spec.icmp4 : spec.icmp6) === null) mask |= 1 << ICMP;
  return mask;
}

/** Whether a rule can match packets of this (interface, direction, family, protocol) at all; protocol -1: any. */
function applicable(
  spec: RuleSpec,
  leaf: string,
  direction: 'in' | 'out',
  family: 4 | 6,
  proto: number,
  tagMode: boolean,
): boolean {
  if (spec.action === 'match' && !(tagMode && spec.tag !== undefined)) return false;
  if ((spec.directions & (direction === 'in' ? 1 : 2)) === 0) return false;
  if (spec.interfaces !== null && spec.interfaces.has(leaf) === spec.interfacesNegate) return false;
  if (spec.family !== 0 && spec.family !== family) return false;
  if ((spec.src < 0 && spec.srcNegate) || (spec.dst < 0 && spec.dstNegate)) return false;
  if (proto < 0) return true;
  if (spec.protocols !== null && !spec.protocols.has(proto)) return false;
  if ((spec.srcPorts !== null || spec.dstPorts !== null) && proto !== PROTO_TCP && proto !== PROTO_UDP) {
    return false;
  }
  const icmp = family === 4 ? spec.icmp4 : spec.icmp6;
  return icmp === null || ((proto === PROTO_ICMP || proto === PROTO_ICMP6) && icmp.size > 0);
}

const verdictOf = (action: string): Exclude<Verdict, 'unknown'> =>
  action === 'pass' ? 'pass' : action === 'reject' ? 'reject' : 'block';

/** The recursive split of one (family, protocol)'s packet space; memoised on the candidate lists. */
class Explorer {
  readonly dims: number[];
  private readonly classes: FamilyClasses;

  constructor(
    private readonly universe: DiffUniverse,
    private readonly family: 4 | 6,
    proto: number,
    private readonly tagMode: boolean,
    private readonly memo: Map<string, DiffNode | null>,
    private readonly before: PfRuleset,
    private readonly after: PfRuleset,
  ) {
    this.classes = universe.families[family];
    this.dims = [DST, SRC];
    if (proto === PROTO_TCP || proto === PROTO_UDP) this.dims.push(DPORT, SPORT);
    if (proto === PROTO_TCP) this.dims.push(FLAGS);
    if (proto === PROTO_ICMP || proto === PROTO_ICMP6) this.dims.push(ICMP);
  }

  /** Candidates in decision order: pf order with tags; otherwise quick rules in order, then non-quick reversed. */
  order(entries: Entry[]): Cand[] {
    const cands = entries.map((e) => ({ e, maybe: e.spec.schedule === undefined ? 0 : 1 << SCHEDULE }));
    if (this.tagMode) return cands;
    return [...cands.filter((c) => c.e.spec.quick), ...cands.filter((c) => !c.e.spec.quick).reverse()];
  }

  private remaining(di: number): number {
    let mask = 0;
    for (let k = di; k < this.dims.length; k++) mask |= 1 << (this.dims[k] as number);
    return mask;
  }

  /** A first-match list ends at its first rule that certainly matches the whole box: later rules never decide. */
  private trim(list: Cand[], mask: number): Cand[] {
    if (this.tagMode) return list;
    for (let i = 0; i < list.length; i++) {
      const c = list[i] as Cand;
      if (c.maybe === 0 && (c.e.full[this.family] & mask) === mask) {
        return i === list.length - 1 ? list : list.slice(0, i + 1);
      }
    }
    return list;
  }

  explore(di: number, beforeIn: Cand[], afterIn: Cand[]): DiffNode | null {
    const mask = this.remaining(di);
    const before = this.trim(beforeIn, mask);
    const after = this.trim(afterIn, mask);
    if (!before.some((c) => c.e.changed) && !after.some((c) => c.e.changed)) return null;
    const key = `${di}|${before.map(candKey).join(',')}|${after.map(candKey).join(',')}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const result = this.exploreUncached(di, before, after);
    this.memo.set(key, result);
    return result;
  }

  private exploreUncached(di: number, before: Cand[], after: Cand[]): DiffNode | null {
    let k = di;
    const partial = (dim: number) =>
      before.some((c) => (c.e.full[this.family] & (1 << dim)) === 0) ||
      after.some((c) => (c.e.full[this.family] & (1 << dim)) === 0);
    while (k < this.dims.length && !partial(this.dims[k] as number)) k++;
    if (k === this.dims.length) {
      const outcome = this.outcome(before, after);
      return outcome === null ? null : { kind: 'leaf', outcome };
    }
    const dim = this.dims[k] as number;
    const all = [...before, ...after];
    const groups = this.partition(dim, all);
    const byChild = new Map<DiffNode, Part[]>();
    for (const group of groups) {
      const narrow = (list: Cand[]): Cand[] => {
        const out: Cand[] = [];
        for (const c of list) {
          const state = group.state(c);
          if (state === YES) out.push(c);
          else if (state === MAYBE) out.push({ e: c.e, maybe: c.maybe | (1 << dim) });
        }
        return out;
      };
      const child = this.explore(k + 1, narrow(before), narrow(after));
      if (child === null) continue;
      const parts = byChild.get(child);
      if (parts === undefined) byChild.set(child, [group.part]);
      else parts.push(group.part);
    }
    if (byChild.size === 0) return null;
    return { kind: 'split', dim, entries: [...byChild].map(([child, parts]) => ({ child, parts })) };
  }

  /** The classes one dimension splits into for these candidates, each with every candidate's state in it. */
  private partition(dim: number, cands: Cand[]): Array<{ part: Part; state: (c: Cand) => number }> {
    if (dim === DST || dim === SRC) return this.partitionAddresses(dim, cands);
    if (dim === DPORT || dim === SPORT) return this.partitionPorts(dim, cands);
    return this.partitionValues(dim, cands);
  }

  private partitionAddresses(dim: number, cands: Cand[]): Array<{ part: Part; state: (c: Cand) => number }> {
    const { classes, universe, family } = this;
    const side = (c: Cand) =>
      dim === DST
        ? { op: c.e.spec.dst, negate: c.e.spec.dstNegate }
        : { op: c.e.spec.src, negate: c.e.spec.srcNegate };
    const ops = [...new Set(cands.map((c) => side(c).op).filter((op) => op >= 0))];
    const position = new Map(ops.map((op, i) => [op, i]));
    const dynamic = ops.map((op) => isDynamic(universe, op, family));
    const touchedSet = new Set<number>();
    ops.forEach((op, i) => {
      for (const c of classes.inside[op] as number[]) touchedSet.add(c);
      if (dynamic[i]) for (const c of classes.excluded[op] as number[]) touchedSet.add(c);
    });
    const touched = [...touchedSet];
    const stateIn = (c: number, op: number, i: number): number => {
      if (universe.index.classHas(c, op)) return YES;
      if (!dynamic[i]) return NO;
      const exclude = (universe.operands[op] as { excludeSet: number }).excludeSet;
      return exclude >= 0 && universe.index.classHas(c, exclude) ? NO : MAYBE;
    };
    const groups = new Map<string, { classes: number[]; untouched: boolean; states: number[] }>();
    const add = (signature: number[], c: number | null) => {
      const text = signature.join('');
      let group = groups.get(text);
      if (group === undefined) {
        group = { classes: [], untouched: false, states: signature };
        groups.set(text, group);
      }
      if (c === null) group.untouched = true;
      else group.classes.push(c);
    };
    for (const c of touched) add(ops.map((op, i) => stateIn(c, op, i)), c);
    if (touched.length < classes.present.length) add(dynamic.map((d) => (d ? MAYBE : NO)), null);
    return [...groups.values()].map((group) => ({
      part: { kind: 'addr', classes: group.classes, untouched: group.untouched, touched },
      state: (c: Cand) => {
        const { op, negate } = side(c);
        if (op < 0) return YES;
        const s = group.states[position.get(op) as number] as number;
        return s === MAYBE ? MAYBE : (s === YES) !== negate ? YES : NO;
      },
    }));
  }

  private partitionPorts(dim: number, cands: Cand[]): Array<{ part: Part; state: (c: Cand) => number }> {
    const portsOf = (c: Cand) => (dim === DPORT ? c.e.spec.dstPorts : c.e.spec.srcPorts);
    const specs = [...new Map(cands.flatMap((c) => {
      const p = portsOf(c);
      return p === null ? [] : [[p.key, p] as const];
    })).values()];
    const points = new Set<number>([0]);
    for (const spec of specs) {
      for (let i = 0; i < spec.ranges.length; i += 2) {
        points.add(spec.ranges[i] as number);
        if ((spec.ranges[i + 1] as number) < 65535) points.add((spec.ranges[i + 1] as number) + 1);
      }
    }
    const sorted = [...points].sort((a, b) => a - b);
    const position = new Map(specs.map((s, i) => [s.key, i]));
    const groups = new Map<string, { flat: number[]; states: number[] }>();
    sorted.forEach((lo, i) => {
      const hi = (sorted[i + 1] ?? 65536) - 1;
      const states = specs.map((spec) => {
        for (let r = 0; r < spec.ranges.length; r += 2) {
          if (lo >= (spec.ranges[r] as number) && lo <= (spec.ranges[r + 1] as number)) return YES;
        }
        return spec.dynamic ? MAYBE : NO;
      });
      const text = states.join('');
      const group = groups.get(text);
      if (group === undefined) groups.set(text, { flat: [lo, hi], states });
      else if (group.flat[group.flat.length - 1] === lo - 1) group.flat[group.flat.length - 1] = hi;
      else group.flat.push(lo, hi);
    });
    return [...groups.values()].map((group) => ({
      part: { kind: 'values', flat: group.flat },
      state: (c: Cand) => {
        const p = portsOf(c);
        return p === null ? YES : (group.states[position.get(p.key) as number] as number);
      },
    }));
  }

  /** TCP flag bytes or ICMP types (0-255): grouped by which flags tests / type sets hold. */
  private partitionValues(dim: number, cands: Cand[]): Array<{ part: Part; state: (c: Cand) => number }> {
    const family = this.family;
    const keyOf = (c: Cand): string | null => {
      const s = c.e.spec;
      if (dim === FLAGS) return s.hasFlags ? `${s.flagsSet}/${s.flagsMask}` : null;
      return (family === 4 ? s.icmp4 : s.icmp6) === null ? null : family === 4 ? s.icmpKey4 : s.icmpKey6;
    };
    const tests = new Map<string, (v: number) => boolean>();
    const texts = new Map<string, string>();
    for (const c of cands) {
      const key = keyOf(c);
      if (key === null || tests.has(key)) continue;
      const s = c.e.spec;
      if (dim === FLAGS) {
        tests.set(key, (v) => (v & s.flagsMask) === s.flagsSet);
        texts.set(key, `${tcpFlagLetters(s.flagsSet)}/${tcpFlagLetters(s.flagsMask)}`);
      } else {
        const types = (family === 4 ? s.icmp4 : s.icmp6) as ReadonlySet<number>;
        tests.set(key, (v) => types.has(v));
      }
    }
    const keys = [...tests.keys()];
    const position = new Map(keys.map((k, i) => [k, i]));
    const groups = new Map<string, { flat: number[]; states: number[] }>();
    for (let v = 0; v < 256; v++) {
      const states = keys.map((k) => ((tests.get(k) as (v: number) => boolean)(v) ? YES : NO));
      const text = states.join('');
      const group = groups.get(text);
      if (group === undefined) groups.set(text, { flat: [v, v], states });
      else if (group.flat[group.flat.length - 1] === v - 1) group.flat[group.flat.length - 1] = v;
      else group.flat.push(v, v);
    }
    return [...groups.values()].map((group) => {
      const part: Part = { kind: 'values', flat: group.flat };
      if (dim === FLAGS) {
        part.text = keys.map((k, i) => `${group.states[i] === YES ? '' : 'not '}${texts.get(k)}`).join(' and ');
      }
      return {
        part,
        state: (c: Cand) => {
          const key = keyOf(c);
          return key === null ? YES : (group.states[position.get(key) as number] as number);
        },
      };
    });
  }

  /** Literals `[fact key, value needed]` a candidate's match depends on. */
  private literals(c: Cand): Array<[string, boolean]> {
    const out: Array<[string, boolean]> = [];
    const s = c.e.spec;
    const factOf = (operand: number) => (this.universe.operands[operand] as { factKey: string }).factKey;
    if (c.maybe & (1 << DST)) out.push([`addr:dst:${factOf(s.dst)}`, !s.dstNegate]);
    if (c.maybe & (1 << SRC)) out.push([`addr:src:${factOf(s.src)}`, !s.srcNegate]);
    if (c.maybe & (1 << DPORT)) out.push([`port:dst:${s.dstPorts?.key}`, true]);
    if (c.maybe & (1 << SPORT)) out.push([`port:src:${s.srcPorts?.key}`, true]);
    if (c.maybe & (1 << SCHEDULE)) out.push([`schedule:${s.schedule}`, true]);
    return out;
  }

  /** The deciding entry (-1 = default pass) under an assignment, or the unassigned fact it depends on. */
  private decide(list: Cand[], assignment: ReadonlyMap<string, boolean>): number | string {
    const tags = new Set<string>();
    let decisive = -1;
    for (const c of list) {
      const { spec } = c.e;
      if (spec.tagged !== undefined && tags.has(spec.tagged.tag) === spec.tagged.negate) continue;
      let pending: string | null = null;
      let fails = false;
      for (const [key, wanted] of this.literals(c)) {
        const value = assignment.get(key);
        if (value === undefined) pending ??= key;
        else if (value !== wanted) fails = true;
      }
      if (fails) continue;
      if (pending !== null) return pending;
      if (!this.tagMode) return c.e.index;
      if (spec.tag !== undefined) tags.add(spec.tag);
      if (spec.action === 'match') continue;
      decisive = c.e.index;
      if (spec.quick) break;
    }
    return decisive;
  }

  /** Explores the unknown facts of a box; null when every possibility keeps the verdict. */
  private outcome(before: Cand[], after: Cand[]): Outcome | null {
    const results: Array<{ b: number; a: number; assignment: Map<string, boolean> }> = [];
    const stack: Array<Map<string, boolean>> = [new Map<string, boolean>()];
    while (stack.length > 0) {
      const assignment = stack.pop() as Map<string, boolean>;
      const b = this.decide(before, assignment);
      const a = typeof b === 'string' ? b : this.decide(after, assignment);
      const pending = typeof b === 'string' ? b : typeof a === 'string' ? a : null;
      if (pending !== null) {
        if (results.length + stack.length >= MAX_POSSIBILITIES) return unknownOutcome();
        stack.push(new Map([...assignment, [pending, true]]), new Map([...assignment, [pending, false]]));
        continue;
      }
      results.push({ b: b as number, a: a as number, assignment });
    }
    const verdictBefore = (i: number) => (i < 0 ? 'pass' : verdictOf((this.before.rules[i] as PfRule).action));
    const verdictAfter = (i: number) => (i < 0 ? 'pass' : verdictOf((this.after.rules[i] as PfRule).action));
    const kinds = new Set(
      results.map(({ b, a }) => {
        const vb = verdictBefore(b);
        const va = verdictAfter(a);
        if (vb === va) return 'same';
        if (va === 'pass') return 'newly-pass';
        if (vb === 'pass') return 'newly-block';
        return 'reply-changed';
      }),
    );
    if (kinds.size === 1 && kinds.has('same')) return null;
    const change: DiffChange = kinds.size === 1 ? ([...kinds][0] as DiffChange) : 'unknown';
    // The possibility under the known contents: every unknown fact false.
    const known = results.find((r) => [...r.assignment.values()].every((v) => !v)) ?? results[0];
    if (known === undefined) throw new Error('no possibility explored');
    const side = (pick: (r: (typeof results)[0]) => number, verdict: (i: number) => Verdict) => {
      const verdicts = new Set(results.map((r) => verdict(pick(r))));
      const certain = results.every((r) => pick(r) === pick(known));
      const index = pick(known);
      return {
        verdict: verdicts.size === 1 ? ([...verdicts][0] as Verdict) : ('unknown' as Verdict),
        index: index < 0 ? null : index,
        certain,
      };
    };
    return { change, before: side((r) => r.b, verdictBefore), after: side((r) => r.a, verdictAfter) };
  }
}

function unknownOutcome(): Outcome {
  return {
    change: 'unknown',
    before: { verdict: 'unknown', index: null, certain: false },
    after: { verdict: 'unknown', index: null, certain: false },
  };
}

const candKey = (c: Cand) => (c.maybe === 0 ? String(c.e.id) : `${c.e.id}~${c.maybe}`);

/** Walks the split tree into raw regions (one per root-to-leaf path). */
function collect(
  node: DiffNode,
  group: Group,
  path: Map<number, Part[]>,
  out: RawRegion[],
  protoClass: number,
): void {
  if (node.kind === 'leaf') {
    out.push({
      group,
      dims: Array.from({ length: DIM_COUNT }, () => null),
      flagsText: null,
      outcome: node.outcome,
      protocols: [protoClass],
      parts: new Map(path),
    });
    return;
  }
  for (const { parts, child } of node.entries) {
    path.set(node.dim, parts);
    collect(child, group, path, out, protoClass);
  }
  path.delete(node.dim);
}

/** Port, flag or ICMP-type space of a value dimension. */
function valueSpace(dim: number): Space<number> {
  const max = dim === DPORT || dim === SPORT ? 65535 : 255;
  return { min: 0, max, succ: (v) => v + 1, pred: (v) => v - 1 };
}

function unionValues(a: readonly number[], b: readonly number[], space: Space<number>): number[] {
  const pairs: Array<[number, number]> = [];
  for (const list of [a, b]) {
    for (let i = 0; i < list.length; i += 2) pairs.push([list[i] as number, list[i + 1] as number]);
  }
  return merge(pairs, space);
}

/** A region's extent in one dimension: address classes as a bitset, values as flat ranges; null = everything. */
type Extent = Uint32Array | number[] | null;

function isFullExtent(extent: Exclude<Extent, null>, dim: number, universe: DiffUniverse, family: 4 | 6): boolean {
  if (extent instanceof Uint32Array) {
    const all = universe.families[family].bits;
    return extent.every((word, w) => word === all[w]);
  }
  const space = valueSpace(dim);
  return extent.length === 2 && extent[0] === space.min && extent[1] === space.max;
}

/** The classes of address parts as one bitset: listed classes, plus the untouched ones (the family's others). */
function addressBits(
  parts: Part[],
  universe: DiffUniverse,
  family: 4 | 6,
  touchedBits: Map<readonly number[], Uint32Array>,
): Uint32Array {
  const all = universe.families[family].bits;
  const bits = new Uint32Array(all.length);
  for (const part of parts) {
    if (part.kind !== 'addr') continue;
    for (const c of part.classes) bits[c >>> 5] = (bits[c >>> 5] as number) | (1 << (c & 31));
    if (!part.untouched) continue;
    let touched = touchedBits.get(part.touched);
    if (touched === undefined) {
      touched = new Uint32Array(all.length);
      for (const c of part.touched) touched[c >>> 5] = (touched[c >>> 5] as number) | (1 << (c & 31));
      touchedBits.set(part.touched, touched);
    }
    for (let w = 0; w < bits.length; w++) {
      bits[w] = (bits[w] as number) | ((all[w] as number) & ~(touched[w] as number));
    }
  }
  return bits;
}

/** Turns parts into extents, then merges regions that differ in one dimension only, then across protocols. */
function mergeRegions(raw: RawRegion[], universe: DiffUniverse): RawRegion[] {
  const touchedBits = new Map<readonly number[], Uint32Array>();
  for (const region of raw) {
    const family = region.group.family;
    for (const [dim, list] of region.parts) {
      let extent: Exclude<Extent, null>;
      if (dim === DST || dim === SRC) extent = addressBits(list, universe, family, touchedBits);
      else {
        extent = [];
        for (const p of list) if (p.kind === 'values') extent = unionValues(extent, p.flat, valueSpace(dim));
      }
      region.dims[dim] = isFullExtent(extent, dim, universe, family) ? null : extent;
      if (dim === FLAGS && region.dims[dim] !== null) {
        region.flagsText = [...new Set(list.map((p) => (p.kind === 'values' ? (p.text ?? '') : '')))].join(' or ');
      }
    }
  }
  let regions = raw;
  for (let pass = 0; pass < 2; pass++) {
    for (let dim = 0; dim < DIM_COUNT; dim++) regions = mergeAlong(regions, dim, universe);
  }
  return mergeProtocols(regions);
}

const dimKey = (extent: Extent) => (extent === null ? '*' : extent.join(','));

function outcomeKey(o: Outcome): string {
  const side = (s: Outcome['before']) => `${s.verdict}|${s.index}|${s.certain}`;
  return `${o.change}|${side(o.before)}|${side(o.after)}`;
}

function groupKey(r: RawRegion): string {
  return `${r.group.leaf}|${r.group.direction}|${r.group.family}|${outcomeKey(r.outcome)}`;
}

/** Merges regions equal in every dimension but `dim` (their union along `dim` is again a product). */
function mergeAlong(regions: RawRegion[], dim: number, universe: DiffUniverse): RawRegion[] {
  const merged = new Map<string, RawRegion>();
  for (const region of regions) {
    const key = `${groupKey(region)}|${region.protocols.join(',')}|${region.dims
      .map((d, i) => (i === dim ? '' : dimKey(d)))
      .join('|')}|${dim === FLAGS ? '' : (region.flagsText ?? '')}`;
    const existing = merged.get(key);
    if (existing === undefined) {
      merged.set(key, { ...region, dims: [...region.dims] });
      continue;
    }
    const a = existing.dims[dim] ?? null;
    const b = region.dims[dim] ?? null;
    let joined: Extent = null;
    if (a instanceof Uint32Array && b instanceof Uint32Array) joined = a.map((word, w) => word | (b[w] as number));
    else if (Array.isArray(a) && Array.isArray(b)) joined = unionValues(a, b, valueSpace(dim));
    existing.dims[dim] = joined === null || isFullExtent(joined, dim, universe, region.group.family) ? null : joined;
    if (dim === FLAGS) {
      existing.flagsText =
        existing.dims[dim] === null ? null : [existing.flagsText, region.flagsText].filter(Boolean).join(' or ');
    }
  }
  return [...merged.values()];
}

/** Regions equal but for the protocol become one region listing the protocols. */
function mergeProtocols(regions: RawRegion[]): RawRegion[] {
  const merged = new Map<string, RawRegion>();
  for (const region of regions) {
    const key = `${groupKey(region)}|${region.dims.map(dimKey).join('|')}|${region.flagsText ?? ''}`;
    const existing = merged.get(key);
    if (existing === undefined) merged.set(key, { ...region, protocols: [...region.protocols] });
    else existing.protocols.push(...region.protocols);
  }
  return [...merged.values()];
}

/** Address classes as text: one walk over the family's elementary intervals, runs of member classes joined. */
function formatAddresses(bits: Extent, family: 4 | 6, universe: DiffUniverse): string[] | null {
  if (!(bits instanceof Uint32Array)) return null;
  const has = (c: number) => (((bits[c >>> 5] as number) >>> (c & 31)) & 1) === 1;
  const out: string[] = [];
  const emit = (first: number | bigint, last: number | bigint) => {
    const cidrs: Cidr[] =
      family === 4
        ? rangeToCidrs(4, first as number, last as number)
        : rangeToCidrs(6, first as bigint, last as bigint);
    if (cidrs.length === 1) out.push(formatCidr(cidrs[0] as Cidr));
    else {
      const host = (value: number | bigint) =>
        family === 4 ? formatIpv4(value as number) : formatIpv6(value as bigint);
      out.push(`${host(first)}-${host(last)}`);
    }
  };
  const { starts, classes } =
    family === 4 ? universe.index.elementaryIntervals(4) : universe.index.elementaryIntervals(6);
  const startAt = (i: number) => (starts as ArrayLike<number | bigint>)[i] as number | bigint;
  let runStart: number | bigint | null = null;
  for (let i = 0; i < classes.length; i++) {
    const inside = has(classes[i] as number);
    if (inside && runStart === null) runStart = startAt(i);
    if (!inside && runStart !== null) {
      const end = startAt(i);
      emit(runStart, family === 4 ? (end as number) - 1 : (end as bigint) - 1n);
      runStart = null;
    }
  }
  if (runStart !== null) emit(runStart, family === 4 ? 0xffffffff : (1n << 128n) - 1n);
  return out;
}

function formatPorts(flat: Extent): string[] | null {
  if (!Array.isArray(flat)) return null;
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    out.push(flat[i] === flat[i + 1] ? String(flat[i]) : `${flat[i]}-${flat[i + 1]}`);
  }
  return out;
}

function values(flat: Extent): number[] | null {
  if (!Array.isArray(flat)) return null;
  const out: number[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    for (let v = flat[i] as number; v <= (flat[i + 1] as number); v++) out.push(v);
  }
  return out;
}

function formatRegion(
  r: RawRegion,
  before: PfRuleset,
  after: PfRuleset,
  protocolClasses: number,
  universe: DiffUniverse,
): DiffRegion {
  const side = (s: Outcome['before'], ruleset: PfRuleset): DiffSide => ({
    verdict: s.verdict,
    rule: s.index === null ? null : ruleRef(ruleset.rules[s.index] as PfRule),
    certain: s.certain,
  });
  const flagValues = values(r.dims[FLAGS] ?? null);
  return {
    change: r.outcome.change,
    interface: r.group.leaf,
    direction: r.group.direction,
    family: r.group.family === 4 ? 'inet' : 'inet6',
    protocols:
      new Set(r.protocols).size === protocolClasses
        ? null
        : r.protocols.map((p) => (p < 0 ? 'other' : protocolName(p))),
    source: formatAddresses(r.dims[SRC] ?? null, r.group.family, universe),
    sourcePorts: formatPorts(r.dims[SPORT] ?? null),
    destination: formatAddresses(r.dims[DST] ?? null, r.group.family, universe),
    destinationPorts: formatPorts(r.dims[DPORT] ?? null),
    tcpFlags:
      flagValues === null ? null : { text: r.flagsText ?? '', values: flagValues },
    icmpTypes: values(r.dims[ICMP] ?? null),
    before: side(r.outcome.before, before),
    after: side(r.outcome.after, after),
  };
}
