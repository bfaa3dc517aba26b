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
import { formatIp } from '../net/ip.ts';
import type { PacketFacts } from './packet.ts';
import { PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP } from './packet.ts';

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
  const isIcmp = facts.proto === PROTO_ICMP || facts.proto === PROTO_ICMP6;
  return !(isIcmp && ICMP_ERRORS[facts.family].has(facts.icmpType));
}

/**
 * The direction-folded key of a packet. `ifBound` adds the interface. For ICMP the "ports" are the query pair
 * and which end asked, so a reply matches its request's state and not a request in the opposite direction.
 */
export function stateKey(facts: PacketFacts, ifBound: boolean): string {
  const inbound = facts.direction === 'in';
  const a = inbound ? facts.src : facts.dst;
  const b = inbound ? facts.dst : facts.src;
  let ports = '';
  if (facts.proto === PROTO_TCP || facts.proto === PROTO_UDP) {
    ports = inbound ? `${facts.srcPort}>${facts.dstPort}` : `${facts.dstPort}>${facts.srcPort}`;
  } else if (facts.proto === PROTO_ICMP || facts.proto === PROTO_ICMP6) {
    const query = ICMP_QUERIES[facts.family].get(facts.icmpType);
    const [pair, reply] = query ?? [facts.icmpType, false];
    // The asking end is the source of a request and the destination of a reply.
    ports = `icmp${pair}:${inbound !== reply ? 'a' : 'b'}`;
  }
  const where = ifBound ? `@${facts.interface}` : '';
  return `${facts.family}|${facts.proto}|${formatIp(a)}|${formatIp(b)}|${ports}${where}`;
}

export interface StateEntry {
  /** Index of the rule that created the state (`PfRule.index`). */
  ruleIndex: number;
  /** Interface and direction of the creating packet. */
  interface: string;
  direction: 'in' | 'out';
  /** One-line text of the creating packet. */
  createdBy: string;
}

/** States of one session, keyed by `stateKey`. */
export class StateTable {
  private readonly states = new Map<string, StateEntry>();
  constructor(readonly ifBound: boolean) {}

  get size(): number {
    return this.states.size;
  }

  lookup(facts: PacketFacts): StateEntry | undefined {
    if (this.states.size === 0 || !canUseState(facts)) return undefined;
    return this.states.get(stateKey(facts, this.ifBound));
  }

  /** Records the state a passing stateful rule creates; ICMP errors create none. */
  create(facts: PacketFacts, entry: StateEntry): boolean {
    if (!canUseState(facts)) return false;
    this.states.set(stateKey(facts, this.ifBound), entry);
    return true;
  }

  entries(): Array<[string, StateEntry]> {
    return [...this.states.entries()];
  }

  clear(): void {
    this.states.clear();
  }
}
