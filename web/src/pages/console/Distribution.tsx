/**
 * Distribution (`gateway.view`; docs/orchestration.md "Distribution"): the distributions of canonical VLANs to a
 * site's brain and limbs, newest first; a detail with the plan and per-step results (tier, device, what it did, its
 * status, the compensation it recorded and the read-back); "Distribute" (plan only, or run now), and Run / Retry /
 * Roll back for those who hold `gateway.distribute` at the site.
 */
import { Alert, Badge, Button, Card, Checkbox, Code, Group, Select, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { DistributionDetail, DistributionStep, DistributionSummary } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { liveKeys } from '../../lib/live';
import { nameOf, optionsOf, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';

const key = [...liveKeys.firewall, 'distribution'];
const STATUS_COLOR: Record<string, string> = {
  planned: 'gray',
  running: 'blue',
  completed: 'green',
  failed: 'red',
  rolling_back: 'orange',
  rolled_back: 'gray',
  rollback_failed: 'red',
  done: 'green',
  compensated: 'gray',
  compensation_failed: 'red',
  skipped: 'gray',
  pending: 'gray',
};
const status = (value: string) => (
  <Badge color={STATUS_COLOR[value] ?? 'gray'} variant="light">
    {value.replace(/_/g, ' ')}
  </Badge>
);

export function DistributionPage() {
  const sites = useSites();
  const [selected, setSelected] = useState<string | null>(null);
  const list = useQuery({ queryKey: [...key, 'list'], queryFn: () => must(api.GET('/api/v1/firewall/distribution', { params: { query: { limit: 200 } } })) });
  return (
    <Page title="Distribution">
      <Trigger onDone={setSelected} />
      <Loaded query={list}>
        {(data) => (
          <DataTable<DistributionSummary>
            caption="Distributions, newest first"
            rows={data.items}
            rowKey={(d) => d.id}
            empty="No distribution yet."
            columns={[
              { header: 'Created', cell: (d) => formatTime(d.created_at) },
              { header: 'Site', cell: (d) => nameOf(sites.data?.items, d.site_id, (s) => s.name) },
              { header: 'VLAN', cell: (d) => `${d.vlan_tag} ${d.vlan_name}` },
              { header: 'Status', cell: (d) => status(d.status) },
              { header: 'Attempt', cell: (d) => d.attempt },
              {
                header: 'Actions',
                cell: (d) => (
                  <Button size="xs" variant="light" aria-label={`Open distribution of VLAN ${d.vlan_tag}`} onClick={() => setSelected(d.id)}>
                    Open
                  </Button>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      {selected ? <Detail id={selected} /> : null}
    </Page>
  );
}

function Trigger({ onDone }: { onDone: (id: string) => void }) {
  const sites = useSites();
  const [siteId, setSiteId] = useState<string | null>(null);
  const [vlanId, setVlanId] = useState<string | null>(null);
  const [force, setForce] = useState(false);
  const vlans = useQuery({
    queryKey: ['vlans', siteId],
    enabled: siteId !== null,
    queryFn: () => must(api.GET('/api/v1/firewall/vlans', { params: { query: { site_id: siteId as string, limit: 500 } } })),
  });
  const trigger = useAction(
    () => must(api.POST('/api/v1/firewall/distribution/trigger', { body: { site_id: siteId ?? '', vlan_id: vlanId ?? '', force } })),
    { invalidate: [key], onSuccess: (d: DistributionDetail) => onDone(d.id) },
  );
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Group align="end">
          <Select label="Site" placeholder="Pick a site" data={optionsOf(sites.data?.items, (s) => s.name)} value={siteId} onChange={(v) => (setSiteId(v), setVlanId(null))} w={220} />
          <Select
            label="Canonical VLAN"
            placeholder="Pick a VLAN"
            data={(vlans.data?.items ?? []).map((v) => ({ value: v.id, label: `${v.vlan_id} ${v.name}` }))}
            value={vlanId}
            onChange={setVlanId}
            w={220}
          />
          <Checkbox label="Run now (write to the devices)" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} />
          <Button disabled={siteId === null || vlanId === null} loading={trigger.isPending} onClick={() => trigger.mutate()}>
            Distribute
          </Button>
        </Group>
        <Text size="xs" c="dimmed">
          Without “Run now” the distribution is only planned: each device is read and every step shows what it would do.
        </Text>
        <ProblemAlert problem={trigger.problem} />
      </Stack>
    </Card>
  );
}

function Detail({ id }: { id: string }) {
  const me = useMe();
  const detail = useQuery({ queryKey: [...key, 'detail', id], queryFn: () => must(api.GET('/api/v1/firewall/distribution/{id}', { params: { path: { id } } })) });
  const retry = useAction(() => must(api.POST('/api/v1/firewall/distribution/{id}/retry', { params: { path: { id } }, body: {} })), { invalidate: [key] });
  const rollback = useAction(
    () => must(api.POST('/api/v1/firewall/distribution/{id}/rollback', { params: { path: { id } }, body: { confirmed: true } })),
    { invalidate: [key] },
  );
  return (
    <Loaded query={detail}>
      {(d) => {
        const mayWrite = can(me.data, 'gateway.distribute', d.site_id);
        const busy = retry.isPending || rollback.isPending;
        return (
          <Card withBorder aria-label="Distribution detail">
            <Stack gap="xs">
              <Group justify="space-between">
                <Text fw={600} component="div">
                  VLAN {d.vlan_tag} {d.vlan_name}: {status(d.status)} (attempt {d.attempt})
                </Text>
                {mayWrite ? (
                  <Group gap="xs">
                    {['planned', 'failed', 'rolled_back'].includes(d.status) ? (
                      <Button size="xs" loading={retry.isPending} disabled={busy} onClick={() => retry.mutate()}>
                        {d.status === 'planned' ? 'Run' : 'Retry'}
                      </Button>
                    ) : null}
                    {['completed', 'failed', 'rollback_failed'].includes(d.status) ? (
                      <Button size="xs" color="red" variant="light" loading={rollback.isPending} disabled={busy} onClick={() => rollback.mutate()}>
                        Roll back
                      </Button>
                    ) : null}
                  </Group>
                ) : null}
              </Group>
              {d.error ? (
                <Alert color={d.status === 'planned' ? 'yellow' : 'red'} title={d.error.code.replace(/_/g, ' ')}>
                  {d.error.message}
                </Alert>
              ) : null}
              <ProblemAlert problem={retry.problem ?? rollback.problem} />
              <Text size="sm">
                Brain parent port: <Code>{d.placement.brain_parent ?? '(worked out when it runs)'}</Code>
              </Text>
              <DataTable<DistributionStep>
                caption="Plan and per-step results"
                rows={d.steps}
                rowKey={(s) => s.id}
                empty="No step yet."
                columns={[
                  { header: 'Tier', cell: (s) => (s.tier === 0 ? '0 reachability' : s.tier === 1 ? '1 brain' : `${s.tier} limb`) },
                  { header: 'Device', cell: (s) => s.device_name },
                  { header: 'Step', cell: (s) => `${s.kind.replace(/_/g, ' ')} ${s.resource_key}` },
                  { header: 'Action', cell: (s) => s.action },
                  { header: 'Status', cell: (s) => status(s.status) },
                  { header: 'Compensation', cell: (s) => compensationOf(s) },
                  { header: 'Error', cell: (s) => errorOf(s) },
                ]}
              />
            </Stack>
          </Card>
        );
      }}
    </Loaded>
  );
}

function compensationOf(step: DistributionStep): string {
  const c = step.compensation as { op?: string; target?: string | null } | null;
  if (c === null || c === undefined) return step.action === 'noop' ? 'none (already in place)' : '—';
  return `${c.op ?? ''} ${c.target ?? '(what it creates)'}`;
}

function errorOf(step: DistributionStep): string {
  const e = step.error as { message?: string; vendor_code?: string | null } | null;
  if (e === null || e === undefined) return '';
  return `${e.vendor_code ? `${e.vendor_code}: ` : ''}${e.message ?? ''}`;
}
