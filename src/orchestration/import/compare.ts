/**
 * @module Canonical state against what the devices run (docs/orchestration.md "Reconciliation", ADR 0272): one
 * item per resource and device, with the five statuses of the spec (§18): `aligned`, `missing` (canonical, not on
 * the device), `modified` (both, different), `extra` (on the device, not canonical) and `error` (the device could
 * not be read). The brain is compared on everything L3 (VLAN interface: name and subnets; DHCP scope: its range;
 * reservation: address and host name, by MAC; DNS override: its addresses, by host and domain), each limb on the
 * VLANs its bridges carry (present or not: the canonical state holds no ports). A VLAN without a subnet is L2
 * only: the brain need not have an interface for it. Pure: the reads are done by the caller.
 */
import { and, eq } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { ServiceContext } from '../../core/context.ts';
import {
  orchestrationDhcpReservations,
  orchestrationDhcpScopes,
  orchestrationDnsRecords,
  orchestrationVlans,
} from '../../store/schema/orchestration.ts';
import type { DeviceInventory } from './inventory.ts';

export const ALIGNMENT_STATUSES = ['aligned', 'missing', 'modified', 'extra', 'error'] as const;
export type AlignmentStatus = (typeof ALIGNMENT_STATUSES)[number];
export const RESOURCE_KINDS = ['vlan', 'dhcp_scope', 'dhcp_reservation', 'dns_record', 'device'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** The canonical state of one site, keyed the way devices are compared. */
export interface CanonicalSnapshot {
  vlans: Array<typeof orchestrationVlans.$inferSelect>;
  scopes: Array<typeof orchestrationDhcpScopes.$inferSelect>;
  reservations: Array<typeof orchestrationDhcpReservations.$inferSelect>;
  dns: Array<typeof orchestrationDnsRecords.$inferSelect>;
}

export async function loadCanonical(ctx: ServiceContext, siteId: string): Promise<CanonicalSnapshot> {
  const bySite = (t: { orgId: PgColumn; siteId: PgColumn }) => and(eq(t.orgId, ctx.orgId), eq(t.siteId, siteId));
  const [vlans, scopes, reservations, dns] = await Promise.all([
    ctx.db.select().from(orchestrationVlans).where(bySite(orchestrationVlans)),
    ctx.db.select().from(orchestrationDhcpScopes).where(bySite(orchestrationDhcpScopes)),
    ctx.db.select().from(orchestrationDhcpReservations).where(bySite(orchestrationDhcpReservations)),
    ctx.db.select().from(orchestrationDnsRecords).where(bySite(orchestrationDnsRecords)),
  ]);
  return { vlans, scopes, reservations, dns };
}

export interface AlignmentItem {
  /** `vlan:20`, `dhcp_scope:20:4`, `dhcp_reservation:20:00:11:22:33:44:55`, `dns_record:nas.home.arpa`, `device:<id>`. */
  key: string;
  kind: ResourceKind;
  name: string;
  vlan_id: number | null;
  device_id: string;
  device_name: string;
  role: 'brain' | 'limb';
  status: AlignmentStatus;
  /** The canonical values compared (null: not canonical). */
  expected: Record<string, unknown> | null;
  /** The device's values compared (null: not on the device). */
  actual: Record<string, unknown> | null;
  /** Fields that differ (for `modified`). */
  differences: string[];
  message: string | null;
}

export const vlanKey = (vlanId: number) => `vlan:${vlanId}`;
export const scopeKey = (vlanId: number, family: number) => `dhcp_scope:${vlanId}:${family}`;
export const reservationKey = (vlanId: number, mac: string) => `dhcp_reservation:${vlanId}:${mac}`;
export const dnsKey = (host: string, domain: string) => `dns_record:${host}.${domain}`;

/** Canonical values of each resource, in the shape compared with the device's. */
export interface Expected {
  key: string;
  kind: Exclude<ResourceKind, 'device'>;
  name: string;
  vlan_id: number | null;
  values: Record<string, unknown>;
  /** Whether the brain must hold it (an L2-only VLAN needs no brain interface). */
  onBrain: boolean;
}

export function expectedOf(snapshot: CanonicalSnapshot): Expected[] {
  const out: Expected[] = [];
  const tagOf = new Map(snapshot.vlans.map((v) => [v.id, v.vlanId]));
  for (const v of snapshot.vlans) {
    out.push({
      key: vlanKey(v.vlanId),
      kind: 'vlan',
      name: v.name,
      vlan_id: v.vlanId,
      values: { name: v.name, ipv4_subnet: v.ipv4Subnet, ipv6_subnet: v.ipv6Subnet },
      onBrain: v.ipv4Subnet !== null || v.ipv6Subnet !== null,
    });
  }
  const scopeVlan = new Map<string, number>();
  for (const s of snapshot.scopes) {
    const tag = tagOf.get(s.canonicalVlanId) as number;
    scopeVlan.set(s.id, tag);
    // The live DHCP reads are IPv4 (LiveDhcpScope): an IPv6 scope is not compared with a device.
    if (s.ipVersion !== 4) continue;
    out.push({
      key: scopeKey(tag, 4),
      kind: 'dhcp_scope',
      name: `VLAN ${tag} DHCP`,
      vlan_id: tag,
      values: { range_start: s.rangeStart, range_end: s.rangeEnd },
      onBrain: true,
    });
  }
  for (const r of snapshot.reservations) {
    const tag = scopeVlan.get(r.scopeId) as number;
    out.push({
      key: reservationKey(tag, r.mac),
      kind: 'dhcp_reservation',
      name: r.hostname ?? r.mac,
      vlan_id: tag,
      values: { mac: r.mac, ip_address: r.ipAddress, hostname: r.hostname },
      onBrain: true,
    });
  }
  const dns = new Map<string, { host: string; domain: string; ips: string[] }>();
  for (const d of snapshot.dns) {
    const key = dnsKey(d.host, d.domain);
    const entry = dns.get(key) ?? { host: d.host, domain: d.domain, ips: [] };
    entry.ips.push(d.ipAddress);
    dns.set(key, entry);
  }
  for (const [key, d] of dns) {
    out.push({
      key,
      kind: 'dns_record',
      name: `${d.host}.${d.domain}`,
      vlan_id: null,
      values: { host: d.host, domain: d.domain, ip_addresses: [...d.ips].sort() },
      onBrain: true,
    });
  }
  return out;
}

/** The brain's resources in the compared shape, with the device's full values kept for adoption. */
export interface Actual {
  key: string;
  kind: Exclude<ResourceKind, 'device'>;
  name: string;
  vlan_id: number | null;
  values: Record<string, unknown>;
}

export function brainActual(inventory: DeviceInventory): Actual[] {
  const out: Actual[] = [];
  for (const v of inventory.vlans) {
    out.push({
      key: vlanKey(v.vlan_id),
      kind: 'vlan',
      name: v.name,
      vlan_id: v.vlan_id,
      values: { name: v.name, ipv4_subnet: v.ipv4_subnet, ipv6_subnet: v.ipv6_subnet },
    });
  }
  for (const s of inventory.dhcp_scopes) {
    out.push({
      key: scopeKey(s.vlan_id, 4),
      kind: 'dhcp_scope',
      name: `VLAN ${s.vlan_id} DHCP`,
      vlan_id: s.vlan_id,
      values: { range_start: s.range_start, range_end: s.range_end },
    });
  }
  for (const r of inventory.dhcp_reservations) {
    out.push({
      key: reservationKey(r.vlan_id, r.mac),
      kind: 'dhcp_reservation',
      name: r.hostname ?? r.mac,
      vlan_id: r.vlan_id,
      values: { mac: r.mac, ip_address: r.ip_address, hostname: r.hostname },
    });
  }
  const dns = new Map<string, Actual>();
  for (const d of inventory.dns_records) {
    const key = dnsKey(d.host, d.domain);
    const seen = dns.get(key);
    const ips = [...new Set([...((seen?.values.ip_addresses as string[] | undefined) ?? []), ...d.ip_addresses])].sort();
    dns.set(key, { key, kind: 'dns_record', name: `${d.host}.${d.domain}`, vlan_id: null, values: { host: d.host, domain: d.domain, ip_addresses: ips } });
  }
  out.push(...dns.values());
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function differences(expected: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  return Object.keys(expected).filter((field) => !same(expected[field], actual[field]));
}

const deviceOf = (inv: DeviceInventory, role: 'brain' | 'limb') => ({ device_id: inv.gateway_id, device_name: inv.name, role });

function unreachable(inv: DeviceInventory, role: 'brain' | 'limb'): AlignmentItem {
  return {
    key: `device:${inv.gateway_id}`,
    kind: 'device',
    name: inv.name,
    vlan_id: null,
    ...deviceOf(inv, role),
    status: 'error',
    expected: null,
    actual: null,
    differences: [],
    message: inv.error ? `${inv.name} could not be read: ${inv.error.message}` : `${inv.name} could not be read`,
  };
}

/** Per resource of the brain: canonical versus device. */
export function compareBrain(expected: Expected[], brain: DeviceInventory): AlignmentItem[] {
  if (!brain.reachable) return [unreachable(brain, 'brain')];
  const actual = new Map(brainActual(brain).map((a) => [a.key, a]));
  const items: AlignmentItem[] = [];
  for (const e of expected) {
    const a = actual.get(e.key);
    actual.delete(e.key);
    if (!a && !e.onBrain) continue;
    const base = { key: e.key, kind: e.kind, name: e.name, vlan_id: e.vlan_id, ...deviceOf(brain, 'brain'), expected: e.values };
    if (!a) {
      items.push({ ...base, status: 'missing', actual: null, differences: [], message: `${e.name} is canonical but not on ${brain.name}` });
      continue;
    }
    const diff = differences(e.values, a.values);
    items.push({
      ...base,
      status: diff.length === 0 ? 'aligned' : 'modified',
      actual: a.values,
      differences: diff,
      message: diff.length === 0 ? null : `${e.name} differs on ${brain.name}: ${diff.join(', ')}`,
    });
  }
  for (const a of actual.values()) {
    items.push({
      key: a.key,
      kind: a.kind,
      name: a.name,
      vlan_id: a.vlan_id,
      ...deviceOf(brain, 'brain'),
      status: 'extra',
      expected: null,
      actual: a.values,
      differences: [],
      message: `${a.name} is on ${brain.name} but not canonical`,
    });
  }
  return items;
}

/** Per VLAN of a limb: canonical VLANs carried on its bridges or not, and VLANs it carries that are not canonical. */
export function compareLimb(snapshot: CanonicalSnapshot, limb: DeviceInventory): AlignmentItem[] {
  if (!limb.reachable) return [unreachable(limb, 'limb')];
  const carried = new Map<number, DeviceInventory['bridge_vlans'][number]>();
  for (const b of limb.bridge_vlans) if (!carried.has(b.vlan_id)) carried.set(b.vlan_id, b);
  const items: AlignmentItem[] = [];
  for (const v of snapshot.vlans) {
    const b = carried.get(v.vlanId);
    carried.delete(v.vlanId);
    items.push({
      key: vlanKey(v.vlanId),
      kind: 'vlan',
      name: v.name,
      vlan_id: v.vlanId,
      ...deviceOf(limb, 'limb'),
      status: b ? 'aligned' : 'missing',
      expected: { vlan_id: v.vlanId },
      actual: b ? { vlan_id: b.vlan_id, bridge: b.bridge, tagged: b.tagged, untagged: b.untagged } : null,
      differences: [],
      message: b ? null : `VLAN ${v.vlanId} is canonical but no bridge of ${limb.name} carries it`,
    });
  }
  for (const b of carried.values()) {
    items.push({
      key: vlanKey(b.vlan_id),
      kind: 'vlan',
      name: b.description || `VLAN ${b.vlan_id}`,
      vlan_id: b.vlan_id,
      ...deviceOf(limb, 'limb'),
      status: 'extra',
      expected: null,
      actual: { vlan_id: b.vlan_id, bridge: b.bridge, tagged: b.tagged, untagged: b.untagged },
      differences: [],
      message: `VLAN ${b.vlan_id} is carried on ${limb.name} but not canonical`,
    });
  }
  return items;
}

export interface AlignmentReport {
  site_id: string;
  counts: Record<AlignmentStatus, number>;
  /** Aligned share of the items that could be measured (errors excluded), in percent. */
  score: number;
  items: AlignmentItem[];
  skipped: Array<{ device_id: string; what: string; capability: string; reason: string }>;
}

export function alignmentReport(
  siteId: string,
  snapshot: CanonicalSnapshot,
  brain: DeviceInventory | null,
  limbs: DeviceInventory[],
): AlignmentReport {
  const expected = expectedOf(snapshot);
  const items = [...(brain ? compareBrain(expected, brain) : []), ...limbs.flatMap((limb) => compareLimb(snapshot, limb))];
  const counts = Object.fromEntries(ALIGNMENT_STATUSES.map((s) => [s, 0])) as Record<AlignmentStatus, number>;
  for (const item of items) counts[item.status]++;
  const measured = items.length - counts.error;
  return {
    site_id: siteId,
    counts,
    score: measured === 0 ? 100 : Math.round((counts.aligned / measured) * 1000) / 10,
    items,
    skipped: [brain, ...limbs]
      .filter((inv): inv is DeviceInventory => inv !== null)
      .flatMap((inv) => inv.skipped.map((s) => ({ device_id: inv.gateway_id, ...s }))),
  };
}
