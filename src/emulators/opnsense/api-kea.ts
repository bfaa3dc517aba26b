/**
 * @module `api/kea/dhcpv4/*` and `api/kea/service/reconfigure` (docs/reference/brain-l3.md §5.2): Kea DHCPv4's
 * general settings (enabled, the interfaces it serves), subnets and reservations, config-only until the service
 * reconfigure. Served on every emulated profile (Kea's API exists since 24.1).
 *
 * Upstream (opnsense/core f95e8151): `controllers/OPNsense/Kea/Api/Dhcpv4Controller.php:35-118` (safe delete on,
 * l.39), `models/OPNsense/Kea/KeaDhcpv4.xml:7-14` (general.enabled, general.interfaces), `:87-187` (subnet4: subnet
 * an IPv4 network with mask, required, unique; option_data_autocollect default 1; option_data.routers and
 * domain_name_servers IPv4 lists; pools), `:272-331` (reservation: subnet relation required, ip_address unique,
 * hw_address unique per subnet), `models/OPNsense/Kea/KeaDhcpv4.php:45-99` (autocollect overwrites routers and DNS
 * with the firewall's own address in the subnet; a reservation's address must lie in its subnet; a MAC or a client
 * id is required), `FieldTypes/KeaPoolsField.php:37-62` (a pool is `from-to` or a CIDR; DHCPv4 does not check it
 * lies in the subnet), `Base/ApiMutableModelControllerBase.php:180-193` (a referenced item: "Item in use by").
 */
import { isIPv4 } from 'node:net';
import { type Ctx, hasPost, phpString, searchRecordset, throwReadOnly, UserException } from './context.ts';
import type { Route } from './routes.ts';
import { type OpnKea, randomUuid } from './state.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
type Item = Record<string, string> & { uuid: string };

function kea(ctx: Ctx): OpnKea {
  ctx.dev.box.config.kea ??= { general: { enabled: '0', interfaces: '' }, subnets: [], reservations: [] };
  return ctx.dev.box.config.kea;
}

const v4 = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** `a.b.c.d/n` with a valid IPv4 and 0-32 (NetworkField, ipv4, mask required). */
function parseNetwork(text: string): { base: number; bits: number } | null {
  const [ip = '', bits = '', extra] = text.split('/');
  if (extra !== undefined || !isIPv4(ip) || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return null;
  return { base: v4(ip), bits: Number(bits) };
}

function inNetwork(ip: string, network: string): boolean {
  const net = parseNetwork(network);
  if (net === null || !isIPv4(ip)) return false;
  const mask = net.bits === 0 ? 0 : (0xffffffff << (32 - net.bits)) >>> 0;
  return ((v4(ip) & mask) >>> 0) === ((net.base & mask) >>> 0);
}

const ipList = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s !== '');

/** The firewall's own address inside `network` (what autocollect finds in `ifconfig`). */
function hostIn(ctx: Ctx, network: string): string | null {
  return ctx.dev.box.interfaces.find((i) => inNetwork(i.ipv4, network))?.ipv4 ?? null;
}

// --- subnets -------------------------------------------------------------------------------------------------------

function blankSubnet(uuid: string, id: number): Item {
  return {
    uuid,
    subnet_id: String(id),
    subnet: '',
    option_data_autocollect: '1',
    routers: '',
    domain_name_servers: '',
    pools: '',
    description: '',
  };
}

function subnetNodes(s: Item): Record<string, unknown> {
  return {
    subnet_id: s.subnet_id,
    subnet: s.subnet,
    option_data_autocollect: s.option_data_autocollect,
    option_data: { routers: s.routers, domain_name_servers: s.domain_name_servers },
    pools: s.pools,
    description: s.description,
  };
}

function mergeSubnet(node: Item, posted: Record<string, unknown>): void {
  for (const f of ['subnet', 'option_data_autocollect', 'pools', 'description']) {
    if (posted[f] !== undefined) node[f] = phpString(posted[f]);
  }
  const options = posted.option_data;
  if (options !== null && typeof options === 'object' && !Array.isArray(options)) {
    const o = options as Record<string, unknown>;
    if (o.routers !== undefined) node.routers = phpString(o.routers);
    if (o.domain_name_servers !== undefined) node.domain_name_servers = phpString(o.domain_name_servers);
  }
}

