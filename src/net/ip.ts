/**
 * @module IPv4/IPv6 addresses and CIDR prefixes: hand-written parsers (no regex, no allocation beyond the result),
 * RFC 5952 formatting, prefix containment and range arithmetic.
 *
 * Representation (chosen for cheap comparisons in the prefix index and the policy evaluator):
 * - IPv4: `value` is the address as an unsigned 32-bit integer held in a JS number (0 … 2^32-1).
 * - IPv6: `value` is the address as an unsigned 128-bit `bigint`; an optional `zone` keeps a `%scope` suffix.
 *
 * Parsing is strict: IPv4 needs exactly four decimal parts 0-255 without leading zeros (so `010.0.0.1`, which
 * some resolvers read as octal, is rejected); IPv6 accepts 1-4 hex digits per group, one `::`, an embedded
 * dotted-quad tail (`::ffff:192.0.2.1`, `64:ff9b::1.2.3.4`) and a non-empty `%zone`. Surrounding whitespace and
 * brackets are not accepted here; callers strip them. A v4-mapped IPv6 address stays IPv6 (`unmapIpv4` converts).
 */

type IpFamily = 4 | 6;

interface Ipv4Address {
  readonly family: 4;
  /** Unsigned 32-bit value. */
  readonly value: number;
}

interface Ipv6Address {
  readonly family: 6;
  /** Unsigned 128-bit value. */
  readonly value: bigint;
  /** Scope zone after `%` (`fe80::1%em0` → `em0`), if any. Ignored by comparisons and containment. */
  readonly zone?: string;
}

export type IpAddress = Ipv4Address | Ipv6Address;

interface Ipv4Cidr {
  readonly family: 4;
  /** Network address (host bits zero), unsigned 32-bit. */
  readonly network: number;
  /** 0-32. */
  readonly prefix: number;
}

interface Ipv6Cidr {
  readonly family: 6;
  /** Network address (host bits zero), unsigned 128-bit. */
  readonly network: bigint;
  /** 0-128. */
  readonly prefix: number;
}

export type Cidr = Ipv4Cidr | Ipv6Cidr;

export const IPV4_MAX = 0xffffffff;
export const IPV6_MAX = (1n << 128n) - 1n;

const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_DOT = 46;
const CHAR_COLON = 58;

/** Parses dotted-quad text between `start` and `end` into an unsigned 32-bit number, or -1. */
function parseIpv4Range(text: string, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= CHAR_0 && c <= CHAR_9) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - CHAR_0);
      if (part > 255) return -1;
      digits++;
    } else if (c === CHAR_DOT) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (digits === 0 || parts !== 3) return -1;
  return value * 256 + part;
}

function hexDigit(c: number): number {
  if (c >= CHAR_0 && c <= CHAR_9) return c - CHAR_0;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Scratch space for the eight 16-bit groups; parsing is synchronous so one buffer is enough. */
const groups = new Uint16Array(8);

/** Parses IPv6 text (no zone) between `start` and `end`, or returns null. */
function parseIpv6Range(text: string, start: number, end: number): bigint | null {
  if (end - start < 2) return null;
  let count = 0; // groups written
  let gap = -1; // index in `groups` where `::` stands
  let i = start;
  if (text.charCodeAt(i) === CHAR_COLON) {
    if (text.charCodeAt(i + 1) !== CHAR_COLON) return null;
    gap = 0;
    i += 2;
    if (i === end) return finishIpv6(count, gap);
  }
  for (;;) {
    // One group, or a dotted-quad tail.
    const groupStart = i;
    let value = 0;
    let digits = 0;
    while (i < end) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      value = (value << 4) | d;
      digits++;
      i++;
    }
    if (i < end && text.charCodeAt(i) === CHAR_DOT) {
      if (count > 6) return null;
      const v4 = parseIpv4Range(text, groupStart, end);
      if (v4 < 0) return null;
      groups[count++] = Math.floor(v4 / 65536);
      groups[count++] = v4 & 0xffff;
      return finishIpv6(count, gap);
    }
    if (digits === 0 || digits > 4 || count === 8) return null;
    groups[count++] = value;
    if (i === end) return finishIpv6(count, gap);
    if (text.charCodeAt(i) !== CHAR_COLON) return null;
    i++;
    if (i < end && text.charCodeAt(i) === CHAR_COLON) {
      if (gap >= 0) return null; // a second `::`
      gap = count;
      i++;
      if (i === end) return finishIpv6(count, gap);
    } else if (i === end) {
      return null; // trailing single colon
    }
  }
}

function finishIpv6(count: number, gap: number): bigint | null {
  if (gap < 0 ? count !== 8 : count > 7) return null;
  const zeros = gap < 0 ? 0 : 8 - count;
  // Assemble through four 32-bit words to keep bigint operations few.
  let value = 0n;
  let word = 0;
  for (let g = 0; g < 8; g++) {
    let group = 0;
    if (gap < 0 || g < gap) group = groups[g] ?? 0;
    else if (g >= gap + zeros) group = groups[g - zeros] ?? 0;
    word = word * 65536 + group;
    if (g % 2 === 1) {
      value = (value << 32n) | BigInt(word);
      word = 0;
    }
  }
  return value;
}

