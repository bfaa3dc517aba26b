/**
 * @module The vendor-neutral contract of live writes (docs/reference/freesdn-firewall-module.md §10.3): what a
 * staged change asks of a device, in snake_case bodies that every vendor maps to its own API. A vendor offers
 * writes through its descriptor (`VendorDescriptor.writes`) and says which kinds it serves with its
 * `write.*` capability flags. The pending-change engine (src/firewall/pending.ts) is the only caller: it reads the
 * before-image, writes, applies, then reads back to verify — nothing here decides whether a write may happen.
 */

/**
 * What the device stores for an object beyond its neutral fields (a floating rule's options, a mapping's lease
 * times…), opaque to callers: a read includes it only when it differs from what a create without it would store,
 * and writing it back as read restores the object exactly (the before-image round trip).
 */
export type LiveVendorData = Record<string, unknown>;

/** The device objects a live write can touch. */
export type LiveWriteKind =
  | 'firewall_rule'
  | 'port_forward'
  | 'source_nat'
  | 'alias'
  | 'static_route'
  | 'dns_override'
  | 'dhcp_static_mapping'
  | 'bridge_vlan'
  | 'vlan_interface'
  | 'dhcp_scope'
  | 'service'
  | 'power';

/** `toggle` sets `is_enabled` only; `control` is a service action; `reboot`/`halt` are power operations. */
export type LiveWriteOp = 'create' | 'update' | 'toggle' | 'delete' | 'control' | 'reboot' | 'halt';

export interface LiveRuleBody {
  action: 'allow' | 'deny' | 'reject';
  interface: string;
  ip_version: 'inet' | 'inet6' | 'inet46';
  protocol: 'any' | 'tcp' | 'udp' | 'tcp/udp' | 'icmp';
  source_address: string;
  source_port: string | null;
  dest_address: string;
  dest_port: string | null;
  description: string;
  is_enabled: boolean;
  log_enabled: boolean;
  vendor_data?: LiveVendorData;
}

export interface LivePortForwardBody {
  interface: string;
  protocol: 'tcp' | 'udp' | 'tcp/udp';
  source_address: string;
  dest_address: string;
  dest_port: string;
  target_address: string;
  target_port: string;
  description: string;
  is_enabled: boolean;
  vendor_data?: LiveVendorData;
}

export interface LiveSourceNatBody {
  interface: string;
  protocol: 'any' | 'tcp' | 'udp' | 'tcp/udp';
  source_address: string;
  dest_address: string;
  /** Translated address (an interface address name such as `wan:ip`, an address or an alias). */
  target_address: string;
  description: string;
  is_enabled: boolean;
  vendor_data?: LiveVendorData;
}

export interface LiveAliasBody {
  name: string;
  type: 'host' | 'network' | 'port';
  description: string;
  entries: Array<{ address: string; detail: string }>;
}

export interface LiveStaticRouteBody {
  network: string;
  gateway: string;
  description: string;
  is_enabled: boolean;
}

export interface LiveDnsOverrideBody {
  host: string;
  domain: string;
  ip: string[];
  description: string;
  vendor_data?: LiveVendorData;
}

export interface LiveDhcpStaticMappingBody {
  interface: string;
  mac: string;
  ip: string;
  hostname: string;
  description: string;
  vendor_data?: LiveVendorData;
}

/**
 * One VLAN carried on a bridge (RouterOS `/interface/bridge/vlan`, OpenWrt DSA `bridge-vlan`): frames of
 * `vlan_id` leave the `tagged` ports with their tag and the `untagged` ports without it; an untagged port is an
 * access port of this VLAN (its port VLAN id, PVID, is `vlan_id`). Port lists are sorted and hold no duplicates.
 * Whether the bridge filters VLANs at all is the device's own setting, read in the live view and never written
 * here (docs/adr/0256-routeros-bridge-vlans-leave-vlan-filtering-alone.md).
 */
export interface LiveBridgeVlanBody {
  bridge: string;
  vlan_id: number;
  tagged: string[];
  untagged: string[];
  description: string;
  vendor_data?: LiveVendorData;
}

/**
 * A VLAN on a parent port, assigned as a firewall interface with static addresses (docs/reference/brain-l3.md §4).
 * The target is the VLAN device (`<parent>.<tag>` on pfSense): parent and tag are fixed once created.
 */
