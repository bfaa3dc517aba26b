/**
 * @module pfSense's live view: the vendor-neutral live reads (src/adapters/live.ts) built from pfRest's typed
 * reads (./live.ts). Where each read comes from, and what pfRest cannot serve: docs/reference/pfsense-live-reads.md.
 */
import { AdapterError, type FirewallAdapter } from '../types.ts';
import type {
  HealthCheck,
  LiveAlias,
  LiveArpEntry,
  LiveConnections,
  LiveDhcpScope,
  LiveDhcpStaticMapping,
  LiveDnsOverride,
  LiveGateway,
  LiveHaStatus,
  LiveHealth,
  LiveInterface,
  LiveLease,
  LiveLogEntry,
  LiveNat,
  LiveNatRule,
  LiveRule,
  LiveService,
  LiveStatus,
  LiveTunnel,
  LiveVlanInterface,
  LiveVpn,
  LogKind,
  RuleAction,
  TunnelStatus,
} from '../live.ts';
import { PfSenseAdapter } from './adapter.ts';
import { parseFilterlog } from './filterlog.ts';
import { type PfRestRow, PfSenseLiveReads } from './live.ts';
import { natWriteTarget, PfSenseLiveWriter } from './live-write.ts';

/** Why pfSense cannot serve a read (the reference says where this was checked). */
export const PFSENSE_LIVE_UNAVAILABLE = {
  'read.bridge_vlans':
    'not mapped by this adapter: the bridge VLAN contract (docs/adr/0255-bridge-vlan-live-kind.md) is served where the device keeps a bridge VLAN table (RouterOS, OpenWrt DSA)',
  'read.ids_alerts':
    'not read by this adapter: Suricata and Snort are pfSense add-on packages, outside the pfRest endpoints it maps (docs/reference/pfsense-live-reads.md §2)',
  'read.routes':
    'pfRest has no endpoint for the kernel routing table (only static routes and gateways); see docs/reference/pfsense-live-reads.md §3',
  'read.pf_info':
    'pfRest has no endpoint for pf status and counters (pfctl -si); see docs/reference/pfsense-live-reads.md §3',
  'read.config':
    'pfRest has no endpoint that downloads the configuration (its config history lists revisions only); see docs/reference/pfrest-emulator.md §7',
} as const;

/** The live view of a pfSense adapter built by this vendor's descriptor. */
export function pfsenseLiveView(adapter: FirewallAdapter): LiveGateway {
  if (!(adapter instanceof PfSenseAdapter)) throw new TypeError(`not a pfSense adapter: ${adapter.vendor}`);
  return new PfSenseLiveGateway(new PfSenseLiveReads(adapter), new PfSenseLiveWriter(adapter));
}


const str = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;
const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
const bool = (v: unknown): boolean => v === true || v === 'true' || v === 1 || v === '1';
const strList = (v: unknown): string[] => {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' && v !== '' ? [v] : [];
};
const withPrefix = (address: string | null, prefix: unknown): string | null =>
  address === null ? null : num(prefix) === null ? address : `${address}/${num(prefix)}`;

/**
 * How an address is assigned, from pfRest's interface row (docs/reference/pfsense-live-reads.md §6): `ipaddr` /
 * `ipaddrv6` hold the address for static, else the mode keyword (`dhcp`, `pppoe`, `pptp`, `l2tp`, `ppp`, `dhcp6`,
 * `slaac`, `track6`, ...); `typev4` / `typev6` are derived from them and read `none` for the PPP types, so the
 * keyword goes first. `ppp` (a modem) gets its address at run time like PPPoE; `staticv6` is `static`.
 */
function addressMode(type: unknown, address: unknown): string | null {
  const given = str(address);
  if (given !== null) {
    const address = /^[0-9a-f.:]+$/i.test(given) && /[.:]/.test(given);
    return address ? 'static' : given === 'ppp' ? 'pppoe' : given;
  }
  const derived = str(type);
  return derived === 'staticv6' ? 'static' : derived;
}

const ACTIONS: Record<string, RuleAction> = { pass: 'allow', block: 'deny', reject: 'reject' };

