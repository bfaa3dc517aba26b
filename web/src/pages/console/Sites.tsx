/** Sites: the scopes role bindings can be limited to. */
import { Button, Group, Modal, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { Site } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { keys, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';

export function SitesPage() {
  const me = useMe();
  const sites = useSites();
  const [creating, setCreating] = useState(false);
  const remove = useAction((s: Site) => must(api.DELETE('/api/v1/sites/{id}', { params: { path: { id: s.id } } })), {
    invalidate: [keys.sites],
  });
  return (
    <Page title="Sites" actions={can(me.data, 'gateway.manage_topology') ? <Button onClick={() => setCreating(true)}>New site</Button> : null}>
      <ProblemAlert problem={remove.problem} />
      <Loaded query={sites}>
        {(data) => (
          <DataTable<Site>
            caption="Sites (gateways and knocs belong to one)"
            rows={data.items}
            rowKey={(s) => s.id}
            empty="No sites you can see."
            columns={[
              { header: 'Name', cell: (s) => s.name },
              { header: 'Description', cell: (s) => s.description },
              {
                header: 'Actions',
                cell: (s) =>
                  can(me.data, 'gateway.manage_topology', s.id) ? (
                    <Button size="xs" color="red" variant="subtle" aria-label={`Delete site ${s.name}`} onClick={() => window.confirm(`Delete site ${s.name}?`) && remove.mutate(s)}>
                      Delete
                    </Button>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New site">
        <NewSite onDone={() => setCreating(false)} />
      </Modal>
    </Page>
  );
}

function NewSite({ onDone }: { onDone: () => void }) {
  const form = useForm({ initialValues: { name: '', description: '' } });
  const create = useApiForm(
    form,
    (v) => must(api.POST('/api/v1/sites', { body: { name: v.name.trim(), ...(v.description ? { description: v.description } : {}) } })),
    { invalidate: [keys.sites], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Create site
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
