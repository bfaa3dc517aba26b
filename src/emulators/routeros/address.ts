/**
 * @module Address-list address normalisation as RouterOS stores it (docs/reference/routeros-api.md §3): an IPv4
 * host stays bare (`/32` is dropped), a prefix is masked to its network, a range that is exactly one prefix becomes
 * that CIDR (other ranges stay ranges), IPv6 always carries a prefix (`/128` for a host), and a DNS name is kept.
 */
import { isIPv4, isIPv6 } from 'node:net';

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToV4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function v4Network(n: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return Math.floor(n / size) * size;
}

/** The CIDR a range covers exactly, or null. */
function rangeToPrefix(lo: number, hi: number): number | null {
  const count = hi - lo + 1;
  const bits = Math.log2(count);
  if (!Number.isInteger(bits) || lo % count !== 0) return null;
  return 32 - bits;
}

function v6ToBigInt(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const n = v4ToInt(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(fill).fill('0'), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) + BigInt(Number.parseInt(part, 16)), 0n);
}

/** RFC 5952 text of a 128-bit value (longest zero run of two or more hextets compressed). */
function bigIntToV6(n: bigint): string {
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = parts.map((p) => p.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The stored form of an IPv4 address-list `address`, or null when RouterOS would refuse it. */
export function normaliseV4Address(input: string): string | null {
  const text = input.trim();
  const range = /^([\d.]+)-([\d.]+)$/.exec(text);
  if (range !== null) {
    if (!isIPv4(range[1]!) || !isIPv4(range[2]!)) return null;
    let lo = v4ToInt(range[1]!);
    let hi = v4ToInt(range[2]!);
    if (lo > hi) [lo, hi] = [hi, lo];
    if (lo === hi) return intToV4(lo);
    const prefix = rangeToPrefix(lo, hi);
    return prefix === null ? `${intToV4(lo)}-${intToV4(hi)}` : `${intToV4(lo)}/${prefix}`;
  }
  const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (cidr !== null) {
    const prefix = Number(cidr[2]);
    if (!isIPv4(cidr[1]!) || prefix > 32) return null;
    if (prefix === 32) return cidr[1]!;
    return `${intToV4(v4Network(v4ToInt(cidr[1]!), prefix))}/${prefix}`;
  }
  if (isIPv4(text)) return text;
  if (/^[\d.]+$/.test(text)) return null;
  return HOSTNAME.test(text) ? text : null;
}

/** The stored form of an IPv6 address-list `address` (always with a prefix), or null. */
export function normaliseV6Address(input: string): string | null {
  const text = input.trim();
  const [ip = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return null;
  if (!isIPv6(ip)) return HOSTNAME.test(text) && !text.includes(':') ? text : null;
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128 || (prefixText !== undefined && !/^\d+$/.test(prefixText)))
    return null;
  const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  return `${bigIntToV6(v6ToBigInt(ip) & mask)}/${prefix}`;
}

/** Normalised IPv4 `address` of a route, IP address or firewall matcher (`1.2.3.4/24` keeps its host part). */
export function isV4OrCidr(text: string): boolean {
  const [ip = '', prefix, extra] = text.split('/');
  return extra === undefined && isIPv4(ip) && (prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= 32));
}
