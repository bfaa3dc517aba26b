/** Role bindings: a role for a user or a group, on every site or limited to some. */
import { Button, Group, Modal, MultiSelect, SegmentedControl, Select, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { RoleBinding } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { keys, nameOf, optionsOf, useGroups, useRoles, useSites, useUsers } from '../../lib/lookups';

export function BindingsPage() {
  const bindings = useQuery({
    queryKey: keys.bindings,
    queryFn: () => must(api.GET('/api/v1/role-bindings')),
  });
  const users = useUsers();
  const groups = useGroups();
  const sites = useSites();
  const [creating, setCreating] = useState(false);
  const remove = useAction((id: string) => must(api.DELETE('/api/v1/role-bindings/{id}', { params: { path: { id } } })), {
    invalidate: [keys.bindings],
  });
  return (
    <Page title="Role bindings" actions={<Button onClick={() => setCreating(true)}>New binding</Button>}>
      <ProblemAlert problem={remove.problem} />
      <Loaded query={bindings}>
        {(data) => (
          <DataTable<RoleBinding>
            caption="Who holds which role, and where"
            rows={data.items}
            rowKey={(b) => b.id}
            empty="No bindings."
            columns={[
              { header: 'Role', cell: (b) => b.role_name },
              {
                header: 'Holder',
                cell: (b) =>
                  b.user_id
                    ? `user ${nameOf(users.data?.items, b.user_id, (u) => u.username)}`
                    : `group ${nameOf(groups.data?.items, b.group_id, (g) => g.name)}`,
              },
              {
                header: 'Sites',
                cell: (b) => (b.site_ids ? b.site_ids.map((id) => nameOf(sites.data?.items, id, (s) => s.name)).join(', ') : 'all sites'),
              },
              {
                header: 'Actions',
                cell: (b) => (
                  <Button size="xs" color="red" variant="subtle" onClick={() => remove.mutate(b.id)} aria-label={`Remove binding of ${b.role_name}`}>
                    Remove
                  </Button>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New role binding" size="lg">
        <NewBinding onDone={() => setCreating(false)} />
      </Modal>
    </Page>
  );
}

function NewBinding({ onDone }: { onDone: () => void }) {
  const roles = useRoles();
  const users = useUsers();
  const groups = useGroups();
  const sites = useSites();
  const form = useForm({
    initialValues: { role_id: '', holder: 'user', user_id: '', group_id: '', site_ids: [] as string[] },
    validate: {
      role_id: (v) => (v ? null : 'Pick a role'),
      user_id: (v, all) => (all.holder === 'user' && !v ? 'Pick a user' : null),
      group_id: (v, all) => (all.holder === 'group' && !v ? 'Pick a group' : null),
    },
  });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/role-bindings', {
          body: {
            role_id: v.role_id,
            ...(v.holder === 'user' ? { user_id: v.user_id } : { group_id: v.group_id }),
            ...(v.site_ids.length > 0 ? { site_ids: v.site_ids } : {}),
          },
        }),
      ),
    { invalidate: [keys.bindings], onSuccess: onDone },
  );
  const holder = form.getValues().holder;
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <Select label="Role" required data={optionsOf(roles.data?.items, (r) => r.name)} {...form.getInputProps('role_id')} />
        <div>
          <Text size="sm" fw={500} id="binding-holder-label">
            Given to
          </Text>
          <SegmentedControl
            aria-labelledby="binding-holder-label"
            data={[
              { value: 'user', label: 'A user' },
              { value: 'group', label: 'A group' },
            ]}
            {...form.getInputProps('holder')}
          />
        </div>
        {holder === 'user' ? (
          <Select label="User" searchable required data={optionsOf(users.data?.items, (u) => u.username)} {...form.getInputProps('user_id')} />
        ) : (
          <Select label="Group" searchable required data={optionsOf(groups.data?.items, (g) => g.name)} {...form.getInputProps('group_id')} />
        )}
        <MultiSelect
          label="Limit to sites"
          description="Empty: every site, including future ones"
          data={optionsOf(sites.data?.items, (s) => s.name)}
          {...form.getInputProps('site_ids')}
        />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Create binding
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
