/**
 * @module The RouterOS menus the emulator serves (docs/reference/routeros-api.md §3, §5, §6): each menu's
 * properties with their defaults, which of them are read-only, which verbs it has (add/set/remove/move), and the
 * menu-specific normalisation (address lists, rule ordering).
 */
import { isV4OrCidr, normaliseV4Address, normaliseV6Address } from './address.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { badRequest } from './errors.ts';

export interface FieldSpec {
  /** Printed when the property was never set; absent: not printed until set. */
  def?: string;
  kind?: 'bool' | 'duration' | 'int' | 'text';
  /** Read-only: printed, never written (writing it is `unknown parameter`). */
  ro?: boolean;
}

export interface RosRow {
  id: number;
  values: Record<string, string>;
  /** Built-in or timed: never persisted, printed `dynamic:"true"`, cannot be moved. */
  dynamic: boolean;
  /** Emulated-clock ms of creation. */
  createdAt: number;
  /** Emulated-clock ms the entry disappears at (address-list `timeout`), or null. */
  expiresAt: number | null;
}

export interface RowContext {
  now: number;
  bootAt: number;
  rows: RosRow[];
  /** The row being changed (set), or undefined on add. */
  row?: RosRow;
  /** The rows of another menu (bridge VLANs check the bridge's ports). */
  rowsOf: (path: string) => RosRow[];
}

export interface MenuSpec {
  path: string;
  fields: Record<string, FieldSpec>;
  required: string[];
  add: boolean;
  set: boolean;
  remove: boolean;
  move: boolean;
  /** Accepts `place-before` on add. */
  placeBefore: boolean;
  /** A GET `/<menu>/<name>` resolves rows by this property too (interfaces). */
  nameKey?: string;
  /** The table is runtime state only (never in the state file, empty after reboot). */
  ramOnly?: boolean;
  /**
   * Validates and normalises the merged values of an add/set in place; may set `expiresAt`/`dynamic` on the
   * returned patch. Throws RosError.
   */
  prepare?: (values: Record<string, string>, ctx: RowContext) => { expiresAt?: number | null; dynamic?: boolean };
  /** Computed properties printed beside the stored ones. */
  computed?: (row: RosRow, ctx: { now: number; bootAt: number }) => Record<string, string>;
}

/** RouterOS's date-time print form (v7.10+): `2026-12-07 03:40:00`, router local time (UTC here). */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function addressList(path: string, family: 4 | 6): MenuSpec {
  const normalise = family === 4 ? normaliseV4Address : normaliseV6Address;
  return {
    path,
    fields: {
      list: { kind: 'text' },
      address: { kind: 'text' },
      timeout: { kind: 'duration' },
      disabled: { kind: 'bool', def: 'false' },
      comment: { kind: 'text' },
      dynamic: { ro: true, kind: 'bool', def: 'false' },
      'creation-time': { ro: true },
    },
    required: ['list', 'address'],
    add: true,
    set: true,
    remove: true,
    move: false,
    placeBefore: false,
    prepare(values, ctx) {
      const address = normalise(values.address ?? '');
      if (address === null) throw badRequest(`invalid value for argument address`);
      values.address = address;
      const patch: { expiresAt?: number | null; dynamic?: boolean } = {};
      const timeoutText = values.timeout;
      delete values.timeout;
      if (timeoutText !== undefined) {
        const ms = parseDuration(timeoutText);
        if (ms === null || ms <= 0) throw badRequest('invalid value for argument timeout');
        patch.expiresAt = ctx.now + ms;
        patch.dynamic = true;
      }
      const enabled = values.disabled !== 'true';
      if (enabled) {
        const clash = ctx.rows.find(
          (r) =>
            r !== ctx.row &&
            r.values.disabled !== 'true' &&
            r.values.list === values.list &&
            r.values.address === address,
        );
        if (clash !== undefined) throw badRequest('failure: already have such entry');
      }
      return patch;
    },
    computed(row, ctx) {
      const out: Record<string, string> = { 'creation-time': formatDateTime(row.createdAt) };
      if (row.expiresAt !== null) out.timeout = formatDuration(row.expiresAt - ctx.now);
      return out;
    },
  };
}

