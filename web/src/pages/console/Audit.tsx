/** The audit log, newest first, with filters and "load older" paging by cursor. */
import { Badge, Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { AuditEntry } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { keys } from '../../lib/lookups';
import { formatTime } from '../../lib/time';

interface AuditList {
  items: AuditEntry[];
  next_cursor: number | null;
}
type Outcome = 'success' | 'failure' | 'denied';
type ActorType = 'user' | 'token' | 'system' | 'anonymous';
interface AuditFilter {
  action?: string;
  actor_type?: ActorType;
  outcome?: Outcome;
  target_type?: string;
  from?: string;
  to?: string;
}

/** Where audit events also go as syslog (docs/audit.md): the target and its state, or that none is set. */
function SyslogTarget() {
  const state = useQuery({
    queryKey: [...keys.audit, 'syslog'],
    queryFn: () => must(api.GET('/api/v1/audit/syslog')),
    refetchInterval: 10_000,
  });
  const s = state.data;
  if (s === undefined) return null;
  if (!s.configured) {
    return (
      <Text size="sm" c="dimmed">
        Syslog copy: not configured (PORTCULLIS_SYSLOG_URL)
      </Text>
    );
  }
  return (
    <Text size="sm" aria-label="Syslog copy of the audit log">
      Syslog copy → <code>{s.target}</code>{' '}
      <Badge color={s.connected ? 'green' : 'red'}>{s.connected ? 'connected' : 'not connected'}</Badge> · sent {s.sent} ·
      queued {s.queued} · dropped {s.dropped}
      {s.forwarding ? '' : ' · another server of the cluster sends the rows now'}
      {s.last_error ? ` · last error: ${s.last_error}` : ''}
    </Text>
  );
}

export function AuditPage() {
  const [filter, setFilter] = useState<AuditFilter>({});
  const set = (patch: AuditFilter) => setFilter((f) => ({ ...f, ...patch }));
  const audit = useInfiniteQuery<AuditList, Error, { pages: AuditList[] }, readonly unknown[], number | undefined>({
    queryKey: [...keys.audit, filter],
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    queryFn: ({ pageParam }) =>
      must(api.GET('/api/v1/audit', { params: { query: { ...filter, limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } })),
  });
  const day = (v: string, end: boolean) => (v ? new Date(`${v}T${end ? '23:59:59' : '00:00:00'}Z`).toISOString() : undefined);
  return (
    <Page title="Audit log">
      <SyslogTarget />
      <Group align="end" wrap="wrap" role="search" aria-label="Filter the audit log">
        <TextInput label="Action (prefix with .*)" placeholder="e.g. user.*" onChange={(e) => set({ action: e.currentTarget.value.trim() || undefined })} />
        <Select
          label="Actor type"
          clearable
          data={['user', 'token', 'system', 'anonymous']}
          value={filter.actor_type ?? null}
          onChange={(v) => set({ actor_type: (v) ?? undefined })}
        />
        <Select
          label="Outcome"
          clearable
          data={['success', 'failure', 'denied']}
          value={filter.outcome ?? null}
          onChange={(v) => set({ outcome: (v) ?? undefined })}
        />
        <TextInput label="Target type" onChange={(e) => set({ target_type: e.currentTarget.value.trim() || undefined })} />
        <TextInput label="From day" type="date" onChange={(e) => set({ from: day(e.currentTarget.value, false) })} />
        <TextInput label="To day" type="date" onChange={(e) => set({ to: day(e.currentTarget.value, true) })} />
      </Group>
      <Loaded query={{ data: audit.data, error: audit.error, isPending: audit.isPending }}>
        {(data) => (
          <Stack>
            <DataTable<AuditEntry>
              caption="Audit entries, newest first"
              rows={data.pages.flatMap((p) => p.items)}
              rowKey={(e) => String(e.id)}
              empty="Nothing matches."
              columns={[
                { header: 'When', cell: (e) => formatTime(e.created_at) },
                { header: 'Actor', cell: (e) => `${e.actor_type} ${e.actor_name ?? ''}` },
                { header: 'Action', cell: (e) => <code>{e.action}</code> },
                { header: 'Target', cell: (e) => (e.target_type ? `${e.target_type} ${e.target_id?.slice(0, 8) ?? ''}` : '—') },
                {
                  header: 'Outcome',
                  cell: (e) => <Badge color={e.outcome === 'success' ? 'green' : e.outcome === 'denied' ? 'orange' : 'red'}>{e.outcome}</Badge>,
                },
                { header: 'From', cell: (e) => e.source_ip ?? '—' },
              ]}
            />
            {audit.hasNextPage ? (
              <Group>
                <Button variant="light" onClick={() => void audit.fetchNextPage()} loading={audit.isFetchingNextPage}>
                  Load older entries
                </Button>
              </Group>
            ) : null}
          </Stack>
        )}
      </Loaded>
    </Page>
  );
}
