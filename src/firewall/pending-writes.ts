/**
 * @module What a live write is, before and after the device sees it (docs/reference/freesdn-firewall-module.md
 * §10.3): request bodies checked into the neutral `LiveWrite` of src/adapters/live-write.ts (each failure a 400
 * naming the field), the capability flag and permission each kind needs, which operations need `confirmed=true`
 * at apply time, the inverse of an applied write (for revert and automatic restore) and the read-back check.
 * Pure: no store, no device.
 */
import type {
  LiveAliasBody,
  LiveBridgeVlanBody,
  LiveBodies,
  LiveObjectKind,
  LiveToggleKind,
  LiveDhcpScopeBody,
  LiveDhcpStaticMappingBody,
  LiveDnsOverrideBody,
  LiveVlanInterfaceBody,
  LiveObject,
  LivePortForwardBody,
  LiveRuleBody,
  LiveSourceNatBody,
  LiveStaticRouteBody,
  LiveWrite,
  LiveWriteKind,
  LiveWriteOp,
} from '../adapters/live-write.ts';
import type { Capability } from '../adapters/registry.ts';
import { ValidationError } from '../errors.ts';
import type { Permission } from '../identity/permissions.ts';
import { formatCidr, normalizeIp, parseCidrResult } from '../net/ip.ts';
import {
  checkPortsFitProtocol,
  requireAddress,
  requireDescription,
  requireEndpoint,
  requireOneOf,
  requirePort,
  requireZone,
} from './fields.ts';

/** The capability flag a kind needs (`write.*`, src/adapters/registry.ts). */
export const WRITE_CAPABILITY: Readonly<Record<LiveWriteKind, Capability>> = {
  firewall_rule: 'write.rules',
  port_forward: 'write.nat',
  source_nat: 'write.nat',
  alias: 'write.aliases',
  static_route: 'write.routes',
  dns_override: 'write.dns',
  dhcp_static_mapping: 'write.dhcp',
  bridge_vlan: 'write.bridge_vlans',
  vlan_interface: 'write.vlans',
  dhcp_scope: 'write.dhcp_scopes',
  service: 'write.services',
  power: 'write.power',
};

/** Reboot and halt are `firewall.admin`; every other live write `firewall.manage_rules` (§20). */
export function permissionFor(kind: LiveWriteKind): Permission {
  return kind === 'power' ? 'firewall.admin' : 'firewall.manage_rules';
}

/** Deletes and power operations are applied only with `confirmed=true` given at apply time. */
export function needsConfirmation(op: LiveWriteOp): boolean {
  return op === 'delete' || op === 'reboot' || op === 'halt';
}

/** Kinds whose change the semantic preview (newly passing / blocked traffic, lock-out) can judge. */
export function hasSemanticPreview(kind: LiveWriteKind): boolean {
  return kind === 'firewall_rule' || kind === 'alias' || kind === 'port_forward' || kind === 'source_nat';
}

type Body = Record<string, unknown>;

const has = (body: Body, key: string): boolean => body[key] !== undefined;
const str = (body: Body, key: string, fallback: string): unknown => (has(body, key) ? body[key] : fallback);

function requireFlag(body: Body, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValidationError(key, `${key} must be true or false`);
  return value;
}

function requireInterface(field: string, value: unknown): string {
  const zone = value === undefined ? null : requireZone(field, value);
  if (zone === null) throw new ValidationError(field, `${field} is required (an interface name such as wan or lan)`);
  return zone;
}

/** A port or range as live bodies write it: a range is `low:high` (the devices' own notation). */
export function livePort(port: string): string {
  return port.replace(/^(\d+)-(\d+)$/, '$1:$2');
}

/** A port field of a rule: `any` and absence both mean "no port condition" (null). */
function optionalPort(body: Body, key: string): string | null {
  if (body[key] === undefined || body[key] === null) return null;
  const port = requirePort(key, body[key]);
  return port === 'any' ? null : livePort(port);
}

function requireIp(field: string, value: unknown): string {
  const ip = typeof value === 'string' ? normalizeIp(value.trim()) : null;
  if (ip === null) throw new ValidationError(field, `${field} must be an IPv4 or IPv6 address`);
  return ip;
}

