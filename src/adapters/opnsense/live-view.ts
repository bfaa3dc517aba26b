/**
 * @module OPNsense's live view: the vendor-neutral live reads (src/adapters/live.ts) from the core API
 * (docs/reference/opnsense-api.md §5, §6). Reads the API has no endpoint for are refused with OPN300 and the reason
 * in `OPNSENSE_LIVE_UNAVAILABLE`; every normalised row keeps the device's own under `vendor_data`.
 */
import type { FirewallAdapter } from '../types.ts';
import type {
  LiveAlias,
  LiveArpEntry,
  LiveConnections,
  LiveDhcpScope,
  LiveDhcpStaticMapping,
  LiveDnsOverride,
  LiveGateway,
  LiveHaStatus,
  LiveHealth,
  LiveIdsAlert,
  LiveInterface,
  LiveLease,
  LiveLogEntry,
  LiveNat,
  LiveNatRule,
  LiveRule,
  LiveService,
  LiveStatus,
  LiveVlanInterface,
  LiveVpn,
  LogKind,
} from '../live.ts';
import { LIVE_LIMIT_MAX } from '../live.ts';
import { isRecord, OpnSenseAdapter, selectedKeys } from './adapter.ts';
import { decodeEntries } from './details.ts';
import { OpnSenseDnsOverrides } from './dns-override.ts';
import { OpnSenseError } from './errors.ts';
import { OpnSenseKea } from './kea.ts';
import { OpnSenseVlanInterfaces } from './vlan-interface.ts';

/** Why OPNsense's adapter does not serve a read (checked against opnsense/core). */
export const OPNSENSE_LIVE_UNAVAILABLE = {
  'read.bridge_vlans':
    'not mapped by this adapter: the bridge VLAN contract (docs/adr/0255-bridge-vlan-live-kind.md) is served where the device keeps a bridge VLAN table (RouterOS, OpenWrt DSA)',
  'read.routes':
    'not read by this adapter yet: the core API has api/diagnostics/interface/get_routes, but its rows are not normalised here (docs/opnsense.md)',
  'read.dhcp_leases':
    'not read by this adapter: OPNsense leases come from the DHCP backend in use (ISC, Kea or Dnsmasq, each its own API; docs/opnsense.md)',
  'read.arp': 'not read by this adapter yet (api/diagnostics/interface/get_arp exists; docs/opnsense.md)',
  'read.vpn': 'not read by this adapter: OpenVPN, IPsec and WireGuard each have their own API (docs/opnsense.md)',
  'read.ha_status': 'not read by this adapter yet (api/core/hasync_status; docs/opnsense.md)',
  'read.health': 'not assembled by this adapter yet (docs/opnsense.md)',
  'read.pf_info': 'not read by this adapter yet (api/diagnostics/firewall/pf_statistics; docs/opnsense.md)',
  'read.config':
    'not offered: the configuration download (api/core/backup/download) holds every secret of the gateway; docs/opnsense.md',
} as const;

export function opnsenseLiveView(adapter: FirewallAdapter): LiveGateway {
  if (!(adapter instanceof OpnSenseAdapter)) throw new TypeError(`not an OPNsense adapter: ${adapter.vendor}`);
  return new OpnSenseLiveGateway(adapter);
}

const str = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;
const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
const flag = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 'true';
/** An option field as search_rule or get_rule returns it: a plain value, a CSV, or an option map. */
const option = (v: unknown): string | null => {
  if (isRecord(v)) return selectedKeys(v).join(',') || null;
  return str(v);
};

function rowsOf(data: unknown): Record<string, unknown>[] {
  const rows = isRecord(data) && Array.isArray(data.rows) ? data.rows : Array.isArray(data) ? data : null;
  if (rows === null) throw new OpnSenseError('OPN400', 'The gateway answered a search without a `rows` list.');
  return rows.filter(isRecord);
}

function limitOf(limit: number): number {
  return Math.max(1, Math.min(LIVE_LIMIT_MAX, Math.floor(limit)));
}

/** Suricata's alert severity (1 high … 3 low) on our scale. */
function idsSeverity(v: unknown): LiveIdsAlert['severity'] {
  const n = num(v);
  if (n === 1) return 'high';
  if (n === 2) return 'medium';
  if (n === 3) return 'low';
  return 'info';
}

class OpnSenseLiveGateway implements LiveGateway {
  constructor(private readonly a: OpnSenseAdapter) {}

  /**
   * VLAN devices with their assignments, as the live writer reads them back; refused (OPN300, with the reason) on
   * firmware whose assignment API has no addresses (docs/reference/brain-l3.md §7.4, §7.5).
   */
  async vlanInterfaces(): Promise<{ items: LiveVlanInterface[] }> {
    return { items: (await new OpnSenseVlanInterfaces(this.a).list()) as unknown as LiveVlanInterface[] };
  }

