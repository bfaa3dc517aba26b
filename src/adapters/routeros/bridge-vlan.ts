/**
 * @module RouterOS bridge VLANs (docs/reference/routeros-api.md §9): the `bridge_vlan` live kind over
 * `/interface/bridge/vlan`, with the access ports' `pvid` on `/interface/bridge/port`. The bridge's own
 * `vlan-filtering` is read, never written: turning it on changes how every frame through the bridge is handled,
 * the management path included (docs/adr/0256-routeros-bridge-vlans-leave-vlan-filtering-alone.md).
 *
 * A write target is the entry's `.id`. An entry holding several VLAN ids (`vlan-ids=10,20-22`) reads as its first
 * id with the full list in `vendor_data['vlan-ids']`, so writing the read body back restores it.
 */
import type { LiveBridgeVlan } from '../live.ts';
import type { LiveBridgeVlanBody, LiveObject, LiveWrite, LiveWriteResult } from '../live-write.ts';
import type { RouterOsAdapter, RosRow } from './adapter.ts';
import { RouterOsError } from './errors.ts';

const VLAN_MENU = '/interface/bridge/vlan';
const PORT_MENU = '/interface/bridge/port';
const BRIDGE_MENU = '/interface/bridge';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bool = (v: unknown): boolean => v === true || v === 'true' || v === 'yes';
const names = (v: unknown): string[] =>
  str(v)
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** `10,20-22` → [10, 20, 21, 22]; null when RouterOS printed something else. */
export function vlanIdsOf(text: string): number[] | null {
  const ids: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    if (m === null) return null;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    for (let id = low; id <= high; id++) ids.push(id);
  }
  return ids;
}

/** Entry properties that are read-only or computed (never written back). */
const READ_ONLY = new Set(['.id', '.nextid', 'dynamic', 'current-tagged', 'current-untagged', 'debug-info']);
/** Properties the neutral body carries. */
const COVERED = new Set(['bridge', 'vlan-ids', 'tagged', 'untagged', 'comment']);

function refuse(field: string, message: string): never {
  throw new RouterOsError('ROS500', message, { field });
}

/** The neutral body of an entry (ports sorted, as the body is). */
export function bridgeVlanBody(row: RosRow): LiveBridgeVlanBody {
  const raw = str(row['vlan-ids']);
  const ids = vlanIdsOf(raw) ?? [];
  const extras: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) {
    // RouterOS prints defaults explicitly: empty and `false` are what a create without them stores.
    if (READ_ONLY.has(k) || COVERED.has(k) || typeof v !== 'string' || v === '' || v === 'false') continue;
    extras[k] = v;
  }
  if (ids.length !== 1) extras['vlan-ids'] = raw;
  return {
    bridge: str(row.bridge),
    vlan_id: ids[0] ?? 0,
    tagged: names(row.tagged).sort(),
    untagged: names(row.untagged).sort(),
    description: str(row.comment),
    ...(Object.keys(extras).length > 0 ? { vendor_data: extras } : {}),
  };
}

/** The live view's rows: one per VLAN id of every entry, with its bridge's `vlan-filtering`. */
export function bridgeVlanRows(entries: RosRow[], bridges: RosRow[]): LiveBridgeVlan[] {
  const filtering = new Map(bridges.map((b) => [str(b.name), bool(b['vlan-filtering'])]));
  const out: LiveBridgeVlan[] = [];
  for (const row of entries) {
    const body = bridgeVlanBody(row);
    const dynamic = bool(row.dynamic);
    for (const vlanId of vlanIdsOf(str(row['vlan-ids'])) ?? []) {
      out.push({
        write_target: dynamic ? null : str(row['.id']) || null,
        bridge: body.bridge,
        vlan_id: vlanId,
        tagged: body.tagged,
        untagged: body.untagged,
        description: body.description,
        vlan_filtering: filtering.get(body.bridge) ?? false,
        vendor_data: { ...row },
      });
    }
  }
  return out;
}

/** Reads and writes of the `bridge_vlan` kind on one router (through the adapter's one-at-a-time queue). */
export class RouterOsBridgeVlans {
  constructor(private readonly ros: RouterOsAdapter) {}

