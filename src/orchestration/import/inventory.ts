/**
 * @module What a gateway runs that the canonical state describes, read live (docs/orchestration.md "Brownfield
 * import", ADR 0271): VLAN interfaces, DHCP scopes and static mappings and DNS host overrides of a brain, bridge
 * VLANs of a limb, each normalised to the canonical shape (a VLAN interface's address becomes its subnet, a scope
 * and a mapping are tied to the VLAN of their interface). A read the vendor lacks is skipped and listed with its
 * reason, never answered with empty data; a device that cannot be read is `reachable: false` with the vendor code.
 */
import type { LiveGateway } from '../../adapters/live.ts';
import { type Capability, unavailableReason, type VendorDescriptor } from '../../adapters/registry.ts';
import { DeviceError, DomainError } from '../../errors.ts';
import { liveGateway } from '../../firewall/live.ts';
import { normalizeCidr, normalizeIp } from '../../net/ip.ts';
import type { PendingDeps } from '../../firewall/pending.ts';
import { missingCapabilities, ROLES, type Role } from '../topology-roles.ts';

export interface DeviceVlan {
  vlan_id: number;
  name: string;
  description: string;
  /** The interface's network (host bits clear), null when it has no address of that family. */
  ipv4_subnet: string | null;
  ipv6_subnet: string | null;
  /** The interface's own address with its prefix length (`10.20.0.1/24`). */
  ipv4_address: string | null;
  ipv6_address: string | null;
  /** The id a DHCP scope or mapping names the interface by (pfSense `opt1`); null when unassigned. */
  interface_id: string | null;
}

export interface DeviceDhcpScope {
  vlan_id: number;
  interface: string;
  range_start: string;
  range_end: string;
}

export interface DeviceReservation {
  vlan_id: number;
  mac: string;
  ip_address: string;
  hostname: string | null;
  description: string;
}

export interface DeviceDnsRecord {
  host: string;
  domain: string;
  /** Sorted, canonical text. */
  ip_addresses: string[];
  description: string;
}

export interface DeviceBridgeVlan {
  vlan_id: number;
  bridge: string;
  tagged: string[];
  untagged: string[];
  description: string;
}

export interface SkippedRead {
  what: string;
  capability: Capability;
  reason: string;
}

export interface DeviceInventory {
  gateway_id: string;
  name: string;
  vendor: string;
  /** Roles the vendor can take (ADR 0241), so the caller of step 2 sees what is possible. */
  possible_roles: Role[];
  reachable: boolean;
  error: { code: string; vendor_code: string | null; message: string } | null;
  vlans: DeviceVlan[];
  dhcp_scopes: DeviceDhcpScope[];
  dhcp_reservations: DeviceReservation[];
  dns_records: DeviceDnsRecord[];
  bridge_vlans: DeviceBridgeVlan[];
  /** Objects on the device the canonical state cannot hold (a scope on a non-VLAN interface …), counted by kind. */
  left_out: Record<string, number>;
  skipped: SkippedRead[];
}

export interface InventoryGateway {
  id: string;
  name: string;
  vendor: string;
}

const macOf = (text: string): string => {
  const hex = text.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return hex.length === 12 ? (hex.match(/../g) as string[]).join(':') : text.toLowerCase();
};

