/**
 * @module A `PfRuleset` compiled for evaluation: every address operand (table, literal list, `(self)`,
 * interface address/network) becomes one set of a `MultiPrefixIndex`, protocols / ICMP types / TCP flags become
 * numbers, and each rule gets an exact three-valued matcher (`matchRule`) that says match, no match (with the
 * reason, for the trace), or "depends on" an unknown fact (a dynamic alias's contents, a schedule)
 * — docs/adr/0053-unknown-verdicts.md. Pure; no I/O.
 */
import { type Cidr, formatIp, type IpAddress, parseCidr } from '../net/ip.ts';
import { MultiPrefixIndex } from '../net/prefix-index.ts';
import type { AddressMatch, AddressSet, PfInterface, PfRule, PfRuleset, PortSpec } from './model.ts';
import {
  icmpTypeNumber,
  PacketError,
  type PacketFacts,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  protocolNumber,
  tcpFlagBits,
} from './packet.ts';

/** One distinct address operand, a set of the prefix index. */
export interface Operand {
  id: number;
  /** Human text: `<RFC1918>`, `10.0.0.0/8`, `(self)`, `(em1)`, `(em0:network)`. */
  text: string;
  /** Whether IPv4 / IPv6 contents are known only at run time (`AddressSet.dynamicFamilies`). */
  dynamic4: boolean;
  dynamic6: boolean;
  /** Prefix-index set of `AddressSet.excludes` (addresses known not to be members), or -1. */
  excludeSet: number;
}

/** Whether an address set's contents in a family are known only at run time. */
export function isDynamicIn(set: AddressSet | undefined, family: 4 | 6): boolean {
  if (set === undefined) return true;
  if (!set.dynamic) return false;
  return set.dynamicFamilies === undefined || set.dynamicFamilies.includes(family === 4 ? 'inet' : 'inet6');
}

interface CompiledAddress {
  /** -1 = any. */
  operand: number;
  negate: boolean;
}

interface CompiledPorts {
  /** Flat inclusive [from, to, from, to, …]. */
  ranges: Int32Array;
  dynamic: boolean;
  text: string;
}

/** A rule ready for matching; `rule` is the model rule it came from. */
export interface CompiledRule {
  index: number;
  rule: PfRule;
  /** Bit 1 = in, bit 2 = out. */
  directions: number;
  interfaces: ReadonlySet<string> | null;
  interfacesNegate: boolean;
  /** 0 = both families. */
  family: 0 | 4 | 6;
  /** Protocol numbers; null = any. */
  protocols: ReadonlySet<number> | null;
  from: CompiledAddress;
  to: CompiledAddress;
  fromPorts: CompiledPorts | null;
  toPorts: CompiledPorts | null;
  /** ICMP types per family; null = any type. */
  icmp4: ReadonlySet<number> | null;
  icmp6: ReadonlySet<number> | null;
  /** `flags set/outOf` as bit masks, TCP only; null = no test. */
  flagsSet: number;
  flagsMask: number;
  hasFlags: boolean;
  /**
   * Whether a bucket candidate still needs `matchRule`: only rules with a dynamic operand or port alias, a
   * schedule or a tag test. Bucket bitsets (docs/adr/0050) already decide everything else exactly.
   */
  needsExactCheck: boolean;
}

/** A fact the ruleset cannot know: "address X is in dynamic set S", "port P is in dynamic alias A", a schedule. */
export interface UnknownFact {
  readonly key: string;
  /** Words for the explanation: `whether 8.8.8.8 is in <blocklist> …`. */
  readonly text: string;
}

/** Known values for unknown facts (by key), used to explore each possibility. */
export type FactAssignment = ReadonlyMap<string, boolean>;

type RuleMatch =
  | { kind: 'match' }
  | { kind: 'no'; reason: string }
  /** Every known condition holds; the outcome depends on `fact` (not in the assignment). */
  | { kind: 'depends'; fact: UnknownFact };

const MATCH: RuleMatch = { kind: 'match' };
/** "No" without the reason, for callers that only need the outcome. */
const NO: RuleMatch = { kind: 'no', reason: '' };