  private async entry(target: string): Promise<RosRow | null> {
    if (!/^\*[0-9A-Fa-f]+$/.test(target)) return null;
    try {
      return await this.ros.readObject(`${VLAN_MENU}/${target}`, `read bridge VLAN \`${target}\``);
    } catch (err) {
      if (err instanceof RouterOsError && err.code === 'ROS105') return null;
      throw err;
    }
  }

  async read(target: string): Promise<LiveObject | null> {
    const row = await this.entry(target);
    return row === null ? null : (bridgeVlanBody(row) as unknown as LiveObject);
  }

  async write(change: Extract<LiveWrite, { kind: 'bridge_vlan' }>): Promise<LiveWriteResult> {
    const before = change.op === 'create' ? null : await this.mustFind(change.target);
    if (change.op === 'delete') {
      await this.ros.request('ROS500', `delete bridge VLAN \`${change.target}\``, 'DELETE', `${VLAN_MENU}/${change.target}`);
      await this.resetAccessPorts(before as RosRow, []);
      return { target: change.target, pending: [] };
    }
    const body = change.body as unknown as Record<string, unknown>;
    const fields = await this.toDevice(body, change.op === 'update' ? change.target : null);
    let target: string;
    if (change.op === 'create') {
      const created = await this.ros.request('ROS500', 'create bridge VLAN', 'PUT', VLAN_MENU, fields);
      const row: unknown = Array.isArray(created) ? (created as unknown[])[0] : created;
      const id = row !== null && typeof row === 'object' ? (row as RosRow)['.id'] : undefined;
      if (typeof id !== 'string') throw new RouterOsError('ROS400', 'Creating a bridge VLAN returned no `.id`.');
      target = id;
    } else {
      // Clear what the new body no longer sets (RouterOS unsets a property given empty).
      const old = before as RosRow;
      const extras = body.vendor_data;
      if (extras !== undefined) {
        for (const [k, v] of Object.entries(old))
          if (!READ_ONLY.has(k) && !COVERED.has(k) && !(k in fields) && typeof v === 'string' && v !== '' && v !== 'false') fields[k] = '';
      }
      if (!('comment' in fields) && str(old.comment) !== '') fields.comment = '';
      await this.ros.request('ROS500', `update bridge VLAN \`${change.target}\``, 'PATCH', `${VLAN_MENU}/${change.target}`, fields);
      target = change.target;
    }
    const untagged = names(fields.untagged);
    const vlanId = vlanIdsOf(fields['vlan-ids'] ?? '')?.[0];
    if (before !== null) await this.resetAccessPorts(before, untagged);
    if (vlanId !== undefined) await this.setAccessPorts(str(fields.bridge), untagged, vlanId);
    return { target, pending: [] };
  }

  private async mustFind(target: string): Promise<RosRow> {
    const row = await this.entry(target);
    if (row === null) throw new RouterOsError('ROS105', `bridge VLAN \`${target}\` does not exist on the router.`);
    if (bool(row.dynamic)) refuse('target', `bridge VLAN \`${target}\` is dynamic: RouterOS made it from a port's pvid and only RouterOS changes it.`);
    return row;
  }

  private ports(bridge: string): Promise<RosRow[]> {
    return this.ros.read(PORT_MENU, `read the ports of bridge \`${bridge}\``, new URLSearchParams({ bridge }));
  }

