/**
 * Knocs: list with live sync status, create (assign users and groups, source conditions, TTLs; a passive
 * knoc's EDL URL and key shown once with copy), and a details drawer: status and device error, assignments,
 * feed key rotation, the EDL fetch log next to the knoc's grants.
 */
import { Alert, Badge, Button, Drawer, Group, Modal, MultiSelect, NumberInput, SegmentedControl, Select, Stack, Switch, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { CreatedKnoc, Knoc } from '../../api/types';
import { DeviceError } from '../../components/DeviceState';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { SecretOnce } from '../../components/Secrets';
import { useAction, useApiForm } from '../../lib/forms';
import { LIVE, liveKeys } from '../../lib/live';
import { keys, nameOf, optionsOf, useGateways, useGroups, useKnocs, useUsers } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatDuration, formatTime } from '../../lib/time';
import { KnocExposure } from './Exposure';
import { GrantsTable } from './Grants';

export function feedUrl(token: string): string {
  return `${globalThis.location.origin}/edl/${token}.txt`;
}

export function KnocsPage() {
  const me = useMe();
  const knocs = useKnocs();
  const gateways = useGateways();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKnoc | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const mayCreate = can(me.data, 'access.manage_knocs');
  const selected = knocs.data?.items.find((k) => k.id === open) ?? null;
  return (
    <Page title="Knocs" actions={mayCreate ? <Button onClick={() => setCreating(true)}>New knoc</Button> : null}>
      {created?.feed_key && created.feed_token ? (
        <SecretOnce
          title={`EDL feed of ${created.name}`}
          values={[
            { label: 'EDL URL', value: feedUrl(created.feed_token) },
            { label: 'EDL key', value: created.feed_key },
          ]}
        />
      ) : null}
      <Loaded query={knocs}>
        {(data) => (
          <DataTable<Knoc>
            caption="Knocs: who may open which firewall alias"
            rows={data.items}
            rowKey={(k) => k.id}
            empty="No knocs yet. A knoc ties people to an alias on a gateway."
            columns={[
              { header: 'Name', cell: (k) => k.name },
              { header: 'Gateway', cell: (k) => nameOf(gateways.data?.items, k.gateway_id, (g) => g.name) },
              { header: 'Mode', cell: (k) => k.mode },
              { header: 'Alias', cell: (k) => <code>{k.alias_name}</code> },
              { header: 'Grant / max', cell: (k) => `${formatDuration(k.grant_ttl_seconds)} / ${formatDuration(k.max_ttl_seconds)}` },
              { header: 'Assigned', cell: (k) => `${k.users.length} users, ${k.groups.length} groups` },
              { header: 'Sync', cell: (k) => <KnocSync knoc={k} /> },
              {
                header: 'Details',
                cell: (k) => (
                  <Button size="xs" variant="light" onClick={() => setOpen(k.id)} aria-label={`Details of knoc ${k.name}`}>
                    Details
                  </Button>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New knoc" size="lg">
        <KnocForm
          onDone={(k) => {
            setCreating(false);
            setCreated(k);
          }}
        />
      </Modal>
      <Drawer opened={selected !== null} onClose={() => setOpen(null)} title={selected ? `Knoc ${selected.name}` : ''} position="right" size="xl">
        {selected ? <KnocDetails knoc={selected} /> : null}
      </Drawer>
    </Page>
  );
}

function useKnocStatus(id: string) {
  return useQuery({
    queryKey: liveKeys.knocStatus(id),
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/access/knocs/{id}/status', { params: { path: { id } } })),
  });
}

function KnocSync({ knoc }: { knoc: Knoc }) {
  const status = useKnocStatus(knoc.id);
  if (!status.data) return <Text size="sm" c="dimmed">…</Text>;
  if (status.data.error) return <Badge color="red" title={status.data.error.message}>{status.data.error.code}</Badge>;
  if (knoc.mode === 'passive') return <Badge color="blue">feed · {status.data.desired_count}</Badge>;
  if (status.data.pending) return <Badge color="yellow">pending · {status.data.desired_count}</Badge>;
  return <Badge color="green">in sync · {status.data.device_count ?? 0}</Badge>;
}

function KnocForm({ onDone }: { onDone: (k: CreatedKnoc) => void }) {
  const gateways = useGateways();
  const users = useUsers();
  const groups = useGroups();
  const form = useForm({
    initialValues: {
      name: '',
      gateway_id: '',
      mode: 'active',
      alias_name: '',
      create_alias_if_missing: true,
      grant_ttl_seconds: 3600,
      max_ttl_seconds: 86_400,
      allowed_sources: [] as string[],
      denied_sources: [] as string[],
      kill_states_on_revoke: true,
      users: [] as string[],
      groups: [] as string[],
    },
    validate: {
      name: (v) => (v.trim() ? null : 'Name the knoc'),
      gateway_id: (v) => (v ? null : 'Pick the gateway'),
      alias_name: (v) => (v.trim() ? null : 'The firewall alias that holds granted addresses'),
    },
  });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/access/knocs', {
          body: { ...v, name: v.name.trim(), alias_name: v.alias_name.trim(), mode: v.mode as 'active' | 'passive' },
        }),
      ),
    { invalidate: [keys.knocs], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <Select label="Gateway" required data={optionsOf(gateways.data?.items, (g) => g.name)} {...form.getInputProps('gateway_id')} />
        <div>
          <Text size="sm" fw={500} id="knoc-mode-label">
            Mode
          </Text>
          <SegmentedControl
            aria-labelledby="knoc-mode-label"
            data={[
              { value: 'active', label: 'Active (Portcullis writes the alias)' },
              { value: 'passive', label: 'Passive (firewall reads an EDL feed)' },
            ]}
            {...form.getInputProps('mode')}
          />
        </div>
        <TextInput label="Alias name" required {...form.getInputProps('alias_name')} />
        <Switch label="Create the alias if it is missing" {...form.getInputProps('create_alias_if_missing', { type: 'checkbox' })} />
        <Group grow>
          <NumberInput label="Grant duration (seconds)" min={1} {...form.getInputProps('grant_ttl_seconds')} />
          <NumberInput label="Maximum duration (seconds)" min={1} {...form.getInputProps('max_ttl_seconds')} />
        </Group>
        <TagsInput label="Allowed source addresses (CIDR; empty: any)" {...form.getInputProps('allowed_sources')} />
        <TagsInput label="Denied source addresses (CIDR)" {...form.getInputProps('denied_sources')} />
        <Switch label="Kill open connections on revoke" {...form.getInputProps('kill_states_on_revoke', { type: 'checkbox' })} />
        <MultiSelect label="Users" searchable data={optionsOf(users.data?.items, (u) => u.username)} {...form.getInputProps('users')} />
        <MultiSelect label="Groups" searchable data={optionsOf(groups.data?.items, (g) => g.name)} {...form.getInputProps('groups')} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Create knoc
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function KnocDetails({ knoc }: { knoc: Knoc }) {
  const me = useMe();
  const status = useKnocStatus(knoc.id);
  const users = useUsers(can(me.data, 'users.manage'));
  const groups = useGroups(can(me.data, 'users.manage'));
  const [rotated, setRotated] = useState<{ feed_token: string; feed_key: string } | null>(null);
  const assign = useForm({ initialValues: { users: knoc.users, groups: knoc.groups } });
  const save = useApiForm(
    assign,
    (v) => must(api.PATCH('/api/v1/access/knocs/{id}', { params: { path: { id: knoc.id } }, body: v })),
    { invalidate: [keys.knocs] },
  );
  const rotate = useAction(
    () => must(api.POST('/api/v1/access/knocs/{id}/feed/rotate', { params: { path: { id: knoc.id } }, body: {} })),
    { invalidate: [keys.knocs], onSuccess: (r) => setRotated(r.feed_key ? { feed_token: r.feed_token, feed_key: r.feed_key } : null) },
  );
  const fetches = useQuery({
    queryKey: ['knocs', knoc.id, 'fetches'],
    ...LIVE,
    enabled: knoc.mode === 'passive',
    queryFn: () => must(api.GET('/api/v1/access/knocs/{id}/fetches', { params: { path: { id: knoc.id }, query: { limit: 50 } } })),
  });
  const mayManage = can(me.data, 'access.manage_knocs', knoc.site_id);
  return (
    <Stack>
      <Loaded query={status}>
        {(s) => (
          <Stack gap="xs">
            <Text size="sm">
              Wanted on the alias: {s.desired_count} · on the device: {s.device_count ?? '—'} · {s.pending ? 'changes pending' : 'in sync'}
            </Text>
            <Text size="sm" c="dimmed">
              Last sync {formatTime(s.last_sync_at)} · last apply {formatTime(s.last_apply_at)}
            </Text>
            <DeviceError error={s.error} />
          </Stack>
        )}
      </Loaded>
      <Text size="sm">
        Sources allowed: {knoc.allowed_sources.join(', ') || 'any'} · denied: {knoc.denied_sources.join(', ') || 'none'}
      </Text>
      {mayManage && users.data ? (
        <form onSubmit={save.onSubmit} noValidate aria-label="Assignments">
          <Stack gap="xs">
            <Title order={3} size="h5">
              Assigned people
            </Title>
            <MultiSelect label="Users" searchable data={optionsOf(users.data.items, (u) => u.username)} {...assign.getInputProps('users')} />
            <MultiSelect label="Groups" searchable data={optionsOf(groups.data?.items, (g) => g.name)} {...assign.getInputProps('groups')} />
            <ProblemAlert problem={save.problem} />
            <Group>
              <Button type="submit" size="sm" loading={save.pending}>
                Save assignments
              </Button>
            </Group>
          </Stack>
        </form>
      ) : null}
      {knoc.mode === 'passive' ? (
        <Stack gap="xs">
          <Title order={3} size="h5">
            EDL feed
          </Title>
          {knoc.feed_token ? <Text size="sm" ff="monospace">{feedUrl(knoc.feed_token)}</Text> : null}
          {rotated ? (
            <SecretOnce
              title="New feed key"
              values={[
                { label: 'EDL URL', value: feedUrl(rotated.feed_token) },
                { label: 'EDL key', value: rotated.feed_key },
              ]}
            />
          ) : null}
          {can(me.data, 'access.admin_grant', knoc.site_id) ? (
            <Group>
              <Button size="sm" variant="light" color="orange" onClick={() => rotate.mutate(undefined)} loading={rotate.isPending}>
                Rotate feed URL and key
              </Button>
            </Group>
          ) : null}
          <ProblemAlert problem={rotate.problem} />
          <Loaded query={fetches}>
            {(f) => (
              <DataTable
                caption="EDL fetch log"
                rows={f.items}
                rowKey={(x) => `${x.fetched_at}-${x.source_ip}`}
                empty="The firewall has not fetched the feed yet."
                columns={[
                  { header: 'When', cell: (x) => formatTime(x.fetched_at) },
                  { header: 'From', cell: (x) => x.source_ip },
                  { header: 'Status', cell: (x) => x.status },
                  { header: 'Entries', cell: (x) => x.entries ?? '—' },
                ]}
              />
            )}
          </Loaded>
        </Stack>
      ) : null}
      {knoc.mode === 'active' ? <KnocExposure knocId={knoc.id} knocName={knoc.name} /> : null}
      <Title order={3} size="h5">
        Live grants
      </Title>
      <GrantsTable filter={{ knoc_id: knoc.id, status: 'live' }} />
      {knoc.mode === 'active' ? null : (
        <Alert color="gray" variant="light">
          A passive knoc changes nothing on the firewall by itself: the firewall fetches the feed.
        </Alert>
      )}
    </Stack>
  );
}
