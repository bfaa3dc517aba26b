/**
 * @module OpenWrt bridge VLANs (docs/reference/openwrt-api.md §9): the `bridge_vlan` live kind over DSA `bridge-vlan`
 * sections of the UCI `network` config, staged in the rpcd session like the firewall writes and made live by the
 * same `uci.apply` with rollback (docs/adr/0257-openwrt-bridge-vlans-in-network-with-rollback.md).
 *
 * netifd refuses nothing here: a VLAN id out of range, a port that is not in the bridge or a second section for
 * the same VLAN is silently ignored or replaces the first (§9.2, §9.3). So this module checks all of it against
 * the `network` config before it stages a write. A port is written `name:t` (tagged) or `name:u*` (untagged, and
 * the port's PVID, as RouterOS `pvid`); the section name is the write target.
 */
import { randomBytes } from 'node:crypto';
import type { LiveBridgeVlan } from '../live.ts';
import type { LiveBridgeVlanBody, LiveObject, LiveWrite, LiveWriteResult } from '../live-write.ts';
import type { OpenWrtAdapter } from './adapter.ts';
import { OpenWrtError } from './errors.ts';
import type { UbusData } from './ubus.ts';

type Row = Record<string, unknown>;
const isRecord = (v: unknown): v is Row => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
/** A UCI list option (a single string is a one-item list; netifd's uci_to_blob splits `option ports 'a b'`). */
const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(text).filter((x) => x !== '') : text(v).split(/\s+/).filter((x) => x !== '');

/** Options the neutral body covers; every other option of a section is vendor_data. */
const MAPPED = new Set(['device', 'vlan', 'ports']);
const SECTION = 'bridge-vlan';

const fieldError = (field: string, problem: string) =>
  new OpenWrtError('OWRT500', `bridge_vlan field \`${field}\` ${problem}.`, { field });

/** One `ports` item: netifd reads the name up to `:`, then `t` = tagged and `*` = PVID; untagged otherwise (§9.2). */
function parsePort(item: string): { name: string; tagged: boolean; pvid: boolean } {
  const at = item.indexOf(':');
  if (at < 0) return { name: item, tagged: false, pvid: false };
  const flags = item.slice(at + 1);
  return { name: item.slice(0, at), tagged: flags.includes('t'), pvid: flags.includes('*') };
}

const renderPorts = (tagged: string[], untagged: string[]): string[] => [
  ...tagged.map((p) => `${p}:t`),
  ...untagged.map((p) => `${p}:u*`),
];

/** The neutral body of a `bridge-vlan` section (ports sorted; the raw list kept when it says more, e.g. no `*`). */
export function bridgeVlanBody(row: Row): LiveBridgeVlanBody {
  const ports = list(row.ports).map(parsePort);
  const tagged = ports.filter((p) => p.tagged).map((p) => p.name).sort();
  const untagged = ports.filter((p) => !p.tagged).map((p) => p.name).sort();
  const vendor: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith('.') || MAPPED.has(k)) continue;
    if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) vendor[k] = v;
  }
  const raw = list(row.ports);
  if (raw.join(' ') !== renderPorts(tagged, untagged).join(' ')) vendor.ports = raw;
  return {
    bridge: text(row.device),
    vlan_id: Number(text(row.vlan)),
    tagged,
    untagged,
    description: '',
    ...(Object.keys(vendor).length > 0 ? { vendor_data: vendor } : {}),
  };
}

/** netifd's `vlan_filtering` default: on for a bridge that has bridge-vlan sections, unless the option says (§9.4). */
function filtering(device: Row | undefined, hasVlans: boolean): boolean {
  const option = device === undefined ? '' : text(device.vlan_filtering);
  if (option === '') return hasVlans;
  return !['0', 'off', 'false', 'no', 'disabled'].includes(option);
}

/** Reads and staged writes of the `bridge_vlan` kind on one router. */
export class OpenWrtBridgeVlans {
  constructor(private readonly a: OpenWrtAdapter) {}

