/**
 * @module The packet space of one pf rule, normalised for set relations (docs/adr/0080-lint-coverage.md): per
 * address family, the effective protocols, exact interval sets for source/destination addresses and ports, ICMP
 * types and TCP flags — after alias expansion — with dynamic contents kept as lower/upper bounds so coverage is
 * claimed only when certain (docs/adr/0081-lint-dynamic-aliases.md). Pure.
 */
import type { AddressMatch, AddressSet, PfRule, PfRuleset, PortSpec } from '../model.ts';
import {
  icmpTypeNumber,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  protocolNumber,
  tcpFlagBits,
} from '../packet.ts';
import {
  cidrIntervals,
  complement,
  full,
  type Intervals,
  IPV4_SPACE,
  IPV6_SPACE,
  intersects,
  isSubset,
  merge,
  PORT_SPACE,
  type Space,
} from './intervals.ts';

type Num = number | bigint;

/**
 * One position (an address or a port) as bounds: `lower` is certainly matched, `upper` possibly matched,
 * `optimistic` is what matches if dynamic contents were exactly the known ones. Static: all three are equal.
 */
interface Side {
  lower: Intervals<Num>;
  upper: Intervals<Num>;
  optimistic: Intervals<Num>;
  /** Same key ⇒ same set, even when dynamic (the same table with the same negation). */
  key: string;
  /** Human text of the operand (`<BLOCKLIST>`, `! 10.0.0.0/8`, `port 443`). */
  text: string;
  dynamic: boolean;
}

/** What a rule matches within one address family. */
interface FamilySpace {
  /** Effective IP protocol numbers (ports imply tcp/udp, ICMP types imply icmp); null = every protocol. */
  protocols: ReadonlySet<number> | null;
  src: Side;
  dst: Side;
  srcPort: Side;
  dstPort: Side;
  /** ICMP types of this family; null = any type. */
  icmpTypes: ReadonlySet<number> | null;
  /** 256-bit set of TCP flag bytes the rule accepts (8 words); null = any flags. */
  tcpFlags: Uint32Array | null;
}

/** A pf rule ready for lint: where it applies and what it matches per family (null = nothing in that family). */
export interface RuleSpace {
  rule: PfRule;
  /** Bit 1 = in, bit 2 = out. */
  directions: number;
  /** Leaf interface keys the rule applies to. */
  leaves: readonly string[];
  families: { 4: FamilySpace | null; 6: FamilySpace | null };
  /**
   * Conditions the lint does not model as sets (schedule, `tagged`, unmodelled options such as `tos`): a rule
   * with conditions matches a subset we cannot compute, so it never *certainly* covers another rule.
   */
  conditions: ReadonlySet<string>;
}

/** The GUI rule a pf rule belongs to (inet46 halves and list expansions share it); system rules stand alone. */
export function subjectKey(rule: PfRule): string {
  return rule.origin.kind === 'user' ? `u:${rule.origin.tab}:${rule.origin.position}` : `s:${rule.index}`;
}

const LEAF_KINDS = new Set(['interface', 'vpn-tunnel', 'loopback']);
const PORT_PROTOCOLS: ReadonlySet<number> = new Set([PROTO_TCP, PROTO_UDP]);
const ICMP_PROTOCOLS: ReadonlySet<number> = new Set([PROTO_ICMP, PROTO_ICMP6]);

function spaceOf(family: 4 | 6): Space<Num> {
  return (family === 4 ? IPV4_SPACE : IPV6_SPACE) as Space<Num>;
}

function staticSide(set: Intervals<Num>, key: string, text: string): Side {
  return { lower: set, upper: set, optimistic: set, key, text, dynamic: false };
}

/** Leaf interface keys of a ruleset, in order. */
function leafKeys(ruleset: PfRuleset): string[] {
  return ruleset.interfaces.filter((i) => LEAF_KINDS.has(i.kind)).map((i) => i.key);
}

