/**
 * @module The orchestration dashboard (docs/reference/freesdn-firewall-module.md §18, docs/orchestration.md): a
 * thin route over src/orchestration/dashboard.ts. Gated by `gateway.view`; each part is limited to the sites
 * the caller holds its permission on (`gateway.view`, `gateway.drift`, `firewall.view`; §20, §21).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { dashboardOverview } from '../../orchestration/dashboard.ts';
import { ctxOf } from '../context.ts';
import { siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, Uuid } from '../schemas.ts';
import { Nullable, Timestamp } from './gateways.ts';

const tags = ['orchestration'];
const Int = Type.Integer();

const Snapshot = <T extends TSchema>(item: T) =>
  Type.Object({ count: Int, last_synced_at: Nullable(Timestamp), items: Type.Array(item) });

const Counts = { critical: Int, warning: Int, info: Int };

const SiteOverview = Type.Object({
  site_id: Uuid,
  site_name: Type.String(),
  brain: Nullable(
    Type.Object({
      gateway_id: Uuid,
      name: Type.String(),
      vendor: Type.String(),
      is_online: Nullable(Type.Boolean()),
      sync_status: Type.String(),
      last_sync_at: Nullable(Timestamp),
    }),
  ),
  limbs: Int,
  canonical_vlans: Int,
  snapshots: Nullable(
    Type.Object({
      rules: Snapshot(
        Type.Object({
          id: Uuid,
          action: Type.String(),
          protocol: Type.String(),
          source: Type.String(),
          destination: Type.String(),
          description: Type.String(),
          is_enabled: Type.Boolean(),
        }),
      ),
      nat: Snapshot(
        Type.Object({
          id: Uuid,
          nat_type: Type.String(),
          interface: Nullable(Type.String()),
          destination: Type.String(),
          translated: Nullable(Type.String()),
          description: Type.String(),
        }),
      ),
      vpn_tunnels: Snapshot(
        Type.Object({
          id: Uuid,
          name: Type.String(),
          vpn_type: Type.String(),
          status: Type.String(),
          remote_address: Nullable(Type.String()),
        }),
      ),
      ids_events: Snapshot(
        Type.Object({
          id: Uuid,
          severity: Type.String(),
          signature: Type.String(),
          source_ip: Nullable(Type.String()),
          dest_ip: Nullable(Type.String()),
          action_taken: Type.String(),
          occurred_at: Timestamp,
        }),
      ),
      interfaces: Snapshot(
        Type.Object({
          id: Uuid,
          vendor_interface_id: Type.String(),
          name: Type.String(),
          addresses: Type.Array(Type.String()),
          status: Nullable(Type.String()),
        }),
      ),
      dhcp_leases: Type.Object({ available: Type.Literal(false), reason: Type.String() }),
    }),
  ),
});

const Overview = Type.Object({
  gateways: Type.Object({
    total: Int,
    online: Int,
    offline: Int,
    unknown: Int,
    sync_failed: Int,
    never_synced: Int,
  }),
  sites_with_orchestration: Int,
  canonical_vlans: Int,
  drift: Type.Object({
    total: Int,
    ...Counts,
    pending: Int,
    resolved: Int,
    pending_by_severity: Type.Object(Counts),
    gateways_not_checked: Int,
  }),
  sites: Type.Array(SiteOverview),
});

export const dashboardRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/firewall/dashboard/overview',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary:
          'Roll-up of the sites you can see: gateway counts, sites with a role map, canonical VLANs, drift summary, and cached snapshots of each brain\u2019s last sync (no device is called)',
        response: { 200: Overview, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      dashboardOverview(ctxOf(request), {
        view: siteFilter(request, 'gateway.view'),
        drift: siteFilter(request, 'gateway.drift'),
        firewall: siteFilter(request, 'firewall.view'),
      }),
  );
};
