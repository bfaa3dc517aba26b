/**
 * @module Run-time facts: what a configuration cannot say but a running gateway knows — the current address of a
 * DHCP/PPPoE interface, what a DNS name resolves to, the contents of a URL / URL-table / pfBlockerNG table. Given
 * (`--facts facts.json`), they turn answers that are `unknown` from the configuration alone into definite ones
 * (docs/adr/0152-honest-inputs-and-runtime-facts.md). Pure: the caller reads the file.
 *
 * Shape (every section optional):
 * `{ "interfaces": { "wan": { "ipv4": "203.0.113.5/24", "ipv6": "2001:db8::5/64" } },
 *    "names": { "vpn.example.com": ["198.51.100.7"] },
 *    "tables": { "pfB_PRI1_v4": ["1.2.3.0/24", "5.6.7.8"] } }`
 */
import { isIp, normalizeCidr, parseCidr } from '../net/ip.ts';
import type { PfRuleset, PolicyConfig } from './model.ts';
import { PolicyInputError } from './warnings.ts';

export interface RuntimeFacts {
  /** Current addresses of interfaces by config key, as `address/prefix`. */
  interfaces: Record<string, { ipv4?: string; ipv6?: string }>;
  /** DNS names (alias FQDN entries, IPsec remote gateways) and the addresses they resolve to now. */
  names: Record<string, string[]>;
  /** pf table contents by table name (aliases incl. URL tables and pfBlockerNG's `pfB_*`), as CIDRs or addresses. */
  tables: Record<string, string[]>;
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PolicyInputError(field, 'must be an object');
  return value as Record<string, unknown>;
}

function cidrList(value: unknown, field: string, hostsOnly: boolean): string[] {
  if (!Array.isArray(value)) throw new PolicyInputError(field, 'must be an array of addresses');
  return value.map((entry, i) => {
    const cidr = typeof entry === 'string' ? normalizeCidr(entry) : null;
    if (cidr === null || (hostsOnly && !isIp(entry as string)))
      throw new PolicyInputError(`${field}[${i}]`, `"${String(entry)}" is not ${hostsOnly ? 'an IP address' : 'an address or CIDR'}`);
    return cidr;
  });
}

/** Validates a parsed facts document. Throws `PolicyInputError` naming the field (`facts.tables.x[2]`). */
export function parseRuntimeFacts(value: unknown): RuntimeFacts {
  const root = record(value, 'facts');
  for (const key of Object.keys(root)) {
    if (!['interfaces', 'names', 'tables'].includes(key))
      throw new PolicyInputError(`facts.${key}`, 'unknown section (expected interfaces, names, tables)');
  }
  const interfaces: RuntimeFacts['interfaces'] = {};
  for (const [key, raw] of Object.entries(record(root.interfaces, 'facts.interfaces'))) {
    const entry = record(raw, `facts.interfaces.${key}`);
    const out: { ipv4?: string; ipv6?: string } = {};
    for (const family of ['ipv4', 'ipv6'] as const) {
      const given = entry[family];
      if (given === undefined) continue;
      const cidr = typeof given === 'string' && given.includes('/') ? parseCidr(given) : null;
      const v6 = typeof given === 'string' && given.includes(':');
      if (cidr === null || v6 !== (family === 'ipv6'))
        throw new PolicyInputError(
          `facts.interfaces.${key}.${family}`,
          `${JSON.stringify(given)} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address/prefix`,
        );
      out[family] = given as string;
    }
    interfaces[key] = out;
  }
  const names: RuntimeFacts['names'] = {};
  for (const [name, raw] of Object.entries(record(root.names, 'facts.names')))
    names[name.toLowerCase()] = cidrList(raw, `facts.names.${name}`, true).map((c) => c.replace(/\/(32|128)$/, ''));
  const tables: RuntimeFacts['tables'] = {};
  for (const [name, raw] of Object.entries(record(root.tables, 'facts.tables')))
    tables[name] = cidrList(raw, `facts.tables.${name}`, false);
  return { interfaces, names, tables };
}

/**
 * Applies the config-level facts: interface addresses and resolved names (alias FQDN entries, IPsec remote
 * gateways). Returns a new config and what was applied, in words. An interface key the config does not have is an
 * input error (a typo must not silently leave an answer unknown).
 */
export function applyConfigFacts(
  config: PolicyConfig,
  facts: RuntimeFacts,
): { config: PolicyConfig; applied: string[] } {
  const applied: string[] = [];
  const interfaces = config.interfaces.map((iface) => {
    const given = facts.interfaces[iface.key];
    if (given === undefined) return iface;
    const next = { ...iface, ipv4: { ...iface.ipv4 }, ipv6: { ...iface.ipv6 } };
    for (const family of ['ipv4', 'ipv6'] as const) {
      const cidr = given[family];
      if (cidr === undefined) continue;
      const [address, prefix] = cidr.split('/') as [string, string];
      next[family].address = address;
      next[family].prefixLength = Number(prefix);
      applied.push(`interface ${iface.key} ${family} is ${cidr}`);
    }
    return next;
  });
  for (const key of Object.keys(facts.interfaces)) {
    if (!config.interfaces.some((i) => i.key === key))
      throw new PolicyInputError(`facts.interfaces.${key}`, 'no interface with this key in the config');
  }
  const resolve = (name: string): string[] | undefined => facts.names[name.toLowerCase()];
  const aliases = config.aliases.map((alias) => {
    if (alias.type !== 'host' && alias.type !== 'network') return alias;
    let changed = false;
    const entries = alias.entries.flatMap((entry) => {
      const addresses = resolve(entry);
      if (addresses === undefined) return [entry];
      changed = true;
      applied.push(`${entry} (alias ${alias.name}) resolves to ${addresses.join(', ') || 'nothing'}`);
      return addresses;
    });
    return changed ? { ...alias, entries } : alias;
  });
  const ipsecPeers = config.vpn.ipsecPeers?.map((peer) => {
    const addresses = peer.remoteGateway === undefined ? undefined : resolve(peer.remoteGateway);
    if (addresses === undefined || addresses[0] === undefined) return peer;
    // pfSense writes the first address the name resolves to (ipsec.inc ipsec_get_phase1_dst, resolve_retry).
    applied.push(`IPsec peer ${peer.remoteGateway} resolves to ${addresses[0]}`);
    return { ...peer, remoteGateway: addresses[0] };
  });
  return {
    config: {
      ...config,
      interfaces,
      aliases,
      vpn: ipsecPeers === undefined ? config.vpn : { ...config.vpn, ipsecPeers },
    },
    applied,
  };
}

/**
 * Applies table contents to a generated ruleset: the named tables become static with exactly the given contents.
 * A table name the ruleset does not have is an input error.
 */
export function applyTableFacts(ruleset: PfRuleset, facts: RuntimeFacts): { ruleset: PfRuleset; applied: string[] } {
  const applied: string[] = [];
  const tables = { ...ruleset.tables };
  for (const [name, cidrs] of Object.entries(facts.tables)) {
    const table = tables[name];
    if (table === undefined) throw new PolicyInputError(`facts.tables.${name}`, 'no table with this name in the ruleset');
    const { dynamicFamilies: _families, excludes: _excludes, ...rest } = table;
    tables[name] = { ...rest, cidrs, dynamic: false };
    applied.push(`table <${name}> holds ${cidrs.length} entr${cidrs.length === 1 ? 'y' : 'ies'}`);
  }
  return { ruleset: { ...ruleset, tables }, applied };
}
