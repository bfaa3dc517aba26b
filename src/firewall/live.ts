/**
 * @module Live reads of a gateway (docs/reference/freesdn-firewall-module.md §10.2, §10.4, §9): vendor-neutral
 * results built from the vendor adapter's typed reads, redacted on the way out, and the list of live-read
 * capabilities each vendor has. A read the vendor cannot serve is refused with `CapabilityUnavailableError`
 * before the device is contacted, never answered with invented data; an adapter failure becomes a
 * `DeviceError` carrying the vendor code. Where each read comes from on pfSense: docs/reference/pfsense-live-reads.md.
 *
 * Every result keeps the vendor's own row under `vendor_data` (redacted like the rest), so nothing the device
 * said is lost to the normalisation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PfSenseAdapter } from '../adapters/pfsense/adapter.ts';
import { MAX_LIVE_LIMIT, type PfRestRow, PfSenseLiveReads } from '../adapters/pfsense/live.ts';
import { AdapterError, type FirewallAdapter } from '../adapters/types.ts';
import { CapabilityUnavailableError, DeviceError } from '../errors.ts';
import { redact } from '../secrets/redact.ts';
import type { Vendor } from './adapter.ts';

/** Highest `limit` of a states or log read. */
export const LIVE_LIMIT_MAX = MAX_LIVE_LIMIT;

/** Live-read capabilities, one per read; the adapter registry can adopt these names as capability flags. */
export const LIVE_CAPABILITIES = [
  'live.status',
  'live.firewall_rules',
  'live.nat_rules',
  'live.aliases',
  'live.interfaces',
  'live.dhcp',
  'live.arp',
  'live.routes',
  'live.health',
  'live.ha',
  'live.vpn',
  'live.connections',
  'live.pf_info',
  'live.services',
  'live.logs',
] as const;
export type LiveCapability = (typeof LIVE_CAPABILITIES)[number];

/** What each vendor's API can serve (pfSense: docs/reference/pfsense-live-reads.md §2, and §3 for what it cannot). */
export const VENDOR_LIVE_CAPABILITIES: Readonly<Record<Vendor, readonly LiveCapability[]>> = {
  pfsense: LIVE_CAPABILITIES.filter((c) => c !== 'live.routes' && c !== 'live.pf_info'),
};

/** Why a capability is off, per vendor, for the error message (the reference says where this was checked). */
const UNAVAILABLE_BECAUSE: Readonly<Record<Vendor, Partial<Record<LiveCapability, string>>>> = {
  pfsense: {
    'live.routes':
      'pfRest has no endpoint for the kernel routing table (only static routes and gateways); see docs/reference/pfsense-live-reads.md §3',
    'live.pf_info':
      'pfRest has no endpoint for pf status and counters (pfctl -si); see docs/reference/pfsense-live-reads.md §3',
  },
};

export function hasLiveCapability(vendor: Vendor, capability: LiveCapability): boolean {
  return VENDOR_LIVE_CAPABILITIES[vendor].includes(capability);
}

/** Throws `CapabilityUnavailableError` when `vendor` cannot serve `capability`; nothing is sent to the device. */
export function requireLiveCapability(vendor: Vendor, capability: LiveCapability): void {
  if (hasLiveCapability(vendor, capability)) return;
  const why = UNAVAILABLE_BECAUSE[vendor][capability] ?? 'the vendor API has no endpoint for it';
  throw new CapabilityUnavailableError(
    capability,
    `${capability} is not available for ${vendor} gateways: ${why}.`,
  );
}

// -------------------------------------------------------------------------------------------------------------
// Result types (vendor-neutral, snake_case like the rest of the API)

type VendorData = Record<string, unknown>;

export interface LiveStatus {
  product_version: string | null;
  api_version: string | null;
  platform: string | null;
  uptime: string | null;
  cpu: { model: string | null; count: number | null; usage_percent: number | null; load_avg: number[] };
  memory_usage_percent: number | null;
  disk_usage_percent: number | null;
  temperature_c: number | null;
  vendor_data: VendorData;
}

export type RuleAction = 'allow' | 'deny' | 'reject';

