/**
 * @module pfSense alias-name rules, checked before anything is sent to a device, in the order pfRest checks them
 * so the first failure reported is the one the device would report (docs/adr/0072-alias-name-validation.md).
 *
 * Sources: pfRest v2.10.0 `Validators/FilterNameValidator.inc` and `Models/FirewallAlias.inc` (`name` field:
 * FilterNameValidator, then maximum length 31, then `validate_name` → `is_validaliasname`); pfSense RELENG_2_7_2
 * `globals.inc` (`$pf_reserved_keywords`, `$reserved_table_names`), `pfsense-utils.inc` (`get_pf_reserved`) and
 * `util.inc` (`is_validaliasname`). Each failure carries the pfRest response id; the knoc service validates with this
 * module (the pfRest emulator keeps its own copy of the rules, on purpose).
 */
import { readFileSync } from 'node:fs';

type AliasNameErrorId =
  | 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS'
  | 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED'
  | 'FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG'
  | 'FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL'
  | 'FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE'
  | 'LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT'
  | 'INVALID_FIREWALL_ALIAS_NAME';

export type AliasNameCheck = { ok: true } | { ok: false; id: AliasNameErrorId; message: string };

/**
 * pf keywords from `$pf_reserved_keywords` that can pass the character check (the hyphenated ones, such as
 * `allow-opts`, are rejected by rule 1 before the reserved-name rule is reached).
 */
// biome-ignore format: a word table reads better packed
const PF_RESERVED_KEYWORDS: readonly string[] = [
  'all', 'altq', 'anchor', 'antispoof', 'any', 'bandwidth', 'binat', 'bitmask', 'block', 'buckets', 'cbq',
  'code', 'codelq', 'crop', 'debug', 'dnpipe', 'dnqueue', 'drop', 'ether', 'fairq', 'fastroute', 'file',
  'fingerprints', 'flags', 'floating', 'flush', 'for', 'fragment', 'from', 'global', 'group', 'hfsc', 'hogs',
  'hostid', 'in', 'include', 'inet', 'inet6', 'interval', 'keep', 'keepcounters', 'l3', 'label', 'limit',
  'linkshare', 'load', 'log', 'loginterface', 'match', 'max', 'modulate', 'nat', 'no', 'on', 'optimization',
  'os', 'out', 'overload', 'pass', 'port', 'prio', 'priority', 'priq', 'probability', 'proto', 'qlimit',
  'queue', 'quick', 'random', 'rdr', 'realtime', 'reassemble', 'return', 'ridentifier', 'route', 'rtable',
  'rule', 'scrub', 'set', 'skip', 'sloppy', 'state', 'syncookies', 'synproxy', 'table', 'tag', 'tagged',
  'target', 'tbrsize', 'timeout', 'to', 'tos', 'ttl', 'upperlimit', 'user',
  // "Original tokens in fuzzy format"
  'allowopts', 'binatanchor', 'blockpolicy', 'divertreply', 'divertto', 'duptoicmptype', 'icmp6type',
  'ifboundmaxmss', 'maxsrcconn', 'maxsrcconnrate', 'maxsrcnodes', 'maxsrcstates', 'minttl', 'natanchornodf',
  'noroute', 'nosync', 'randomidrdranchor', 'replyto', 'requireorderreturnicmp', 'returnicmp6',
  'returnrstroundrobinrouteto', 'ruleset_optimization', 'settos', 'sourcehash', 'sourcetrackstatedefaults',
  'statepolicy', 'staticport', 'stickyaddress', 'urpffailed', 'dropovl', 'failpolicy', 'mapeportset',
  // "Custom tokens"
  'arrow', 'codel', 'error', 'filename', 'fragcrop', 'fragdrop', 'IPsec', 'L2TP', 'maximummin', 'OpenVPN',
  'pppoe', 'pptp',
];

// biome-ignore format: a word table reads better packed
const RESERVED_TABLE_NAMES: readonly string[] = [
  'bogons', 'bogonsv6', 'negate_networks', 'snort2c', 'sshguard', 'tonatsubnets', 'virusprot', 'vpn_networks',
];

/**
 * Names pfSense's `getprotobyname`/`getservbyname` know on every install and that the reference names
 * (`tcp`, `udp`, `icmp`, `gre`, `esp`, `ip`, `http`, `https`, `ssh`, `smtp`, `domain`, `ntp`), plus the
 * examples of pfSense's own message (`pop3`, `tftp`, `openvpn`). The host's service and protocol databases
 * are added to these (see `systemServiceAndProtocolNames`).
 */
