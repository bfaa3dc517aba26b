/**
 * @module The orchestration dashboard roll-up (`GET /api/v1/firewall/dashboard/overview`,
 * docs/reference/freesdn-firewall-module.md §18, docs/orchestration.md): gateway counts, sites with a role map,
 * canonical VLAN count, the drift summary, and per orchestrated site a cached, read-only snapshot of what the last
 * sync of its brain stored (rules, NAT, VPN tunnels, IDS events, interfaces). Nothing here calls a device: the
 * snapshots are the synced tables with their sync time, for visibility, not live reads.
 *
 * Each part is scoped to the sites the caller holds the part's permission on (§20, §21): the roll-up to
 * `gateway.view`, the drift summary to `gateway.drift`, the snapshots to `firewall.view` (they are firewall
 * objects); a site outside a part's scope contributes nothing to it.
 */
import { and, count, desc, eq, inArray, isNull, max, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { ServiceContext } from '../core/context.ts';
import type { SiteScope } from '../firewall/objects.ts';
import { gateways } from '../store/schema/access.ts';
import {
  firewallIdsAlerts,
  firewallInterfaces,
  firewallNatRules,
  firewallRules,
  firewallVpnTunnels,
} from '../store/schema/firewall.ts';
import {
  orchestrationTopologies,
  orchestrationTopologyMembers,
  orchestrationVlans,
} from '../store/schema/orchestration.ts';
import { sites } from '../store/schema/tenancy.ts';
import { driftSummary, type DriftSummary } from './drift/service.ts';

/** Items a snapshot lists at most (the count is always the full one). */
export const SNAPSHOT_ITEMS = 50;

/**
 * Why the DHCP lease snapshot is absent: gateway sync stores no leases (src/firewall/sync.ts reads rules, NAT,
 * VPN, interfaces, aliases, logs and IDS alerts); leases are only a live read of the gateway.
 */
export const DHCP_LEASES_ABSENT =
  'gateway sync does not store DHCP leases; read them live with GET /api/v1/firewall/gateways/{id}/dhcp';

export interface Snapshot<T> {
  /** Rows the last syncs stored (still present on the device). */
  count: number;
  /** The newest of the rows' sync times; null when nothing was synced. */
  last_synced_at: Date | null;
  items: T[];
}

export interface SiteOverview {
  site_id: string;
  site_name: string;
  brain: {
    gateway_id: string;
    name: string;
    vendor: string;
    is_online: boolean | null;
    sync_status: string;
    last_sync_at: Date | null;
  } | null;
  limbs: number;
  canonical_vlans: number;
  /** Null when the caller lacks `firewall.view` on the site or the site has no brain. */
  snapshots: {
    rules: Snapshot<{ id: string; action: string; protocol: string; source: string; destination: string; description: string; is_enabled: boolean }>;
    nat: Snapshot<{ id: string; nat_type: string; interface: string | null; destination: string; translated: string | null; description: string }>;
    vpn_tunnels: Snapshot<{ id: string; name: string; vpn_type: string; status: string; remote_address: string | null }>;
    ids_events: Snapshot<{ id: string; severity: string; signature: string; source_ip: string | null; dest_ip: string | null; action_taken: string; occurred_at: Date }>;
    interfaces: Snapshot<{ id: string; vendor_interface_id: string; name: string; addresses: string[]; status: string | null }>;
    dhcp_leases: { available: false; reason: string };
  } | null;
}

export interface DashboardOverview {
  gateways: { total: number; online: number; offline: number; unknown: number; sync_failed: number; never_synced: number };
  sites_with_orchestration: number;
  canonical_vlans: number;
  drift: DriftSummary;
  sites: SiteOverview[];
}

export interface DashboardScopes {
  /** Sites with `gateway.view`: the roll-up. */
  view: SiteScope;
  /** Sites with `gateway.drift`: the drift summary. */
  drift: SiteScope;
  /** Sites with `firewall.view`: the snapshots. */
  firewall: SiteScope;
}

const none = (scope: SiteScope) => scope !== 'all' && scope.length === 0;
const inScope = (scope: SiteScope, siteId: string) => scope === 'all' || scope.includes(siteId);

function scoped(ctx: ServiceContext, orgColumn: PgColumn, siteColumn: PgColumn, scope: SiteScope): SQL[] {
  const where: SQL[] = [eq(orgColumn, ctx.orgId)];
  if (scope !== 'all') where.push(inArray(siteColumn, [...scope]));
  return where;
}

export async function dashboardOverview(ctx: ServiceContext, scopes: DashboardScopes): Promise<DashboardOverview> {
  const overview: DashboardOverview = {
    gateways: { total: 0, online: 0, offline: 0, unknown: 0, sync_failed: 0, never_synced: 0 },
    sites_with_orchestration: 0,
    canonical_vlans: 0,
    drift: await driftSummary(ctx, { scope: none(scopes.view) ? [] : intersect(scopes.view, scopes.drift) }),
    sites: [],
  };
  if (none(scopes.view)) return overview;

  const gatewayRows = await ctx.db
    .select({ isOnline: gateways.isOnline, syncStatus: gateways.syncStatus, n: count() })
    .from(gateways)
    .where(and(...scoped(ctx, gateways.orgId, gateways.siteId, scopes.view), isNull(gateways.deletedAt)))
    .groupBy(gateways.isOnline, gateways.syncStatus);
  for (const row of gatewayRows) {
    const g = overview.gateways;
    g.total += row.n;
    if (row.isOnline === true) g.online += row.n;
    else if (row.isOnline === false) g.offline += row.n;
    else g.unknown += row.n;
    if (row.syncStatus === 'failed') g.sync_failed += row.n;
    if (row.syncStatus === 'never') g.never_synced += row.n;
  }

  const vlanRows = await ctx.db
    .select({ siteId: orchestrationVlans.siteId, n: count() })
    .from(orchestrationVlans)
    .where(and(...scoped(ctx, orchestrationVlans.orgId, orchestrationVlans.siteId, scopes.view)))
    .groupBy(orchestrationVlans.siteId);
  const vlansBySite = new Map(vlanRows.map((r) => [r.siteId, r.n]));
  overview.canonical_vlans = vlanRows.reduce((sum, r) => sum + r.n, 0);

  const t = orchestrationTopologies;
  const maps = await ctx.db
    .select({ id: t.id, siteId: t.siteId, siteName: sites.name })
    .from(t)
    .innerJoin(sites, eq(sites.id, t.siteId))
    .where(and(...scoped(ctx, t.orgId, t.siteId, scopes.view), isNull(sites.deletedAt)))
    .orderBy(sites.name);
  overview.sites_with_orchestration = maps.length;
  if (maps.length === 0) return overview;

  const members = await ctx.db
    .select({
      topologyId: orchestrationTopologyMembers.topologyId,
      role: orchestrationTopologyMembers.role,
      gatewayId: gateways.id,
      name: gateways.name,
      vendor: gateways.vendor,
      isOnline: gateways.isOnline,
      syncStatus: gateways.syncStatus,
      lastSyncAt: gateways.lastSyncAt,
    })
    .from(orchestrationTopologyMembers)
    .innerJoin(gateways, eq(gateways.id, orchestrationTopologyMembers.gatewayId))
    .where(
      and(
        eq(orchestrationTopologyMembers.orgId, ctx.orgId),
        inArray(orchestrationTopologyMembers.topologyId, maps.map((m) => m.id)),
        isNull(gateways.deletedAt),
      ),
    );

  for (const map of maps) {
    const mine = members.filter((m) => m.topologyId === map.id);
    const brain = mine.find((m) => m.role === 'brain');
    overview.sites.push({
      site_id: map.siteId,
      site_name: map.siteName,
      brain: brain
        ? {
            gateway_id: brain.gatewayId,
            name: brain.name,
            vendor: brain.vendor,
            is_online: brain.isOnline,
            sync_status: brain.syncStatus,
            last_sync_at: brain.lastSyncAt,
          }
        : null,
      limbs: mine.filter((m) => m.role === 'limb').length,
      canonical_vlans: vlansBySite.get(map.siteId) ?? 0,
      snapshots: brain && inScope(scopes.firewall, map.siteId) ? await brainSnapshots(ctx, brain.gatewayId) : null,
    });
  }
  return overview;
}

/** Sites in both scopes (the drift summary takes a mutable list). */
function intersect(a: SiteScope, b: SiteScope): 'all' | string[] {
  if (a === 'all') return b === 'all' ? 'all' : [...b];
  return a.filter((id) => b === 'all' || b.includes(id));
}

/** What the brain's last syncs stored: the synced tables, newest-first or in rule order, capped. */
async function brainSnapshots(ctx: ServiceContext, gatewayId: string): Promise<NonNullable<SiteOverview['snapshots']>> {
  const org = ctx.orgId;
  const r = firewallRules;
  const rulesWhere = and(eq(r.orgId, org), eq(r.deviceId, gatewayId), isNull(r.deletedAt), isNull(r.deviceDeletedAt));
  const n = firewallNatRules;
  const natWhere = and(eq(n.orgId, org), eq(n.deviceId, gatewayId), isNull(n.deletedAt), isNull(n.deviceDeletedAt));
  const v = firewallVpnTunnels;
  const vpnWhere = and(eq(v.orgId, org), eq(v.deviceId, gatewayId), isNull(v.deletedAt), isNull(v.deviceDeletedAt));
  const a = firewallIdsAlerts;
  const idsWhere = and(eq(a.orgId, org), eq(a.deviceId, gatewayId));
  const i = firewallInterfaces;
  const ifWhere = and(eq(i.orgId, org), eq(i.deviceId, gatewayId), isNull(i.deviceDeletedAt));

  const [rules, rulesMeta, nat, natMeta, vpn, vpnMeta, ids, idsMeta, ifs, ifsMeta] = await Promise.all([
    ctx.db.select().from(r).where(rulesWhere).orderBy(r.ruleOrder).limit(SNAPSHOT_ITEMS),
    ctx.db.select({ n: count(), at: max(r.lastSyncedAt) }).from(r).where(rulesWhere),
    ctx.db.select().from(n).where(natWhere).orderBy(n.ruleOrder).limit(SNAPSHOT_ITEMS),
    ctx.db.select({ n: count(), at: max(n.lastSyncedAt) }).from(n).where(natWhere),
    ctx.db.select().from(v).where(vpnWhere).orderBy(v.name).limit(SNAPSHOT_ITEMS),
    ctx.db.select({ n: count(), at: max(v.lastSyncedAt) }).from(v).where(vpnWhere),
    ctx.db.select().from(a).where(idsWhere).orderBy(desc(a.occurredAt)).limit(SNAPSHOT_ITEMS),
    // IDS alerts are history rather than mirrored objects: their "sync time" is when the sync stored them.
    ctx.db.select({ n: count(), at: max(a.createdAt) }).from(a).where(idsWhere),
    ctx.db.select().from(i).where(ifWhere).orderBy(i.vendorInterfaceId).limit(SNAPSHOT_ITEMS),
    ctx.db.select({ n: count(), at: max(i.lastSyncedAt) }).from(i).where(ifWhere),
  ]);
  const meta = (rows: { n: number; at: Date | null }[]) => ({ count: rows[0]?.n ?? 0, last_synced_at: rows[0]?.at ?? null });
  return {
    rules: {
      ...meta(rulesMeta),
      items: rules.map((x) => ({
        id: x.id,
        action: x.action,
        protocol: x.protocol,
        source: `${x.sourceAddress}:${x.sourcePort}`,
        destination: `${x.destAddress}:${x.destPort}`,
        description: x.description,
        is_enabled: x.isEnabled,
      })),
    },
    nat: {
      ...meta(natMeta),
      items: nat.map((x) => ({
        id: x.id,
        nat_type: x.natType,
        interface: x.interface,
        destination: `${x.destAddress}:${x.destPort}`,
        translated: x.translatedAddress === null ? null : `${x.translatedAddress}${x.translatedPort ? `:${x.translatedPort}` : ''}`,
        description: x.description,
      })),
    },
    vpn_tunnels: {
      ...meta(vpnMeta),
      items: vpn.map((x) => ({
        id: x.id,
        name: x.name,
        vpn_type: x.vpnType,
        status: x.vpnStatus,
        remote_address: x.remoteAddress,
      })),
    },
    ids_events: {
      ...meta(idsMeta),
      items: ids.map((x) => ({
        id: x.id,
        severity: x.severity,
        signature: x.signature,
        source_ip: x.sourceIp,
        dest_ip: x.destIp,
        action_taken: x.actionTaken,
        occurred_at: x.occurredAt,
      })),
    },
    interfaces: {
      ...meta(ifsMeta),
      items: ifs.map((x) => ({
        id: x.id,
        vendor_interface_id: x.vendorInterfaceId,
        name: x.name,
        addresses: x.addresses,
        status: x.status,
      })),
    },
    dhcp_leases: { available: false, reason: DHCP_LEASES_ABSENT },
  };
}