/** Parses an IPv4 or IPv6 address (IPv6 may carry `%zone`). Returns null for anything else. */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseIpv4Range(text, 0, text.length);
  if (v4 >= 0) return { family: 4, value: v4 };
  return parseIpv6(text);
}

/** An IPv4 address as its unsigned 32-bit value, or -1 when `text` is not one (no allocation). */
export function parseIpv4Value(text: string): number {
  return parseIpv4Range(text, 0, text.length);
}

/** A zone is a non-empty run of letters, digits, `-`, `.` and `:` (interface names such as `em0.10`), as Node's `net.isIPv6` accepts. */
function isZone(text: string, start: number): boolean {
  if (start >= text.length) return false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= CHAR_0 && c <= CHAR_9) ||
      ((c | 0x20) >= 97 && (c | 0x20) <= 122) ||
      c === 45 ||
      c === CHAR_DOT ||
      c === CHAR_COLON;
    if (!ok) return false;
  }
  return true;
}

/** Parses an IPv6 address with optional `%zone`, or returns null. */
function parseIpv6(text: string): Ipv6Address | null {
  const percent = text.indexOf('%');
  const end = percent < 0 ? text.length : percent;
  if (percent >= 0 && !isZone(text, percent + 1)) return null;
  const value = parseIpv6Range(text, 0, end);
  if (value === null) return null;
  return percent < 0 ? { family: 6, value } : { family: 6, value, zone: text.slice(percent + 1) };
}

export function isIpv4(text: string): boolean {
  return parseIpv4Range(text, 0, text.length) >= 0;
}

export function isIpv6(text: string): boolean {
  return parseIpv6(text) !== null;
}

export function isIp(text: string): boolean {
  return parseIp(text) !== null;
}

/** Host-bit mask helpers. */
function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function ipv6Mask(prefix: number): bigint {
  return prefix === 0 ? 0n : IPV6_MAX ^ ((1n << BigInt(128 - prefix)) - 1n);
}

interface ParseCidrOptions {
  /** Reject prefixes whose host bits are not zero (`10.0.0.1/8`). Default false: host bits are cleared. */
  readonly strict?: boolean;
  /** Accept a bare address as a host prefix (/32 or /128). Default true. */
  readonly allowBareAddress?: boolean;
}

type CidrParseResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

/**
 * Parses `address/prefix` (or a bare address, see options) and explains a failure in words
 * suitable for an API error (`"prefix length 33 is out of range 0-32"`).
 */
export function parseCidrResult(text: string, options: ParseCidrOptions = {}): CidrParseResult {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIp(addressText);
  if (address === null) return { ok: false, reason: `"${addressText}" is not an IPv4 or IPv6 address` };
  if (address.family === 6 && address.zone !== undefined) {
    return { ok: false, reason: 'a prefix cannot carry a %zone' };
  }
  const max = address.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash < 0) {
    if (options.allowBareAddress === false) return { ok: false, reason: 'missing "/prefix-length"' };
  } else {
    prefix = 0;
    const digits = text.length - slash - 1;
    if (digits < 1 || digits > 3) return { ok: false, reason: 'prefix length must be 1-3 decimal digits' };
    for (let i = slash + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < CHAR_0 || c > CHAR_9) return { ok: false, reason: 'prefix length must be decimal digits' };
      prefix = prefix * 10 + (c - CHAR_0);
    }
    if (digits > 1 && text.charCodeAt(slash + 1) === CHAR_0) {
      return { ok: false, reason: 'prefix length has a leading zero' };
    }
    if (prefix > max) return { ok: false, reason: `prefix length ${prefix} is out of range 0-${max}` };
  }
  if (address.family === 4) {
    const network = (address.value & ipv4Mask(prefix)) >>> 0;
    if (options.strict && network !== address.value) {
      return { ok: false, reason: `host bits are set (network is ${formatIpv4(network)}/${prefix})` };
    }
    return { ok: true, cidr: { family: 4, network, prefix } };
  }
  const network = address.value & ipv6Mask(prefix);
  if (options.strict && network !== address.value) {
    return { ok: false, reason: `host bits are set (network is ${formatIpv6(network)}/${prefix})` };
  }
  return { ok: true, cidr: { family: 6, network, prefix } };
}

/** Parses a CIDR prefix (see `parseCidrResult`); null when invalid. */
export function parseCidr(text: string, options: ParseCidrOptions = {}): Cidr | null {
  const result = parseCidrResult(text, options);
  return result.ok ? result.cidr : null;
}

/** The prefix covering exactly one address. */
export function hostCidr(address: IpAddress): Cidr {
  return address.family === 4
    ? { family: 4, network: address.value, prefix: 32 }
    : { family: 6, network: address.value, prefix: 128 };
}

