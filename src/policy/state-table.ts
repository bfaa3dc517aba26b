/**
 * @module The pf state table of an evaluation session (docs/adr/0051-state-matching.md).
 *
 * pf builds a state key from the packet as seen on the wire with the direction folded in: for an `in` packet
 * `(src, sport) → (dst, dport)`, for an `out` packet the two ends swapped (FreeBSD pf.c `pf_test_state_tcp/udp`,
 * `key.addr[pd->sidx]`), so a state created by an inbound packet matches later inbound packets of the same flow
 * and the replies leaving the other way, and a forwarded connection holds two states (one per leg,
 * docs/reference/pf-semantics.md §2.4). UDP keys use ports, other protocols addresses only; ICMP queries pair with their
 * replies (echo request ↔ reply, …) and ICMP errors never match a state here because the quoted header is not
 * part of our packet. States are floating (any interface) unless the ruleset says `if-bound`. No timeouts and
 * no TCP window tracking: a state lives for the whole session.
 */
import type { IpAddress } from '../net/ip.ts';
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
function canUseState(facts: PacketFacts): boolean {
  const isIcmp = facts.proto === ICMP || facts.proto === ICMP6;
  return !(isIcmp && ICMP_ERRORS[facts.family].has(facts.icmpType));
}

/** Placeholder IPv6 end of `key` before the first IPv6 packet. */
const NO_ADDRESS: IpAddress = { family: 6, value: 0n };

/**
 * IPv6 addresses as key text (hex), per address object: the evaluator's throughput path hands out one object per
 * recently seen address text (addresses are immutable), and `bigint.toString(16)` on every lookup was most of an
 * IPv6 packet's cost.
 */
const hexOf = new WeakMap<IpAddress, string>();

function hexText(address: IpAddress): string {
  let text = hexOf.get(address);
  if (text === undefined) {
    text = address.value.toString(16);
    hexOf.set(address, text);
  }
  return text;
}

/**
 * Scratch parts of the last `writeKey` call (read immediately; avoids allocating a tuple per packet). IPv4 ends
 * and IPv6 ends have fields of their own so each field keeps one representation (no boxing of IPv4 numbers).
 */
const key: { a4: number; b4: number; a6: IpAddress; b6: IpAddress; proto: number; ports: number } = {
  a4: 0,
  b4: 0,
  a6: NO_ADDRESS,
  b6: NO_ADDRESS,
  proto: 0,
  ports: 0,
};

/**
 * The direction-folded key of a packet: the near end `a`, the far end `b`, the protocol and `ports`, one
 * unsigned 32-bit number (near port × 65536 + far port). For ICMP the "ports" are the query pair and which end
 * asked, so a reply matches its request's state and not a request the other way.
 */
function writeKey(facts: PacketFacts): void {
  const inbound = facts.direction === 'in';
  const near = inbound ? facts.src : facts.dst;
  const far = inbound ? facts.dst : facts.src;
  if (facts.family === 4) {
    key.a4 = near.value as number;
    key.b4 = far.value as number;
  } else {
    key.a6 = near;
    key.b6 = far;
  }
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
  key.proto = facts.proto;
  key.ports = ports;
}

/** The key as text, for IPv6 and if-bound states (IPv6 as hex, so it cannot collide with IPv4 decimals). */
function textKey(facts: PacketFacts, ifBound: boolean): string {
  const { proto, ports } = key;
  const text =
    facts.family === 4
      ? `${key.a4}|${key.b4}|${proto}|${ports}`
      : `${hexText(key.a6)}|${hexText(key.b6)}|${proto}|${ports}`;
  return ifBound ? `${text}@${facts.interface}` : text;
}

/** A copy of a packet to keep in a state: callers may reuse theirs (the evaluator's scratch packet). */
function snapshot(facts: PacketFacts): PacketFacts {
  return { ...facts, src: { ...facts.src }, dst: { ...facts.dst } };
}

