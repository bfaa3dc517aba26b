/**
 * One list page for every table of objects that repeats the same shape: filters above, a captioned table with
 * paging, a "New …" form and per-row edit / delete (firewall rules, NAT, VPN tunnels). Each page describes its
 * columns, form fields and filters and hands in its typed API calls; the form's field names are the API's body
 * names, so a 400 lands under the field it names (`useApiForm`).
 */
import { Button, Group, Modal, NumberInput, Select, Stack, Switch, TagsInput, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { keepPreviousData, type QueryKey, useQuery } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { type Column, DataTable, Loaded } from './Page';
import { ProblemAlert } from './ProblemAlert';
import { toProblem, useAction, useApiForm } from '../lib/forms';

export const PAGE_SIZE = 25;

export type FieldValue = string | boolean | number | string[] | null;
export type FormValues = Record<string, FieldValue>;

export interface FieldSpec {
  /** The API's body name. */
  name: string;
  label: string;
  kind: 'text' | 'select' | 'bool' | 'int' | 'list';
  options?: readonly { value: string; label: string }[];
  required?: boolean;
  /** Empty text is sent as null (a nullable API field). */
  nullable?: boolean;
  description?: string;
  /** Only when creating (the gateway an object belongs to). */
  createOnly?: boolean;
}

export interface FilterSpec {
  /** The API's query name. */
  name: string;
  label: string;
  /** A choice; without options, free text applied on Enter or when the field is left. */
  options?: readonly { value: string; label: string }[];
  placeholder?: string;
}

export interface ListQuery {
  limit: number;
  offset: number;
  [filter: string]: string | number | boolean;
}

export interface ObjectTableProps<T extends { id: string | number }> {
  noun: string;
  caption: string;
  empty: string;
  queryKey: QueryKey;
  columns: Column<T>[];
  fields: FieldSpec[];
  filters: FilterSpec[];
  list: (query: ListQuery) => Promise<{ items: T[] }>;
  /** Absent when the person may not change these objects. */
  write?: {
    create: (values: FormValues) => Promise<unknown>;
    update: (row: T, values: FormValues) => Promise<unknown>;
    remove: (row: T) => Promise<unknown>;
    defaults: FormValues;
    valuesOf: (row: T) => FormValues;
  };
  /** Extra per-row actions (reorder) given the current filters and page. */
  rowActions?: (row: T, context: { filters: Record<string, string>; rows: readonly T[] }) => ReactNode;
  label: (row: T) => string;
}

/** `true`/`false` filter values travel as booleans; the rest as text. */
function filterQuery(filters: Record<string, string>): Record<string, string | boolean> {
  return Object.fromEntries(
    Object.entries(filters)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : v]),
  );
}