function rule(row: PfRestRow, position: number): LiveRule {
  // A GUI-made config stores `<floating>yes</floating>`; an API-made one a boolean.
  const floating = bool(row.floating) || row.floating === 'yes';
  const icmpTypes = strList(row.icmptype).filter((t) => t !== 'any');
  return {
    vendor_rule_id: str(row.tracker),
    position,
    action: ACTIONS[String(row.type)] ?? null,
    interfaces: strList(row.interface),
    direction: str(row.direction),
    ip_version: str(row.ipprotocol),
    protocol: str(row.protocol) ?? 'any',
    source_address: str(row.source) ?? 'any',
    source_port: str(row.source_port),
    dest_address: str(row.destination) ?? 'any',
    dest_port: str(row.destination_port),
    description: str(row.descr) ?? '',
    is_enabled: !bool(row.disabled),
    log_enabled: bool(row.log),
    floating,
    quick: floating ? bool(row.quick) : true,
    icmp_types: icmpTypes.length > 0 ? icmpTypes : null,
    schedule: str(row.sched),
    unmodelled_options: unmodelledOptions(row),
    vendor_data: row,
  };
}

/**
 * Rule fields pfRest returns that change matching or verdicts beyond the neutral fields
 * (docs/reference/pfrest-contract.md §9).
 */
function unmodelledOptions(row: PfRestRow): string[] {
  const out: string[] = [];
  if (bool(row.tcp_flags_any)) out.push('tcp_flags_any');
  if (str(row.tcp_flags_set) !== null || str(row.tcp_flags_out_of) !== null) out.push('tcp_flags');
  const state = str(row.statetype);
  if (state !== null && state !== 'keep state') out.push(`statetype ${state}`);
  for (const field of ['tag', 'dscp', 'dnpipe', 'pdnpipe', 'defaultqueue', 'ackqueue'] as const) {
    if (str(row[field]) !== null) out.push(field);
  }
  return out;
}

function natRule(type: LiveNatRule['nat_type'], row: PfRestRow): LiveNatRule {
  const common = {
    nat_type: type,
    vendor_id: num(row.id),
    write_target: type === 'binat' ? null : natWriteTarget(type === 'dnat' ? 'port_forward' : 'source_nat', row),
    interface: str(row.interface),
    protocol: str(row.protocol),
    description: str(row.descr) ?? '',
    is_enabled: !bool(row.disabled),
    vendor_data: row,
  };
  switch (type) {
    case 'dnat': // a port forward: traffic to destination:destination_port goes to target:local_port
      return {
        ...common,
        original_address: str(row.source),
        original_port: str(row.source_port),
        destination_address: str(row.destination),
        destination_port: str(row.destination_port),
        translated_address: str(row.target),
        translated_port: str(row.local_port),
      };
    case 'snat': // an outbound mapping: source rewritten to target (nothing when `nonat`)
      return {
        ...common,
        original_address: str(row.source),
        original_port: str(row.source_port),
        destination_address: str(row.destination),
        destination_port: str(row.destination_port),
        translated_address: bool(row.nonat) ? null : withPrefix(str(row.target), row.target_subnet),
        translated_port: bool(row.nonat) ? null : str(row.nat_port),
      };
    default: // 1:1: internal `source` <-> `external`
      return {
        ...common,
        original_address: str(row.source),
        original_port: null,
        destination_address: str(row.destination),
        destination_port: null,
        translated_address: str(row.external),
        translated_port: null,
      };
  }
}

function tunnelStatus(value: unknown): TunnelStatus {
  const s = typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? String(value).toLowerCase() : '';
  if (['up', 'connected', 'established', 'installed', 'true'].includes(s)) return 'up';
  if (s === '' || s === 'null' || s === 'undefined') return 'unknown';
  return 'down';
}

class PfSenseLiveGateway implements LiveGateway {
  constructor(
    private readonly reads: PfSenseLiveReads,
    /** The objects writes stage, read the way the writer reads them back (docs/reference/brain-l3.md §4). */
    private readonly objects: PfSenseLiveWriter,
  ) {}

  async vlanInterfaces(): Promise<{ items: LiveVlanInterface[] }> {
    return { items: (await this.objects.l3Objects('vlan_interface')) as unknown as LiveVlanInterface[] };
  }

