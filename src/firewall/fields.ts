/**
 * @module Field checks of the normalized firewall tables (rules, NAT, VPN). Each failure is a
 * `ValidationError` naming the API field. Addresses are `any`, an IP address, a CIDR prefix (host bits must be
 * zero) or an alias name, each optionally negated with `!`; addresses and prefixes are stored in canonical
 * text (RFC 5952 for IPv6). Ports are `any`, a port, a range `low-high` or an alias name, and only make sense
 * for TCP/UDP (docs/firewall.md, ADR 0120). The normalized tables know no vendor: an alias name here only has
 * the shape every vendor accepts; the device's own naming rules (its descriptor's `listNaming`) apply when a
 * rule is deployed to it.
 */
import { ValidationError } from '../errors.ts';
import { formatCidr, normalizeIp, parseCidrResult } from '../net/ip.ts';

export const RULE_ACTIONS = ['allow', 'deny', 'reject', 'log'] as const;
export const NAT_TYPES = ['snat', 'dnat', 'masquerade', 'redirect'] as const;
export const VPN_TYPES = ['ipsec', 'openvpn', 'wireguard', 'l2tp'] as const;
export const VPN_STATUSES = ['up', 'down', 'error'] as const;
export const IDS_SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const LOG_ACTIONS = ['pass', 'block', 'reject'] as const;
/** Protocols a normalized rule may name (the rule editors' list, docs/firewall.md), lower-case. */
export const PROTOCOLS = [
  'any', 'tcp', 'udp', 'tcp/udp', 'icmp', 'icmpv6', 'esp', 'ah', 'gre', 'etherip', 'ipv6', 'igmp', 'pim',
  'ospf', 'sctp', 'carp', 'pfsync',
] as const;
/** Protocols whose packets have ports. */
const PORTED = new Set<string>(['tcp', 'udp', 'tcp/udp', 'sctp']);

export function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(field, `${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw new ValidationError(field, `${field} must be at most ${max} characters`);
  if (/\p{Cc}/u.test(trimmed)) throw new ValidationError(field, `${field} must not contain control characters`);
  return trimmed;
}

export function requireDescription(field: string, value: unknown): string {
  return text(field, value, 1000);
}

/** Interface network / address keywords (`lan`, `lanip`, `opt2ip`) and `(self)`. */
const INTERFACE_TOKEN = /^(?:(?:wan|lan|opt\d{1,3})(?:ip)?|\(self\))$/;

/** A name every vendor's alias / address-list rules accept: letters, digits and `_`, not all digits. */
const NEUTRAL_ALIAS_NAME = /^(?![0-9]+$)[A-Za-z0-9_]{1,31}$/;

function isAliasName(name: string): boolean {
  return NEUTRAL_ALIAS_NAME.test(name);
}

/** `any` | [!]address | [!]prefix | [!]alias → canonical text. */
export function requireAddress(field: string, value: unknown, { allowAny = true } = {}): string {
  const raw = text(field, value, 200);
  if (raw === '') throw new ValidationError(field, `${field} must not be empty`);
  if (raw.toLowerCase() === 'any') {
    if (!allowAny) throw new ValidationError(field, `${field} must be an address, a prefix or an alias name`);
    return 'any';
  }
  const negated = raw.startsWith('!');
  const body = negated ? raw.slice(1) : raw;
  const bang = negated ? '!' : '';
  if (/^[0-9a-f:.]+(\/\d+)?$/i.test(body) && /[.:]/.test(body)) {
    if (!body.includes('/')) {
      const ip = normalizeIp(body);
      if (ip === null) throw new ValidationError(field, `${field}: "${body}" is not an IPv4 or IPv6 address`);
      return bang + ip;
    }
    const parsed = parseCidrResult(body, { strict: true });
    if (!parsed.ok) throw new ValidationError(field, `${field}: ${parsed.reason}`);
    return bang + formatCidr(parsed.cidr);
  }
  if (INTERFACE_TOKEN.test(body) || isAliasName(body)) return bang + body;
  throw new ValidationError(
    field,
    `${field} must be any, an IP address, a CIDR prefix, an interface network (lan, lanip, …) or an alias name`,
  );
}

function portNumber(field: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new ValidationError(field, `${field}: "${text}" is not a port number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new ValidationError(field, `${field}: port ${port} is out of range 1-65535`);
  return port;
}

/** `any` | port | `low-high` | alias → canonical text (`low-high` with low ≤ high; `n-n` becomes `n`). */
export function requirePort(field: string, value: unknown): string {
  if (typeof value === 'number') return requirePort(field, String(value));
  const raw = text(field, value, 100);
  if (raw === '') throw new ValidationError(field, `${field} must not be empty`);
  if (raw.toLowerCase() === 'any') return 'any';
  const range = /^(\d+)\s*[-:]\s*(\d+)$/.exec(raw);
  if (range) {
    const low = portNumber(field, range[1] as string);
    const high = portNumber(field, range[2] as string);
    if (low > high) throw new ValidationError(field, `${field}: range ${low}-${high} is reversed`);
    return low === high ? String(low) : `${low}-${high}`;
  }
  if (/^\d+$/.test(raw)) return String(portNumber(field, raw));
  if (isAliasName(raw)) return raw;
  throw new ValidationError(field, `${field} must be any, a port, a range low-high or an alias name`);
}

export function requireProtocol(field: string, value: unknown): (typeof PROTOCOLS)[number] {
  return requireOneOf(field, typeof value === 'string' ? value.toLowerCase() : value, PROTOCOLS);
}

/** Ports other than `any` need a protocol that has ports. */
export function checkPortsFitProtocol(protocol: string, ports: Record<string, string | null | undefined>): void {
  if (PORTED.has(protocol)) return;
  for (const [field, port] of Object.entries(ports)) {
    if (port !== undefined && port !== null && port !== 'any') {
      throw new ValidationError(field, `${field} needs protocol tcp, udp, tcp/udp or sctp (protocol is ${protocol})`);
    }
  }
}

/** An interface / zone name (`wan`, `lan`, `opt1`, `igb0.10`, a zone label), or null. */
export function requireZone(field: string, value: unknown): string | null {
  if (value === null) return null;
  const zone = text(field, value, 32);
  if (zone === '') return null;
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(zone)) {
    throw new ValidationError(field, `${field} must be an interface or zone name (letters, digits, _ . -)`);
  }
  return zone;
}

export function requireInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `${field} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A list of prefixes (VPN local/remote networks), canonical. */
export function requirePrefixList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `${field} must be a list of CIDR prefixes`);
  if (value.length > 256) throw new ValidationError(field, `${field} must list at most 256 prefixes`);
  return value.map((item, i) => {
    if (typeof item !== 'string') throw new ValidationError(`${field}.${i}`, `${field}.${i} must be a string`);
    const parsed = parseCidrResult(item.trim(), { strict: true });
    if (!parsed.ok) throw new ValidationError(`${field}.${i}`, `${field}.${i}: ${parsed.reason}`);
    return formatCidr(parsed.cidr);
  });
}

/** A host address or a DNS name (VPN endpoints), or null. */
export function requireEndpoint(field: string, value: unknown): string | null {
  if (value === null) return null;
  const raw = text(field, value, 253);
  if (raw === '') return null;
  const ip = normalizeIp(raw);
  if (ip !== null) return ip;
  if (/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(raw)) {
    return raw.toLowerCase();
  }
  throw new ValidationError(field, `${field} must be an IP address or a DNS name`);
}
