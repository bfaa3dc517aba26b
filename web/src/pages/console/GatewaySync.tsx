/**
 * Gateway sync: the gateways counted by reachability and sync state, "Sync now" per gateway (live rules, NAT, VPN,
 * interfaces, aliases and log into the tables) with what the sync changed or the error it met, and a connection
 * test of a saved gateway with some fields overridden (nothing is saved).
 */
import { Alert, Badge, Button, Card, Checkbox, Group, Modal, NumberInput, SimpleGrid, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { GatewaySummary, SyncReport } from '../../api/changes-types';
import type { ApiProblem } from '../../api/problem';
import type { Gateway, GatewayTest } from '../../api/types';
import { MONO } from '../../components/ConfigSource';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { toProblem, useAction, useApiForm } from '../../lib/forms';
import { LIVE } from '../../lib/live';
import { useGateways } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';

/** Under the `firewall` prefix, so a refresh of firewall data on a sync or reachability event reaches it. */
const summaryKey = ['firewall', 'gateways', 'summary'] as const;

export function useGatewaySummary(enabled = true) {
  return useQuery({
    queryKey: summaryKey,
    enabled,
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/firewall/gateways/summary')),
  });
}

function Count({ label, value, color }: { label: string; value: number; color?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={24} fw={700} c={color}>
        {value}
      </Text>
    </Card>
  );
}

/** The gateway counts (dashboard and this page): reachability by the health poll, and the last sync's outcome. */
export function GatewaySummaryCards() {
  const summary = useGatewaySummary();
  return (
    <section aria-label="Gateway counts">
      <Loaded query={summary}>
        {(s: GatewaySummary) => (
          <SimpleGrid cols={{ base: 2, sm: 4, lg: 7 }}>
            <Count label="Gateways" value={s.total} />
            <Count label="Online" value={s.online} color={s.online > 0 ? 'green' : undefined} />
            <Count label="Offline" value={s.offline} color={s.offline > 0 ? 'red' : undefined} />
            <Count label="Reachability unknown" value={s.unknown} />
            <Count label="Synced" value={s.sync.ok} />
            <Count label="Sync failed" value={s.sync.failed} color={s.sync.failed > 0 ? 'red' : undefined} />
            <Count label="Never synced" value={s.sync.never} />
          </SimpleGrid>
        )}
      </Loaded>
    </section>
  );
}

type SyncOutcome = { at: string; report: SyncReport; problem: null } | { at: string; report: null; problem: ApiProblem };

const AREAS = ['rules', 'nat', 'vpn', 'interfaces', 'aliases'] as const;

function reportText(report: SyncReport): string {
  const areas = AREAS.flatMap((area) => {
    const c = report[area];
    return c ? [`${area} +${c.created} ~${c.updated} −${c.deleted}`] : [];
  });
  const logs = report.logs ? [`log ${report.logs.ingested} lines`] : [];
  return [...areas, ...logs, `${report.duration_ms} ms`].join(' · ');
}

export function GatewaySyncPage() {
  const me = useMe();
  const gateways = useGateways();
  const [fullSync, setFullSync] = useState(false);
  const [outcomes, setOutcomes] = useState<Record<string, SyncOutcome>>({});
  const [testing, setTesting] = useState<Gateway | null>(null);
  const sync = useAction(
    (id: string) => must(api.POST('/api/v1/firewall/gateways/{id}/sync', { params: { path: { id } }, body: { full_sync: fullSync } })),
    {
      invalidate: [summaryKey],
      onSuccess: (report, id) => setOutcomes((all) => ({ ...all, [id]: { at: new Date().toISOString(), report, problem: null } })),
    },
  );
  const syncNow = (id: string) =>
    sync.mutate(id, {
      onError: (err, gid) => setOutcomes((all) => ({ ...all, [gid]: { at: new Date().toISOString(), report: null, problem: toProblem(err) } })),
    });
  return (
    <Page title="Gateway sync">
      <GatewaySummaryCards />
      <Switch label="Full sync (rewrite every row, not only changed ones)" checked={fullSync} onChange={(e) => setFullSync(e.currentTarget.checked)} />
      <ProblemAlert problem={sync.problem} title="Sync failed" />
      <Loaded query={gateways}>
        {(data) => (
          <DataTable<Gateway>
            caption="Sync each gateway's live state into Portcullis"
            rows={data.items}
            rowKey={(g) => g.id}
            empty="No gateways yet."
            columns={[
              { header: 'Gateway', cell: (g) => g.name },
              {
                header: 'Last sync (this session)',
                cell: (g) => {
                  const o = outcomes[g.id];
                  if (!o) return <Text size="sm" c="dimmed">not synced from this page</Text>;
                  return o.report ? (
                    <Stack gap={2} data-testid={`sync-${g.name}`}>
                      <Badge color="green" variant="light">
                        synced {new Date(o.at).toLocaleTimeString()}
                      </Badge>
                      <Text size="xs">{reportText(o.report)}</Text>
                    </Stack>
                  ) : (
                    <Stack gap={2} data-testid={`sync-${g.name}`}>
                      <Badge color="red" variant="light">
                        failed · {o.problem.code}
                      </Badge>
                      <Text size="xs">{o.problem.message}</Text>
                    </Stack>
                  );
                },
              },
              {
                header: 'Actions',
                cell: (g) =>
                  can(me.data, 'firewall.manage_rules', g.site_id) ? (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" onClick={() => syncNow(g.id)} loading={sync.isPending && sync.variables === g.id} aria-label={`Sync now: ${g.name}`}>
                        Sync now
                      </Button>
                      <Button size="xs" variant="light" onClick={() => setTesting(g)} aria-label={`Test ${g.name} with overrides`}>
                        Test…
                      </Button>
                    </Group>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={testing !== null} onClose={() => setTesting(null)} title={`Test ${testing?.name ?? ''}`} size="lg">
        {testing ? <TestWithOverrides gateway={testing} /> : null}
      </Modal>
    </Page>
  );
}

/** Tests a saved gateway with the stored credentials and the fields given here replacing the saved ones. */
function TestWithOverrides({ gateway }: { gateway: Gateway }) {
  const [result, setResult] = useState<GatewayTest | null>(null);
  const form = useForm({
    initialValues: { host: '', port: '' as number | string, override_tls: false, verify_ssl: gateway.verify_ssl, fingerprint_sha256: '' },
  });
  const submit = useApiForm(
    form,
    (v) => {
      setResult(null);
      return must(
        api.POST('/api/v1/firewall/gateways/{id}/test', {
          params: { path: { id: gateway.id } },
          body: {
            ...(v.host.trim() ? { host: v.host.trim() } : {}),
            ...(typeof v.port === 'number' ? { port: v.port } : {}),
            ...(v.override_tls ? { verify_ssl: v.verify_ssl, fingerprint_sha256: v.fingerprint_sha256.trim() || null } : {}),
          },
        }),
      );
    },
    { onSuccess: setResult },
  );
  return (
    <form noValidate onSubmit={submit.onSubmit}>
      <Stack>
        <Text size="sm">Empty fields keep the saved value ({gateway.url}). Nothing is saved.</Text>
        <TextInput label="Host" {...form.getInputProps('host')} />
        <NumberInput label="Port" min={1} max={65535} allowDecimal={false} {...form.getInputProps('port')} />
        <Checkbox label="Override the certificate check" {...form.getInputProps('override_tls', { type: 'checkbox' })} />
        {form.getValues().override_tls ? (
          <>
            <Switch label="Verify the certificate" {...form.getInputProps('verify_ssl', { type: 'checkbox' })} />
            <TextInput label="Pinned certificate fingerprint (SHA-256)" styles={MONO} {...form.getInputProps('fingerprint_sha256')} />
          </>
        ) : null}
        <ProblemAlert problem={submit.problem} />
        {result?.ok ? (
          <Alert color="green" title="Connection works" role="status">
            {result.version} · API {result.api_version}
          </Alert>
        ) : null}
        {result && !result.ok && result.error ? (
          <Alert color="red" title={`Test failed: ${result.error.code}`} role="alert">
            {result.error.message}
          </Alert>
        ) : null}
        <Group>
          <Button type="submit" loading={submit.pending}>
            Test connection
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