  async dhcpScopes(): Promise<{ items: LiveDhcpScope[] }> {
    return { items: (await this.objects.l3Objects('dhcp_scope')) as unknown as LiveDhcpScope[] };
  }

  async dhcpStaticMappings(): Promise<{ items: LiveDhcpStaticMapping[] }> {
    return { items: (await this.objects.objects('dhcp_static_mapping')) as unknown as LiveDhcpStaticMapping[] };
  }

  async dnsOverrides(): Promise<{ items: LiveDnsOverride[] }> {
    return { items: (await this.objects.objects('dns_override')) as unknown as LiveDnsOverride[] };
  }

  status(): Promise<LiveStatus> {
    return (async () => {
      const [version, system] = await Promise.all([this.reads.version(), this.reads.systemStatus()]);
      const load = Array.isArray(system.cpu_load_avg) ? system.cpu_load_avg.map(num) : [];
      return {
        product_version: version.product,
        api_version: version.api === 'unknown' ? null : version.api,
        platform: str(system.platform),
        uptime: str(system.uptime),
        cpu: {
          model: str(system.cpu_model),
          count: num(system.cpu_count),
          usage_percent: num(system.cpu_usage),
          load_avg: load.filter((x): x is number => x !== null),
        },
        memory_usage_percent: num(system.mem_usage),
        disk_usage_percent: num(system.disk_usage),
        temperature_c: num(system.temp_c),
        vendor_data: { version: version.raw ?? null, system },
      };
    })();
  }

  firewallRules(): Promise<{ items: LiveRule[] }> {
    return (async () => ({ items: (await this.reads.rules()).map((row, i) => rule(row, i + 1)) }))();
  }

  natRules(): Promise<LiveNat> {
    return (async () => {
      const [forwards, mode, outbound, oneToOne] = await Promise.all([
        this.reads.portForwards(),
        this.reads.outboundMode(),
        this.reads.outboundMappings(),
        this.reads.oneToOneMappings(),
      ]);
      return {
        port_forwards: forwards.map((row) => natRule('dnat', row)),
        outbound: { mode: str(mode.mode), mappings: outbound.map((row) => natRule('snat', row)) },
        one_to_one: oneToOne.map((row) => natRule('binat', row)),
      };
    })();
  }

  aliases(): Promise<{ items: LiveAlias[] }> {
    return (async () => ({
      items: (await this.reads.aliases()).map((row) => {
        const addresses = strList(row.address);
        const details = strList(row.detail);
        return {
          name: str(row.name) ?? '',
          type: str(row.type) ?? '',
          description: str(row.descr) ?? '',
          // pfSense stores details exactly as sent, possibly fewer than addresses.
          entries: addresses.map((address, i) => ({ address, detail: details[i] ?? '' })),
        };
      }),
    }))();
  }

  interfaces(): Promise<{ items: LiveInterface[] }> {
    return (async () => {
      const [config, stats] = await Promise.all([this.reads.interfaces(), this.reads.interfaceStats()]);
      const statsById = new Map(stats.map((s) => [str(s.name), s]));
      return {
        items: config.map((c): LiveInterface => {
          const id = str(c.id) ?? '';
          const s = statsById.get(id) ?? {};
          return {
            id,
            device: str(c.if) ?? str(s.hwif),
            description: str(c.descr) ?? str(s.descr) ?? id.toUpperCase(),
            enabled: bool(c.enable),
            status: str(s.status),
            mac: str(s.macaddr),
            mtu: num(s.mtu),
            ipv4: withPrefix(str(s.ipaddr), s.subnet),
            ipv6: withPrefix(str(s.ipaddrv6), s.subnetv6),
            ipv4_mode: addressMode(c.typev4, c.ipaddr),
            ipv6_mode: addressMode(c.typev6, c.ipaddrv6),
            block_private: c.blockpriv === undefined || c.blockpriv === null ? null : bool(c.blockpriv),
            block_bogons: c.blockbogons === undefined || c.blockbogons === null ? null : bool(c.blockbogons),
            media: str(s.media),
            gateway: str(s.gateway),
            counters: {
              in_bytes: num(s.inbytes),
              out_bytes: num(s.outbytes),
              in_packets: num(s.inpkts),
              out_packets: num(s.outpkts),
              in_errors: num(s.inerrs),
              out_errors: num(s.outerrs),
              collisions: num(s.collisions),
            },
            vendor_data: { config: c, stats: s },
          };
        }),
      };
    })();
  }