export interface LiveVlanInterfaceBody {
  /** The parent port as the device names it (pfSense `vtnet1`, OPNsense `igb1`). */
  parent: string;
  /** The 802.1Q tag, 1-4094, unique on its parent. */
  tag: number;
  /** The interface's name on the firewall (pfSense `descr`: letters, digits and `_`). */
  name: string;
  /** Static IPv4 address with its prefix length (`10.20.0.1/24`), or null for none. */
  ipv4: string | null;
  /** Static IPv6 address with its prefix length, or null for none. */
  ipv6: string | null;
  /** Free text on the VLAN itself. */
  description: string;
  is_enabled: boolean;
  vendor_data?: LiveVendorData;
}

/** The DHCPv4 server of one interface (docs/reference/brain-l3.md §4); the target is the interface. */
export interface LiveDhcpScopeBody {
  interface: string;
  range_from: string;
  range_to: string;
  /** The router handed to clients; null: the interface's own address. */
  gateway: string | null;
  /** DNS servers handed to clients; empty: the device's own choice (pfSense: its resolver). */
  dns_servers: string[];
  is_enabled: boolean;
  vendor_data?: LiveVendorData;
}

export interface LiveServiceBody {
  name: string;
  action: 'start' | 'stop' | 'restart';
}

/** The neutral body of each kind that stores an object on the device (create / update / read). */
export interface LiveBodies {
  firewall_rule: LiveRuleBody;
  port_forward: LivePortForwardBody;
  source_nat: LiveSourceNatBody;
  alias: LiveAliasBody;
  static_route: LiveStaticRouteBody;
  dns_override: LiveDnsOverrideBody;
  dhcp_static_mapping: LiveDhcpStaticMappingBody;
  bridge_vlan: LiveBridgeVlanBody;
  vlan_interface: LiveVlanInterfaceBody;
  dhcp_scope: LiveDhcpScopeBody;
}
export type LiveObjectKind = keyof LiveBodies;

/** Kinds whose body has `is_enabled`: they take `toggle`. */
export type LiveToggleKind = 'firewall_rule' | 'port_forward' | 'source_nat' | 'static_route';

/**
 * Where a created rule goes: `before` is the target of the rule it is placed in front of (rule order is evaluation
 * order); absent or null appends it after every rule. To restore a deleted rule's place, pass the target of the
 * rule that followed it (the live rule list gives the order).
 */
interface RulePlacement {
  before?: string | null;
}

type StoredWrite = {
  [K in LiveObjectKind]:
    | ({ kind: K; op: 'create'; target: null; body: LiveBodies[K] } & (K extends 'firewall_rule'
        ? RulePlacement
        : unknown))
    | { kind: K; op: 'update'; target: string; body: LiveBodies[K] }
    | { kind: K; op: 'delete'; target: string; body: Record<string, never> };
}[LiveObjectKind];

/** One write, as the pending-change engine hands it to a vendor. */
export type LiveWrite =
  | StoredWrite
  | { kind: LiveToggleKind; op: 'toggle'; target: string; body: { is_enabled: boolean } }
  | { kind: 'service'; op: 'control'; target: string; body: LiveServiceBody }
  | { kind: 'power'; op: 'reboot' | 'halt'; target: null; body: Record<string, never> };

/** A device object in its neutral body shape (the kind's `Live*Body`), or null when the device has none. */
export type LiveObject = Record<string, unknown>;

export interface LiveWriteResult {
  /**
   * The id of the object written, stable across writes of other objects (a created object's new id). An update or
   * toggle may return a different one when the vendor's key is part of what changed (e.g. a route's network):
   * the read-back uses this one.
   */
  target: string | null;
  /** Subsystems the write left waiting for an apply (empty when the write is live at once). */
  pending: string[];
}

/**
 * Writes of one gateway, as a vendor's adapter serves them. Failures are the vendor's `AdapterError`s, mapped
 * to `DeviceError`s by the caller like live reads.
 */
export interface LiveWriter {
  /**
   * The object a write would touch, in its neutral body shape: the before-image, and the read-back. A `service`
   * reads as `{name, action}` with `start` while it runs and `stop` while it does not (a restart reads back as
   * `start`); `power` has nothing to read (null).
   */
  read(kind: LiveWriteKind, target: string): Promise<LiveObject | null>;
  /** Stages one write on the device. */
  write(change: LiveWrite): Promise<LiveWriteResult>;
  /** Makes every staged write live at once (one filter reload for a batch). */
  apply(): Promise<void>;
  /**
   * Subsystems still waiting for an apply (empty after a complete apply): what the device reports, plus writes
   * this writer staged that the device does not flag — so stage and apply a batch through one writer.
   */
  pendingSubsystems(): Promise<string[]>;
}