function validateSubnet(node: Item, others: Item[]): Record<string, string> {
  const v: Record<string, string> = {};
  if (node.subnet === '') v['subnet4.subnet'] = 'A value is required.';
  else if (parseNetwork(node.subnet ?? '') === null) v['subnet4.subnet'] = 'Please specify a valid network segment or IP address.';
  else if (others.some((o) => o.subnet === node.subnet)) v['subnet4.subnet'] = 'Subnet must be unique.';
  for (const [field, key] of [
    ['routers', 'subnet4.option_data.routers'],
    ['domain_name_servers', 'subnet4.option_data.domain_name_servers'],
  ] as const) {
    if (ipList(node[field] ?? '').some((ip) => !isIPv4(ip))) v[key] = 'Please specify a valid network segment or IP address.';
  }
  for (const entry of (node.pools ?? '').split('\n').filter((e) => e !== '')) {
    const parts = entry.split('-');
    const ok =
      (parts.length === 2 && isIPv4((parts[0] ?? '').trim()) && isIPv4((parts[1] ?? '').trim())) ||
      (parts.length === 1 && parseNetwork(entry) !== null);
    if (!ok) v['subnet4.pools'] = `Entry "${entry}" is not a valid range or subnet.`;
  }
  if ((node.description ?? '').length > 255) v['subnet4.description'] = 'Description should not exceed 255 characters';
  return v;
}

/** `setNodes`: with autocollect on, routers and DNS become the firewall's own address in the subnet. */
function autocollect(ctx: Ctx, node: Item): void {
  if (node.option_data_autocollect !== '1') return;
  const host = hostIn(ctx, node.subnet ?? '');
  if (host !== null) {
    node.routers = host;
    node.domain_name_servers = host;
  }
}

// --- reservations --------------------------------------------------------------------------------------------------

const RESERVATION_FIELDS = ['subnet', 'ip_address', 'hw_address', 'hostname', 'description'];

function blankReservation(uuid: string): Item {
  return { uuid, subnet: '', ip_address: '', hw_address: '', hostname: '', description: '' };
}

function validateReservation(ctx: Ctx, node: Item, others: Item[]): Record<string, string> {
  const v: Record<string, string> = {};
  const subnet = kea(ctx).subnets.find((s) => s.uuid === node.subnet);
  if (node.subnet === '') v['reservation.subnet'] = 'A value is required.';
  else if (!subnet) v['reservation.subnet'] = 'Related subnet not found.';
  const ip = node.ip_address ?? '';
  if (ip !== '' && !isIPv4(ip)) v['reservation.ip_address'] = 'Please specify a valid network segment or IP address.';
  else if (ip !== '' && others.some((o) => o.ip_address === ip)) v['reservation.ip_address'] = 'Duplicate entry exists.';
  else if (!inNetwork(ip, subnet?.subnet ?? '')) v['reservation.ip_address'] = 'Address not in specified subnet';
  const mac = node.hw_address ?? '';
  if (mac === '') v['reservation.hw_address'] = 'Either a client ID or a MAC address should be specified.';
  else if (!MAC.test(mac)) v['reservation.hw_address'] = 'Invalid MAC address.';
  else if (others.some((o) => o.subnet === node.subnet && (o.hw_address ?? '').toLowerCase() === mac.toLowerCase())) {
    v['reservation.hw_address'] = 'Duplicate entry exists.';
  }
  if ((node.hostname ?? '') !== '' && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(node.hostname ?? '')) {
    v['reservation.hostname'] = 'Please specify a valid hostname.';
  }
  return v;
}

// --- generic ArrayField CRUD (ApiMutableModelControllerBase) ---------------------------------------------------------

interface Section {
  key: string;
  items(ctx: Ctx): Item[];
  blank(ctx: Ctx, uuid: string): Item;
  nodes(item: Item): Record<string, unknown>;
  merge(node: Item, posted: Record<string, unknown>): void;
  validate(ctx: Ctx, node: Item, others: Item[]): Record<string, string>;
  complete?(ctx: Ctx, node: Item): void;
  /** The safe delete: who still references the item. */
  inUse?(ctx: Ctx, uuid: string): boolean;
}

