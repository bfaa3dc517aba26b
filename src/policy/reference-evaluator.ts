/**
 * @module The reference evaluator: pf semantics written as plainly as possible, for property tests and as the
 * benchmark's naive baseline. It shares no matching code with `evaluate.ts`: addresses are tested with
 * `cidrContains` over every prefix of a set, rules are walked one by one in pf order, state matching compares
 * the stored creating packet with the new one field by field, and unknown facts are handled by trying every
 * assignment of every unknown fact (brute force) instead of exploring only the ones that matter.
 *
 * Packets must name their interface by its key (no description/device lookup).
 */
import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr } from '../net/ip.ts';
import type { AddressMatch, AddressSet, PfNatRule, PfRule, PfRuleset, PortSpec } from './model.ts';
import {
  icmpTypeNumber,
  type Packet,
  type PacketFacts,
  packetFacts,
  protocolNumber,
  tcpFlagBits,
} from './packet.ts';

interface ReferenceResult {
  verdict: 'pass' | 'block' | 'reject' | 'unknown';
  decidedBy: 'rule' | 'state' | 'default';
  /** Deciding rule index (`PfRule.index`), or the state's creating rule; null when none or not known. */
  ruleIndex: number | null;
  reply: 'tcp-rst' | 'icmp-unreach-port' | null;
  stateCreated: boolean;
  /** The packet after NAT (`src:port -> dst:port`) when a translation rule rewrote it; absent otherwise. */
  translated?: string;
}

/** Unknown facts beyond this many are not enumerated; the answer is then `unknown`. */
const MAX_FACTS = 12;

const ICMP_PAIRS: Record<4 | 6, Array<[number, number]>> = {
  4: [
    [8, 0],
    [13, 14],
    [15, 16],
    [17, 18],
    [10, 9],
  ],
  6: [
    [128, 129],
    [133, 134],
    [135, 136],
    [130, 131],
    [139, 140],
  ],
};
const ICMP_ERRORS: Record<4 | 6, number[]> = { 4: [3, 4, 5, 11, 12], 6: [1, 2, 3, 4, 137] };

interface StoredState {
  packet: PacketFacts;
  ruleIndex: number;
}

function isIcmp(p: PacketFacts): boolean {
  return p.proto === 1 || p.proto === 58;
}

