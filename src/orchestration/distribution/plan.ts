/**
 * @module What a canonical VLAN becomes on each device (pure; docs/orchestration.md "Distribution", ADR 0266):
 * the neutral live-write bodies of the brain's VLAN interface, DHCP scope, static mappings and DNS overrides and of
 * each limb's bridge VLAN, merged with what the device already holds, and the placement worked out from the
 * devices' own VLANs.
 *
 * Merging keeps the device's object and changes only what the VLAN needs: labels (an interface's name and
 * description) are set on create and left alone afterwards, an address already inside the canonical subnet with
 * its prefix is kept, ports and DNS addresses are added to those present, never removed. A step whose merge
 * changes nothing is a no-op with nothing to compensate.
 */
import type { LiveObject } from '../../adapters/live-write.ts';
import { type Cidr, cidrContains, compareIp, formatIp, type IpAddress, parseCidr, parseIp } from '../../net/ip.ts';
import type { DistributedKind, LimbPlacement, Placement } from './model.ts';

/** The neutral body keys of each kind (src/firewall/pending-writes.ts), to compare and write back. */
export const BODY_KEYS: Readonly<Record<DistributedKind, readonly string[]>> = {
  vlan_interface: ['parent', 'tag', 'name', 'ipv4', 'ipv6', 'description', 'is_enabled'],
  dhcp_scope: ['interface', 'range_from', 'range_to', 'gateway', 'dns_servers', 'is_enabled'],
  dhcp_static_mapping: ['interface', 'mac', 'ip', 'hostname', 'description'],
  dns_override: ['host', 'domain', 'ip', 'description'],
  bridge_vlan: ['bridge', 'vlan_id', 'tagged', 'untagged', 'description'],
};

/** An object's body (its kind's keys, and the vendor's `vendor_data` when read), as a write takes it. */
export function bodyOf(kind: DistributedKind, object: LiveObject): LiveObject {
  const body: LiveObject = Object.fromEntries(BODY_KEYS[kind].map((key) => [key, object[key] ?? null]));
  return object.vendor_data === undefined ? body : { ...body, vendor_data: object.vendor_data };
}

const canon = (value: unknown): string =>
  JSON.stringify(Array.isArray(value) ? (value as unknown[]).map(String).sort() : (value ?? null));

/** The keys where two bodies of `kind` differ (lists compared as sets). */
export function differingKeys(kind: DistributedKind, a: LiveObject, b: LiveObject): string[] {
  return BODY_KEYS[kind].filter((key) => canon(a[key]) !== canon(b[key]));
}

const union = (a: unknown, b: readonly string[]): string[] =>
  [...new Set([...(Array.isArray(a) ? a.map(String) : []), ...b])].sort();

/** An interface name pfSense and OPNsense take: a letter, then letters, digits and `_`, at most 32. */
export function interfaceName(vlanName: string, tag: number): string {
  const cleaned = vlanName.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  const named = /^[A-Za-z]/.test(cleaned) ? cleaned : `VLAN${tag}_${cleaned}`.replace(/_+$/, '');
  return named.slice(0, 32);
}

/** The brain's own address in `subnet`: its first host, with the prefix (`10.20.0.1/24`). */
export function gatewayAddress(subnet: string): string {
  const cidr = parseCidr(subnet) as Cidr;
  const first = cidr.family === 4 ? { family: 4 as const, value: cidr.network + 1 } : { family: 6 as const, value: cidr.network + 1n };
  return `${formatIp(first)}/${cidr.prefix}`;
}

/** Whether `address/prefix` lies in `subnet` with the subnet's prefix (an existing gateway address we keep). */
function sameSubnet(address: unknown, subnet: string): boolean {
  if (typeof address !== 'string') return false;
  const [ip, prefix] = address.split('/');
  const cidr = parseCidr(subnet);
  const parsed = parseIp(ip ?? '');
  return cidr !== null && parsed !== null && String(cidr.prefix) === prefix && cidrContains(cidr, parsed);
}

export interface CanonicalVlan {
  vlanId: number;
  name: string;
  description: string;
  ipv4Subnet: string | null;
  ipv6Subnet: string | null;
}

export function vlanInterfaceBody(vlan: CanonicalVlan, parent: string): LiveObject {
  return {
    parent,
    tag: vlan.vlanId,
    name: interfaceName(vlan.name, vlan.vlanId),
    ipv4: vlan.ipv4Subnet === null ? null : gatewayAddress(vlan.ipv4Subnet),
    ipv6: vlan.ipv6Subnet === null ? null : gatewayAddress(vlan.ipv6Subnet),
    description: vlan.description === '' ? `Portcullis VLAN ${vlan.name}` : vlan.description,
    is_enabled: true,
  };
}

/**
 * The body a step writes given what the device holds (`existing`, null: nothing) — `desired` itself for a create,
 * the merge described in the module comment for an update.
 */
