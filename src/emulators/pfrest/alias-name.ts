/**
 * @module The pfSense box's own alias-name rules, as pfRest v2.10.0 applies them (docs/reference/pfrest-emulator.md
 * §2). Written from the upstream source, independently of the adapter's pre-check, so that a mistake in either
 * one shows up as a disagreement in test/pfsense/emulator-independence.test.ts.
 *
 * Order (first failure wins), pfRest `Models/FirewallAlias.inc:29-37` (name = StringField with FilterNameValidator,
 * then the LengthValidator StringField appends, `Fields/StringField.inc:126-129`) and `:85-95` (validate_name, run
 * after every field's own checks, `Core/Model.inc:1541-1575`):
 * 1. `Validators/FilterNameValidator.inc:28` characters; `:37` in get_pf_reserved(); `:45` `pkg_`; `:53`
 *    is_numeric; `:61` an interface id; `:78` an interface group (`:69`, the alias-id query, never matches a name);
 * 2. `Validators/LengthValidator.inc:47` more than 31 characters;
 * 3. pfSense `util.inc:1981-2014` is_validaliasname: only underscores or digits, `port`/`pass`, a protocol name,
 *    a TCP or UDP service name.
 */
import { isProtocolName, isServiceName } from './names.ts';

/**
 * pfSense `$pf_reserved_keywords` (pfsense/pfsense master 9363ac5b `src/etc/inc/globals.inc:248-273`), every token
 * as written there, hyphenated ones included: get_pf_reserved() returns them all.
 */
// biome-ignore format: a word table reads better packed
const PF_KEYWORDS: ReadonlySet<string> = new Set([
  'all', 'allow-opts', 'altq', 'anchor', 'antispoof', 'any', 'bandwidth', 'binat', 'binat-anchor', 'bitmask',
  'block', 'block-policy', 'buckets', 'cbq', 'code', 'codelq', 'crop', 'debug', 'divert-reply', 'divert-to',
  'dnpipe', 'dnqueue', 'drop', 'drop-ovl', 'dup-to', 'ether', 'fail-policy', 'fairq', 'fastroute', 'file',
  'fingerprints', 'flags', 'floating', 'flush', 'for', 'fragment', 'from', 'global', 'group', 'hfsc', 'hogs',
  'hostid', 'icmp-type', 'icmp6-type', 'if-bound', 'in', 'include', 'inet', 'inet6', 'interval', 'keep',
  'keepcounters', 'l3', 'label', 'limit', 'linkshare', 'load', 'log', 'loginterface', 'map-e-portset', 'match',
  'max', 'max-mss', 'max-src-conn', 'max-src-conn-rate', 'max-src-nodes', 'max-src-states', 'min-ttl', 'modulate',
  'nat', 'nat-anchor', 'no', 'no-df', 'no-route', 'no-sync', 'on', 'optimization', 'os', 'out', 'overload',
  'pass', 'port', 'prio', 'priority', 'priq', 'probability', 'proto', 'qlimit', 'queue', 'quick', 'random',
  'random-id', 'rdr', 'rdr-anchor', 'realtime', 'reassemble', 'reply-to', 'require-order', 'return', 'return-icmp',
  'return-icmp6', 'return-rst', 'ridentifier', 'round-robin', 'route', 'route-to', 'rtable', 'rule',
  'ruleset-optimization', 'scrub', 'set', 'set-tos', 'skip', 'sloppy', 'source-hash', 'source-track', 'state',
  'state-defaults', 'state-policy', 'static-port', 'sticky-address', 'syncookies', 'synproxy', 'table', 'tag',
  'tagged', 'target', 'tbrsize', 'timeout', 'to', 'tos', 'ttl', 'upperlimit', 'urpf-failed', 'user',
  'allowopts', 'binatanchor', 'blockpolicy', 'divertreply', 'divertto', 'duptoicmptype', 'icmp6type', 'ifboundmaxmss',
  'maxsrcconn', 'maxsrcconnrate', 'maxsrcnodes', 'maxsrcstates', 'minttl', 'natanchornodf', 'noroute', 'nosync',
  'randomidrdranchor', 'replyto', 'requireorderreturnicmp', 'returnicmp6', 'returnrstroundrobinrouteto',
  'ruleset_optimization', 'settos', 'sourcehash', 'sourcetrackstatedefaults', 'statepolicy', 'staticport',
  'stickyaddress', 'urpffailed', 'dropovl', 'failpolicy', 'mapeportset',
  'arrow', 'codel', 'error', 'filename', 'fragcrop', 'fragdrop', 'IPsec', 'L2TP', 'maximummin', 'OpenVPN',
  'pppoe', 'pptp',
]);

