/**
 * Drift (`gateway.drift`, docs/drift.md): counts by severity and pending/resolved, "Check now" for a site (what each
 * gateway's check found, and why a resource type was skipped), the drift events with filters and their resolution
 * (reapply = a staged pending change to review, accept = the device becomes the baseline, ignore), and the
 * suppression rules (create, deactivate). Firewall rules and aliases are compared with their baseline; VLAN
 * interfaces, DHCP scopes and reservations, DNS overrides (on the site's brain) and bridge VLANs (on its limbs) with
 * the canonical state, which only its own pages change: those events offer no Accept.
 */
import { Alert, Badge, Button, Card, Group, List, Modal, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { DriftCheck, DriftEvent, DriftResolved, DriftResourceType, DriftSuppression } from '../../api/types';
import { ObjectTable } from '../../components/ObjectTable';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { LIVE, liveKeys } from '../../lib/live';
import { nameOf, optionsOf, useGateways, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';

const key = [...liveKeys.firewall, 'drift'];
const SEVERITIES = ['critical', 'warning', 'info'] as const satisfies readonly DriftEvent['severity'][];
const SEVERITY_COLOR: Record<DriftEvent['severity'], string> = { critical: 'red', warning: 'orange', info: 'gray' };
const DRIFT_TYPES = ['resource_missing', 'resource_modified', 'resource_added', 'suppression_violated', 'tag_removed'] as const satisfies readonly DriftEvent['drift_type'][];
const STATUSES = ['open', 'remediating', 'resolved'] as const satisfies readonly DriftEvent['status'][];
const BASELINE_TYPES = ['firewall_rule', 'alias'] as const satisfies readonly DriftResourceType[];
const CANONICAL_TYPES = ['vlan_interface', 'dhcp_scope', 'dhcp_reservation', 'dns_override', 'bridge_vlan'] as const satisfies readonly DriftResourceType[];
const RESOURCE_TYPES = [...BASELINE_TYPES, ...CANONICAL_TYPES];
type MissingResourceType = Exclude<DriftResourceType, (typeof RESOURCE_TYPES)[number]>;
const allResourceTypesListed: MissingResourceType extends never ? true : MissingResourceType = true;
void allResourceTypesListed;
const isCanonical = (type: string) => (CANONICAL_TYPES as readonly string[]).includes(type);
const options = (values: readonly string[]) => values.map((v) => ({ value: v, label: v.replace(/_/g, ' ') }));

function Count({ label, value, color }: { label: string; value: number | undefined; color?: string | undefined }) {
  return (
    <Card withBorder padding="sm">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={22} fw={700} c={value ? color : undefined}>
        {value ?? '—'}
      </Text>
    </Card>
  );
}

export function DriftPage() {
  const me = useMe();
  const gateways = useGateways();
  const summary = useQuery({ queryKey: [...key, 'summary'], ...LIVE, queryFn: () => must(api.GET('/api/v1/firewall/drift/summary')) });
  const [outcome, setOutcome] = useState<string | null>(null);
  const resolve = useAction(
    ({ event, resolution }: { event: DriftEvent; resolution: 'reapply' | 'accept' | 'ignore' }) =>
      must(api.POST('/api/v1/firewall/drift/events/{id}/resolve', { params: { path: { id: event.id } }, body: { resolution } })),
    { invalidate: [key], onSuccess: (result: DriftResolved) => setOutcome(describeResolution(result)) },
  );
  const gatewayName = (id: string) => nameOf(gateways.data?.items, id, (g) => g.name);
  return (
    <Page title="Drift">
      <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }}>
        <Count label="Pending" value={summary.data?.pending} color="orange" />
        {SEVERITIES.map((s) => (
          <Count key={s} label={`Pending ${s}`} value={summary.data?.pending_by_severity[s]} color={SEVERITY_COLOR[s]} />
        ))}
        <Count label="Resolved" value={summary.data?.resolved} />
        <Count label="Gateways not checked" value={summary.data?.gateways_not_checked} color="red" />
      </SimpleGrid>
      <CheckNow gatewayName={gatewayName} />
      {outcome ? (
        <Alert color="blue" title="Drift event resolved" withCloseButton onClose={() => setOutcome(null)}>
          {outcome}
        </Alert>
      ) : null}
      <ProblemAlert problem={resolve.problem} />
      <ObjectTable<DriftEvent>
        noun="drift event"
        caption="Drift events, most recently seen first"
        empty="No drift matches."
        queryKey={[...key, 'events']}
        label={(e) => e.resource_name}
        list={(q) => must(api.GET('/api/v1/firewall/drift/events', { params: { query: q } }))}
        filters={[
          { name: 'status', label: 'Status', options: options(STATUSES) },
          { name: 'severity', label: 'Severity', options: options(SEVERITIES) },
          { name: 'drift_type', label: 'Drift type', options: options(DRIFT_TYPES) },
          { name: 'resource_type', label: 'Resource type', options: options(RESOURCE_TYPES) },
          { name: 'device_id', label: 'Gateway', options: optionsOf(gateways.data?.items, (g) => g.name) },
        ]}
        fields={[]}
        columns={[
          { header: 'Last seen', cell: (e) => formatTime(e.last_seen_at) },
          { header: 'Gateway', cell: (e) => gatewayName(e.device_id) },
          { header: 'Severity', cell: (e) => <Badge color={SEVERITY_COLOR[e.severity]} variant="light">{e.severity}</Badge> },
          { header: 'Drift', cell: (e) => e.drift_type.replace(/_/g, ' ') },
          { header: 'Resource', cell: (e) => `${e.resource_type.replace(/_/g, ' ')} ${e.resource_name}` },
          { header: 'Compared with', cell: (e) => (isCanonical(e.resource_type) ? 'canonical state' : 'baseline') },
          { header: 'What changed', cell: (e) => e.message },
          { header: 'Checks', cell: (e) => e.occurrences },
          { header: 'Status', cell: (e) => (e.status === 'resolved' ? `resolved (${e.resolution ?? ''})` : e.status) },
        ]}
        rowActions={(e) =>
          e.status === 'open' && can(me.data, 'gateway.drift', e.site_id) ? (
            <Group gap={4} wrap="nowrap">
              <Button size="xs" variant="light" aria-label={`Reapply ${e.resource_name}`} onClick={() => resolve.mutate({ event: e, resolution: 'reapply' })}>
                Reapply
              </Button>
              {isCanonical(e.resource_type) ? null : (
                <Button size="xs" variant="default" aria-label={`Accept ${e.resource_name}`} onClick={() => resolve.mutate({ event: e, resolution: 'accept' })}>
                  Accept
                </Button>
              )}
              <Button size="xs" variant="subtle" aria-label={`Ignore ${e.resource_name}`} onClick={() => resolve.mutate({ event: e, resolution: 'ignore' })}>
                Ignore
              </Button>
            </Group>
          ) : null
        }
      />
      <Suppressions />
    </Page>
  );
}