export interface LiveRule {
  vendor_rule_id: string | null;
  position: number | null;
  action: RuleAction | null;
  interfaces: string[];
  direction: string | null;
  ip_version: string | null;
  protocol: string;
  source_address: string;
  source_port: string | null;
  dest_address: string;
  dest_port: string | null;
  description: string;
  is_enabled: boolean;
  log_enabled: boolean;
  vendor_data: VendorData;
}

export interface LiveNatRule {
  nat_type: 'dnat' | 'snat' | 'binat';
  vendor_id: number | null;
  interface: string | null;
  protocol: string | null;
  original_address: string | null;
  original_port: string | null;
  destination_address: string | null;
  destination_port: string | null;
  translated_address: string | null;
  translated_port: string | null;
  description: string;
  is_enabled: boolean;
  vendor_data: VendorData;
}

export interface LiveNat {
  port_forwards: LiveNatRule[];
  outbound: { mode: string | null; mappings: LiveNatRule[] };
  one_to_one: LiveNatRule[];
}

export interface LiveAlias {
  name: string;
  type: string;
  description: string;
  entries: Array<{ address: string; detail: string }>;
}

export interface LiveInterface {
  id: string;
  device: string | null;
  description: string;
  enabled: boolean;
  status: string | null;
  mac: string | null;
  mtu: number | null;
  ipv4: string | null;
  ipv6: string | null;
  media: string | null;
  gateway: string | null;
  counters: {
    in_bytes: number | null;
    out_bytes: number | null;
    in_packets: number | null;
    out_packets: number | null;
    in_errors: number | null;
    out_errors: number | null;
    collisions: number | null;
  };
  vendor_data: VendorData;
}

export interface LiveLease {
  ip: string | null;
  mac: string | null;
  hostname: string | null;
  interface: string | null;
  starts: string | null;
  ends: string | null;
  state: string | null;
  online: string | null;
  vendor_data: VendorData;
}

export interface LiveArpEntry {
  ip: string | null;
  mac: string | null;
  hostname: string | null;
  interface: string | null;
  type: string | null;
  permanent: boolean;
  expires: string | null;
}

export interface LiveService {
  name: string;
  description: string;
  enabled: boolean;
  running: boolean;
}

export interface LiveHaStatus {
  carp_enabled: boolean;
  maintenance_mode: boolean;
  vendor_data: VendorData;
}

export type TunnelStatus = 'up' | 'down' | 'unknown';

export interface LiveTunnel {
  vpn_type: 'openvpn' | 'ipsec' | 'wireguard';
  role: 'server' | 'client' | 'sa' | 'tunnel' | 'peer';
  name: string | null;
  status: TunnelStatus;
  remote_address: string | null;
  vendor_data: VendorData;
}

export interface LiveVpn {
  tunnels: LiveTunnel[];
  stats: { total: number; up: number; down: number; unknown: number };
}

export interface LiveConnection {
  interface: string | null;
  protocol: string | null;
  direction: string | null;
  source: string | null;
  destination: string | null;
  state: string | null;
  age: string | null;
  expires_in: string | null;
  packets: number | null;
  bytes: number | null;
}

export interface LiveConnections {
  items: LiveConnection[];
  current: number | null;
  maximum: number | null;
}

export interface HealthCheck {
  name: 'reachability' | 'interfaces' | 'gateways' | 'services' | 'carp';
  /** `null` when the check was skipped (not configured, or the device is unreachable). */
  healthy: boolean | null;
  detail: string;
  error: { code: string; message: string } | null;
}

export interface LiveHealth {
  healthy: boolean;
  checked_at: string;
  checks: HealthCheck[];
}

export type LogKind = 'firewall' | 'system';

// -------------------------------------------------------------------------------------------------------------
// Field readers: pfRest values arrive as strings, numbers or booleans depending on the model

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

const ACTIONS: Record<string, RuleAction> = { pass: 'allow', block: 'deny', reject: 'reject' };

// -------------------------------------------------------------------------------------------------------------
// The live view of one gateway

