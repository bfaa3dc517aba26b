/**
 * @module pfSense's live writes (src/adapters/live-write.ts) over pfRest v2: every neutral body mapped to the
 * pfRest model's fields, every object addressed by a stable key instead of pfRest's shifting list position, and
 * one apply per dirty subsystem. The field maps, the stable keys and the apply semantics, each with its upstream
 * source: docs/reference/pfsense-live-writes.md. Decision: docs/adr/0160-pfsense-live-write-stable-ids.md.
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type {
  LiveObject,
  LiveObjectKind,
  LiveWrite,
  LiveWriteKind,
  LiveWriter,
  LiveWriteResult,
} from '../live-write.ts';
import type { FirewallAdapter } from '../types.ts';
import { PfSenseAdapter } from './adapter.ts';
import { PFS_CATALOG, PfSenseError } from './errors.ts';
import { PfSenseL3Writes } from './l3-write.ts';

/** One row as pfRest represents it. */
type Row = Record<string, unknown>;

/** The part of the adapter the writes use. */
type WriteSource = Pick<PfSenseAdapter, 'request' | 'apply' | 'pendingStatus'>;

const isRow = (v: unknown): v is Row => v !== null && typeof v === 'object' && !Array.isArray(v);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** How long to wait before redoing a create whose whole-second key collided: the next second (§2). */
const COLLISION_WAIT_MS = 1_000;

/** A neutral body field pfSense cannot take: PFS500 naming the field. */
function fieldError(kind: LiveWriteKind, field: string, problem: string): PfSenseError {
  return new PfSenseError('PFS500', `${kind} field \`${field}\` ${problem}.`, { field });
}

/** Reads a neutral body field by field, naming the first one that is wrong. */
class Body {
  private readonly body: Row;

  constructor(
    private readonly kind: LiveWriteKind,
    body: unknown,
  ) {
    if (!isRow(body)) throw fieldError(kind, 'body', 'must be an object');
    this.body = body;
  }

  string(field: string, o: { empty?: boolean } = {}): string {
    const v = this.body[field];
    if (typeof v !== 'string') throw fieldError(this.kind, field, 'must be a string');
    // No trimming: a description read from the device must write back unchanged (§1).
    if (o.empty !== true && v.trim() === '') throw fieldError(this.kind, field, 'must not be empty');
    return v;
  }

  nullableString(field: string): string | null {
    return this.body[field] === null ? null : this.string(field);
  }

