/**
 * @module The drift sources of orchestration's canonical state (docs/drift.md, ADRs 0275, 0276): the site's brain
 * is compared with the canonical VLANs (its VLAN interfaces), DHCP scopes and reservations (its DHCP servers and
 * static mappings on those interfaces) and DNS records (its host overrides); each limb with the VLANs it must carry
 * on its bridge. The expectation is the canonical state, not a baseline: a site's intent is stated once, in
 * Portcullis, and every device of the role map is held to it from its first check.
 *
 * Who is checked follows the role map (src/orchestration/topology.ts): brain sources run on the brain when the
 * authority map gives the brain that resource (`vlan_interface`, `dhcp`, `dns`), the bridge VLAN source on each limb
 * when Portcullis owns the L2 plan (`vlan_l2: portcullis`). A gateway in no role map has no canonical drift.
 *
 * Resources are keyed by what the canonical state and the device share: the VLAN id (`vlan:<id>`, a VLAN
 * interface's tag, the VLAN of the interface a DHCP server runs on), `vlan:<id>/<mac>` for a reservation, the
 * name (`host.domain`) for a DNS record. Only objects on VLAN interfaces are in scope of DHCP (the brain's LAN
 * and WAN servers are not the canonical state's). Severities (ADR 0276) say what the divergence does: a VLAN
 * interface or its DHCP server missing or disabled, a VLAN a limb no longer carries → critical.
 */
import { and, eq } from 'drizzle-orm';
import type { LiveBridgeVlan, LiveDhcpScope, LiveDhcpStaticMapping, LiveDnsOverride, LiveVlanInterface } from '../../adapters/live.ts';
import type { LiveWrite } from '../../adapters/live-write.ts';
import type { ServiceContext } from '../../core/context.ts';
import { ConflictError } from '../../errors.ts';
import { cidrBounds, cidrContains, formatIp, normalizeCidr, normalizeIp, parseCidrResult, parseIp } from '../../net/ip.ts';
import {
  orchestrationDhcpReservations,
  orchestrationDhcpScopes,
  orchestrationDnsRecords,
  orchestrationVlans,
} from '../../store/schema/orchestration.ts';
import type { DriftEventRef, DriftFinding, DriftResource, DriftSeverity, DriftSource, Membership } from './model.ts';
import { sameValue } from './model.ts';

const vlanKey = (id: number) => `vlan:${id}`;

/** The network of an interface address (`10.20.0.1/24` → `10.20.0.0/24`), or null. */
const networkOf = (address: string | null): string | null => (address === null ? null : normalizeCidr(address));

/** The first usable host of a canonical subnet with its prefix (the gateway address a re-created interface gets). */
function firstHost(subnet: string): string {
  const parsed = parseCidrResult(subnet);
  if (!parsed.ok) throw new Error(`stored prefix ${subnet} does not parse`);
  const { cidr } = parsed;
  const first = cidrBounds(cidr).first;
  const host = cidr.family === 4 ? { family: 4 as const, value: (first as number) + 1 } : { family: 6 as const, value: (first as bigint) + 1n };
  return `${formatIp(host)}/${cidr.prefix}`;
}

/** Whether `address` (with its prefix) lies in `subnet`, keeping its prefix; null addresses never do. */
function addressIn(address: string | null, subnet: string): boolean {
  if (address === null) return false;
  const outer = parseCidrResult(subnet);
  const ip = parseIp(address.split('/')[0] ?? '');
  return outer.ok && ip !== null && cidrContains(outer.cidr, ip) && networkOf(address) === subnet;
}

const normalMac = (mac: string) => mac.toLowerCase().replace(/-/g, ':');
const normalIp = (ip: string) => normalizeIp(ip) ?? ip;

