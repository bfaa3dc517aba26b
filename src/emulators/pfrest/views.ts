/**
 * @module Read-only views the emulator serves besides the models: API key rows, live interface rows
 * (`/status/interfaces`), state rows and their endpoints, and the live pf tables a filter reload loads.
 */
import type { EmulatorInterface, EmulatorKey, StoredAlias } from './state.ts';

export const KEY_FIELDS = ['username', 'hash_algo', 'length_bytes', 'hash', 'descr'] as const;

export function keyRepresentation(k: EmulatorKey, id: number): Record<string, unknown> & { id: number } {
  return {
    id,
    username: k.username,
    hash_algo: k.hash_algo ?? 'sha256',
    length_bytes: k.length_bytes ?? 24,
    hash: k.hash,
    descr: k.descr,
  };
}

/** pfSense's default state table size on a small box. */
export const DEFAULT_MAXIMUM_STATES = 396_000;

export const INTERFACE_STATS_FIELDS = [
  'name',
  'descr',
  'hwif',
  'macaddr',
  'mtu',
  'enable',
  'status',
  'ipaddr',
  'subnet',
  'linklocal',
  'ipaddrv6',
  'subnetv6',
  'inerrs',
  'outerrs',
  'collisions',
  'inbytes',
  'inbytespass',
  'outbytes',
  'outbytespass',
  'inpkts',
  'inpktspass',
  'outpkts',
  'outpktspass',
  'dhcplink',
  'media',
  'gateway',
  'gatewayv6',
] as const;

/** `GET /status/interfaces` row (§7.7): live view of a configured interface; counters start at zero. */
export function interfaceStats(i: EmulatorInterface, id: number): Record<string, unknown> & { id: number } {
  const mac = `58:9c:fc:00:00:${id.toString(16).padStart(2, '0')}`;
  return {
    id,
    name: i.id,
    descr: i.descr,
    hwif: i.if,
    macaddr: mac,
    mtu: '1500',
    enable: i.enable,
    status: i.enable ? 'up' : 'down',
    ipaddr: i.typev4 === 'static' ? i.ipaddr : '',
    subnet: i.typev4 === 'static' ? String(i.subnet) : '',
    linklocal: '',
    ipaddrv6: '',
    subnetv6: '',
    inerrs: 0,
    outerrs: 0,
    collisions: 0,
    inbytes: 0,
    inbytespass: 0,
    outbytes: 0,
    outbytespass: 0,
    inpkts: 0,
    inpktspass: 0,
    outpkts: 0,
    outpktspass: 0,
    dhcplink: i.typev4 === 'dhcp' ? 'up' : '',
    media: 'Ethernet autoselect (1000baseT <full-duplex>)',
    gateway: '',
    gatewayv6: '',
  };
}

export const STATE_FIELDS = [
  'interface',
  'protocol',
  'direction',
  'source',
  'destination',
  'state',
  'age',
  'expires_in',
  'packets_total',
  'packets_in',
  'packets_out',
  'bytes_total',
  'bytes_in',
  'bytes_out',
] as const;

/** The IP part of a state's `source`/`destination` (`1.2.3.4:80`, `[2001:db8::1]:443`, `2001:db8::1[443]`). */
export function stateIp(endpoint: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint) ?? /^([0-9a-fA-F:]+)\[\d+\]$/.exec(endpoint);
  if (bracketed) return bracketed[1] as string;
  const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::\d+)?$/.exec(endpoint);
  return v4 ? (v4[1] as string) : endpoint;
}

/** Live pf tables from a configuration snapshot: nested aliases expanded, port aliases are not tables. */
export function computeTables(aliases: readonly StoredAlias[]): Record<string, string[]> {
  const byName = new Map(aliases.map((a) => [a.name, a]));
  const expand = (alias: StoredAlias, seen: Set<string>): string[] =>
    alias.address.flatMap((entry) => {
      const nested = byName.get(entry);
      if (nested === undefined) return [entry];
      if (seen.has(entry)) return [];
      return expand(nested, new Set([...seen, entry]));
    });
  const tables: Record<string, string[]> = {};
  for (const alias of aliases)
    if (alias.type !== 'port') tables[alias.name] = [...new Set(expand(alias, new Set([alias.name])))];
  return tables;
}
