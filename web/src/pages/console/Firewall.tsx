/**
 * The firewall module's normalized tables (docs/firewall.md): rules (with reorder), NAT and VPN tunnels (with
 * their counts), on the shared `ObjectTable`. Writes need `firewall.manage_rules|nat|vpn`; the server still
 * decides per site. Objects are stored here; deploying them to a device is a separate step.
 */
import { Badge, Button, Card, Group, SimpleGrid, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, must } from '../../api/client';
import type { paths } from '../../api/api';
import type { FirewallRule, NatRule, VpnTunnel } from '../../api/types';
import { type FieldSpec, type FilterSpec, type FormValues, ObjectTable } from '../../components/ObjectTable';
import { Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { liveKeys } from '../../lib/live';
import { nameOf, optionsOf, useGateways } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';

type CreateOf<P extends keyof paths> = paths[P] extends { post: { requestBody: { content: { 'application/json': infer B } } } } ? B : never;

const choices = (values: readonly string[]) => values.map((v) => ({ value: v, label: v }));
const yesNo = [
  { value: 'true', label: 'enabled' },
  { value: 'false', label: 'disabled' },
];
const RULE_ACTIONS = ['allow', 'deny', 'reject', 'log'] as const satisfies readonly FirewallRule['action'][];
const PROTOCOLS = ['any', 'tcp', 'udp', 'tcp/udp', 'icmp', 'icmpv6', 'esp', 'ah', 'gre', 'etherip', 'ipv6', 'igmp', 'pim', 'ospf', 'sctp', 'carp', 'pfsync'] as const satisfies readonly FirewallRule['protocol'][];
const NAT_TYPES = ['snat', 'dnat', 'masquerade', 'redirect'] as const satisfies readonly NatRule['nat_type'][];
const VPN_TYPES = ['ipsec', 'openvpn', 'wireguard', 'l2tp'] as const satisfies readonly VpnTunnel['vpn_type'][];
const VPN_STATUSES = ['up', 'down', 'error'] as const satisfies readonly VpnTunnel['vpn_status'][];

/** The gateway picker (create only) and filter, from the gateways the person can see. */
function useGatewayChoices() {
  const gateways = useGateways();
  const options = optionsOf(gateways.data?.items, (g) => g.name);
  const field: FieldSpec = { name: 'device_id', label: 'Gateway', kind: 'select', options, required: true, createOnly: true };
  const filter: FilterSpec = { name: 'device_id', label: 'Gateway', options };
  const gatewayName = (id: string) => nameOf(gateways.data?.items, id, (g) => g.name);
  return { field, filter, gatewayName, first: options[0]?.value ?? null };
}

const ruleKey = [...liveKeys.firewall, 'rules'];

export function RulesPage() {
  const me = useMe();
  const gw = useGatewayChoices();
  const reorder = useAction(
    async ({ row, by }: { row: FirewallRule; by: -1 | 1 }) => {
      // Reorder takes every rule of the gateway, so read them all, in their current order, first.
      const all = await must(api.GET('/api/v1/firewall/rules', { params: { query: { device_id: row.device_id, limit: 500 } } }));
      const ids = [...all.items].sort((a, b) => a.rule_order - b.rule_order).map((r) => r.id);
      const at = ids.indexOf(row.id);
      const to = at + by;
      if (at < 0 || to < 0 || to >= ids.length) return null;
      [ids[at], ids[to]] = [ids[to] as string, ids[at] as string];
      return must(api.POST('/api/v1/firewall/rules/reorder', { params: { query: { device_id: row.device_id } }, body: ids }));
    },
    { invalidate: [ruleKey] },
  );
  const mayWrite = can(me.data, 'firewall.manage_rules');
  return (
    <Page title="Firewall rules">
      <ProblemAlert problem={reorder.problem} />
      <ObjectTable<FirewallRule>
        noun="rule"
        caption="Firewall rules in order per gateway (stored here; deploying them is a separate step)"
        empty="No rules match."
        queryKey={ruleKey}
        label={(r) => r.description || `#${r.rule_order}`}
        list={(q) => must(api.GET('/api/v1/firewall/rules', { params: { query: q } }))}
        filters={[
          gw.filter,
          { name: 'action', label: 'Action', options: choices(RULE_ACTIONS) },
          { name: 'is_enabled', label: 'State', options: yesNo },
        ]}
        columns={[
          { header: 'Order', cell: (r) => r.rule_order },
          { header: 'Gateway', cell: (r) => gw.gatewayName(r.device_id) },
          { header: 'Action', cell: (r) => <Badge color={r.action === 'allow' ? 'green' : r.action === 'log' ? 'gray' : 'red'} variant="light">{r.action}</Badge> },
          { header: 'Protocol', cell: (r) => r.protocol },
          { header: 'Source', cell: (r) => `${r.source_address}${r.source_port !== 'any' ? `:${r.source_port}` : ''}` },
          { header: 'Destination', cell: (r) => `${r.dest_address}${r.dest_port !== 'any' ? `:${r.dest_port}` : ''}` },
          { header: 'Description', cell: (r) => r.description },
          { header: 'Enabled', cell: (r) => (r.is_enabled ? 'yes' : 'no') },
          { header: 'Hits', cell: (r) => r.hit_count },
        ]}
        fields={[
          gw.field,
          { name: 'action', label: 'Action', kind: 'select', options: choices(RULE_ACTIONS), required: true },
          { name: 'protocol', label: 'Protocol', kind: 'select', options: choices(PROTOCOLS) },
          { name: 'source_address', label: 'Source address', kind: 'text', description: 'any, an address, a prefix or an alias; ! negates' },
          { name: 'source_port', label: 'Source port', kind: 'text', description: 'any, a port, low-high or an alias' },
          { name: 'dest_address', label: 'Destination address', kind: 'text' },
          { name: 'dest_port', label: 'Destination port', kind: 'text' },
          { name: 'description', label: 'Description', kind: 'text' },
          { name: 'is_enabled', label: 'Enabled', kind: 'bool' },
          { name: 'log_enabled', label: 'Log matches', kind: 'bool' },
        ]}
        write={
          mayWrite
            ? {
                defaults: { device_id: gw.first, action: 'allow', protocol: 'any', source_address: 'any', source_port: 'any', dest_address: 'any', dest_port: 'any', description: '', is_enabled: true, log_enabled: false },
                valuesOf: (r) => ({ ...r }),
                create: (v) => must(api.POST('/api/v1/firewall/rules', { body: v as CreateOf<'/api/v1/firewall/rules'> })),
                update: (r, v) => must(api.PATCH('/api/v1/firewall/rules/{id}', { params: { path: { id: r.id } }, body: v })),
                remove: (r) => must(api.DELETE('/api/v1/firewall/rules/{id}', { params: { path: { id: r.id } } })),
              }
            : undefined
        }
        rowActions={
          mayWrite
            ? (r) => (
                <>
                  <Button size="xs" variant="default" aria-label={`Move rule ${r.description || r.rule_order} up`} onClick={() => reorder.mutate({ row: r, by: -1 })}>
                    ↑
                  </Button>
                  <Button size="xs" variant="default" aria-label={`Move rule ${r.description || r.rule_order} down`} onClick={() => reorder.mutate({ row: r, by: 1 })}>
                    ↓
                  </Button>
                </>
              )
            : undefined
        }
      />
    </Page>
  );
}

export function NatPage() {
  const me = useMe();
  const gw = useGatewayChoices();
  return (
    <Page title="NAT">
      <ObjectTable<NatRule>
        noun="NAT rule"
        caption="NAT rules per gateway: port forwards (dnat), outbound (snat, masquerade) and redirects"
        empty="No NAT rules match."
        queryKey={[...liveKeys.firewall, 'nat']}
        label={(r) => r.description || `${r.nat_type} #${r.rule_order}`}
        list={(q) => must(api.GET('/api/v1/firewall/nat', { params: { query: q } }))}
        filters={[gw.filter, { name: 'nat_type', label: 'Type', options: choices(NAT_TYPES) }, { name: 'is_enabled', label: 'State', options: yesNo }]}
        columns={[
          { header: 'Order', cell: (r) => r.rule_order },
          { header: 'Gateway', cell: (r) => gw.gatewayName(r.device_id) },
          { header: 'Type', cell: (r) => r.nat_type },
          { header: 'Interface', cell: (r) => r.interface ?? '—' },
          { header: 'Protocol', cell: (r) => r.protocol },
          { header: 'Source', cell: (r) => r.source_address },
          { header: 'Destination', cell: (r) => `${r.dest_address}:${r.dest_port}` },
          { header: 'Translated to', cell: (r) => (r.translated_address ? `${r.translated_address}${r.translated_port ? `:${r.translated_port}` : ''}` : '—') },
          { header: 'Description', cell: (r) => r.description },
          { header: 'Enabled', cell: (r) => (r.is_enabled ? 'yes' : 'no') },
        ]}
        fields={[
          gw.field,
          { name: 'nat_type', label: 'Type', kind: 'select', options: choices(NAT_TYPES), required: true },
          { name: 'interface', label: 'Interface', kind: 'text', nullable: true },
          { name: 'protocol', label: 'Protocol', kind: 'select', options: choices(PROTOCOLS) },
          { name: 'source_address', label: 'Source address', kind: 'text' },
          { name: 'dest_address', label: 'Destination address', kind: 'text' },
          { name: 'dest_port', label: 'Destination port', kind: 'text' },
          { name: 'translated_address', label: 'Translated address', kind: 'text', nullable: true },
          { name: 'translated_port', label: 'Translated port', kind: 'text', nullable: true },
          { name: 'description', label: 'Description', kind: 'text' },
          { name: 'is_enabled', label: 'Enabled', kind: 'bool' },
        ]}
        write={
          can(me.data, 'firewall.manage_nat')
            ? {
                defaults: { device_id: gw.first, nat_type: 'dnat', interface: '', protocol: 'tcp', source_address: 'any', dest_address: 'any', dest_port: 'any', translated_address: '', translated_port: '', description: '', is_enabled: true },
                valuesOf: (r) => ({ ...r }),
                create: (v) => must(api.POST('/api/v1/firewall/nat', { body: v as CreateOf<'/api/v1/firewall/nat'> })),
                update: (r, v) => must(api.PATCH('/api/v1/firewall/nat/{id}', { params: { path: { id: r.id } }, body: v })),
                remove: (r) => must(api.DELETE('/api/v1/firewall/nat/{id}', { params: { path: { id: r.id } } })),
              }
            : undefined
        }
      />
    </Page>
  );
}

export function VpnPage() {
  const me = useMe();
  const gw = useGatewayChoices();
  const stats = useQuery({ queryKey: [...liveKeys.firewall, 'vpn-stats'], queryFn: () => must(api.GET('/api/v1/firewall/vpn/stats')) });
  return (
    <Page title="VPN tunnels">
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        {(['total', 'up', 'down', 'error'] as const).map((k) => (
          <Card key={k} withBorder padding="sm">
            <Text size="sm" c="dimmed">
              Tunnels {k === 'total' ? '' : k}
            </Text>
            <Text fz={24} fw={700}>
              {stats.data?.[k] ?? '—'}
            </Text>
          </Card>
        ))}
      </SimpleGrid>
      <ObjectTable<VpnTunnel>
        noun="tunnel"
        caption="VPN tunnels per gateway with their last known state and traffic"
        empty="No tunnels match."
        queryKey={[...liveKeys.firewall, 'vpn']}
        label={(t) => t.name}
        list={(q) => must(api.GET('/api/v1/firewall/vpn', { params: { query: q } }))}
        filters={[gw.filter, { name: 'vpn_type', label: 'Type', options: choices(VPN_TYPES) }, { name: 'vpn_status', label: 'Status', options: choices(VPN_STATUSES) }]}
        columns={[
          { header: 'Name', cell: (t) => t.name },
          { header: 'Gateway', cell: (t) => gw.gatewayName(t.device_id) },
          { header: 'Type', cell: (t) => t.vpn_type },
          { header: 'Status', cell: (t) => <Badge color={t.vpn_status === 'up' ? 'green' : t.vpn_status === 'down' ? 'gray' : 'red'} variant="light">{t.vpn_status}</Badge> },
          { header: 'Remote', cell: (t) => t.remote_address ?? '—' },
          { header: 'Networks', cell: (t) => <Group gap={4}>{[...t.local_networks, '⇄', ...t.remote_networks].join(' ')}</Group> },
          { header: 'In / out (bytes)', cell: (t) => `${t.bytes_in} / ${t.bytes_out}` },
        ]}
        fields={[
          gw.field,
          { name: 'name', label: 'Name', kind: 'text', required: true },
          { name: 'vpn_type', label: 'Type', kind: 'select', options: choices(VPN_TYPES), required: true },
          { name: 'local_address', label: 'Local address', kind: 'text', nullable: true },
          { name: 'remote_address', label: 'Remote address', kind: 'text', nullable: true },
          { name: 'local_networks', label: 'Local networks', kind: 'list', description: 'Prefixes; Enter after each' },
          { name: 'remote_networks', label: 'Remote networks', kind: 'list' },
          { name: 'description', label: 'Description', kind: 'text' },
          { name: 'is_enabled', label: 'Enabled', kind: 'bool' },
        ]}
        write={
          can(me.data, 'firewall.manage_vpn')
            ? {
                defaults: { device_id: gw.first, name: '', vpn_type: 'ipsec', local_address: '', remote_address: '', local_networks: [], remote_networks: [], description: '', is_enabled: true },
                valuesOf: (t): FormValues => ({ ...t }),
                create: (v) => must(api.POST('/api/v1/firewall/vpn', { body: v as CreateOf<'/api/v1/firewall/vpn'> })),
                update: (t, v) => must(api.PATCH('/api/v1/firewall/vpn/{id}', { params: { path: { id: t.id } }, body: v })),
                remove: (t) => must(api.DELETE('/api/v1/firewall/vpn/{id}', { params: { path: { id: t.id } } })),
              }
            : undefined
        }
      />
    </Page>
  );
}