/** Builds rule spaces, sharing the interval sets of repeated operands. */
export class SpaceBuilder {
  private readonly sides = new Map<string, Side>();
  private readonly leaves: string[];
  private readonly interfaces: Map<string, PfRuleset['interfaces'][number]>;

  constructor(private readonly ruleset: PfRuleset) {
    this.leaves = leafKeys(ruleset);
    this.interfaces = new Map(ruleset.interfaces.map((i) => [i.key, i]));
  }

  build(rule: PfRule): RuleSpace {
    const conditions = new Set<string>();
    if (rule.schedule !== undefined) conditions.add(`schedule "${rule.schedule}"`);
    if (rule.tagged !== undefined)
      conditions.add(`${rule.tagged.negate ? '! ' : ''}tagged "${rule.tagged.tag}"`);
    for (const option of rule.unmodelledOptions ?? []) conditions.add(option);
    let leaves = this.leaves;
    if (rule.on !== null) {
      const listed = new Set(rule.on.interfaces);
      leaves = this.leaves.filter((key) => listed.has(key) !== rule.on?.negate);
    }
    return {
      rule,
      directions: rule.direction === 'in' ? 1 : rule.direction === 'out' ? 2 : 3,
      leaves,
      families: { 4: this.family(rule, 4), 6: this.family(rule, 6) },
      conditions,
    };
  }

  private family(rule: PfRule, family: 4 | 6): FamilySpace | null {
    if (rule.af !== null && rule.af !== (family === 4 ? 'inet' : 'inet6')) return null;
    let protocols: Set<number> | null = null;
    if (rule.protocols !== null) {
      protocols = new Set(rule.protocols.map((name) => protocolNumber(name)).filter((n) => n >= 0));
    }
    if (rule.fromPort !== null || rule.toPort !== null) protocols = restrict(protocols, PORT_PROTOCOLS);
    if (rule.icmpTypes !== null) protocols = restrict(protocols, ICMP_PROTOCOLS);
    if (protocols !== null && protocols.size === 0) return null;
    const src = this.address(rule.from.match, rule.from.negate, family);
    const dst = this.address(rule.to.match, rule.to.negate, family);
    const srcPort = this.port(rule.fromPort);
    const dstPort = this.port(rule.toPort);
    for (const side of [src, dst, srcPort, dstPort]) if (side.upper.length === 0) return null;
    let icmpTypes: Set<number> | null = null;
    if (rule.icmpTypes !== null) {
      icmpTypes = new Set(rule.icmpTypes.map((t) => icmpTypeNumber(family, t)).filter((n) => n >= 0));
      if (icmpTypes.size === 0) return null;
    }
    return { protocols, src, dst, srcPort, dstPort, icmpTypes, tcpFlags: flagSet(rule) };
  }

  private address(match: AddressMatch, negate: boolean, family: 4 | 6): Side {
    const key = `${family}|${negate ? '!' : ''}${addressKey(match)}`;
    let side = this.sides.get(key);
    if (side === undefined) {
      side = this.resolveAddress(match, negate, family, key);
      this.sides.set(key, side);
    }
    return side;
  }

  private resolveAddress(match: AddressMatch, negate: boolean, family: 4 | 6, key: string): Side {
    const space = spaceOf(family);
    const bang = negate ? '! ' : '';
    if (match.kind === 'any') return staticSide(negate ? [] : full(space), key, `${bang}any`);
    const { set, text } = this.addressSet(match);
    const known = (
      family === 4 ? cidrIntervals(set.cidrs, 4) : cidrIntervals(set.cidrs, 6)
    ) as Intervals<Num>;
    if (!set.dynamic) {
      return staticSide(negate ? complement(known, space) : known, key, `${bang}${text}`);
    }
    // Dynamic: the known CIDRs are certainly in the set, anything else may be (model.ts AddressSet contract).
    const outside = complement(known, space);
    return negate
      ? { lower: [], upper: outside, optimistic: outside, key, text: `${bang}${text}`, dynamic: true }
      : { lower: known, upper: full(space), optimistic: known, key, text, dynamic: true };
  }