  dhcpLeases(): Promise<{ items: LiveLease[] }> {
    return (async () => ({
      items: (await this.reads.dhcpLeases()).map((row) => ({
        ip: str(row.ip),
        mac: str(row.mac),
        hostname: str(row.hostname),
        interface: str(row.if),
        starts: str(row.starts),
        ends: str(row.ends),
        state: str(row.active_status),
        online: str(row.online_status),
        vendor_data: row,
      })),
    }))();
  }

  arp(): Promise<{ items: LiveArpEntry[] }> {
    return (async () => ({
      items: (await this.reads.arp()).map((row) => ({
        ip: str(row.ip_address),
        mac: str(row.mac_address),
        hostname: str(row.hostname),
        interface: str(row.interface),
        type: str(row.type),
        permanent: bool(row.permanent),
        expires: str(row.expires),
      })),
    }))();
  }

  haStatus(): Promise<LiveHaStatus> {
    return (async () => {
      const carp = await this.reads.carp();
      return {
        carp_enabled: bool(carp.enable),
        maintenance_mode: bool(carp.maintenance_mode),
        vendor_data: carp,
      };
    })();
  }

  services(): Promise<{ items: LiveService[] }> {
    return (async () => ({
      items: (await this.reads.services()).map((row) => ({
        name: str(row.name) ?? '',
        description: str(row.description) ?? '',
        enabled: bool(row.enabled),
        running: bool(row.status),
      })),
    }))();
  }

  vpn(): Promise<LiveVpn> {
    return (async () => {
      const [servers, clients, sas, wgTunnels, wgPeers] = await Promise.all([
        this.reads.openvpnServers(),
        this.reads.openvpnClients(),
        this.reads.ipsecSas(),
        this.reads.wireguardTunnels(),
        this.reads.wireguardPeers(),
      ]);
      const tunnels: LiveTunnel[] = [
        // An OpenVPN server is up while it has connected clients.
        ...servers.map((row) => ({
          vpn_type: 'openvpn' as const,
          role: 'server' as const,
          name: str(row.name),
          status: Array.isArray(row.conns) && row.conns.length > 0 ? ('up' as const) : ('down' as const),
          remote_address: null,
          vendor_data: row,
        })),
        ...clients.map((row) => ({
          vpn_type: 'openvpn' as const,
          role: 'client' as const,
          name: str(row.name),
          status: tunnelStatus(row.status),
          remote_address: str(row.remote_host),
          vendor_data: row,
        })),
        ...sas.map((row) => ({
          vpn_type: 'ipsec' as const,
          role: 'sa' as const,
          name: str(row.con_id),
          status: tunnelStatus(row.state),
          remote_address: str(row.remote_host),
          vendor_data: row,
        })),
        ...wgTunnels.map((row) => ({
          vpn_type: 'wireguard' as const,
          role: 'tunnel' as const,
          name: str(row.name),
          status: tunnelStatus(row.status),
          remote_address: null,
          vendor_data: row,
        })),
        ...wgPeers.map((row) => ({
          vpn_type: 'wireguard' as const,
          role: 'peer' as const,
          name: str(row.descr) ?? str(row.public_key),
          // A peer has no status field; a handshake ever seen is the closest pfRest offers.
          status: num(row.latest_handshake) ? ('up' as const) : ('unknown' as const),
          remote_address: str(row.endpoint),
          vendor_data: row,
        })),
      ];
      const count = (s: TunnelStatus) => tunnels.filter((t) => t.status === s).length;
      return {
        tunnels,
        stats: { total: tunnels.length, up: count('up'), down: count('down'), unknown: count('unknown') },
      };
    })();
  }

  connections(limit: number): Promise<LiveConnections> {
    return (async () => {
      const [rows, size] = await Promise.all([this.reads.states(limit), this.reads.statesSize()]);
      return {
        items: rows.map((row) => ({
          interface: str(row.interface),
          protocol: str(row.protocol),
          direction: str(row.direction),
          source: str(row.source),
          destination: str(row.destination),
          state: str(row.state),
          age: str(row.age),
          expires_in: str(row.expires_in),
          packets: num(row.packets_total),
          bytes: num(row.bytes_total),
        })),
        current: num(size.currentstates),
        maximum: num(size.maximumstates),
      };
    })();
  }