  /** Kea subnets as DHCP scopes, as the live writer reads them back (docs/reference/brain-l3.md §5.2). */
  async dhcpScopes(): Promise<{ items: LiveDhcpScope[] }> {
    return { items: (await new OpnSenseKea(this.a).dhcpScopes()) as unknown as LiveDhcpScope[] };
  }

  /** Kea reservations as DHCP static mappings (docs/reference/brain-l3.md §5.2). */
  async dhcpStaticMappings(): Promise<{ items: LiveDhcpStaticMapping[] }> {
    return { items: (await new OpnSenseKea(this.a).dhcpStaticMappings()) as unknown as LiveDhcpStaticMapping[] };
  }

  /** Unbound host overrides as the live writer reads them back (docs/reference/brain-l3.md §5.3). */
  async dnsOverrides(): Promise<{ items: LiveDnsOverride[] }> {
    return { items: (await new OpnSenseDnsOverrides(this.a).list()) as unknown as LiveDnsOverride[] };
  }

  private read(path: string, what: string, body?: unknown): Promise<unknown> {
    return this.a.call({ code: 'OPN300', what }, body === undefined ? 'GET' : 'POST', path, body);
  }

  private refuse(flag: keyof typeof OPNSENSE_LIVE_UNAVAILABLE): never {
    throw new OpnSenseError('OPN300', `This read is unavailable on OPNsense: ${OPNSENSE_LIVE_UNAVAILABLE[flag]}.`);
  }

  async status(): Promise<LiveStatus> {
    const version = await this.a.version();
    let resources: unknown = null;
    try {
      resources = await this.read('/api/diagnostics/system/system_resources', 'read the system resources');
    } catch (err) {
      if (!(err instanceof OpnSenseError) || !['OPN002', 'OPN005'].includes(err.code)) throw err;
    }
    const mem = isRecord(resources) && isRecord(resources.memory) ? resources.memory : null;
    const total = num(mem?.total);
    const used = num(mem?.used);
    return {
      product_version: version.product,
      api_version: version.api,
      platform: 'OPNsense',
      uptime: null,
      cpu: { model: null, count: null, usage_percent: null, load_avg: [] },
      memory_usage_percent: total && used !== null ? Math.round((used / total) * 1000) / 10 : null,
      disk_usage_percent: null,
      temperature_c: null,
      vendor_data: { version: version.raw ?? null, resources },
    };
  }

  async firewallRules(): Promise<{ items: LiveRule[] }> {
    const data = await this.read('/api/firewall/filter/search_rule', 'list the firewall rules', {
      current: 1,
      rowCount: -1,
    });
    const items = rowsOf(data).map((r, i): LiveRule => {
      const action = (option(r.action) ?? '').toLowerCase();
      const ifs = (option(r.interface) ?? '').split(',').filter((x) => x !== '');
      return {
        vendor_rule_id: str(r.uuid),
        position: num(r.sequence) ?? i,
        action: action === 'pass' ? 'allow' : action === 'block' ? 'deny' : action === 'reject' ? 'reject' : null,
        interfaces: ifs,
        direction: option(r.direction),
        ip_version: option(r.ipprotocol),
        protocol: (option(r.protocol) ?? 'any').toLowerCase(),
        source_address: `${flag(r.source_not) ? '!' : ''}${option(r.source_net) ?? 'any'}`,
        source_port: option(r.source_port),
        dest_address: `${flag(r.destination_not) ? '!' : ''}${option(r.destination_net) ?? 'any'}`,
        dest_port: option(r.destination_port),
        description: str(r.description) ?? '',
        is_enabled: r.enabled === undefined ? true : flag(r.enabled),
        log_enabled: flag(r.log),
        floating: ifs.length !== 1,
        quick: r.quick === undefined ? true : flag(r.quick),
        icmp_types: null,
        schedule: option(r.sched),
        unmodelled_options: [],
        vendor_data: r,
      };
    });
    return { items };
  }

  private natRow(nat: LiveNatRule['nat_type'], r: Record<string, unknown>): LiveNatRule {
    // d_nat marks `disabled`; source_nat and one_to_one mark `enabled` (docs/reference/opnsense-api.md §5).
    const enabled = r.disabled !== undefined ? !flag(r.disabled) : r.enabled === undefined ? true : flag(r.enabled);
    return {
      nat_type: nat,
      vendor_id: null,
      write_target: str(r.uuid),
      interface: option(r.interface),
      protocol: option(r.protocol),
      original_address: option(r.source_net) ?? option(r.source) ?? option(r.external),
      original_port: option(r.source_port),
      destination_address: option(r.destination_net) ?? option(r.destination),
      destination_port: option(r.destination_port),
      translated_address: option(r.target) ?? option(r.internal),
      translated_port: option(r.target_port) ?? option(r.local_port),
      description: str(r.description) ?? str(r.descr) ?? '',
      is_enabled: enabled,
      vendor_data: r,
    };
  }

