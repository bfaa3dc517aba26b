/**
 * @module The alias model of the OPNsense emulator (docs/reference/opnsense-api.md §3): field validation as
 * `Alias.xml`, `AliasNameField.php` and `AliasContentField.php` do it, the read shapes of `get_item` (option
 * maps) and `search_item` (flat rows with `%field` descriptions), and how config content becomes pf table
 * entries on reconfigure.
 */
import ipaddr from 'ipaddr.js';
import { isFqdn, isIpAddr, isProtocolName, isServiceName, isSubnet } from '../pfrest/names.ts';
import type { OpnAlias, OpnInterface } from './state.ts';

/** `Alias.xml` type options, in order, with their descriptions. */
export const ALIAS_TYPES: Record<string, string> = {
  host: 'Host(s)',
  network: 'Network(s)',
  port: 'Port(s)',
  url: 'URL (IPs)',
  urltable: 'URL Table (IPs)',
  urljson: 'URL Table in JSON format (IPs)',
  geoip: 'GeoIP',
  networkgroup: 'Network group',
  mac: 'MAC address',
  asn: 'BGP ASN',
  dynipv6host: 'Dynamic IPv6 Host',
  authgroup: 'OpenVPN group',
  internal: 'Internal (automatic)',
  external: 'External (advanced)',
};

/** Writable fields of an alias (`Alias.xml` order); volatile statistics fields are read-only. */
export const ALIAS_FIELDS = [
  'enabled',
  'name',
  'type',
  'path_expression',
  'proto',
  'interface',
  'counters',
  'updatefreq',
  'content',
  'password',
  'username',
  'authtype',
  'expire',
  'categories',
  'description',
] as const;

const VOLATILE = [
  'current_items',
  'last_updated',
  'eval_nomatch',
  'eval_match',
  'in_block_p',
  'in_block_b',
  'in_pass_p',
  'in_pass_b',
  'out_block_p',
  'out_block_b',
  'out_pass_p',
  'out_pass_b',
] as const;

/** pf's reserved words (`AliasNameField.php`, from pfctl's parse.y). */
const RESERVED = new Set(
  `all allow-opts altq anchor antispoof any bandwidth binat binat-anchor bitmask block block-policy buckets cbq code
 codelq crop debug divert-reply divert-to drop drop-ovl dup-to fail-policy fairq fastroute file fingerprints flags
 floating flush for fragment from global group hfsc hogs hostid icmp-type icmp6-type if-bound in include inet inet6
 interval keep label limit linkshare load log loginterface max max-mss max-src-conn max-src-conn-rate max-src-nodes
 max-src-states min-ttl modulate nat nat-anchor no no-df no-route no-sync on optimization os out overload pass port
 prio priority priq probability proto qlimit queue quick random random-id rdr rdr-anchor realtime reassemble
 reply-to require-order return return-icmp return-icmp6 return-rst round-robin route route-to rtable rule
 ruleset-optimization scrub set set-tos skip sloppy source-hash source-track state state-defaults state-policy
 static-port sticky-address synproxy table tag tagged target tbrsize timeout to tos ttl upperlimit urpf-failed user`
    .split(/\s+/)
    .filter(Boolean),
);

const NAME_RE = /^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$/;

export type Validations = Record<string, string | string[]>;

function addMessage(out: Validations, field: string, msg: string): void {
  const cur = out[field];
  if (cur === undefined || cur === '') out[field] = msg;
  else if (typeof cur === 'string') {
    if (cur !== msg) out[field] = [cur, msg];
  } else if (!cur.includes(msg)) cur.push(msg);
}

function isIpRange(value: string): boolean {
  const parts = value.split('-');
  return parts.length === 2 && isIpAddr(parts[0] as string) && isIpAddr(parts[1] as string);
}

function isWildcard(value: string): boolean {
  // a.b.c.d/w.x.y.z (Util::isWildcard): an IPv4 address and a mask in dotted form
  const [a, m] = value.split('/');
  return a !== undefined && m !== undefined && ipaddr.IPv4.isValidFourPartDecimal(a) && ipaddr.IPv4.isValidFourPartDecimal(m);
}

/**
 * Validation of one alias against the others (`performValidation` on the node): messages keyed
 * `<prefix>.<field>` as `ApiMutableModelControllerBase::validate` reports them.
 */