/** A read guarded by its capability flag: absent flag → skipped with the registry's reason. */
async function ifCapable<T>(
  vendor: VendorDescriptor,
  capability: Capability,
  what: string,
  skipped: SkippedRead[],
  read: () => Promise<T>,
): Promise<T | null> {
  if (!vendor.capabilities[capability]) {
    skipped.push({ what, capability, reason: unavailableReason(vendor, capability) ?? 'not offered by the vendor' });
    return null;
  }
  return read();
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Every canonical-shaped object `live` shows; reads that fail throw (`DeviceError`). */
async function readAll(vendor: VendorDescriptor, live: LiveGateway, inventory: DeviceInventory): Promise<void> {
  const { skipped, left_out: leftOut } = inventory;
  const vlans = await ifCapable(vendor, 'read.vlan_interfaces', 'vlan_interfaces', skipped, async () => (await (live.vlanInterfaces as NonNullable<LiveGateway['vlanInterfaces']>)()).items);
  const vlanOfInterface = new Map<string, number>();
  for (const v of vlans ?? []) {
    if (v.interface_id === null) {
      bump(leftOut, 'unassigned_vlan');
      continue;
    }
    vlanOfInterface.set(v.interface_id, v.tag);
    inventory.vlans.push({
      vlan_id: v.tag,
      name: v.name,
      description: v.description,
      ipv4_subnet: v.ipv4 === null ? null : normalizeCidr(v.ipv4),
      ipv6_subnet: v.ipv6 === null ? null : normalizeCidr(v.ipv6),
      ipv4_address: v.ipv4,
      ipv6_address: v.ipv6,
      interface_id: v.interface_id,
    });
  }
  const scopes = await ifCapable(vendor, 'read.dhcp_scopes', 'dhcp_scopes', skipped, async () => (await (live.dhcpScopes as NonNullable<LiveGateway['dhcpScopes']>)()).items);
  for (const s of scopes ?? []) {
    const vlanId = vlanOfInterface.get(s.interface);
    if (vlanId === undefined) {
      bump(leftOut, 'dhcp_scope_not_on_vlan');
      continue;
    }
    inventory.dhcp_scopes.push({
      vlan_id: vlanId,
      interface: s.interface,
      range_start: normalizeIp(s.range_from) ?? s.range_from,
      range_end: normalizeIp(s.range_to) ?? s.range_to,
    });
  }
  const mappings = await ifCapable(vendor, 'read.dhcp_static_mappings', 'dhcp_static_mappings', skipped, async () => (await (live.dhcpStaticMappings as NonNullable<LiveGateway['dhcpStaticMappings']>)()).items);
  for (const m of mappings ?? []) {
    const vlanId = vlanOfInterface.get(m.interface);
    if (vlanId === undefined) {
      bump(leftOut, 'dhcp_reservation_not_on_vlan');
      continue;
    }
    inventory.dhcp_reservations.push({
      vlan_id: vlanId,
      mac: macOf(m.mac),
      ip_address: normalizeIp(m.ip) ?? m.ip,
      hostname: m.hostname === '' ? null : m.hostname.toLowerCase(),
      description: m.description,
    });
  }
  const overrides = await ifCapable(vendor, 'read.dns_overrides', 'dns_overrides', skipped, async () => (await (live.dnsOverrides as NonNullable<LiveGateway['dnsOverrides']>)()).items);
  for (const o of overrides ?? []) {
    inventory.dns_records.push({
      host: o.host.toLowerCase(),
      domain: o.domain.toLowerCase(),
      ip_addresses: [...new Set(o.ip.map((ip) => normalizeIp(ip) ?? ip))].sort(),
      description: o.description,
    });
  }
  const bridged = await ifCapable(vendor, 'read.bridge_vlans', 'bridge_vlans', skipped, async () => (await (live.bridgeVlans as NonNullable<LiveGateway['bridgeVlans']>)()).items);
  for (const b of bridged ?? []) {
    inventory.bridge_vlans.push({
      vlan_id: b.vlan_id,
      bridge: b.bridge,
      tagged: b.tagged,
      untagged: b.untagged,
      description: b.description,
    });
  }
}

/** Reads one gateway; never throws for a device problem (the inventory says `reachable: false`). */
export async function readInventory(deps: Pick<PendingDeps, 'device'>, gateway: InventoryGateway): Promise<DeviceInventory> {
  const inventory: DeviceInventory = {
    gateway_id: gateway.id,
    name: gateway.name,
    vendor: gateway.vendor,
    possible_roles: ROLES.filter((role) => missingCapabilities(gateway.vendor, role).length === 0),
    reachable: true,
    error: null,
    vlans: [],
    dhcp_scopes: [],
    dhcp_reservations: [],
    dns_records: [],
    bridge_vlans: [],
    left_out: {},
    skipped: [],
  };
  try {
    const { vendor, adapter } = await deps.device(gateway.id);
    await readAll(vendor, liveGateway(vendor, adapter), inventory);
  } catch (err) {
    // A device that cannot be reached, built or read (or was deleted meanwhile) is a finding of the import, not a
    // failure of the request.
    if (!(err instanceof DomainError)) throw err;
    Object.assign(inventory, {
      reachable: false,
      vlans: [],
      dhcp_scopes: [],
      dhcp_reservations: [],
      dns_records: [],
      bridge_vlans: [],
      error: { code: err.code, vendor_code: err instanceof DeviceError ? err.vendorCode : null, message: err.message },
    });
  }
  return inventory;
}
