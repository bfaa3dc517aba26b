/** Grants: filter (knoc, user, address, status), revoke, and break-glass grants with a required reason. */
import { Button, Group, Modal, NumberInput, SegmentedControl, Select, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { Grant } from '../../api/types';
import { Countdown } from '../../components/Countdown';
import { SyncBadge } from '../../components/DeviceState';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { LIVE, liveKeys } from '../../lib/live';
import { keys, optionsOf, useKnocs, useUsers } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';

type Status = 'live' | 'ended' | 'all';
interface GrantFilter {
  knoc_id?: string;
  user_id?: string;
  ip?: string;
  status?: Status;
}

export function GrantsPage() {
  const me = useMe();
  const knocs = useKnocs();
  const users = useUsers(can(me.data, 'users.manage'));
  const [filter, setFilter] = useState<GrantFilter>({ status: 'live' });
  const [breakGlass, setBreakGlass] = useState(false);
  const set = (patch: GrantFilter) => setFilter((f) => ({ ...f, ...patch }));
  return (
    <Page
      title="Grants"
      actions={can(me.data, 'access.admin_grant') ? <Button color="orange" variant="light" onClick={() => setBreakGlass(true)}>Break-glass grant</Button> : null}
    >
      <Group align="end" wrap="wrap" role="search" aria-label="Filter grants">
        <Select label="Knoc" clearable data={optionsOf(knocs.data?.items, (k) => k.name)} value={filter.knoc_id ?? null} onChange={(v) => set({ knoc_id: v ?? undefined })} />
        {users.data ? (
          <Select label="User" clearable searchable data={optionsOf(users.data.items, (u) => u.username)} value={filter.user_id ?? null} onChange={(v) => set({ user_id: v ?? undefined })} />
        ) : null}
        <TextInput label="Address" value={filter.ip ?? ''} onChange={(e) => set({ ip: e.currentTarget.value || undefined })} />
        <div>
          <Text size="sm" fw={500} id="grant-status-label">
            Status
          </Text>
          <SegmentedControl
            aria-labelledby="grant-status-label"
            data={[
              { value: 'live', label: 'Live' },
              { value: 'ended', label: 'Ended' },
              { value: 'all', label: 'All' },
            ]}
            value={filter.status ?? 'live'}
            onChange={(v) => set({ status: v })}
          />
        </div>
      </Group>
      <GrantsTable filter={filter} />
      <Modal opened={breakGlass} onClose={() => setBreakGlass(false)} title="Break-glass grant" size="lg">
        <BreakGlass onDone={() => setBreakGlass(false)} />
      </Modal>
    </Page>
  );
}

export function GrantsTable({ filter }: { filter: GrantFilter }) {
  const me = useMe();
  const grants = useQuery({
    queryKey: [...liveKeys.grants, filter],
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/access/grants', { params: { query: { ...filter, limit: 200 } } })),
  });
  const revoke = useAction((id: string) => must(api.DELETE('/api/v1/access/grants/{id}', { params: { path: { id } } })), {
    invalidate: [liveKeys.grants, liveKeys.portal],
  });
  return (
    <Stack gap="xs">
      <ProblemAlert problem={revoke.problem} />
      <Loaded query={grants}>
        {(data) => (
          <DataTable<Grant>
            caption="Grants"
            rows={data.items}
            rowKey={(g) => g.id}
            empty="No grants match."
            columns={[
              { header: 'User', cell: (g) => g.username ?? '(none)' },
              { header: 'Knoc', cell: (g) => g.knoc_name },
              { header: 'Address', cell: (g) => <code>{g.ip}</code> },
              { header: 'How', cell: (g) => (g.reason ? `${g.method}: ${g.reason}` : g.method) },
              { header: 'On the firewall', cell: (g) => <SyncBadge state={g.sync_state} /> },
              {
                header: 'Time left',
                cell: (g) => (g.status === 'live' ? <Countdown expiresAt={g.expires_at} /> : `ended ${formatTime(g.ended_at)} (${g.end_reason ?? ''})`),
              },
              {
                header: 'Actions',
                cell: (g) =>
                  g.status === 'live' && (can(me.data, 'access.admin_grant', g.site_id) || g.user_id === me.data?.user.id) ? (
                    <Button size="xs" color="red" variant="light" onClick={() => revoke.mutate(g.id)} aria-label={`Revoke grant of ${g.ip} on ${g.knoc_name}`}>
                      Revoke
                    </Button>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
    </Stack>
  );
}

function BreakGlass({ onDone }: { onDone: () => void }) {
  const me = useMe();
  const knocs = useKnocs();
  const users = useUsers(can(me.data, 'users.manage'));
  const form = useForm({
    initialValues: { knoc_id: '', ip: '', ttl_seconds: 3600 as number | string, user_id: null as string | null, reason: '' },
    validate: {
      knoc_id: (v) => (v ? null : 'Pick the knoc'),
      ip: (v) => (v.trim() ? null : 'The address to let in'),
      reason: (v) => (v.trim() ? null : 'A reason is required for a break-glass grant (it goes to the audit log)'),
    },
  });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/access/grants', {
          body: {
            knoc_id: v.knoc_id,
            ip: v.ip.trim(),
            reason: v.reason.trim(),
            ...(v.ttl_seconds !== '' ? { ttl_seconds: Number(v.ttl_seconds) } : {}),
            ...(v.user_id ? { user_id: v.user_id } : {}),
          },
        }),
      ),
    { invalidate: [keys.grants], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <Select label="Knoc" required data={optionsOf(knocs.data?.items, (k) => k.name)} {...form.getInputProps('knoc_id')} />
        <TextInput label="Address" required {...form.getInputProps('ip')} />
        <NumberInput label="Duration (seconds)" min={1} {...form.getInputProps('ttl_seconds')} />
        {users.data ? <Select label="On behalf of (optional)" clearable searchable data={optionsOf(users.data.items, (u) => u.username)} {...form.getInputProps('user_id')} /> : null}
        <Textarea label="Reason" required {...form.getInputProps('reason')} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Grant now
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
