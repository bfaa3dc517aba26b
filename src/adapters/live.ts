/**
 * @module The vendor-neutral contract of live reads (docs/reference/freesdn-firewall-module.md §10.2, §10.4, §9):
 * the result types every vendor's live view returns, snake_case like the rest of the API. A vendor offers live
 * reads through its descriptor (`VendorDescriptor.live`, src/adapters/registry.ts); which reads it serves are its
 * `read.*` capability flags. Every result keeps the vendor's own row under `vendor_data`, so nothing the device
 * said is lost to the normalisation.
 */
import type {
  LiveDhcpScopeBody,
  LiveDhcpStaticMappingBody,
  LiveDnsOverrideBody,
  LiveVlanInterfaceBody,
} from './live-write.ts';

/** Highest `limit` of a states or log read. */
export const LIVE_LIMIT_MAX = 1_000;


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
  /** A rule of the device's floating set (several interfaces, a direction, `quick` optional), not of one tab. */
  floating: boolean;
  /** Floating rules: the first match decides (`quick`); tab rules are always quick. */
  quick: boolean;
  /** ICMP types the rule matches (names or numbers); null = any. */
  icmp_types: string[] | null;
  /** Name of the time schedule the rule follows (loaded only while it is active); null = always. */
  schedule: string | null;
  /**
   * Matching options set on the rule that the neutral fields above do not carry (TCP flags, a state type other
   * than keep state, tags, DSCP, limiters...), named; empty when there are none. Semantic previews report them.
   */
  unmodelled_options: string[];
  vendor_data: VendorData;
}

export interface LiveNatRule {
  nat_type: 'dnat' | 'snat' | 'binat';
  vendor_id: number | null;
  /** The id a live write takes for this entry (src/adapters/live-write.ts); null where no write reaches it. */
  write_target: string | null;
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
  /**
   * How the IPv4 address is assigned: `static`, `dhcp`, `pppoe`, `pptp`, `l2tp`, `none`; null when the device
   * does not say. A run-time mode with a known `ipv4` means the current address.
   */
  ipv4_mode: string | null;
  /** How the IPv6 address is assigned: `static`, `dhcp6`, `slaac`, `track6`, `6rd`, `6to4`, `none`; null = not said. */
  ipv6_mode: string | null;
  /** The device blocks private (RFC 1918, ULA, loopback) / bogon source addresses arriving here; null = not said. */
  block_private: boolean | null;
  block_bogons: boolean | null;
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

interface LiveConnection {
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
  /** Each WAN gateway (upstream router the device monitors) and whether it is up; null when unread. */
  wan: Array<{ name: string; up: boolean }> | null;
}

export type LogKind = 'firewall' | 'system';

/** One firewall log entry parsed from the vendor's log format (times ISO 8601, ports null when none). */
export interface LiveLogEntry {
  logged_at: string;
  action: 'pass' | 'block' | 'reject';
  interface: string | null;
  direction: 'in' | 'out' | null;
  ip_version: number;
  protocol: string | null;
  source_ip: string;
  source_port: number | null;
  dest_ip: string;
  dest_port: number | null;
  /** The id of the rule that matched, as the device names it (the rules' `vendor_rule_id`). */
  vendor_rule_id: string | null;
  reason: string | null;
  length: number | null;
}

/**
 * One VLAN carried on a bridge, as the device holds it (src/adapters/live-write.ts `LiveBridgeVlanBody` plus what
 * only a read knows). A device entry that carries several VLAN ids is listed once per id, each with the same
 * `write_target`.
 */
export interface LiveBridgeVlan {
  /** The id a `bridge_vlan` live write takes for this entry; null where no write reaches it (a dynamic entry). */
  write_target: string | null;
  bridge: string;
  vlan_id: number;
  tagged: string[];
  untagged: string[];
  description: string;
  /**
   * Whether the bridge filters by VLAN: while it does not, the entry is stored but carries no traffic apart
   * (RouterOS `vlan-filtering=no`; OpenWrt turns it on by itself when a bridge has `bridge-vlan` sections).
   */
  vlan_filtering: boolean;
  vendor_data: VendorData;
}

/** One IDS/IPS alert as a vendor reports it (Suricata eve records on OPNsense), normalised for `/ids/alerts`. */
export interface LiveIdsAlert {
  /** Stable across reads of the same alert (idempotent ingestion). */
  vendor_alert_id: string;
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  signature_id: number | null;
  signature: string;
  category: string | null;
  protocol: string | null;
  source_ip: string | null;
  source_port: number | null;
  dest_ip: string | null;
  dest_port: number | null;
  /** `alert` (detected) or `blocked` (dropped by IPS mode). */
  action_taken: 'alert' | 'blocked';
  occurred_at: string;
}

/**
 * Vendor-neutral live reads of one gateway, as a vendor's adapter serves them. Failures are the vendor's
 * `AdapterError`s; src/firewall/live.ts maps them to `DeviceError`s and redacts every answer.
 */
export interface LiveGateway {
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
  /** The newest `limit` firewall log lines parsed (oldest first); `skipped` counts lines that could not be read. */
  firewallLog(limit: number): Promise<{ items: LiveLogEntry[]; skipped: number }>;
  /** VLANs carried on the device's bridges; present on vendors with the `read.bridge_vlans` flag. */
  bridgeVlans?(): Promise<{ items: LiveBridgeVlan[] }>;
  /** The newest `limit` IDS alerts; present on vendors with the `read.ids_alerts` flag. */
  idsAlerts?(limit: number): Promise<{ items: LiveIdsAlert[] }>;
  /** VLAN interfaces in their write body, each with its write target; with the `read.vlan_interfaces` flag. */
  vlanInterfaces?(): Promise<{ items: LiveVlanInterface[] }>;
  /** DHCPv4 scopes in their write body, each with its write target; with the `read.dhcp_scopes` flag. */
  dhcpScopes?(): Promise<{ items: LiveDhcpScope[] }>;
  /** DHCP static mappings with their write targets; with the `read.dhcp_static_mappings` flag. */
  dhcpStaticMappings?(): Promise<{ items: LiveDhcpStaticMapping[] }>;
  /** DNS host overrides with their write targets; with the `read.dns_overrides` flag. */
  dnsOverrides?(): Promise<{ items: LiveDnsOverride[] }>;
}

/** What a live write reads back, as a list row: the body plus the `target` that writes take for it. */
type Targeted<T> = T & { target: string };
/** A VLAN interface; `interface_id` is the id other objects (a DHCP scope) name the interface by, null unassigned. */
export type LiveVlanInterface = Targeted<LiveVlanInterfaceBody & { interface_id: string | null }>;
export type LiveDhcpScope = Targeted<LiveDhcpScopeBody>;
export type LiveDhcpStaticMapping = Targeted<LiveDhcpStaticMappingBody>;
export type LiveDnsOverride = Targeted<LiveDnsOverrideBody>;