  /** Every section of `network` (the session's staged changes included), in file order. */
  private async network(): Promise<Row[]> {
    const d = await this.a.call(
      'uci',
      'get',
      { config: 'network' },
      { code: 'OWRT500', what: 'read the network config', grant: 'uci network (read)', allow: [4, 5], read: true },
    );
    const values = isRecord(d?.values) ? d.values : {};
    return Object.values(values)
      .filter(isRecord)
      .sort((x, y) => Number(x['.index'] ?? 0) - Number(y['.index'] ?? 0));
  }

  /** The live view's rows: every bridge-vlan section netifd would load (VLAN id 1-4094), with vlan_filtering. */
  async rows(): Promise<LiveBridgeVlan[]> {
    const sections = await this.network();
    const vlans = sections.filter((s) => s['.type'] === SECTION);
    const bridges = sections.filter((s) => s['.type'] === 'device' && text(s.type) === 'bridge');
    const out: LiveBridgeVlan[] = [];
    for (const s of vlans) {
      const body = bridgeVlanBody(s);
      if (!Number.isInteger(body.vlan_id) || body.vlan_id < 1 || body.vlan_id > 4094) continue;
      const device = bridges.find((b) => text(b.name) === body.bridge);
      out.push({
        write_target: text(s['.name']) || null,
        bridge: body.bridge,
        vlan_id: body.vlan_id,
        tagged: body.tagged,
        untagged: body.untagged,
        description: '',
        vlan_filtering: filtering(device, vlans.some((v) => text(v.device) === body.bridge)),
        vendor_data: { ...s },
      });
    }
    return out;
  }

  private async section(target: string): Promise<Row | null> {
    const d = await this.a.call(
      'uci',
      'get',
      { config: 'network', section: target },
      { code: 'OWRT500', what: `read network.${target}`, grant: 'uci network (read)', allow: [4, 5], read: true },
    );
    const row = d && isRecord(d.values) ? d.values : null;
    return row !== null && row['.type'] === SECTION ? row : null;
  }

  async read(target: string): Promise<LiveObject | null> {
    const row = await this.section(target);
    return row === null ? null : (bridgeVlanBody(row) as unknown as LiveObject);
  }

  private uci(method: string, args: UbusData, what: string): Promise<UbusData | null> {
    return this.a.call('uci', method, { config: 'network', ...args }, { code: 'OWRT500', what, grant: 'uci network (write)' });
  }

  /** Stages one write in the session's `network` delta (made live by the writer's apply). */
  async write(change: Extract<LiveWrite, { kind: 'bridge_vlan' }>): Promise<LiveWriteResult> {
    if (change.op === 'create') {
      const values = await this.toOptions(change.body, null);
      const name = `pc_${randomBytes(4).toString('hex')}`;
      await this.uci('add', { type: SECTION, name, values }, 'create a bridge-vlan section');
      return { target: name, pending: ['network'] };
    }
    const old = await this.section(change.target);
    if (old === null) throw new OpenWrtError('OWRT500', `No bridge-vlan section ${change.target}.`, { field: 'target' });
    if (change.op === 'delete') {
      await this.uci('delete', { section: change.target }, `delete network.${change.target}`);
      return { target: change.target, pending: ['network'] };
    }
    const values = await this.toOptions(change.body, change.target);
    const drop = Object.keys(old).filter((k) => !k.startsWith('.') && values[k] === undefined);
    if (drop.length > 0) await this.uci('delete', { section: change.target, options: drop }, `clear options of network.${change.target}`);
    await this.uci('set', { section: change.target, values }, `write network.${change.target}`);
    return { target: change.target, pending: ['network'] };
  }