export function validateAlias(
  alias: OpnAlias,
  others: OpnAlias[],
  allNames: Set<string>,
  prefix = 'alias',
): Validations {
  const v: Validations = {};
  const f = (field: string): string => `${prefix}.${field}`;
  if (alias.enabled === '') addMessage(v, f('enabled'), 'A value is required.');
  else if (alias.enabled !== '0' && alias.enabled !== '1') addMessage(v, f('enabled'), 'Value should be a boolean (0,1).');
  if (alias.name === '') addMessage(v, f('name'), 'A value is required.');
  else {
    if (!NAME_RE.test(alias.name)) {
      addMessage(
        v,
        f('name'),
        'The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.',
      );
    }
    // The message really contains a literal %s: the callback returns it without sprintf.
    if (RESERVED.has(alias.name)) addMessage(v, f('name'), 'The name cannot be the internally reserved keyword "%s".');
    if (isServiceName(alias.name) || isProtocolName(alias.name)) {
      addMessage(v, f('name'), 'Reserved protocol or service names may not be used');
    }
    if (others.some((o) => o.uuid !== alias.uuid && o.name === alias.name)) {
      addMessage(v, f('name'), 'An alias with this name already exists.');
    }
  }
  if (alias.type === '') addMessage(v, f('type'), 'A value is required.');
  else if (!(alias.type in ALIAS_TYPES)) addMessage(v, f('type'), 'Option [] not in list.');
  if (alias.proto !== '') {
    for (const p of alias.proto.split(',')) {
      if (p !== 'IPv4' && p !== 'IPv6') addMessage(v, f('proto'), `Option [${p}] not in list.`);
    }
  }
  if (alias.expire !== '') {
    const n = Number(alias.expire);
    if (!/^-?\d+$/.test(alias.expire) || n < 60 || n > 999999999) {
      addMessage(v, f('expire'), 'Value should be between 60 and 999999999.');
    }
  }
  if (alias.updatefreq !== '' && !/^\d+(\.\d+)?$/.test(alias.updatefreq)) {
    addMessage(v, f('updatefreq'), 'Days and hours should be numeric values or left empty.');
  }
  if (alias.content !== '') {
    for (const msg of contentMessages(alias.type, alias.content, allNames)) addMessage(v, f('content'), msg);
  }
  return v;
}

function contentMessages(type: string, content: string, names: Set<string>): string[] {
  const out: string[] = [];
  const items = content.split('\n');
  switch (type) {
    case 'host':
      for (const h of items) {
        if (isIpRange(h)) continue;
        if (h.startsWith('!') && isIpAddr(h.slice(1))) continue;
        if (!names.has(h) && !isIpAddr(h) && !isFqdn(h)) {
          out.push(`Entry "${h}" is not a valid hostname, IP address or range.`);
        }
      }
      break;
    case 'network':
      for (const n of items) {
        const rest = n.slice(1);
        if (n.startsWith('!') && (isIpAddr(rest) || isSubnet(rest) || isWildcard(rest))) continue;
        if (!names.has(n) && !isIpAddr(n) && !isSubnet(n) && !isWildcard(n) && !isIpRange(n)) {
          out.push(`Entry "${n}" is not a network.`);
        }
      }
      break;
    case 'port':
      for (const p of items) {
        const ok =
          names.has(p) ||
          (/^\d+$/.test(p) ? Number(p) <= 65535 : /^\d+:\d+$/.test(p) || isServiceName(p));
        if (!ok) out.push(`Entry "${p}" is not a valid port number.`);
      }
      break;
    case 'networkgroup':
      for (const p of items) if (!names.has(p)) out.push(`Entry "${p}" is not a valid alias.`);
      break;
    default:
      break;
  }
  return out;
}

/** Applies posted fields onto an alias the way `setNodes` does: unknown keys ignored, arrays are a PHP error. */
export function applyAliasPost(target: OpnAlias, post: Record<string, unknown>): 'array' | null {
  for (const field of ALIAS_FIELDS) {
    if (!(field in post)) continue;
    const value = post[field];
    if (value !== null && typeof value === 'object') return 'array';
    (target as unknown as Record<string, string>)[field] =
      typeof value === 'boolean' ? (value ? '1' : '0') : typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  }
  return null;
}

type OptionMap = Record<string, { value: string; selected: number; description?: string }>;

function optionMap(options: Record<string, string>, value: string, blank: boolean, multiple = false): OptionMap {
  const out: OptionMap = {};
  const selected = value === '' ? [] : multiple ? value.split(',') : [value];
  if (blank && !multiple) out[''] = { value: 'None', selected: value === '' ? 1 : 0 };
  for (const [k, d] of Object.entries(options)) out[k] = { value: d, selected: selected.includes(k) ? 1 : 0 };
  return out;
}

