/**
 * @module OPNsense's alias name rule (opnsense/core `models/OPNsense/Firewall/FieldTypes/AliasNameField.php`;
 * docs/reference/opnsense-api.md §3), checked before a create so the operator gets the reason without a round
 * trip. The gateway checks again (uniqueness, service and protocol names from its own databases).
 */

/** The name regex: a letter or one underscore first, then letters, digits and underscores, fewer than 32. */
const NAME = /^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$/;

/** pf's reserved keywords, as AliasNameField lists them (from pfctl's parse.y). */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    'all allow-opts altq anchor antispoof any bandwidth binat binat-anchor bitmask block block-policy buckets cbq ' +
    'code codelq crop debug divert-reply divert-to drop drop-ovl dup-to fail-policy fairq fastroute file ' +
    'fingerprints flags floating flush for fragment from global group hfsc hogs hostid icmp-type icmp6-type ' +
    'if-bound in include inet inet6 interval keep label limit linkshare load log loginterface max max-mss ' +
    'max-src-conn max-src-conn-rate max-src-nodes max-src-states min-ttl modulate nat nat-anchor no no-df ' +
    'no-route no-sync on optimization os out overload pass port prio priority priq probability proto qlimit ' +
    'queue quick random random-id rdr rdr-anchor realtime reassemble reply-to require-order return return-icmp ' +
    'return-icmp6 return-rst round-robin route route-to rtable rule ruleset-optimization scrub set set-tos skip ' +
    'sloppy source-hash source-track state state-defaults state-policy static-port sticky-address synproxy table ' +
    'tag tagged target tbrsize timeout to tos ttl upperlimit urpf-failed user'
  ).split(' '),
);

/**
 * Aliases every OPNsense has (`static_aliases/core.json`), whose names count for uniqueness; the per-interface
 * `__<if>_network` aliases are refused by the name regex already (no `__` prefix).
 */
export const BUILTIN_ALIASES: ReadonlySet<string> = new Set(['bogons', 'bogonsv6', 'virusprot', 'sshlockout']);

/**
 * Common protocol and service names (`getprotobyname`, `getservbyname` on the gateway refuse them); the full
 * lists live in the gateway's /etc/protocols and /etc/services, so this catches only the usual ones.
 */
const PROTOCOL_OR_SERVICE = new Set([
  'ip', 'icmp', 'igmp', 'tcp', 'udp', 'gre', 'esp', 'ah', 'ipv6', 'ospf', 'pim', 'carp', 'pfsync', 'sctp',
  'http', 'https', 'ssh', 'ftp', 'smtp', 'domain', 'ntp', 'snmp', 'telnet', 'imap', 'pop3', 'ldap', 'www',
]);

export type AliasNameCheck = { ok: true } | { ok: false; message: string };

export function checkAliasName(name: string): AliasNameCheck {
  if (!NAME.test(name)) {
    return {
      ok: false,
      message: `Alias name \`${name}\` must start with a letter or a single underscore, be fewer than 32 characters and hold only letters, digits and underscores.`,
    };
  }
  if (RESERVED_WORDS.has(name)) return { ok: false, message: `Alias name \`${name}\` is a reserved pf keyword.` };
  if (BUILTIN_ALIASES.has(name)) return { ok: false, message: `Alias name \`${name}\` is a built-in OPNsense alias.` };
  if (PROTOCOL_OR_SERVICE.has(name.toLowerCase())) {
    return { ok: false, message: `Alias name \`${name}\` is a protocol or service name.` };
  }
  return { ok: true };
}
