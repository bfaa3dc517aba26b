/**
 * @module The emulated OPNsense box: the configuration (aliases, filter / NAT rules) with its revision history,
 * and the runtime apart from it (pf tables, the loaded ruleset, the state table) — config and runtime only meet
 * through `alias/reconfigure`, `alias_util`, `apply` and a reboot (docs/reference/opnsense-api.md §3, §4).
 * Persistence: the configuration, its history and the keys go to the state file; the runtime is rebuilt on load
 * the way a boot rebuilds it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { OpnKeySpec, VersionProfile } from './types.ts';

export interface OpnAlias {
  uuid: string;
  enabled: string;
  name: string;
  type: string;
  path_expression: string;
  proto: string;
  interface: string;
  counters: string;
  updatefreq: string;
  /** Entries joined with `\n`, as config.xml holds them. */
  content: string;
  password: string;
  username: string;
  authtype: string;
  expire: string;
  categories: string;
  description: string;
}

/** A filter or NAT rule as config.xml holds it: every field a string, `uuid` its key. */
export type OpnRule = Record<string, string> & { uuid: string };

export type RuleSection = 'filter' | 'snat' | 'dnat' | 'onetoone';
export const RULE_SECTIONS: readonly RuleSection[] = ['filter', 'snat', 'dnat', 'onetoone'];

export interface OpnConfig {
  /** `revision->time`: epoch seconds with 4 decimals, the backup file's name. */
  revision: string;
  hostname: string;
  domain: string;
  aliases: OpnAlias[];
  filter: OpnRule[];
  snat: OpnRule[];
  dnat: OpnRule[];
  onetoone: OpnRule[];
  /** Unbound `hosts.host` (host overrides); absent in state files written before it existed. */
  unboundHosts?: OpnHost[];
  /** Kea DHCPv4 (`OPNsense.Kea.KeaDhcpv4`): general settings, subnets, reservations; absent in older state files. */
  kea?: OpnKea;
  /** `vlans.vlan` (docs/reference/brain-l3.md §7.1); absent in older state files. */
  vlans?: OpnVlan[];
  /** config.xml's `interfaces` section, legacy keys (`if`, `descr`, `enable`, `ipaddr`, `subnet`, …) by id (§7.2). */
  interfaces?: Record<string, Record<string, string>>;
}

/** One VLAN device as stored: every field a string (docs/reference/brain-l3.md §7.1). */
export interface OpnVlan {
  uuid: string;
  if: string;
  tag: string;
  pcp: string;
  proto: string;
  descr: string;
  vlanif: string;
}

/** One entry of `/tmp/.interfaces.todo` (§7.2, §7.3). */
export interface OpnIfTodo {
  pending_action: string;
  pending_if?: string;
  pending?: Record<string, string>;
}

/** Kea DHCPv4 as stored: every field a string, as the model keeps it (docs/reference/brain-l3.md §5.2). */
export interface OpnKea {
  /** `general.enabled` ('0' | '1') and `general.interfaces` (comma-separated interface ids). */
  general: { enabled: string; interfaces: string };
  subnets: Array<Record<string, string> & { uuid: string }>;
  reservations: Array<Record<string, string> & { uuid: string }>;
}

/** One Unbound host override as stored: every field a string, as the model keeps it (docs/reference/brain-l3.md §5.3). */
export type OpnHost = Record<string, string> & { uuid: string };

/** One pf state, in the row shape `query_states` returns (`lib/states.py`). */
export interface PfState {
  id: string;
  label: string;
  descr: string;
  nat_addr: string | null;
  nat_port: string | null;
  gateway: string | null;
  iface: string;
  proto: string;
  ipproto: string;
  flags: string[];
  direction: string;
  dst_addr: string;
  dst_port: string;
  src_addr: string;
  src_port: string;
  state: string;
  rule: string;
  age: string;
  expires: string;
  pkts: number[];
  bytes: number[];
}

export interface StoredKey {
  key: string;
  secret: string;
  user: string;
  privileges: string[];
  readOnly: boolean;
}

export interface OpnInterface {
  id: string;
  device: string;
  descr: string;
  /** Empty (with `subnet` 0) when the interface has no static IPv4 address or is disabled. */
  ipv4: string;
  subnet: number;
  mac: string;
  /** Absent: enabled (the built-in interfaces). */
  enabled?: boolean;
}

