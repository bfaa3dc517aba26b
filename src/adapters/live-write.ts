/**
 * @module The vendor-neutral contract of live writes (docs/reference/freesdn-firewall-module.md §10.3): what a
 * staged change asks of a device, in snake_case bodies that every vendor maps to its own API. A vendor offers
 * writes through its descriptor (`VendorDescriptor.writes`) and says which kinds it serves with its
 * `write.*` capability flags. The pending-change engine (src/firewall/pending.ts) is the only caller: it reads the
 * before-image, writes, applies, then reads back to verify — nothing here decides whether a write may happen.
 */

/** The device objects a live write can touch. */
export type LiveWriteKind =
  | 'firewall_rule'
  | 'port_forward'
  | 'source_nat'
  | 'alias'
  | 'static_route'
  | 'dns_override'
  | 'dhcp_static_mapping'
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
}

export interface LiveDhcpStaticMappingBody {
  interface: string;
  mac: string;
  ip: string;
  hostname: string;
  description: string;
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
}
export type LiveObjectKind = keyof LiveBodies;

/** Kinds whose body has `is_enabled`: they take `toggle`. */
export type LiveToggleKind = 'firewall_rule' | 'port_forward' | 'source_nat' | 'static_route';

type StoredWrite = {
  [K in LiveObjectKind]:
    | { kind: K; op: 'create'; target: null; body: LiveBodies[K] }
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
  /** The id of the object written, stable across later writes (a created object's new id). */
  target: string | null;
  /** Subsystems the write left waiting for an apply (empty when the write is live at once). */
  pending: string[];
}

/**
 * Writes of one gateway, as a vendor's adapter serves them. Failures are the vendor's `AdapterError`s, mapped
 * to `DeviceError`s by the caller like live reads.
 */
export interface LiveWriter {
  /** The object a write would touch, in its neutral body shape: the before-image, and the read-back. */
  read(kind: LiveWriteKind, target: string): Promise<LiveObject | null>;
  /** Stages one write on the device. */
  write(change: LiveWrite): Promise<LiveWriteResult>;
  /** Makes every staged write live at once (one filter reload for a batch). */
  apply(): Promise<void>;
  /** Subsystems the device still reports as waiting for an apply (empty after a complete apply). */
  pendingSubsystems(): Promise<string[]>;
}