/** A single port or range (never `any` or an alias): what NAT translates to. */
function requireConcretePort(field: string, value: unknown): string {
  const port = requirePort(field, value);
  if (!/^\d+(-\d+)?$/.test(port)) throw new ValidationError(field, `${field} must be a port or a range low:high`);
  return livePort(port);
}

/** An interface's own address (`wan:ip`), else what `requireAddress` accepts. */
function requireInterfaceAddress(field: string, value: unknown, allowAny: boolean): string {
  if (typeof value === 'string' && /^[a-z][a-z0-9_]{0,31}:ip$/.test(value)) return value;
  return requireAddress(field, value, { allowAny });
}

/** A device object's name (service, route gateway): letters, digits and `_ . -`, 1–64 characters. */
export function requireObjectName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(value)) {
    throw new ValidationError(field, `${field} must be 1-64 letters, digits and _ . - (starting with a letter or digit)`);
  }
  return value;
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const DNS_NAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;

function requireMac(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) {
    throw new ValidationError(field, `${field} must be a MAC address like 00:11:22:33:44:55`);
  }
  return value.toLowerCase();
}

export function ruleBody(body: Body): LiveRuleBody {
  const protocol = requireOneOf('protocol', str(body, 'protocol', 'any'), [
    'any',
    'tcp',
    'udp',
    'tcp/udp',
    'icmp',
  ] as const);
  const rule: LiveRuleBody = {
    action: requireOneOf('action', body.action, ['allow', 'deny', 'reject'] as const),
    interface: requireInterface('interface', body.interface),
    ip_version: requireOneOf('ip_version', str(body, 'ip_version', 'inet'), ['inet', 'inet6', 'inet46'] as const),
    protocol,
    source_address: requireAddress('source_address', str(body, 'source_address', 'any')),
    source_port: optionalPort(body, 'source_port'),
    dest_address: requireAddress('dest_address', str(body, 'dest_address', 'any')),
    dest_port: optionalPort(body, 'dest_port'),
    description: requireDescription('description', str(body, 'description', '')),
    is_enabled: requireFlag(body, 'is_enabled', true),
    log_enabled: requireFlag(body, 'log_enabled', false),
  };
  checkPortsFitProtocol(protocol, { source_port: rule.source_port, dest_port: rule.dest_port });
  return rule;
}

function portForwardBody(body: Body): LivePortForwardBody {
  return {
    interface: requireInterface('interface', body.interface),
    protocol: requireOneOf('protocol', str(body, 'protocol', 'tcp'), ['tcp', 'udp', 'tcp/udp'] as const),
    source_address: requireAddress('source_address', str(body, 'source_address', 'any')),
    dest_address: requireInterfaceAddress('dest_address', body.dest_address, true),
    dest_port: requireConcretePort('dest_port', body.dest_port),
    target_address: requireIp('target_address', body.target_address),
    target_port: requireConcretePort('target_port', body.target_port),
    description: requireDescription('description', str(body, 'description', '')),
    is_enabled: requireFlag(body, 'is_enabled', true),
  };
}

function sourceNatBody(body: Body): LiveSourceNatBody {
  return {
    interface: requireInterface('interface', body.interface),
    protocol: requireOneOf('protocol', str(body, 'protocol', 'any'), ['any', 'tcp', 'udp', 'tcp/udp'] as const),
    source_address: requireAddress('source_address', body.source_address),
    dest_address: requireAddress('dest_address', str(body, 'dest_address', 'any')),
    target_address: requireInterfaceAddress('target_address', body.target_address, false),
    description: requireDescription('description', str(body, 'description', '')),
    is_enabled: requireFlag(body, 'is_enabled', true),
  };
}

function aliasEntry(type: LiveAliasBody['type'], field: string, value: unknown): string {
  switch (type) {
    case 'host': {
      const endpoint = requireEndpoint(field, value);
      if (endpoint === null) throw new ValidationError(field, `${field} must not be empty`);
      return endpoint;
    }
    case 'network':
      return requireAddress(field, value, { allowAny: false });
    case 'port': {
      const port = requirePort(field, value);
      if (port === 'any') throw new ValidationError(field, `${field} must be a port, a range or an alias name`);
      return port;
    }
  }
}