  oneOf<T extends string>(field: string, choices: readonly T[]): T {
    const v = this.body[field];
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      throw fieldError(this.kind, field, `must be one of ${choices.join(', ')}`);
    }
    return v as T;
  }

  boolean(field: string): boolean {
    const v = this.body[field];
    if (typeof v !== 'boolean') throw fieldError(this.kind, field, 'must be true or false');
    return v;
  }

  strings(field: string): string[] {
    const v = this.body[field];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '' && x === x.trim())) {
      throw fieldError(this.kind, field, 'must be a list of non-empty strings');
    }
    return v as string[];
  }

  list(field: string): Row[] {
    const v = this.body[field];
    if (!Array.isArray(v) || !v.every(isRow)) throw fieldError(this.kind, field, 'must be a list of objects');
    return v;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const strList = (v: unknown): string[] => {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' && v !== '' ? [v] : [];
};
const bool = (v: unknown): boolean => v === true || v === 'true' || v === 1 || v === '1' || v === 'yes';

/** Protocols whose rules and mappings carry ports (`conditions` of pfRest's PortFields, contract §9). */
const PORT_PROTOCOLS = ['tcp', 'udp', 'tcp/udp'];
/** FirewallRule `protocol` choices (contract §9) plus the neutral `any` (pfRest null). */
const RULE_PROTOCOLS = [
  'any',
  'tcp',
  'udp',
  'tcp/udp',
  'icmp',
  'esp',
  'ah',
  'gre',
  'ipv6',
  'igmp',
  'pim',
  'ospf',
  'carp',
  'pfsync',
] as const;
const TO_RULE_TYPE = { allow: 'pass', deny: 'block', reject: 'reject' } as const;
const FROM_RULE_TYPE: Record<string, string> = { pass: 'allow', block: 'deny', reject: 'reject' };

/** A port only where the protocol carries ports: pfRest would silently drop it (§1). */
function ports(kind: LiveWriteKind, protocol: string, values: Record<string, string | null>): void {
  if (PORT_PROTOCOLS.includes(protocol)) return;
  for (const [field, value] of Object.entries(values)) {
    if (value !== null) {
      throw fieldError(kind, field, `must be null unless protocol is ${PORT_PROTOCOLS.join(', ')}`);
    }
  }
}

/** How one kind maps to pfRest (docs/reference/pfsense-live-writes.md §1, §2). */
interface KindSpec {
  /** What the kind is, for messages. */
  noun: string;
  /** Singular endpoint (GET/POST/PATCH/DELETE one) and plural endpoint (GET all). */
  one: string;
  many: string;
  /** The subsystem a write leaves dirty until applied. */
  subsystem: string;
  /** Neutral field → pfRest field, to name the neutral field of a pfRest validation error. */
  fields: Record<string, string>;
  /** pfRest error ids (or id prefixes) that do not say `Field \`x\`` → the neutral field they concern. */
  errorFields?: Record<string, string>;
  /** The pfRest fields of a neutral body (validates it, naming the first wrong field). */
  toDevice(body: unknown): Row;
  /** The neutral body of a pfRest row. */
  fromDevice(row: Row): LiveObject;
  /** The stable key of a row (the write's `target`), or null when the row has none. */
  key(row: Row): string | null;
  /** Non-editable fields sent with every PATCH: a shifted id is refused instead of hitting another object. */
  guard(row: Row): Row;
  /** A plural-read query narrowing the rows to `target` (pfRest compares loosely: the match is exact here). */
  query(target: string): URLSearchParams | null;
  /** The `parent_id` of a created object (DHCP mappings live under their interface's server). */
  parent?(device: Row): string;
  /**
   * pfRest fields outside the neutral body → the values a create without them stores: a read carries the others
   * as `vendor_data`, and a write takes them back (§1).
   */
  extras?: Record<string, readonly unknown[]>;
  /** A key pfRest stamps in whole seconds: two creates in one second collide and the second is redone. */
  stampedKey?: string;
  /** Extra checks of an update against the row it replaces (e.g. an alias name cannot change). */
  checkUpdate?(target: string, device: Row): void;
}

const ruleSpec: KindSpec = {
  noun: 'firewall rule',
  one: '/api/v2/firewall/rule',
  many: '/api/v2/firewall/rules',
  subsystem: 'filter',
  fields: {
    action: 'type',
    interface: 'interface',
    ip_version: 'ipprotocol',
    protocol: 'protocol',
    source_address: 'source',
    source_port: 'source_port',
    dest_address: 'destination',
    dest_port: 'destination_port',
    description: 'descr',
    is_enabled: 'disabled',
    log_enabled: 'log',
  },
  errorFields: { FIREWALL_RULE_MULTIPLE_INTERFACE_WITHOUT_FLOATING: 'interface' },
  extras: {
    floating: [false, null],
    quick: [false, null],
    direction: ['any', null],
    statetype: ['keep state', null],
    icmptype: [['any'], null],
    tcp_flags_any: [false, null],
    tcp_flags_out_of: [null],
    tcp_flags_set: [null],
    gateway: [null, ''],
    sched: [null, ''],
    tag: ['', null],
    dscp: ['', null],
    dnpipe: [null, ''],
    pdnpipe: [null, ''],
    defaultqueue: [null, ''],
    ackqueue: [null, ''],
  },
  toDevice(raw) {
    const b = new Body('firewall_rule', raw);
    const action = b.oneOf('action', ['allow', 'deny', 'reject'] as const);
    const iface = b.string('interface');
    const ipVersion = b.oneOf('ip_version', ['inet', 'inet6', 'inet46'] as const);
    const protocol = b.oneOf('protocol', RULE_PROTOCOLS);
    const source = b.string('source_address');
    const sourcePort = b.nullableString('source_port');
    const dest = b.string('dest_address');
    const destPort = b.nullableString('dest_port');
    ports('firewall_rule', protocol, { source_port: sourcePort, dest_port: destPort });
    return {
      type: TO_RULE_TYPE[action],
      // A floating rule may name several interfaces: the neutral body lists them comma-separated (§1.1).
      interface: iface.split(','),
      ipprotocol: ipVersion,
      protocol: protocol === 'any' ? null : protocol,
      source,
      source_port: sourcePort,
      destination: dest,
      destination_port: destPort,
      descr: b.string('description', { empty: true }),
      disabled: !b.boolean('is_enabled'),
      log: b.boolean('log_enabled'),
    };
  },
  fromDevice: (row) => ({
    action: FROM_RULE_TYPE[str(row.type)] ?? str(row.type),
    interface: strList(row.interface).join(','),
    ip_version: str(row.ipprotocol) || 'inet',
    protocol: strOrNull(row.protocol) ?? 'any',
    source_address: str(row.source) || 'any',
    source_port: strOrNull(row.source_port),
    dest_address: str(row.destination) || 'any',
    dest_port: strOrNull(row.destination_port),
    description: str(row.descr),
    is_enabled: !bool(row.disabled),
    log_enabled: bool(row.log),
  }),
  key: (row) => (typeof row.tracker === 'number' ? String(row.tracker) : strOrNull(row.tracker)),
  guard: (row) => ({ tracker: row.tracker }),
  query: (target) => (/^\d+$/.test(target) ? new URLSearchParams({ tracker: target }) : null),
  stampedKey: 'tracker',
};

const ALIAS_TYPES = ['host', 'network', 'port'] as const;

const aliasSpec: KindSpec = {
  noun: 'alias',
  one: '/api/v2/firewall/alias',
  many: '/api/v2/firewall/aliases',
  subsystem: 'aliases',
  fields: { name: 'name', type: 'type', description: 'descr', entries: 'address' },
  errorFields: {
    INVALID_HOST_ALIAS_ADDRESS: 'entries',
    INVALID_NETWORK_ALIAS_ADDRESS: 'entries',
    INVALID_PORT_ALIAS_ADDRESS: 'entries',
    TOO_MANY_ALIAS_DETAILS: 'entries',
    FILTER_NAME_VALIDATOR_: 'name',
    INVALID_FIREWALL_ALIAS_NAME: 'name',
  },
  toDevice(raw) {
    const b = new Body('alias', raw);
    const name = b.string('name');
    const type = b.oneOf('type', ALIAS_TYPES);
    const descr = b.string('description', { empty: true });
    const entries = b.list('entries').map((e, i) => {
      // pfSense stores addresses space-joined and details `||`-joined: either separator would split an entry.
      const address = e.address;
      const detail = e.detail;
      if (typeof address !== 'string' || address === '' || /\s/.test(address)) {
        throw fieldError('alias', `entries[${i}].address`, 'must be a non-empty string without whitespace');
      }
      if (typeof detail !== 'string' || detail.includes('||')) {
        throw fieldError('alias', `entries[${i}].detail`, 'must be a string without `||`');
      }
      return { address, detail };
    });
    return { name, type, descr, address: entries.map((e) => e.address), detail: entries.map((e) => e.detail) };
  },
  fromDevice: (row) => {
    const details = strList(row.detail);
    return {
      name: str(row.name),
      type: str(row.type),
      description: str(row.descr),
      // pfSense keeps details exactly as sent, possibly fewer than addresses (contract §8).
      entries: strList(row.address).map((address, i) => ({ address, detail: details[i] ?? '' })),
    };
  },
  key: (row) => strOrNull(row.name),
  guard: (row) => ({ name: row.name }),
  query: (target) => new URLSearchParams({ name: target }),
  checkUpdate(target, device) {
    if (device.name !== target) {
      const why = `cannot change (\`${target}\`): alias names are immutable, create the new alias, delete the old`;
      throw fieldError('alias', 'name', why);
    }
  },
};

/** Neutral `is_enabled` ↔ pfRest `disabled`, shared by every kind that has it. */
const enabled = (b: Body): { disabled: boolean } => ({ disabled: !b.boolean('is_enabled') });

const NAT_PROTOCOLS = ['tcp', 'udp', 'tcp/udp'] as const;

const portForwardSpec: KindSpec = {
  noun: 'port forward',
  one: '/api/v2/firewall/nat/port_forward',
  many: '/api/v2/firewall/nat/port_forwards',
  subsystem: 'natconf',
  fields: {
    interface: 'interface',
    protocol: 'protocol',
    source_address: 'source',
    dest_address: 'destination',
    dest_port: 'destination_port',
    target_address: 'target',
    target_port: 'local_port',
    description: 'descr',
    is_enabled: 'disabled',
  },
  toDevice(raw) {
    const b = new Body('port_forward', raw);
    return {
      interface: b.string('interface'),
      protocol: b.oneOf('protocol', NAT_PROTOCOLS),
      source: b.string('source_address'),
      destination: b.string('dest_address'),
      destination_port: b.string('dest_port'),
      target: b.string('target_address'),
      local_port: b.string('target_port'),
      descr: b.string('description', { empty: true }),
      ...enabled(b),
    };
  },
  fromDevice: (row) => ({
    interface: str(row.interface),
    protocol: str(row.protocol),
    source_address: str(row.source) || 'any',
    dest_address: str(row.destination) || 'any',
    dest_port: str(row.destination_port),
    target_address: str(row.target),
    target_port: str(row.local_port),
    description: str(row.descr),
    is_enabled: !bool(row.disabled),
  }),
  extras: {
    ipprotocol: ['inet', null],
    source_port: [null],
    nordr: [false, null],
    nosync: [false, null],
    natreflection: [null],
  },
  key: (row) => (typeof row.created_time === 'number' ? String(row.created_time) : null),
  guard: (row) => ({ created_time: row.created_time }),
  query: (target) => (/^\d+$/.test(target) ? new URLSearchParams({ created_time: target }) : null),
  stampedKey: 'created_time',
};

/** A host address written as such: IPv4 /32, IPv6 /128 (pfRest's `target_subnet`, §1.3). */
const hostBits = (address: string): number | null =>
  ipaddr.IPv4.isValidFourPartDecimal(address) ? 32 : ipaddr.IPv6.isValid(address) ? 128 : null;

/** A content key: what identifies a row that has no stable field of its own (§2). */
function contentKey(row: Row): string {
  const { id: _position, parent_id: _parent, ...fields } = row;
  const text = JSON.stringify(Object.keys(fields).sort().map((k) => [k, fields[k]]));
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const sourceNatSpec: KindSpec = {
  noun: 'outbound NAT mapping',
  one: '/api/v2/firewall/nat/outbound/mapping',
  many: '/api/v2/firewall/nat/outbound/mappings',
  subsystem: 'natconf',
  fields: {
    interface: 'interface',
    protocol: 'protocol',
    source_address: 'source',
    dest_address: 'destination',
    target_address: 'target',
    description: 'descr',
    is_enabled: 'disabled',
  },
  toDevice(raw) {
    const b = new Body('source_nat', raw);
    const protocol = b.oneOf('protocol', ['any', ...NAT_PROTOCOLS] as const);
    const target = b.string('target_address', { empty: true });
    const fields: Row = {
      interface: b.string('interface'),
      protocol: protocol === 'any' ? null : protocol,
      source: b.string('source_address'),
      destination: b.string('dest_address'),
      descr: b.string('description', { empty: true }),
      ...enabled(b),
    };
    // An empty target is "do not NAT" (`nonat`); an address may carry its prefix as target_subnet.
    if (target === '') return { ...fields, nonat: true };
    const [address = '', bits] = target.split('/');
    const host = hostBits(address);
    if (bits !== undefined) {
      const n = Number(bits);
      if (host === null || !/^\d+$/.test(bits) || n < 1 || n > host) {
        const why = 'must be an address, address/prefix, alias or interface address';
        throw fieldError('source_nat', 'target_address', why);
      }
      return { ...fields, nonat: false, target: address, target_subnet: n };
    }
    return { ...fields, nonat: false, target, ...(host === null ? {} : { target_subnet: host }) };
  },
  fromDevice: (row) => {
    const target = str(row.target);
    const host = hostBits(target);
    const bits = typeof row.target_subnet === 'number' ? row.target_subnet : null;
    return {
      interface: str(row.interface),
      protocol: strOrNull(row.protocol) ?? 'any',
      source_address: str(row.source),
      dest_address: str(row.destination),
      target_address: bool(row.nonat)
        ? ''
        : host !== null && bits !== null && bits < host
          ? `${target}/${bits}`
          : target,
      description: str(row.descr),
      is_enabled: !bool(row.disabled),
    };
  },
  extras: {
    source_port: [null],
    destination_port: [null],
    nat_port: ['', null],
    static_nat_port: [false, null],
    poolopts: [null],
    source_hash_key: ['', null],
    nosync: [false, null],
  },
  key: contentKey,
  // No field of an outbound mapping is immutable: nothing to guard a PATCH with (§2).
  guard: () => ({}),
  query: () => null,
};

const staticRouteSpec: KindSpec = {
  noun: 'static route',
  one: '/api/v2/routing/static_route',
  many: '/api/v2/routing/static_routes',
  subsystem: 'staticroutes',
  fields: { network: 'network', gateway: 'gateway', description: 'descr', is_enabled: 'disabled' },
  toDevice(raw) {
    const b = new Body('static_route', raw);
    const network = b.string('network');
    // pfRest stores a CIDR as its network address (contract §6.2 of the emulator): write that form or the
    // read-back differs.
    if (network.includes('/')) {
      let canonical: string | null = null;
      try {
        const [address, bits] = ipaddr.parseCIDR(network);
        const base =
          address.kind() === 'ipv4'
            ? ipaddr.IPv4.networkAddressFromCIDR(network)
            : ipaddr.IPv6.networkAddressFromCIDR(network);
        canonical = `${base.toString()}/${bits}`;
      } catch {
        throw fieldError('static_route', 'network', 'must be a CIDR or an alias');
      }
      if (canonical !== network) {
        throw fieldError('static_route', 'network', `must be the network address \`${canonical}\``);
      }
    }
    return {
      network,
      gateway: b.string('gateway'),
      descr: b.string('description', { empty: true }),
      ...enabled(b),
    };
  },
  fromDevice: (row) => ({
    network: str(row.network),
    gateway: str(row.gateway),
    description: str(row.descr),
    is_enabled: !bool(row.disabled),
  }),
  key: (row) => strOrNull(row.network),
  // The network may change with an update: nothing immutable to guard a PATCH with (§2).
  guard: () => ({}),
  query: (target) => new URLSearchParams({ network: target }),
};

/** `host.domain`, or the domain alone for an override of the bare domain (§2). */
const fqdn = (host: unknown, domain: unknown): string =>
  str(host) === '' ? str(domain) : `${str(host)}.${str(domain)}`;

const dnsOverrideSpec: KindSpec = {
  noun: 'DNS host override',
  one: '/api/v2/services/dns_resolver/host_override',
  many: '/api/v2/services/dns_resolver/host_overrides',
  subsystem: 'unbound',
  fields: { host: 'host', domain: 'domain', ip: 'ip', description: 'descr' },
  toDevice(raw) {
    const b = new Body('dns_override', raw);
    const ip = b.strings('ip');
    if (ip.length === 0) throw fieldError('dns_override', 'ip', 'must list at least one address');
    return {
      host: b.string('host', { empty: true }),
      domain: b.string('domain'),
      ip,
      descr: b.string('description', { empty: true }),
    };
  },
  fromDevice: (row) => ({
    host: str(row.host),
    domain: str(row.domain),
    ip: strList(row.ip),
    description: str(row.descr),
  }),
  extras: { aliases: [[], null] },
  key: (row) => (str(row.domain) === '' ? null : fqdn(row.host, row.domain)),
  // Overrides are re-sorted by host on every write (contract §7.9): host and domain pin the one meant.
  guard: () => ({}),
  query: () => null,
};

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

const dhcpMappingSpec: KindSpec = {
  noun: 'DHCP static mapping',
  one: '/api/v2/services/dhcp_server/static_mapping',
  many: '/api/v2/services/dhcp_server/static_mappings',
  subsystem: 'dhcpd',
  fields: { interface: 'parent_id', mac: 'mac', ip: 'ipaddr', hostname: 'hostname', description: 'descr' },
  // An unknown interface is a missing parent DHCP server (404 `MODEL_PARENT_OBJECT_NOT_FOUND`).
  errorFields: { MODEL_PARENT_: 'interface' },
  toDevice(raw) {
    const b = new Body('dhcp_static_mapping', raw);
    const mac = b.string('mac');
    if (!MAC.test(mac)) {
      throw fieldError('dhcp_static_mapping', 'mac', 'must be a MAC address (aa:bb:cc:dd:ee:ff)');
    }
    const hostname = b.string('hostname', { empty: true });
    return {
      parent_id: b.string('interface'),
      mac,
      ipaddr: b.string('ip'),
      hostname: hostname === '' ? null : hostname,
      descr: b.string('description', { empty: true }),
    };
  },
  fromDevice: (row) => ({
    interface: str(row.parent_id),
    mac: str(row.mac),
    ip: str(row.ipaddr),
    hostname: str(row.hostname),
    description: str(row.descr),
  }),
  extras: {
    cid: [null, ''],
    domain: ['', null],
    domainsearchlist: [[], null],
    defaultleasetime: [7200, null],
    maxleasetime: [86400, null],
    gateway: ['', null],
    dnsserver: [[], null],
    winsserver: [[], null],
    ntpserver: [[], null],
    arp_table_static_entry: [false, null],
  },
  key: (row) =>
    str(row.parent_id) === '' || str(row.mac) === '' ? null : `${str(row.parent_id)}/${str(row.mac)}`,
  // `mac` is unique per server: sending it back refuses nothing, but the lookup right before pins the row.
  guard: () => ({}),
  query: (target) => {
    const [parent = '', mac = ''] = target.split(/\/(.*)/s);
    return new URLSearchParams({ parent_id: parent, mac });
  },
  checkUpdate(target, device) {
    if (target.split('/')[0] !== device.parent_id) {
      const why = "cannot change: a mapping belongs to its interface's DHCP server (create there, delete here)";
      throw fieldError('dhcp_static_mapping', 'interface', why);
    }
  },
};

/**
 * Kinds made of one pfRest object each; `vlan_interface` and `dhcp_scope` are served by `l3-write.ts`, and
 * `bridge_vlan` is not mapped (write.bridge_vlans is off).
 */
type SpecKind = Exclude<LiveObjectKind, 'vlan_interface' | 'dhcp_scope' | 'bridge_vlan'>;

const SPECS: Record<SpecKind, KindSpec> = {
  firewall_rule: ruleSpec,
  port_forward: portForwardSpec,
  source_nat: sourceNatSpec,
  alias: aliasSpec,
  static_route: staticRouteSpec,
  dns_override: dnsOverrideSpec,
  dhcp_static_mapping: dhcpMappingSpec,
};

/** The live writer of a pfSense adapter built by this vendor's descriptor. */
export function pfsenseLiveWriter(adapter: FirewallAdapter): LiveWriter {
  if (!(adapter instanceof PfSenseAdapter)) throw new TypeError(`not a pfSense adapter: ${adapter.vendor}`);
  return new PfSenseLiveWriter(adapter);
}

/** Subsystems of the firewall's own apply (contract §7.3), plus `filter` for rule writes pfRest does not flag. */
const FIREWALL_SUBSYSTEMS = ['aliases', 'natconf', 'filter', 'shaper'];
/** Subsystems with their own apply endpoint, each reporting `applied` for its one flag (§3). */
const APPLIED_ALONE: ReadonlyArray<readonly [string, string]> = [
  ['staticroutes', '/api/v2/routing/apply'],
  ['unbound', '/api/v2/services/dns_resolver/apply'],
  ['dhcpd', '/api/v2/services/dhcp_server/apply'],
];

/** The interface apply (docs/reference/brain-l3.md §1.3): `applied` and the pending interface ids. */
const INTERFACES_APPLY = ['interfaces', '/api/v2/interface/apply'] as const;

export class PfSenseLiveWriter implements LiveWriter {
  /** Rule writes leave no dirty flag on the device (contract §6.1): remembered here until the next apply. */
  private rulesStaged = false;
  /**
   * Interface writes wait for `/api/v2/interface/apply`, which only a writer that staged one reads or runs: keys
   * granted before VLAN interfaces existed lack its privileges (docs/reference/brain-l3.md §4.1).
   */
  private interfacesStaged = false;

  private readonly l3: PfSenseL3Writes;

  constructor(private readonly api: WriteSource) {
    this.l3 = new PfSenseL3Writes(api);
  }

  private spec(kind: LiveWriteKind): KindSpec {
    if (kind === 'vlan_interface' || kind === 'dhcp_scope') {
      throw new PfSenseError('PFS500', `\`${kind}\` is written through its own two-object path.`, { field: 'kind' });
    }
    if (kind === 'service' || kind === 'power') {
      const detail = `\`${kind}\` has no stored object to read or write as a body.`;
      throw new PfSenseError('PFS500', detail, { field: 'kind' });
    }
    if (kind === 'bridge_vlan') {
      throw new PfSenseError('PFS500', `pfSense live writes do not cover \`${kind}\`.`, { field: 'kind' });
    }
    return SPECS[kind];
  }

  /** The pfRest fields of a body: its neutral fields, then its `vendor_data` as read (§1). */
  private toDevice(kind: LiveWriteKind, spec: KindSpec, body: unknown): Row {
    const fields = spec.toDevice(body);
    const extra = (body as Row).vendor_data;
    if (extra === undefined) return fields;
    if (!isRow(extra)) throw fieldError(kind, 'vendor_data', 'must be an object');
    for (const name of Object.keys(extra)) {
      if (spec.extras?.[name] === undefined) {
        throw fieldError(kind, `vendor_data.${name}`, 'is not a field pfSense keeps beyond the neutral ones');
      }
    }
    return { ...fields, ...extra };
  }

  /** The neutral body of a row, with `vendor_data` holding the extras that differ from a plain create's. */
  private fromDevice(spec: KindSpec, row: Row): LiveObject {
    const body = spec.fromDevice(row);
    const differs = ([field, defaults]: [string, readonly unknown[]]) =>
      field in row && !defaults.some((d) => JSON.stringify(d) === JSON.stringify(row[field]));
    const extra = Object.entries(spec.extras ?? {}).filter(differs);
    return extra.length === 0 ? body : { ...body, vendor_data: Object.fromEntries(extra.map(([f]) => [f, row[f]])) };
  }

  private async rows(spec: KindSpec, query: URLSearchParams | null): Promise<Row[]> {
    const what = `list ${spec.noun}s`;
    const data = await this.api.request('PFS300', what, 'GET', spec.many, query ? { query } : {});
    if (!Array.isArray(data) || !data.every(isRow)) {
      const detail = `Unexpected data from ${spec.many} while trying to ${what}: not a list of objects.`;
      throw new PfSenseError('PFS400', detail);
    }
    return data;
  }

  /** The one row whose stable key is `target`, with its current position id; null when none. */
  private async find(spec: KindSpec, target: string): Promise<Row | null> {
    const matches = (await this.rows(spec, spec.query(target))).filter((row) => spec.key(row) === target);
    if (matches.length > 1) {
      throw new PfSenseError(
        'PFS500',
        `${matches.length} ${spec.noun}s share the key \`${target}\` (docs/reference/pfsense-live-writes.md §2); ` +
          'change one of them on the gateway first.',
        { field: 'target' },
      );
    }
    return matches[0] ?? null;
  }

  private async mustFind(spec: KindSpec, target: string): Promise<Row> {
    const row = await this.find(spec, target);
    if (row === null) {
      const detail = `No ${spec.noun} \`${target}\` on the gateway.`;
      throw new PfSenseError('PFS500', detail, { field: 'target', httpStatus: 404 });
    }
    return row;
  }

  /** One write call; a pfRest validation error names the neutral field as well as pfRest's. */
  private async send(
    spec: KindSpec,
    what: string,
    method: 'POST' | 'PATCH' | 'DELETE',
    params: { query?: URLSearchParams; body?: unknown },
  ): Promise<Row> {
    let data: unknown;
    try {
      data = await this.api.request('PFS500', what, method, spec.one, params);
    } catch (err) {
      throw this.named(spec, err);
    }
    if (!isRow(data)) {
      throw new PfSenseError('PFS400', `Unexpected data from ${spec.one} while trying to ${what}: not an object.`);
    }
    return data;
  }

  /** A pfRest validation error (it names pfRest's field) re-raised naming the neutral field too. */
  private named(spec: KindSpec, err: unknown): unknown {
    if (!(err instanceof PfSenseError) || err.code !== 'PFS500') return err;
    const id = err.responseId ?? '';
    const byId = Object.entries(spec.errorFields ?? {}).find(([prefix]) => id.startsWith(prefix))?.[1];
    const device = /Field `([a-z_]+)`/.exec(err.message)?.[1];
    const extra = device !== undefined && spec.extras?.[device] !== undefined ? `vendor_data.${device}` : undefined;
    const field = byId ?? Object.entries(spec.fields).find(([, d]) => d === device)?.[0] ?? extra ?? device;
    if (field === undefined) return err;
    const said = err.message
      .slice(`PFS500 ${PFS_CATALOG.PFS500.title}: `.length)
      .replace(` ${PFS_CATALOG.PFS500.check}`, '');
    return new PfSenseError('PFS500', `${said} (field \`${field}\`)`, {
      field,
      ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
      ...(err.responseId === undefined ? {} : { responseId: err.responseId }),
      cause: err,
    });
  }

  private staged(spec: KindSpec): string[] {
    if (spec === ruleSpec) this.rulesStaged = true;
    return [spec.subsystem];
  }

  /** Every object of a one-object kind in its neutral body, with the target a write takes for it (live reads). */
  async objects(kind: 'dns_override' | 'dhcp_static_mapping'): Promise<Array<LiveObject & { target: string }>> {
    const spec = SPECS[kind];
    return (await this.rows(spec, null)).flatMap((row) => {
      const target = spec.key(row);
      return target === null ? [] : [{ target, ...this.fromDevice(spec, row) }];
    });
  }

  /** Every VLAN interface or DHCP scope, with its target (live reads). */
  l3Objects(kind: 'vlan_interface' | 'dhcp_scope'): Promise<Array<LiveObject & { target: string }>> {
    return kind === 'vlan_interface' ? this.l3.vlanInterfaces() : this.l3.dhcpScopes();
  }

  async read(kind: LiveWriteKind, target: string): Promise<LiveObject | null> {
    if (kind === 'service') {
      const service = await this.service(target);
      if (service === null) return null;
      // Running reads back as `start` (so does a `restart`), stopped as `stop` (§1.8).
      return { name: str(service.name), action: bool(service.status) ? 'start' : 'stop' };
    }
    // A power operation leaves nothing to read back: the box goes away (§1.9).
    if (kind === 'power') return null;
    if (kind === 'vlan_interface' || kind === 'dhcp_scope') return this.l3.read(kind, target);
    const spec = this.spec(kind);
    const row = await this.find(spec, target);
    return row === null ? null : this.fromDevice(spec, row);
  }

  async write(change: LiveWrite): Promise<LiveWriteResult> {
    if (change.kind === 'service') return this.control(change.target, change.body);
    if (change.kind === 'power') {
      const path = change.op === 'reboot' ? '/api/v2/diagnostics/reboot' : '/api/v2/diagnostics/halt_system';
      await this.api.request('PFS500', `${change.op} the gateway`, 'POST', path, { body: {} });
      return { target: null, pending: [] };
    }
    if (change.kind === 'vlan_interface' || change.kind === 'dhcp_scope') {
      const result = await this.l3.write(change);
      if (result.pending.includes('interfaces')) this.interfacesStaged = true;
      return result;
    }
    const spec = this.spec(change.kind);
    switch (change.op) {
      case 'create': {
        const fields = this.toDevice(change.kind, spec, change.body);
        const before = 'before' in change ? change.before : null;
        // pfRest appends, then moves the object to `placement` (contract §6.4): the position the rule had to precede.
        const placement = before === null || before === undefined ? {} : { placement: await this.position(spec, before) };
        return { target: await this.create(spec, { ...fields, ...placement }), pending: this.staged(spec) };
      }
      case 'update': {
        const fields = this.toDevice(change.kind, spec, change.body);
        const row = await this.mustFind(spec, change.target);
        spec.checkUpdate?.(change.target, fields);
        const written = await this.patch(spec, row, fields, `update ${spec.noun} \`${change.target}\``);
        return { target: spec.key(written), pending: this.staged(spec) };
      }
      case 'toggle': {
        const enabled = new Body(change.kind, change.body).boolean('is_enabled');
        const row = await this.mustFind(spec, change.target);
        const what = `${enabled ? 'enable' : 'disable'} ${spec.noun} \`${change.target}\``;
        const written = await this.patch(spec, row, { disabled: !enabled }, what);
        return { target: spec.key(written), pending: this.staged(spec) };
      }
      case 'delete': {
        const row = await this.mustFind(spec, change.target);
        const removed = await this.send(spec, `delete ${spec.noun} \`${change.target}\``, 'DELETE', {
          query: this.address(row),
        });
        if (spec.key(removed) !== change.target) {
          throw new PfSenseError(
            'PFS500',
            `Deleting ${spec.noun} \`${change.target}\` removed \`${String(spec.key(removed))}\`: the list ` +
              'changed between the lookup and the delete; restore it on the gateway.',
          );
        }
        return { target: change.target, pending: this.staged(spec) };
      }
    }
  }

  /** The service row named `name` (its `id` is a list position, contract §7.9), or null. */
  private async service(name: string): Promise<Row | null> {
    const what = 'list services';
    const data = await this.api.request('PFS300', what, 'GET', '/api/v2/status/services');
    if (!Array.isArray(data) || !data.every(isRow)) {
      const detail = `Unexpected data from /api/v2/status/services while trying to ${what}: not a list.`;
      throw new PfSenseError('PFS400', detail);
    }
    return data.find((row) => row.name === name) ?? null;
  }

  private async control(target: string, body: unknown): Promise<LiveWriteResult> {
    const b = new Body('service', body);
    const name = b.string('name');
    const action = b.oneOf('action', ['start', 'stop', 'restart'] as const);
    if (name !== target) throw fieldError('service', 'name', `must be the target \`${target}\``);
    const row = await this.service(name);
    if (row === null) {
      const detail = `No service \`${name}\` on the gateway.`;
      throw new PfSenseError('PFS500', detail, { field: 'target', httpStatus: 404 });
    }
    // `name` goes with the position id: pfRest refuses a name that is not the service's at that id.
    await this.api.request('PFS500', `${action} service \`${name}\``, 'POST', '/api/v2/status/service', {
      body: { id: row.id, name, action },
    });
    return { target: name, pending: [] };
  }

  /** The current position of the rule a new one is placed before (§1.1). */
  private async position(spec: KindSpec, before: string): Promise<unknown> {
    const row = await this.find(spec, before);
    if (row === null) throw fieldError('firewall_rule', 'before', `names no rule on the gateway (\`${before}\`)`);
    return row.id;
  }

  /** `id` (and `parent_id`) of a row, as a DELETE query. */
  private address(row: Row): URLSearchParams {
    const query = new URLSearchParams({ id: str(row.id) });
    if (row.parent_id !== undefined) query.set('parent_id', str(row.parent_id));
    return query;
  }

  private patch(spec: KindSpec, row: Row, fields: Row, what: string): Promise<Row> {
    const parent = row.parent_id === undefined ? {} : { parent_id: row.parent_id };
    return this.send(spec, what, 'PATCH', { body: { ...parent, id: row.id, ...spec.guard(row), ...fields } });
  }

  /** POSTs the object and returns its stable key; a whole-second key shared with another object is redone (§2). */
  private async create(spec: KindSpec, fields: Row): Promise<string> {
    const what = `create ${spec.noun}`;
    for (let attempt = 0; ; attempt++) {
      const created = await this.send(spec, what, 'POST', { body: fields });
      const key = spec.key(created);
      if (key === null) throw new PfSenseError('PFS400', `${spec.one} created a ${spec.noun} without its key.`);
      if (spec.stampedKey === undefined) return key;
      const twins = (await this.rows(spec, spec.query(key))).filter((row) => spec.key(row) === key);
      if (twins.length <= 1) return key;
      const withdraw = `withdraw the ${spec.noun} whose key \`${key}\` collided`;
      await this.send(spec, withdraw, 'DELETE', { query: this.address(created) });
      if (attempt >= 2) {
        const detail = `Every new ${spec.noun} got a \`${spec.stampedKey}\` another one already has (\`${key}\`).`;
        throw new PfSenseError('PFS500', detail, { field: spec.stampedKey });
      }
      await sleep(COLLISION_WAIT_MS);
    }
  }

  async apply(): Promise<void> {
    // Always: rule writes never flag a subsystem, so a writer cannot know whether another one left some (§3).
    await this.api.apply();
    this.rulesStaged = false;
    // Interfaces before DHCP: a DHCP scope is checked against its interface's live address (docs/reference/brain-l3.md §4.2).
    const alone = this.interfacesStaged ? [INTERFACES_APPLY, ...APPLIED_ALONE] : APPLIED_ALONE;
    for (const [subsystem, path] of alone) {
      if (await this.applied(path)) continue;
      // These answer with the status from before they ran (contract §7.9): confirm with a fresh read.
      await this.api.request('PFS200', `apply the pending ${subsystem} changes`, 'POST', path, { body: {} });
      if (!(await this.applied(path))) {
        throw new PfSenseError('PFS200', `The ${subsystem} changes are still pending after ${path}.`);
      }
    }
    this.interfacesStaged = false;
  }

  private async applied(path: string): Promise<boolean> {
    const what = 'read the pending changes';
    const data = await this.api.request('PFS200', what, 'GET', path);
    if (!isRow(data) || typeof data.applied !== 'boolean') {
      const detail = `Unexpected data from ${path} while trying to ${what}: no \`applied\` boolean.`;
      throw new PfSenseError('PFS400', detail);
    }
    return data.applied;
  }

  async pendingSubsystems(): Promise<string[]> {
    const [status, ...alone] = await Promise.all([
      this.api.pendingStatus(),
      ...(this.interfacesStaged ? [INTERFACES_APPLY, ...APPLIED_ALONE] : APPLIED_ALONE).map(async ([subsystem, path]) =>
        (await this.applied(path)) ? [] : [subsystem],
      ),
    ]);
    const pending = new Set(status.pending);
    if (this.rulesStaged) pending.add('filter');
    return [...FIREWALL_SUBSYSTEMS.filter((s) => pending.has(s)), ...alone.flat()];
  }
}

/**
 * The target a live write takes for a NAT row as a live read returns it, so a staged change and its preview name
 * the same entry (docs/reference/pfsense-live-writes.md §2); null when the row has no usable key.
 */
export function natWriteTarget(kind: 'port_forward' | 'source_nat', row: Row): string | null {
  return (kind === 'port_forward' ? portForwardSpec : sourceNatSpec).key(row);
}