  private addressSet(match: Exclude<AddressMatch, { kind: 'any' }>): { set: AddressSet; text: string } {
    const unknown: AddressSet = { cidrs: [], dynamic: true };
    switch (match.kind) {
      case 'cidrs':
        return { set: { cidrs: match.cidrs, dynamic: false }, text: match.cidrs.join(' ') };
      case 'table':
        return { set: this.ruleset.tables[match.table] ?? unknown, text: `<${match.table}>` };
      case 'self':
        return { set: this.ruleset.self, text: '(self)' };
      case 'interface-address': {
        const iface = this.interfaces.get(match.interface);
        return { set: iface?.addresses ?? unknown, text: `(${iface?.device ?? match.interface})` };
      }
      case 'interface-network': {
        const iface = this.interfaces.get(match.interface);
        return { set: iface?.networks ?? unknown, text: `(${iface?.device ?? match.interface}:network)` };
      }
    }
  }

  private port(spec: PortSpec | null): Side {
    if (spec === null) return ANY_PORT;
    const pairs = spec.ranges.map((r) => [r.from, r.to] as [number, number]);
    const known = merge(pairs, PORT_SPACE) as Intervals<Num>;
    const text = `port ${spec.alias ?? spec.ranges.map((r) => (r.from === r.to ? r.from : `${r.from}:${r.to}`)).join(' ')}`;
    const key = `port|${spec.alias ?? ''}|${known.join(',')}`;
    if (spec.dynamic !== true) return staticSide(known, key, text);
    return { lower: known, upper: full(PORT_SPACE), optimistic: known, key, text, dynamic: true };
  }
}

const ANY_PORT: Side = staticSide(full(PORT_SPACE), 'port|any', 'any port');

function addressKey(match: AddressMatch): string {
  switch (match.kind) {
    case 'any':
    case 'self':
      return match.kind;
    case 'cidrs':
      return `cidrs:${match.cidrs.join(' ')}`;
    case 'table':
      return `table:${match.table}`;
    case 'interface-address':
    case 'interface-network':
      return `${match.kind}:${match.interface}`;
  }
}

function restrict(protocols: Set<number> | null, allowed: ReadonlySet<number>): Set<number> {
  return new Set([...(protocols ?? allowed)].filter((p) => allowed.has(p)));
}

/** Flag bytes `v` with `(v & outOf) === set`; null when there is no (valid) test, as the evaluator does. */
function flagSet(rule: PfRule): Uint32Array | null {
  if (rule.tcpFlags === null) return null;
  const set = tcpFlagBits(rule.tcpFlags.set);
  const mask = tcpFlagBits(rule.tcpFlags.outOf);
  if (set === null || mask === null || mask === 0) return null;
  const bits = new Uint32Array(8);
  for (let v = 0; v < 256; v++)
    if ((v & mask) === set) bits[v >>> 5] = (bits[v >>> 5] as number) | (1 << (v & 31));
  return bits;
}

/** Coverage answer: the covering rule matches every packet of the covered one certainly, possibly, or not. */
export const Cover = { No: 0, Possible: 1, Certain: 2 } as const;
export type Cover = (typeof Cover)[keyof typeof Cover];

function sideCovers(inner: Side, outer: Side): Cover {
  if (inner.key === outer.key || isSubset(inner.upper, outer.lower)) return Cover.Certain;
  // "Possible" needs known entries to compare: a run-time set with no known entries says nothing either way.
  return inner.optimistic.length > 0 && isSubset(inner.optimistic, outer.optimistic)
    ? Cover.Possible
    : Cover.No;
}

function setSubset(inner: ReadonlySet<number> | null, outer: ReadonlySet<number> | null): boolean {
  if (outer === null) return true;
  if (inner === null) return false;
  for (const value of inner) if (!outer.has(value)) return false;
  return true;
}

