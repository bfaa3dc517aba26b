/**
 * The list shape that sites and groups share: name and description, "New …" with the same two fields, delete
 * per row, and room for a page's own row actions (a group's members).
 */
import { Button, Group, Modal, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { type QueryKey, type UseQueryResult } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { DataTable, Loaded, Page } from './Page';
import { ProblemAlert } from './ProblemAlert';
import { useAction, useApiForm } from '../lib/forms';

interface Named {
  id: string;
  name: string;
  description: string;
}

export function NamedObjectsPage<T extends Named>(props: {
  title: string;
  /** `site`, `group`: in button labels. */
  noun: string;
  caption: string;
  empty: string;
  query: UseQueryResult<{ items: T[] }>;
  queryKey: QueryKey;
  create: ((body: { name: string; description?: string }) => Promise<unknown>) | null;
  remove: (row: T) => Promise<unknown>;
  mayDelete: (row: T) => boolean;
  rowActions?: (row: T) => ReactNode;
  children?: ReactNode;
}) {
  const [creating, setCreating] = useState(false);
  const remove = useAction(props.remove, { invalidate: [props.queryKey] });
  const { noun, create } = props;
  return (
    <Page title={props.title} actions={create ? <Button onClick={() => setCreating(true)}>New {noun}</Button> : null}>
      <ProblemAlert problem={remove.problem} />
      <Loaded query={props.query}>
        {(data) => (
          <DataTable<T>
            caption={props.caption}
            rows={data.items}
            rowKey={(row) => row.id}
            empty={props.empty}
            columns={[
              { header: 'Name', cell: (row) => row.name },
              { header: 'Description', cell: (row) => row.description },
              {
                header: 'Actions',
                cell: (row) => (
                  <Group gap="xs" wrap="nowrap">
                    {props.rowActions?.(row)}
                    {props.mayDelete(row) ? (
                      <Button size="xs" color="red" variant="subtle" aria-label={`Delete ${noun} ${row.name}`} onClick={() => window.confirm(`Delete ${noun} ${row.name}?`) && remove.mutate(row)}>
                        Delete
                      </Button>
                    ) : null}
                  </Group>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      {create ? (
        <Modal opened={creating} onClose={() => setCreating(false)} title={`New ${noun}`}>
          <NewNamed noun={noun} create={create} queryKey={props.queryKey} onDone={() => setCreating(false)} />
        </Modal>
      ) : null}
      {props.children}
    </Page>
  );
}

function NewNamed({ noun, create, queryKey, onDone }: { noun: string; create: (body: { name: string; description?: string }) => Promise<unknown>; queryKey: QueryKey; onDone: () => void }) {
  const form = useForm({ initialValues: { name: '', description: '' } });
  const save = useApiForm(form, (v) => create({ name: v.name.trim(), ...(v.description ? { description: v.description } : {}) }), {
    invalidate: [queryKey],
    onSuccess: onDone,
  });
  return (
    <form onSubmit={save.onSubmit} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <ProblemAlert problem={save.problem} />
        <Group>
          <Button type="submit" loading={save.pending}>
            Create {noun}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