  async natRules(): Promise<LiveNat> {
    const page = { current: 1, rowCount: -1 };
    const dnat = rowsOf(await this.read('/api/firewall/d_nat/search_rule', 'list the port forwards', page));
    const snat = rowsOf(await this.read('/api/firewall/source_nat/search_rule', 'list the source NAT rules', page));
    const binat = rowsOf(await this.read('/api/firewall/one_to_one/search_rule', 'list the 1:1 NAT rules', page));
    return {
      port_forwards: dnat.map((r) => this.natRow('dnat', r)),
      outbound: { mode: null, mappings: snat.map((r) => this.natRow('snat', r)) },
      one_to_one: binat.map((r) => this.natRow('binat', r)),
    };
  }

  async aliases(): Promise<{ items: LiveAlias[] }> {
    const data = await this.read('/api/firewall/alias/search_item', 'list the aliases', { current: 1, rowCount: -1 });
    const items = rowsOf(data).map((r): LiveAlias => {
      const content = typeof r.content === 'string' ? r.content.split(/[\n,]/).filter((x) => x !== '') : selectedKeys(r.content);
      const { descr, entries } = decodeEntries(str(r.description) ?? '', content);
      return { name: str(r.name) ?? '', type: option(r.type) ?? '', description: descr, entries };
    });
    return { items };
  }

  async interfaces(): Promise<{ items: LiveInterface[] }> {
    const data = await this.read('/api/interfaces/overview/interfaces_info', 'list the interfaces', {
      current: 1,
      rowCount: -1,
    });
    const items = rowsOf(data).map((r): LiveInterface => {
      const addr = (v: unknown): string | null => {
        if (Array.isArray(v)) {
          const first = v.find(isRecord);
          return first ? str(first.ipaddr) : null;
        }
        return str(v);
      };
      const stats = isRecord(r.statistics) ? r.statistics : {};
      return {
        id: str(r.identifier) ?? str(r.device) ?? '',
        device: str(r.device),
        description: str(r.description) ?? '',
        enabled: r.enabled === undefined ? true : flag(r.enabled),
        status: str(r.status),
        mac: str(r.macaddr),
        mtu: num(r.mtu),
        ipv4: addr(r.ipv4),
        ipv6: addr(r.ipv6),
        ipv4_mode: null,
        ipv6_mode: null,
        block_private: null,
        block_bogons: null,
        media: str(r.media),
        gateway: Array.isArray(r.gateways) ? (str(r.gateways[0]) ?? null) : null,
        counters: {
          in_bytes: num(stats['bytes received']),
          out_bytes: num(stats['bytes transmitted']),
          in_packets: num(stats['packets received']),
          out_packets: num(stats['packets transmitted']),
          in_errors: num(stats['input errors']),
          out_errors: num(stats['output errors']),
          collisions: num(stats.collisions),
        },
        vendor_data: r,
      };
    });
    return { items };
  }

  dhcpLeases(): Promise<{ items: LiveLease[] }> {
    return Promise.reject(this.refuseError('read.dhcp_leases'));
  }
  arp(): Promise<{ items: LiveArpEntry[] }> {
    return Promise.reject(this.refuseError('read.arp'));
  }
  healthCheck(): Promise<LiveHealth> {
    return Promise.reject(this.refuseError('read.health'));
  }
  haStatus(): Promise<LiveHaStatus> {
    return Promise.reject(this.refuseError('read.ha_status'));
  }
  vpn(): Promise<LiveVpn> {
    return Promise.reject(this.refuseError('read.vpn'));
  }

  private refuseError(f: keyof typeof OPNSENSE_LIVE_UNAVAILABLE): OpnSenseError {
    try {
      this.refuse(f);
    } catch (err) {
      return err as OpnSenseError;
    }
  }

