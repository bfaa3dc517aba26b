/**
 * @module The vendor registry: every `src/adapters/<vendor>/` describes itself with ONE `VendorDescriptor`
 * (id, maturity tier, capability flags, credential shape, error-code family, alias/list naming rules, how to
 * build an adapter and test a connection). Callers look a vendor up here and read its flags; nothing outside
 * the vendor's folder names a vendor (docs/adr/0111-vendor-registry.md).
 *
 * The built-in vendors are listed in `src/adapters/vendors.ts`; `registerVendor` adds one at run time (tests).
 */
import type { LiveGateway } from './live.ts';
import type { LiveWriter } from './live-write.ts';
import type { LookupFunction } from 'node:net';
import type { HttpTimeouts, TlsTrust } from './http.ts';
import type { ApplyOptions, FirewallAdapter, VersionInfo } from './types.ts';

type Maturity = 'production' | 'beta' | 'preview';

/**
 * What a vendor adapter can do. Each flag is one operation a caller may need; a caller checks the flag before
 * it relies on the operation and answers `PC_ERR_CAPABILITY_UNSUPPORTED` when it is off — never empty data.
 */
export const CAPABILITIES = [
  /** Read one address list / alias by name (`getAlias`). */
  'alias.read',
  /** Replace an address list's entries (`setAliasEntries`). */
  'alias.write',
  /** Create a missing address list (`createAlias`). */
  'alias.create',
  /** Writes are staged until an explicit apply (`apply` confirms them live); off: writes are live at once. */
  'apply',
  /** Drop the open connections of one address (`killStates`). */
  'kill_states',
  /** The device expires list entries by itself (RouterOS `timeout`, nft element timeouts). */
  'native_expiry',
  // Live reads (issue 9): each is one read route under /firewall/gateways/{id}/…
  'read.status',
  'read.aliases',
  'read.rules',
  'read.nat',
  'read.interfaces',
  'read.routes',
  'read.dhcp_leases',
  'read.arp',
  'read.vpn',
  'read.states',
  'read.services',
  'read.ha_status',
  'read.logs',
  /** VLAN interfaces: each VLAN with its interface assignment and static addresses (`vlan_interface` bodies). */
  'read.vlan_interfaces',
  /** DHCPv4 servers per interface (`dhcp_scope` bodies). */
  'read.dhcp_scopes',
  /** DHCP static mappings (`dhcp_static_mapping` bodies). */
  'read.dhcp_static_mappings',
  /** DNS resolver host overrides (`dns_override` bodies). */
  'read.dns_overrides',
  /** pf status and counters (`pfctl -si`). */
  'read.pf_info',
  /** The health check: reachability plus interfaces, gateways, services and CARP where readable. */
  'read.health',
  /** The running configuration as one file (config download; it holds secrets: firewall.admin only). */
  'read.config',
  /** VLANs carried on bridges, with their tagged and untagged ports and the bridge's VLAN filtering. */
  'read.bridge_vlans',
  /** IDS/IPS alerts (OPNsense Suricata `ids/service/query_alerts`), ingested into `/ids/alerts` by sync. */
  'read.ids_alerts',
  // Live writes (issue 9), applied through pending changes.
  'write.rules',
  'write.nat',
  'write.aliases',
  'write.routes',
  'write.services',
  /** DNS resolver host overrides. */
  'write.dns',
  /** DHCP static mappings. */
  'write.dhcp',
  /** VLANs assigned as interfaces with static addresses (`vlan_interface`). */
  'write.vlans',
  /** DHCPv4 servers per interface: range, gateway, DNS servers (`dhcp_scope`). */
  'write.dhcp_scopes',
  /** Reboot and halt. */
  'write.power',
  /** VLANs carried on bridges (tagged / untagged member ports). */
  'write.bridge_vlans',
  /** Several staged writes go live with one apply (one filter reload). */
  'write.batch_apply',
] as const;
export type Capability = (typeof CAPABILITIES)[number];
type CapabilityFlags = Readonly<Record<Capability, boolean>>;

/** The credential shapes vendors use; each names the request fields it is given in. */
export const CREDENTIAL_SHAPES = {
  /** One API key (pfSense pfRest `X-API-Key`). */
  api_key: ['api_key'],
  /** Key and secret (OPNsense: HTTP Basic key:secret). */
  key_secret: ['api_key', 'api_secret'],
  /** Username and password (RouterOS REST Basic, OpenWrt ubus session login). */
  username_password: ['username', 'password'],
  /** SSH login with a private key (nftables hosts). */
  ssh_key: ['username', 'ssh_private_key'],
} as const satisfies Record<string, readonly string[]>;
type CredentialShape = keyof typeof CREDENTIAL_SHAPES;
export type CredentialField = (typeof CREDENTIAL_SHAPES)[CredentialShape][number];
/** Every credential field any shape uses (the gateway request bodies accept these). */
export const CREDENTIAL_FIELDS: readonly CredentialField[] = [
  ...new Set(Object.values(CREDENTIAL_SHAPES).flat()),
] as CredentialField[];

/** Plaintext credentials of one gateway, keyed by field; only in memory, never in a response or a log. */
export type Credentials = Readonly<Partial<Record<CredentialField, string>>>;

/** The vendor codes access code needs; the adapter's own failures carry their codes themselves. */
interface VendorErrorCodes {
  /** Family prefix, e.g. `PFS` (docs list the catalog per vendor). */
  family: string;
  /** The gateway cannot be reached or used (bad host, missing gateway, refused by the SSRF guard). */
  connect: string;
  /** The gateway's TLS certificate was refused (the connection test then shows the one presented, to pin). */
  tls: string;
  /** The list is missing and creating it is not allowed. */
  aliasNotFound: string;
  /** The list exists but cannot hold addresses. */
  aliasUnusable: string;
  /** A read-back after a write does not show what was written. */
  verifyMismatch: string;
}