  /**
   * The entry's properties, checked against the router before anything is written: the bridge exists, every port
   * is one of its ports (or the bridge itself, for the router's own VLAN interface), no other entry of the bridge
   * lists a port for the same VLAN, and no access port is untagged in another VLAN (a port has one pvid).
   */
  private async toDevice(body: Record<string, unknown>, self: string | null): Promise<Record<string, string>> {
    const b = body as unknown as LiveBridgeVlanBody;
    if (typeof b.bridge !== 'string' || b.bridge === '') refuse('bridge', '`bridge` must name a bridge.');
    if (!Number.isInteger(b.vlan_id) || b.vlan_id < 1 || b.vlan_id > 4094) refuse('vlan_id', '`vlan_id` must be 1-4094.');
    const list = (field: 'tagged' | 'untagged') => {
      const v: unknown = b[field];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '' || x.includes(',')))
        refuse(field, `\`${field}\` must be a list of interface names.`);
      return v as string[];
    };
    const tagged = list('tagged');
    const untagged = list('untagged');
    const bridges = await this.ros.read(BRIDGE_MENU, 'read the bridges');
    if (!bridges.some((r) => r.name === b.bridge)) refuse('bridge', `There is no bridge \`${b.bridge}\` on the router.`);
    const members = new Set((await this.ports(b.bridge)).map((p) => str(p.interface)));
    for (const [field, ports] of [['tagged', tagged], ['untagged', untagged]] as const) {
      const stranger = ports.find((p) => p !== b.bridge && !members.has(p));
      if (stranger !== undefined) refuse(field, `\`${stranger}\` is not a port of bridge \`${b.bridge}\`.`);
    }
    const both = tagged.find((p) => untagged.includes(p));
    if (both !== undefined) refuse('untagged', `\`${both}\` cannot be both tagged and untagged in one VLAN.`);
    const extras: Record<string, string> = {};
    const vd = b.vendor_data;
    if (vd !== undefined) {
      if (vd === null || typeof vd !== 'object' || Array.isArray(vd)) refuse('vendor_data', '`vendor_data` must be an object.');
      for (const [k, v] of Object.entries(vd)) {
        if (READ_ONLY.has(k)) continue;
        if (typeof v !== 'string') refuse(`vendor_data.${k}`, `\`vendor_data.${k}\` must be a string.`);
        extras[k] = v;
      }
    }
    const vlanIds = extras['vlan-ids'] ?? String(b.vlan_id);
    const ids = vlanIdsOf(vlanIds);
    if (ids === null || ids[0] !== b.vlan_id) refuse('vendor_data.vlan-ids', '`vendor_data.vlan-ids` must start with `vlan_id`.');
    const others = (await this.ros.read(VLAN_MENU, 'read the bridge VLANs', new URLSearchParams({ bridge: b.bridge }))).filter(
      (r) => r['.id'] !== self && !bool(r.disabled),
    );
    for (const other of others) {
      const otherIds = vlanIdsOf(str(other['vlan-ids'])) ?? [];
      const otherUntagged = names(other.untagged);
      if (otherIds.some((id) => ids.includes(id))) {
        const clash = [...tagged, ...untagged].find((p) => [...names(other.tagged), ...otherUntagged].includes(p));
        if (clash !== undefined)
          refuse('vlan_id', `\`${clash}\` is already in VLAN ${b.vlan_id} on \`${b.bridge}\` (entry \`${str(other['.id'])}\`).`);
      }
      const access = untagged.find((p) => p !== b.bridge && otherUntagged.includes(p));
      if (access !== undefined)
        refuse('untagged', `\`${access}\` is already an untagged (access) port of VLAN ${str(other['vlan-ids'])}: a port has one pvid.`);
    }
    return {
      ...extras,
      bridge: b.bridge,
      'vlan-ids': vlanIds,
      tagged: tagged.join(','),
      untagged: untagged.join(','),
      ...(typeof b.description === 'string' && b.description !== '' ? { comment: b.description } : {}),
    };
  }

  /** Access ports of the VLAN take it as their pvid (the bridge itself keeps its own). */
  private async setAccessPorts(bridge: string, untagged: string[], vlanId: number): Promise<void> {
    if (untagged.length === 0) return;
    for (const port of await this.ports(bridge)) {
      if (!untagged.includes(str(port.interface)) || str(port.pvid) === String(vlanId)) continue;
      await this.ros.request('ROS500', `set the pvid of \`${str(port.interface)}\``, 'PATCH', `${PORT_MENU}/${str(port['.id'])}`, {
        pvid: String(vlanId),
      });
    }
  }

  /** Ports that were access ports of the old entry and are no longer: back to the default pvid 1. */
  private async resetAccessPorts(old: RosRow, stillUntagged: string[]): Promise<void> {
    const vlanId = vlanIdsOf(str(old['vlan-ids']))?.[0];
    const gone = names(old.untagged).filter((p) => !stillUntagged.includes(p));
    if (vlanId === undefined || gone.length === 0) return;
    for (const port of await this.ports(str(old.bridge))) {
      if (!gone.includes(str(port.interface)) || str(port.pvid) !== String(vlanId)) continue;
      await this.ros.request('ROS500', `reset the pvid of \`${str(port.interface)}\``, 'PATCH', `${PORT_MENU}/${str(port['.id'])}`, {
        pvid: '1',
      });
    }
  }
}