function posted(ctx: Ctx, key: string): Record<string, unknown> {
  const p = ctx.post[key];
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

function crud(s: Section) {
  const write = (ctx: Ctx, existing: Item | undefined, uuid: string): unknown => {
    const list = s.items(ctx);
    const node = existing ? { ...existing } : s.blank(ctx, uuid);
    s.merge(node, posted(ctx, s.key));
    s.complete?.(ctx, node);
    const validations = s.validate(ctx, node, list.filter((x) => x.uuid !== node.uuid));
    if (Object.keys(validations).length > 0) return { result: 'failed', validations };
    throwReadOnly(ctx);
    if (existing) Object.assign(existing, node);
    else list.push(node);
    ctx.dev.save();
    return existing ? { result: 'saved' } : { result: 'saved', uuid: node.uuid };
  };
  return {
    search: (ctx: Ctx) => searchRecordset(ctx, s.items(ctx).map((i) => ({ ...i }))),
    get: (ctx: Ctx) => {
      const uuid = ctx.params[0];
      if (uuid === undefined) return { [s.key]: s.nodes(s.blank(ctx, randomUuid())) };
      const item = s.items(ctx).find((x) => x.uuid === uuid);
      return item ? { [s.key]: s.nodes(item) } : [];
    },
    add: (ctx: Ctx) => (ctx.isPost && hasPost(ctx, s.key) ? write(ctx, undefined, randomUuid()) : { result: 'failed' }),
    set: (ctx: Ctx) => {
      const uuid = ctx.params[0] as string;
      if (!ctx.isPost || !hasPost(ctx, s.key)) return { result: 'failed' };
      const existing = s.items(ctx).find((x) => x.uuid === uuid);
      if (!existing && !UUID_RE.test(uuid)) return { result: 'failed' };
      return write(ctx, existing, uuid);
    },
    del: (ctx: Ctx) => {
      if (!ctx.isPost) return { result: 'failed' };
      const uuid = ctx.params[0] ?? '';
      if (s.inUse?.(ctx, uuid)) throw new UserException(`${uuid} is in use`, 'Item in use by');
      const list = s.items(ctx);
      const i = list.findIndex((x) => x.uuid === uuid);
      if (i < 0) return { result: 'not found' };
      throwReadOnly(ctx);
      list.splice(i, 1);
      ctx.dev.save();
      return { result: 'deleted' };
    },
  };
}

const subnets = crud({
  key: 'subnet4',
  items: (ctx) => kea(ctx).subnets,
  blank: (ctx, uuid) => blankSubnet(uuid, Math.max(0, ...kea(ctx).subnets.map((s) => Number(s.subnet_id))) + 1),
  nodes: subnetNodes,
  merge: mergeSubnet,
  validate: (_ctx, node, others) => validateSubnet(node, others),
  complete: autocollect,
  inUse: (ctx, uuid) => kea(ctx).reservations.some((r) => r.subnet === uuid),
});

const reservations = crud({
  key: 'reservation',
  items: (ctx) => kea(ctx).reservations,
  blank: (_ctx, uuid) => blankReservation(uuid),
  nodes: (r) => Object.fromEntries(RESERVATION_FIELDS.map((f) => [f, r[f]])),
  merge: (node, p) => {
    for (const f of RESERVATION_FIELDS) if (p[f] !== undefined) node[f] = phpString(p[f]);
  },
  validate: validateReservation,
});

/** `getAction`: general settings; `interfaces` as an option map over the configured interfaces. */
function getGeneral(ctx: Ctx): unknown {
  const g = kea(ctx).general;
  const chosen = g.interfaces.split(',').filter((x) => x !== '');
  const interfaces = Object.fromEntries(
    ctx.dev.box.interfaces
      .filter((i) => i.id !== 'lo0')
      .map((i) => [i.id, { value: i.descr, selected: chosen.includes(i.id) ? 1 : 0 }]),
  );
  return { dhcpv4: { general: { enabled: g.enabled, interfaces }, lexpire: {}, ha: {} } };
}

/** `setAction`: general settings; an unknown interface is refused. */
function setGeneral(ctx: Ctx): unknown {
  if (!ctx.isPost) return { result: 'failed' };
  const general = posted(ctx, 'dhcpv4').general;
  const g = general !== null && typeof general === 'object' && !Array.isArray(general) ? (general as Record<string, unknown>) : {};
  const next = { ...kea(ctx).general };
  if (g.enabled !== undefined) next.enabled = phpString(g.enabled);
  if (g.interfaces !== undefined) next.interfaces = phpString(g.interfaces);
  const known = ctx.dev.box.interfaces.map((i) => i.id);
  const unknown = next.interfaces.split(',').filter((x) => x !== '' && !known.includes(x));
  if (unknown.length > 0) return { result: 'failed', validations: { 'dhcpv4.general.interfaces': 'Option not in list.' } };
  if (!['0', '1'].includes(next.enabled)) return { result: 'failed', validations: { 'dhcpv4.general.enabled': 'The value is not a valid boolean.' } };
  throwReadOnly(ctx);
  kea(ctx).general = next;
  ctx.dev.save();
  return { result: 'saved' };
}

function reconfigure(ctx: Ctx): unknown {
  if (!ctx.isPost) return { status: 'failed' };
  ctx.dev.box.runtime.kea = structuredClone(kea(ctx));
  return { status: 'ok' };
}

const dhcpv4 = (action: string, required: number, handler: (ctx: Ctx) => unknown): Route => ({
  module: 'kea',
  controller: 'Dhcpv4',
  action,
  required,
  handler,
});

export const KEA_ROUTES: Route[] = [
  dhcpv4('get', 0, getGeneral),
  dhcpv4('set', 0, setGeneral),
  dhcpv4('searchSubnet', 0, subnets.search),
  dhcpv4('getSubnet', 0, subnets.get),
  dhcpv4('addSubnet', 0, subnets.add),
  dhcpv4('setSubnet', 1, subnets.set),
  dhcpv4('delSubnet', 1, subnets.del),
  dhcpv4('searchReservation', 0, reservations.search),
  dhcpv4('getReservation', 0, reservations.get),
  dhcpv4('addReservation', 0, reservations.add),
  dhcpv4('setReservation', 1, reservations.set),
  dhcpv4('delReservation', 1, reservations.del),
  { module: 'kea', controller: 'Service', action: 'reconfigure', required: 0, handler: reconfigure },
];

