/**
 * @module The shared vocabulary of a two-ruleset diff: every address operand of both rulesets in ONE prefix index
 * (an alias with the same contents on both sides is one operand; an edited alias is two), the index's address
 * classes per family as regions, and each pf rule reduced to what decides an initial packet (`RuleSpec`) with a
 * signature id, so equal rules align. Matching mirrors `compiled.ts` exactly (docs/reference/pf-semantics.md §2.1-§2.4). Pure.
 */
import { type Cidr, parseCidr } from '../../net/ip.ts';
import { MultiPrefixIndex } from '../../net/prefix-index.ts';
import { isDynamicIn } from '../compiled.ts';
import type { AddressMatch, AddressSet, PfRule, PfRuleset, PortSpec } from '../model.ts';
import { icmpTypeNumber, protocolNumber, tcpFlagBits } from '../packet.ts';

/** One address operand (a table, a literal list, `(self)`, an interface's address or network). */
interface AddressOperand {
  id: number;
  /** What it is, independent of its contents: the key of its unknown facts (`table:BLOCKLIST`, `self`). */
  factKey: string;
  /** Human text: `<BLOCKLIST>`, `10.0.0.0/8`, `(self)`. */
  text: string;
  dynamic4: boolean;
  dynamic6: boolean;
  /** Set index of its `excludes` in the prefix index, or -1. */
  excludeSet: number;
}

/** A port position: merged inclusive ranges, flat; `dynamic` = ports outside them are unknown. */
interface PortOperand {
  ranges: number[];
  dynamic: boolean;
  /** Same key ⇔ same operand (alias name or the ranges). */
  key: string;
  text: string;
}

/** What decides an initial packet, per pf rule; equal specs (same signature) match exactly the same packets. */
export interface RuleSpec {
  signature: number;
  action: PfRule['action'];
  quick: boolean;
  /** Bit 1 = in, bit 2 = out. */
  directions: number;
  interfaces: ReadonlySet<string> | null;
  interfacesNegate: boolean;
  family: 0 | 4 | 6;
  protocols: ReadonlySet<number> | null;
  /** Operand id, -1 = any. */
  src: number;
  srcNegate: boolean;
  dst: number;
  dstNegate: boolean;
  srcPorts: PortOperand | null;
  dstPorts: PortOperand | null;
  icmp4: ReadonlySet<number> | null;
  icmp6: ReadonlySet<number> | null;
  icmpKey4: string;
  icmpKey6: string;
  /** TCP flags test as masks; `hasFlags` false = no test. */
  flagsSet: number;
  flagsMask: number;
  hasFlags: boolean;
  schedule?: string;
  tag?: string;
  tagged?: { tag: string; negate: boolean };
}

/** Address classes of one family: which classes occur, and per operand the classes inside it. */
export interface FamilyClasses {
  family: 4 | 6;
  /** The class ids that occur in this family. */
  present: number[];
  /** Operand id → classes wholly inside its known contents. */
  inside: number[][];
  /** Operand id → classes wholly inside its `excludes`. */
  excluded: number[][];
  /** Operand id → its known contents cover the whole family. */
  full: boolean[];
  /** Bitset (over every class id) of the classes that occur in this family. */
  bits: Uint32Array;
}

export class DiffUniverse {
  readonly operands: AddressOperand[] = [];
  private readonly operandCidrs: Cidr[][] = [];
  private readonly byKey = new Map<string, Array<{ set: AddressSet | undefined; id: number }>>();
  /** The same set object seen again (every rule naming one table): no content comparison. */
  private readonly bySet = new Map<AddressSet, { key: string; id: number }>();
  private readonly signatures = new Map<string, number>();
  index!: MultiPrefixIndex;
  families!: { 4: FamilyClasses; 6: FamilyClasses };

