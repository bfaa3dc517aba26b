/**
 * @module `api/interfaces/vlan_settings/*` and `api/interfaces/assignment/*` (docs/reference/brain-l3.md §7): VLAN
 * devices in config, live after the VLAN reconfigure; interface assignments as an in-memory model over config.xml's
 * `interfaces` section whose device changes and deletions (26.7) or every change (the 27.1 development line) wait in
 * `/tmp/.interfaces.todo` until the assignment reconfigure.
 *
 * Upstream: opnsense/core tag 26.7.2 (3fa8a4cfb5) `controllers/OPNsense/Interfaces/Api/VlanSettingsController.php`
 * l.41-199, `models/OPNsense/Interfaces/Vlan.xml` l.6-59, `Vlan.php` l.40-100, `AssignmentController.php` l.41-169,
 * `NetworkInterface.xml` l.6-27, `NetworkInterface.php` l.43-180; master f95e81516e (profile `27.1.a_161`)
 * `NetworkInterface.xml` l.6-202, `NetworkInterface.php` l.92-280, `FieldTypes/NetworkInterfaceField.php` l.41-113,
 * `AssignmentController.php` l.140-182, `scripts/interfaces/apply_pending_if_changes.php` l.34-81. The assignment
 * record keeps the fields §7.5 needs (`descr`, `identifier`, `pending_action`, `if`, `lock`, `enable`, `type4`,
 * `type6`, `ipaddr`, `ipaddrv6`); master's DHCP client, 6rd, track6, MTU and gateway fields are not emulated.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { type Ctx, hasPost, PhpError, phpString, searchRecordset, throwReadOnly, UserException } from './context.ts';
import type { Route } from './routes.ts';
import {
  DEFAULT_INTERFACES,
  HARDWARE_PORTS,
  type OpnBox,
  type OpnIfTodo,
  type OpnInterface,
  type OpnVlan,
  randomUuid,
} from './state.ts';
import type { VersionProfile } from './types.ts';

type Rec = Record<string, string>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ASSIGN_OPTS_TTL_MS = 60_000;
const REQUIRED = 'A value is required.';
const NOT_IN_LIST = 'Option [] not in list.';
const BOOL = 'Value should be a boolean (0,1).';
const DESCRIPTION = 'Description should be a string between 1 and 255 characters.';
const NETWORK = 'Please specify a valid network segment or IP address.';

/** Profiles with the interface configuration on the assignment model (master 92cb28a669). */
const WITH_ADDRESSES: readonly VersionProfile[] = ['27.1.a_161'];
const ASSIGNMENT_PROFILES: readonly VersionProfile[] = ['26.7', '27.1.a_161'];

const PCP: Record<string, string> = {
  '1': 'Background (1, lowest)',
  '0': 'Best Effort (0, default)',
  '2': 'Excellent Effort (2)',
  '3': 'Critical Applications (3)',
  '4': 'Video (4)',
  '5': 'Voice (5)',
  '6': 'Internetwork Control (6)',
  '7': 'Network Control (7, highest)',
};
const PROTO: Record<string, string> = { '': 'Automatic', '802.1q': '802.1q', '802.1ad': '802.1ad' };
const TYPE4: Record<string, string> = {
  none: 'None',
  staticv4: 'Static IPv4',
  dhcp: 'DHCP',
  ppp: 'PPP',
  pppoe: 'PPPoE',
  pptp: 'PPTP',
  l2tp: 'L2TP',
};
const TYPE6: Record<string, string> = {
  none: 'None',
  staticv6: 'Static IPv6',
  dhcp6: 'DHCPv6',
  linklocal: 'Link-local',
  slaac: 'SLAAC',
  '6rd': '6rd Tunnel',
  '6to4': '6to4 Tunnel',
  idassoc6: 'Identity association',
  track6: 'Track Interface (legacy)',
  pppoev6: 'PPPoEv6',
};

const optionMap = (options: Record<string, string>, selected: string): Record<string, { value: string; selected: number }> =>
  Object.fromEntries(Object.entries(options).map(([k, v]) => [k, { value: v, selected: k === selected ? 1 : 0 }]));