// biome-ignore format: a word table reads better packed
const CORE_SERVICE_AND_PROTOCOL_NAMES: readonly string[] = [
  'ip', 'icmp', 'tcp', 'udp', 'gre', 'esp', 'ah', 'ipv6', 'igmp', 'pim', 'ospf', 'carp', 'pfsync', 'http',
  'https', 'ssh', 'smtp', 'domain', 'ntp', 'pop3', 'tftp', 'openvpn', 'ftp', 'telnet', 'imap', 'snmp',
];

/** What a device adds to the reserved names: its interface ids and interface-group names. */
export interface AliasNameContext {
  /** Interface ids (`wan`, `lan`, `opt1`…). Default: `wan`, `lan` and any `opt<N>` (see the ADR). */
  interfaceIds?: readonly string[];
  /** Interface group names. */
  interfaceGroups?: readonly string[];
  /** Service and protocol names (`getservbyname`/`getprotobyname`); default: core list + host databases. */
  serviceAndProtocolNames?: ReadonlySet<string>;
}

const OPT_INTERFACE = /^opt[0-9]+$/;
const OPT_INTERFACE_UPPER = /^OPT[0-9]+(__NETWORK)?$/;

/** Names from the `/etc/services` and `/etc/protocols` databases of this host (names and aliases). */
function readNameDatabase(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const fields = (line.split('#')[0] ?? '').trim().split(/\s+/);
    // services: name port/proto aliases…; protocols: name number aliases…
    if (fields.length < 2 || fields[0] === '') continue;
    names.push(fields[0] as string, ...fields.slice(2));
  }
  return names;
}

let defaultNames: ReadonlySet<string> | undefined;

/** The default service and protocol names: the core list plus this host's databases (read once). */
export function systemServiceAndProtocolNames(): ReadonlySet<string> {
  defaultNames ??= new Set([
    ...CORE_SERVICE_AND_PROTOCOL_NAMES,
    ...readNameDatabase('/etc/services'),
    ...readNameDatabase('/etc/protocols'),
  ]);
  return defaultNames;
}

function fail(id: AliasNameErrorId, message: string): AliasNameCheck {
  return { ok: false, id, message };
}

/** PHP `is_numeric` restricted to the characters rule 1 lets through: digits, optionally `e`/`E` and digits. */
function isPhpNumeric(name: string): boolean {
  return /^[0-9]+([eE][0-9]+)?$/.test(name);
}

/**
 * Checks an alias name against pfSense's rules, first failure wins:
 * 1. characters `A-Z a-z 0-9 _` only; 2. not reserved (pf keywords, reserved tables, each interface id upper-cased
 * and `<ID>__NETWORK`, interface groups; case-sensitive); 3. no `pkg_` prefix; 4. not numeric (`123`, `1e5`);
 * 5. not an interface id or group; 6. at most 31 characters; 7. `is_validaliasname`: not only underscores and
 * not a protocol or TCP/UDP service name.
 */
export function checkAliasName(name: string, context: AliasNameContext = {}): AliasNameCheck {
  const quoted = JSON.stringify(name);
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    return fail(
      'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS',
      `alias name ${quoted} may contain only A-Z, a-z, 0-9 and _`,
    );
  }
  const interfaceIds = context.interfaceIds ?? ['wan', 'lan'];
  const groups = context.interfaceGroups ?? [];
  const isInterface = (n: string) =>
    interfaceIds.includes(n) || (context.interfaceIds === undefined && OPT_INTERFACE.test(n));
  const reservedForInterfaces = [...interfaceIds, ...groups].flatMap((id) => [
    id.toUpperCase(),
    `${id.toUpperCase()}__NETWORK`,
  ]);
  if (
    PF_RESERVED_KEYWORDS.includes(name) ||
    RESERVED_TABLE_NAMES.includes(name) ||
    reservedForInterfaces.includes(name) ||
    (context.interfaceIds === undefined && OPT_INTERFACE_UPPER.test(name))
  ) {
    return fail('FILTER_NAME_VALIDATOR_RESERVED_NAME_USED', `alias name ${quoted} is reserved by pfSense`);
  }
  if (name.startsWith('pkg_')) {
    return fail('FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG', `alias name ${quoted} cannot start with pkg_`);
  }
  if (isPhpNumeric(name)) {
    return fail('FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL', `alias name ${quoted} cannot be numerical`);
  }
  if (isInterface(name) || groups.includes(name)) {
    return fail(
      'FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE',
      `alias name ${quoted} is in use by an interface`,
    );
  }
  if (name.length > 31) {
    return fail('LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT', `alias name ${quoted} is longer than 31 characters`);
  }
  const services = context.serviceAndProtocolNames ?? systemServiceAndProtocolNames();
  if (/^_+$/.test(name) || services.has(name)) {
    return fail(
      'INVALID_FIREWALL_ALIAS_NAME',
      `alias name ${quoted} is only underscores or a protocol or service name`,
    );
  }
  return { ok: true };
}