export interface StateEntry {
  /** Index of the rule that created the state (`PfRule.index`). */
  ruleIndex: number;
  /** The creating packet (its interface and direction, and the text shown with results). */
  facts: PacketFacts;
}

/**
 * Words per slot of `Ipv4StateTable`: a, b, proto, ports, rule index + 1, origin (bit 0: out;
 * bits 1-8: TCP flags; bits 9-17: ICMP type + 1, 0 = none; bits 18-31: interface index).
 */
const STRIDE = 6;
const A = 0;
const B = 1;
const PROTO = 2;
const PORTS = 3;
const RULE = 4;
const ORIGIN = 5;

/**
 * Floating IPv4 states in an open-addressing hash table (linear probing) over one typed array, a slot's words
 * side by side so a probe touches one cache line. The creating packet is kept as numbers (interface index,
 * direction, TCP flags, ICMP type; addresses and ports are in the key) and rebuilt only when a state is hit, so
 * holding 100 k states costs no objects and keeps the throughput path off the garbage collector.
 */
class Ipv4StateTable {
  private capacity = 0;
  private slots = new Uint32Array(0);
  /**
   * One word per slot: 0 = empty, else the key's hash with the low bit set. A probe reads only these (4 bytes a
   * slot instead of 24) until a fingerprint matches, so a lookup for a new flow — most lookups — touches a table
   * a sixth the size.
   */
  private fingerprints = new Uint32Array(0);
  private readonly interfaces: string[] = [];
  private readonly interfaceIndex = new Map<string, number>();
  size = 0;

  constructor() {
    this.allocate(1024);
  }

  private allocate(capacity: number): void {
    this.capacity = capacity;
    this.slots = new Uint32Array(capacity * STRIDE);
    this.fingerprints = new Uint32Array(capacity);
    this.size = 0;
  }

  /** The slot holding the key, or the empty slot where it would go; `fingerprint` is `fingerprintOf` the key. */
  private slot(fingerprint: number, a: number, b: number, proto: number, ports: number): number {
    const { slots, fingerprints } = this;
    const mask = this.capacity - 1;
    for (let i = (fingerprint >>> 1) & mask; ; i = (i + 1) & mask) {
      const f = fingerprints[i] as number;
      if (f === 0) return i;
      if (f === fingerprint) {
        const at = i * STRIDE;
        const same =
          slots[at + A] === a && slots[at + B] === b && slots[at + PORTS] === ports && slots[at + PROTO] === proto;
        if (same) return i;
      }
    }
  }

  get(a: number, b: number, proto: number, ports: number): StateEntry | undefined {
    const i = this.slot(fingerprintOf(a, b, proto, ports), a, b, proto, ports);
    if (this.fingerprints[i] === 0) return undefined;
    const at = i * STRIDE;
    const origin = this.slots[at + ORIGIN] as number;
    const ruleIndex = (this.slots[at + RULE] as number) - 1;
    return { ruleIndex, facts: this.creator(a, b, proto, ports, origin) };
  }

  has(a: number, b: number, proto: number, ports: number): boolean {
    return this.fingerprints[this.slot(fingerprintOf(a, b, proto, ports), a, b, proto, ports)] !== 0;
  }

  /** Rebuilds the creating packet from the key and its origin bits. */
  private creator(a: number, b: number, proto: number, ports: number, origin: number): PacketFacts {
    const inbound = (origin & 1) === 0;
    const hasPorts = proto === TCP || proto === UDP;
    const near = hasPorts ? Math.floor(ports / 65536) : 0;
    const far = hasPorts ? ports % 65536 : 0;
    return {
      interface: this.interfaces[origin >>> 18] as string,
      direction: inbound ? 'in' : 'out',
      family: 4,
      proto,
      src: { family: 4, value: inbound ? a : b },
      dst: { family: 4, value: inbound ? b : a },
      srcPort: inbound ? near : far,
      dstPort: inbound ? far : near,
      tcpFlags: (origin >>> 1) & 0xff,
      icmpType: ((origin >>> 9) & 0x1ff) - 1,
      assumptions: [],
    };
  }