function describeResolution(result: DriftResolved): string {
  const { event, pending_change: change } = result;
  if (event.status === 'remediating' && change) {
    return `${event.resource_name}: the restoring write is staged as pending change ${change.id}; review and apply it on Pending changes.`;
  }
  return `${event.resource_name}: ${event.resolution ?? event.status}.`;
}

function CheckNow({ gatewayName }: { gatewayName: (id: string) => string }) {
  const sites = useSites();
  const [siteId, setSiteId] = useState<string | null>(null);
  const check = useAction(
    (id: string) => must(api.POST('/api/v1/firewall/drift/check/{siteId}', { params: { path: { siteId: id } } })),
    { invalidate: [key] },
  );
  const result: DriftCheck | undefined = check.data;
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Group align="end">
          <Select label="Site to check" placeholder="Pick a site" data={optionsOf(sites.data?.items, (s) => s.name)} value={siteId} onChange={setSiteId} w={260} />
          <Button disabled={siteId === null} loading={check.isPending} onClick={() => siteId && check.mutate(siteId)}>
            Check now
          </Button>
        </Group>
        <ProblemAlert problem={check.problem} />
        {result ? (
          <List size="sm" aria-label="Check results">
            {result.gateways.length === 0 ? <List.Item>The site has no gateways.</List.Item> : null}
            {result.gateways.map((g) => (
              <List.Item key={g.gateway_id}>
                {gatewayName(g.gateway_id)}:{' '}
                {g.outcome === 'failed'
                  ? `not checked (${g.error?.vendor_code ?? g.error?.code ?? ''}: ${g.error?.message ?? ''})`
                  : g.baseline_taken
                    ? 'baseline taken (the next check compares with it)'
                    : `${g.opened.length} new, ${g.updated} seen again, ${g.cleared} cleared, ${g.suppressed} suppressed`}
                {g.skipped.map((s) => ` · ${s.resource_type} skipped: ${s.reason}`).join('')}
              </List.Item>
            ))}
          </List>
        ) : null}
      </Stack>
    </Card>
  );
}