/** `checkName` is the vendor's own alias naming rule (its descriptor's `listNaming`). */
function aliasBody(body: Body, checkName: (name: string) => string | null): LiveAliasBody {
  const name = body.name;
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError('name', 'name is required');
  const problem = checkName(name);
  if (problem !== null) throw new ValidationError('name', `name: ${problem}`);
  const type = requireOneOf('type', body.type, ['host', 'network', 'port'] as const);
  const entries = body.entries ?? [];
  if (!Array.isArray(entries)) throw new ValidationError('entries', 'entries must be a list');
  if (entries.length > 4096) throw new ValidationError('entries', 'entries must list at most 4096 entries');
  return {
    name,
    type,
    description: requireDescription('description', str(body, 'description', '')),
    entries: entries.map((entry: unknown, i) => {
      const item = (typeof entry === 'object' && entry !== null ? entry : {}) as Body;
      return {
        address: aliasEntry(type, `entries.${i}.address`, item.address),
        detail: requireDescription(`entries.${i}.detail`, str(item, 'detail', '')),
      };
    }),
  };
}

function staticRouteBody(body: Body): LiveStaticRouteBody {
  const parsed = typeof body.network === 'string' ? parseCidrResult(body.network.trim(), { strict: true }) : null;
  if (parsed === null || !parsed.ok) {
    throw new ValidationError('network', `network must be a CIDR prefix${parsed ? `: ${parsed.reason}` : ''}`);
  }
  return {
    network: formatCidr(parsed.cidr),
    gateway: requireObjectName('gateway', body.gateway),
    description: requireDescription('description', str(body, 'description', '')),
    is_enabled: requireFlag(body, 'is_enabled', true),
  };
}

function dnsOverrideBody(body: Body): LiveDnsOverrideBody {
  // An empty host overrides the whole domain.
  if (typeof body.host !== 'string' || (body.host !== '' && !HOST_LABEL.test(body.host))) {
    throw new ValidationError('host', 'host must be empty or one DNS label (letters, digits, -)');
  }
  if (typeof body.domain !== 'string' || !DNS_NAME.test(body.domain)) {
    throw new ValidationError('domain', 'domain must be a DNS name');
  }
  const ips = body.ip;
  if (!Array.isArray(ips) || ips.length === 0 || ips.length > 16) {
    throw new ValidationError('ip', 'ip must list 1 to 16 addresses');
  }
  return {
    host: body.host.toLowerCase(),
    domain: body.domain.toLowerCase(),
    ip: ips.map((ip: unknown, i) => requireIp(`ip.${i}`, ip)),
    description: requireDescription('description', str(body, 'description', '')),
  };
}

function dhcpMappingBody(body: Body): LiveDhcpStaticMappingBody {
  const hostname = str(body, 'hostname', '');
  if (typeof hostname !== 'string' || (hostname !== '' && !HOST_LABEL.test(hostname))) {
    throw new ValidationError('hostname', 'hostname must be empty or one DNS label (letters, digits, -)');
  }
  return {
    interface: requireInterface('interface', body.interface),
    mac: requireMac('mac', body.mac),
    ip: requireIp('ip', body.ip),
    hostname,
    description: requireDescription('description', str(body, 'description', '')),
  };
}

/** A bridge member port or bridge name as the devices spell interfaces: 1-64 printable characters, no comma. */
function requirePortName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,63}$/.test(value)) {
    throw new ValidationError(field, `${field} must be an interface name: 1-64 letters, digits and _ . @ : + -`);
  }
  return value;
}

/** A port list: sorted, without duplicates (the order means nothing to a bridge). */
function requirePortList(field: string, value: unknown): string[] {
  const list = value ?? [];
  if (!Array.isArray(list)) throw new ValidationError(field, `${field} must be a list of interface names`);
  if (list.length > 256) throw new ValidationError(field, `${field} must list at most 256 ports`);
  const names = list.map((name: unknown, i) => requirePortName(`${field}.${i}`, name));
  return [...new Set(names)].sort();
}

/**
 * A VLAN on a bridge (docs/adr/0255-bridge-vlan-live-kind.md): an id 1-4094 (0 and 4095 are reserved by
 * 802.1Q), a port never both tagged and untagged in the same VLAN, at least one port.
 */