/** [query type, is reply] of an ICMP packet. */
function icmpRole(p: PacketFacts): [number, boolean] {
  for (const [request, reply] of ICMP_PAIRS[p.family]) {
    if (p.icmpType === request) return [request, false];
    if (p.icmpType === reply) return [request, true];
  }
  return [p.icmpType, false];
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Does `p` belong to the state created by `s`? Same direction = same flow; opposite direction = reversed flow. */
function stateMatches(s: PacketFacts, p: PacketFacts, ifBound: boolean): boolean {
  if (s.family !== p.family || s.proto !== p.proto) return false;
  if (ifBound && s.interface !== p.interface) return false;
  if (isIcmp(p) && ICMP_ERRORS[p.family].includes(p.icmpType)) return false;
  const sameDirection = s.direction === p.direction;
  const forward = sameAddress(s.src, p.src) && sameAddress(s.dst, p.dst);
  const backward = sameAddress(s.src, p.dst) && sameAddress(s.dst, p.src);
  if (sameDirection ? !forward : !backward) return false;
  if (p.proto === 6 || p.proto === 17) {
    return sameDirection
      ? s.srcPort === p.srcPort && s.dstPort === p.dstPort
      : s.srcPort === p.dstPort && s.dstPort === p.srcPort;
  }
  if (isIcmp(p)) {
    const [sQuery, sReply] = icmpRole(s);
    const [pQuery, pReply] = icmpRole(p);
    return sQuery === pQuery && (sameDirection ? sReply === pReply : sReply !== pReply);
  }
  return true;
}

/** A condition: known, or the value of an unknown fact (inverted when `negate`). */
type Tri = boolean | { fact: string; negate: boolean };

export class ReferenceEvaluator {
  private readonly states: StoredState[] = [];
  private readonly sets = new Map<string, { cidrs: Cidr[]; source: AddressSet | undefined }>();

  constructor(private readonly ruleset: PfRuleset) {}

  private set(
    key: string,
    source: AddressSet | undefined,
  ): { cidrs: Cidr[]; source: AddressSet | undefined } {
    let set = this.sets.get(key);
    if (set === undefined) {
      set = {
        cidrs: (source?.cidrs ?? []).map((t) => parseCidr(t)).filter((c): c is Cidr => c !== null),
        source,
      };
      this.sets.set(key, set);
    }
    return set;
  }

  private addressSet(
    match: AddressMatch,
  ): { key: string; cidrs: Cidr[]; source: AddressSet | undefined } | null {
    const iface = (key: string) => this.ruleset.interfaces.find((i) => i.key === key);
    let key: string;
    let source: AddressSet | undefined;
    switch (match.kind) {
      case 'any':
        return null;
      case 'cidrs':
        key = `cidrs:${match.cidrs.join(' ')}`;
        source = { cidrs: match.cidrs, dynamic: false };
        break;
      case 'table':
        key = `table:${match.table}`;
        source = this.ruleset.tables[match.table];
        break;
      case 'self':
        key = 'self';
        source = this.ruleset.self;
        break;
      case 'interface-address':
        key = `ifaddr:${match.interface}`;
        source = iface(match.interface)?.addresses;
        break;
      case 'interface-network':
        key = `ifnet:${match.interface}`;
        source = iface(match.interface)?.networks;
        break;
    }
    return { key, ...this.set(key, source) };
  }

  private address(match: AddressMatch, negate: boolean, address: IpAddress): Tri {
    const set = this.addressSet(match);
    if (set === null) return !negate;
    const inside = set.cidrs.some((cidr) => cidrContains(cidr, address));
    // Unknown contents: no set at all, or a dynamic set whose dynamic families include this address's family.
    const family = address.family === 4 ? 'inet' : 'inet6';
    const unknownHere =
      set.source === undefined ||
      (set.source.dynamic &&
        (set.source.dynamicFamilies === undefined || set.source.dynamicFamilies.includes(family)));
    // `excludes` lists addresses known not to be members even though the set is dynamic.
    const excluded = (set.source?.excludes ?? []).some((text) => {
      const cidr = parseCidr(text);
      return cidr !== null && cidrContains(cidr, address);
    });
    if (!inside && unknownHere && !excluded) return { fact: `addr:${set.key}:${formatIp(address)}`, negate };
    return inside !== negate;
  }

  private port(spec: PortSpec | null, port: number): Tri {
    if (spec === null) return true;
    if (spec.ranges.some((r) => port >= r.from && port <= r.to)) return true;
    return spec.dynamic
      ? { fact: `port:${spec.alias ?? JSON.stringify(spec.ranges)}:${port}`, negate: false }
      : false;
  }

  /** Everything about a rule except addresses, ports and schedule. */
  private staticMatch(rule: PfRule, p: PacketFacts, tags: Set<string>): boolean {
    if (rule.direction !== 'any' && rule.direction !== p.direction) return false;
    if (rule.on !== null && rule.on.interfaces.includes(p.interface) === rule.on.negate) return false;
    if (rule.af !== null && (rule.af === 'inet' ? 4 : 6) !== p.family) return false;
    if (rule.protocols !== null && !rule.protocols.some((name) => protocolNumber(name) === p.proto))
      return false;
    if ((rule.fromPort !== null || rule.toPort !== null) && p.proto !== 6 && p.proto !== 17) return false;
    if (rule.icmpTypes !== null) {
      if (!isIcmp(p)) return false;
      if (!rule.icmpTypes.some((name) => icmpTypeNumber(p.family, name) === p.icmpType)) return false;
    }
    if (rule.tcpFlags !== null && p.proto === 6) {
      const set = tcpFlagBits(rule.tcpFlags.set) ?? 0;
      const mask = tcpFlagBits(rule.tcpFlags.outOf) ?? 0;
      if ((p.tcpFlags & mask) !== set) return false;
    }
    if (rule.tagged !== undefined && tags.has(rule.tagged.tag) === rule.tagged.negate) return false;
    return true;
  }

  /** The unknown parts of a rule's match, as a list of conditions (all must hold). */
  private conditions(rule: PfRule, p: PacketFacts): Tri[] {
    const conditions: Tri[] = [
      this.address(rule.from.match, rule.from.negate, p.src),
      this.port(rule.fromPort, p.srcPort),
      this.address(rule.to.match, rule.to.negate, p.dst),
      this.port(rule.toPort, p.dstPort),
    ];
    if (rule.schedule !== undefined) conditions.push({ fact: `schedule:${rule.schedule}`, negate: false });
    return conditions;
  }

  /** pf: walk every rule in order; last match wins unless quick. Returns the deciding index or -1. */
  private decide(p: PacketFacts, facts: Map<string, boolean>): number {
    const tags = new Set<string>();
    let decisive = -1;
    for (const rule of this.ruleset.rules) {
      if (!this.staticMatch(rule, p, tags)) continue;
      const holds = this.conditions(rule, p).every((c) =>
        typeof c === 'boolean' ? c : (facts.get(c.fact) ?? false) !== c.negate,
      );
      if (!holds) continue;
      if (rule.tag !== undefined) tags.add(rule.tag);
      if (rule.action === 'match') continue;
      decisive = rule.index;
      if (rule.quick) break;
    }
    return decisive;
  }

  /**
   * NAT, plainly (docs/reference/pfsense-nat.md §2): for a packet without a state, the first translation rule on
   * its interface and direction — out: binat then nat; in: rdr then binat — rewrites it, and the filter then sees the rewritten
   * packet. Static address sets only; `rdr pass` is not modelled here.
   */
  private translate(p: PacketFacts): { packet: PacketFacts; text: string } | null {
    const nat = this.ruleset.nat ?? [];
    const within = (text: string, ip: IpAddress) => {
      const c = parseCidr(text);
      return c !== null && cidrContains(c, ip);
    };
    const inSpec = (spec: PfNatRule['from'], ip: IpAddress) =>
      (this.address(spec.match, spec.negate, ip) as boolean) === true;
    const portOk = (spec: PortSpec | null, port: number) =>
      spec === null || ((p.proto === 6 || p.proto === 17) && spec.ranges.some((r) => r.from <= port && port <= r.to));
    const order: Array<PfNatRule['kind']> = p.direction === 'out' ? ['binat', 'nat'] : ['rdr', 'binat'];
    for (const rule of order.flatMap((kind) => nat.filter((r) => r.kind === kind))) {
      if (!rule.on.interfaces.includes(p.interface) || (rule.af === 'inet' ? 4 : 6) !== p.family) continue;
      if (rule.protocols !== null && !rule.protocols.map(protocolNumber).includes(p.proto)) continue;
      const target = rule.target?.kind === 'cidr' ? rule.target.cidr : null;
      let hit: boolean;
      if (rule.kind === 'binat') {
        hit =
          p.direction === 'out'
            ? inSpec(rule.from, p.src) && inSpec(rule.to, p.dst)
            : target !== null && within(target, p.dst) && inSpec(rule.to, p.src);
      } else {
        hit =
          (rule.kind === 'rdr') === (p.direction === 'in') &&
          inSpec(rule.from, p.src) &&
          portOk(rule.fromPort, p.srcPort) &&
          inSpec(rule.to, p.dst) &&
          portOk(rule.toPort, p.dstPort);
      }
      if (!hit) continue;
      if (rule.no || target === null) return null;
      const out: PacketFacts = { ...p };
      const swapHost = (net: string, ip: IpAddress): IpAddress => {
        const c = parseCidr(net) as Cidr;
        const bits = (c.family === 4 ? 32 : 128) - c.prefix;
        if (c.family === 4 && ip.family === 4) {
          const host = bits === 32 ? ip.value : ip.value % 2 ** bits;
          return { family: 4, value: c.network + host };
        }
        const value = ip.value as bigint;
        return { family: 6, value: (c.network as bigint) + (value % 2n ** BigInt(bits)) };
      };
      if (rule.kind === 'rdr' || (rule.kind === 'binat' && p.direction === 'in')) {
        const internal = rule.kind === 'binat' && rule.from.match.kind === 'cidrs' ? (rule.from.match.cidrs[0] as string) : target;
        out.dst = swapHost(internal, p.dst);
        if (rule.targetPort !== null && (p.proto === 6 || p.proto === 17)) {
          out.dstPort = rule.targetPort + p.dstPort - (rule.toPort?.ranges[0]?.from ?? p.dstPort);
        }
      } else {
        out.src = swapHost(target, p.src);
        if (rule.kind === 'nat' && rule.targetPort !== null && (p.proto === 6 || p.proto === 17)) out.srcPort = rule.targetPort;
      }
      const ported = p.proto === 6 || p.proto === 17;
      const end = (ip: IpAddress, port: number) => (!ported ? formatIp(ip) : ip.family === 6 ? `[${formatIp(ip)}]:${port}` : `${formatIp(ip)}:${port}`);
      return { packet: out, text: `${end(out.src, out.srcPort)} -> ${end(out.dst, out.dstPort)}` };
    }
    return null;
  }

  evaluate(packet: Packet): ReferenceResult {
    const original = packetFacts(packet);
    const ifBound = this.ruleset.statePolicy === 'if-bound';
    if (this.states.some((s) => stateMatches(s.packet, original, ifBound))) return this.evaluateFacts(original);
    const translated = this.translate(original);
    if (translated === null) return this.evaluateFacts(original);
    return { ...this.evaluateFacts(translated.packet), translated: translated.text };
  }

  private evaluateFacts(p: PacketFacts): ReferenceResult {
    const ifBound = this.ruleset.statePolicy === 'if-bound';
    const state = this.states.find((s) => stateMatches(s.packet, p, ifBound));
    if (state !== undefined) {
      return {
        verdict: 'pass',
        decidedBy: 'state',
        ruleIndex: state.ruleIndex,
        reply: null,
        stateCreated: false,
      };
    }
    const unknown = new Set<string>();
    for (const rule of this.ruleset.rules) {
      for (const c of this.conditions(rule, p)) if (typeof c !== 'boolean') unknown.add(c.fact);
    }
    if (unknown.size > MAX_FACTS) {
      return { verdict: 'unknown', decidedBy: 'rule', ruleIndex: null, reply: null, stateCreated: false };
    }
    const names = [...unknown];
    const outcomes: number[] = [];
    for (let bits = 0; bits < 2 ** names.length; bits++) {
      const facts = new Map(names.map((name, i) => [name, ((bits >> i) & 1) === 1]));
      outcomes.push(this.decide(p, facts));
    }
    // A reject that sends nothing back (ICMP, a TCP RST) is a block in effect (docs/adr/0151-verdict-names-the-effect.md).
    const silent = isIcmp(p) || (p.proto === 6 && (p.tcpFlags & 4) !== 0);
    const verdictOf = (index: number) => {
      const action = index < 0 ? 'pass' : (this.ruleset.rules[index] as PfRule).action;
      return action === 'pass' ? 'pass' : action === 'reject' && !silent ? 'reject' : 'block';
    };
    const verdicts = new Set(outcomes.map(verdictOf));
    if (verdicts.size !== 1) {
      return { verdict: 'unknown', decidedBy: 'rule', ruleIndex: null, reply: null, stateCreated: false };
    }
    // The rule shown is the outcome with every unknown fact false (bits = 0): the sets' known contents.
    const index = outcomes[0] as number;
    const verdict = verdictOf(index);
    let reply: ReferenceResult['reply'] = null;
    if (verdict === 'reject') {
      if (p.proto === 6) reply = p.tcpFlags & 4 ? null : 'tcp-rst';
      else if (!isIcmp(p)) reply = 'icmp-unreach-port';
    }
    if (index < 0) return { verdict, decidedBy: 'default', ruleIndex: null, reply, stateCreated: false };
    const keepsState = (i: number) => {
      const rule = this.ruleset.rules[i];
      return rule !== undefined && rule.action === 'pass' && rule.state !== null && rule.state !== 'none';
    };
    const isIcmpError = isIcmp(p) && ICMP_ERRORS[p.family].includes(p.icmpType);
    // A state exists afterwards only if every possible deciding rule would have created one.
    const stateCreated = outcomes.every((i) => i >= 0 && keepsState(i)) && !isIcmpError;
    if (stateCreated) this.states.push({ packet: p, ruleIndex: index });
    return { verdict, decidedBy: 'rule', ruleIndex: index, reply, stateCreated };
  }
}
