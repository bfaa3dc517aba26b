/** Roles: built-in and custom; create a custom role from the permission catalog, delete one. */
import { Badge, Button, Group, Modal, MultiSelect, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { Role } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { keys, useRoles } from '../../lib/lookups';

export function RolesPage() {
  const roles = useRoles();
  const [creating, setCreating] = useState(false);
  const remove = useAction((r: Role) => must(api.DELETE('/api/v1/roles/{id}', { params: { path: { id: r.id } } })), {
    invalidate: [keys.roles, keys.bindings],
  });
  return (
    <Page title="Roles" actions={<Button onClick={() => setCreating(true)}>New role</Button>}>
      <ProblemAlert problem={remove.problem} />
      <Loaded query={roles}>
        {(data) => (
          <DataTable<Role>
            caption="Roles: named sets of permissions"
            rows={data.items}
            rowKey={(r) => r.id}
            empty="No roles."
            columns={[
              { header: 'Name', cell: (r) => (r.builtin ? <Group gap={4}>{r.name}<Badge size="xs">built-in</Badge></Group> : r.name) },
              { header: 'Description', cell: (r) => r.description },
              { header: 'Permissions', cell: (r) => <Text size="xs">{r.permissions.join(', ')}</Text> },
              {
                header: 'Actions',
                cell: (r) =>
                  r.builtin ? null : (
                    <Button size="xs" color="red" variant="subtle" aria-label={`Delete role ${r.name}`} onClick={() => window.confirm(`Delete role ${r.name} and its bindings?`) && remove.mutate(r)}>
                      Delete
                    </Button>
                  ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New role" size="lg">
        <NewRole onDone={() => setCreating(false)} />
      </Modal>
    </Page>
  );
}

function NewRole({ onDone }: { onDone: () => void }) {
  const catalog = useQuery({ queryKey: keys.permissions, queryFn: () => must(api.GET('/api/v1/permissions')) });
  const form = useForm({ initialValues: { name: '', description: '', permissions: [] as string[] } });
  const create = useApiForm(
    form,
    (v) => must(api.POST('/api/v1/roles', { body: { name: v.name.trim(), permissions: v.permissions, ...(v.description ? { description: v.description } : {}) } })),
    { invalidate: [keys.roles], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <TextInput label="Name" description="lower case: letters, digits, . _ -" required {...form.getInputProps('name')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <MultiSelect
          label="Permissions"
          searchable
          required
          data={(catalog.data?.items ?? []).map((p) => ({ value: p.code, label: `${p.code} — ${p.description}` }))}
          {...form.getInputProps('permissions')}
        />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Create role
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
