/**
 * Import (`gateway.import`; docs/orchestration.md "Brownfield import" and "Reconciliation"): the six-step wizard
 * for a site whose devices already run VLANs, DHCP and DNS — start (step 1 discovers the site's gateways), pick the
 * brain and limbs (step 2, then the scan), decide per resource (step 4), distribute (step 5, then the
 * verification) — each step one call of the API; and the reconciliation of a site with a role map: alignment per
 * resource and device, import from the brain (orphans flagged), distribute to limbs.
 */
import { Alert, Badge, Button, Checkbox, Group, List, Select, Stack, Stepper, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, must } from '../../api/client';
import type { Alignment, AlignmentItem, ImportSession, ImportStep, LimbDistribution, ReconciliationImport } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { optionsOf, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';

/*
 * Step results are free-form in the API (`result: unknown`, one shape per step, listed in the schema's
 * description); these are the parts the page shows.
 */
interface Device {
  gateway_id: string;
  name: string;
  vendor: string;
  possible_roles: Array<'brain' | 'limb'>;
  reachable: boolean;
  error: { message: string } | null;
  vlans: unknown[];
  dhcp_scopes: unknown[];
  dhcp_reservations: unknown[];
  dns_records: unknown[];
  bridge_vlans: unknown[];
}
interface Resource {
  key: string;
  kind: string;
  name: string;
  status: string;
  differences: string[];
  limbs: Array<{ name: string; carries: boolean }>;
  decisions: string[];
  suggested: string;
}
interface Plan {
  changes: Array<{ key: string; action: string }>;
  distribute: Array<{ vlan_id: number }>;
  notes: string[];
}
interface Distributed {
  changes: Array<{ key: string; action: string }>;
  distributions: Array<{ vlan_id: number; distribution: { id: string; status: string; error: { message: string } | null } | null; error: { message: string } | null }>;
}
interface Verified {
  aligned: boolean;
  unaligned: Array<{ key: string; status: string; message: string | null }>;
  counts: Record<string, number>;
  items: Array<AlignmentItem & { decision: string }>;
}

const STATUS_COLOR: Record<string, string> = { aligned: 'green', missing: 'orange', modified: 'yellow', extra: 'blue', error: 'red' };
const statusBadge = (status: string) => (
  <Badge color={STATUS_COLOR[status] ?? 'gray'} variant="light">
    {status}
  </Badge>
);
const sessionKey = (id: string) => ['import', id];
const result = <T,>(session: ImportSession, step: number): T => (session.steps[step - 1] as ImportStep).result as T;

export function ImportPage() {
  const me = useMe();
  const sites = useSites();
  const [siteId, setSiteId] = useState<string | null>(null);
  useEffect(() => {
    if (siteId === null && sites.data?.items[0]) setSiteId(sites.data.items[0].id);
  }, [siteId, sites.data]);
  return (
    <Page title="Import">
      <Select label="Site" data={optionsOf(sites.data?.items, (s) => s.name)} value={siteId} onChange={setSiteId} w={320} allowDeselect={false} />
      {siteId ? (
        <>
          {can(me.data, 'gateway.import', siteId) ? <Wizard key={`w-${siteId}`} siteId={siteId} /> : null}
          <Reconciliation key={`r-${siteId}`} siteId={siteId} />
        </>
      ) : (
        <Text size="sm">No site you can see.</Text>
      )}
    </Page>
  );
}

function Wizard({ siteId }: { siteId: string }) {
  const client = useQueryClient();
  const [sessionId, setSessionId] = useState<string | null>(null);
  const sessions = useQuery({
    queryKey: ['import', 'list', siteId],
    queryFn: () => must(api.GET('/api/v1/firewall/import', { params: { query: { site_id: siteId, limit: 10 } } })),
  });
  const start = useAction(() => must(api.POST('/api/v1/firewall/import/start', { body: { site_id: siteId } })), {
    invalidate: [['import', 'list', siteId]],
    onSuccess: (session) => {
      client.setQueryData(sessionKey(session.id), session);
      setSessionId(session.id);
    },
  });
  return (
    <Stack>
      <Title order={2} size="h3">
        Brownfield import
      </Title>
      <Text size="sm">
        Reads what the site&apos;s devices run and makes it the canonical state: nothing is written before step 5.
      </Text>
      <Group align="end">
        <Button onClick={() => start.mutate(undefined)} loading={start.isPending}>
          Start import
        </Button>
        <Select
          label="Or open a session"
          placeholder="Recent sessions"
          data={(sessions.data?.items ?? []).map((s) => ({ value: s.id, label: `${formatTime(s.created_at)} — ${s.status}, step ${s.current_step}` }))}
          value={sessionId}
          onChange={setSessionId}
          w={360}
        />
      </Group>
      <ProblemAlert problem={start.problem} />
      {sessionId ? <Session key={sessionId} id={sessionId} siteId={siteId} /> : null}
    </Stack>
  );
}

function Session({ id, siteId }: { id: string; siteId: string }) {
  const client = useQueryClient();
  const session = useQuery({ queryKey: sessionKey(id), queryFn: () => must(api.GET('/api/v1/firewall/import/{id}', { params: { path: { id } } })) });
  const done = (s: ImportSession) => {
    client.setQueryData(sessionKey(id), s);
    void client.invalidateQueries({ queryKey: ['import', 'list', siteId] });
  };
  const step = useAction(
    (body: { step: number; payload?: Record<string, unknown>; force?: boolean }) =>
      must(api.POST('/api/v1/firewall/import/{id}/step', { params: { path: { id } }, body })),
    { onSuccess: done },
  );
  const cancel = useAction(() => must(api.POST('/api/v1/firewall/import/{id}/cancel', { params: { path: { id } } })), { onSuccess: done });
  return (
    <Loaded query={session}>
      {(s) => {
        const ended = s.status !== 'in_progress' && s.status !== 'running';
        return (
          <Stack>
            <Stepper active={s.status === 'completed' ? 6 : s.current_step - 1} size="sm" allowNextStepsSelect={false}>
              {s.steps.map((st) => (
                <Stepper.Step key={st.step} label={`${st.step}. ${st.name.replace('_', ' ')}`} description={st.status} />
              ))}
            </Stepper>
            <Group>
              <Text size="sm">
                Session <strong>{s.status.replace('_', ' ')}</strong>
                {s.next ? ` — waits for ${s.next.split(':')[0] ?? ''}` : ''}
              </Text>
              {!ended ? (
                <Button size="xs" color="red" variant="subtle" onClick={() => cancel.mutate(undefined)} loading={cancel.isPending}>
                  Cancel import
                </Button>
              ) : null}
            </Group>
            <ProblemAlert problem={step.problem ?? cancel.problem} />
            <Devices session={s} onSubmit={(roles) => step.mutate({ step: 2, payload: { roles } })} pending={step.isPending} />
            {s.current_step >= 4 ? <Decisions session={s} onSubmit={(decisions) => step.mutate({ step: 4, payload: { decisions } })} pending={step.isPending} /> : null}
            {s.current_step >= 5 ? <Distribute session={s} onSubmit={(force) => step.mutate({ step: 5, force })} pending={step.isPending} /> : null}
            {s.status === 'completed' ? <Verify session={s} /> : null}
          </Stack>
        );
      }}
    </Loaded>
  );
}

function Devices({ session, onSubmit, pending }: { session: ImportSession; onSubmit: (roles: Record<string, string>) => void; pending: boolean }) {
  const devices = result<{ devices: Device[] }>(session, 1).devices;
  const waiting = session.status === 'in_progress' && session.current_step === 2;
  const [roles, setRoles] = useState<Record<string, string>>(() =>
    Object.fromEntries(devices.filter((d) => d.reachable && d.possible_roles.length > 0).map((d) => [d.gateway_id, d.possible_roles[0] as string])),
  );
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        Discovered devices and their roles
      </Title>
      <DataTable<Device>
        caption="Gateways of the site, read live at step 1"
        rows={devices}
        rowKey={(d) => d.gateway_id}
        empty="No gateway at this site."
        columns={[
          { header: 'Gateway', cell: (d) => `${d.name} (${d.vendor})` },
          { header: 'Read', cell: (d) => (d.reachable ? 'yes' : `no: ${d.error?.message ?? ''}`) },
          { header: 'VLANs', cell: (d) => d.vlans.length || d.bridge_vlans.length },
          { header: 'DHCP scopes', cell: (d) => d.dhcp_scopes.length },
          { header: 'Mappings', cell: (d) => d.dhcp_reservations.length },
          { header: 'DNS', cell: (d) => d.dns_records.length },
          {
            header: 'Role',
            cell: (d) => (
              <Select
                aria-label={`Role of ${d.name}`}
                size="xs"
                w={140}
                disabled={!waiting || !d.reachable}
                data={[{ value: '', label: 'not used' }, ...d.possible_roles.map((r) => ({ value: r, label: r }))]}
                value={roles[d.gateway_id] ?? ''}
                onChange={(v) => setRoles((old) => ({ ...Object.fromEntries(Object.entries(old).filter(([k]) => k !== d.gateway_id)), ...(v ? { [d.gateway_id]: v } : {}) }))}
                allowDeselect={false}
              />
            ),
          },
        ]}
      />
      {waiting ? (
        <Group>
          <Button onClick={() => onSubmit(roles)} loading={pending}>
            Assign roles and scan
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}

function Decisions({ session, onSubmit, pending }: { session: ImportSession; onSubmit: (decisions: Record<string, string>) => void; pending: boolean }) {
  const resources = result<{ resources: Resource[] }>(session, 3).resources;
  const given = (session.steps[3]?.payload as { decisions?: Record<string, string> } | null)?.decisions;
  const waiting = session.status === 'in_progress' && session.current_step === 4;
  const [decisions, setDecisions] = useState<Record<string, string>>(() => given ?? Object.fromEntries(resources.map((r) => [r.key, r.suggested])));
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        Scan and decisions
      </Title>
      <DataTable<Resource>
        caption="What the devices run against the canonical state, one row per resource"
        rows={resources}
        rowKey={(r) => r.key}
        empty="The scan found nothing to import."
        columns={[
          { header: 'Resource', cell: (r) => <code>{r.key}</code> },
          { header: 'Name', cell: (r) => r.name },
          { header: 'Status', cell: (r) => statusBadge(r.status) },
          { header: 'Differs in', cell: (r) => r.differences.join(', ') },
          { header: 'Limbs', cell: (r) => r.limbs.map((l) => `${l.name}: ${l.carries ? 'yes' : 'no'}`).join(', ') },
          {
            header: 'Decision',
            cell: (r) => (
              <Select
                aria-label={`Decision for ${r.key}`}
                size="xs"
                w={120}
                disabled={!waiting}
                data={r.decisions}
                value={decisions[r.key] ?? 'skip'}
                onChange={(v) => v && setDecisions((old) => ({ ...old, [r.key]: v }))}
                allowDeselect={false}
              />
            ),
          },
        ]}
      />
      {waiting ? (
        <Group>
          <Button onClick={() => onSubmit(decisions)} loading={pending}>
            Check decisions
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}

function Distribute({ session, onSubmit, pending }: { session: ImportSession; onSubmit: (force: boolean) => void; pending: boolean }) {
  const plan = result<{ plan: Plan }>(session, 4).plan;
  const step5 = session.steps[4] as ImportStep;
  const waiting = session.status === 'in_progress' && session.current_step === 5;
  const [force, setForce] = useState(true);
  const done = step5.status === 'done' ? (step5.result as Distributed) : null;
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        Distribute
      </Title>
      <Text size="sm">
        Canonical changes: {plan.changes.length === 0 ? 'none' : plan.changes.map((c) => `${c.action} ${c.key}`).join(', ')}. VLANs to distribute:{' '}
        {plan.distribute.length === 0 ? 'none' : plan.distribute.map((d) => d.vlan_id).join(', ')}.
      </Text>
      {plan.notes.length > 0 ? (
        <List size="sm">
          {plan.notes.map((n) => (
            <List.Item key={n}>{n}</List.Item>
          ))}
        </List>
      ) : null}
      {step5.error ? (
        <Alert color="red" title="Step 5 failed (nothing was written; it can run again)" role="alert">
          <Text size="sm">{step5.error.message}</Text>
        </Alert>
      ) : null}
      {waiting ? (
        <Group>
          <Checkbox label="Write to the devices now (force)" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} />
          <Button onClick={() => onSubmit(force)} loading={pending}>
            Adopt and distribute
          </Button>
        </Group>
      ) : null}
      {done ? (
        <List size="sm" aria-label="Distributions">
          {done.distributions.length === 0 ? <List.Item>No device lacked anything.</List.Item> : null}
          {done.distributions.map((d) => (
            <List.Item key={d.vlan_id}>
              VLAN {d.vlan_id}: {d.distribution ? d.distribution.status : 'not started'}
              {d.distribution?.error ? ` — ${d.distribution.error.message}` : ''}
              {d.error ? ` — ${d.error.message}` : ''}
            </List.Item>
          ))}
        </List>
      ) : null}
    </Stack>
  );
}

function Verify({ session }: { session: ImportSession }) {
  const verified = result<Verified>(session, 6);
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        Verification
      </Title>
      <Alert color={verified.aligned ? 'green' : 'orange'} variant="light" role="status" title={verified.aligned ? 'Every adopted resource is aligned' : 'Not aligned yet'}>
        <Text size="sm">
          {verified.aligned ? 'The devices run what the canonical state says for everything adopted.' : verified.unaligned.map((u) => `${u.key}: ${u.status}`).join('; ')}
        </Text>
      </Alert>
      <AlignmentTable items={verified.items} caption="Verification: canonical state against each device" />
    </Stack>
  );
}

function AlignmentTable({ items, caption }: { items: Array<AlignmentItem & { decision?: string }>; caption: string }) {
  return (
    <DataTable<AlignmentItem & { decision?: string }>
      caption={caption}
      rows={items}
      rowKey={(i) => `${i.key}@${i.device_id}`}
      empty="Nothing to compare."
      columns={[
        { header: 'Resource', cell: (i) => <code>{i.key}</code> },
        { header: 'Device', cell: (i) => `${i.device_name} (${i.role})` },
        { header: 'Status', cell: (i) => statusBadge(i.status) },
        { header: 'Detail', cell: (i) => i.message ?? '' },
        ...(items.some((i) => i.decision) ? [{ header: 'Decision', cell: (i: AlignmentItem & { decision?: string }) => i.decision ?? '' }] : []),
      ]}
    />
  );
}

function Reconciliation({ siteId }: { siteId: string }) {
  const me = useMe();
  const [alignment, setAlignment] = useState<Alignment | null>(null);
  const [imported, setImported] = useState<ReconciliationImport | null>(null);
  const [distributed, setDistributed] = useState<LimbDistribution | null>(null);
  const path = { params: { path: { site_id: siteId } } };
  const check = useAction(() => must(api.GET('/api/v1/firewall/reconciliation/{site_id}/alignment', path)), { onSuccess: setAlignment });
  const importBrain = useAction(
    (dryRun: boolean) => must(api.POST('/api/v1/firewall/reconciliation/{site_id}/import', { ...path, body: { dry_run: dryRun } })),
    { onSuccess: setImported, invalidate: [['vlans']] },
  );
  const distribute = useAction(() => must(api.POST('/api/v1/firewall/reconciliation/{site_id}/distribute', { ...path, body: { force: true } })), {
    onSuccess: setDistributed,
  });
  return (
    <Stack>
      <Title order={2} size="h3">
        Reconciliation
      </Title>
      <Group>
        <Button variant="default" onClick={() => check.mutate(undefined)} loading={check.isPending}>
          Check alignment
        </Button>
        {can(me.data, 'gateway.import', siteId) ? (
          <>
            <Button variant="default" onClick={() => importBrain.mutate(true)} loading={importBrain.isPending}>
              Preview import from brain
            </Button>
            <Button variant="default" onClick={() => importBrain.mutate(false)} loading={importBrain.isPending}>
              Import from brain
            </Button>
          </>
        ) : null}
        {can(me.data, 'gateway.distribute', siteId) ? (
          <Button variant="default" onClick={() => distribute.mutate(undefined)} loading={distribute.isPending}>
            Distribute to limbs
          </Button>
        ) : null}
      </Group>
      <ProblemAlert problem={check.problem ?? importBrain.problem ?? distribute.problem} />
      {imported ? (
        <Alert color="blue" variant="light" role="status" title={imported.dry_run ? 'Import preview (nothing saved)' : 'Imported from the brain'}>
          <Text size="sm">
            {imported.created} created, {imported.updated} updated, {imported.unchanged} unchanged
            {imported.errors.length > 0 ? `; refused: ${imported.errors.map((e) => `VLAN ${e.vlan_id} (${e.message})`).join('; ')}` : ''}.
          </Text>
          {imported.orphaned.length > 0 ? (
            <Text size="sm">Orphans (canonical, not on the brain): {imported.orphaned.map((o) => `VLAN ${o.vlan_id} ${o.name}`).join(', ')}</Text>
          ) : null}
        </Alert>
      ) : null}
      {distributed ? (
        <Alert color="blue" variant="light" role="status" title="Distributed to limbs">
          <Text size="sm">
            {distributed.distributed.length === 0
              ? 'Every limb carries every canonical VLAN.'
              : distributed.distributed.map((d) => `VLAN ${d.vlan_id}: ${d.distribution?.status ?? d.error?.message ?? ''}`).join('; ')}
          </Text>
        </Alert>
      ) : null}
      {alignment ? (
        <Stack gap="xs">
          <Text size="sm">
            Score {alignment.score}% —{' '}
            {Object.entries(alignment.counts)
              .map(([status, n]) => `${status} ${n}`)
              .join(', ')}
          </Text>
          <AlignmentTable items={alignment.items} caption="Alignment: canonical state against each device of the role map" />
        </Stack>
      ) : null}
    </Stack>
  );
}