/** The per-packet context matchers need: the packet and its address classes in the prefix index. */
export interface PacketContext {
  facts: PacketFacts;
  srcClass: number;
  dstClass: number;
  /**
   * The packet's source / destination address as fact-key text, built on first need (absent or null until then): exploring
   * unknowns asks about the same address for many rules, and turning a large number or a bigint into text is slow.
   */
  srcKey?: string | null;
  dstKey?: string | null;
  /** Tags set by earlier matching rules in this evaluation (pf tags are sticky, docs/reference/pf-semantics.md §2.8). */
  tags: ReadonlySet<string>;
}

export interface CompiledRuleset {
  source: PfRuleset;
  rules: CompiledRule[];
  operands: Operand[];
  index: MultiPrefixIndex;
  /** Leaf interfaces packets can arrive on, by key. */
  leaves: ReadonlyMap<string, PfInterface>;
  /** True when some rule tests tags (then rule order, not just first-match order, matters). */
  usesTags: boolean;
  /** Problems found while compiling (unparsable CIDR, unknown protocol name, …); verdicts stay conservative. */
  problems: string[];
}

const LEAF_KINDS = new Set(['interface', 'vpn-tunnel', 'loopback']);

function parseCidrs(texts: readonly string[], problems: string[], where: string): Cidr[] {
  const cidrs: Cidr[] = [];
  for (const text of texts) {
    const cidr = parseCidr(text);
    if (cidr === null) problems.push(`${where}: "${text}" is not a CIDR; ignored`);
    else cidrs.push(cidr);
  }
  return cidrs;
}

/** Compiles a generated ruleset. Everything expensive (prefix index, parsing) happens here, once. */
export function compileRuleset(ruleset: PfRuleset): CompiledRuleset {
  const problems: string[] = [];
  const operandIds = new Map<string, number>();
  const operands: Operand[] = [];
  const operandCidrs: Cidr[][] = [];
  const excludeCidrs: Array<[operand: Operand, cidrs: Cidr[]]> = [];
  const interfaces = new Map(ruleset.interfaces.map((i) => [i.key, i]));

  const addOperand = (key: string, text: string, set: AddressSet | undefined): number => {
    let id = operandIds.get(key);
    if (id !== undefined) return id;
    id = operands.length;
    operandIds.set(key, id);
    if (set === undefined) problems.push(`${text}: not defined in the ruleset; treated as unknown contents`);
    const operand: Operand = {
      id,
      text,
      dynamic4: isDynamicIn(set, 4),
      dynamic6: isDynamicIn(set, 6),
      excludeSet: -1,
    };
    operands.push(operand);
    operandCidrs.push(set === undefined ? [] : parseCidrs(set.cidrs, problems, text));
    if (set?.dynamic && set.excludes !== undefined && set.excludes.length > 0) {
      excludeCidrs.push([operand, parseCidrs(set.excludes, problems, `${text} excludes`)]);
    }
    return id;
  };

  const operandOf = (match: AddressMatch): number => {
    switch (match.kind) {
      case 'any':
        return -1;
      case 'cidrs': {
        const text = match.cidrs.length === 1 ? (match.cidrs[0] as string) : `{ ${match.cidrs.join(' ')} }`;
        return addOperand(`cidrs:${match.cidrs.join(' ')}`, text, { cidrs: match.cidrs, dynamic: false });
      }
      case 'table':
        return addOperand(`table:${match.table}`, `<${match.table}>`, ruleset.tables[match.table]);
      case 'self':
        return addOperand('self', '(self)', ruleset.self);
      case 'interface-address': {
        const iface = interfaces.get(match.interface);
        return addOperand(
          `ifaddr:${match.interface}`,
          `(${iface?.device ?? match.interface})`,
          iface?.addresses,
        );
      }
      case 'interface-network': {
        const iface = interfaces.get(match.interface);
        return addOperand(
          `ifnet:${match.interface}`,
          `(${iface?.device ?? match.interface}:network)`,
          iface?.networks,
        );
      }
    }
  };

  const rules = ruleset.rules.map((rule, index) => compileRule(rule, index, operandOf, problems));
  const isDynamic = (operand: number) => {
    const o = operands[operand];
    return o !== undefined && (o.dynamic4 || o.dynamic6);
  };
  for (const rule of rules) {
    rule.needsExactCheck =
      isDynamic(rule.from.operand) ||
      isDynamic(rule.to.operand) ||
      rule.fromPorts?.dynamic === true ||
      rule.toPorts?.dynamic === true ||
      rule.rule.schedule !== undefined ||
      rule.rule.tagged !== undefined;
  }
  // Exclusion sets go after the operands' sets, so operand ids stay equal to their set index.
  const sets = [...operandCidrs];
  for (const [operand, cidrs] of excludeCidrs) {
    operand.excludeSet = sets.length;
    sets.push(cidrs);
  }
  const leaves = new Map<string, PfInterface>();
  for (const iface of ruleset.interfaces) if (LEAF_KINDS.has(iface.kind)) leaves.set(iface.key, iface);
  return {
    source: ruleset,
    rules,
    operands,
    index: new MultiPrefixIndex(sets),
    leaves,
    usesTags: ruleset.rules.some((r) => r.tagged !== undefined),
    problems,
  };
}

