/**
 * @module Normalized VPN tunnels (`/api/v1/firewall/vpn`): ipsec, openvpn, wireguard, l2tp, with a status
 * (up / down / error) a sync keeps current, and the aggregate stats (`/vpn/stats`: total, up, down, error).
 */
import { and, asc, count, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import { ValidationError } from '../errors.ts';
import type { ServiceContext } from '../core/context.ts';
import { firewallVpnTunnels } from '../store/schema/firewall.ts';
import {
  requireDescription,
  requireEndpoint,
  requireOneOf,
  requirePrefixList,
  VPN_STATUSES,
  VPN_TYPES,
} from './fields.ts';
import type { ObjectKind, SiteScope } from './objects.ts';
import { bool, vendorId } from './rules.ts';

type VpnTunnelRow = typeof firewallVpnTunnels.$inferSelect;

function tunnelName(value: unknown, field: string): string {
  const name = requireDescription(field, value);
  if (name === '') throw new ValidationError(field, `${field} must not be blank`);
  if (name.length > 100) throw new ValidationError(field, `${field} must be at most 100 characters`);
  return name;
}

export const VPN_TUNNELS: ObjectKind<VpnTunnelRow> = {
  resource: 'VPN tunnel',
  auditTarget: 'vpn_tunnel',
  table: firewallVpnTunnels,
  fields: {
    name: { key: 'name', parse: tunnelName },
    vpn_type: { key: 'vpnType', parse: (v, f) => requireOneOf(f, v, VPN_TYPES) },
    vpn_status: { key: 'vpnStatus', parse: (v, f) => requireOneOf(f, v, VPN_STATUSES) },
    local_address: { key: 'localAddress', parse: (v, f) => requireEndpoint(f, v) },
    remote_address: { key: 'remoteAddress', parse: (v, f) => requireEndpoint(f, v) },
    local_networks: { key: 'localNetworks', parse: (v, f) => requirePrefixList(f, v) },
    remote_networks: { key: 'remoteNetworks', parse: (v, f) => requirePrefixList(f, v) },
    is_enabled: { key: 'isEnabled', parse: bool },
    description: { key: 'description', parse: (v, f) => requireDescription(f, v) },
    vendor_tunnel_id: { key: 'vendorTunnelId', parse: vendorId },
  },
  required: ['name', 'vpn_type'],
  filters: { vpn_type: firewallVpnTunnels.vpnType, vpn_status: firewallVpnTunnels.vpnStatus },
  orderBy: [asc(firewallVpnTunnels.name)],
};

interface VpnStats {
  total: number;
  up: number;
  down: number;
  error: number;
}

export async function vpnStats(
  ctx: ServiceContext,
  options: { scope: SiteScope; siteId?: string; deviceId?: string },
): Promise<VpnStats> {
  const stats: VpnStats = { total: 0, up: 0, down: 0, error: 0 };
  if (options.scope !== 'all' && options.scope.length === 0) return stats;
  const t = firewallVpnTunnels;
  const where: (SQL | undefined)[] = [eq(t.orgId, ctx.orgId), isNull(t.deletedAt)];
  if (options.scope !== 'all') where.push(inArray(t.siteId, [...options.scope]));
  if (options.siteId) where.push(eq(t.siteId, options.siteId));
  if (options.deviceId) where.push(eq(t.deviceId, options.deviceId));
  const rows = await ctx.db
    .select({ status: t.vpnStatus, n: count() })
    .from(t)
    .where(and(...where))
    .groupBy(t.vpnStatus);
  for (const row of rows) {
    stats.total += row.n;
    if (row.status === 'up' || row.status === 'down' || row.status === 'error') stats[row.status] += row.n;
  }
  return stats;
}
