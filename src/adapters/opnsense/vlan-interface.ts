/**
 * @module OPNsense VLAN interfaces (`vlan_interface`, docs/reference/brain-l3.md §7.5): a VLAN device
 * (`api/interfaces/vlan_settings/*`) plus its interface assignment (`api/interfaces/assignment/*`), addressed by the
 * device name OPNsense gives it (`vlan01`). Offered only where the assignment model carries the interface
 * configuration (`enable`, `type4`, `ipaddr`): 26.7.x assigns a device but silently drops addresses (§7.2), so the
 * adapter asks the firmware for its model instead of trusting the version. Decision:
 * docs/adr/0283-opnsense-vlan-interfaces-by-assignment-model.md.
 */
import type { LiveObject, LiveWrite, LiveWriteResult } from '../live-write.ts';
import { isRecord, type OpnSenseAdapter, selectedKeys } from './adapter.ts';
import { OpnSenseError } from './errors.ts';
import { parseSeries } from './rollback.ts';

const VLAN = '/api/interfaces/vlan_settings';
const ASSIGN = '/api/interfaces/assignment';
const KIND = 'vlan_interface';
type Row = Record<string, unknown>;

/** OPNsense validation keys → neutral fields (§7.5). */
const FIELDS: Record<string, string> = {
  'vlan.if': 'parent',
  'vlan.tag': 'tag',
  'vlan.descr': 'description',
  'vlan.pcp': 'vendor_data',
  'vlan.proto': 'vendor_data',
  'vlan.vlanif': 'target',
  'interface.descr': 'name',
  'interface.if': 'parent',
  'interface.enable': 'is_enabled',
  'interface.type4': 'ipv4',
  'interface.ipaddr': 'ipv4',
  'interface.type6': 'ipv6',
  'interface.ipaddrv6': 'ipv6',
};

/** Subsystems this module leaves pending: the VLAN devices and the interface assignments. */
export type VlanSubsystem = 'vlan' | 'interfaces';

const text = (v: unknown): string => {
  if (isRecord(v)) return selectedKeys(v).join(',');
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
};
const bit = (b: boolean): string => (b ? '1' : '0');

function fieldError(field: string, problem: string, httpStatus?: number): OpnSenseError {
  return new OpnSenseError('OPN500', `${KIND} field \`${field}\` ${problem}.`, {
    field,
    ...(httpStatus === undefined ? {} : { httpStatus }),
  });
}

/** Why this firmware cannot serve VLAN interfaces, or null when it can (§7.4). */
export type VlanSupport = { ok: true } | { ok: false; reason: string };

interface Body {
  parent: string;
  tag: number;
  name: string;
  ipv4: string | null;
  ipv6: string | null;
  description: string;
  is_enabled: boolean;
  vendor: Record<string, string>;
}

const CIDR4 = /^(\d{1,3})(\.\d{1,3}){3}\/\d{1,2}$/;

function bodyOf(raw: unknown): Body {
  if (!isRecord(raw)) throw fieldError('body', 'must be an object');
  const { parent, tag, name, ipv4, ipv6, description, is_enabled: enabled, vendor_data: vendor } = raw;
  if (typeof parent !== 'string' || parent === '') throw fieldError('parent', 'must name the parent port (`igb1`)');
  if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 1 || tag > 4094) throw fieldError('tag', 'must be a VLAN id from 1 to 4094');
  // OPNsense keeps the interface description to letters, digits and `_` (NetworkInterface.xml mask, §7.2).
  if (typeof name !== 'string' || !/^[A-Za-z0-9_]{1,255}$/.test(name)) throw fieldError('name', 'must be letters, digits and `_`');
  if (ipv4 !== null && (typeof ipv4 !== 'string' || !CIDR4.test(ipv4))) throw fieldError('ipv4', 'must be an IPv4 address with its prefix length (`10.20.0.1/24`) or null');
  if (ipv6 !== null && (typeof ipv6 !== 'string' || !/^[0-9a-f:.]+\/\d{1,3}$/i.test(ipv6))) throw fieldError('ipv6', 'must be an IPv6 address with its prefix length or null');
  if (typeof description !== 'string') throw fieldError('description', 'must be a string');
  if (typeof enabled !== 'boolean') throw fieldError('is_enabled', 'must be a boolean');
  if (vendor !== undefined && !isRecord(vendor)) throw fieldError('vendor_data', 'must be an object');
  const extra = Object.fromEntries(Object.entries(vendor ?? {}).map(([k, v]) => [k, text(v)]));
  return { parent, tag, name, ipv4, ipv6, description, is_enabled: enabled, vendor: extra };
}