function bridgeVlanBody(body: Body): LiveBridgeVlanBody {
  const vlanId = body.vlan_id;
  if (typeof vlanId !== 'number' || !Number.isInteger(vlanId) || vlanId < 1 || vlanId > 4094) {
    throw new ValidationError('vlan_id', 'vlan_id must be an integer from 1 to 4094');
  }
  const tagged = requirePortList('tagged', body.tagged);
  const untagged = requirePortList('untagged', body.untagged);
  const both = tagged.find((port) => untagged.includes(port));
  if (both !== undefined) throw new ValidationError('untagged', `untagged: ${both} is also tagged in this VLAN`);
  if (tagged.length + untagged.length === 0) throw new ValidationError('tagged', 'tagged or untagged must name a port');
  return {
    bridge: requirePortName('bridge', body.bridge),
    vlan_id: vlanId,
    tagged,
    untagged,
    description: requireDescription('description', str(body, 'description', '')),
  };
}

/** A host address with its prefix length, of the given family, or null when absent / null. */
function optionalInterfaceAddress(field: string, value: unknown, family: 4 | 6): string | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === 'string' ? value.trim() : '';
  const slash = text.lastIndexOf('/');
  const address = slash > 0 ? normalizeIp(text.slice(0, slash)) : null;
  const bits = slash > 0 ? text.slice(slash + 1) : '';
  const max = family === 4 ? 32 : 128;
  const ok =
    address !== null &&
    address.includes(':') === (family === 6) &&
    /^\d{1,3}$/.test(bits) &&
    Number(bits) >= 1 &&
    Number(bits) <= max;
  if (!ok) {
    const example = family === 4 ? '10.20.0.1/24' : '2001:db8:20::1/64';
    throw new ValidationError(field, `${field} must be an IPv${family} address with its prefix length (${example}) or null`);
  }
  return `${address}/${Number(bits)}`;
}

function vlanInterfaceBody(body: Body): LiveVlanInterfaceBody {
  const tag = body.tag;
  if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 1 || tag > 4094) {
    throw new ValidationError('tag', 'tag must be a VLAN id from 1 to 4094');
  }
  const name = body.name;
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name)) {
    throw new ValidationError('name', 'name must be 1-32 letters, digits and _ (starting with a letter)');
  }
  return {
    parent: requireObjectName('parent', body.parent),
    tag,
    name,
    ipv4: optionalInterfaceAddress('ipv4', body.ipv4, 4),
    ipv6: optionalInterfaceAddress('ipv6', body.ipv6, 6),
    description: requireDescription('description', str(body, 'description', '')),
    is_enabled: requireFlag(body, 'is_enabled', true),
  };
}

function requireIpv4(field: string, value: unknown): string {
  const ip = requireIp(field, value);
  if (ip.includes(':')) throw new ValidationError(field, `${field} must be an IPv4 address`);
  return ip;
}

function dhcpScopeBody(body: Body): LiveDhcpScopeBody {
  const servers = body.dns_servers ?? [];
  if (!Array.isArray(servers) || servers.length > 4) {
    throw new ValidationError('dns_servers', 'dns_servers must list at most 4 addresses');
  }
  return {
    interface: requireInterface('interface', body.interface),
    range_from: requireIpv4('range_from', body.range_from),
    range_to: requireIpv4('range_to', body.range_to),
    gateway: body.gateway === undefined || body.gateway === null ? null : requireIpv4('gateway', body.gateway),
    dns_servers: servers.map((ip: unknown, i) => requireIpv4(`dns_servers.${i}`, ip)),
    is_enabled: requireFlag(body, 'is_enabled', true),
  };
}

/** A create request's body, checked into the neutral write of its kind. */
export function createWrite(
  kind: LiveObjectKind,
  body: Body,
  checkAliasName: (name: string) => string | null,
): LiveWrite {
  switch (kind) {
    case 'firewall_rule':
      return { kind, op: 'create', target: null, body: ruleBody(body) };
    case 'port_forward':
      return { kind, op: 'create', target: null, body: portForwardBody(body) };
    case 'source_nat':
      return { kind, op: 'create', target: null, body: sourceNatBody(body) };
    case 'alias':
      return { kind, op: 'create', target: null, body: aliasBody(body, checkAliasName) };
    case 'static_route':
      return { kind, op: 'create', target: null, body: staticRouteBody(body) };
    case 'dns_override':
      return { kind, op: 'create', target: null, body: dnsOverrideBody(body) };
    case 'dhcp_static_mapping':
      return { kind, op: 'create', target: null, body: dhcpMappingBody(body) };
    case 'bridge_vlan':
      return { kind, op: 'create', target: null, body: bridgeVlanBody(body) };
    case 'vlan_interface':
      return { kind, op: 'create', target: null, body: vlanInterfaceBody(body) };
    case 'dhcp_scope':
      return { kind, op: 'create', target: null, body: dhcpScopeBody(body) };
  }
}