  /** Reduces every rule of a ruleset to its spec, registering its operands. Call for both rulesets, then `seal`. */
  specs(ruleset: PfRuleset): RuleSpec[] {
    const interfaces = new Map(ruleset.interfaces.map((i) => [i.key, i]));
    const operandOf = (match: AddressMatch): number => {
      switch (match.kind) {
        case 'any':
          return -1;
        case 'cidrs':
          return this.operand(
            `cidrs:${match.cidrs.join(' ')}`,
            match.cidrs.length === 1 ? (match.cidrs[0] as string) : `{ ${match.cidrs.join(' ')} }`,
            { cidrs: match.cidrs, dynamic: false },
          );
        case 'table':
          return this.operand(`table:${match.table}`, `<${match.table}>`, ruleset.tables[match.table]);
        case 'self':
          return this.operand('self', '(self)', ruleset.self);
        case 'interface-address': {
          const iface = interfaces.get(match.interface);
          return this.operand(
            `ifaddr:${match.interface}`,
            `(${iface?.device ?? match.interface})`,
            iface?.addresses,
          );
        }
        case 'interface-network': {
          const iface = interfaces.get(match.interface);
          return this.operand(
            `ifnet:${match.interface}`,
            `(${iface?.device ?? match.interface}:network)`,
            iface?.networks,
          );
        }
      }
    };
    return ruleset.rules.map((rule) => this.spec(rule, operandOf));
  }

  private operand(key: string, text: string, set: AddressSet | undefined): number {
    const seen = set === undefined ? undefined : this.bySet.get(set);
    if (seen !== undefined && seen.key === key) return seen.id;
    const id = this.register(key, text, set);
    if (set !== undefined) this.bySet.set(set, { key, id });
    return id;
  }

  private register(key: string, text: string, set: AddressSet | undefined): number {
    const known = this.byKey.get(key) ?? [];
    const same = known.find((k) => sameSet(k.set, set));
    if (same !== undefined) return same.id;
    const id = this.operands.length;
    this.operands.push({
      id,
      factKey: key,
      text,
      dynamic4: isDynamicIn(set, 4),
      dynamic6: isDynamicIn(set, 6),
      excludeSet: -1,
    });
    this.operandCidrs.push(parseAll(set?.cidrs ?? []));
    known.push({ set, id });
    this.byKey.set(key, known);
    if (set?.dynamic && set.excludes !== undefined && set.excludes.length > 0) {
      (this.operands[id] as AddressOperand).excludeSet = -2 - this.pendingExcludes.length;
      this.pendingExcludes.push([id, parseAll(set.excludes)]);
    }
    return id;
  }

  private readonly pendingExcludes: Array<[number, Cidr[]]> = [];

  private spec(rule: PfRule, operandOf: (match: AddressMatch) => number): RuleSpec {
    let protocols: Set<number> | null = null;
    if (rule.protocols !== null) {
      protocols = new Set();
      for (const name of rule.protocols) {
        const number = protocolNumber(name);
        if (number >= 0) protocols.add(number);
      }
    }
    let flagsSet = 0;
    let flagsMask = 0;
    if (rule.tcpFlags !== null) {
      const set = tcpFlagBits(rule.tcpFlags.set);
      const mask = tcpFlagBits(rule.tcpFlags.outOf);
      if (set !== null && mask !== null) {
        flagsSet = set;
        flagsMask = mask;
      }
    }
    const icmp = (family: 4 | 6): ReadonlySet<number> | null =>
      rule.icmpTypes === null
        ? null
        : new Set(rule.icmpTypes.map((t) => icmpTypeNumber(family, t)).filter((n) => n >= 0));
    const icmp4 = icmp(4);
    const icmp6 = icmp(6);
    const spec: RuleSpec = {
      signature: 0,
      action: rule.action,
      quick: rule.quick,
      directions: rule.direction === 'in' ? 1 : rule.direction === 'out' ? 2 : 3,
      interfaces: rule.on === null ? null : new Set(rule.on.interfaces),
      interfacesNegate: rule.on?.negate ?? false,
      family: rule.af === 'inet' ? 4 : rule.af === 'inet6' ? 6 : 0,
      protocols,
      src: operandOf(rule.from.match),
      srcNegate: rule.from.negate,
      dst: operandOf(rule.to.match),
      dstNegate: rule.to.negate,
      srcPorts: portOperand(rule.fromPort),
      dstPorts: portOperand(rule.toPort),
      icmp4,
      icmp6,
      icmpKey4: icmp4 === null ? '' : [...icmp4].sort((x, y) => x - y).join(','),
      icmpKey6: icmp6 === null ? '' : [...icmp6].sort((x, y) => x - y).join(','),
      flagsSet,
      flagsMask,
      hasFlags: rule.tcpFlags !== null && flagsMask !== 0,
    };
    if (rule.schedule !== undefined) spec.schedule = rule.schedule;
    if (rule.tag !== undefined) spec.tag = rule.tag;
    if (rule.tagged !== undefined) spec.tagged = rule.tagged;
    const text = JSON.stringify([
      spec.action,
      spec.quick,
      spec.directions,
      rule.on,
      spec.family,
      protocols === null ? null : [...protocols].sort((x, y) => x - y),
      spec.src,
      spec.srcNegate,
      spec.dst,
      spec.dstNegate,
      spec.srcPorts?.key ?? null,
      spec.dstPorts?.key ?? null,
      rule.icmpTypes === null ? null : [spec.icmpKey4, spec.icmpKey6],
      spec.hasFlags ? [flagsSet, flagsMask] : null,
      spec.schedule ?? null,
      spec.tag ?? null,
      spec.tagged ?? null,
    ]);
    let signature = this.signatures.get(text);
    if (signature === undefined) {
      signature = this.signatures.size;
      this.signatures.set(text, signature);
    }
    spec.signature = signature;
    return spec;
  }