export function ObjectTable<T extends { id: string | number }>(props: ObjectTableProps<T>) {
  const { noun, write } = props;
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [page, setPage] = useState(0);
  const [editing, setEditing] = useState<T | 'new' | null>(null);
  const query = { ...filterQuery(filters), limit: PAGE_SIZE + 1, offset: page * PAGE_SIZE };
  // One more row than shown tells whether a next page exists.
  const rows = useQuery({
    queryKey: [...props.queryKey, query],
    placeholderData: keepPreviousData,
    queryFn: () => props.list(query),
  });
  const remove = useAction((row: T) => write?.remove(row) ?? Promise.resolve(null), { invalidate: [props.queryKey] });
  const setFilter = (name: string, value: string | null) => {
    if ((filters[name] ?? '') === (value ?? '')) return;
    setFilters((all) => ({ ...all, [name]: value ?? '' }));
    setPage(0);
  };
  // A refused filter (a malformed address, a bad date) is shown under that filter, not instead of the page.
  const refused = rows.error ? toProblem(rows.error) : null;
  const refusedField = refused?.fieldIn(props.filters.map((f) => f.name)) ?? null;
  return (
    <Stack gap="sm">
      <Group align="end" wrap="wrap">
        {props.filters.map((f) =>
          f.options ? (
            <Select key={f.name} label={f.label} placeholder="All" clearable data={f.options} value={filters[f.name] || null} onChange={(v) => setFilter(f.name, v)} w={200} />
          ) : (
            <TextInput
              key={f.name}
              label={f.label}
              placeholder={f.placeholder}
              defaultValue={filters[f.name] ?? ''}
              error={refusedField === f.name ? refused?.message : undefined}
              onBlur={(e) => setFilter(f.name, e.currentTarget.value.trim())}
              onKeyDown={(e) => e.key === 'Enter' && setFilter(f.name, e.currentTarget.value.trim())}
              w={200}
            />
          ),
        )}
        {write ? <Button onClick={() => setEditing('new')}>New {noun}</Button> : null}
      </Group>
      <ProblemAlert problem={remove.problem} />
      <Loaded query={refusedField ? { ...rows, error: null, data: rows.data ?? { items: [] } } : rows}>
        {(data) => {
          const shown = data.items.slice(0, PAGE_SIZE);
          const actions: Column<T>[] =
            write || props.rowActions
              ? [
                  {
                    header: 'Actions',
                    cell: (row) => (
                      <Group gap="xs" wrap="nowrap">
                        {props.rowActions?.(row, { filters, rows: shown })}
                        {write ? (
                          <>
                            <Button size="xs" variant="light" aria-label={`Edit ${noun} ${props.label(row)}`} onClick={() => setEditing(row)}>
                              Edit
                            </Button>
                            <Button size="xs" color="red" variant="subtle" aria-label={`Delete ${noun} ${props.label(row)}`} onClick={() => window.confirm(`Delete ${noun} ${props.label(row)}?`) && remove.mutate(row)}>
                              Delete
                            </Button>
                          </>
                        ) : null}
                      </Group>
                    ),
                  },
                ]
              : [];
          return (
            <>
              <DataTable<T> caption={props.caption} rows={shown} rowKey={(r) => String(r.id)} empty={props.empty} columns={[...props.columns, ...actions]} />
              {page > 0 || data.items.length > PAGE_SIZE ? (
                <Group gap="xs" aria-label="Pages" role="group">
                  <Button size="xs" variant="default" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>
                    Previous page
                  </Button>
                  <span>Page {page + 1}</span>
                  <Button size="xs" variant="default" disabled={data.items.length <= PAGE_SIZE} onClick={() => setPage((p) => p + 1)}>
                    Next page
                  </Button>
                </Group>
              ) : null}
            </>
          );
        }}
      </Loaded>
      {write ? (
        <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? `New ${noun}` : `Edit ${noun}`} size="lg">
          {editing !== null ? (
            <ObjectForm
              fields={props.fields.filter((f) => editing === 'new' || !f.createOnly)}
              initial={editing === 'new' ? write.defaults : write.valuesOf(editing)}
              submitLabel={editing === 'new' ? `Create ${noun}` : `Save ${noun}`}
              send={(values) => (editing === 'new' ? write.create(values) : write.update(editing, values))}
              invalidate={props.queryKey}
              onDone={() => setEditing(null)}
            />
          ) : null}
        </Modal>
      ) : null}
    </Stack>
  );
}

/** Form values → an API body: trimmed text, empty nullable text as null, empty numbers as null. */
export function bodyOf(fields: readonly FieldSpec[], values: FormValues): FormValues {
  return Object.fromEntries(
    fields.map((f): [string, FieldValue] => {
      const v = values[f.name] ?? null;
      if (typeof v === 'string') {
        const text = v.trim();
        if (f.kind === 'int') return [f.name, text === '' ? null : Number(text)];
        return [f.name, text === '' && f.nullable ? null : text];
      }
      return [f.name, v];
    }),
  );
}

function ObjectForm({
  fields,
  initial,
  submitLabel,
  send,
  invalidate,
  onDone,
}: {
  fields: FieldSpec[];
  initial: FormValues;
  submitLabel: string;
  send: (values: FormValues) => Promise<unknown>;
  invalidate: QueryKey;
  onDone: () => void;
}) {
  const form = useForm<FormValues>({ initialValues: Object.fromEntries(fields.map((f) => [f.name, initial[f.name] ?? null])) });
  const save = useApiForm(form, (values) => send(bodyOf(fields, values)), { invalidate: [invalidate], onSuccess: onDone });
  return (
    <form onSubmit={save.onSubmit} noValidate>
      <Stack gap="sm">
        {fields.map((f) => {
          const common = { label: f.label, description: f.description, required: f.required };
          const input = form.getInputProps(f.name);
          if (f.kind === 'bool') return <Switch key={f.name} {...common} {...form.getInputProps(f.name, { type: 'checkbox' })} />;
          if (f.kind === 'select') return <Select key={f.name} {...common} data={f.options ?? []} allowDeselect={false} {...input} />;
          if (f.kind === 'list') return <TagsInput key={f.name} {...common} {...input} value={(input.value as string[] | null) ?? []} />;
          if (f.kind === 'int') return <NumberInput key={f.name} {...common} allowDecimal={false} {...input} />;
          return <TextInput key={f.name} {...common} {...input} value={(input.value as string | null) ?? ''} />;
        })}
        <ProblemAlert problem={save.problem} />
        <Group>
          <Button type="submit" loading={save.pending}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