function compilePorts(spec: PortSpec | null): CompiledPorts | null {
  if (spec === null) return null;
  const ranges = new Int32Array(spec.ranges.length * 2);
  spec.ranges.forEach((range, i) => {
    ranges[i * 2] = range.from;
    ranges[i * 2 + 1] = range.to;
  });
  const text =
    spec.alias ?? spec.ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}:${r.to}`)).join(' ');
  return { ranges, dynamic: spec.dynamic === true, text };
}

function compileIcmp(rule: PfRule, family: 4 | 6, problems: string[]): ReadonlySet<number> | null {
  if (rule.icmpTypes === null) return null;
  const types = new Set<number>();
  for (const name of rule.icmpTypes) {
    const type = icmpTypeNumber(family, name);
    if (type >= 0) types.add(type);
    else if (rule.af === (family === 4 ? 'inet' : 'inet6')) {
      problems.push(`rule ${rule.index}: unknown ICMP type "${name}"; it matches nothing`);
    }
  }
  return types;
}

function compileRule(
  rule: PfRule,
  index: number,
  operandOf: (match: AddressMatch) => number,
  problems: string[],
): CompiledRule {
  let protocols: Set<number> | null = null;
  if (rule.protocols !== null) {
    protocols = new Set();
    for (const name of rule.protocols) {
      const number = protocolNumber(name);
      if (number >= 0) protocols.add(number);
      else problems.push(`rule ${index}: unknown protocol "${name}"; it matches nothing`);
    }
  }
  let flagsSet = 0;
  let flagsMask = 0;
  if (rule.tcpFlags !== null) {
    const set = tcpFlagBits(rule.tcpFlags.set);
    const mask = tcpFlagBits(rule.tcpFlags.outOf);
    if (set === null || mask === null) problems.push(`rule ${index}: bad TCP flags; flags test ignored`);
    else {
      flagsSet = set;
      flagsMask = mask;
    }
  }
  return {
    index,
    rule,
    directions: rule.direction === 'in' ? 1 : rule.direction === 'out' ? 2 : 3,
    interfaces: rule.on === null ? null : new Set(rule.on.interfaces),
    interfacesNegate: rule.on?.negate ?? false,
    family: rule.af === 'inet' ? 4 : rule.af === 'inet6' ? 6 : 0,
    protocols,
    from: { operand: operandOf(rule.from.match), negate: rule.from.negate },
    to: { operand: operandOf(rule.to.match), negate: rule.to.negate },
    fromPorts: compilePorts(rule.fromPort),
    toPorts: compilePorts(rule.toPort),
    icmp4: compileIcmp(rule, 4, problems),
    icmp6: compileIcmp(rule, 6, problems),
    flagsSet,
    flagsMask,
    hasFlags: rule.tcpFlags !== null && flagsMask !== 0,
    needsExactCheck: true, // settled once all operands are known (compileRuleset)
  };
}

/**
 * Resolves what a packet names as its interface to a leaf key: the key itself (`lan`), or, case-insensitively,
 * the description (`LAN`) or the device (`em1`). Throws a `PacketError` listing the choices otherwise.
 */
export function resolveInterface(compiled: CompiledRuleset, name: string): string {
  if (compiled.leaves.has(name)) return name;
  const lower = name.toLowerCase();
  for (const iface of compiled.leaves.values()) {
    if (
      iface.key.toLowerCase() === lower ||
      iface.descr.toLowerCase() === lower ||
      iface.device.toLowerCase() === lower
    ) {
      return iface.key;
    }
  }
  const group = compiled.source.interfaces.find(
    (i) => i.key.toLowerCase() === lower && !LEAF_KINDS.has(i.kind),
  );
  const known = [...compiled.leaves.keys()].join(', ');
  if (group !== undefined) {
    throw new PacketError(
      'interface',
      `"${name}" is an interface group; packets arrive on a member interface (${(group.members ?? []).join(', ') || 'none'})`,
    );
  }
  throw new PacketError('interface', `unknown interface "${name}" (known: ${known})`);
}

/** Whether a rule's interface, direction and family admit the packet (`staticMismatch` without the words). */
function staticMatch(rule: CompiledRule, facts: PacketFacts): boolean {
  return (
    (rule.directions & (facts.direction === 'in' ? 1 : 2)) !== 0 &&
    (rule.interfaces === null || rule.interfaces.has(facts.interface) !== rule.interfacesNegate) &&
    (rule.family === 0 || rule.family === facts.family)
  );
}

/** Static checks that do not depend on the packet's addresses or ports: interface, direction, family, protocol. */
export function staticMismatch(rule: CompiledRule, facts: PacketFacts): string | null {
  if ((rule.directions & (facts.direction === 'in' ? 1 : 2)) === 0)
    return `direction is ${rule.rule.direction} only`;
  if (rule.interfaces !== null && rule.interfaces.has(facts.interface) === rule.interfacesNegate) {
    return rule.interfacesNegate ? `interface is excluded (on ! …)` : `not on interface ${facts.interface}`;
  }
  if (rule.family !== 0 && rule.family !== facts.family) return `rule is ${rule.rule.af} only`;
  return null;
}

/** "Address X is in dynamic set S": the key is cheap (numeric value); the words are built only when shown. */
class AddressFact implements UnknownFact {
  constructor(
    readonly key: string,
    private readonly operand: Operand,
    private readonly address: IpAddress,
  ) {}

  get text(): string {
    return `whether ${formatIp(this.address)} is in ${this.operand.text} (contents known only at run time)`;
  }
}

/** The fact key of "this packet's `side` address is in `operand`". */
function addressFactKey(ctx: PacketContext, side: 'source' | 'destination', operand: Operand): string {
  const text =
    side === 'source'
      ? (ctx.srcKey ??= String(ctx.facts.src.value))
      : (ctx.dstKey ??= String(ctx.facts.dst.value));
  return `addr:${operand.id}:${text}`;
}

function matchAddress(
  compiled: CompiledRuleset,
  spec: CompiledAddress,
  ctx: PacketContext,
  assignment: FactAssignment | null,
  side: 'source' | 'destination',
  explain: boolean,
): RuleMatch {
  const address = side === 'source' ? ctx.facts.src : ctx.facts.dst;
  const classId = side === 'source' ? ctx.srcClass : ctx.dstClass;
  if (spec.operand < 0) {
    if (!spec.negate) return MATCH;
    return explain ? { kind: 'no', reason: `${side} is ! any` } : NO;
  }
  const operand = compiled.operands[spec.operand] as Operand;
  let member = compiled.index.classHas(classId, spec.operand);
  const excluded = operand.excludeSet >= 0 && compiled.index.classHas(classId, operand.excludeSet);
  if (!member && !excluded && (address.family === 4 ? operand.dynamic4 : operand.dynamic6)) {
    const key = addressFactKey(ctx, side, operand);
    const known = assignment?.get(key);
    if (known === undefined) return { kind: 'depends', fact: new AddressFact(key, operand, address) };
    member = known;
  }
  if (member !== spec.negate) return MATCH;
  if (!explain) return NO;
  const where = `${side} ${formatIp(address)}`;
  return {
    kind: 'no',
    reason: spec.negate
      ? `${where} is in ${operand.text} (rule says ! ${operand.text})`
      : `${where} is not in ${operand.text}`,
  };
}

function matchPorts(
  ports: CompiledPorts,
  port: number,
  assignment: FactAssignment | null,
  side: 'source' | 'destination',
  explain: boolean,
): RuleMatch {
  const { ranges } = ports;
  for (let i = 0; i < ranges.length; i += 2) {
    if (port >= (ranges[i] as number) && port <= (ranges[i + 1] as number)) return MATCH;
  }
  if (ports.dynamic) {
    const fact = {
      key: `port:${ports.text}:${port}`,
      text: `whether port ${port} is in ${ports.text} (dynamic)`,
    };
    const known = assignment?.get(fact.key);
    if (known === undefined) return { kind: 'depends', fact };
    if (known) return MATCH;
  }
  return explain ? { kind: 'no', reason: `${side} port ${port} is not ${ports.text}` } : NO;
}

/**
 * Exact match of one rule against a packet (docs/reference/pf-semantics.md §1.3, §2): static conditions first, then addresses,
 * ports, ICMP type, TCP flags, tags and schedule. Facts not in `assignment` that the outcome depends on are
 * returned as `depends` only after every known condition holds, so the caller explores just the facts that matter.
 * With `explain` false a "no" carries no reason (the verdict-only paths: no string building per candidate).
 */
export function matchRule(
  compiled: CompiledRuleset,
  rule: CompiledRule,
  ctx: PacketContext,
  assignment: FactAssignment | null,
  explain = true,
): RuleMatch {
  const { facts } = ctx;
  if (!explain) {
    if (!staticMatch(rule, facts)) return NO;
  } else {
    const staticReason = staticMismatch(rule, facts);
    if (staticReason !== null) return { kind: 'no', reason: staticReason };
  }
  if (rule.protocols !== null && !rule.protocols.has(facts.proto)) {
    return explain ? { kind: 'no', reason: `protocol is not ${rule.rule.protocols?.join('/')}` } : NO;
  }
  const hasPorts = facts.proto === PROTO_TCP || facts.proto === PROTO_UDP;
  if ((rule.fromPorts !== null || rule.toPorts !== null) && !hasPorts) {
    return { kind: 'no', reason: 'rule has ports; packet is not tcp/udp' };
  }
  const isIcmp = facts.proto === PROTO_ICMP || facts.proto === PROTO_ICMP6;
  const icmpTypes = facts.family === 4 ? rule.icmp4 : rule.icmp6;
  if (icmpTypes !== null) {
    if (!isIcmp) return { kind: 'no', reason: 'rule has an ICMP type; packet is not ICMP' };
    if (!icmpTypes.has(facts.icmpType)) {
      if (!explain) return NO;
      return { kind: 'no', reason: `ICMP type ${facts.icmpType} is not ${rule.rule.icmpTypes?.join(',')}` };
    }
  }
  if (rule.hasFlags && facts.proto === PROTO_TCP && (facts.tcpFlags & rule.flagsMask) !== rule.flagsSet) {
    if (!explain) return NO;
    const f = rule.rule.tcpFlags;
    return {
      kind: 'no',
      reason: `TCP flags fail flags ${f?.set}/${f?.outOf}${f?.implicit ? ' (implicit on stateful rules)' : ''}`,
    };
  }
  const tagged = rule.rule.tagged;
  if (tagged !== undefined && ctx.tags.has(tagged.tag) === tagged.negate) {
    if (!explain) return NO;
    return { kind: 'no', reason: `packet is ${tagged.negate ? '' : 'not '}tagged "${tagged.tag}"` };
  }
  // Address and port conditions may depend on unknown facts: a definite "no" anywhere wins over "depends".
  const from = matchAddress(compiled, rule.from, ctx, assignment, 'source', explain);
  if (from.kind === 'no') return from;
  const fromPort =
    rule.fromPorts === null
      ? MATCH
      : matchPorts(rule.fromPorts, facts.srcPort, assignment, 'source', explain);
  if (fromPort.kind === 'no') return fromPort;
  const to = matchAddress(compiled, rule.to, ctx, assignment, 'destination', explain);
  if (to.kind === 'no') return to;
  const toPort =
    rule.toPorts === null
      ? MATCH
      : matchPorts(rule.toPorts, facts.dstPort, assignment, 'destination', explain);
  if (toPort.kind === 'no') return toPort;
  if (from.kind === 'depends') return from;
  if (fromPort.kind === 'depends') return fromPort;
  if (to.kind === 'depends') return to;
  if (toPort.kind === 'depends') return toPort;
  const schedule = rule.rule.schedule;
  if (schedule !== undefined) {
    const fact = {
      key: `schedule:${schedule}`,
      text: `whether schedule "${schedule}" is active (time-dependent)`,
    };
    const known = assignment?.get(fact.key);
    if (known === undefined) return { kind: 'depends', fact };
    if (!known) return explain ? { kind: 'no', reason: `schedule "${schedule}" is not active` } : NO;
  }
  return MATCH;
}
