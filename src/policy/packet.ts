/**
 * @module The packet a trace asks about: its JSON shape (`Packet`), the one-line CLI form
 * (`lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S`), validation into `PacketFacts` (numbers ready for
 * matching), and the protocol / ICMP-type / TCP-flag vocabularies pf uses. Pure; no I/O.
 *
 * Defaults, applied only when a field is absent (docs/adr/0054-packet-input.md): a TCP packet without flags
 * is a connection attempt (`S`); an ICMP packet without a type is an echo request; a TCP/UDP packet without a
 * source port uses the ephemeral port 49152. A missing destination port is an error.
 */
import { formatIp, type IpAddress, parseIp, parseIpv4Value } from '../net/ip.ts';

type Direction = 'in' | 'out';
type PacketFamily = 'inet' | 'inet6';

/** A packet as callers describe it (CLI line, `--packets` JSON item, API). */
export interface Packet {
  /** Interface key (`wan`, `lan`, `opt1`, `openvpn`, …); the evaluator also accepts the description or device. */
  interface: string;
  direction: Direction;
  /** Optional; must agree with the addresses when given. */
  af?: PacketFamily;
  /** `tcp`, `udp`, `icmp`, `icmp6` (or `ipv6-icmp`), another protocol name such as `esp`, or a number. */
  proto: string | number;
  src: string;
  srcPort?: number | null;
  dst: string;
  dstPort?: number | null;
  /** TCP flags that are set, as pf letters (`S`, `SA`, `A`, `FA`, `R`). */
  tcpFlags?: string | null;
  /** ICMP / ICMPv6 type: pf name (`echoreq`, `unreach`, `neighbrsol`, …) or number. */
  icmpType?: string | number | null;
}

/** A validated packet with every field resolved to a number. */
export interface PacketFacts {
  interface: string;
  direction: Direction;
  family: 4 | 6;
  /** IP protocol number (tcp 6, udp 17, icmp 1, ipv6-icmp 58, …). */
  proto: number;
  src: IpAddress;
  dst: IpAddress;
  /** 0 when the protocol has no ports. */
  srcPort: number;
  dstPort: number;
  /** TCP flag bits (F=1 S=2 R=4 P=8 A=16 U=32 E=64 W=128); 0 for other protocols. */
  tcpFlags: number;
  /** ICMP type number; -1 for other protocols. */
  icmpType: number;
  /** Defaults that were applied, in words (shown with the result). */
  assumptions: string[];
}

export class PacketError extends Error {
  /** The packet field (or line part) at fault, e.g. `src`, `dstPort`, `flags`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'PacketError';
    this.field = field;
  }
}

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;

/** pf / `/etc/protocols` names pfSense offers, plus the spellings the CLI accepts. */
const PROTOCOL_NUMBERS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  ipencap: 4,
  tcp: 6,
  egp: 8,
  udp: 17,
  ipv6: 41,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmp6: 58,
  icmpv6: 58,
  eigrp: 88,
  ospf: 89,
  etherip: 97,
  pim: 103,
  carp: 112,
  vrrp: 112,
  l2tp: 115,
  sctp: 132,
  pfsync: 240,
};

/** Protocol number for a pf name or a decimal number; -1 when unknown. */
export function protocolNumber(name: string | number): number {
  if (typeof name === 'number') return Number.isInteger(name) && name >= 0 && name <= 255 ? name : -1;
  const known = PROTOCOL_NUMBERS[name];
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  if (/^\d{1,3}$/.test(lower)) return protocolNumber(Number(lower));
  return PROTOCOL_NUMBERS[lower] ?? -1;
}

/** Canonical name of a protocol number for output (`ipv6-icmp` for 58). */
export function protocolName(proto: number): string {
  if (proto === PROTO_ICMP6) return 'ipv6-icmp';
  for (const [name, number] of Object.entries(PROTOCOL_NUMBERS)) if (number === proto) return name;
  return String(proto);
}