/** The keys of `$reserved_table_names` (same file, `:293-352`). */
// biome-ignore format: a word table reads better packed
const RESERVED_TABLES: ReadonlySet<string> = new Set([
  'bogons', 'bogonsv6', 'sshguard', 'snort2c', 'virusprot', 'vpn_networks', 'negate_networks', 'tonatsubnets',
]);

/** What the box knows that the rules depend on. */
export interface BoxNames {
  /** Configured interface ids (`wan`, `lan`, `opt1`…). */
  interfaceIds: readonly string[];
  /** Interface group names (`ifgroups/ifgroupentry/ifname`). */
  interfaceGroups: readonly string[];
}

export type AliasNameFailure = { id: string; message: string; late: boolean };

/**
 * get_pf_reserved() with no argument (pfsense-utils.inc:4489-4528): keywords, reserved tables and, for each
 * interface and interface group, `strtoupper($if)` and `strtoupper("{$if}__NETWORK")`. pfRest compares with a
 * case-sensitive in_array.
 */
function isReserved(name: string, box: BoxNames): boolean {
  if (PF_KEYWORDS.has(name) || RESERVED_TABLES.has(name)) return true;
  return [...box.interfaceIds, ...box.interfaceGroups].some(
    (i) => name === i.toUpperCase() || name === `${i}__NETWORK`.toUpperCase(),
  );
}

/** PHP is_numeric on a string that passed the character check: digits, optionally an exponent. */
function phpIsNumeric(name: string): boolean {
  return /^[0-9]+(?:[eE][0-9]+)?$/.test(name);
}

/**
 * The first rule `name` breaks, or null. `late` marks the validate_name() failure, which pfRest only reports after
 * the other fields passed their own checks.
 */
export function aliasNameFailure(name: string, box: BoxNames): AliasNameFailure | null {
  const early = (id: string, why: string): AliasNameFailure => ({
    id,
    message: `Field 'name' cannot be '${name}' because ${why}.`,
    late: false,
  });
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    return early(
      'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS',
      'it contains invalid characters. Only A-Z, a-z, 0-9, and _ are allowed',
    );
  }
  if (isReserved(name, box)) {
    return early('FILTER_NAME_VALIDATOR_RESERVED_NAME_USED', 'it is a name reserved by the system');
  }
  if (name.startsWith('pkg_'))
    return early('FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG', "it starts with 'pkg_'");
  if (phpIsNumeric(name)) return early('FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL', 'it is entirely numerical');
  if (box.interfaceIds.includes(name) || box.interfaceGroups.includes(name)) {
    return early('FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE', 'it is in use by an existing interface');
  }
  if (name.length > 31) {
    return {
      id: 'LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT',
      message: "Field 'name' exceeds the maximum character length of 31.",
      late: false,
    };
  }
  const invalid =
    /^_*$/.test(name) ||
    /^\d*$/.test(name) ||
    name === 'port' ||
    name === 'pass' ||
    isProtocolName(name) ||
    isServiceName(name);
  return invalid
    ? { id: 'INVALID_FIREWALL_ALIAS_NAME', message: `Invalid firewall alias name '${name}'.`, late: true }
    : null;
}