  async connections(limit: number): Promise<LiveConnections> {
    const data = await this.read('/api/diagnostics/firewall/query_states', 'list the states', {
      current: 1,
      rowCount: limitOf(limit),
    });
    const rows = rowsOf(data);
    const ap = (a: unknown, p: unknown) => {
      const addr = str(a);
      if (addr === null) return null;
      const port = str(p);
      return port === null ? addr : addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
    };
    const sum = (v: unknown) => (Array.isArray(v) ? v.reduce((s: number, x) => s + (num(x) ?? 0), 0) : num(v));
    return {
      items: rows.map((r) => ({
        interface: str(r.iface),
        protocol: str(r.proto),
        direction: str(r.direction),
        source: ap(r.src_addr, r.src_port),
        destination: ap(r.dst_addr, r.dst_port),
        state: str(r.state),
        age: str(r.age),
        expires_in: str(r.expires),
        packets: sum(r.pkts),
        bytes: sum(r.bytes),
      })),
      current: isRecord(data) ? num(data.total) : null,
      maximum: null,
    };
  }

  async services(): Promise<{ items: LiveService[] }> {
    const data = await this.read('/api/core/service/search', 'list the services', { current: 1, rowCount: -1 });
    return {
      items: rowsOf(data).map((r) => ({
        name: str(r.id) ?? str(r.name) ?? '',
        description: str(r.description) ?? '',
        enabled: true,
        running: flag(r.running),
      })),
    };
  }

  private async filterLog(limit: number): Promise<Record<string, unknown>[]> {
    const n = limitOf(limit);
    const data = await this.a.call(
      { code: 'OPN300', what: 'read the firewall log' },
      'GET',
      `/api/diagnostics/firewall/log?limit=${n}`,
    );
    if (!Array.isArray(data)) throw new OpnSenseError('OPN400', 'The firewall log answer is not a list.');
    return data.filter(isRecord).slice(0, n);
  }

  async logs(kind: LogKind, limit: number): Promise<{ items: Array<{ line: string }> }> {
    if (kind !== 'firewall') {
      throw new OpnSenseError('OPN300', 'Only the firewall log is read on OPNsense (api/diagnostics/firewall/log).');
    }
    const rows = await this.filterLog(limit);
    return { items: rows.reverse().map((r) => ({ line: str(r.__raw__) ?? JSON.stringify(r) })) };
  }

  async firewallLog(limit: number): Promise<{ items: LiveLogEntry[]; skipped: number }> {
    const rows = await this.filterLog(limit);
    let skipped = 0;
    const items: LiveLogEntry[] = [];
    for (const r of rows.reverse()) {
      const action = str(r.action);
      const src = str(r.src);
      const dst = str(r.dst);
      const at = str(r.__timestamp__);
      if ((action !== 'pass' && action !== 'block' && action !== 'reject') || !src || !dst || !at) {
        skipped++;
        continue;
      }
      const dir = str(r.dir);
      items.push({
        logged_at: Number.isNaN(Date.parse(at)) ? at : new Date(at).toISOString(),
        action,
        interface: str(r.interface),
        direction: dir === 'in' || dir === 'out' ? dir : null,
        ip_version: num(r.ipversion) ?? (src.includes(':') ? 6 : 4),
        protocol: str(r.protoname),
        source_ip: src,
        source_port: num(r.srcport),
        dest_ip: dst,
        dest_port: num(r.dstport),
        vendor_rule_id: str(r.rid),
        reason: str(r.reason),
        length: num(r.length),
      });
    }
    return { items, skipped };
  }

  async idsAlerts(limit: number): Promise<{ items: LiveIdsAlert[] }> {
    const data = await this.read('/api/ids/service/query_alerts', 'read the IDS alerts', {
      current: 1,
      rowCount: limitOf(limit),
    });
    // An IDS that never ran answers `[]` (no alert log).
    const rows = Array.isArray(data) && data.length === 0 ? [] : rowsOf(data);
    const items: LiveIdsAlert[] = [];
    for (const r of rows) {
      const at = str(r.timestamp);
      const signature = str(r.alert);
      if (at === null || signature === null) continue;
      const sid = num(r.alert_sid);
      const occurred = Number.isNaN(Date.parse(at)) ? at : new Date(at).toISOString();
      items.push({
        // filepos moves on log rotation: the eve flow id, time and signature identify the alert instead.
        vendor_alert_id: `${occurred}|${str(r.flow_id) ?? ''}|${sid ?? ''}|${str(r.src_ip) ?? ''}`,
        severity: idsSeverity(r.alert_severity ?? (isRecord(r.alert) ? r.alert.severity : undefined)),
        signature_id: sid,
        signature,
        category: str(r.alert_category),
        protocol: str(r.proto),
        source_ip: str(r.src_ip),
        source_port: num(r.src_port),
        dest_ip: str(r.dest_ip),
        dest_port: num(r.dest_port),
        action_taken: str(r.alert_action) === 'blocked' ? 'blocked' : 'alert',
        occurred_at: occurred,
      });
    }
    return { items };
  }
}