function Suppressions() {
  const me = useMe();
  const sites = useSites();
  const list = useQuery({ queryKey: [...key, 'suppressions'], queryFn: () => must(api.GET('/api/v1/firewall/drift/suppressions', { params: { query: { limit: 500 } } })) });
  const [creating, setCreating] = useState(false);
  const deactivate = useAction(
    (s: DriftSuppression) => must(api.DELETE('/api/v1/firewall/drift/suppressions/{id}', { params: { path: { id: s.id } } })),
    { invalidate: [key] },
  );
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text fw={600}>Suppression rules</Text>
        <Button size="xs" onClick={() => setCreating(true)}>
          New suppression
        </Button>
      </Group>
      <ProblemAlert problem={deactivate.problem} />
      <Loaded query={list}>
        {(data) => (
          <DataTable<DriftSuppression>
            caption="Active suppressions: silence a drift type, or forbid matching resources"
            rows={data.items}
            rowKey={(s) => s.id}
            empty="No suppressions."
            columns={[
              { header: 'Site', cell: (s) => nameOf(sites.data?.items, s.site_id, (x) => x.name) },
              { header: 'Resource', cell: (s) => `${s.resource_type.replace(/_/g, ' ')} ${s.pattern}` },
              { header: 'Mode', cell: (s) => (s.mode === 'forbid' ? 'forbid' : `silence ${s.drift_type?.replace(/_/g, ' ') ?? 'all drift'}`) },
              { header: 'Reason', cell: (s) => s.reason },
              {
                header: 'Actions',
                cell: (s) =>
                  can(me.data, 'gateway.drift', s.site_id) ? (
                    <Button size="xs" color="red" variant="subtle" aria-label={`Deactivate suppression ${s.pattern}`} onClick={() => deactivate.mutate(s)}>
                      Deactivate
                    </Button>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New suppression" size="lg">
        <NewSuppression sites={optionsOf(sites.data?.items, (s) => s.name)} onDone={() => setCreating(false)} />
      </Modal>
    </Stack>
  );
}

function NewSuppression({ sites, onDone }: { sites: { value: string; label: string }[]; onDone: () => void }) {
  const form = useForm({
    initialValues: { site_id: '', resource_type: 'firewall_rule', pattern: '', mode: 'silence', drift_type: '', reason: '' },
  });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/firewall/drift/suppressions', {
          body: {
            site_id: v.site_id,
            resource_type: v.resource_type as DriftResourceType,
            pattern: v.pattern.trim(),
            mode: v.mode as 'silence' | 'forbid',
            drift_type: v.mode === 'forbid' || v.drift_type === '' ? null : (v.drift_type as DriftEvent['drift_type']),
            reason: v.reason.trim(),
          },
        }),
      ),
    { invalidate: [key], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <Select label="Site" required data={sites} {...form.getInputProps('site_id')} />
        <Select label="Resource type" required data={options(RESOURCE_TYPES)} {...form.getInputProps('resource_type')} />
        <TextInput label="Pattern" required description="Matched against the resource's id and name; * and ? are wildcards" {...form.getInputProps('pattern')} />
        <Select
          label="Mode"
          required
          data={[
            { value: 'silence', label: 'silence: this drift is expected' },
            { value: 'forbid', label: 'forbid: a matching resource must not exist' },
          ]}
          {...form.getInputProps('mode')}
        />
        {form.getValues().mode === 'silence' ? (
          <Select label="Drift type" placeholder="Any drift" clearable data={options(DRIFT_TYPES.filter((t) => t !== 'suppression_violated'))} {...form.getInputProps('drift_type')} />
        ) : null}
        <TextInput label="Reason" required {...form.getInputProps('reason')} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Create suppression
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