/** First and last address of a prefix. */
export function cidrBounds(cidr: Ipv4Cidr): { first: number; last: number };
export function cidrBounds(cidr: Ipv6Cidr): { first: bigint; last: bigint };
export function cidrBounds(cidr: Cidr): { first: number | bigint; last: number | bigint };
export function cidrBounds(cidr: Cidr): { first: number | bigint; last: number | bigint } {
  if (cidr.family === 4) {
    const size = 2 ** (32 - cidr.prefix);
    return { first: cidr.network, last: cidr.network + size - 1 };
  }
  return { first: cidr.network, last: cidr.network | ((1n << BigInt(128 - cidr.prefix)) - 1n) };
}

/**
 * True when `inner` (an address or a prefix) lies entirely inside `outer`. Different families never contain
 * each other (a v4-mapped IPv6 address is not inside an IPv4 prefix; `unmapIpv4` first if that is wanted).
 */
export function cidrContains(outer: Cidr, inner: IpAddress | Cidr): boolean {
  if (outer.family !== inner.family) return false;
  const innerPrefix = 'prefix' in inner ? inner.prefix : outer.family === 4 ? 32 : 128;
  if (innerPrefix < outer.prefix) return false;
  if (outer.family === 4) {
    const value = 'prefix' in inner ? (inner.network as number) : (inner.value as number);
    return (value & ipv4Mask(outer.prefix)) >>> 0 === outer.network;
  }
  const value = 'prefix' in inner ? (inner.network as bigint) : (inner.value as bigint);
  return (value & ipv6Mask(outer.prefix)) === outer.network;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** `::ffff:a.b.c.d` → `a.b.c.d`; every other address is returned unchanged. */
export function unmapIpv4(address: IpAddress): IpAddress {
  if (address.family === 6 && address.value >> 32n === 0xffffn) {
    return { family: 4, value: Number(address.value & 0xffffffffn) };
  }
  return address;
}

/** `a.b.c.d` → `::ffff:a.b.c.d`. */
export function mapIpv4(address: Ipv4Address): Ipv6Address {
  return { family: 6, value: V4_MAPPED_PREFIX | BigInt(address.value) };
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/**
 * RFC 5952 text: lowercase hex, no leading zeros, the longest run (≥ 2) of zero groups shortened to `::`
 * (the first one on a tie), and v4-mapped addresses written `::ffff:a.b.c.d` (§5).
 */
export function formatIpv6(value: bigint, zone?: string): string {
  const suffix = zone === undefined ? '' : `%${zone}`;
  if (value >> 32n === 0xffffn) return `::ffff:${formatIpv4(Number(value & 0xffffffffn))}${suffix}`;
  const parts: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    parts
      .slice(from, to)
      .map((p) => p.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8) + suffix;
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}${suffix}`;
}

/** Canonical text of an address (IPv6 per RFC 5952, with its zone). */
export function formatIp(address: IpAddress): string {
  return address.family === 4 ? formatIpv4(address.value) : formatIpv6(address.value, address.zone);
}

/** Canonical `network/prefix` text. */
export function formatCidr(cidr: Cidr): string {
  return cidr.family === 4
    ? `${formatIpv4(cidr.network)}/${cidr.prefix}`
    : `${formatIpv6(cidr.network)}/${cidr.prefix}`;
}

/** Canonical text of an address given as text, or null when it is not one. */
export function normalizeIp(text: string): string | null {
  const address = parseIp(text);
  return address === null ? null : formatIp(address);
}

/** Canonical text of a prefix given as text (host bits cleared), or null when it is not one. */
export function normalizeCidr(text: string, options: ParseCidrOptions = {}): string | null {
  const cidr = parseCidr(text, options);
  return cidr === null ? null : formatCidr(cidr);
}

/** Orders IPv4 before IPv6, then numerically. */
export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
}

/**
 * The smallest list of prefixes covering exactly `first`…`last` (inclusive) of one family; used to turn
 * pf address ranges (`a - b`) and interval complements back into CIDRs.
 */
export function rangeToCidrs(family: 4, first: number, last: number): Ipv4Cidr[];
export function rangeToCidrs(family: 6, first: bigint, last: bigint): Ipv6Cidr[];
export function rangeToCidrs(family: IpFamily, first: number | bigint, last: number | bigint): Cidr[] {
  const bits = family === 4 ? 128 - 96 : 128;
  const out: Cidr[] = [];
  let lo = BigInt(first);
  const hi = BigInt(last);
  while (lo <= hi) {
    let size = 0; // log2 of the block
    while (size < bits) {
      const block = 1n << BigInt(size + 1);
      if (lo % block !== 0n || lo + block - 1n > hi) break;
      size++;
    }
    out.push(
      family === 4
        ? { family: 4, network: Number(lo), prefix: 32 - size }
        : { family: 6, network: lo, prefix: 128 - size },
    );
    lo += 1n << BigInt(size);
  }
  return out;
}