function flagsSubset(inner: Uint32Array | null, outer: Uint32Array | null): boolean {
  if (outer === null) return true;
  if (inner === null) return false;
  for (let w = 0; w < 8; w++) if (((inner[w] as number) & ~(outer[w] as number)) !== 0) return false;
  return true;
}

function mayHave(protocols: ReadonlySet<number> | null, ...numbers: number[]): boolean {
  return protocols === null || numbers.some((n) => protocols.has(n));
}

/**
 * Does `outer` match every packet `inner` can match in this family? Interface and direction are the caller's
 * (buckets). Cheap fields first; address interval math last.
 */
export function covers(outer: RuleSpace, inner: RuleSpace, family: 4 | 6): Cover {
  const o = outer.families[family];
  const i = inner.families[family];
  if (o === null || i === null) return i === null ? Cover.Certain : Cover.No;
  if (!setSubset(i.protocols, o.protocols)) return Cover.No;
  let result: Cover = Cover.Certain;
  for (const condition of outer.conditions) if (!inner.conditions.has(condition)) result = Cover.Possible;
  const parts: Array<[Side, Side]> = [];
  if (mayHave(i.protocols, PROTO_TCP, PROTO_UDP)) parts.push([i.srcPort, o.srcPort], [i.dstPort, o.dstPort]);
  if (mayHave(i.protocols, PROTO_TCP) && !flagsSubset(i.tcpFlags, o.tcpFlags)) return Cover.No;
  if (mayHave(i.protocols, PROTO_ICMP, PROTO_ICMP6) && !setSubset(i.icmpTypes, o.icmpTypes)) return Cover.No;
  parts.push([i.src, o.src], [i.dst, o.dst]);
  for (const [innerSide, outerSide] of parts) {
    const answer = sideCovers(innerSide, outerSide);
    if (answer === Cover.No) return Cover.No;
    if (answer === Cover.Possible) result = Cover.Possible;
  }
  return result;
}

function setsMeet(a: ReadonlySet<number> | null, b: ReadonlySet<number> | null): boolean {
  if (a === null || b === null) return a !== null ? a.size > 0 : b === null || b.size > 0;
  for (const value of a) if (b.has(value)) return true;
  return false;
}

function flagsMeet(a: Uint32Array | null, b: Uint32Array | null): boolean {
  if (a === null || b === null) return true;
  for (let w = 0; w < 8; w++) if (((a[w] as number) & (b[w] as number)) !== 0) return true;
  return false;
}

/**
 * Do the two rules certainly share at least one packet in this family (interface and direction are the
 * caller's)? Conditions or dynamic contents make the answer "no" (never claimed without certainty).
 */
export function certainlyOverlap(a: RuleSpace, b: RuleSpace, family: 4 | 6): boolean {
  const x = a.families[family];
  const y = b.families[family];
  if (x === null || y === null || a.conditions.size > 0 || b.conditions.size > 0) return false;
  if (!intersects(x.src.lower, y.src.lower) || !intersects(x.dst.lower, y.dst.lower)) return false;
  const shared =
    x.protocols === null
      ? y.protocols
      : y.protocols === null
        ? x.protocols
        : new Set([...x.protocols].filter((p) => y.protocols?.has(p)));
  if (shared !== null && shared.size === 0) return false;
  const portsMeet = () =>
    intersects(x.srcPort.lower, y.srcPort.lower) && intersects(x.dstPort.lower, y.dstPort.lower);
  if (shared === null || [...shared].some((p) => !PORT_PROTOCOLS.has(p) && !ICMP_PROTOCOLS.has(p)))
    return true;
  if (shared.has(PROTO_TCP) && portsMeet() && flagsMeet(x.tcpFlags, y.tcpFlags)) return true;
  if (shared.has(PROTO_UDP) && portsMeet()) return true;
  return (shared.has(PROTO_ICMP) || shared.has(PROTO_ICMP6)) && setsMeet(x.icmpTypes, y.icmpTypes);
}
