/**
 * Traffic logs stored from the gateways (`firewall.view_logs`): newest first, by gateway, action, source or
 * destination address and time range. A malformed address or time is refused by the server under its filter.
 */
import { Badge } from '@mantine/core';
import { api, must } from '../../api/client';
import type { TrafficLog } from '../../api/types';
import { ObjectTable } from '../../components/ObjectTable';
import { Page } from '../../components/Page';
import { liveKeys } from '../../lib/live';
import { nameOf, optionsOf, useGateways } from '../../lib/lookups';
import { formatTime } from '../../lib/time';

const ACTIONS = ['pass', 'block', 'reject'] as const satisfies readonly TrafficLog['action'][];
const hostPort = (ip: string | null, port: number | null) => (ip ? `${ip}${port ? `:${port}` : ''}` : '—');

export function LogsPage() {
  const gateways = useGateways();
  return (
    <Page title="Traffic logs">
      <ObjectTable<TrafficLog>
        noun="log entry"
        caption="Traffic log entries, newest first"
        empty="No log entries match."
        queryKey={[...liveKeys.firewall, 'logs']}
        label={(l) => String(l.id)}
        list={(q) => must(api.GET('/api/v1/firewall/logs', { params: { query: q } }))}
        filters={[
          { name: 'device_id', label: 'Gateway', options: optionsOf(gateways.data?.items, (g) => g.name) },
          { name: 'action', label: 'Action', options: ACTIONS.map((a) => ({ value: a, label: a })) },
          { name: 'source_ip', label: 'Source address', placeholder: '192.0.2.10' },
          { name: 'dest_ip', label: 'Destination address', placeholder: '198.51.100.1' },
          { name: 'since', label: 'Since', placeholder: '2026-01-31T00:00:00Z' },
          { name: 'until', label: 'Until', placeholder: '2026-01-31T23:59:59Z' },
        ]}
        fields={[]}
        columns={[
          { header: 'When', cell: (l) => formatTime(l.logged_at) },
          { header: 'Gateway', cell: (l) => nameOf(gateways.data?.items, l.device_id, (g) => g.name) },
          { header: 'Action', cell: (l) => <Badge color={l.action === 'pass' ? 'green' : 'red'} variant="light">{l.action}</Badge> },
          { header: 'Interface', cell: (l) => `${l.interface ?? '—'} ${l.direction ?? ''}` },
          { header: 'Protocol', cell: (l) => l.protocol ?? '—' },
          { header: 'Source', cell: (l) => hostPort(l.source_ip, l.source_port) },
          { header: 'Destination', cell: (l) => hostPort(l.dest_ip, l.dest_port) },
          { header: 'Rule', cell: (l) => l.vendor_rule_id ?? '—' },
          { header: 'Reason', cell: (l) => l.reason ?? '—' },
        ]}
      />
    </Page>
  );
}
