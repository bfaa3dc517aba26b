/**
 * @module The pf state table of an evaluation session (docs/adr/0051-state-matching.md).
 *
 * pf builds a state key from the packet as seen on the wire with the direction folded in: for an `in` packet
 * `(src, sport) → (dst, dport)`, for an `out` packet the two ends swapped (FreeBSD pf.c `pf_test_state_tcp/udp`,
 * `key.addr[pd->sidx]`), so a state created by an inbound packet matches later inbound packets of the same flow
 * and the replies leaving the other way, and a forwarded connection holds two states (one per leg,
 * pf-semantics.md §2.4). UDP keys use ports, other protocols addresses only; ICMP queries pair with their
 * replies (echo request ↔ reply, …) and ICMP errors never match a state here because the quoted header is not
 * part of our packet. States are floating (any interface) unless the ruleset says `if-bound`. No timeouts and
 * no TCP window tracking: a state lives for the whole session.
 */
import type { PacketFacts } from './packet.ts';
import { PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP } from './packet.ts';

// Module-local copies: imported bindings can cost a getter call per use under the TS loader on the hot path.
const TCP = PROTO_TCP;
const UDP = PROTO_UDP;
const ICMP = PROTO_ICMP;
const ICMP6 = PROTO_ICMP6;

/** ICMP query types → [pair id, is reply] (pf.c `pf_icmp_mapping`); other types are errors or one-off. */
const ICMP_QUERIES: Record<4 | 6, ReadonlyMap<number, readonly [number, boolean]>> = {
  4: new Map([
    [8, [8, false]], // echo request / reply
    [0, [8, true]],
    [13, [13, false]], // timestamp
    [14, [13, true]],
    [15, [15, false]], // information
    [16, [15, true]],
    [17, [17, false]], // address mask
    [18, [17, true]],
    [10, [10, false]], // router solicitation / advertisement
    [9, [10, true]],
  ]),
  6: new Map([
    [128, [128, false]], // echo request / reply
    [129, [128, true]],
    [133, [133, false]], // router solicitation / advertisement
    [134, [133, true]],
    [135, [135, false]], // neighbour solicitation / advertisement
    [136, [135, true]],
    [130, [130, false]], // MLD query / report
    [131, [130, true]],
    [139, [139, false]], // node information query / reply
    [140, [139, true]],
  ]),
};

/** ICMP error messages (they quote another packet): pf matches them to that packet's state, we cannot. */
const ICMP_ERRORS: Record<4 | 6, ReadonlySet<number>> = {
  4: new Set([3, 4, 5, 11, 12]),
  6: new Set([1, 2, 3, 4, 137]),
};

/** Whether a packet can take part in state matching at all (not an ICMP error). */
export function canUseState(facts: PacketFacts): boolean {
  const isIcmp = facts.proto === ICMP || facts.proto === ICMP6;
  return !(isIcmp && ICMP_ERRORS[facts.family].has(facts.icmpType));
}

/** Scratch key of the last `writeKey` call: the table's hot path reads it without allocating a tuple. */
const key: { a: number | string; b: number | string; rest: number } = { a: 0, b: 0, rest: 0 };

/**
 * Writes the direction-folded key of a packet into `key`, as map keys that need no string building for IPv4: the
 * near end `a`, the far end `b` (IPv4 as its number, IPv6 as hex text — V8 hashes a bigint map key by its low 64
 * bits only, so `2001:db8:x::5` keys would all collide; the two key types also keep the families apart) and a
 * number holding protocol and ports. For ICMP the "ports" are the query pair and which end asked, so a reply
 * matches its request's state and not a request the other way.
 */
function writeKey(facts: PacketFacts): void {
  const inbound = facts.direction === 'in';
  key.a = addressKey(inbound ? facts.src.value : facts.dst.value);
  key.b = addressKey(inbound ? facts.dst.value : facts.src.value);
  let ports = 0;
  if (facts.proto === TCP || facts.proto === UDP) {
    ports = inbound ? facts.srcPort * 65536 + facts.dstPort : facts.dstPort * 65536 + facts.srcPort;
  } else if (facts.proto === ICMP || facts.proto === ICMP6) {
    const query = ICMP_QUERIES[facts.family].get(facts.icmpType);
    const pair = query === undefined ? facts.icmpType : query[0];
    const reply = query === undefined ? false : query[1];
    // The asking end is the source of a request and the destination of a reply.
    ports = pair * 2 + (inbound !== reply ? 0 : 1);
  }
  key.rest = facts.proto * 2 ** 32 + ports;
}

function addressKey(value: number | bigint): number | string {
  return typeof value === 'number' ? value : value.toString(16);
}

export interface StateEntry {
  /** Index of the rule that created the state (`PfRule.index`). */
  ruleIndex: number;
  /** Interface and direction of the creating packet. */
  interface: string;
  direction: 'in' | 'out';
  /** The creating packet (formatted only when a result shows it). */
  facts: PacketFacts;
}

type Level = Map<number | string, Map<number | string, Map<number, StateEntry>>>;

/** States of one session: per interface when if-bound (one shared level when floating), then a → b → rest. */
export class StateTable {
  private readonly byInterface = new Map<string, Level>();
  private count = 0;
  constructor(readonly ifBound: boolean) {}

  get size(): number {
    return this.count;
  }

  private level(facts: PacketFacts, create: boolean): Level | undefined {
    const where = this.ifBound ? facts.interface : '';
    let level = this.byInterface.get(where);
    if (level === undefined && create) {
      level = new Map();
      this.byInterface.set(where, level);
    }
    return level;
  }

  lookup(facts: PacketFacts): StateEntry | undefined {
    if (this.count === 0 || !canUseState(facts)) return undefined;
    writeKey(facts);
    return this.level(facts, false)?.get(key.a)?.get(key.b)?.get(key.rest);
  }

  /** Records the state a passing stateful rule creates; ICMP errors create none. */
  create(facts: PacketFacts, entry: StateEntry): boolean {
    if (!canUseState(facts)) return false;
    writeKey(facts);
    const { a, b, rest } = key;
    const level = this.level(facts, true) as Level;
    let byB = level.get(a);
    if (byB === undefined) {
      byB = new Map();
      level.set(a, byB);
    }
    let byRest = byB.get(b);
    if (byRest === undefined) {
      byRest = new Map();
      byB.set(b, byRest);
    }
    if (!byRest.has(rest)) this.count++;
    byRest.set(rest, entry);
    return true;
  }

  clear(): void {
    this.byInterface.clear();
    this.count = 0;
  }
}