/** pf's ICMP type names (pfctl `icmp_type` table). */
const ICMP4_TYPES: Record<string, number> = {
  echorep: 0,
  unreach: 3,
  squench: 4,
  redir: 5,
  althost: 6,
  echoreq: 8,
  routeradv: 9,
  routersol: 10,
  timex: 11,
  paramprob: 12,
  timereq: 13,
  timerep: 14,
  inforeq: 15,
  inforep: 16,
  maskreq: 17,
  maskrep: 18,
  trace: 30,
  dataconv: 31,
  mobredir: 32,
  'ipv6-where': 33,
  'ipv6-here': 34,
  mobregreq: 35,
  mobregrep: 36,
  skip: 39,
  photuris: 40,
};

/** pf's ICMPv6 type names (pfctl `icmp6_type` table). */
const ICMP6_TYPES: Record<string, number> = {
  unreach: 1,
  toobig: 2,
  timex: 3,
  paramprob: 4,
  echoreq: 128,
  echorep: 129,
  groupqry: 130,
  listqry: 130,
  grouprep: 131,
  listenrep: 131,
  groupterm: 132,
  listendone: 132,
  routersol: 133,
  routeradv: 134,
  neighbrsol: 135,
  neighbradv: 136,
  redir: 137,
  routrrenum: 138,
  wrureq: 139,
  wrurep: 140,
  fqdnreq: 139,
  fqdnrep: 140,
  niqry: 139,
  nirep: 140,
  mtraceresp: 200,
  mtrace: 201,
};

const ICMP_ALIASES: Record<string, string> = { 'echo-request': 'echoreq', 'echo-reply': 'echorep' };

/** ICMP type number for a pf name or number in the given family; -1 when unknown. */
export function icmpTypeNumber(family: 4 | 6, name: string | number): number {
  if (typeof name === 'number') return Number.isInteger(name) && name >= 0 && name <= 255 ? name : -1;
  const known = (family === 4 ? ICMP4_TYPES : ICMP6_TYPES)[name];
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  if (/^\d{1,3}$/.test(lower)) return icmpTypeNumber(family, Number(lower));
  const canonical = ICMP_ALIASES[lower] ?? lower;
  return (family === 4 ? ICMP4_TYPES : ICMP6_TYPES)[canonical] ?? -1;
}

/** ICMP echo request and reply types per family (state matching pairs them). */
const ICMP_ECHO = { 4: { request: 8, reply: 0 }, 6: { request: 128, reply: 129 } } as const;

const TCP_FLAG_LETTERS = 'FSRPAUEW';

/** `SA` → bits; null when a letter is not one of F S R P A U E W. */
export function tcpFlagBits(text: string): number | null {
  let bits = 0;
  for (let c = 0; c < text.length; c++) {
    // Upper-case the letter arithmetically: this runs once per TCP packet on the throughput path.
    const code = text.charCodeAt(c);
    const i = TCP_FLAG_LETTERS.indexOf(String.fromCharCode(code >= 97 && code <= 122 ? code - 32 : code));
    if (i < 0) return null;
    bits |= 1 << i;
  }
  return bits;
}

const TCP_FLAG_NAMES: Record<string, number> = {
  fin: 1,
  syn: 2,
  rst: 4,
  psh: 8,
  ack: 16,
  urg: 32,
  ece: 64,
  cwr: 128,
};

/** A packet's flags: pf letters (`SA`) or flag names (`syn,ack`, `SYN ACK`, `syn|ack`). */
function packetFlagBits(text: string): number | null {
  const letters = tcpFlagBits(text);
  if (letters !== null) return letters;
  let bits = 0;
  for (const word of text.toLowerCase().split(/[\s,|+/]+/)) {
    if (word === '') continue;
    const bit = TCP_FLAG_NAMES[word];
    if (bit === undefined) return null;
    bits |= bit;
  }
  return bits === 0 ? null : bits;
}

/** Bits → `SA`-style letters in pf order. */
export function tcpFlagLetters(bits: number): string {
  let text = '';
  for (let i = 0; i < 8; i++) if (bits & (1 << i)) text += TCP_FLAG_LETTERS[i];
  return text;
}

const EPHEMERAL_PORT = 49152;
/** Shared empty list: most packets need no assumption, and the throughput path should not allocate one. */
const NO_ASSUMPTIONS: string[] = [];

