/**
 * @module SSRF guard for gateway hosts and diagnostics targets (docs/adr/0070-ssrf-and-client-ip.md).
 *
 * A gateway URL must be absolute http(s) without credentials, and its host must not be — by literal, by name,
 * or by any address it resolves to — loopback, unspecified/`0.0.0.0/8`, link-local, or a cloud metadata
 * endpoint, including every IPv6 form that embeds such an IPv4 address (mapped, SIIT, compatible, NAT64
 * well-known and local-use, 6to4, Teredo). A deployment lets lab hosts through explicitly with
 * `PORTCULLIS_ALLOW_GATEWAY_HOSTS` (hostnames, addresses or CIDRs). `guardedLookup` repeats the address check
 * at connect time, so a name that re-resolves to a forbidden address later (DNS rebinding) is refused too.
 */

import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { ValidationError } from '../errors.ts';
import { type Cidr, cidrContains, type IpAddress, parseCidr, parseCidrResult, parseIp } from './ip.ts';

/** Why an address is refused. */
interface ForbiddenRange {
  cidr: Cidr;
  label: string;
}

function range(text: string, label: string): ForbiddenRange {
  const cidr = parseCidr(text);
  if (cidr === null) throw new Error(`bad built-in range ${text}`);
  return { cidr, label };
}

