/**
 * @module OPNsense DHCP scopes and static mappings over Kea DHCPv4 (`api/kea/dhcpv4/*`, 24.1 and later;
 * docs/reference/brain-l3.md §5.2). ISC dhcpd has no API, so only Kea is driven. A Kea subnet names a network, not
 * an interface: a `dhcp_scope` on an interface is the subnet equal to that interface's IPv4 network, and it is
 * enabled when Kea is on and serves the interface (`general.interfaces`). A `dhcp_static_mapping` is a reservation
 * in that subnet (target: its uuid). Changes are live after `api/kea/service/reconfigure`. Decision:
 * docs/adr/0247-opnsense-l3-kea-and-unbound.md.
 */
import type { LiveObject, LiveWrite, LiveWriteResult } from '../live-write.ts';
import { isRecord, type OpnSenseAdapter, selectedKeys } from './adapter.ts';
import { OpnSenseError } from './errors.ts';

const BASE = '/api/kea/dhcpv4';
type Row = Record<string, unknown>;
type ScopeKind = 'dhcp_scope' | 'dhcp_static_mapping';

const text = (v: unknown): string => {
  if (isRecord(v)) return selectedKeys(v).join(',');
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
};
const list = (v: unknown): string[] => text(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
const v4 = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const isV4 = (ip: string): boolean => /^(\d{1,3})(\.\d{1,3}){3}$/.test(ip) && ip.split('.').every((o) => Number(o) <= 255);

interface Iface {
  id: string;
  ip: string;
  bits: number;
  /** `network/bits`, as a Kea subnet names it. */
  network: string;
}

function networkOf(ip: string, bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const n = (v4(ip) & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')}/${bits}`;
}

function inside(ip: string, i: Iface): boolean {
  return isV4(ip) && networkOf(ip, i.bits) === i.network;
}

function fieldError(kind: ScopeKind, field: string, problem: string, httpStatus?: number): OpnSenseError {
  return new OpnSenseError('OPN500', `${kind} field \`${field}\` ${problem}.`, {
    field,
    ...(httpStatus === undefined ? {} : { httpStatus }),
  });
}

/** Kea model fields → neutral fields, to name the neutral field of a validation failure. */
const NAMES: Record<string, string> = {
  'subnet4.subnet': 'interface',
  'subnet4.pools': 'range_from',
  'subnet4.option_data.routers': 'gateway',
  'subnet4.option_data.domain_name_servers': 'dns_servers',
  'dhcpv4.general.interfaces': 'interface',
  'reservation.subnet': 'interface',
  'reservation.ip_address': 'ip',
  'reservation.hw_address': 'mac',
  'reservation.hostname': 'hostname',
  'reservation.description': 'description',
};

export class OpnSenseKea {
  constructor(private readonly a: OpnSenseAdapter) {}

  private async req(what: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    try {
      return await this.a.call({ code: 'OPN500', what }, method, path, body);
    } catch (err) {
      const named = err instanceof OpnSenseError && err.field !== undefined ? NAMES[err.field] : undefined;
      if (named === undefined) throw err;
      const said = (err as OpnSenseError).validations?.[(err as OpnSenseError).field as string] ?? 'refused';
      throw new OpnSenseError('OPN500', `Failed to ${what}: ${said} (field \`${named}\`).`, { field: named, cause: err });
    }
  }

  private async rows(path: string, what: string): Promise<Row[]> {
    const data = await this.a.call({ code: 'OPN300', what }, 'GET', path);
    return isRecord(data) && Array.isArray(data.rows) ? data.rows.filter(isRecord) : [];
  }

  /** Interfaces with an IPv4 address (`interfaces/overview/interfaces_info`). */
  private async interfaces(): Promise<Iface[]> {
    const rows = await this.rows('/api/interfaces/overview/interfaces_info', 'list interfaces');
    return rows.flatMap((row) => {
      const [ip = '', bits = ''] = text(row.addr4).split('/');
      if (!isV4(ip) || !/^\d{1,2}$/.test(bits)) return [];
      return [{ id: text(row.identifier), ip, bits: Number(bits), network: networkOf(ip, Number(bits)) }];
    });
  }

  private async general(): Promise<{ enabled: boolean; interfaces: string[] }> {
    const data = await this.a.call({ code: 'OPN300', what: 'read the Kea settings' }, 'GET', `${BASE}/get`);
    const g = isRecord(data) && isRecord(data.dhcpv4) && isRecord(data.dhcpv4.general) ? data.dhcpv4.general : {};
    return { enabled: text(g.enabled) === '1', interfaces: list(g.interfaces) };
  }

  private async setGeneral(kind: ScopeKind, enabled: boolean, interfaces: string[]): Promise<void> {
    const what = 'change the interfaces Kea serves';
    const data = await this.req(what, 'POST', `${BASE}/set`, {
      dhcpv4: { general: { enabled: enabled ? '1' : '0', interfaces: interfaces.join(',') } },
    });
    if (!isRecord(data) || data.result !== 'saved') throw fieldError(kind, 'is_enabled', `could not be written (${JSON.stringify(data).slice(0, 120)})`);
  }

  private saved(what: string, data: unknown, want: string, kind: ScopeKind): string | null {
    if (!isRecord(data) || data.result !== want) {
      const said = JSON.stringify(data).slice(0, 200);
      throw new OpnSenseError('OPN500', `Failed to ${what}: the gateway answered ${said} instead of \`result: ${want}\` (${kind}).`);
    }
    return typeof data.uuid === 'string' ? data.uuid : null;
  }

  // --- scopes --------------------------------------------------------------------------------------------------------

  private static scopeBody(subnet: Row, iface: Iface, served: boolean): LiveObject {
    const [from = '', to = ''] = (text(subnet.pools).split('\n')[0] ?? '').split('-').map((s) => s.trim());
    const auto = text(subnet.option_data_autocollect) === '1';
    const options = isRecord(subnet.option_data) ? subnet.option_data : subnet;
    const routers = list(options.routers);
    return {
      interface: iface.id,
      range_from: from,
      range_to: to,
      // The interface's own address is what a null gateway means (and what autocollect puts there).
      gateway: auto || routers.length === 0 || routers[0] === iface.ip ? null : (routers[0]),
      dns_servers: auto ? [] : list(options.domain_name_servers),
      is_enabled: served,
    };
  }

  async dhcpScopes(): Promise<Array<LiveObject & { target: string }>> {
    const [ifaces, subnets, general] = await Promise.all([
      this.interfaces(),
      this.rows(`${BASE}/search_subnet`, 'list Kea subnets'),
      this.general(),
    ]);
    return ifaces.flatMap((iface) => {
      const subnet = subnets.find((s) => text(s.subnet) === iface.network);
      if (subnet === undefined) return [];
      const served = general.enabled && general.interfaces.includes(iface.id);
      return [{ target: iface.id, ...OpnSenseKea.scopeBody(subnet, iface, served) }];
    });
  }

  private async scopeOf(target: string): Promise<{ iface: Iface; subnet: Row | undefined } | null> {
    const iface = (await this.interfaces()).find((i) => i.id === target);
    if (iface === undefined) return null;
    const subnets = await this.rows(`${BASE}/search_subnet`, 'list Kea subnets');
    return { iface, subnet: subnets.find((s) => text(s.subnet) === iface.network) };
  }

  async readScope(target: string): Promise<LiveObject | null> {
    const found = await this.scopeOf(target);
    if (found?.subnet === undefined) return null;
    const general = await this.general();
    return OpnSenseKea.scopeBody(found.subnet, found.iface, general.enabled && general.interfaces.includes(target));
  }

  /** The subnet4 fields of a scope body on `iface`, checked where Kea's DHCPv4 model does not check (§5.2). */
  private static subnetFields(body: unknown, iface: Iface): Row {
    const kind = 'dhcp_scope';
    if (!isRecord(body)) throw fieldError(kind, 'body', 'must be an object');
    const { range_from: from, range_to: to, gateway, dns_servers: dns, is_enabled: enabled } = body;
    if (typeof from !== 'string' || !inside(from, iface)) throw fieldError(kind, 'range_from', `must be an address in ${iface.network}`);
    if (typeof to !== 'string' || !inside(to, iface)) throw fieldError(kind, 'range_to', `must be an address in ${iface.network}`);
    if (v4(from) > v4(to)) throw fieldError(kind, 'range_from', 'must not be above range_to');
    if (gateway !== null && (typeof gateway !== 'string' || !inside(gateway, iface))) {
      throw fieldError(kind, 'gateway', `must be null or an address in ${iface.network}`);
    }
    if (!Array.isArray(dns) || !dns.every((d) => typeof d === 'string' && isV4(d))) throw fieldError(kind, 'dns_servers', 'must be IPv4 addresses');
    if (typeof enabled !== 'boolean') throw fieldError(kind, 'is_enabled', 'must be true or false');
    const auto = gateway === null && dns.length === 0;
    return {
      subnet: iface.network,
      pools: `${from}-${to}`,
      option_data_autocollect: auto ? '1' : '0',
      option_data: auto ? {} : { routers: gateway ?? iface.ip, domain_name_servers: dns.join(',') },
    };
  }

  private async serve(iface: string, on: boolean): Promise<void> {
    const general = await this.general();
    const others = general.interfaces.filter((i) => i !== iface);
    if (on) await this.setGeneral('dhcp_scope', true, [...others, iface]);
    else if (others.length !== general.interfaces.length) await this.setGeneral('dhcp_scope', general.enabled, others);
  }

  private async writeScope(change: Extract<LiveWrite, { kind: 'dhcp_scope' }>): Promise<LiveWriteResult> {
    const kind = 'dhcp_scope';
    const target = change.op === 'create' ? (isRecord(change.body) ? text(change.body.interface) : '') : change.target;
    const found = await this.scopeOf(target);
    if (found === null) {
      const field = change.op === 'create' ? 'interface' : 'target';
      throw fieldError(kind, field, `names no interface with an IPv4 address (\`${target}\`)`, 404);
    }
    if (change.op === 'create') {
      if (found.subnet !== undefined) throw fieldError(kind, 'interface', `\`${target}\` already has a DHCP scope: update it instead`, 409);
      const fields = OpnSenseKea.subnetFields(change.body, found.iface);
      this.saved('create Kea subnet', await this.req('create Kea subnet', 'POST', `${BASE}/add_subnet`, { subnet4: fields }), 'saved', kind);
      await this.serve(target, change.body.is_enabled);
      return { target, pending: ['kea'] };
    }
    if (found.subnet === undefined) throw fieldError(kind, 'target', `names no DHCP scope on the gateway (\`${target}\`)`, 404);
    const uuid = text(found.subnet.uuid);
    if (change.op === 'delete') {
      const reservations = await this.rows(`${BASE}/search_reservation`, 'list Kea reservations');
      if (reservations.some((r) => text(r.subnet) === uuid || text(r.subnet) === found.iface.network)) {
        throw fieldError(kind, 'target', 'still has static mappings: delete them first', 409);
      }
      this.saved('delete Kea subnet', await this.req('delete Kea subnet', 'POST', `${BASE}/del_subnet/${uuid}`), 'deleted', kind);
      await this.serve(target, false);
      return { target, pending: ['kea'] };
    }
    if (!isRecord(change.body) || change.body.interface !== target) throw fieldError(kind, 'interface', `must be the target \`${target}\``);
    const fields = OpnSenseKea.subnetFields(change.body, found.iface);
    this.saved('update Kea subnet', await this.req('update Kea subnet', 'POST', `${BASE}/set_subnet/${uuid}`, { subnet4: fields }), 'saved', kind);
    await this.serve(target, change.body.is_enabled === true);
    return { target, pending: ['kea'] };
  }

  // --- static mappings -----------------------------------------------------------------------------------------------

  private static mappingBody(r: Row, iface: string): LiveObject {
    return {
      interface: iface,
      mac: text(r.hw_address).toLowerCase(),
      ip: text(r.ip_address),
      hostname: text(r.hostname),
      description: text(r.description),
    };
  }

  /** Subnet uuid → the interface whose network it is. */
  private async subnetInterfaces(): Promise<Map<string, string>> {
    const [ifaces, subnets] = await Promise.all([this.interfaces(), this.rows(`${BASE}/search_subnet`, 'list Kea subnets')]);
    const byNetwork = new Map(ifaces.map((i) => [i.network, i.id]));
    // Keyed by uuid (what get_* answers) and by network (how search rows show the relation).
    return new Map(subnets.flatMap((s) => {
      const iface = byNetwork.get(text(s.subnet));
      return iface === undefined ? [] : [[text(s.uuid), iface] as [string, string], [text(s.subnet), iface] as [string, string]];
    }));
  }

  async dhcpStaticMappings(): Promise<Array<LiveObject & { target: string }>> {
    const [owners, rows] = await Promise.all([this.subnetInterfaces(), this.rows(`${BASE}/search_reservation`, 'list Kea reservations')]);
    return rows.flatMap((r) => {
      const iface = owners.get(text(r.subnet));
      return iface === undefined || typeof r.uuid !== 'string' ? [] : [{ target: r.uuid, ...OpnSenseKea.mappingBody(r, iface) }];
    });
  }

  async readMapping(target: string): Promise<LiveObject | null> {
    const data = await this.a.call({ code: 'OPN300', what: `read Kea reservation \`${target}\`` }, 'GET', `${BASE}/get_reservation/${encodeURIComponent(target)}`);
    if (!isRecord(data) || !isRecord(data.reservation)) return null;
    const r = data.reservation;
    const owners = await this.subnetInterfaces();
    return OpnSenseKea.mappingBody(r, owners.get(text(r.subnet)) ?? '');
  }

  private async reservationFields(body: unknown): Promise<Row> {
    const kind = 'dhcp_static_mapping';
    if (!isRecord(body)) throw fieldError(kind, 'body', 'must be an object');
    const iface = text(body.interface);
    const found = await this.scopeOf(iface);
    if (found?.subnet === undefined) throw fieldError(kind, 'interface', `has no DHCP scope (Kea subnet) for \`${iface}\``);
    return {
      subnet: text(found.subnet.uuid),
      ip_address: text(body.ip),
      hw_address: text(body.mac),
      hostname: text(body.hostname),
      description: text(body.description),
    };
  }

  private async writeMapping(change: Extract<LiveWrite, { kind: 'dhcp_static_mapping' }>): Promise<LiveWriteResult> {
    const kind = 'dhcp_static_mapping';
    if (change.op === 'create') {
      const reservation = await this.reservationFields(change.body);
      const uuid = this.saved('create Kea reservation', await this.req('create Kea reservation', 'POST', `${BASE}/add_reservation`, { reservation }), 'saved', kind);
      if (uuid === null) throw new OpnSenseError('OPN500', 'Failed to create Kea reservation: the gateway returned no uuid.');
      return { target: uuid, pending: ['kea'] };
    }
    if ((await this.readMapping(change.target)) === null) {
      throw fieldError(kind, 'target', `names no static mapping on the gateway (\`${change.target}\`)`, 404);
    }
    const path = encodeURIComponent(change.target);
    if (change.op === 'delete') {
      this.saved('delete Kea reservation', await this.req('delete Kea reservation', 'POST', `${BASE}/del_reservation/${path}`), 'deleted', kind);
      return { target: change.target, pending: ['kea'] };
    }
    const reservation = await this.reservationFields(change.body);
    this.saved('update Kea reservation', await this.req('update Kea reservation', 'POST', `${BASE}/set_reservation/${path}`, { reservation }), 'saved', kind);
    return { target: change.target, pending: ['kea'] };
  }

  // --- writer parts --------------------------------------------------------------------------------------------------

  read(kind: ScopeKind, target: string): Promise<LiveObject | null> {
    return kind === 'dhcp_scope' ? this.readScope(target) : this.readMapping(target);
  }

  write(change: Extract<LiveWrite, { kind: ScopeKind }>): Promise<LiveWriteResult> {
    return change.kind === 'dhcp_scope' ? this.writeScope(change) : this.writeMapping(change);
  }

  async apply(): Promise<void> {
    const data = await this.a.call({ code: 'OPN200', what: 'apply the Kea DHCP changes' }, 'POST', '/api/kea/service/reconfigure');
    if (!isRecord(data) || data.status !== 'ok') {
      throw new OpnSenseError('OPN200', `kea/service/reconfigure answered ${JSON.stringify(data).slice(0, 200)}.`);
    }
  }
}
