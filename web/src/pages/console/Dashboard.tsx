/**
 * The console's first page: gateways online/offline, knocs and live grants, device errors with their codes
 * and remedies, the orchestration roll-up, recent events (pushed by the events stream) and audit entries — and, while the emulated lab's demo knoc is there, a one-click demo grant.
 */
import { Badge, Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQueries, useQuery } from '@tanstack/react-query';
import { api, must } from '../../api/client';
import type { Gateway } from '../../api/types';
import { GatewaySummaryCards } from './GatewaySync';
import { OrchestrationOverview } from './OrchestrationOverview';
import { Countdown } from '../../components/Countdown';
import { DeviceError, SyncBadge } from '../../components/DeviceState';
import { DataTable, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { LIVE, liveKeys, type StreamEvent, useRecentEvents, useStreamUp } from '../../lib/live';
import { useGateways, useKnocs } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';

/** The knoc the emulated lab registers on first start (docs/lab.md). */
export const LAB_KNOC = 'lab-demo';

export function DashboardPage() {
  const me = useMe();
  const mayView = can(me.data, 'access.view');
  const gateways = useGateways(can(me.data, 'gateway.view'));
  const knocs = useKnocs(mayView);
  const live = useQuery({
    queryKey: [...liveKeys.grants, 'dashboard'],
    enabled: mayView,
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/access/grants', { params: { query: { status: 'live', limit: 500 } } })),
  });
  const statuses = useQueries({
    queries: (knocs.data?.items ?? []).map((k) => ({
      queryKey: liveKeys.knocStatus(k.id),
      ...LIVE,
      queryFn: () => must(api.GET('/api/v1/access/knocs/{id}/status', { params: { path: { id: k.id } } })),
    })),
  });
  const errors = (knocs.data?.items ?? []).flatMap((k, i) => {
    const error = statuses[i]?.data?.error;
    return error ? [{ knoc: k.name, error }] : [];
  });
  return (
    <Page title="Dashboard">
      <FirstRun />
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Stat label="Gateways" value={gateways.data?.items.length} />
        <Stat label="Knocs" value={knocs.data?.items.length} />
        <Stat label="Live grants" value={live.data?.items.length} />
      </SimpleGrid>
      {can(me.data, 'firewall.view') ? <GatewaySummaryCards /> : null}
      {gateways.data && gateways.data.items.length > 0 ? <GatewayHealth gateways={gateways.data.items} /> : null}
      {can(me.data, 'gateway.view') ? <OrchestrationOverview /> : null}
      <Title order={2} size="h3">
        Device errors
      </Title>
      {errors.length === 0 ? (
        <Text size="sm" c="dimmed">
          No knoc reports an error from its firewall.
        </Text>
      ) : (
        errors.map((e) => (
          <div key={e.knoc}>
            <Text fw={500}>{e.knoc}</Text>
            <DeviceError error={e.error} />
          </div>
        ))
      )}
      {can(me.data, 'audit.view') ? <RecentEvents /> : null}
    </Page>
  );
}

function Stat({ label, value }: { label: string; value: number | undefined }) {
  return (
    <Card withBorder padding="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700}>
        {value ?? '—'}
      </Text>
    </Card>
  );
}

function GatewayHealth({ gateways }: { gateways: Gateway[] }) {
  const me = useMe();
  const tests = useQueries({
    queries: gateways.map((g) => ({
      queryKey: ['gateways', g.id, 'test'],
      enabled: can(me.data, 'gateway.manage_topology', g.site_id),
      staleTime: 60_000,
      refetchInterval: 60_000,
      queryFn: () => must(api.POST('/api/v1/firewall/gateways/{id}/test', { params: { path: { id: g.id } }, body: {} })),
    })),
  });
  return (
    <Stack gap="xs">
      <Title order={2} size="h3">
        Gateways
      </Title>
      <Group gap="xs">
        {gateways.map((g, i) => {
          const t = tests[i]?.data;
          const color = t === undefined ? 'gray' : t.ok ? 'green' : 'red';
          const state = t === undefined ? 'not tested' : t.ok ? 'online' : `offline (${t.error?.code ?? ''})`;
          return (
            <Badge key={g.id} color={color} variant="light" size="lg" title={t?.error?.message}>
              {g.name}: {state}
            </Badge>
          );
        })}
      </Group>
    </Stack>
  );
}

/**
 * The events stream's newest events (pushed, no polling), then the last audit entries — re-read whenever the
 * stream brings an event (the audit key is live).
 */
function RecentEvents() {
  const streamUp = useStreamUp();
  const events = useRecentEvents();
  const audit = useQuery({
    queryKey: [...liveKeys.audit, 'recent'],
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/audit', { params: { query: { limit: 10 } } })),
  });
  return (
    <Stack gap="xs">
      <Group gap="sm">
        <Title order={2} size="h3">
          Recent events
        </Title>
        <Badge color={streamUp ? 'green' : 'gray'} variant="light" data-testid="stream-state">
          {streamUp ? 'live' : 'reconnecting'}
        </Badge>
      </Group>
      <DataTable<StreamEvent>
        caption="Events since this page opened, newest first"
        rows={events.slice(0, 10)}
        rowKey={(e) => String(e.id)}
        empty="No events since this page opened."
        columns={[
          { header: 'When', cell: (e) => formatTime(e.created_at) },
          { header: 'Event', cell: (e) => <code>{e.type}</code> },
          { header: 'Details', cell: (e) => eventDetails(e) },
        ]}
      />
      <DataTable
        caption="The last ten audit entries"
        rows={audit.data?.items ?? []}
        rowKey={(e) => String(e.id)}
        empty="No audit entries yet."
        columns={[
          { header: 'When', cell: (e) => formatTime(e.created_at) },
          { header: 'Who', cell: (e) => e.actor_name ?? e.actor_type },
          { header: 'What', cell: (e) => <code>{e.action}</code> },
          { header: 'Outcome', cell: (e) => e.outcome },
        ]}
      />
    </Stack>
  );
}

/** The payload's plain values (address, code, reason), short. */
function eventDetails(e: StreamEvent): string {
  return Object.entries(e.payload)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .filter(([k]) => !k.endsWith('_id'))
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');
}

/** While the lab's demo knoc is assigned to you: one click grants your address and shows it go live. */
function FirstRun() {
  const portal = useQuery({ queryKey: liveKeys.portal, ...LIVE, queryFn: () => must(api.GET('/api/v1/portal/me')) });
  const knoc = portal.data?.knocs.find((k) => k.knoc_name === LAB_KNOC);
  const grant = portal.data?.grants.find((g) => g.knoc_id === knoc?.knoc_id);
  const demo = useAction(
    (knocId: string) => must(api.POST('/api/v1/portal/grants/{knocId}', { params: { path: { knocId } }, body: {} })),
    { invalidate: [liveKeys.portal, liveKeys.grants] },
  );
  if (!knoc) return null;
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="demo-heading" bg="var(--mantine-color-blue-light)">
      <Stack gap="xs">
        <Title order={2} size="h4" id="demo-heading">
          Try it on the emulated lab: demo grant
        </Title>
        <Text size="sm">
          This server runs an emulated firewall lab with the knoc <b>{LAB_KNOC}</b>. One click puts your address (
          {portal.data?.ip}) on its alias; watch it turn live on the firewall, then revoke it from Grants or sign out.
        </Text>
        {grant ? (
          <Group gap="xs">
            <SyncBadge state={grant.sync_state} />
            <Text size="sm">time left</Text>
            <Countdown expiresAt={grant.expires_at} />
          </Group>
        ) : (
          <Group>
            <Button onClick={() => demo.mutate(knoc.knoc_id)} loading={demo.isPending}>
              Demo grant on {LAB_KNOC}
            </Button>
          </Group>
        )}
        <DeviceError error={knoc.error} />
        <ProblemAlert problem={demo.problem} />
      </Stack>
    </Card>
  );
}