/** A failed name check; `id` is the vendor's own error id when it has one. */
type ListNameCheck = { ok: true } | { ok: false; id?: string; message: string };

/** How the vendor names address lists (pfSense aliases, RouterOS address-lists, nft sets). */
interface ListNaming {
  /** What the vendor calls a list, for messages ("alias", "address list", "set"). */
  noun: string;
  maxLength: number;
  check(name: string): ListNameCheck;
}

/** Knobs for tests and benchmarks; production uses the adapter defaults. */
export interface AdapterTuning {
  timeouts?: Partial<HttpTimeouts>;
  apply?: Partial<ApplyOptions>;
  retries?: number;
  breakerThreshold?: number;
  /**
   * Vendors whose adapter runs commands (nftables): put in front of every command, e.g. `ip netns exec <ns>` so a
   * test drives a network namespace it made. Test-only: set in code by tests and benchmarks, never read from
   * configuration or the environment (docs/nftables.md §Tests).
   */
  commandPrefix?: readonly string[];
}

/** What a vendor needs to build an adapter for one gateway. */
interface AdapterConnection {
  url: string;
  credentials: Credentials;
  tls: TlsTrust;
  /** Name resolution for every connection (the SSRF-guarded lookup). */
  lookup: LookupFunction;
  /** Stable gateway id (adapters of one gateway share a circuit breaker); absent for an unsaved test. */
  gatewayKey?: string;
  tuning?: AdapterTuning;
}

export type ClosableAdapter = FirewallAdapter & { close(): Promise<void> };

export interface VendorDescriptor {
  /** Stable id stored on the gateway row (`gateways.vendor`). Lower case, `[a-z0-9_]`. */
  id: string;
  /** Display name of the product, e.g. "pfSense". */
  name: string;
  /** The management API it is reached through, e.g. "pfRest v2". */
  api: string;
  maturity: Maturity;
  capabilities: CapabilityFlags;
  credentials: CredentialShape;
  /** Vendor-specific credential checks beyond "present, a string, not blank": `{field, message}` or null. */
  checkCredentials?(credentials: Credentials): { field: CredentialField; message: string } | null;
  /**
   * URL schemes of the gateway URL other than http/https (e.g. nftables: `ssh`, `local`); absent = http(s) only.
   * `network` schemes name a host the SSRF guard checks; a `local` scheme names this host and carries no host.
   */
  urlSchemes?: { network: readonly string[]; local: readonly string[] };
  errors: VendorErrorCodes;
  listNaming: ListNaming;
  /** Builds an adapter (throws a `TypeError` for settings it cannot use). */
  createAdapter(connection: AdapterConnection): ClosableAdapter;
  /** The connection test: reads the versions (throws the vendor's `AdapterError` on failure). */
  testConnection(adapter: ClosableAdapter): Promise<VersionInfo>;
  /** Live reads (src/adapters/live.ts): the view over an adapter this descriptor built; absent = none. */
  live?: {
    open(adapter: ClosableAdapter): LiveGateway;
    /** Why a `read.*` flag is off, for the refusal's message (where the vendor's API was checked). */
    unavailable: Partial<Record<Capability, string>>;
  };
  /** Live writes (src/adapters/live-write.ts) for the kinds its `write.*` flags declare; absent = none. */
  writes?: { open(adapter: ClosableAdapter): LiveWriter };
  /**
   * Why a flag that is not a live read is off (`native_expiry`, `kill_states`, `write.*`, …), for the capability
   * matrix and the refusals; `live.unavailable` holds the `read.*` reasons. A flag off with no reason here is
   * reported as {@link NO_REASON}.
   */
  unavailable?: Partial<Record<Capability, string>>;
}

/** The reason given for an off flag whose vendor states none. */
export const NO_REASON = 'the adapter does not implement it';

/** Why `capability` is off for `vendor` (null when it is on): the descriptor's reason, else {@link NO_REASON}. */
export function unavailableReason(vendor: VendorDescriptor, capability: Capability): string | null {
  if (vendor.capabilities[capability]) return null;
  return vendor.unavailable?.[capability] ?? vendor.live?.unavailable[capability] ?? NO_REASON;
}

const registry = new Map<string, VendorDescriptor>();

/** Adds a vendor; a second descriptor for the same id is refused (one descriptor per vendor). */
export function registerVendor(descriptor: VendorDescriptor): void {
  if (!/^[a-z0-9_]{1,40}$/.test(descriptor.id)) {
    throw new Error(`vendor id ${JSON.stringify(descriptor.id)} is invalid`);
  }
  if (registry.has(descriptor.id)) throw new Error(`vendor ${descriptor.id} is already registered`);
  const missing = CAPABILITIES.filter((flag) => typeof descriptor.capabilities[flag] !== 'boolean');
  if (missing.length > 0) throw new Error(`vendor ${descriptor.id} does not declare ${missing.join(', ')}`);
  registry.set(descriptor.id, descriptor);
}

/** Removes a vendor registered at run time (tests clean up after themselves). */
export function unregisterVendor(id: string): void {
  registry.delete(id);
}

/** The vendor of `id`, or undefined when none is registered. */
export function findVendor(id: string): VendorDescriptor | undefined {
  return registry.get(id);
}

/** Every registered vendor, in registration order: the built-ins as `src/adapters/vendors.ts` lists them, the default first. */
export function listVendors(): VendorDescriptor[] {
  return [...registry.values()];
}