const RULE_COMMON: Record<string, FieldSpec> = {
  chain: { kind: 'text' },
  action: { kind: 'text', def: 'accept' },
  'src-address': { kind: 'text' },
  'dst-address': { kind: 'text' },
  'src-address-list': { kind: 'text' },
  'dst-address-list': { kind: 'text' },
  protocol: { kind: 'text' },
  'src-port': { kind: 'text' },
  'dst-port': { kind: 'text' },
  'in-interface': { kind: 'text' },
  'out-interface': { kind: 'text' },
  'in-interface-list': { kind: 'text' },
  'out-interface-list': { kind: 'text' },
  'connection-state': { kind: 'text' },
  'connection-nat-state': { kind: 'text' },
  'reject-with': { kind: 'text' },
  'jump-target': { kind: 'text' },
  'address-list': { kind: 'text' },
  'address-list-timeout': { kind: 'text' },
  comment: { kind: 'text' },
  disabled: { kind: 'bool', def: 'false' },
  log: { kind: 'bool', def: 'false' },
  'log-prefix': { kind: 'text', def: '' },
  dynamic: { ro: true, kind: 'bool', def: 'false' },
  invalid: { ro: true, kind: 'bool', def: 'false' },
  bytes: { ro: true, def: '0' },
  packets: { ro: true, def: '0' },
};

const FILTER_ACTIONS = [
  'accept',
  'drop',
  'reject',
  'jump',
  'return',
  'passthrough',
  'log',
  'fasttrack-connection',
  'add-src-to-address-list',
  'add-dst-to-address-list',
  'tarpit',
];
const NAT_ACTIONS = [
  'accept',
  'dst-nat',
  'src-nat',
  'masquerade',
  'redirect',
  'netmap',
  'same',
  'jump',
  'return',
  'passthrough',
  'log',
  'endpoint-independent-nat',
  'add-src-to-address-list',
  'add-dst-to-address-list',
];

function ruleMenu(path: string, nat: boolean): MenuSpec {
  const actions = nat ? NAT_ACTIONS : FILTER_ACTIONS;
  const fields: Record<string, FieldSpec> = { ...RULE_COMMON };
  if (nat) {
    fields['to-addresses'] = { kind: 'text' };
    fields['to-ports'] = { kind: 'text' };
  }
  return {
    path,
    fields,
    required: ['chain'],
    add: true,
    set: true,
    remove: true,
    move: true,
    placeBefore: true,
    prepare(values) {
      const action = values.action ?? 'accept';
      if (!actions.includes(action)) throw badRequest(`input does not match any value of action`);
      if (action === 'jump' && (values['jump-target'] ?? '') === '')
        throw badRequest('failure: jump-target not specified');
      for (const key of ['src-address', 'dst-address'] as const) {
        const v = values[key];
        if (v !== undefined && v !== '' && path.startsWith('ip/') && !isV4OrCidr(v.replace(/^!/, '')) && !v.includes('-'))
          throw badRequest(`invalid value for argument ${key}`);
      }
      return {};
    },
  };
}

/** A VLAN id list as RouterOS takes it: ids and `low-high` ranges, comma separated, each 1-4094 (§9.3). */
export function parseVlanIds(text: string): number[] | null {
  const ids: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    if (m === null) return null;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (low < 1 || high > 4094 || high < low) return null;
    for (let id = low; id <= high; id++) ids.push(id);
  }
  return ids;
}