/** Checked in order; the first match names the reason. Metadata hosts first so they are named as such. */
const FORBIDDEN: readonly ForbiddenRange[] = [
  range('169.254.169.254/32', 'a cloud metadata address'), // AWS, GCP, Azure, OpenStack, DigitalOcean…
  range('169.254.170.2/32', 'a cloud metadata address'), // AWS ECS task metadata
  range('100.100.100.200/32', 'a cloud metadata address'), // Alibaba Cloud
  range('168.63.129.16/32', 'a cloud metadata address'), // Azure WireServer
  range('fd00:ec2::254/128', 'a cloud metadata address'), // AWS IMDS over IPv6
  range('0.0.0.0/8', 'an unspecified ("this network") address'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address'),
  range('::/128', 'the unspecified address'),
  range('::1/128', 'a loopback address'),
  range('fe80::/10', 'a link-local address'),
];

/** Bits `[start, start + length)` of a 128-bit IPv6 value, counted from the most significant bit. */
function bitsOf(value: bigint, start: number, length: number): number {
  return Number((value >> BigInt(128 - start - length)) & ((1n << BigInt(length)) - 1n));
}

/** The RFC 6052 §2.2 prefix lengths; bits 64–71 (the "u" octet) are never part of the IPv4 address. */
type Rfc6052Length = 32 | 40 | 48 | 56 | 64 | 96;

/** The IPv4 value after a translation prefix of `length` bits (RFC 6052 §2.2). */
function rfc6052Ipv4(v: bigint, length: Rfc6052Length): number {
  switch (length) {
    case 32:
      return bitsOf(v, 32, 32);
    case 40:
      return ((bitsOf(v, 40, 24) << 8) | bitsOf(v, 72, 8)) >>> 0;
    case 48:
      return ((bitsOf(v, 48, 16) << 16) | bitsOf(v, 72, 16)) >>> 0;
    case 56:
      return ((bitsOf(v, 56, 8) << 24) | bitsOf(v, 72, 24)) >>> 0;
    case 64:
      return bitsOf(v, 72, 32);
    case 96:
      return bitsOf(v, 96, 32);
  }
}

/** Where the IPv4 address ends for each prefix length; the suffix after it must be zero. */
const RFC6052_V4_END: Readonly<Record<Rfc6052Length, number>> = { 32: 64, 40: 72, 48: 88, 56: 96, 64: 104, 96: 128 };

/**
 * The IPv4 value of `v` read with a translation prefix of `length`, or null when `v` is not laid out that way
 * (non-zero "u" octet or suffix) or carries no address at all (all zero: padding of a longer layout).
 */
function rfc6052Layout(v: bigint, length: Rfc6052Length): number | null {
  const end = RFC6052_V4_END[length];
  if (length !== 96 && bitsOf(v, 64, 8) !== 0) return null;
  if (end < 128 && (v & ((1n << BigInt(128 - end)) - 1n)) !== 0n) return null;
  const value = rfc6052Ipv4(v, length);
  return value === 0 ? null : value;
}

const low32 = (v: bigint): number => bitsOf(v, 96, 32);

/**
 * IPv6 ranges that carry an IPv4 address a packet may end up at, and how to read it. Every candidate is
 * judged, so in a range whose operator picks the prefix length (local-use NAT64) each consistent layout is.
 */
const EMBEDDING_V4: readonly { cidr: Cidr; extract: readonly ((v: bigint) => number | null)[] }[] = [
  { cidr: parseCidr('::ffff:0:0/96') as Cidr, extract: [low32] }, // IPv4-mapped (RFC 4291 §2.5.5.2)
  { cidr: parseCidr('::ffff:0:0:0/96') as Cidr, extract: [low32] }, // SIIT IPv4-translated (RFC 6145)
  { cidr: parseCidr('::/96') as Cidr, extract: [low32] }, // IPv4-compatible (deprecated; `::127.0.0.1`)
  { cidr: parseCidr('64:ff9b::/96') as Cidr, extract: [low32] }, // NAT64 well-known prefix (RFC 6052)
  {
    // Local-use NAT64 (RFC 8215): the operator picks a /48…/96 inside it.
    cidr: parseCidr('64:ff9b:1::/48') as Cidr,
    extract: ([48, 56, 64, 96] as const).map((length) => (v: bigint) => rfc6052Layout(v, length)),
  },
  { cidr: parseCidr('2002::/16') as Cidr, extract: [(v) => bitsOf(v, 16, 32)] }, // 6to4 (RFC 3056)
  {
    // Teredo (RFC 4380): server IPv4 in bits 32–63, client IPv4 in the low 32 bits, inverted.
    cidr: parseCidr('2001::/32') as Cidr,
    extract: [(v) => bitsOf(v, 32, 32), (v) => ~bitsOf(v, 96, 32) >>> 0],
  },
];

/** Every IPv4 address `address` embeds by a standard IPv6 transition form (none for an IPv4 address). */
export function embeddedIpv4(address: IpAddress): number[] {
  if (address.family !== 6) return [];
  const found: number[] = [];
  for (const { cidr, extract } of EMBEDDING_V4) {
    if (!cidrContains(cidr, address)) continue;
    for (const read of extract) {
      const value = read(address.value);
      if (value !== null) found.push(value);
    }
  }
  return found;
}

/** Names that reach metadata services or the local host without ever being resolved by public DNS. */
const FORBIDDEN_NAMES: ReadonlyMap<string, string> = new Map([
  ['metadata', 'a cloud metadata name'],
  ['metadata.google.internal', 'a cloud metadata name'],
  ['metadata.goog', 'a cloud metadata name'],
  ['instance-data', 'a cloud metadata name'],
  ['instance-data.ec2.internal', 'a cloud metadata name'],
  ['metadata.tencentyun.com', 'a cloud metadata name'],
  ['localhost', 'a loopback name'],
]);

/** Why `address` may not be a gateway, or null when it may. */
function forbiddenAddressReason(address: IpAddress): string | null {
  for (const entry of FORBIDDEN) if (cidrContains(entry.cidr, address)) return entry.label;
  for (const value of embeddedIpv4(address)) {
    const reason = forbiddenAddressReason({ family: 4, value });
    if (reason !== null) return `${reason} in IPv6 form`;
  }
  return null;
}

/** Why a host name may not be a gateway, or null. `name` is lower case without a trailing dot. */
function forbiddenNameReason(name: string): string | null {
  return FORBIDDEN_NAMES.get(name) ?? (name.endsWith('.localhost') ? 'a loopback name' : null);
}

/** `PORTCULLIS_ALLOW_GATEWAY_HOSTS`, parsed. */
export interface HostAllowList {
  names: ReadonlySet<string>;
  ranges: readonly Cidr[];
  /**
   * Exact `address:port` endpoints (IPv6 in brackets) let through internally — the emulated lab's own
   * loopback emulator — without opening the whole host. Never read from the environment.
   */
  endpoints?: ReadonlySet<string>;
}

export const EMPTY_ALLOW_LIST: HostAllowList = { names: new Set(), ranges: [] };

/** `allow` plus the one endpoint `host:port` (an address literal). */
export function withAllowedEndpoint(allow: HostAllowList, host: string, port: number): HostAllowList {
  return { ...allow, endpoints: new Set([...(allow.endpoints ?? []), endpointKey(host, port)]) };
}

function endpointKey(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function urlPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function normalizeHostName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Parses a comma list of hostnames, addresses and CIDRs. A bad entry throws, naming the variable, so a
 * misconfiguration stops the server at start rather than silently allowing nothing (or everything).
 */
export function parseHostAllowList(
  text: string | undefined,
  variable = 'PORTCULLIS_ALLOW_GATEWAY_HOSTS',
): HostAllowList {
  const names = new Set<string>();
  const ranges: Cidr[] = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const bare = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
    if (parseIp(bare.split('/')[0] ?? '') !== null) {
      const result = parseCidrResult(bare);
      if (!result.ok) throw new Error(`${variable}: ${JSON.stringify(entry)}: ${result.reason}`);
      ranges.push(result.cidr);
    } else if (
      /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(entry)
    ) {
      names.add(normalizeHostName(entry));
    } else {
      throw new Error(`${variable}: ${JSON.stringify(entry)} is not a hostname, address or CIDR`);
    }
  }
  return { names, ranges };
}

/** Resolves a name to every address it has (as `dns.lookup(name, {all: true})` does). */
export type HostResolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });

interface GatewayHostOptions {
  allowHosts?: HostAllowList;
  resolve?: HostResolver;
  /** The input field named in errors. Default `url`. */
  field?: string;
  /**
   * Schemes besides http/https the gateway's vendor declares (`VendorDescriptor.urlSchemes`): a `network` scheme
   * names a host, checked like any other; a `local` scheme names this host and carries none (nothing to check).
   */
  schemes?: { network: readonly string[]; local: readonly string[] };
}