function postedRecord(ctx: Ctx, field: string): Record<string, unknown> {
  const p = ctx.post[field];
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** `setNodes`: only the model's own fields are taken; an array for a scalar is an exception (a 500). */
function merge(node: Rec, posted: Record<string, unknown>, fields: readonly string[]): void {
  for (const f of fields) {
    const v = posted[f];
    if (v === undefined || v === null) continue;
    if (typeof v === 'object') throw new PhpError(`Invalid input type for ${f}: expected a single value`);
    node[f] = phpString(v);
  }
}

// --- config and runtime -------------------------------------------------------------------------------------------

/** config.xml `interfaces`, seeded from the built-in interfaces on first use (older state files lack it). */
export function configInterfaces(box: OpnBox): Record<string, Rec> {
  if (box.config.interfaces === undefined) {
    box.config.interfaces = Object.fromEntries(
      DEFAULT_INTERFACES.map((i) => [
        i.id,
        {
          if: i.device,
          descr: i.descr,
          enable: '1',
          ipaddr: i.ipv4,
          subnet: String(i.subnet),
          ...(i.id === 'lo0' ? { virtual: '1' } : {}),
        },
      ]),
    );
  }
  return box.config.interfaces;
}

function vlans(box: OpnBox): OpnVlan[] {
  box.config.vlans ??= [];
  return box.config.vlans;
}

function todo(box: OpnBox): Record<string, OpnIfTodo> {
  box.runtime.ifTodo ??= {};
  return box.runtime.ifTodo;
}

function macOf(box: OpnBox, device: string): string {
  const port = HARDWARE_PORTS.find((p) => p.device === device);
  if (port) return port.mac;
  const vlan = vlans(box).find((v) => v.vlanif === device);
  return vlan ? macOf(box, vlan.if) : '';
}

/** The running interfaces (`interface_configure`) from config.xml. */
export function configureInterfaces(box: OpnBox): void {
  const out: OpnInterface[] = [];
  for (const [id, cfg] of Object.entries(configInterfaces(box))) {
    const enabled = (cfg.enable ?? '') !== '';
    const ip = enabled && isIPv4(cfg.ipaddr ?? '') ? (cfg.ipaddr as string) : '';
    out.push({
      id,
      device: cfg.if ?? '',
      descr: cfg.descr !== undefined && cfg.descr !== '' ? cfg.descr : id.toUpperCase(),
      ipv4: ip,
      subnet: ip === '' ? 0 : Number(cfg.subnet ?? '0'),
      mac: macOf(box, cfg.if ?? ''),
      ...(enabled ? {} : { enabled: false }),
    });
  }
  box.interfaces = out;
}

/** A boot: the tmp files are gone, VLAN devices and interfaces come up from config. */
export function bootInterfaces(box: OpnBox): void {
  box.runtime.ifTodo = {};
  box.runtime.vlansRemoved = [];
  box.runtime.vlanDevices = vlans(box).map((v) => v.vlanif);
  delete box.runtime.assignOpts;
  if (box.config.interfaces !== undefined) configureInterfaces(box);
}

/** `interface list assign-opts` (cached 60 s): hardware ports plus the VLAN devices in config. */
function assignable(ctx: Ctx, refresh = false): string[] {
  const box = ctx.dev.box;
  const cached = box.runtime.assignOpts;
  if (!refresh && cached && ctx.dev.now() - cached.at < ASSIGN_OPTS_TTL_MS) return cached.devices;
  const devices = [...HARDWARE_PORTS.map((p) => p.device), ...vlans(box).map((v) => v.vlanif)];
  box.runtime.assignOpts = { at: ctx.dev.now(), devices };
  return devices;
}

// --- VLAN devices (§7.1) ------------------------------------------------------------------------------------------

const VLAN_FIELDS = ['if', 'tag', 'pcp', 'proto', 'descr', 'vlanif'] as const;

function blankVlan(uuid: string): OpnVlan {
  return { uuid, if: '', tag: '', pcp: '0', proto: '', descr: '', vlanif: '' };
}

/** `VlanInterfaceField`: non-VLAN `ifconfig` devices (no loopback, bridge, …) plus configured non-QinQ VLANs. */
function vlanParents(box: OpnBox): string[] {
  return [...HARDWARE_PORTS.map((p) => p.device), ...vlans(box).filter((v) => !v.vlanif.startsWith('qinq')).map((v) => v.vlanif)];
}

function interfaceAssigned(box: OpnBox, device: string): boolean {
  return Object.values(configInterfaces(box)).some((i) => i.if === device);
}

/** `generateVlanIfName` (controller l.41-68). */
function vlanIfName(box: OpnBox, posted: Record<string, unknown>, current: OpnVlan | null): string {
  const parent = phpString(posted.if);
  const tag = phpString(posted.tag);
  const prefix = parent.includes('vlan') ? 'qinq' : 'vlan';
  const given = phpString(posted.vlanif);
  if (given !== '') return given;
  if (current !== null && current.vlanif === `${parent}_vlan${tag}`) return `${parent}_vlan${tag}`;
  if (current !== null && !current.vlanif.includes('_vlan') && current.vlanif.startsWith(prefix)) return current.vlanif;
  let id = 0;
  for (const v of vlans(box)) {
    if (new RegExp(`^${prefix}\\d+$`).test(v.vlanif)) id = Math.max(id, Number(v.vlanif.replace(/\D/g, '')));
  }
  return `${prefix}0${id + 1}`;
}

/** The model's validation of one VLAN (`Vlan.xml`, `Vlan.php`), keyed `vlan.<field>`, first message per field. */
function validateVlan(box: OpnBox, v: OpnVlan): Rec {
  const out: Rec = {};
  const put = (f: string, m: string) => {
    out[`vlan.${f}`] ??= m;
  };
  if (v.if === '') put('if', REQUIRED);
  else if (!vlanParents(box).includes(v.if)) put('if', NOT_IN_LIST);
  if (v.tag === '') put('tag', REQUIRED);
  else if (!/^-?\d+$/.test(v.tag) || Number(v.tag) < 1 || Number(v.tag) > 4094) put('tag', 'Invalid integer value.');
  else if (vlans(box).some((o) => o.uuid !== v.uuid && o.if === v.if && o.tag === v.tag)) put('tag', 'Tag for this device must be unique.');
  if (v.pcp === '') put('pcp', REQUIRED);
  else if (!(v.pcp in PCP)) put('pcp', NOT_IN_LIST);
  if (!(v.proto in PROTO)) put('proto', NOT_IN_LIST);
  if (v.descr !== '' && !/^.{1,255}$/.test(v.descr)) put('descr', DESCRIPTION);
  if (v.vlanif === '') put('vlanif', REQUIRED);
  else if (vlans(box).some((o) => o.uuid !== v.uuid && o.vlanif === v.vlanif)) put('vlanif', 'The device name must be unique.');
  const prefix = v.if.includes('vlan') ? 'qinq' : 'vlan';
  if (v.vlanif !== `${v.if}_vlan${v.tag}`) {
    if (!v.vlanif.startsWith(prefix)) put('vlanif', `The device name prefix "${prefix}" is required.`);
    else if (!new RegExp(`^${prefix}0[0-9.]{1,10}$`).test(v.vlanif)) {
      put(
        'vlanif',
        `Only a maximum of 15 characters is allowed starting with "${prefix}0" combined with numeric characters and dots, e.g. "${prefix}0.1.104".`,
      );
    }
  }
  const previous = vlans(box).find((o) => o.uuid === v.uuid)?.vlanif ?? '';
  if (v.if === v.vlanif || previous === v.if) put('vlanif', 'VLAN can not be assigned to itself.');
  return out;
}

function vlanSearch(ctx: Ctx): unknown {
  const box = ctx.dev.box;
  const names: Rec = {};
  for (const [id, i] of Object.entries(configInterfaces(box))) names[i.if ?? ''] = i.descr ? i.descr : id.toUpperCase();
  const rows = vlans(box).map((v) => {
    // UIModelGrid: raw values plus `%<field>` where the description differs (l.135-144)
    const row: Record<string, unknown> = { ...v };
    const mac = macOf(box, v.if);
    row['%if'] = `${v.if}${mac === '' ? '' : ` (${mac})`}${names[v.if] === undefined ? '' : ` [${names[v.if]}]`}`;
    if (PCP[v.pcp] !== undefined) row['%pcp'] = PCP[v.pcp];
    if (v.proto === '') row['%proto'] = 'Automatic';
    // the controller shows an assigned device with its interface (l.93-97)
    if (names[v.vlanif] !== undefined) row.vlanif = `${v.vlanif} [${names[v.vlanif]}]`;
    return row;
  });
  return searchRecordset(ctx, rows, 'vlanif');
}

function vlanNodes(box: OpnBox, v: OpnVlan): Record<string, unknown> {
  return {
    if: Object.fromEntries(vlanParents(box).map((d) => [d, { value: d, selected: d === v.if ? 1 : 0 }])),
    tag: v.tag,
    pcp: optionMap(PCP, v.pcp),
    proto: optionMap(PROTO, v.proto),
    descr: v.descr,
    vlanif: v.vlanif,
  };
}

function vlanGet(ctx: Ctx): unknown {
  const uuid = ctx.params[0];
  if (uuid === undefined) return { vlan: vlanNodes(ctx.dev.box, blankVlan(randomUuid())) };
  const v = vlans(ctx.dev.box).find((x) => x.uuid === uuid);
  return v ? { vlan: vlanNodes(ctx.dev.box, v) } : [];
}

function vlanAdd(ctx: Ctx): unknown {
  if (!ctx.isPost || !hasPost(ctx, 'vlan')) return { result: 'failed' };
  const box = ctx.dev.box;
  const posted = postedRecord(ctx, 'vlan');
  const node = blankVlan(randomUuid());
  merge(node as unknown as Rec, posted, VLAN_FIELDS);
  node.vlanif = vlanIfName(box, posted, null);
  const validations = validateVlan(box, node);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  vlans(box).push(node);
  ctx.dev.save();
  return { result: 'saved', uuid: node.uuid };
}

function vlanSet(ctx: Ctx): unknown {
  const uuid = ctx.params[0] as string;
  const box = ctx.dev.box;
  const list = vlans(box);
  const current = list.find((x) => x.uuid === uuid) ?? null;
  const posted = postedRecord(ctx, 'vlan');
  const oldName = current?.vlanif ?? null;
  const newName = vlanIfName(box, posted, current);
  if (oldName !== null && oldName !== newName) {
    if (list.some((x) => x.if === oldName)) {
      return { result: 'failed', validations: { 'vlan.vlanif': 'This VLAN cannot be deleted because it is used in QinQ interfaces.' } };
    }
    if (interfaceAssigned(box, oldName)) {
      if (phpString(posted.tag) !== current?.tag) {
        return { result: 'failed', validations: { 'vlan.tag': 'Interface is assigned and you cannot change the VLAN tag while assigned.' } };
      }
      return { result: 'failed', validations: { 'vlan.vlanif': 'Interface is assigned and you cannot change the device name while assigned.' } };
    }
  }
  // setBase
  if (!ctx.isPost || !hasPost(ctx, 'vlan')) return { result: 'failed' };
  if (current === null && !UUID_RE.test(uuid)) return { result: 'failed' };
  const node = current ? { ...current } : blankVlan(uuid);
  merge(node as unknown as Rec, posted, VLAN_FIELDS);
  node.vlanif = newName;
  const validations = validateVlan(box, node);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  if (current) Object.assign(current, node);
  else list.push(node);
  ctx.dev.save();
  if (oldName !== newName) (box.runtime.vlansRemoved ??= []).push(oldName ?? '');
  return { result: 'saved' };
}

function vlanDel(ctx: Ctx): unknown {
  const box = ctx.dev.box;
  const list = vlans(box);
  const uuids = (ctx.params[0] ?? '').split(',').filter((u) => u !== '');
  const removed: string[] = [];
  for (const uuid of uuids) {
    const name = list.find((x) => x.uuid === uuid)?.vlanif ?? null;
    if (list.some((x) => x.if === name)) throw new UserException('This VLAN cannot be deleted because it is used in QinQ interfaces.', '');
    if (name !== null && interfaceAssigned(box, name)) {
      throw new UserException('This VLAN cannot be deleted because it is assigned as an interface.', '');
    }
    if (name !== null) removed.push(name);
  }
  // delBase
  if (!ctx.isPost) return { result: 'failed' };
  let result = 'failed';
  let changed = false;
  for (const uuid of uuids) {
    const i = list.findIndex((x) => x.uuid === uuid);
    if (i >= 0) {
      throwReadOnly(ctx);
      list.splice(i, 1);
      changed = true;
      result = 'deleted';
    } else result = 'not found';
  }
  if (changed) {
    ctx.dev.save();
    (box.runtime.vlansRemoved ??= []).push(...removed);
  }
  return { result };
}

/** configd `interface vlan configure`, then the interface registration refresh (§7.1). */
async function vlanReconfigure(ctx: Ctx): Promise<unknown> {
  if (!ctx.isPost) return { status: 'failed' };
  await ctx.dev.delay();
  const box = ctx.dev.box;
  box.runtime.vlanDevices = vlans(box).map((v) => v.vlanif);
  box.runtime.vlansRemoved = [];
  assignable(ctx, true);
  return { status: 'ok' };
}

// --- assignments (§7.2, §7.3) -------------------------------------------------------------------------------------

const withAddresses = (ctx: Ctx): boolean => WITH_ADDRESSES.includes(ctx.dev.version);

function assignmentFields(ctx: Ctx): readonly string[] {
  return withAddresses(ctx)
    ? ['descr', 'if', 'lock', 'enable', 'type4', 'type6', 'ipaddr', 'ipaddrv6']
    : ['descr', 'if', 'lock'];
}

const flag = (v: string | undefined): string => ((v ?? '') === '' ? '0' : '1');

/** `fromLegacy` (master `NetworkInterfaceField.php` l.85-113): a config.xml record → model fields. */
function fromLegacy(data: Rec): Rec {
  const ipaddr = data.ipaddr ?? '';
  const ipaddrv6 = data.ipaddrv6 ?? '';
  return {
    descr: data.descr ?? '',
    if: data.if ?? '',
    lock: flag(data.lock === '0' ? '' : data.lock),
    enable: flag(data.enable === '0' ? '' : data.enable),
    type4: isIPv4(ipaddr) ? 'staticv4' : ipaddr,
    type6: isIPv6(ipaddrv6) ? 'staticv6' : ipaddrv6,
    ipaddr: isIPv4(ipaddr) ? `${ipaddr}/${data.subnet ?? ''}` : '',
    ipaddrv6: isIPv6(ipaddrv6) ? `${ipaddrv6}/${data.subnetv6 ?? ''}` : '',
  };
}

/** `toLegacy` (master l.41-83): model fields → config.xml keys. */
function toLegacy(item: Rec): Rec {
  const out: Rec = {};
  if (item.type4 === 'staticv4') {
    [out.ipaddr = '', out.subnet = ''] = (item.ipaddr ?? '').split('/');
  } else out.ipaddr = item.type4 ?? '';
  if (item.type6 === 'staticv6') {
    [out.ipaddrv6 = '', out.subnetv6 = ''] = (item.ipaddrv6 ?? '').split('/');
  } else out.ipaddrv6 = item.type6 ?? '';
  out.descr = item.descr ?? '';
  out.if = item.if ?? '';
  out.lock = item.lock ?? '0';
  out.enable = item.enable ?? '0';
  return out;
}

/** The in-memory model (constructor): every non-virtual interface not pending deletion, keyed by its id. */
function assignmentItems(ctx: Ctx): Map<string, Rec> {
  const box = ctx.dev.box;
  const pending = todo(box);
  const items = new Map<string, Rec>();
  for (const [id, cfg] of Object.entries(configInterfaces(box))) {
    if ((cfg.virtual ?? '') !== '') continue;
    const t = pending[id];
    if (t?.pending_action === 'delete') continue;
    if (withAddresses(ctx)) {
      const data = t?.pending !== undefined && Object.keys(t.pending).length > 0 ? t.pending : cfg;
      items.set(id, { identifier: id, pending_action: t?.pending_action ?? '', ...fromLegacy(data) });
    } else {
      items.set(id, {
        identifier: id,
        descr: cfg.descr ?? '',
        lock: (cfg.lock ?? '') === '' || cfg.lock === '0' ? '0' : '1',
        if: t?.pending_if ?? cfg.if ?? '',
      });
    }
  }
  return items;
}

function blankAssignment(ctx: Ctx): Rec {
  const base: Rec = { descr: '', identifier: '', if: '', lock: '1' };
  return withAddresses(ctx)
    ? { ...base, pending_action: '', enable: '1', type4: 'none', type6: 'none', ipaddr: '', ipaddrv6: '' }
    : base;
}

/** Field validation of one changed item, keyed `interface.<field>` (first message per field). */
function validateAssignment(ctx: Ctx, id: string, item: Rec, all: Map<string, Rec>): Rec {
  const out: Rec = {};
  const put = (f: string, m: string) => {
    out[`interface.${f}`] ??= m;
  };
  // the descr mask came with 26.7.2 (af24a9fbb9); the 26.7 profile is the 26.7 tag
  if (ctx.dev.version !== '26.7' && !/^[a-z_0-9]{0,255}$/i.test(item.descr ?? '')) put('descr', DESCRIPTION);
  if ((item.if ?? '') === '') put('if', REQUIRED);
  else if (!assignable(ctx).includes(item.if as string)) put('if', NOT_IN_LIST);
  else if ([...all].some(([other, o]) => other !== id && o.if === item.if)) put('if', 'Can not assign a device to more interfaces.');
  if (!/^[01]$/.test(item.lock ?? '')) put('lock', BOOL);
  if (!withAddresses(ctx)) return out;
  if (!/^[01]$/.test(item.enable ?? '')) put('enable', BOOL);
  for (const [f, options] of [['type4', TYPE4], ['type6', TYPE6]] as const) {
    const v = item[f] ?? '';
    if (v === '') put(f, REQUIRED);
    else if (!(v in options)) put(f, NOT_IN_LIST);
  }
  for (const [f, family] of [['ipaddr', 4], ['ipaddrv6', 6]] as const) {
    const v = item[f] ?? '';
    if (v === '') continue;
    const [ip = '', bits, extra] = v.split('/');
    const okIp = family === 4 ? isIPv4(ip) : isIPv6(ip);
    if (extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > (ip.includes(':') ? 128 : 32) || !okIp) {
      put(f, NETWORK);
    }
  }
  if (item.type4 === 'staticv4' && (item.ipaddr ?? '') === '') put('ipaddr', 'An address is required when configuring static mode');
  if (['ppp', 'pppoe', 'pptp', 'l2tp'].includes(item.type4 ?? '')) put('type4', 'PPP types belong to their respective devices');
  if (item.type6 === 'pppoev6') put('type6', 'PPP types belong to their respective devices');
  if (item.type6 === 'staticv6' && (item.ipaddrv6 ?? '') === '') put('ipaddrv6', 'An address is required when configuring static mode');
  return out;
}

/** `serializeToConfig` (26.7.2 l.115-155; master l.119-187): config.xml now, the rest into the todo file. */
function serialize(ctx: Ctx, items: Map<string, Rec>): Map<string, string> {
  const box = ctx.dev.box;
  const cfgs = configInterfaces(box);
  const pending = todo(box);
  const store = (id: string, payload: OpnIfTodo) => {
    pending[id] = { ...pending[id], ...payload };
  };
  const existing: string[] = [];
  for (const [id, cfg] of Object.entries(cfgs)) {
    if ((cfg.virtual ?? '') !== '') continue;
    existing.push(id);
    const item = items.get(id);
    if (item === undefined) {
      store(id, { pending_action: 'delete' });
      continue;
    }
    cfg.descr = item.descr ?? '';
    if (!withAddresses(ctx)) {
      cfg.lock = item.lock ?? '0';
      if (cfg.if !== item.if) store(id, { pending_action: 'relink', pending_if: item.if ?? '' });
      continue;
    }
    const legacy = toLegacy(item);
    const changed = Object.entries(legacy).some(([k, v]) => (cfg[k] ?? (k === 'enable' || k === 'lock' ? '0' : '')) !== v);
    if (changed) store(id, { pending: legacy, pending_action: cfg.if !== item.if ? 'relink' : 'update' });
  }
  let next = 1;
  while (existing.includes(`opt${next}`) || cfgs[`opt${next}`] !== undefined) next++;
  const renamed = new Map<string, string>();
  for (const [key, item] of items) {
    if (cfgs[key] !== undefined) continue;
    const id = `opt${next++}`;
    if (withAddresses(ctx)) {
      cfgs[id] = { if: item.if ?? '', descr: item.descr ?? '' };
      store(id, { pending: toLegacy(item), pending_action: 'update' });
    } else {
      cfgs[id] = { if: item.if ?? '', descr: item.descr ?? '', lock: item.lock ?? '1' };
    }
    renamed.set(key, id);
  }
  ctx.dev.save();
  return renamed;
}

function assignmentRow(ctx: Ctx, id: string, item: Rec): Record<string, unknown> {
  const row: Record<string, unknown> = { uuid: id, ...item, icon: 'fa fa-plug text-muted', optgroup: '' };
  if ((item.descr ?? '') === '') row['%descr'] = id.toUpperCase();
  if (withAddresses(ctx)) {
    if (TYPE4[item.type4 ?? ''] !== undefined) row['%type4'] = TYPE4[item.type4 as string];
    if (TYPE6[item.type6 ?? ''] !== undefined) row['%type6'] = TYPE6[item.type6 as string];
  }
  return row;
}

function assignmentNodes(ctx: Ctx, item: Rec): Record<string, unknown> {
  const devices = assignable(ctx);
  const out: Record<string, unknown> = {
    descr: item.descr ?? '',
    identifier: item.identifier ?? '',
    ...(withAddresses(ctx) ? { pending_action: item.pending_action ?? '' } : {}),
    icon: 'fa fa-plug text-muted',
    optgroup: '',
    if: Object.fromEntries(devices.map((d) => [d, { value: d, selected: d === item.if ? 1 : 0 }])),
    lock: item.lock ?? '1',
  };
  if (withAddresses(ctx)) {
    out.enable = item.enable ?? '1';
    out.type4 = optionMap(TYPE4, item.type4 ?? '');
    out.type6 = optionMap(TYPE6, item.type6 ?? '');
    out.ipaddr = item.ipaddr ?? '';
    out.ipaddrv6 = item.ipaddrv6 ?? '';
  }
  return out;
}

function assignmentSearch(ctx: Ctx): unknown {
  return searchRecordset(ctx, [...assignmentItems(ctx)].map(([id, item]) => assignmentRow(ctx, id, item)));
}

function assignmentGet(ctx: Ctx): unknown {
  const id = ctx.params[0];
  if (id === undefined) return { interface: assignmentNodes(ctx, blankAssignment(ctx)) };
  const item = assignmentItems(ctx).get(id);
  return item ? { interface: assignmentNodes(ctx, item) } : [];
}

function assignmentAdd(ctx: Ctx): unknown {
  if (!ctx.isPost || !hasPost(ctx, 'interface')) return { result: 'failed' };
  const items = assignmentItems(ctx);
  const key = randomUuid();
  const node = blankAssignment(ctx);
  merge(node, postedRecord(ctx, 'interface'), assignmentFields(ctx));
  items.set(key, node);
  const validations = validateAssignment(ctx, key, node, items);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  const id = serialize(ctx, items).get(key) as string;
  // 26.7 and 26.7.1 answered the model's throw-away uuid; 26.7.2 and master the new id (45f9214fb5 / 68c0174864)
  return { result: 'saved', uuid: ctx.dev.version === '26.7' ? key : id };
}

function assignmentSet(ctx: Ctx): unknown {
  const id = ctx.params[0] as string;
  if (!ctx.isPost || !hasPost(ctx, 'interface')) return { result: 'failed' };
  const items = assignmentItems(ctx);
  let node = items.get(id);
  if (node === undefined) {
    if (!UUID_RE.test(id)) return { result: 'failed' };
    node = blankAssignment(ctx);
    items.set(id, node);
  }
  merge(node, postedRecord(ctx, 'interface'), assignmentFields(ctx));
  const validations = validateAssignment(ctx, id, node, items);
  if (Object.keys(validations).length > 0) return { result: 'failed', validations };
  throwReadOnly(ctx);
  serialize(ctx, items);
  return { result: 'saved' };
}

function assignmentDel(ctx: Ctx): unknown {
  if (!ctx.isPost) return { status: 'failed' };
  const box = ctx.dev.box;
  const ids = (ctx.params[0] ?? '').split(',');
  for (const id of ids) {
    const cfg = configInterfaces(box)[id];
    if (cfg !== undefined && (cfg.lock ?? '') !== '' && cfg.lock !== '0') {
      throw new UserException('Interface locked, unset lock first before removal', 'locked');
    }
  }
  const items = assignmentItems(ctx);
  let result = 'failed';
  let changed = false;
  for (const id of ids) {
    if (items.delete(id)) {
      result = 'deleted';
      changed = true;
    } else result = 'not found';
  }
  if (changed) {
    throwReadOnly(ctx);
    serialize(ctx, items);
  }
  return { result };
}

/** Rules naming only a removed interface go with it; others lose it from their list (`cleanRules`, l.100-138). */
function cleanRules(box: OpnBox, id: string): void {
  for (const section of ['filter', 'snat', 'dnat', 'onetoone'] as const) {
    box.config[section] = box.config[section].filter((rule) => {
      const names = (rule.interface ?? '').split(',');
      if (!names.includes(id)) return true;
      const rest = names.filter((n) => n !== id);
      rule.interface = rest.join(',');
      return rest.length > 0;
    });
  }
}

/** `reconfigureAction`: configd `interface apply`, then pending changes into config.xml, filter reload. */
async function assignmentReconfigure(ctx: Ctx): Promise<unknown> {
  if (!ctx.isPost) return { status: 'failed' };
  await ctx.dev.delay();
  const box = ctx.dev.box;
  const cfgs = configInterfaces(box);
  const items = assignmentItems(ctx);
  for (const [id, t] of Object.entries(todo(box))) {
    const cfg = cfgs[id];
    if (cfg === undefined) continue;
    if (t.pending_action === 'delete') {
      cleanRules(box, id);
      delete cfgs[id];
    } else if (!withAddresses(ctx)) {
      if (t.pending_action === 'relink') cfg.if = t.pending_if ?? cfg.if ?? '';
    } else {
      const item = items.get(id);
      const legacy = item ? toLegacy(item) : {};
      for (const [k, v] of Object.entries(legacy)) {
        if (v !== '') cfg[k] = v;
        else delete cfg[k];
      }
      for (const b of ['enable', 'lock']) if ((legacy[b] ?? '') === '' || legacy[b] === '0') delete cfg[b];
    }
  }
  box.runtime.ifTodo = {};
  ctx.dev.save();
  configureInterfaces(box);
  ctx.dev.filterReload(false);
  return { status: 'ok' };
}

const vlanRoute = (action: string, required: number, handler: Route['handler']): Route => ({
  module: 'interfaces',
  controller: 'VlanSettings',
  action,
  required,
  handler,
});
const assignmentRoute = (action: string, required: number, handler: Route['handler']): Route => ({
  module: 'interfaces',
  controller: 'Assignment',
  action,
  required,
  handler,
  versions: ASSIGNMENT_PROFILES,
});

export const INTERFACE_ROUTES: Route[] = [
  vlanRoute('searchItem', 0, vlanSearch),
  vlanRoute('getItem', 0, vlanGet),
  vlanRoute('addItem', 0, vlanAdd),
  vlanRoute('setItem', 1, vlanSet),
  vlanRoute('delItem', 1, vlanDel),
  vlanRoute('reconfigure', 0, vlanReconfigure),
  assignmentRoute('searchItem', 0, assignmentSearch),
  assignmentRoute('getItem', 0, assignmentGet),
  assignmentRoute('addItem', 0, assignmentAdd),
  assignmentRoute('setItem', 1, assignmentSet),
  assignmentRoute('delItem', 1, assignmentDel),
  assignmentRoute('reconfigure', 0, assignmentReconfigure),
];