export function mergedBody(kind: DistributedKind, desired: LiveObject, existing: LiveObject | null, vlan: CanonicalVlan): LiveObject {
  if (existing === null) return desired;
  const body = bodyOf(kind, existing);
  switch (kind) {
    case 'vlan_interface': {
      const keep = (field: 'ipv4' | 'ipv6', subnet: string | null) =>
        subnet !== null && sameSubnet(body[field], subnet) ? body[field] : desired[field];
      return { ...body, ipv4: keep('ipv4', vlan.ipv4Subnet), ipv6: keep('ipv6', vlan.ipv6Subnet), is_enabled: true };
    }
    case 'dhcp_scope':
      return { ...body, range_from: desired.range_from, range_to: desired.range_to, is_enabled: true };
    case 'dhcp_static_mapping':
      return { ...body, ip: desired.ip, ...(desired.hostname === '' ? {} : { hostname: desired.hostname }) };
    case 'dns_override':
      return { ...body, ip: union(body.ip, desired.ip as string[]) };
    case 'bridge_vlan': {
      const tagged = union(body.tagged, desired.tagged as string[]);
      const untagged = union(body.untagged, desired.untagged as string[]).filter((port) => !tagged.includes(port));
      return { ...body, tagged, untagged };
    }
  }
}

/**
 * Brains whose DHCP server refuses a static mapping inside the scope's pool: pfSense (pfRest answers 409,
 * docs/reference/pfrest-contract.md §7.9). OPNsense's Kea takes a reservation anywhere in the subnet, pool included
 * (docs/reference/brain-l3.md §5.2), so it is not listed (ADR 0290).
 */
const MAPPINGS_OUTSIDE_POOL_ONLY: ReadonlySet<string> = new Set(['pfsense']);

export interface PoolScope {
  rangeStart: string;
  rangeEnd: string;
  reservations: ReadonlyArray<{ id: string; mac: string; ipAddress: string }>;
}

/**
 * Why the brain of `vendor` cannot take the scope's reservations, naming the first one inside the pool
 * (`reservations.<n>.ip_address`, n its position in the VLAN's scope), or null when it can.
 */
export function reservationPoolConflict(vendor: string, scope: PoolScope): { field: string; message: string } | null {
  if (!MAPPINGS_OUTSIDE_POOL_ONLY.has(vendor)) return null;
  const address = (text: string) => parseIp(text) as IpAddress;
  const [start, end] = [address(scope.rangeStart), address(scope.rangeEnd)];
  const index = scope.reservations.findIndex((r) => compareIp(start, address(r.ipAddress)) <= 0 && compareIp(address(r.ipAddress), end) <= 0);
  if (index < 0) return null;
  const inPool = scope.reservations[index] as PoolScope['reservations'][number];
  const field = `reservations.${index}.ip_address`;
  return {
    field,
    message:
      `${field}: the reservation ${inPool.ipAddress} (${inPool.mac}, id ${inPool.id}) lies inside the DHCP pool ` +
      `${scope.rangeStart}-${scope.rangeEnd}, and pfSense refuses a static mapping inside its DHCP range ` +
      `(docs/reference/pfrest-contract.md §7.9); move it outside the pool (still in the subnet) or shrink the pool. Nothing was written.`,
  };
}

/** A limb's bridge VLAN as the live read lists it. */
export interface BridgeVlanRow {
  bridge: string;
  vlan_id: number;
  tagged: string[];
}

/**
 * A limb's placement worked out from its bridge VLANs: the one bridge carrying VLANs, and the ports tagged in
 * every VLAN on it (the trunks). Null when the limb carries no VLAN yet, several bridges do, or no port is common.
 */
export function derivedLimbPlacement(rows: readonly BridgeVlanRow[]): LimbPlacement | null {
  const bridges = [...new Set(rows.map((row) => row.bridge))];
  if (bridges.length !== 1) return null;
  const [first, ...rest] = rows;
  if (first === undefined) return null;
  const trunks = first.tagged.filter((port) => rest.every((row) => row.tagged.includes(port))).sort();
  return trunks.length === 0 ? null : { bridge: bridges[0] as string, tagged: trunks, untagged: [] };
}

/**
 * The brain's parent port worked out from the brain: the parent its VLAN interfaces share, else the port of its
 * `lan` interface. Null when neither says.
 */
export function derivedBrainParent(
  vlanInterfaces: ReadonlyArray<{ parent: string }>,
  interfaces: ReadonlyArray<{ id: string; device: string | null }>,
): string | null {
  const parents = [...new Set(vlanInterfaces.map((v) => v.parent))];
  if (parents.length === 1) return parents[0] as string;
  if (parents.length > 1) return null;
  return interfaces.find((i) => i.id === 'lan')?.device ?? null;
}

export type { Placement };
