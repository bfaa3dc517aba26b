/**
 * The nodes serving this installation's store: each node's heartbeat, whether it is alive, and the gateway aliases
 * it reconciles (its leases). Refreshed every few seconds, since heartbeats and leases change by themselves.
 */
import { Badge, Group, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, must } from '../../api/client';
import { DataTable, Loaded, Page } from '../../components/Page';
import { formatTime } from '../../lib/time';

const REFRESH_MS = 5_000;

export function ClusterPage() {
  const nodes = useQuery({
    queryKey: ['cluster-nodes'],
    refetchInterval: REFRESH_MS,
    queryFn: () => must(api.GET('/api/v1/cluster/nodes')),
  });
  return (
    <Page title="Cluster">
      <Loaded query={nodes}>
        {(data) => {
          const alive = data.items.filter((n) => n.alive).length;
          return (
            <>
              <Text size="sm" aria-live="polite">
                {alive} of {data.items.length} node{data.items.length === 1 ? '' : 's'} alive on{' '}
                {data.store === 'postgres' ? 'PostgreSQL' : 'the embedded store (one node)'}; a dead node&rsquo;s aliases
                move after {data.lease_seconds} s.
              </Text>
              <DataTable
                caption="Nodes and the aliases each reconciles"
                rows={data.items}
                rowKey={(n) => n.id}
                empty="No node has registered yet."
                columns={[
                  {
                    header: 'Node',
                    cell: (n) => (
                      <Group gap="xs" wrap="nowrap">
                        <code>{n.id.slice(0, 8)}</code>
                        {n.self ? <Badge variant="light">this node</Badge> : null}
                      </Group>
                    ),
                  },
                  { header: 'Host', cell: (n) => `${n.hostname} (pid ${n.pid})` },
                  { header: 'State', cell: (n) => <Badge color={n.alive ? 'green' : 'red'}>{n.alive ? 'alive' : 'dead'}</Badge> },
                  { header: 'Last heartbeat', cell: (n) => formatTime(n.heartbeat_at) },
                  { header: 'Started', cell: (n) => formatTime(n.started_at) },
                  {
                    header: 'Aliases',
                    cell: (n) =>
                      n.leases.length === 0 ? (
                        '—'
                      ) : (
                        <Group gap={4}>
                          {n.leases.map((lease) => (
                            <Badge key={lease.name} variant="outline" title={`gateway ${lease.gateway_id}`}>
                              {lease.alias_name}
                            </Badge>
                          ))}
                        </Group>
                      ),
                  },
                ]}
              />
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