/** Vendor-neutral live reads of one gateway. Every answer is redacted; failures are `DeviceError`s. */
export interface LiveGateway {
  readonly vendor: Vendor;
  status(): Promise<LiveStatus>;
  firewallRules(): Promise<{ items: LiveRule[] }>;
  natRules(): Promise<LiveNat>;
  aliases(): Promise<{ items: LiveAlias[] }>;
  interfaces(): Promise<{ items: LiveInterface[] }>;
  dhcpLeases(): Promise<{ items: LiveLease[] }>;
  arp(): Promise<{ items: LiveArpEntry[] }>;
  healthCheck(): Promise<LiveHealth>;
  haStatus(): Promise<LiveHaStatus>;
  vpn(): Promise<LiveVpn>;
  connections(limit: number): Promise<LiveConnections>;
  services(): Promise<{ items: LiveService[] }>;
  logs(kind: LogKind, limit: number): Promise<{ items: Array<{ line: string }> }>;
}

/** Maps an adapter failure to a `DeviceError` (vendor code kept, message already free of credentials). */
export async function fromDevice<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof AdapterError) throw new DeviceError(err.code, err.message);
    throw err;
  }
}

/** The live view of a gateway, from its (cached) adapter. Only pfSense exists today. */
export function liveGateway(vendor: Vendor, adapter: FirewallAdapter): LiveGateway {
  if (vendor !== 'pfsense' || !(adapter instanceof PfSenseAdapter)) {
    throw new Error(`no live reads for a ${adapter.vendor} adapter registered as ${vendor}`);
  }
  return new PfSenseLiveGateway(new PfSenseLiveReads(adapter));
}

/** Runs a read through the device-error mapping and the redaction every live read passes. */
const guarded = async <T>(read: () => Promise<T>): Promise<T> => redact(await fromDevice(read));

function rule(row: PfRestRow, position: number): LiveRule {
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
    vendor_data: row,
  };
}

