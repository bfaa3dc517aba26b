/** Groups: create, delete, and their members. */
import { Button, Drawer, Group as Row, Modal, Select, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { Group } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { keys, optionsOf, useGroups, useUsers } from '../../lib/lookups';

export function GroupsPage() {
  const groups = useGroups();
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<Group | null>(null);
  const remove = useAction((g: Group) => must(api.DELETE('/api/v1/groups/{id}', { params: { path: { id: g.id } } })), {
    invalidate: [keys.groups],
  });
  return (
    <Page title="Groups" actions={<Button onClick={() => setCreating(true)}>New group</Button>}>
      <ProblemAlert problem={remove.problem} />
      <Loaded query={groups}>
        {(data) => (
          <DataTable<Group>
            caption="Groups of users (knocs and roles can be given to a group)"
            rows={data.items}
            rowKey={(g) => g.id}
            empty="No groups yet."
            columns={[
              { header: 'Name', cell: (g) => g.name },
              { header: 'Description', cell: (g) => g.description },
              {
                header: 'Actions',
                cell: (g) => (
                  <Row gap="xs" wrap="nowrap">
                    <Button size="xs" variant="light" onClick={() => setOpen(g)} aria-label={`Members of group ${g.name}`}>
                      Members
                    </Button>
                    <Button size="xs" color="red" variant="subtle" aria-label={`Delete group ${g.name}`} onClick={() => window.confirm(`Delete group ${g.name}?`) && remove.mutate(g)}>
                      Delete
                    </Button>
                  </Row>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New group">
        <NewGroup onDone={() => setCreating(false)} />
      </Modal>
      <Drawer opened={open !== null} onClose={() => setOpen(null)} title={`Members of ${open?.name ?? ''}`} position="right">
        {open ? <Members group={open} /> : null}
      </Drawer>
    </Page>
  );
}

function NewGroup({ onDone }: { onDone: () => void }) {
  const form = useForm({ initialValues: { name: '', description: '' } });
  const create = useApiForm(
    form,
    (v) => must(api.POST('/api/v1/groups', { body: { name: v.name.trim(), ...(v.description ? { description: v.description } : {}) } })),
    { invalidate: [keys.groups], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <ProblemAlert problem={create.problem} />
        <Row>
          <Button type="submit" loading={create.pending}>
            Create group
          </Button>
        </Row>
      </Stack>
    </form>
  );
}

function Members({ group }: { group: Group }) {
  const users = useUsers();
  const key = ['groups', group.id, 'members'];
  const members = useQuery({
    queryKey: key,
    queryFn: () => must(api.GET('/api/v1/groups/{id}/members', { params: { path: { id: group.id } } })),
  });
  const [pick, setPick] = useState<string | null>(null);
  const add = useAction(
    (userId: string) => must(api.POST('/api/v1/groups/{id}/members', { params: { path: { id: group.id } }, body: { user_id: userId } })),
    { invalidate: [key], onSuccess: () => setPick(null) },
  );
  const remove = useAction(
    (userId: string) => must(api.DELETE('/api/v1/groups/{id}/members/{userId}', { params: { path: { id: group.id, userId } } })),
    { invalidate: [key] },
  );
  return (
    <Stack>
      <Row align="end">
        <Select label="Add a member" searchable data={optionsOf(users.data?.items, (u) => u.username)} value={pick} onChange={setPick} />
        <Button disabled={!pick} onClick={() => pick && add.mutate(pick)} loading={add.isPending}>
          Add
        </Button>
      </Row>
      <ProblemAlert problem={add.problem ?? remove.problem} />
      <Loaded query={members}>
        {(data) => (
          <DataTable
            caption="Members"
            rows={data.items}
            rowKey={(u) => u.id}
            empty="No members."
            columns={[
              { header: 'Username', cell: (u) => u.username },
              {
                header: 'Remove',
                cell: (u) => (
                  <Button size="xs" color="red" variant="subtle" onClick={() => remove.mutate(u.id)} aria-label={`Remove ${u.username} from ${group.name}`}>
                    Remove
                  </Button>
                ),
              },
            ]}
          />
        )}
      </Loaded>
    </Stack>
  );
}