  set(a: number, b: number, proto: number, ports: number, ruleIndex: number, facts: PacketFacts): void {
    let index = this.interfaceIndex.get(facts.interface);
    if (index === undefined) {
      index = this.interfaces.length;
      this.interfaces.push(facts.interface);
      this.interfaceIndex.set(facts.interface, index);
    }
    const origin =
      ((index << 18) |
        ((facts.icmpType + 1) << 9) |
        (facts.tcpFlags << 1) |
        (facts.direction === 'in' ? 0 : 1)) >>>
      0;
    this.put(a, b, proto, ports, ruleIndex + 1, origin);
  }

  private put(a: number, b: number, proto: number, ports: number, stored: number, origin: number): void {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const fingerprint = fingerprintOf(a, b, proto, ports);
    const i = this.slot(fingerprint, a, b, proto, ports);
    if (this.fingerprints[i] === 0) {
      this.fingerprints[i] = fingerprint;
      this.size++;
    }
    const slots = this.slots;
    const at = i * STRIDE;
    slots[at + A] = a;
    slots[at + B] = b;
    slots[at + PROTO] = proto;
    slots[at + PORTS] = ports;
    slots[at + RULE] = stored;
    slots[at + ORIGIN] = origin;
  }

  private grow(): void {
    const old = this.slots;
    const oldFingerprints = this.fingerprints;
    this.allocate(this.capacity * 2);
    for (let i = 0; i < oldFingerprints.length; i++) {
      if (oldFingerprints[i] === 0) continue;
      const at = i * STRIDE;
      this.put(
        old[at + A] as number,
        old[at + B] as number,
        old[at + PROTO] as number,
        old[at + PORTS] as number,
        old[at + RULE] as number,
        old[at + ORIGIN] as number,
      );
    }
  }

  /** Empties the table but keeps its capacity: a session that filled it once will likely fill it again. */
  clear(): void {
    if (this.size === 0) return;
    this.fingerprints.fill(0);
    this.size = 0;
  }
}

/** A key's hash, never 0 (the low bit is set): the bits above it pick the home slot; all of it is the fingerprint. */
function fingerprintOf(a: number, b: number, proto: number, ports: number): number {
  let h =
    Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35) ^ Math.imul(ports ^ proto, 0x27d4eb2f);
  h ^= h >>> 15;
  return (h | 1) >>> 0;
}

/** States of one session. */
export class StateTable {
  private readonly v4 = new Ipv4StateTable();
  private readonly others = new Map<string, StateEntry>();
  constructor(readonly ifBound: boolean) {}

  get size(): number {
    return this.v4.size + this.others.size;
  }

  lookup(facts: PacketFacts): StateEntry | undefined {
    if (this.size === 0 || !canUseState(facts)) return undefined;
    writeKey(facts);
    if (!this.ifBound && facts.family === 4) return this.v4.get(key.a4, key.b4, key.proto, key.ports);
    return this.others.get(textKey(facts, this.ifBound));
  }

  /** Whether a state matches (`lookup` without building the entry: the verdict-only path). */
  has(facts: PacketFacts): boolean {
    if (this.size === 0 || !canUseState(facts)) return false;
    writeKey(facts);
    if (!this.ifBound && facts.family === 4) return this.v4.has(key.a4, key.b4, key.proto, key.ports);
    return this.others.has(textKey(facts, this.ifBound));
  }

  /** Records the state a passing stateful rule creates; ICMP errors create none. */
  create(facts: PacketFacts, ruleIndex: number): boolean {
    if (!canUseState(facts)) return false;
    writeKey(facts);
    if (!this.ifBound && facts.family === 4) this.v4.set(key.a4, key.b4, key.proto, key.ports, ruleIndex, facts);
    else this.others.set(textKey(facts, this.ifBound), { ruleIndex, facts: snapshot(facts) });
    return true;
  }

  clear(): void {
    this.v4.clear();
    this.others.clear();
  }
}