/** The device name of a vlan_settings search row: assigned ones read `vlan01 [NAME]` (§7.1). */
const deviceOf = (row: Row): string => text(row.vlanif).split(' ')[0] ?? '';

export class OpnSenseVlanInterfaces {
  private support: VlanSupport | undefined;

  constructor(private readonly a: OpnSenseAdapter) {}

  /** Firmware 26.7 or later whose assignment model has `enable`, `type4` and `ipaddr` (§7.4); asked once. */
  async supported(): Promise<VlanSupport> {
    if (this.support !== undefined) return this.support;
    const product = (await this.a.version()).product;
    const series = parseSeries(product);
    if (series === null || series[0] * 100 + series[1] < 2607) {
      this.support = {
        ok: false,
        reason: `OPNsense ${product} has no interface assignment API (api/interfaces/assignment came with 26.7); a VLAN can be created but not made an interface with an address (docs/reference/brain-l3.md §7.2)`,
      };
      return this.support;
    }
    const data = await this.a.call({ code: 'OPN300', what: 'read the interface assignment model' }, 'GET', `${ASSIGN}/get_item`);
    const model = isRecord(data) && isRecord(data.interface) ? data.interface : {};
    const missing = ['enable', 'type4', 'ipaddr'].filter((f) => model[f] === undefined);
    this.support =
      missing.length === 0
        ? { ok: true }
        : {
            ok: false,
            reason: `OPNsense ${product}'s interface assignment API has no ${missing.map((f) => `\`${f}\``).join(', ')}: it assigns a device but cannot enable it or set its address, and silently drops them (opnsense/core 92cb28a669 adds them after 26.7.2; docs/reference/brain-l3.md §7.2-§7.4)`,
          };
    return this.support;
  }

  private async require(code: 'OPN300' | 'OPN500'): Promise<void> {
    const s = await this.supported();
    if (!s.ok) throw new OpnSenseError(code, `VLAN interfaces are unavailable on this gateway: ${s.reason}.`);
  }

  /** A call whose validation failure names the neutral field. */
  private async req(what: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    try {
      return await this.a.call({ code: 'OPN500', what }, method, path, body);
    } catch (err) {
      const named = err instanceof OpnSenseError && err.field !== undefined ? FIELDS[err.field] : undefined;
      if (named === undefined) throw err;
      const said = (err as OpnSenseError).validations?.[(err as OpnSenseError).field as string] ?? 'refused';
      throw new OpnSenseError('OPN500', `Failed to ${what}: ${said} (field \`${named}\`).`, { field: named, cause: err });
    }
  }

  private saved(what: string, data: unknown, want: string): Row {
    if (!isRecord(data) || data.result !== want) {
      throw new OpnSenseError('OPN500', `Failed to ${what}: the gateway answered ${JSON.stringify(data).slice(0, 200)} instead of \`result: ${want}\`.`);
    }
    return data;
  }

  private async rows(path: string, what: string): Promise<Row[]> {
    const data = await this.a.call({ code: 'OPN300', what }, 'GET', path);
    if (!isRecord(data) || !Array.isArray(data.rows)) throw new OpnSenseError('OPN400', `The gateway answered ${what} without a \`rows\` list.`);
    return data.rows.filter(isRecord);
  }

  private async state(): Promise<{ vlans: Row[]; assignments: Row[] }> {
    const [vlans, assignments] = await Promise.all([
      this.rows(`${VLAN}/search_item`, 'list VLAN devices'),
      this.rows(`${ASSIGN}/search_item`, 'list interface assignments'),
    ]);
    return { vlans, assignments };
  }

  /** The neutral body of a VLAN row and its assignment row (search rows carry raw values, §7.1). */
  private static objectOf(vlan: Row, iface: Row | undefined): LiveObject & { interface_id: string | null } {
    const vendor: Record<string, string> = {};
    if (text(vlan.pcp) !== '' && text(vlan.pcp) !== '0') vendor.pcp = text(vlan.pcp);
    if (text(vlan.proto) !== '') vendor.proto = text(vlan.proto);
    const type4 = iface ? text(iface.type4) : '';
    const type6 = iface ? text(iface.type6) : '';
    if (type4 !== '' && type4 !== 'none' && type4 !== 'staticv4') vendor.type4 = type4;
    if (type6 !== '' && type6 !== 'none' && type6 !== 'staticv6') vendor.type6 = type6;
    const body = {
      parent: text(vlan.if),
      tag: Number(text(vlan.tag)),
      name: iface ? text(iface.descr) : '',
      ipv4: type4 === 'staticv4' && text(iface?.ipaddr) !== '' ? text(iface?.ipaddr) : null,
      ipv6: type6 === 'staticv6' && text(iface?.ipaddrv6) !== '' ? text(iface?.ipaddrv6) : null,
      description: text(vlan.descr),
      is_enabled: iface !== undefined && text(iface.enable) === '1',
      interface_id: iface ? text(iface.identifier) || text(iface.uuid) : null,
    };
    return Object.keys(vendor).length === 0 ? body : { ...body, vendor_data: vendor };
  }

  /** Every VLAN device with its interface, keyed by the device name. */
  async list(): Promise<Array<LiveObject & { target: string }>> {
    await this.require('OPN300');
    const { vlans, assignments } = await this.state();
    return vlans.map((v) => ({
      target: deviceOf(v),
      ...OpnSenseVlanInterfaces.objectOf(v, assignments.find((i) => text(i.if) === deviceOf(v))),
    }));
  }

  private async find(target: string): Promise<{ vlan: Row; iface: Row | undefined } | null> {
    const { vlans, assignments } = await this.state();
    const vlan = vlans.find((v) => deviceOf(v) === target);
    return vlan === undefined ? null : { vlan, iface: assignments.find((i) => text(i.if) === target) };
  }

  async read(target: string): Promise<LiveObject | null> {
    await this.require('OPN300');
    const found = await this.find(target);
    return found === null ? null : OpnSenseVlanInterfaces.objectOf(found.vlan, found.iface);
  }

  private static vlanRecord(b: Body): Record<string, string> {
    return { if: b.parent, tag: String(b.tag), pcp: b.vendor.pcp ?? '0', proto: b.vendor.proto ?? '', descr: b.description };
  }

  private static assignment(b: Body): Record<string, string> {
    return {
      descr: b.name,
      enable: bit(b.is_enabled),
      type4: b.ipv4 !== null ? 'staticv4' : (b.vendor.type4 ?? 'none'),
      ipaddr: b.ipv4 ?? '',
      type6: b.ipv6 !== null ? 'staticv6' : (b.vendor.type6 ?? 'none'),
      ipaddrv6: b.ipv6 ?? '',
    };
  }

  private async vlanReconfigure(): Promise<void> {
    const data = await this.a.call({ code: 'OPN200', what: 'apply VLAN devices' }, 'POST', `${VLAN}/reconfigure`);
    if (!isRecord(data) || data.status !== 'ok') throw new OpnSenseError('OPN200', `vlan_settings/reconfigure answered ${JSON.stringify(data).slice(0, 200)}.`);
  }

  private async assignmentReconfigure(): Promise<void> {
    const data = await this.a.call({ code: 'OPN200', what: 'apply interface assignments' }, 'POST', `${ASSIGN}/reconfigure`);
    if (!isRecord(data) || data.status !== 'ok') throw new OpnSenseError('OPN200', `assignment/reconfigure answered ${JSON.stringify(data).slice(0, 200)}.`);
  }

  async write(change: Extract<LiveWrite, { kind: 'vlan_interface' }>): Promise<LiveWriteResult & { pending: VlanSubsystem[] }> {
    await this.require('OPN500');
    if (change.op === 'create') return this.create(bodyOf(change.body));
    const found = await this.find(change.target);
    if (found === null) throw fieldError('target', `names no VLAN device on the gateway (\`${change.target}\`)`, 404);
    if (change.op === 'delete') return this.remove(change.target, found);
    const b = bodyOf(change.body);
    // Parent and tag may change in place: OPNsense keeps a `vlan0N` name; it refuses renaming an assigned legacy
    // `<if>_vlan<tag>` device (`vlan.tag` → `tag`, §7.1).
    const uuid = text(found.vlan.uuid);
    const what = `update VLAN \`${change.target}\``;
    this.saved(what, await this.req(what, 'POST', `${VLAN}/set_item/${uuid}`, { vlan: OpnSenseVlanInterfaces.vlanRecord(b) }), 'saved');
    const device = await this.deviceName(uuid);
    const fields = OpnSenseVlanInterfaces.assignment(b);
    if (found.iface === undefined) {
      const assign = `assign VLAN \`${device}\``;
      this.saved(assign, await this.req(assign, 'POST', `${ASSIGN}/add_item`, { interface: { if: device, lock: '0', ...fields } }), 'saved');
    } else {
      const id = text(found.iface.identifier) || text(found.iface.uuid);
      const update = `update interface \`${id}\``;
      this.saved(update, await this.req(update, 'POST', `${ASSIGN}/set_item/${encodeURIComponent(id)}`, { interface: fields }), 'saved');
    }
    return { target: device, pending: ['vlan', 'interfaces'] };
  }

  /** The device name OPNsense gave a VLAN (`get_item`; the controller chooses it, §7.1). */
  private async deviceName(uuid: string): Promise<string> {
    const got = await this.a.call({ code: 'OPN500', what: 'read the VLAN device name' }, 'GET', `${VLAN}/get_item/${uuid}`);
    const device = isRecord(got) && isRecord(got.vlan) ? text(got.vlan.vlanif) : '';
    if (device === '') throw new OpnSenseError('OPN500', `The VLAN the gateway saved (${uuid}) has no device name.`);
    return device;
  }

  private async create(b: Body): Promise<LiveWriteResult & { pending: VlanSubsystem[] }> {
    const made = this.saved('create VLAN', await this.req('create VLAN', 'POST', `${VLAN}/add_item`, { vlan: OpnSenseVlanInterfaces.vlanRecord(b) }), 'saved');
    const uuid = text(made.uuid);
    const device = await this.deviceName(uuid);
    // The device becomes assignable only once the VLAN reconfigure refreshed the device list (§7.2).
    await this.vlanReconfigure();
    try {
      const what = `assign VLAN \`${device}\``;
      this.saved(what, await this.req(what, 'POST', `${ASSIGN}/add_item`, { interface: { if: device, lock: '0', ...OpnSenseVlanInterfaces.assignment(b) } }), 'saved');
    } catch (err) {
      // The VLAN alone is not what was asked for: take it back, then report the assignment's failure.
      await this.req(`withdraw VLAN \`${device}\``, 'POST', `${VLAN}/del_item/${uuid}`);
      await this.vlanReconfigure();
      throw err;
    }
    return { target: device, pending: ['interfaces'] };
  }

  private async remove(target: string, found: { vlan: Row; iface: Row | undefined }): Promise<LiveWriteResult & { pending: VlanSubsystem[] }> {
    if (found.iface !== undefined) {
      const id = text(found.iface.identifier) || text(found.iface.uuid);
      if (text(found.iface.lock) === '1') {
        throw fieldError('target', `is assigned as interface \`${id}\`, which is locked: unlock it under Interfaces > Assignments first`, 409);
      }
      const what = `remove interface \`${id}\``;
      this.saved(what, await this.req(what, 'POST', `${ASSIGN}/del_item/${encodeURIComponent(id)}`), 'deleted');
      // OPNsense refuses deleting a VLAN that config.xml still assigns, and only the reconfigure removes it (§7.1).
      await this.assignmentReconfigure();
    }
    const what = `delete VLAN \`${target}\``;
    this.saved(what, await this.req(what, 'POST', `${VLAN}/del_item/${text(found.vlan.uuid)}`), 'deleted');
    return { target, pending: ['vlan'] };
  }

  /** Makes pending VLAN and assignment changes live, devices first. */
  async apply(pending: ReadonlySet<string>): Promise<void> {
    if (pending.has('vlan')) await this.vlanReconfigure();
    if (pending.has('interfaces')) await this.assignmentReconfigure();
  }
}