/** A device object's id from a path (a rule tracker, an alias name …): printable, 1–128 characters. */
export function requireTarget(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || /[\p{Cc}\s]/u.test(value)) {
    throw new ValidationError(field, `${field} must be a device object id of 1-128 printable characters`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// After the write: the read-back check and the inverse

/** One field the device shows differently from what was written. */
export interface VerificationDifference {
  field: string;
  expected: unknown;
  actual: unknown;
}

/** JSON text with object keys sorted: two values are the same whatever order the device lists keys in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/**
 * What the device's read-back shows differently from the write: every written field for a create or update,
 * `is_enabled` for a toggle, the object's absence for a delete, whether a controlled service runs (a restart reads
 * back as `start`). Null when there is nothing to read back (reboot, halt).
 */
export function verificationDifferences(
  write: LiveWrite,
  readBack: LiveObject | null,
): VerificationDifference[] | null {
  switch (write.op) {
    case 'reboot':
    case 'halt':
      return null;
    case 'delete':
      return readBack === null ? [] : [{ field: 'object', expected: null, actual: 'still present' }];
    case 'control': {
      const expected = write.body.action === 'restart' ? 'start' : write.body.action;
      const actual = readBack?.action ?? null;
      return actual === expected ? [] : [{ field: 'action', expected, actual }];
    }
    default: {
      if (readBack === null) return [{ field: 'object', expected: 'present', actual: null }];
      const expected = write.body as Record<string, unknown>;
      return Object.keys(expected)
        .filter((field) => !same(expected[field], readBack[field]))
        .map((field) => ({ field, expected: expected[field], actual: readBack[field] ?? null }));
    }
  }
}

/** The keys of a kind's body, to rebuild a body from a before-image (which may carry more). */
const BODY_KEYS: { readonly [K in LiveObjectKind]: ReadonlyArray<keyof LiveBodies[K]> } = {
  firewall_rule: [
    'action',
    'interface',
    'ip_version',
    'protocol',
    'source_address',
    'source_port',
    'dest_address',
    'dest_port',
    'description',
    'is_enabled',
    'log_enabled',
  ],
  port_forward: [
    'interface',
    'protocol',
    'source_address',
    'dest_address',
    'dest_port',
    'target_address',
    'target_port',
    'description',
    'is_enabled',
  ],
  source_nat: ['interface', 'protocol', 'source_address', 'dest_address', 'target_address', 'description', 'is_enabled'],
  alias: ['name', 'type', 'description', 'entries'],
  static_route: ['network', 'gateway', 'description', 'is_enabled'],
  dns_override: ['host', 'domain', 'ip', 'description'],
  dhcp_static_mapping: ['interface', 'mac', 'ip', 'hostname', 'description'],
  bridge_vlan: ['bridge', 'vlan_id', 'tagged', 'untagged', 'description'],
  vlan_interface: ['parent', 'tag', 'name', 'ipv4', 'ipv6', 'description', 'is_enabled'],
  dhcp_scope: ['interface', 'range_from', 'range_to', 'gateway', 'dns_servers', 'is_enabled'],
};

const OBJECT_KINDS = Object.keys(BODY_KEYS) as LiveObjectKind[];
const TOGGLE_KINDS: readonly LiveToggleKind[] = ['firewall_rule', 'port_forward', 'source_nat', 'static_route'];

function isObjectKind(kind: string): kind is LiveObjectKind {
  return (OBJECT_KINDS as readonly string[]).includes(kind);
}

/**
 * A kind's body rebuilt from a device object (a before-image): its own keys, plus the vendor's opaque
 * `vendor_data` when the read carried it (what the device keeps beyond the neutral fields), so writing it back
 * restores the object exactly.
 */
function bodyOf(kind: LiveObjectKind, object: LiveObject): Record<string, unknown> {
  const body = Object.fromEntries(BODY_KEYS[kind].map((key) => [key, object[key as string] ?? null]));
  return object.vendor_data === undefined ? body : { ...body, vendor_data: object.vendor_data };
}

/** A create or update whose body came from the device itself (a before-image of the same kind). */
function fromDeviceObject(
  kind: LiveObjectKind,
  op: 'create' | 'update',
  target: string | null,
  object: LiveObject,
  placement: Record<string, unknown> = {},
): LiveWrite {
  return { kind, op, target, body: bodyOf(kind, object), ...placement } as unknown as LiveWrite;
}

/**
 * The write that undoes `write`, given what the device held before (`before`) and the id the write produced
 * (`target`, a created object's new id); null when nothing can undo it (a restart, a reboot) or the
 * before-image is missing. A deleted object comes back as a create: the device gives it a new id; a deleted
 * rule goes back in front of `nextRule`, the rule that followed it (rule order is evaluation order).
 */
export function inverseOf(
  write: LiveWrite,
  before: LiveObject | null,
  target: string | null,
  nextRule: string | null = null,
): LiveWrite | null {
  switch (write.op) {
    case 'create':
      return target === null ? null : ({ kind: write.kind, op: 'delete', target, body: {} });
    case 'update':
      if (before === null) return null;
      return fromDeviceObject(write.kind, 'update', target ?? write.target, before);
    case 'toggle':
      if (before === null || typeof before.is_enabled !== 'boolean') return null;
      return { kind: write.kind, op: 'toggle', target: write.target, body: { is_enabled: before.is_enabled } };
    case 'delete':
      if (before === null) return null;
      return fromDeviceObject(write.kind, 'create', null, before, write.kind === 'firewall_rule' ? { before: nextRule } : {});
    case 'control': {
      const back = { start: 'stop', stop: 'start', restart: null } as const;
      const action = back[write.body.action];
      return action === null ? null : { ...write, body: { ...write.body, action } };
    }
    case 'reboot':
    case 'halt':
      return null;
  }
}

/** Whether `op` needs the object's current state read before it is written (to restore it later). */
export function readsBeforeImage(op: LiveWriteOp): boolean {
  return op === 'update' || op === 'toggle' || op === 'delete';
}

/** Whether `kind` / `op` is a write the contract has (src/adapters/live-write.ts `LiveWrite`). */
function isKnownWrite(kind: string, op: string): boolean {
  if (isObjectKind(kind)) {
    return ['create', 'update', 'delete'].includes(op) || (op === 'toggle' && (TOGGLE_KINDS as string[]).includes(kind));
  }
  return (kind === 'service' && op === 'control') || (kind === 'power' && (op === 'reboot' || op === 'halt'));
}

/** Whether `kind` has an enabled flag to toggle. */
export function isToggleKind(kind: LiveWriteKind): kind is LiveToggleKind {
  return (TOGGLE_KINDS as readonly string[]).includes(kind);
}

/** Rebuilds the write a pending-change row describes (columns + payload), checked against the contract's shapes. */
export function writeFromRow(row: {
  targetType: string;
  operation: string;
  targetVendorId: string | null;
  payload: unknown;
  placeBefore: string | null;
}): LiveWrite {
  const { targetType: kind, operation: op, targetVendorId: target } = row;
  if (!isKnownWrite(kind, op)) throw new Error(`pending change of unknown shape ${kind}:${op}`);
  if (op !== 'create' && op !== 'reboot' && op !== 'halt' && target === null) {
    throw new Error(`pending change ${kind}:${op} has no target`);
  }
  const placed = kind === 'firewall_rule' && op === 'create' && row.placeBefore !== null;
  return { kind, op, target, body: row.payload ?? {}, ...(placed ? { before: row.placeBefore } : {}) } as LiveWrite;
}

/** Where a rule create is placed (the rule it goes in front of), or null. */
export function placementOf(write: LiveWrite): string | null {
  return write.kind === 'firewall_rule' && write.op === 'create' ? (write.before ?? null) : null;
}