export interface OpnBox {
  version: VersionProfile;
  /** Emulated epoch ms when the copy was taken. */
  now: number;
  bootedAt: number;
  interfaces: OpnInterface[];
  config: OpnConfig;
  /** `/conf/backup/config-<revision>.xml`, newest last, at most `backupCount`. */
  history: Array<{ revision: string; config: OpnConfig }>;
  runtime: {
    tables: Record<string, string[]>;
    ruleset: Pick<OpnConfig, RuleSection>;
    /** Aliases as the last reload saw them (what rules resolve against). */
    loadedRevision: string;
    /** Host overrides Unbound answers, as of its last `reconfigure`. */
    unboundHosts?: OpnHost[];
    /** The Kea configuration the server runs, as of its last `reconfigure`. */
    kea?: OpnKea;
    /** VLAN devices that exist (`ifconfig`), as of the last `interface vlan configure` (§7.1). */
    vlanDevices?: string[];
    /** `/tmp/.vlans.removed`: devices to destroy at the next VLAN reconfigure. */
    vlansRemoved?: string[];
    /** `/tmp/.interfaces.todo` (§7.2): pending assignment changes by interface id. */
    ifTodo?: Record<string, OpnIfTodo>;
    /** configd's cached `interface list assign-opts` (60 s): the assignable devices and when they were listed. */
    assignOpts?: { at: number; devices: string[] };
  };
  states: PfState[];
  /** The background `rollback_timer` (one at a time). */
  rollback: { revision: string; due: number } | null;
  keys: StoredKey[];
  firewallLog: Array<Record<string, unknown>>;
  idsAlerts: Array<Record<string, unknown>>;
}

export const DEFAULT_INTERFACES: OpnInterface[] = [
  { id: 'wan', device: 'vtnet0', descr: 'WAN', ipv4: '203.0.113.2', subnet: 24, mac: '52:54:00:12:34:01' },
  { id: 'lan', device: 'vtnet1', descr: 'LAN', ipv4: '192.168.1.1', subnet: 24, mac: '52:54:00:12:34:02' },
  { id: 'lo0', device: 'lo0', descr: 'Loopback', ipv4: '127.0.0.1', subnet: 8, mac: '' },
];

/** The hardware ports of the emulated box (`ifconfig`); `vtnet2` is left unassigned. */
export const HARDWARE_PORTS: ReadonlyArray<{ device: string; mac: string }> = [
  { device: 'vtnet0', mac: '52:54:00:12:34:01' },
  { device: 'vtnet1', mac: '52:54:00:12:34:02' },
  { device: 'vtnet2', mac: '52:54:00:12:34:03' },
];

/** A stable RFC 4122-shaped uuid from a seed (the built-in aliases need the same one on every boot). */
export function seededUuid(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function randomUuid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function blankAlias(uuid: string): OpnAlias {
  return {
    uuid,
    enabled: '1',
    name: '',
    type: 'alert',
    path_expression: '',
    proto: '',
    interface: '',
    counters: '',
    updatefreq: '',
    content: '',
    password: '',
    username: '',
    authtype: '',
    expire: '',
    categories: '',
    description: '',
  };
}

/**
 * The built-in aliases every search lists and every name check sees: the four of
 * `models/OPNsense/Firewall/static_aliases/core.json` plus one `__<if>_network` per interface
 * (`DynamicAliases/InterfaceNetworkAliases.php`). Not stored in config; not deletable.
 */
export function builtinAliases(interfaces: OpnInterface[]): OpnAlias[] {
  const statics: Array<[string, string, string]> = [
    ['bogons', 'bogon networks (internal)', ''],
    ['bogonsv6', 'bogon networks IPv6 (internal)', ''],
    ['virusprot', 'overload table for rate limiting (internal)', '3600'],
    ['sshlockout', 'abuse lockout table (internal)', '3600'],
  ];
  const out = statics.map(([name, description, expire]) => ({
    ...blankAlias(seededUuid(`builtin:${name}`)),
    name,
    type: 'external',
    description,
    expire,
  }));
  for (const i of interfaces) {
    out.push({
      ...blankAlias(seededUuid(`builtin:__${i.id}_network`)),
      name: `__${i.id}_network`,
      type: 'internal',
      description: `${i.descr} net`,
    });
  }
  return out;
}

export function emptyConfig(revision: string): OpnConfig {
  return {
    revision,
    hostname: 'OPNsense',
    domain: 'localdomain',
    aliases: [],
    filter: [],
    snat: [],
    dnat: [],
    onetoone: [],
    unboundHosts: [],
  };
}

export function keysFrom(specs: OpnKeySpec[] | undefined): StoredKey[] {
  const list = specs ?? [
    { key: randomBytes(40).toString('base64url').slice(0, 80), secret: randomBytes(40).toString('base64url').slice(0, 80) },
  ];
  return list.map((s, i) => ({
    key: s.key,
    secret: s.secret,
    user: s.user ?? (i === 0 ? 'root' : `api${i}`),
    privileges: s.privileges ?? ['page-all'],
    readOnly: s.readOnly ?? false,
  }));
}

interface Persisted {
  format: 'portcullis-opnsense-emulator/1';
  version: VersionProfile;
  config: OpnConfig;
  history: Array<{ revision: string; config: OpnConfig }>;
  keys: StoredKey[];
  clockOffsetMs?: number;
}

export function saveBox(file: string, box: OpnBox): void {
  const data: Persisted = {
    format: 'portcullis-opnsense-emulator/1',
    version: box.version,
    config: box.config,
    history: box.history,
    keys: box.keys,
  };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data)}\n`);
  renameSync(tmp, file);
}

export function loadBox(file: string): Persisted | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const data = JSON.parse(text) as Persisted;
  if (data.format !== 'portcullis-opnsense-emulator/1') throw new Error(`${file}: not an OPNsense emulator state file`);
  return data;
}