/** `getNodes()` of an alias node: plain fields as strings, option fields as option maps (`BaseListField::getNodeOptions`). */
export function aliasNodes(
  alias: OpnAlias,
  interfaces: OpnInterface[],
  stats: Record<string, string> = {},
): Record<string, unknown> {
  const ifaces = Object.fromEntries(interfaces.map((i) => [i.id, i.descr]));
  const content: OptionMap = {};
  for (const item of alias.content.split('\n')) content[item] = { value: item, selected: 1 };
  const out: Record<string, unknown> = {
    enabled: alias.enabled,
    name: alias.name,
    type: optionMap(ALIAS_TYPES, alias.type, false),
    path_expression: alias.path_expression,
    proto: optionMap({ IPv4: 'IPv4', IPv6: 'IPv6' }, alias.proto, false, true),
    interface: optionMap(ifaces, alias.interface, true),
    counters: alias.counters,
    updatefreq: alias.updatefreq,
    content,
    password: alias.password,
    username: alias.username,
    authtype: optionMap({ Basic: 'Basic', Bearer: 'Bearer', Header: 'Header' }, alias.authtype, true),
    expire: alias.expire,
    categories: {},
  };
  for (const k of VOLATILE) out[k] = stats[k] ?? '';
  out.description = alias.description;
  return out;
}

/** A `search_item` row (`UIModelGrid::fetch`): raw values, plus `%field` where the description differs. */
export function aliasRow(alias: OpnAlias, interfaces: OpnInterface[], count: number | null): Record<string, unknown> {
  const row: Record<string, unknown> = { uuid: alias.uuid };
  for (const field of ALIAS_FIELDS) {
    const value = alias[field];
    row[field] = value;
    if (field === 'type' && ALIAS_TYPES[value] !== undefined) row['%type'] = ALIAS_TYPES[value];
    if (field === 'interface' && value !== '') {
      const i = interfaces.find((x) => x.id === value);
      if (i) row['%interface'] = i.descr;
    }
    if (field === 'proto' && value !== '') row['%proto'] = value.split(',').join(', ');
    if (field === 'content' && value.includes('\n')) row['%content'] = value.split('\n').join(', ');
  }
  for (const k of VOLATILE) row[k] = k === 'current_items' && count !== null ? String(count) : '';
  row.categories_uuid = alias.categories === '' ? [] : alias.categories.split(',');
  return row;
}

/** How pf prints an address it holds (`pfctl -T show`): host masks dropped, IPv6 compressed. */
export function pfNormalize(entry: string): string | null {
  const [addr, mask] = entry.split('/');
  if (addr === undefined) return null;
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(addr);
  } catch {
    return null;
  }
  const full = ip.kind() === 'ipv4' ? 32 : 128;
  if (mask === undefined) return ip.toString();
  if (!/^\d+$/.test(mask) || Number(mask) > full) return null;
  if (Number(mask) === full) return ip.toString();
  return `${ip.toString()}/${Number(mask)}`;
}

function rangeToCidrs(from: string, to: string): string[] {
  if (!ipaddr.IPv4.isValidFourPartDecimal(from) || !ipaddr.IPv4.isValidFourPartDecimal(to)) return [];
  const n = (s: string): number => ipaddr.IPv4.parse(s).toByteArray().reduce((a, b) => a * 256 + b, 0);
  let lo = n(from);
  const hi = n(to);
  const out: string[] = [];
  while (lo <= hi && out.length < 4096) {
    let size = 32;
    while (size > 0) {
      const block = 2 ** (32 - (size - 1));
      if (lo % block !== 0 || lo + block - 1 > hi) break;
      size--;
    }
    const ip = [24, 16, 8, 0].map((s) => Math.floor(lo / 2 ** s) % 256).join('.');
    out.push(size === 32 ? ip : `${ip}/${size}`);
    lo += 2 ** (32 - size);
  }
  return out;
}

/**
 * What `update_tables.py` loads into the pf table of a managed alias: content resolved (nested aliases expanded,
 * IPv4 ranges as CIDRs), normalised as pf prints it. Hostnames, URLs, GeoIP, ASN and MAC content resolve to
 * nothing here (the emulator does no lookups; §8).
 */
export function resolveTable(alias: OpnAlias, byName: Map<string, OpnAlias>, seen = new Set<string>()): string[] {
  if (seen.has(alias.name)) return [];
  seen.add(alias.name);
  const out = new Set<string>();
  if (alias.type === 'host' || alias.type === 'network' || alias.type === 'networkgroup') {
    for (const item of alias.content.split('\n')) {
      if (item === '' || item.startsWith('!')) continue;
      const nested = byName.get(item);
      if (nested) {
        for (const x of resolveTable(nested, byName, seen)) out.add(x);
        continue;
      }
      const range = item.split('-');
      if (range.length === 2) {
        for (const c of rangeToCidrs(range[0] as string, range[1] as string)) out.add(c);
        continue;
      }
      const norm = pfNormalize(item);
      if (norm !== null) out.add(norm);
    }
  }
  return [...out].sort();
}

/** Alias types that become a pf table on reconfigure (port aliases expand into rules instead). */
export function isTableType(type: string): boolean {
  return type !== 'port';
}
