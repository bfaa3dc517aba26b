/**
 * @module Client address resolution for the portal and the knock endpoint (docs/adr/0070-ssrf-and-client-ip.md).
 *
 * The client is the socket peer. `X-Forwarded-For` is believed only when that peer is a proxy listed in
 * `PORTCULLIS_TRUST_PROXY` (CIDRs): the header is walked from the right, skipping hops that are themselves
 * trusted proxies, and the first untrusted hop is the client. A v4-mapped IPv6 address (`::ffff:192.0.2.7`, as
 * a dual-stack socket reports IPv4 peers) is reported in its IPv4 form, and zones are dropped.
 */
import { ValidationError } from '../errors.ts';
import { type Cidr, cidrContains, formatIp, parseCidrResult, parseIp, unmapIpv4 } from './ip.ts';

/** Canonical text of an address for access decisions: IPv4 for v4-mapped, RFC 5952 IPv6 without zone; null if not an IP. */
export function canonicalAddress(text: string): string | null {
  const parsed = parseIp(text);
  if (parsed === null) return null;
  const address = unmapIpv4(parsed);
  return address.family === 6 ? formatIp({ family: 6, value: address.value }) : formatIp(address);
}

/**
 * Parses `PORTCULLIS_TRUST_PROXY`: comma-separated CIDRs or addresses; empty or unset trusts no proxy.
 * A bad entry throws, naming the variable and the entry, so a misconfiguration stops the server at start.
 */
export function parseTrustedProxies(text: string | undefined, variable = 'PORTCULLIS_TRUST_PROXY'): Cidr[] {
  if (text === undefined) return [];
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const result = parseCidrResult(entry);
      if (!result.ok)
        throw new Error(`${variable}: ${JSON.stringify(entry)} is not a CIDR or address (${result.reason})`);
      return result.cidr;
    });
}

interface ClientAddressInput {
  /** `request.socket.remoteAddress`. */
  socketAddress: string | undefined;
  /** The `X-Forwarded-For` header as Node gives it (repeated headers may arrive joined or as a list). */
  forwardedFor?: string | readonly string[] | undefined;
}

interface ClientAddress {
  ip: string;
  source: 'socket' | 'x-forwarded-for';
}

/** Strips a port some proxies append (`192.0.2.1:5678`, `[2001:db8::1]:443`). */
function stripPort(hop: string): string {
  if (hop.startsWith('[')) {
    const close = hop.indexOf(']');
    return close < 0 ? hop : hop.slice(1, close);
  }
  const colon = hop.indexOf(':');
  return colon >= 0 && colon === hop.lastIndexOf(':') ? hop.slice(0, colon) : hop;
}

function isTrusted(ip: string, trusted: readonly Cidr[]): boolean {
  const address = parseIp(ip);
  return address !== null && trusted.some((range) => cidrContains(range, address));
}

/**
 * The client address of a request. Throws a `ValidationError` on field `x-forwarded-for` when a hop that has
 * to be believed is not an address (a trusted proxy sent garbage: refusing beats granting the proxy itself),
 * and an `Error` when the socket has no address (the connection is already gone).
 */
export function resolveClientAddress(input: ClientAddressInput, trusted: readonly Cidr[]): ClientAddress {
  const peer = input.socketAddress === undefined ? null : canonicalAddress(input.socketAddress);
  if (peer === null) throw new Error('the connection has no peer address');
  if (trusted.length === 0 || !isTrusted(peer, trusted) || input.forwardedFor === undefined) {
    return { ip: peer, source: 'socket' };
  }
  const header = typeof input.forwardedFor === 'string' ? input.forwardedFor : input.forwardedFor.join(',');
  const hops = header
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  let client = peer;
  let source: ClientAddress['source'] = 'socket';
  for (let i = hops.length - 1; i >= 0 && isTrusted(client, trusted); i--) {
    const hop = hops[i] as string;
    const ip = canonicalAddress(stripPort(hop));
    if (ip === null) {
      throw new ValidationError(
        'x-forwarded-for',
        `X-Forwarded-For hop ${JSON.stringify(hop.slice(0, 64))} is not an IP address`,
      );
    }
    client = ip;
    source = 'x-forwarded-for';
  }
  return { ip: client, source };
}
