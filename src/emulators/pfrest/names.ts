/**
 * @module pfSense name and address predicates the alias model relies on (pfrest-contract.md §8): reserved pf
 * words, `is_validaliasname`, `is_ipaddr`, `is_fqdn`, `is_subnet`, `is_port`, `is_portrange`.
 *
 * The reserved list is pf's grammar keywords plus pfSense's reserved tables and VPN names; the emulator adds the
 * interface ids (upper-cased, and `<ID>__NETWORK`) at check time. Service and protocol names are the common
 * entries of FreeBSD's /etc/services and /etc/protocols (getservbyname / getprotobyname).
 */
import ipaddr from 'ipaddr.js';

const PF_KEYWORDS = `all any anchor antispoof binat binat-anchor bitmask block block-policy const debug drop dup-to
 fastroute file flags for fragment from group hostid icmp-type icmp6-type in inet inet6 keep label limit load log
 loginterface max-mss max-src-conn max-src-conn-rate max-src-nodes max-src-states min-ttl modulate nat nat-anchor no
 no-df no-route on optimization os out pass persist port prio priority proto queue quick random random-id rdr
 rdr-anchor reassemble return return-icmp return-icmp6 return-rst round-robin route-to reply-to rule
 ruleset-optimization scrub self set skip source-hash source-track state state-policy static-port sticky-address
 synproxy table tag tagged timeout to tos urpf-failed user allow-opts altq cbq hfsc priq codelq bandwidth
 qlimit tbrsize ether IPsec OpenVPN L2TP pppoe pptp enc0 openvpn ipsec l2tp
 bogons bogonsv6 sshguard snort2c virusprot vpn_networks negate_networks tonatsubnets`;

export const PF_RESERVED: ReadonlySet<string> = new Set(PF_KEYWORDS.split(/\s+/).filter(Boolean));

const SERVICES = `echo discard daytime ftp-data ftp ssh telnet smtp time domain whois tftp gopher finger http www
 kerberos pop2 pop3 sunrpc auth nntp ntp netbios-ns netbios-dgm netbios-ssn imap snmp snmptrap bgp irc ldap https
 microsoft-ds kpasswd isakmp syslog printer submission ldaps rsync ftps imaps pop3s socks openvpn radius
 radius-acct nfsd pptp l2tp mysql postgresql rdp sip sips xmpp-client xmpp-server http-alt squid`;
const SERVICE_NAMES: ReadonlySet<string> = new Set(SERVICES.split(/\s+/).filter(Boolean));

const PROTOCOLS = `ip icmp igmp ggp ipencap st tcp egp pup udp hmp xns-idp rdp iso-tp4 xtp ddp idpr-cmtp ipv6
 ipv6-route ipv6-frag idrp rsvp gre esp ah ipv6-icmp ipv6-nonxt ipv6-opts ospf pim carp pfsync sctp vrrp l2tp
 mobility-header udplite`;
const PROTOCOL_NAMES: ReadonlySet<string> = new Set(PROTOCOLS.split(/\s+/).filter(Boolean));

/** getservbyname for tcp/udp (case-sensitive, as in libc). */
export function isServiceName(name: string): boolean {
  return SERVICE_NAMES.has(name);
}

/** getprotobyname: official lower-case names and their upper-case aliases (FreeBSD /etc/protocols). */
export function isProtocolName(name: string): boolean {
  return PROTOCOL_NAMES.has(name) || (PROTOCOL_NAMES.has(name.toLowerCase()) && name === name.toUpperCase());
}

/** pfSense `is_validaliasname`: false for only-underscores, protocol names and service names. */
export function isValidAliasName(name: string): boolean {
  if (/^_+$/.test(name) || isProtocolName(name) || isServiceName(name)) return false;
  return /^[A-Za-z0-9_]+$/.test(name) && name.length < 32;
}

/** PHP `is_numeric` for strings: optional sign, digits with optional decimals and exponent, surrounding space. */
export function isPhpNumeric(value: string): boolean {
  return /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(value);
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
