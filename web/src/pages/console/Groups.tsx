/** Groups: create, delete (the shared named-object list), and their members. */
import { Button, Drawer, Group as Row, Select, Stack } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { Group } from '../../api/types';
import { NamedObjectsPage } from '../../components/NamedObjects';
import { DataTable, Loaded } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { keys, optionsOf, useGroups, useUsers } from '../../lib/lookups';

export function GroupsPage() {
  const groups = useGroups();
  const [open, setOpen] = useState<Group | null>(null);
  return (
    <NamedObjectsPage<Group>
      title="Groups"
      noun="group"
      caption="Groups of users (knocs and roles can be given to a group)"
      empty="No groups yet."
      query={groups}
      queryKey={keys.groups}
      create={(body) => must(api.POST('/api/v1/groups', { body }))}
      remove={(g) => must(api.DELETE('/api/v1/groups/{id}', { params: { path: { id: g.id } } }))}
      mayDelete={() => true}
      rowActions={(g) => (
        <Button size="xs" variant="light" onClick={() => setOpen(g)} aria-label={`Members of group ${g.name}`}>
          Members
        </Button>
      )}
    >
      <Drawer opened={open !== null} onClose={() => setOpen(null)} title={`Members of ${open?.name ?? ''}`} position="right">
        {open ? <Members group={open} /> : null}
      </Drawer>
    </NamedObjectsPage>
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