interface CheckedGatewayUrl {
  url: URL;
  /** Host as it appears in the URL, brackets removed for IPv6. */
  host: string;
  /** The addresses checked (the literal, or every resolved address); empty for an allow-listed name. */
  addresses: string[];
  /** The host passed only because the allow-list names it. */
  allowListed: boolean;
}

function isAllowedAddress(address: IpAddress, allow: HostAllowList): boolean {
  return allow.ranges.some((cidr) => cidrContains(cidr, address));
}

/**
 * Validates a gateway URL. Resolves the host (unless it is an address literal or allow-listed by name) and
 * checks every address. Throws `ValidationError` on `field` (default `url`) with the reason; the message names
 * the host but never repeats the whole URL (it could carry a secret in its path or query).
 */
export async function checkGatewayHost(
  text: string,
  options: GatewayHostOptions = {},
): Promise<CheckedGatewayUrl> {
  const field = options.field ?? 'url';
  const allow = options.allowHosts ?? EMPTY_ALLOW_LIST;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(
      field,
      `${field} must be an absolute http:// or https:// URL, e.g. https://192.0.2.1`,
    );
  }
  const scheme = url.protocol.slice(0, -1);
  if (options.schemes?.local.includes(scheme)) {
    if (url.host !== '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '') {
      throw new ValidationError(field, `${field} ${scheme}:// names this host and takes nothing after it`);
    }
    return { url, host: '', addresses: [], allowListed: true };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && !options.schemes?.network.includes(scheme)) {
    const extra = [...(options.schemes?.network ?? []), ...(options.schemes?.local ?? [])];
    throw new ValidationError(
      field,
      `${field} must use ${['http', ...extra].join(', ')} or https, not ${scheme.slice(0, 16)}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ValidationError(
      field,
      `${field} must not carry a user name or password; give credentials in their own fields`,
    );
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new ValidationError(field, `${field} has no host`);

  // WHATWG URL parsing already turned every IPv4 spelling (`2130706433`, `0x7f.1`) into dotted quad.
  const literal = parseIp(host);
  if (literal !== null) {
    if (allow.endpoints?.has(endpointKey(host, urlPort(url)))) {
      return { url, host, addresses: [host], allowListed: true };
    }
    if (!isAllowedAddress(literal, allow)) {
      const reason = forbiddenAddressReason(literal);
      if (reason !== null)
        throw new ValidationError(
          field,
          `${field} host ${host} is ${reason}, which is not allowed for a gateway`,
        );
    }
    return { url, host, addresses: [host], allowListed: isAllowedAddress(literal, allow) };
  }

  const name = normalizeHostName(host);
  if (allow.names.has(name)) return { url, host, addresses: [], allowListed: true };
  const nameReason = forbiddenNameReason(name);
  if (nameReason !== null)
    throw new ValidationError(
      field,
      `${field} host ${host} is ${nameReason}, which is not allowed for a gateway`,
    );

  let resolved: readonly { address: string }[];
  try {
    resolved = await (options.resolve ?? systemResolver)(name);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new ValidationError(
      field,
      `${field} host ${host} could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`,
    );
  }
  if (resolved.length === 0) throw new ValidationError(field, `${field} host ${host} resolved to no address`);
  let allowListed = false;
  for (const { address } of resolved) {
    const parsed = parseIp(address);
    if (parsed === null)
      throw new ValidationError(field, `${field} host ${host} resolved to an unusable address`);
    if (isAllowedAddress(parsed, allow)) {
      allowListed = true;
      continue;
    }
    const reason = forbiddenAddressReason(parsed);
    if (reason !== null) {
      throw new ValidationError(
        field,
        `${field} host ${host} resolves to ${address}, ${reason}, which is not allowed for a gateway`,
      );
    }
  }
  return { url, host, addresses: resolved.map((entry) => entry.address), allowListed };
}

/**
 * A `dns.lookup`-compatible function for connection pools (undici `connect.lookup`, `net.connect({lookup})`)
 * that refuses forbidden addresses at connect time, closing the window between validation and use.
 */
export function guardedLookup(allow: HostAllowList = EMPTY_ALLOW_LIST) {
  return (
    hostname: string,
    options: LookupAllOptions | object,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const wantAll = (options as { all?: boolean }).all === true;
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, wantAll ? [] : '', undefined);
      const name = normalizeHostName(hostname);
      if (!allow.names.has(name)) {
        for (const entry of addresses) {
          const parsed = parseIp(entry.address);
          if (parsed !== null && isAllowedAddress(parsed, allow)) continue;
          const reason = parsed === null ? 'unusable' : forbiddenAddressReason(parsed);
          if (reason !== null) {
            const refused: NodeJS.ErrnoException = new Error(
              `refusing to connect to ${hostname}: it resolves to ${entry.address}, ${reason}`,
            );
            refused.code = 'ESSRFBLOCKED';
            return callback(refused, wantAll ? [] : '', undefined);
          }
        }
      }
      const first = addresses[0];
      if (wantAll) return callback(null, addresses);
      if (first === undefined)
        return callback(
          Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
          '',
          undefined,
        );
      callback(null, first.address, first.family);
    });
  };
}