  logs(kind: LogKind, limit: number): Promise<{ items: Array<{ line: string }> }> {
    return (async () => ({ items: (await this.reads.log(kind, limit)).map((line) => ({ line })) }))();
  }

  /** The filter log parsed from pfSense's filterlog format (src/adapters/pfsense/filterlog.ts). */
  firewallLog(limit: number): Promise<{ items: LiveLogEntry[]; skipped: number }> {
    return (async () => parseFilterlog(await this.reads.log('firewall', limit), new Date()))();
  }

  /**
   * One `healthy` plus a result per subsystem: reachability (version), enabled interfaces up, gateways online,
   * enabled services running, CARP out of maintenance when configured. When the device is unreachable the other
   * checks are skipped (`healthy: null`). A failing subsystem read makes that check unhealthy with the vendor code.
   */
  healthCheck(): Promise<LiveHealth> {
    return (async () => {
      const checks: HealthCheck[] = [];
      const failed = (name: HealthCheck['name'], err: unknown): HealthCheck => {
        if (!(err instanceof AdapterError)) throw err;
        const error = { code: err.code, message: err.message };
        return { name, healthy: false, detail: 'read failed', error };
      };
      try {
        const version = await this.reads.version();
        const detail = `pfSense ${version.product}, pfRest ${version.api}`;
        checks.push({ name: 'reachability', healthy: true, detail, error: null });
      } catch (err) {
        checks.push(failed('reachability', err));
        for (const name of ['interfaces', 'gateways', 'services', 'carp'] as const) {
          checks.push({ name, healthy: null, detail: 'not checked: the device is unreachable', error: null });
        }
        return { healthy: false, checked_at: new Date().toISOString(), checks, wan: null };
      }
      const settle = async (name: HealthCheck['name'], run: () => Promise<HealthCheck>) => {
        try {
          return await run();
        } catch (err) {
          return failed(name, err);
        }
      };
      /** A check over a list: healthy when nothing is `bad`, the detail naming what is. */
      const verdict = (name: HealthCheck['name'], bad: string[], problem: string, fine: string): HealthCheck => ({
        name,
        healthy: bad.length === 0,
        detail: bad.length === 0 ? fine : `${problem}: ${bad.join(', ')}`,
        error: null,
      });
      const label = (row: PfRestRow) => str(row.name) ?? '?';
      let wan: LiveHealth['wan'] = null;
      checks.push(
        ...(await Promise.all([
          settle('interfaces', async () => {
            const enabled = (await this.reads.interfaceStats()).filter((s) => bool(s.enable));
            const bad = enabled.filter((s) => str(s.status) !== 'up').map(label);
            return verdict('interfaces', bad, 'down', `${enabled.length} enabled, all up`);
          }),
          settle('gateways', async () => {
            const gateways = await this.reads.gatewayStatus();
            wan = gateways.map((g) => ({ name: label(g), up: str(g.status) === 'online' }));
            const bad = gateways
              .filter((g) => str(g.status) !== 'online')
              .map((g) => `${label(g)} (${str(g.status) ?? 'unknown'})`);
            return verdict('gateways', bad, 'not online', `${gateways.length} online`);
          }),
          settle('services', async () => {
            const enabled = (await this.reads.services()).filter((s) => bool(s.enabled));
            const bad = enabled.filter((s) => !bool(s.status)).map(label);
            return verdict('services', bad, 'stopped', `${enabled.length} enabled, all running`);
          }),
          settle('carp', async () => {
            const carp = await this.reads.carp();
            if (!bool(carp.enable)) {
              return { name: 'carp', healthy: null, detail: 'CARP is not configured', error: null };
            }
            const maintenance = bool(carp.maintenance_mode) ? ['persistent maintenance mode'] : [];
            return verdict('carp', maintenance, 'in', 'enabled');
          }),
        ])),
      );
      return {
        healthy: checks.every((c) => c.healthy !== false),
        checked_at: new Date().toISOString(),
        checks,
        wan,
      };
    })();
  }
}