const nameList = (text: string | undefined): string[] =>
  (text ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');

/** `/interface/bridge` (§9.1): one row per bridge; `vlan-filtering` is off until set. */
const BRIDGE_MENU: MenuSpec = {
  path: 'interface/bridge',
  fields: {
    name: { kind: 'text' },
    'vlan-filtering': { kind: 'bool', def: 'false' },
    pvid: { kind: 'int', def: '1' },
    'frame-types': { kind: 'text', def: 'admit-all' },
    'ingress-filtering': { kind: 'bool', def: 'true' },
    'protocol-mode': { kind: 'text', def: 'rstp' },
    'mac-address': { ro: true },
    running: { ro: true, def: 'true' },
    disabled: { kind: 'bool', def: 'false' },
    comment: { kind: 'text' },
  },
  required: ['name'],
  add: true,
  set: true,
  remove: true,
  move: false,
  placeBefore: false,
  nameKey: 'name',
  prepare(values, ctx) {
    const pvid = Number(values.pvid ?? '1');
    if (pvid < 1 || pvid > 4094) throw badRequest('invalid value for argument pvid');
    if (ctx.rows.some((r) => r !== ctx.row && r.values.name === values.name))
      throw badRequest('failure: already have interface with such name');
    return {};
  },
};

/** `/interface/bridge/port` (§9.2): an interface in at most one bridge; `pvid` is its access VLAN. */
const BRIDGE_PORT_MENU: MenuSpec = {
  path: 'interface/bridge/port',
  fields: {
    bridge: { kind: 'text' },
    interface: { kind: 'text' },
    pvid: { kind: 'int', def: '1' },
    'frame-types': { kind: 'text', def: 'admit-all' },
    'ingress-filtering': { kind: 'bool', def: 'true' },
    disabled: { kind: 'bool', def: 'false' },
    dynamic: { ro: true, kind: 'bool', def: 'false' },
    inactive: { ro: true, def: 'false' },
    comment: { kind: 'text' },
  },
  required: ['bridge', 'interface'],
  add: true,
  set: true,
  remove: true,
  move: false,
  placeBefore: false,
  prepare(values, ctx) {
    const pvid = Number(values.pvid ?? '1');
    if (pvid < 1 || pvid > 4094) throw badRequest('invalid value for argument pvid');
    if (!ctx.rowsOf('interface/bridge').some((b) => b.values.name === values.bridge))
      throw badRequest(`input does not match any value of bridge`);
    if (!ctx.rowsOf('interface').some((i) => i.values.name === values.interface))
      throw badRequest(`input does not match any value of interface`);
    if (ctx.rows.some((r) => r !== ctx.row && r.values.interface === values.interface))
      throw badRequest('failure: device already added as bridge port');
    return {};
  },
};

/**
 * `/interface/bridge/vlan` (§9.3): VLAN ids with tagged and untagged ports of one bridge. Ports must be the
 * bridge's ports or the bridge itself; one port is never both tagged and untagged for an id, nor listed for the
 * same id in two entries of a bridge.
 */
const BRIDGE_VLAN_MENU: MenuSpec = {
  path: 'interface/bridge/vlan',
  fields: {
    bridge: { kind: 'text' },
    'vlan-ids': { kind: 'text', def: '1' },
    tagged: { kind: 'text', def: '' },
    untagged: { kind: 'text', def: '' },
    'current-tagged': { ro: true, def: '' },
    'current-untagged': { ro: true, def: '' },
    disabled: { kind: 'bool', def: 'false' },
    dynamic: { ro: true, kind: 'bool', def: 'false' },
    comment: { kind: 'text' },
  },
  required: ['bridge'],
  add: true,
  set: true,
  remove: true,
  move: false,
  placeBefore: false,
  prepare(values, ctx) {
    const bridge = values.bridge ?? '';
    if (!ctx.rowsOf('interface/bridge').some((b) => b.values.name === bridge))
      throw badRequest('input does not match any value of bridge');
    const ids = parseVlanIds(values['vlan-ids'] ?? '1');
    if (ids === null) throw badRequest('invalid value for argument vlan-ids');
    const tagged = nameList(values.tagged);
    const untagged = nameList(values.untagged);
    const members = new Set(
      ctx.rowsOf('interface/bridge/port').filter((p) => p.values.bridge === bridge).map((p) => p.values.interface),
    );
    for (const port of [...tagged, ...untagged]) {
      if (port !== bridge && !members.has(port)) throw badRequest(`failure: ${port} is not a bridge port of ${bridge}`);
    }
    const both = tagged.find((p) => untagged.includes(p));
    if (both !== undefined) throw badRequest(`failure: ${both} can not be tagged and untagged at the same time`);
    for (const other of ctx.rows) {
      if (other === ctx.row || other.values.bridge !== bridge || other.values.disabled === 'true') continue;
      const otherIds = parseVlanIds(other.values['vlan-ids'] ?? '1') ?? [];
      if (!otherIds.some((id) => ids.includes(id))) continue;
      const otherPorts = [...nameList(other.values.tagged), ...nameList(other.values.untagged)];
      const clash = [...tagged, ...untagged].find((p) => otherPorts.includes(p));
      if (clash !== undefined) throw badRequest(`failure: vlan already has interface ${clash}`);
    }
    values.tagged = tagged.join(',');
    values.untagged = untagged.join(',');
    return {};
  },
  computed(row) {
    // What the switch chip carries now (emulator: every listed port, while the entry is enabled).
    const on = row.values.disabled !== 'true';
    return { 'current-tagged': on ? (row.values.tagged ?? '') : '', 'current-untagged': on ? (row.values.untagged ?? '') : '' };
  },
};

const INTERFACE_COUNTERS = [
  'rx-byte',
  'tx-byte',
  'rx-packet',
  'tx-packet',
  'rx-drop',
  'tx-drop',
  'rx-error',
  'tx-error',
  'tx-queue-drop',
  'link-downs',
  'fp-rx-byte',
  'fp-tx-byte',
  'fp-rx-packet',
  'fp-tx-packet',
];

export const MENUS: MenuSpec[] = [
  addressList('ip/firewall/address-list', 4),
  addressList('ipv6/firewall/address-list', 6),
  ruleMenu('ip/firewall/filter', false),
  ruleMenu('ip/firewall/nat', true),
  ruleMenu('ipv6/firewall/filter', false),
  ruleMenu('ipv6/firewall/nat', true),
  {
    path: 'interface',
    fields: {
      name: { kind: 'text' },
      'default-name': { ro: true },
      type: { ro: true, def: 'ether' },
      mtu: { kind: 'text', def: '1500' },
      'actual-mtu': { ro: true, def: '1500' },
      l2mtu: { ro: true, def: '1592' },
      'mac-address': { ro: true },
      running: { ro: true, def: 'true' },
      disabled: { kind: 'bool', def: 'false' },
      dynamic: { ro: true, def: 'false' },
      slave: { ro: true, def: 'false' },
      comment: { kind: 'text' },
      'last-link-up-time': { ro: true },
      ...Object.fromEntries(INTERFACE_COUNTERS.map((c) => [c, { ro: true, def: '0' }])),
    },
    required: [],
    add: false,
    set: true,
    remove: false,
    move: false,
    placeBefore: false,
    nameKey: 'name',
    computed(row): Record<string, string> {
      return row.values.disabled === 'true' ? { running: 'false' } : {};
    },
  },
  BRIDGE_MENU,
  BRIDGE_PORT_MENU,
  BRIDGE_VLAN_MENU,
  {
    path: 'ip/address',
    fields: {
      address: { kind: 'text' },
      network: { kind: 'text' },
      interface: { kind: 'text' },
      'actual-interface': { ro: true },
      disabled: { kind: 'bool', def: 'false' },
      dynamic: { ro: true, def: 'false' },
      invalid: { ro: true, def: 'false' },
      comment: { kind: 'text' },
    },
    required: ['address', 'interface'],
    add: true,
    set: true,
    remove: true,
    move: false,
    placeBefore: false,
    prepare(values) {
      const address = values.address ?? '';
      if (!isV4OrCidr(address)) throw badRequest('invalid value for argument address');
      const [ip = '', prefix = '32'] = address.split('/');
      values.address = `${ip}/${prefix}`;
      const network = normaliseV4Address(`${ip}/${prefix}`) ?? ip;
      values.network = network.split('/')[0] ?? ip;
      values['actual-interface'] = values.interface ?? '';
      return {};
    },
  },
  {
    path: 'ip/route',
    fields: {
      'dst-address': { kind: 'text', def: '0.0.0.0/0' },
      gateway: { kind: 'text' },
      'immediate-gw': { ro: true },
      distance: { kind: 'int', def: '1' },
      scope: { kind: 'int', def: '30' },
      'target-scope': { kind: 'int', def: '10' },
      'routing-table': { kind: 'text', def: 'main' },
      'vrf-interface': { kind: 'text' },
      active: { ro: true, def: 'true' },
      dynamic: { ro: true, def: 'false' },
      static: { ro: true, def: 'true' },
      connect: { ro: true, def: 'false' },
      inactive: { ro: true, def: 'false' },
      disabled: { kind: 'bool', def: 'false' },
      comment: { kind: 'text' },
    },
    required: ['gateway'],
    add: true,
    set: true,
    remove: true,
    move: false,
    placeBefore: false,
  },
  {
    path: 'ip/dhcp-server/lease',
    fields: {
      address: { kind: 'text' },
      'mac-address': { kind: 'text' },
      'client-id': { kind: 'text' },
      'host-name': { ro: true },
      server: { kind: 'text', def: 'defconf' },
      status: { ro: true, def: 'waiting' },
      'last-seen': { ro: true, def: 'never' },
      'expires-after': { ro: true },
      'active-address': { ro: true },
      'active-mac-address': { ro: true },
      blocked: { ro: true, def: 'false' },
      radius: { ro: true, def: 'false' },
      dynamic: { ro: true, def: 'false' },
      disabled: { kind: 'bool', def: 'false' },
      comment: { kind: 'text' },
    },
    required: ['address', 'mac-address'],
    add: true,
    set: true,
    remove: true,
    move: false,
    placeBefore: false,
  },
  {
    path: 'ip/arp',
    fields: {
      address: { kind: 'text' },
      'mac-address': { kind: 'text' },
      interface: { kind: 'text' },
      published: { kind: 'bool', def: 'false' },
      complete: { ro: true, def: 'true' },
      DHCP: { ro: true, def: 'false' },
      dynamic: { ro: true, def: 'false' },
      invalid: { ro: true, def: 'false' },
      disabled: { kind: 'bool', def: 'false' },
      comment: { kind: 'text' },
    },
    required: ['address', 'interface'],
    add: true,
    set: true,
    remove: true,
    move: false,
    placeBefore: false,
  },
  {
    path: 'ip/firewall/connection',
    fields: {
      'src-address': { ro: true },
      'dst-address': { ro: true },
      'reply-src-address': { ro: true },
      'reply-dst-address': { ro: true },
      protocol: { ro: true, def: 'tcp' },
      'tcp-state': { ro: true },
      timeout: { ro: true },
      'connection-mark': { ro: true },
      'orig-bytes': { ro: true, def: '0' },
      'repl-bytes': { ro: true, def: '0' },
      'orig-packets': { ro: true, def: '0' },
      'repl-packets': { ro: true, def: '0' },
      assured: { ro: true, def: 'true' },
      confirmed: { ro: true, def: 'true' },
      'seen-reply': { ro: true, def: 'true' },
      expected: { ro: true, def: 'false' },
      fasttrack: { ro: true, def: 'false' },
      'srcnat': { ro: true, def: 'false' },
      'dstnat': { ro: true, def: 'false' },
      dying: { ro: true, def: 'false' },
    },
    required: [],
    add: false,
    set: false,
    remove: true,
    move: false,
    placeBefore: false,
    ramOnly: true,
  },
  {
    path: 'log',
    fields: {
      time: { ro: true },
      topics: { ro: true },
      message: { ro: true },
    },
    required: [],
    add: false,
    set: false,
    remove: false,
    move: false,
    placeBefore: false,
    ramOnly: true,
  },
];

export const MENU_BY_PATH = new Map(MENUS.map((m) => [m.path, m]));

/** Singletons: `GET /rest/<path>` is one object. */
export const SINGLETONS = ['system/resource', 'system/identity', 'system/routerboard'] as const;

/** Commands without a table: `POST /rest/<path>`. */
export const COMMANDS = ['system/reboot'] as const;

/** Every directory word the router knows, to tell `no such command or directory (x)` apart. */
export const KNOWN_PATHS: string[] = [...MENUS.map((m) => m.path), ...SINGLETONS, ...COMMANDS];