function checkPort(field: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  // JSON written by hand sometimes quotes numbers; a string of digits is the same port.
  if (typeof value === 'string' && /^\d{1,5}$/.test(value)) return checkPort(field, Number(value));
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new PacketError(field, `${field} must be an integer 0-65535 (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** An IPv4 address the throughput path overwrites in place instead of allocating one per packet. */
interface MutableIpv4 {
  family: 4;
  value: number;
}

/**
 * Reusable storage for `packetFactsInto`: one facts object and one IPv4 address per side, filled anew for each
 * packet (one per evaluator session; evaluation is synchronous, so two packets never share it at once).
 */
interface PacketScratch {
  readonly facts: PacketFacts;
  readonly src4: MutableIpv4;
  readonly dst4: MutableIpv4;
  /** Parsed IPv6 addresses by text (immutable, so shared): a flow's addresses recur, and bigint parsing is slow. */
  readonly ipv6: Map<string, IpAddress>;
}

/** Bound on `PacketScratch.ipv6`; when full it starts over (cheap, and a scan of many addresses stays bounded). */
const IPV6_CACHE_SIZE = 4096;

export function createPacketScratch(): PacketScratch {
  const src4: MutableIpv4 = { family: 4, value: 0 };
  const dst4: MutableIpv4 = { family: 4, value: 0 };
  return {
    facts: {
      interface: '',
      direction: 'in',
      family: 4,
      proto: 0,
      src: src4,
      dst: dst4,
      srcPort: 0,
      dstPort: 0,
      tcpFlags: 0,
      icmpType: -1,
      assumptions: NO_ASSUMPTIONS,
    },
    src4,
    dst4,
    ipv6: new Map(),
  };
}

/**
 * Parses an address. With scratch (the throughput path), an IPv4 address goes into the side's slot and an IPv6
 * one comes from the scratch cache when seen recently; without, it is always a new object.
 */
function checkAddress(field: 'src' | 'dst', value: unknown, scratch: PacketScratch | null): IpAddress {
  if (typeof value !== 'string') throw new PacketError(field, `${field} must be an IP address string`);
  if (scratch !== null) {
    const v4 = parseIpv4Value(value);
    if (v4 >= 0) {
      const slot = field === 'src' ? scratch.src4 : scratch.dst4;
      slot.value = v4;
      return slot;
    }
    const cached = scratch.ipv6.get(value);
    if (cached !== undefined) return cached;
  }
  const address = parseIp(value);
  if (address === null) throw new PacketError(field, `${field} "${value}" is not an IPv4 or IPv6 address`);
  if (scratch !== null) {
    if (scratch.ipv6.size >= IPV6_CACHE_SIZE) scratch.ipv6.clear();
    scratch.ipv6.set(value, address);
  }
  return address;
}

/** Validates a packet (from JSON or the line parser) and resolves it to numbers. Throws `PacketError`. */
export function packetFacts(input: unknown): PacketFacts {
  return readPacket(input, null);
}

/**
 * `packetFacts` into reusable storage: the result is `scratch.facts`, valid until the next call with the same
 * scratch. For the evaluator's throughput path; anything kept beyond that (a state) must be copied.
 */
export function packetFactsInto(input: unknown, scratch: PacketScratch): PacketFacts {
  return readPacket(input, scratch);
}

function readPacket(input: unknown, scratch: PacketScratch | null): PacketFacts {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new PacketError('packet', 'packet must be an object');
  }
  const p = input as Record<string, unknown>;
  if (typeof p.interface !== 'string' || p.interface === '') {
    throw new PacketError('interface', 'interface must be a non-empty string (e.g. "lan")');
  }
  if (p.direction !== 'in' && p.direction !== 'out') {
    throw new PacketError(
      'direction',
      `direction must be "in" or "out" (got ${JSON.stringify(p.direction)})`,
    );
  }
  const src = checkAddress('src', p.src, scratch);
  const dst = checkAddress('dst', p.dst, scratch);
  if (src.family !== dst.family) {
    throw new PacketError(
      'dst',
      `src ${formatIp(src)} and dst ${formatIp(dst)} are of different address families`,
    );
  }
  const family = src.family;
  if (p.af !== undefined && p.af !== null) {
    const af =
      p.af === 'inet' || p.af === 4 || p.af === 'ipv4'
        ? 4
        : p.af === 'inet6' || p.af === 6 || p.af === 'ipv6'
          ? 6
          : 0;
    if (af === 0) throw new PacketError('af', `af must be "inet" or "inet6" (got ${JSON.stringify(p.af)})`);
    if (af !== family) {
      const given = p.af as 'inet' | 'inet6' | 'ipv4' | 'ipv6' | 4 | 6; // af !== 0: one of these spellings
      throw new PacketError('af', `af ${given} does not match the IPv${family} addresses`);
    }
  }
  if (typeof p.proto !== 'string' && typeof p.proto !== 'number') {
    throw new PacketError('proto', 'proto must be a protocol name (tcp, udp, icmp, icmp6, esp, …) or number');
  }
  let proto = protocolNumber(p.proto);
  if (proto < 0) throw new PacketError('proto', `unknown protocol ${JSON.stringify(p.proto)}`);
  // `icmp` on an IPv6 packet means ICMPv6, as pfSense's GUI does (docs/reference/pf-semantics.md §1.3).
  if (proto === PROTO_ICMP && family === 6) proto = PROTO_ICMP6;
  if (proto === PROTO_ICMP6 && family === 4) throw new PacketError('proto', 'ICMPv6 needs IPv6 addresses');
  let assumptions: string[] = NO_ASSUMPTIONS;
  let srcPort = checkPort('srcPort', p.srcPort);
  let dstPort = checkPort('dstPort', p.dstPort);
  const hasPorts = proto === PROTO_TCP || proto === PROTO_UDP;
  if (hasPorts) {
    if (dstPort === null)
      throw new PacketError('dstPort', `a ${protocolName(proto)} packet needs a destination port`);
    if (srcPort === null) {
      srcPort = EPHEMERAL_PORT;
      assumptions = [...assumptions, `source port ${EPHEMERAL_PORT} assumed`];
    }
  } else {
    if (srcPort !== null || dstPort !== null) {
      throw new PacketError(
        srcPort !== null ? 'srcPort' : 'dstPort',
        `${protocolName(proto)} packets have no ports`,
      );
    }
    srcPort = 0;
    dstPort = 0;
  }
  let tcpFlags = 0;
  if (p.tcpFlags !== undefined && p.tcpFlags !== null && p.tcpFlags !== '') {
    if (proto !== PROTO_TCP) throw new PacketError('tcpFlags', 'TCP flags are only valid on tcp packets');
    const bits = typeof p.tcpFlags === 'string' ? packetFlagBits(p.tcpFlags) : null;
    if (bits === null) {
      throw new PacketError(
        'tcpFlags',
        `tcpFlags must be letters of FSRPAUEW or names like "syn,ack" (got ${JSON.stringify(p.tcpFlags)})`,
      );
    }
    tcpFlags = bits;
  } else if (proto === PROTO_TCP) {
    tcpFlags = 2;
    assumptions = [...assumptions, 'TCP flags S assumed (a connection attempt)'];
  }
  let icmpType = -1;
  const isIcmp = proto === PROTO_ICMP || proto === PROTO_ICMP6;
  if (p.icmpType !== undefined && p.icmpType !== null && p.icmpType !== '') {
    if (!isIcmp) throw new PacketError('icmpType', 'an ICMP type is only valid on icmp / icmp6 packets');
    if (typeof p.icmpType !== 'string' && typeof p.icmpType !== 'number') {
      throw new PacketError('icmpType', 'icmpType must be a pf ICMP type name or number');
    }
    icmpType = icmpTypeNumber(family, p.icmpType);
    if (icmpType < 0)
      throw new PacketError(
        'icmpType',
        `unknown ICMP${family === 6 ? 'v6' : ''} type ${JSON.stringify(p.icmpType)}`,
      );
  } else if (isIcmp) {
    icmpType = ICMP_ECHO[family].request;
    assumptions = [...assumptions, 'ICMP echo request assumed'];
  }
  if (scratch === null) {
    return {
      interface: p.interface,
      direction: p.direction,
      family,
      proto,
      src,
      dst,
      srcPort,
      dstPort,
      tcpFlags,
      icmpType,
      assumptions,
    };
  }
  const facts = scratch.facts;
  facts.interface = p.interface;
  facts.direction = p.direction;
  facts.family = family;
  facts.proto = proto;
  facts.src = src;
  facts.dst = dst;
  facts.srcPort = srcPort;
  facts.dstPort = dstPort;
  facts.tcpFlags = tcpFlags;
  facts.icmpType = icmpType;
  facts.assumptions = assumptions;
  return facts;
}

/** Splits `host[:port]`: `1.2.3.4:80`, `1.2.3.4`, `[2001:db8::1]:443`, `2001:db8::1`. */
function parseEndpoint(field: 'src' | 'dst', text: string): { address: string; port: number | null } {
  const portField = field === 'src' ? 'srcPort' : 'dstPort';
  let address = text;
  let portText: string | null = null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new PacketError(field, `${field} "${text}" has "[" without "]"`);
    address = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':'))
        throw new PacketError(field, `${field} "${text}": expected ":port" after "]"`);
      portText = rest.slice(1);
    }
  } else {
    const colon = text.lastIndexOf(':');
    // One colon: IPv4 with a port. More: a bare IPv6 address (ports need brackets).
    if (colon >= 0 && text.indexOf(':') === colon) {
      address = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  if (portText === null) return { address, port: null };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new PacketError(portField, `${field} port "${portText}" must be 0-65535`);
  }
  return { address, port: Number(portText) };
}

export const PACKET_LINE_SYNTAX =
  '<interface> <in|out> <tcp|udp|icmp|icmp6|proto> <src>[:<port>] -> <dst>[:<port>] [flags <F>] [type <icmp type>]';

/**
 * Parses `lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S` into a `Packet` (not yet validated; pass it to
 * `packetFacts`). IPv6 addresses go in brackets when a port follows.
 */
export function parsePacketLine(line: string): Packet {
  const tokens = line.replace(/->/g, ' -> ').trim().split(/\s+/);
  if (tokens.length < 6 || tokens[4] !== '->') {
    throw new PacketError('packet', `packet line must look like: ${PACKET_LINE_SYNTAX}`);
  }
  const [iface, direction, proto, srcText, , dstText, ...rest] = tokens as [
    string,
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  if (direction !== 'in' && direction !== 'out') {
    throw new PacketError('direction', `direction must be "in" or "out" (got "${direction}")`);
  }
  const src = parseEndpoint('src', srcText);
  const dst = parseEndpoint('dst', dstText);
  const packet: Packet = { interface: iface, direction, proto, src: src.address, dst: dst.address };
  if (src.port !== null) packet.srcPort = src.port;
  if (dst.port !== null) packet.dstPort = dst.port;
  for (let i = 0; i < rest.length; i += 2) {
    const keyword = rest[i];
    const value = rest[i + 1];
    if (value === undefined) throw new PacketError('packet', `"${keyword}" needs a value`);
    if (keyword === 'flags') packet.tcpFlags = value;
    else if (keyword === 'type') packet.icmpType = /^\d+$/.test(value) ? Number(value) : value;
    else
      throw new PacketError('packet', `unexpected "${keyword}"; expected "flags <F>" or "type <icmp type>"`);
  }
  return packet;
}

/** One-line text of a packet, the inverse of `parsePacketLine` for validated facts. */
export function formatPacket(facts: PacketFacts): string {
  const host = (address: IpAddress, port: number) => {
    const text = formatIp(address);
    if (facts.proto !== PROTO_TCP && facts.proto !== PROTO_UDP) return text;
    return address.family === 6 ? `[${text}]:${port}` : `${text}:${port}`;
  };
  let line = `${facts.interface} ${facts.direction} ${protocolName(facts.proto)} ${host(facts.src, facts.srcPort)} -> ${host(facts.dst, facts.dstPort)}`;
  if (facts.proto === PROTO_TCP) line += ` flags ${tcpFlagLetters(facts.tcpFlags)}`;
  if (facts.icmpType >= 0) line += ` type ${facts.icmpType}`;
  return line;
}