  /**
   * The section's options, checked against the `network` config: the bridge is a `device` of type bridge, every
   * port is in its `ports`, no other section of the bridge has this VLAN id, and an untagged port is untagged in
   * no other VLAN of the bridge (a port has one PVID).
   */
  private async toOptions(body: unknown, self: string | null): Promise<UbusData> {
    if (!isRecord(body)) throw fieldError('body', 'must be an object');
    const b = body as unknown as LiveBridgeVlanBody;
    if (typeof b.bridge !== 'string' || b.bridge === '') throw fieldError('bridge', 'must name a bridge device');
    if (!Number.isInteger(b.vlan_id) || b.vlan_id < 1 || b.vlan_id > 4094) throw fieldError('vlan_id', 'must be 1-4094');
    const ports = (field: 'tagged' | 'untagged'): string[] => {
      const v: unknown = b[field];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !/^[^\s:]+$/.test(x)))
        throw fieldError(field, 'must be a list of port names (no spaces or colons)');
      return v as string[];
    };
    const tagged = ports('tagged');
    const untagged = ports('untagged');
    if (b.description !== '' && b.description !== undefined)
      throw fieldError('description', 'must be empty: a bridge-vlan section has no description option netifd reads');
    const both = tagged.find((p) => untagged.includes(p));
    if (both !== undefined) throw fieldError('untagged', `names ${both}, which is also tagged`);
    const sections = await this.network();
    const device = sections.find((s) => s['.type'] === 'device' && text(s.name) === b.bridge);
    if (device === undefined || text(device.type) !== 'bridge')
      throw fieldError('bridge', `names ${b.bridge}, which is no bridge device of the network config`);
    const members = list(device.ports);
    const stranger = [...tagged, ...untagged].find((p) => !members.includes(p));
    if (stranger !== undefined) throw fieldError(tagged.includes(stranger) ? 'tagged' : 'untagged', `names ${stranger}, which is not a port of ${b.bridge}`);
    for (const other of sections) {
      if (other['.type'] !== SECTION || other['.name'] === self || text(other.device) !== b.bridge) continue;
      const otherBody = bridgeVlanBody(other);
      // netifd skips a section with VLAN id 0 or above 4095 (§9.3): it clashes with nothing.
      if (!Number.isInteger(otherBody.vlan_id) || otherBody.vlan_id < 1 || otherBody.vlan_id > 4095) continue;
      if (otherBody.vlan_id === b.vlan_id)
        throw fieldError('vlan_id', `${b.vlan_id} is already on ${b.bridge} (section ${text(other['.name'])}); netifd would keep only one`);
      const access = untagged.find((p) => otherBody.untagged.includes(p));
      if (access !== undefined)
        throw fieldError('untagged', `names ${access}, already untagged (its PVID) in VLAN ${otherBody.vlan_id}: a port has one PVID`);
    }
    const values: UbusData = {};
    const vd = b.vendor_data;
    if (vd !== undefined) {
      if (!isRecord(vd)) throw fieldError('vendor_data', 'must be an object');
      for (const [k, v] of Object.entries(vd)) {
        if (k.startsWith('.') || MAPPED.has(k)) continue;
        if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) values[k] = v;
        else throw fieldError(`vendor_data.${k}`, 'must be a string or a list of strings');
      }
    }
    // A read list that says more than the neutral fields (no PVID mark, `:u`) goes back as read when it agrees.
    const raw = vd !== undefined && isRecord(vd) && Array.isArray(vd.ports) ? vd.ports.map(text) : null;
    const rawBody = raw === null ? null : bridgeVlanBody({ device: b.bridge, vlan: String(b.vlan_id), ports: raw });
    const agrees =
      rawBody !== null &&
      rawBody.tagged.join() === [...tagged].sort().join() &&
      rawBody.untagged.join() === [...untagged].sort().join();
    values.device = b.bridge;
    values.vlan = String(b.vlan_id);
    const portList = agrees && raw !== null ? raw : renderPorts(tagged, untagged);
    values.ports = portList;
    if (portList.length === 0) throw fieldError('tagged', 'or untagged must name a port');
    return values;
  }
}
