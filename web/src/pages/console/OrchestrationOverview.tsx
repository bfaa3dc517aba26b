/**
 * The Dashboard's Orchestration section (docs/orchestration.md#dashboard): the roll-up of
 * `GET /api/v1/firewall/dashboard/overview` and, per site with a role map, its brain and the sizes of the brain's
 * cached snapshots (what its last syncs stored; no device is called), with the latest IDS events.
 */
import { SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, must } from '../../api/client';
import { DataTable, Loaded } from '../../components/Page';
import { formatTime } from '../../lib/time';

const loadOverview = () => must(api.GET('/api/v1/firewall/dashboard/overview'));
type SiteRow = Awaited<ReturnType<typeof loadOverview>>['sites'][number];

export function OrchestrationOverview() {
  const overview = useQuery({ queryKey: ['dashboard', 'overview'], staleTime: 30_000, queryFn: loadOverview });
  return (
    <Stack gap="xs" component="section" aria-labelledby="orchestration-heading">
      <Title order={2} size="h3" id="orchestration-heading">
        Orchestration
      </Title>
      <Loaded query={overview}>
        {(o) => (
          <Stack gap="sm">
            <SimpleGrid cols={{ base: 2, sm: 4 }}>
              <Figure label="Gateways" value={`${o.gateways.total} (${o.gateways.online} online)`} />
              <Figure label="Sites with orchestration" value={String(o.sites_with_orchestration)} />
              <Figure label="Canonical VLANs" value={String(o.canonical_vlans)} />
              <Figure label="Pending drift" value={`${o.drift.pending} (${o.drift.pending_by_severity.critical} critical)`} />
            </SimpleGrid>
            <DataTable<SiteRow>
              caption="Sites with a role map: the brain and what its last sync stored (cached, not live)"
              rows={o.sites}
              rowKey={(s) => s.site_id}
              empty="No site has a role map yet (Topology)."
              columns={[
                { header: 'Site', cell: (s) => s.site_name },
                { header: 'Brain', cell: (s) => (s.brain ? `${s.brain.name} (${s.brain.vendor})` : '—') },
                { header: 'Sync', cell: (s) => s.brain?.sync_status ?? '—' },
                { header: 'Limbs', cell: (s) => s.limbs },
                { header: 'VLANs', cell: (s) => s.canonical_vlans },
                { header: 'Rules', cell: (s) => s.snapshots?.rules.count ?? '—' },
                { header: 'NAT', cell: (s) => s.snapshots?.nat.count ?? '—' },
                { header: 'VPN', cell: (s) => s.snapshots?.vpn_tunnels.count ?? '—' },
                { header: 'IDS events', cell: (s) => s.snapshots?.ids_events.count ?? '—' },
                { header: 'Interfaces', cell: (s) => s.snapshots?.interfaces.count ?? '—' },
                {
                  header: 'Synced',
                  cell: (s) => (s.brain?.last_sync_at ? formatTime(s.brain.last_sync_at) : 'never'),
                },
              ]}
            />
            {o.sites.map((s) =>
              s.snapshots && s.snapshots.ids_events.items.length > 0 ? (
                <DataTable
                  key={s.site_id}
                  caption={`Latest IDS events of ${s.site_name}`}
                  rows={s.snapshots.ids_events.items.slice(0, 5)}
                  rowKey={(e) => e.id}
                  empty=""
                  columns={[
                    { header: 'When', cell: (e) => formatTime(e.occurred_at) },
                    { header: 'Severity', cell: (e) => e.severity },
                    { header: 'Signature', cell: (e) => e.signature },
                    { header: 'Source', cell: (e) => e.source_ip ?? '—' },
                    { header: 'Action', cell: (e) => e.action_taken },
                  ]}
                />
              ) : null,
            )}
            <Text size="xs" c="dimmed">
              DHCP leases are not cached (the sync does not store them); read them live on the gateway page.
            </Text>
          </Stack>
        )}
      </Loaded>
    </Stack>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={20} fw={700}>
        {value}
      </Text>
    </div>
  );
}