function natRule(type: LiveNatRule['nat_type'], row: PfRestRow): LiveNatRule {
  const common = {
    nat_type: type,
    vendor_id: num(row.id),
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
  const s = String(value ?? '').toLowerCase();
  if (['up', 'connected', 'established', 'installed', 'true'].includes(s)) return 'up';
  if (s === '' || s === 'null' || s === 'undefined') return 'unknown';
  return 'down';
}

class PfSenseLiveGateway implements LiveGateway {
  readonly vendor = 'pfsense' as const;

  constructor(private readonly reads: PfSenseLiveReads) {}

  status(): Promise<LiveStatus> {
    return guarded(async () => {
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
    });
  }

  firewallRules(): Promise<{ items: LiveRule[] }> {
    return guarded(async () => ({ items: (await this.reads.rules()).map((row, i) => rule(row, i + 1)) }));
  }

  natRules(): Promise<LiveNat> {
    return guarded(async () => {
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
    });
  }

  aliases(): Promise<{ items: LiveAlias[] }> {
    return guarded(async () => ({
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
    }));
  }

  interfaces(): Promise<{ items: LiveInterface[] }> {
    return guarded(async () => {
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
    });
  }

  dhcpLeases(): Promise<{ items: LiveLease[] }> {
    return guarded(async () => ({
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
    }));
  }

  arp(): Promise<{ items: LiveArpEntry[] }> {
    return guarded(async () => ({
      items: (await this.reads.arp()).map((row) => ({
        ip: str(row.ip_address),
        mac: str(row.mac_address),
        hostname: str(row.hostname),
        interface: str(row.interface),
        type: str(row.type),
        permanent: bool(row.permanent),
        expires: str(row.expires),
      })),
    }));
  }

  haStatus(): Promise<LiveHaStatus> {
    return guarded(async () => {
      const carp = await this.reads.carp();
      return {
        carp_enabled: bool(carp.enable),
        maintenance_mode: bool(carp.maintenance_mode),
        vendor_data: carp,
      };
    });
  }

  services(): Promise<{ items: LiveService[] }> {
    return guarded(async () => ({
      items: (await this.reads.services()).map((row) => ({
        name: str(row.name) ?? '',
        description: str(row.description) ?? '',
        enabled: bool(row.enabled),
        running: bool(row.status),
      })),
    }));
  }

  vpn(): Promise<LiveVpn> {
    return guarded(async () => {
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
    });
  }

  connections(limit: number): Promise<LiveConnections> {
    return guarded(async () => {
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
    });
  }

  logs(kind: LogKind, limit: number): Promise<{ items: Array<{ line: string }> }> {
    return guarded(async () => ({ items: (await this.reads.log(kind, limit)).map((line) => ({ line })) }));
  }

  /**
   * One `healthy` plus a result per subsystem: reachability (version), enabled interfaces up, gateways online,
   * enabled services running, CARP out of maintenance when configured. When the device is unreachable the other
   * checks are skipped (`healthy: null`). A failing subsystem read makes that check unhealthy with the vendor code.
   */
  healthCheck(): Promise<LiveHealth> {
    return guarded(async () => {
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
        return { healthy: false, checked_at: new Date().toISOString(), checks };
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
      checks.push(
        ...(await Promise.all([
          settle('interfaces', async () => {
            const enabled = (await this.reads.interfaceStats()).filter((s) => bool(s.enable));
            const bad = enabled.filter((s) => str(s.status) !== 'up').map(label);
            return verdict('interfaces', bad, 'down', `${enabled.length} enabled, all up`);
          }),
          settle('gateways', async () => {
            const gateways = await this.reads.gatewayStatus();
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
      };
    });
  }
}

// -------------------------------------------------------------------------------------------------------------
// Following a log (`logs/stream`): pfRest has no streaming endpoint, so the newest lines are polled and diffed

/**
 * The lines of `batch` (the newest lines now) that follow `previous` (the newest lines at the last poll): the
 * largest suffix of `previous` that is a prefix of `batch` is what both saw. No overlap while `previous` had lines
 * means more lines arrived than one window holds, or the log rotated: `gap` is set and the whole batch is new.
 */
export function newLogLines(
  previous: readonly string[],
  batch: readonly string[],
): { lines: string[]; gap: boolean } {
  for (let skip = 0; skip < previous.length; skip++) {
    const overlap = previous.length - skip;
    if (overlap > batch.length) continue;
    let same = true;
    for (let i = 0; i < overlap && same; i++) same = previous[skip + i] === batch[i];
    if (same) return { lines: batch.slice(overlap), gap: false };
  }
  return { lines: [...batch], gap: previous.length > 0 && batch.length > 0 };
}

export type LogStreamEvent =
  | { type: 'line'; line: string }
  | { type: 'gap' }
  /** A poll found nothing new: lets the transport keep an idle connection alive. */
  | { type: 'idle' }
  | { type: 'error'; code: string; message: string }
  | { type: 'end'; reason: 'lifetime' | 'closed' };

export interface FollowLogOptions {
  kind: LogKind;
  /** Lines read per poll: more new lines than this between two polls is reported as a `gap`. */
  window: number;
  intervalMs: number;
  /** The stream ends (`end`, reason `lifetime`) after this long. */
  maxDurationMs: number;
  /** Aborted when the client goes away: the loop stops at once (`end`, reason `closed`). */
  signal: AbortSignal;
}

/**
 * Polls the device log every `intervalMs` and emits each new line (redacted), starting after `initial` (the
 * window read when the stream opened). A failed poll emits `error` with the vendor code and the loop goes on:
 * the device may come back within the stream's lifetime.
 */
export async function followLog(
  gateway: LiveGateway,
  initial: readonly string[],
  opts: FollowLogOptions,
  emit: (event: LogStreamEvent) => void,
): Promise<void> {
  const deadline = Date.now() + opts.maxDurationMs;
  let previous = [...initial];
  while (!opts.signal.aborted) {
    const wait = Math.min(opts.intervalMs, deadline - Date.now());
    if (wait <= 0) {
      emit({ type: 'end', reason: 'lifetime' });
      return;
    }
    try {
      await sleep(wait, undefined, { signal: opts.signal });
    } catch {
      break; // aborted
    }
    try {
      const batch = (await gateway.logs(opts.kind, opts.window)).items.map((item) => item.line);
      if (opts.signal.aborted) break;
      const { lines, gap } = newLogLines(previous, batch);
      if (gap) emit({ type: 'gap' });
      for (const line of lines) emit({ type: 'line', line });
      if (!gap && lines.length === 0) emit({ type: 'idle' });
      previous = batch;
    } catch (err) {
      if (!(err instanceof DeviceError)) throw err;
      emit({ type: 'error', code: err.vendorCode, message: err.message });
    }
  }
  emit({ type: 'end', reason: 'closed' });
}
