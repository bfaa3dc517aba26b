/** IDS alerts: counts by severity, the alerts with filters and paging, and acknowledging one (`firewall.manage_ids`). */
import { Badge, Button, Card, SimpleGrid, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, must } from '../../api/client';
import type { IdsAlert } from '../../api/types';
import { ObjectTable } from '../../components/ObjectTable';
import { Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { LIVE, liveKeys } from '../../lib/live';
import { nameOf, optionsOf, useGateways } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const satisfies readonly IdsAlert['severity'][];
const SEVERITY_COLOR: Record<IdsAlert['severity'], string> = { critical: 'red', high: 'orange', medium: 'yellow', low: 'blue', info: 'gray' };
const key = [...liveKeys.firewall, 'ids'];

export function IdsPage() {
  const me = useMe();
  const gateways = useGateways();
  const stats = useQuery({ queryKey: [...key, 'stats'], ...LIVE, queryFn: () => must(api.GET('/api/v1/firewall/ids/alerts/stats')) });
  const acknowledge = useAction(
    (alert: IdsAlert) => must(api.POST('/api/v1/firewall/ids/alerts/{id}/acknowledge', { params: { path: { id: alert.id } } })),
    { invalidate: [key] },
  );
  return (
    <Page title="IDS alerts">
      <SimpleGrid cols={{ base: 2, sm: 4, md: 7 }}>
        <Count label="Alerts" value={stats.data?.total} />
        <Count label="Unacknowledged" value={stats.data?.unacknowledged} />
        {SEVERITIES.map((s) => (
          <Count key={s} label={s} value={stats.data?.by_severity[s]} />
        ))}
      </SimpleGrid>
      <ProblemAlert problem={acknowledge.problem} />
      <ObjectTable<IdsAlert>
        noun="alert"
        caption="IDS alerts, newest first"
        empty="No alerts match."
        queryKey={[...key, 'list']}
        label={(a) => a.signature}
        list={(q) => must(api.GET('/api/v1/firewall/ids/alerts', { params: { query: q } }))}
        filters={[
          { name: 'device_id', label: 'Gateway', options: optionsOf(gateways.data?.items, (g) => g.name) },
          { name: 'severity', label: 'Severity', options: SEVERITIES.map((s) => ({ value: s, label: s })) },
          { name: 'acknowledged', label: 'Acknowledged', options: [{ value: 'false', label: 'not yet' }, { value: 'true', label: 'acknowledged' }] },
        ]}
        fields={[]}
        columns={[
          { header: 'When', cell: (a) => formatTime(a.occurred_at) },
          { header: 'Gateway', cell: (a) => nameOf(gateways.data?.items, a.device_id, (g) => g.name) },
          { header: 'Severity', cell: (a) => <Badge color={SEVERITY_COLOR[a.severity]} variant="light">{a.severity}</Badge> },
          { header: 'Signature', cell: (a) => a.signature },
          { header: 'Source', cell: (a) => (a.source_ip ? `${a.source_ip}${a.source_port ? `:${a.source_port}` : ''}` : '—') },
          { header: 'Destination', cell: (a) => (a.dest_ip ? `${a.dest_ip}${a.dest_port ? `:${a.dest_port}` : ''}` : '—') },
          { header: 'Action taken', cell: (a) => a.action_taken },
          { header: 'Acknowledged', cell: (a) => (a.acknowledged_at ? formatTime(a.acknowledged_at) : 'no') },
        ]}
        rowActions={(a) =>
          !a.acknowledged && can(me.data, 'firewall.manage_ids', a.site_id) ? (
            <Button size="xs" variant="light" aria-label={`Acknowledge alert ${a.signature}`} onClick={() => acknowledge.mutate(a)}>
              Acknowledge
            </Button>
          ) : null
        }
      />
    </Page>
  );
}

function Count({ label, value }: { label: string; value: number | undefined }) {
  return (
    <Card withBorder padding="sm">
      <Text size="sm" c="dimmed" tt="capitalize">
        {label}
      </Text>
      <Text fz={22} fw={700}>
        {value ?? '—'}
      </Text>
    </Card>
  );
}
