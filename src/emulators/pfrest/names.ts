/**
 * @module pfSense address predicates the alias model relies on (docs/reference/pfrest-contract.md §8): `is_ipaddr`, `is_fqdn`,
 * `is_subnet`, `is_port`, `is_portrange`. Alias-name rules live in src/adapters/pfsense/alias-name.ts.
 *
 * Service names for `is_port` are the common entries of FreeBSD's /etc/services (getservbyname).
 */
import ipaddr from 'ipaddr.js';

const SERVICES = `echo discard daytime ftp-data ftp ssh telnet smtp time domain whois tftp gopher finger http www
 kerberos pop2 pop3 sunrpc auth nntp ntp netbios-ns netbios-dgm netbios-ssn imap snmp snmptrap bgp irc ldap https
 microsoft-ds kpasswd isakmp syslog printer submission ldaps rsync ftps imaps pop3s socks openvpn radius
 radius-acct nfsd pptp l2tp mysql postgresql rdp sip sips xmpp-client xmpp-server http-alt squid`;
const SERVICE_NAMES: ReadonlySet<string> = new Set(SERVICES.split(/\s+/).filter(Boolean));

/** getservbyname for tcp/udp (case-sensitive, as in libc). */
export function isServiceName(name: string): boolean {
  return SERVICE_NAMES.has(name);
}

export function isIpv4(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

export function isIpv6(value: string): boolean {
  const [address, scope] = value.split('%');
  if (address === undefined || !/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':')) return false;
  if (!ipaddr.IPv6.isValid(address)) return false;
  // A %scope is only meaningful on link-local addresses.
  return scope === undefined || (scope !== '' && ipaddr.IPv6.parse(address).range() === 'linkLocal');
}

/** `is_ipaddr`: IPv4 or IPv6 without a prefix. */
export function isIpAddr(value: string): boolean {
  return isIpv4(value) || isIpv6(value);
}

/** `is_subnet`: v4 `/0-32`, v6 `/0-128`. */
export function isSubnet(value: string): boolean {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  const prefix = Number(bits);
  if (isIpv4(address)) return prefix <= 32;
  return !address.includes('%') && isIpv6(address) && prefix <= 128;
}

const LABEL = /^(?:[a-z0-9_]|[a-z0-9_][a-z0-9_-]*[a-z0-9_])$/i;

/** `is_fqdn`: at least two labels, the last made of letters. */
export function isFqdn(value: string): boolean {
  const labels = value.split('.');
  if (labels.length < 2 || value.length > 255) return false;
  return (
    labels.every((l) => l.length <= 63 && LABEL.test(l)) && /^[a-z]+$/i.test(labels[labels.length - 1] ?? '')
  );
}

/** `is_port`: 1–65535 in digits, or a known service name. */
export function isPort(value: string): boolean {
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    return n >= 1 && n <= 65535;
  }
  return isServiceName(value);
}

/** `is_portrange`: `low:high` with a colon. */
export function isPortRange(value: string): boolean {
  const parts = value.split(':');
  return parts.length === 2 && parts.every((p) => /^[0-9]+$/.test(p) && isPort(p));
}