  /** Builds the prefix index over every operand (and their exclusions) and the classes of each family. */
  seal(): void {
    const sets = [...this.operandCidrs];
    for (const [id, cidrs] of this.pendingExcludes) {
      (this.operands[id] as AddressOperand).excludeSet = sets.length;
      sets.push(cidrs);
    }
    this.index = new MultiPrefixIndex(sets);
    this.families = { 4: this.classesOf(4), 6: this.classesOf(6) };
  }

  private classesOf(family: 4 | 6): FamilyClasses {
    const { classes } = family === 4 ? this.index.elementaryIntervals(4) : this.index.elementaryIntervals(6);
    const present = [...new Set(Array.from(classes))];
    const inside: number[][] = this.operands.map(() => []);
    const excluded: number[][] = this.operands.map(() => []);
    const excludeOwner = new Map(
      this.operands.filter((o) => o.excludeSet >= 0).map((o) => [o.excludeSet, o.id]),
    );
    for (const c of present) {
      for (const set of this.index.classMembers(c)) {
        if (set < this.operands.length) (inside[set] as number[]).push(c);
        else {
          const owner = excludeOwner.get(set);
          if (owner !== undefined) (excluded[owner] as number[]).push(c);
        }
      }
    }
    const full = inside.map((list) => list.length === present.length);
    const bits = new Uint32Array(Math.ceil(this.index.classCount / 32));
    for (const c of present) bits[c >>> 5] = (bits[c >>> 5] as number) | (1 << (c & 31));
    return { family, present, inside, excluded, full, bits };
  }
}

function parseAll(texts: readonly string[]): Cidr[] {
  const out: Cidr[] = [];
  for (const text of texts) {
    const cidr = parseCidr(text);
    if (cidr !== null) out.push(cidr);
  }
  return out;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSet(a: AddressSet | undefined, b: AddressSet | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.dynamic === b.dynamic &&
    sameList(a.dynamicFamilies, b.dynamicFamilies) &&
    sameList(a.excludes, b.excludes) &&
    sameList(a.cidrs, b.cidrs)
  );
}

function portOperand(spec: PortSpec | null): PortOperand | null {
  if (spec === null) return null;
  const sorted = spec.ranges.map((r) => [r.from, r.to] as [number, number]).sort((x, y) => x[0] - y[0]);
  const ranges: number[] = [];
  for (const [from, to] of sorted) {
    const last = ranges.length - 1;
    if (last > 0 && from <= (ranges[last] as number) + 1) ranges[last] = Math.max(ranges[last] as number, to);
    else ranges.push(from, to);
  }
  const listed = spec.ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}:${r.to}`)).join(' ');
  const dynamic = spec.dynamic === true;
  return {
    ranges,
    dynamic,
    key: `${dynamic ? `dyn:${spec.alias ?? ''}:` : ''}${ranges.join(',')}`,
    text: spec.alias ?? listed,
  };
}