/** The value most items share (the trunk port, the bridge), first seen on a tie; null for none. */
function mostCommon(values: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  for (const [v, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = v;
  return best;
}

interface CompareRule {
  resourceType: string;
  label: string;
  missing: DriftSeverity;
  added: DriftSeverity;
  /** Changed fields and the severity each carries (the highest found wins). */
  fields: ReadonlyArray<readonly [string, DriftSeverity]>;
}

const RANK: Record<DriftSeverity, number> = { info: 0, warning: 1, critical: 2 };

function compareWith(rule: CompareRule, expected: DriftResource | null, actual: DriftResource | null): DriftFinding[] {
  const subject = expected ?? actual;
  if (subject === null) return [];
  const base = { resourceType: rule.resourceType, key: subject.key, name: subject.name };
  if (expected !== null && actual === null) {
    return [{ ...base, driftType: 'resource_missing', severity: rule.missing, message: `${rule.label} ${expected.name} of the canonical state is missing on the gateway`, expected: expected.body, actual: null, details: {} }];
  }
  if (expected === null && actual !== null) {
    return [{ ...base, driftType: 'resource_added', severity: rule.added, message: `${rule.label} ${actual.name} is on the gateway but not in the canonical state`, expected: null, actual: actual.body, details: {} }];
  }
  if (expected === null || actual === null) return [];
  const changed = rule.fields.filter(([field]) => !sameValue(expected.body[field], actual.body[field]));
  if (changed.length === 0) return [];
  const severity = changed.reduce<DriftSeverity>((worst, [, s]) => (RANK[s] > RANK[worst] ? s : worst), 'info');
  const fields = changed.map(([field]) => field);
  return [{ ...base, driftType: 'resource_modified', severity, message: `${rule.label} ${expected.name} differs from the canonical state: ${fields.join(', ')}`, expected: expected.body, actual: actual.body, details: { fields } }];
}

/** The write that deletes what the device has but the canonical state does not (added, or a forbidden resource). */
function deleteOf(kind: LiveWrite['kind'], event: DriftEventRef): LiveWrite {
  const target = event.actual?.target;
  if (typeof target !== 'string') throw new ConflictError(`${event.resourceName} has no write target on the gateway`);
  return { kind, op: 'delete', target, body: {} } as LiveWrite;
}

const removes = (event: DriftEventRef) => event.driftType === 'resource_added' || event.driftType === 'suppression_violated';

const liveRead = <T>(read: (() => Promise<{ items: T[] }>) | undefined, what: string): Promise<{ items: T[] }> => {
  // The capability flag promised the read: a vendor without the method is a descriptor bug, not a device fault.
  if (read === undefined) throw new Error(`the live view offers no ${what} read although its flag is set`);
  return read();
};

// ---------------------------------------------------------------------------------------------------------------
// The canonical state of a site

interface CanonicalVlan {
  vlanId: number;
  name: string;
  description: string;
  ipv4Subnet: string | null;
  ipv6Subnet: string | null;
}

interface BrainContext {
  vlans: CanonicalVlan[];
  /** Filled by the read: the VLAN interfaces the brain has, by tag (their interface ids and targets). */
  interfaces: Map<number, LiveVlanInterface>;
}

async function canonicalVlans(ctx: ServiceContext, siteId: string): Promise<CanonicalVlan[]> {
  const t = orchestrationVlans;
  return ctx.db
    .select({ vlanId: t.vlanId, name: t.name, description: t.description, ipv4Subnet: t.ipv4Subnet, ipv6Subnet: t.ipv6Subnet })
    .from(t)
    .where(and(eq(t.orgId, ctx.orgId), eq(t.siteId, siteId)))
    .orderBy(t.vlanId);
}

async function brainContext(ctx: ServiceContext, siteId: string): Promise<BrainContext> {
  return { vlans: await canonicalVlans(ctx, siteId), interfaces: new Map() };
}

/** Reads the brain's VLAN interfaces into the context (first one per tag); the id a DHCP object names → tag. */
async function readInterfaces(live: Parameters<DriftSource<unknown>['read']>[0], context: BrainContext): Promise<Map<string, number>> {
  const items = (await liveRead(live.vlanInterfaces?.bind(live), 'VLAN interface')).items;
  context.interfaces.clear();
  for (const item of items) if (!context.interfaces.has(item.tag)) context.interfaces.set(item.tag, item);
  const tagOf = new Map<string, number>();
  for (const item of context.interfaces.values()) if (item.interface_id !== null) tagOf.set(item.interface_id, item.tag);
  return tagOf;
}

const onBrain = (key: keyof Membership['authorityMap']) => (m: Membership) => m.role === 'brain' && m.authorityMap[key] === 'brain';

function interfaceOf(context: BrainContext, vlanId: number, what: string): string {
  const iface = context.interfaces.get(vlanId)?.interface_id;
  if (iface === undefined || iface === null) {
    throw new ConflictError(`${what} cannot be restored: the brain has no VLAN interface for VLAN ${vlanId}; reapply that first`);
  }
  return iface;
}

// ---------------------------------------------------------------------------------------------------------------
// VLAN interfaces on the brain

const VLAN_INTERFACE: CompareRule = {
  resourceType: 'vlan_interface',
  label: 'VLAN interface',
  missing: 'critical',
  added: 'warning',
  fields: [
    ['ipv4_subnet', 'critical'],
    ['ipv6_subnet', 'critical'],
    ['is_enabled', 'critical'],
  ],
};

/** pfSense and OPNsense name an interface with letters, digits and `_` (docs/reference/brain-l3.md §1). */
const interfaceName = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 16) || 'VLAN';

export const vlanInterfaceSource: DriftSource<BrainContext> = {
  resourceType: 'vlan_interface',
  readCapabilities: ['read.vlan_interfaces'],
  writeKind: 'vlan_interface',
  expectation: {
    applies: onBrain('vlan_interface'),
    // An L2-only VLAN (no subnet) is not routed by the brain: it has no interface there.
    expected: (context) =>
      context.vlans
        .filter((v) => v.ipv4Subnet !== null || v.ipv6Subnet !== null)
        .map((v) => ({
          key: vlanKey(v.vlanId),
          name: `VLAN ${v.vlanId} (${v.name})`,
          body: { vlan_id: v.vlanId, name: v.name, description: v.description, ipv4_subnet: v.ipv4Subnet, ipv6_subnet: v.ipv6Subnet, is_enabled: true },
        })),
  },
  context: (ctx, _gatewayId, siteId) => brainContext(ctx, siteId),
  async read(live, context) {
    await readInterfaces(live, context);
    return [...context.interfaces.values()].map((i) => ({
      key: vlanKey(i.tag),
      name: `VLAN ${i.tag} (${i.name})`,
      body: {
        vlan_id: i.tag,
        ipv4_subnet: networkOf(i.ipv4),
        ipv6_subnet: networkOf(i.ipv6),
        is_enabled: i.is_enabled,
        target: i.target,
        parent: i.parent,
        name: i.name,
        description: i.description,
        ipv4: i.ipv4,
        ipv6: i.ipv6,
      },
    }));
  },
  baselineOf: (actual) => actual,
  compare: (expected, actual) => compareWith(VLAN_INTERFACE, expected, actual),
  remedy(event, expectedList, actualList) {
    if (removes(event)) return deleteOf('vlan_interface', event);
    const want = expectedList.find((r) => r.key === event.resourceKey)?.body;
    if (want === undefined) throw new ConflictError(`${event.resourceName} is no longer in the canonical state`);
    const v4 = want.ipv4_subnet as string | null;
    const v6 = want.ipv6_subnet as string | null;
    const have = actualList.find((r) => r.key === event.resourceKey)?.body;
    if (have !== undefined && typeof have.target === 'string') {
      // Keep the device's own address where it is already in the canonical subnet (it may not be the first host).
      const ipv4 = v4 === null ? null : addressIn(have.ipv4 as string | null, v4) ? (have.ipv4 as string) : firstHost(v4);
      const ipv6 = v6 === null ? null : addressIn(have.ipv6 as string | null, v6) ? (have.ipv6 as string) : firstHost(v6);
      const body = { parent: have.parent as string, tag: want.vlan_id as number, name: have.name as string, ipv4, ipv6, description: have.description as string, is_enabled: true };
      return { kind: 'vlan_interface', op: 'update', target: have.target, body };
    }
    // Re-created on the trunk the brain's other VLANs use; with none there is no port to choose.
    const parent = mostCommon(actualList.map((r) => r.body.parent).filter((p): p is string => typeof p === 'string'));
    if (parent === null) {
      throw new ConflictError(`${event.resourceName} cannot be re-created: the brain has no other VLAN interface to take the parent port from; create it once through a live write`);
    }
    const body = {
      parent,
      tag: want.vlan_id as number,
      name: interfaceName(want.name as string),
      ipv4: v4 === null ? null : firstHost(v4),
      ipv6: v6 === null ? null : firstHost(v6),
      description: want.description as string,
      is_enabled: true,
    };
    return { kind: 'vlan_interface', op: 'create', target: null, body };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// DHCP scopes on the brain (DHCPv4: the live scope is the DHCPv4 server of an interface)

interface DhcpContext extends BrainContext {
  scopes: Array<{ vlanId: number; rangeStart: string; rangeEnd: string }>;
  reservations: Array<{ vlanId: number; mac: string; ipAddress: string; hostname: string | null; description: string }>;
}

async function dhcpContext(ctx: ServiceContext, siteId: string): Promise<DhcpContext> {
  const s = orchestrationDhcpScopes;
  const v = orchestrationVlans;
  const r = orchestrationDhcpReservations;
  const scopes = await ctx.db
    .select({ vlanId: v.vlanId, rangeStart: s.rangeStart, rangeEnd: s.rangeEnd })
    .from(s)
    .innerJoin(v, eq(v.id, s.canonicalVlanId))
    .where(and(eq(s.orgId, ctx.orgId), eq(s.siteId, siteId), eq(s.ipVersion, 4)))
    .orderBy(v.vlanId);
  const reservations = await ctx.db
    .select({ vlanId: v.vlanId, mac: r.mac, ipAddress: r.ipAddress, hostname: r.hostname, description: r.description })
    .from(r)
    .innerJoin(s, eq(s.id, r.scopeId))
    .innerJoin(v, eq(v.id, s.canonicalVlanId))
    .where(and(eq(r.orgId, ctx.orgId), eq(r.siteId, siteId), eq(s.ipVersion, 4)))
    .orderBy(v.vlanId, r.mac);
  return { ...(await brainContext(ctx, siteId)), scopes, reservations };
}

const DHCP_SCOPE: CompareRule = {
  resourceType: 'dhcp_scope',
  label: 'DHCP scope of',
  missing: 'critical',
  added: 'warning',
  fields: [
    ['range_from', 'warning'],
    ['range_to', 'warning'],
    ['is_enabled', 'critical'],
  ],
};

export const dhcpScopeSource: DriftSource<DhcpContext> = {
  resourceType: 'dhcp_scope',
  readCapabilities: ['read.dhcp_scopes', 'read.vlan_interfaces'],
  writeKind: 'dhcp_scope',
  expectation: {
    applies: onBrain('dhcp'),
    expected: (context) =>
      context.scopes.map((s) => ({
        key: vlanKey(s.vlanId),
        name: `VLAN ${s.vlanId}`,
        body: { vlan_id: s.vlanId, range_from: s.rangeStart, range_to: s.rangeEnd, is_enabled: true },
      })),
  },
  context: (ctx, _gatewayId, siteId) => dhcpContext(ctx, siteId),
  async read(live, context) {
    const tagOf = await readInterfaces(live, context);
    const out: DriftResource[] = [];
    for (const scope of (await liveRead<LiveDhcpScope>(live.dhcpScopes?.bind(live), 'DHCP scope')).items) {
      const tag = tagOf.get(scope.interface);
      if (tag === undefined) continue;
      out.push({
        key: vlanKey(tag),
        name: `VLAN ${tag}`,
        body: { vlan_id: tag, range_from: normalIp(scope.range_from), range_to: normalIp(scope.range_to), is_enabled: scope.is_enabled, target: scope.target, interface: scope.interface, gateway: scope.gateway, dns_servers: scope.dns_servers },
      });
    }
    return out;
  },
  baselineOf: (actual) => actual,
  compare: (expected, actual) => compareWith(DHCP_SCOPE, expected, actual),
  remedy(event, expectedList, actualList, context) {
    if (removes(event)) return deleteOf('dhcp_scope', event);
    const want = expectedList.find((r) => r.key === event.resourceKey)?.body;
    if (want === undefined) throw new ConflictError(`the DHCP scope of ${event.resourceName} is no longer in the canonical state`);
    const have = actualList.find((r) => r.key === event.resourceKey)?.body;
    const range = { range_from: want.range_from as string, range_to: want.range_to as string, is_enabled: true };
    if (have !== undefined && typeof have.target === 'string') {
      const body = { interface: have.interface as string, gateway: (have.gateway as string | null) ?? null, dns_servers: (have.dns_servers as string[]) ?? [], ...range };
      return { kind: 'dhcp_scope', op: 'update', target: have.target, body };
    }
    const body = { interface: interfaceOf(context, want.vlan_id as number, `the DHCP scope of ${event.resourceName}`), gateway: null, dns_servers: [], ...range };
    return { kind: 'dhcp_scope', op: 'create', target: null, body };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// DHCP reservations on the brain (static mappings of the DHCP server of a VLAN interface)

const DHCP_RESERVATION: CompareRule = {
  resourceType: 'dhcp_reservation',
  label: 'DHCP reservation',
  missing: 'warning',
  added: 'info',
  fields: [
    ['ip', 'warning'],
    ['hostname', 'info'],
  ],
};

export const dhcpReservationSource: DriftSource<DhcpContext> = {
  resourceType: 'dhcp_reservation',
  readCapabilities: ['read.dhcp_static_mappings', 'read.vlan_interfaces'],
  writeKind: 'dhcp_static_mapping',
  expectation: {
    applies: onBrain('dhcp'),
    expected: (context) =>
      context.reservations.map((r) => ({
        key: `${vlanKey(r.vlanId)}/${r.mac}`,
        name: `${r.mac} on VLAN ${r.vlanId}`,
        // A reservation without a hostname leaves the device's free: only a stated one is compared.
        body: { vlan_id: r.vlanId, mac: r.mac, ip: r.ipAddress, ...(r.hostname === null ? {} : { hostname: r.hostname }), description: r.description },
      })),
  },
  context: (ctx, _gatewayId, siteId) => dhcpContext(ctx, siteId),
  async read(live, context) {
    const tagOf = await readInterfaces(live, context);
    const wantsHostname = new Set(context.reservations.filter((r) => r.hostname !== null).map((r) => `${vlanKey(r.vlanId)}/${r.mac}`));
    const out: DriftResource[] = [];
    for (const m of (await liveRead<LiveDhcpStaticMapping>(live.dhcpStaticMappings?.bind(live), 'DHCP static mapping')).items) {
      const tag = tagOf.get(m.interface);
      if (tag === undefined) continue;
      const mac = normalMac(m.mac);
      const key = `${vlanKey(tag)}/${mac}`;
      out.push({
        key,
        name: `${mac} on VLAN ${tag}`,
        body: { vlan_id: tag, mac, ip: normalIp(m.ip), ...(wantsHostname.has(key) ? { hostname: m.hostname } : {}), target: m.target, interface: m.interface, device_hostname: m.hostname, device_description: m.description },
      });
    }
    return out;
  },
  baselineOf: (actual) => actual,
  compare: (expected, actual) => compareWith(DHCP_RESERVATION, expected, actual),
  remedy(event, expectedList, actualList, context) {
    if (removes(event)) return deleteOf('dhcp_static_mapping', event);
    const want = expectedList.find((r) => r.key === event.resourceKey)?.body;
    if (want === undefined) throw new ConflictError(`reservation ${event.resourceName} is no longer in the canonical state`);
    const have = actualList.find((r) => r.key === event.resourceKey)?.body;
    const body = {
      interface: (have?.interface as string | undefined) ?? interfaceOf(context, want.vlan_id as number, `reservation ${event.resourceName}`),
      mac: want.mac as string,
      ip: want.ip as string,
      hostname: (want.hostname as string | undefined) ?? (have?.device_hostname as string | undefined) ?? '',
      description: (want.description as string) || ((have?.device_description as string | undefined) ?? ''),
    };
    if (have !== undefined && typeof have.target === 'string') return { kind: 'dhcp_static_mapping', op: 'update', target: have.target, body };
    return { kind: 'dhcp_static_mapping', op: 'create', target: null, body };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// DNS host overrides on the brain

interface DnsContext {
  /** `host.domain` (lower case) → the canonical addresses and first description. */
  names: Map<string, { host: string; domain: string; ips: string[]; description: string }>;
}

const fqdn = (host: string, domain: string) => `${host}.${domain}`.toLowerCase();

const DNS_OVERRIDE: CompareRule = {
  resourceType: 'dns_override',
  label: 'DNS override',
  missing: 'warning',
  added: 'info',
  fields: [['ip', 'warning']],
};

export const dnsOverrideSource: DriftSource<DnsContext> = {
  resourceType: 'dns_override',
  readCapabilities: ['read.dns_overrides'],
  writeKind: 'dns_override',
  expectation: {
    applies: onBrain('dns'),
    expected: (context) =>
      [...context.names.entries()].map(([name, r]) => ({ key: name, name, body: { host: r.host, domain: r.domain, ip: [...r.ips].sort() } })),
  },
  async context(ctx, _gatewayId, siteId) {
    const t = orchestrationDnsRecords;
    const rows = await ctx.db
      .select({ host: t.host, domain: t.domain, ipAddress: t.ipAddress, description: t.description })
      .from(t)
      .where(and(eq(t.orgId, ctx.orgId), eq(t.siteId, siteId)))
      .orderBy(t.host, t.domain, t.ipAddress);
    const names: DnsContext['names'] = new Map();
    for (const row of rows) {
      const key = fqdn(row.host, row.domain);
      const entry = names.get(key) ?? { host: row.host.toLowerCase(), domain: row.domain.toLowerCase(), ips: [], description: row.description };
      entry.ips.push(normalIp(row.ipAddress));
      names.set(key, entry);
    }
    return { names };
  },
  async read(live) {
    const seen = new Set<string>();
    const out: DriftResource[] = [];
    for (const o of (await liveRead<LiveDnsOverride>(live.dnsOverrides?.bind(live), 'DNS override')).items) {
      const key = fqdn(o.host, o.domain);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ key, name: key, body: { host: o.host.toLowerCase(), domain: o.domain.toLowerCase(), ip: o.ip.map(normalIp).sort(), target: o.target, description: o.description } });
    }
    return out;
  },
  baselineOf: (actual) => actual,
  compare: (expected, actual) => compareWith(DNS_OVERRIDE, expected, actual),
  remedy(event, expectedList, actualList, context) {
    if (removes(event)) return deleteOf('dns_override', event);
    const want = context.names.get(event.resourceKey);
    if (want === undefined || !expectedList.some((r) => r.key === event.resourceKey)) {
      throw new ConflictError(`DNS override ${event.resourceName} is no longer in the canonical state`);
    }
    const have = actualList.find((r) => r.key === event.resourceKey)?.body;
    const body = { host: want.host, domain: want.domain, ip: [...want.ips].sort(), description: (have?.description as string | undefined) ?? want.description };
    if (have !== undefined && typeof have.target === 'string') return { kind: 'dns_override', op: 'update', target: have.target, body };
    return { kind: 'dns_override', op: 'create', target: null, body };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Bridge VLANs on the limbs

interface LimbContext {
  vlans: CanonicalVlan[];
}

const BRIDGE_VLAN: CompareRule = {
  resourceType: 'bridge_vlan',
  label: 'Bridge VLAN',
  missing: 'critical',
  added: 'warning',
  // Which ports carry it is the limb's (port_profile authority): only whether the VLAN is carried is compared.
  fields: [],
};

export const bridgeVlanSource: DriftSource<LimbContext> = {
  resourceType: 'bridge_vlan',
  readCapabilities: ['read.bridge_vlans'],
  writeKind: 'bridge_vlan',
  expectation: {
    applies: (m) => m.role === 'limb' && m.authorityMap.vlan_l2 === 'portcullis',
    expected: (context) =>
      context.vlans.map((v) => ({ key: vlanKey(v.vlanId), name: `VLAN ${v.vlanId} (${v.name})`, body: { vlan_id: v.vlanId, name: v.name } })),
  },
  context: async (ctx, _gatewayId, siteId) => ({ vlans: await canonicalVlans(ctx, siteId) }),
  async read(live) {
    const out = new Map<string, DriftResource>();
    for (const b of (await liveRead<LiveBridgeVlan>(live.bridgeVlans?.bind(live), 'bridge VLAN')).items) {
      // A dynamic entry (no write target: a bridge's own PVID) is the device's, not part of the L2 plan.
      if (b.write_target === null) continue;
      const key = vlanKey(b.vlan_id);
      if (out.has(key)) continue;
      out.set(key, {
        key,
        name: `VLAN ${b.vlan_id}${b.description ? ` (${b.description})` : ''}`,
        body: { vlan_id: b.vlan_id, target: b.write_target, bridge: b.bridge, tagged: b.tagged, untagged: b.untagged },
      });
    }
    return [...out.values()];
  },
  baselineOf: (actual) => actual,
  compare: (expected, actual) => compareWith(BRIDGE_VLAN, expected, actual),
  remedy(event, expectedList, actualList) {
    if (removes(event)) return deleteOf('bridge_vlan', event);
    const want = expectedList.find((r) => r.key === event.resourceKey)?.body;
    if (want === undefined) throw new ConflictError(`${event.resourceName} is no longer in the canonical state`);
    // Back on the bridge the limb's other VLANs use, tagged on the ports that tag all of them (its trunks).
    const bridge = mostCommon(actualList.map((r) => r.body.bridge).filter((b): b is string => typeof b === 'string'));
    const peers = actualList.filter((r) => r.body.bridge === bridge);
    const trunks = peers.reduce<string[] | null>((acc, r) => {
      const tagged = (r.body.tagged as string[]) ?? [];
      return acc === null ? [...tagged] : acc.filter((p) => tagged.includes(p));
    }, null);
    if (bridge === null || trunks === null || trunks.length === 0) {
      throw new ConflictError(`${event.resourceName} cannot be restored on this limb: no other bridge VLAN shows its trunk ports; distribute it instead`);
    }
    // No description: OpenWrt's bridge-vlan section has no option for one (docs/adr/0257-openwrt-bridge-vlans-in-network-with-rollback.md).
    const body = { bridge, vlan_id: want.vlan_id as number, tagged: [...trunks].sort(), untagged: [], description: '' };
    return { kind: 'bridge_vlan', op: 'create', target: null, body };
  },
};

export const CANONICAL_SOURCES = [vlanInterfaceSource, dhcpScopeSource, dhcpReservationSource, dnsOverrideSource, bridgeVlanSource];
