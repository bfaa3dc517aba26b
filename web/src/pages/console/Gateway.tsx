/**
 * One gateway: its vendor and maturity tier, and the live reads the API offers as tabs (status, rules, NAT, …).
 * A read the vendor cannot serve answers `PC_ERR_CAPABILITY_UNAVAILABLE` and its tab says so; a device failure
 * shows the vendor's code. Tabs are entries of `GATEWAY_TABS`: a new read or action is one more entry. The VLAN
 * interface, DHCP scope and bridge VLAN tabs also stage writes (GatewayWrites.tsx, loaded on first use) where the
 * vendor has the write capability and the person `firewall.manage_rules` on the site.
 */
import { Alert, Anchor, Badge, Group, Loader, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useRouterState } from '@tanstack/react-router';
import { lazy, type ReactNode, Suspense } from 'react';
import { api, must } from '../../api/client';
import { ApiProblem, isProblem } from '../../api/problem';
import type { Gateway, Vendor } from '../../api/types';
import type { WritableKind } from './GatewayWrites';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { toProblem } from '../../lib/forms';
import { liveSections } from '../../lib/liveView';
import { nameOf, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';

const LiveObjectWrites = lazy(async () => ({ default: (await import('./GatewayWrites')).LiveObjectWrites }));

/** Live read paths under `/api/v1/firewall/gateways/{id}/` (their query strings included). */
type LivePath =
  | 'status' | 'firewall-rules' | 'nat-rules' | 'aliases' | 'interfaces' | 'dhcp' | 'arp' | 'bridge-vlans' | 'health-check' | 'ha-status'
  | 'vlan-interfaces' | 'dhcp/scopes' | 'dhcp/static-mappings' | 'dns/overrides'
  | 'vpn' | 'services' | 'routes/table' | 'diagnostics/pf-info' | 'diagnostics/connections' | 'logs';

export interface GatewayTab {
  value: string;
  label: string;
  /** The permission the tab's route declares. */
  permission: string;
  render: (gateway: Gateway, vendor: Vendor | undefined) => ReactNode;
}

const live = (value: string, label: string, path: LivePath, permission = 'firewall.view', query?: Record<string, string>): GatewayTab => ({
  value,
  label,
  permission,
  render: (gateway, vendor) => <LiveTab gateway={gateway} vendor={vendor} label={label} path={path} query={query} />,
});

/** A live tab whose entries can also be changed: the view, then the staged-write controls when allowed. */
const writable = (value: string, label: string, path: LivePath, kind: WritableKind, capability: keyof Vendor['capabilities']): GatewayTab => ({
  value,
  label,
  permission: 'firewall.view',
  render: (gateway, vendor) => (
    <Stack gap="lg">
      <LiveTab gateway={gateway} vendor={vendor} label={label} path={path} />
      {vendor?.capabilities[capability] ? <WritesIfAllowed gateway={gateway} kind={kind} /> : null}
    </Stack>
  ),
});

function WritesIfAllowed({ gateway, kind }: { gateway: Gateway; kind: WritableKind }) {
  const me = useMe();
  if (!can(me.data, 'firewall.manage_rules', gateway.site_id)) return null;
  return (
    <Suspense fallback={<Loader size="sm" role="status" aria-label="Loading" />}>
      <LiveObjectWrites gateway={gateway} kind={kind} />
    </Suspense>
  );
}

export const GATEWAY_TABS: readonly GatewayTab[] = [
  live('status', 'Status', 'status'),
  live('health', 'Health', 'health-check'),
  live('rules', 'Firewall rules', 'firewall-rules'),
  live('nat', 'NAT', 'nat-rules'),
  live('aliases', 'Aliases', 'aliases'),
  live('interfaces', 'Interfaces', 'interfaces'),
  writable('vlan-interfaces', 'VLAN interfaces', 'vlan-interfaces', 'vlan_interface', 'write.vlans'),
  live('dhcp', 'DHCP leases', 'dhcp'),
  writable('dhcp-scopes', 'DHCP scopes', 'dhcp/scopes', 'dhcp_scope', 'write.dhcp_scopes'),
  live('dhcp-mappings', 'DHCP static mappings', 'dhcp/static-mappings'),
  live('dns-overrides', 'DNS overrides', 'dns/overrides'),
  live('arp', 'ARP', 'arp'),
  writable('bridge-vlans', 'Bridge VLANs', 'bridge-vlans', 'bridge_vlan', 'write.bridge_vlans'),
  live('ha', 'HA status', 'ha-status'),
  live('vpn', 'VPN', 'vpn'),
  live('connections', 'Connections', 'diagnostics/connections'),
  live('services', 'Services', 'services'),
  live('routes', 'Routes', 'routes/table'),
  live('pf-info', 'pf info', 'diagnostics/pf-info'),
  live('logs', 'Logs', 'logs', 'firewall.view_logs', { limit: '200' }),
];

const MATURITY_COLOR: Record<Vendor['maturity'], string> = { production: 'green', beta: 'yellow', preview: 'orange' };

export function MaturityBadge({ vendor }: { vendor: Vendor | undefined }) {
  if (!vendor) return null;
  return (
    <Badge color={MATURITY_COLOR[vendor.maturity]} variant="light" title={`${vendor.name} support is ${vendor.maturity}`}>
      {vendor.maturity}
    </Badge>
  );
}

export const useVendors = () => useQuery({ queryKey: ['vendors'], staleTime: Infinity, queryFn: () => must(api.GET('/api/v1/firewall/vendors')) });

export function GatewayPage() {
  const me = useMe();
  const id = useRouterState({ select: (s) => s.location.pathname.split('/').pop() ?? '' });
  const gateway = useQuery({ queryKey: ['gateways', id], queryFn: () => must(api.GET('/api/v1/firewall/gateways/{id}', { params: { path: { id } } })) });
  const vendors = useVendors();
  const sites = useSites();
  return (
    <Page title={gateway.data ? `Gateway ${gateway.data.name}` : 'Gateway'} actions={<Anchor component={Link} to="/admin/gateways">All gateways</Anchor>}>
      <Loaded query={gateway}>
        {(g) => {
          const vendor = vendors.data?.items.find((v) => v.id === g.vendor);
          const tabs = GATEWAY_TABS.filter((t) => can(me.data, t.permission, g.site_id));
          return (
            <Stack>
              <Group gap="sm">
                <Text>
                  {vendor?.name ?? g.vendor} · site {nameOf(sites.data?.items, g.site_id, (s) => s.name)} · <code>{g.url}</code>
                </Text>
                <MaturityBadge vendor={vendor} />
              </Group>
              <Tabs defaultValue={tabs[0]?.value ?? null} keepMounted={false}>
                <Tabs.List aria-label="Live views of the gateway">
                  {tabs.map((t) => (
                    <Tabs.Tab key={t.value} value={t.value}>
                      {t.label}
                    </Tabs.Tab>
                  ))}
                </Tabs.List>
                {tabs.map((t) => (
                  <Tabs.Panel key={t.value} value={t.value} pt="md">
                    {t.render(g, vendor)}
                  </Tabs.Panel>
                ))}
              </Tabs>
            </Stack>
          );
        }}
      </Loaded>
    </Page>
  );
}

function LiveTab({ gateway, vendor, label, path, query }: { gateway: Gateway; vendor: Vendor | undefined; label: string; path: LivePath; query?: Record<string, string> }) {
  const answer = useQuery({
    queryKey: ['gateways', gateway.id, 'live', path],
    retry: false,
    queryFn: async () => {
      const search = query ? `?${new URLSearchParams(query).toString()}` : '';
      // One path per tab; the answers are vendor-neutral objects read generically (lib/liveView.ts).
      const response = await fetch(`/api/v1/firewall/gateways/${encodeURIComponent(gateway.id)}/${path}${search}`, { credentials: 'same-origin' });
      const body: unknown = await response.json().catch(() => null);
      if (!response.ok) throw ApiProblem.from(response.status, body);
      return body;
    },
  });
  if (answer.isPending) return <Loader size="sm" role="status" aria-label={`Loading ${label}`} />;
  if (answer.error) {
    if (isProblem(answer.error, 'PC_ERR_CAPABILITY_UNAVAILABLE')) {
      return (
        <Alert color="gray" title={`${vendor?.name ?? gateway.vendor} offers no ${label.toLowerCase()} read`}>
          <Text size="sm">This gateway's vendor API cannot serve this view, so Portcullis does not ask the device.</Text>
          <Text size="xs" c="dimmed">
            PC_ERR_CAPABILITY_UNAVAILABLE
          </Text>
        </Alert>
      );
    }
    return <ProblemAlert problem={toProblem(answer.error)} title={`The gateway could not answer (${label})`} />;
  }
  const { facts, tables } = liveSections(answer.data);
  return (
    <Stack gap="md">
      {facts.length > 0 ? (
        <Table.ScrollContainer minWidth={400}>
          <Table verticalSpacing={4} maw={720}>
            <Table.Caption>{label} of {gateway.name}, read live</Table.Caption>
            <Table.Tbody>
              {facts.map(([k, v]) => (
                <Table.Tr key={k}>
                  <Table.Th scope="row" w={260}>
                    {k}
                  </Table.Th>
                  <Table.Td>{v}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      {tables.map((t) => (
        <Stack key={t.title} gap={4}>
          {tables.length > 1 || facts.length > 0 ? (
            <Title order={2} size="h4">
              {t.title}
            </Title>
          ) : null}
          <DataTable<{ n: number; cells: string[] }>
            caption={`${label}: ${t.title} (${t.rows.length})`}
            rows={t.rows.map((cells, n) => ({ n, cells }))}
            rowKey={(r) => String(r.n)}
            empty={`No ${t.title.replace(/_/g, ' ')}.`}
            columns={t.columns.map((c, i) => ({ header: c, cell: (r) => r.cells[i] }))}
          />
        </Stack>
      ))}
    </Stack>
  );
}
