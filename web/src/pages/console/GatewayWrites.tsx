/**
 * Staged live writes of a gateway's VLAN interfaces and DHCP scopes (a brain's L3) and bridge VLANs (a limb's L2),
 * under their live tabs on the Gateway page (loaded on first use). Create, edit and delete each stage a pending
 * change through `/api/v1/firewall/gateways/{id}/…` without `force`, so the change is reviewed and applied on the
 * Pending changes page like every other live write (deletes are applied only with "confirmed"). Shown only where
 * the vendor has the write capability and the person holds `firewall.manage_rules` on the gateway's site; a 400
 * naming a field shows under that input.
 */
import { Alert, Anchor, Button, Checkbox, Group, Modal, NumberInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import type { paths } from '../../api/api';
import type { PendingChange } from '../../api/changes-types';
import { api, must } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import type { Gateway } from '../../api/types';
import { DataTable } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type BodyOf<P extends keyof paths> = paths[P] extends { post: { requestBody?: infer B } } ? Json<NonNullable<B>> : never;
type VlanInterfaceBody = BodyOf<'/api/v1/firewall/gateways/{id}/vlan-interfaces'>;
type DhcpScopeBody = BodyOf<'/api/v1/firewall/gateways/{id}/dhcp/scopes'>;
type BridgeVlanBody = BodyOf<'/api/v1/firewall/gateways/{id}/bridge-vlans'>;

export type WritableKind = 'vlan_interface' | 'dhcp_scope' | 'bridge_vlan';

/** A form field: its body key, label, and how its text becomes the body's value. */
interface FieldSpec {
  key: string;
  label: string;
  type: 'text' | 'optional' | 'int' | 'list' | 'flag';
  description?: string;
  /** Part of the device's identity: fixed once the entry exists (shown, not editable). */
  fixed?: boolean;
}

interface KindSpec {
  noun: string;
  /** The live read path of the tab (its query key is shared with the tab's view). */
  path: 'vlan-interfaces' | 'dhcp/scopes' | 'bridge-vlans';
  fields: FieldSpec[];
  /** The write target of a row read live, or null where no write reaches it. */
  targetOf: (row: Record<string, unknown>) => string | null;
  summary: (row: Record<string, unknown>) => string;
  create: (gatewayId: string, body: Record<string, unknown>) => Promise<PendingChange>;
  update: (gatewayId: string, target: string, body: Record<string, unknown>) => Promise<PendingChange>;
  remove: (gatewayId: string, target: string) => Promise<PendingChange>;
}

const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');
const listText = (value: unknown) => (Array.isArray(value) ? value.map(text).join(', ') : '');
const stringTarget = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

export const WRITABLE: Record<WritableKind, KindSpec> = {
  vlan_interface: {
    noun: 'VLAN interface',
    path: 'vlan-interfaces',
    fields: [
      { key: 'parent', label: 'Parent port', type: 'text', fixed: true, description: 'As the device names it, e.g. vtnet1' },
      { key: 'tag', label: 'VLAN tag', type: 'int', fixed: true, description: '1-4094' },
      { key: 'name', label: 'Interface name', type: 'text', description: 'Letters, digits and _' },
      { key: 'ipv4', label: 'IPv4 address', type: 'optional', description: 'With its prefix length, e.g. 10.20.0.1/24' },
      { key: 'ipv6', label: 'IPv6 address', type: 'optional' },
      { key: 'description', label: 'Description', type: 'text' },
      { key: 'is_enabled', label: 'Enabled', type: 'flag' },
    ],
    targetOf: (row) => stringTarget(row.target),
    summary: (row) => `${text(row.parent)}.${text(row.tag)} ${text(row.name)}`,
    create: (id, body) => must(api.POST('/api/v1/firewall/gateways/{id}/vlan-interfaces', { params: { path: { id } }, body: body as VlanInterfaceBody })),
    update: (id, vendorId, body) =>
      must(api.PUT('/api/v1/firewall/gateways/{id}/vlan-interfaces/{vendorId}', { params: { path: { id, vendorId } }, body: body as VlanInterfaceBody })),
    remove: (id, vendorId) => must(api.DELETE('/api/v1/firewall/gateways/{id}/vlan-interfaces/{vendorId}', { params: { path: { id, vendorId } } })),
  },
  dhcp_scope: {
    noun: 'DHCP scope',
    path: 'dhcp/scopes',
    fields: [
      { key: 'interface', label: 'Interface', type: 'text', fixed: true, description: 'The interface id the device names it by, e.g. opt1' },
      { key: 'range_from', label: 'Range from', type: 'text' },
      { key: 'range_to', label: 'Range to', type: 'text' },
      { key: 'gateway', label: 'Gateway', type: 'optional', description: "Empty: the interface's own address" },
      { key: 'dns_servers', label: 'DNS servers', type: 'list', description: "Comma-separated, at most 4; empty: the device's resolver" },
      { key: 'is_enabled', label: 'Enabled', type: 'flag' },
    ],
    targetOf: (row) => stringTarget(row.target),
    summary: (row) => `${text(row.interface)} ${text(row.range_from)} – ${text(row.range_to)}`,
    create: (id, body) => must(api.POST('/api/v1/firewall/gateways/{id}/dhcp/scopes', { params: { path: { id } }, body: body as DhcpScopeBody })),
    update: (id, vendorId, body) =>
      must(api.PUT('/api/v1/firewall/gateways/{id}/dhcp/scopes/{vendorId}', { params: { path: { id, vendorId } }, body: body as DhcpScopeBody })),
    remove: (id, vendorId) => must(api.DELETE('/api/v1/firewall/gateways/{id}/dhcp/scopes/{vendorId}', { params: { path: { id, vendorId } } })),
  },
  bridge_vlan: {
    noun: 'bridge VLAN',
    path: 'bridge-vlans',
    fields: [
      { key: 'bridge', label: 'Bridge', type: 'text', description: 'e.g. bridge1 (RouterOS) or br-lan (OpenWrt)' },
      { key: 'vlan_id', label: 'VLAN ID', type: 'int', description: '1-4094' },
      { key: 'tagged', label: 'Tagged ports', type: 'list', description: 'Comma-separated' },
      { key: 'untagged', label: 'Untagged ports', type: 'list', description: 'Comma-separated' },
      { key: 'description', label: 'Description', type: 'text' },
    ],
    targetOf: (row) => stringTarget(row.write_target),
    summary: (row) => `${text(row.bridge)} VLAN ${text(row.vlan_id)}`,
    create: (id, body) => must(api.POST('/api/v1/firewall/gateways/{id}/bridge-vlans', { params: { path: { id } }, body: body as BridgeVlanBody })),
    update: (id, vendorId, body) =>
      must(api.PUT('/api/v1/firewall/gateways/{id}/bridge-vlans/{vendorId}', { params: { path: { id, vendorId } }, body: body as BridgeVlanBody })),
    remove: (id, vendorId) => must(api.DELETE('/api/v1/firewall/gateways/{id}/bridge-vlans/{vendorId}', { params: { path: { id, vendorId } } })),
  },
};

type FormValues = Record<string, string | boolean | number>;

/** The form's values of a row read live (or the blanks of a new entry). */
export function valuesOf(spec: KindSpec, row: Record<string, unknown> | null): FormValues {
  return Object.fromEntries(
    spec.fields.map((f): [string, string | boolean | number] => {
      const value = row?.[f.key];
      if (f.type === 'flag') return [f.key, row ? value !== false : true];
      if (f.type === 'list') return [f.key, listText(value)];
      if (f.type === 'int') return [f.key, typeof value === 'number' ? value : ''];
      return [f.key, text(value)];
    }),
  );
}

/** The write body of the form's values: lists split on commas, blank optionals null, numbers as numbers. */
export function bodyOf(spec: KindSpec, values: FormValues): Record<string, unknown> {
  return Object.fromEntries(
    spec.fields.map((f): [string, unknown] => {
      const value = values[f.key];
      if (f.type === 'flag') return [f.key, value === true];
      if (f.type === 'int') return [f.key, value === '' ? null : Number(value)];
      const raw = String(value ?? '').trim();
      if (f.type === 'list') return [f.key, raw === '' ? [] : raw.split(',').map((s) => s.trim()).filter(Boolean)];
      if (f.type === 'optional') return [f.key, raw === '' ? null : raw];
      return [f.key, raw];
    }),
  );
}

/** Where the staged change is reviewed and applied. */
function Staged({ change, onClose }: { change: PendingChange; onClose: () => void }) {
  return (
    <Alert color="blue" variant="light" role="status" title="Change staged" withCloseButton onClose={onClose} closeButtonLabel="Dismiss">
      <Text size="sm">
        {change.operation} of a {change.target_type.replace(/_/g, ' ')} is pending: review and apply it on{' '}
        <Anchor component={Link} to="/admin/firewall/pending">
          Pending changes
        </Anchor>
        {change.operation === 'delete' ? ' (a delete is applied only when confirmed)' : ''}.
      </Text>
    </Alert>
  );
}

/** The write controls of one live tab: the entries with Edit / Delete, and "Stage a new …". */
export function LiveObjectWrites({ gateway, kind }: { gateway: Gateway; kind: WritableKind }) {
  const spec = WRITABLE[kind];
  const [editing, setEditing] = useState<{ row: Record<string, unknown> | null; target: string | null } | null>(null);
  const [staged, setStaged] = useState<PendingChange | null>(null);
  // The same key as the tab's live view: the rows come from its cache.
  const rows = useQuery({
    queryKey: ['gateways', gateway.id, 'live', spec.path],
    retry: false,
    queryFn: async () => {
      const response = await fetch(`/api/v1/firewall/gateways/${encodeURIComponent(gateway.id)}/${spec.path}`, { credentials: 'same-origin' });
      const body: unknown = await response.json().catch(() => null);
      if (!response.ok) throw ApiProblem.from(response.status, body);
      return body;
    },
  });
  const items = ((rows.data as { items?: Record<string, unknown>[] } | undefined)?.items ?? []).filter((row) => spec.targetOf(row) !== null);
  const remove = useAction((target: string) => spec.remove(gateway.id, target), { invalidate: [['firewall', 'pending']], onSuccess: setStaged });
  return (
    <Stack gap="sm" component="section" aria-label={`Change ${spec.noun}s`}>
      <Group justify="space-between">
        <Title order={2} size="h4">
          Change {spec.noun}s
        </Title>
        <Button size="xs" onClick={() => setEditing({ row: null, target: null })}>
          Stage a new {spec.noun}
        </Button>
      </Group>
      {staged ? <Staged change={staged} onClose={() => setStaged(null)} /> : null}
      <ProblemAlert problem={remove.problem} />
      {items.length > 0 ? (
        <DataTable<Record<string, unknown>>
          caption={`${spec.noun}s Portcullis can change`}
          rows={items}
          rowKey={(row) => `${spec.targetOf(row) ?? ''}-${spec.summary(row)}`}
          empty=""
          columns={[
            { header: 'Entry', cell: (row) => spec.summary(row) },
            { header: 'Target', cell: (row) => <code>{spec.targetOf(row)}</code> },
            {
              header: 'Actions',
              cell: (row) => {
                const target = spec.targetOf(row) ?? '';
                return (
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="subtle" aria-label={`Edit ${spec.noun} ${spec.summary(row)}`} onClick={() => setEditing({ row, target })}>
                      Edit
                    </Button>
                    <Button
                      size="xs"
                      color="red"
                      variant="subtle"
                      aria-label={`Delete ${spec.noun} ${spec.summary(row)}`}
                      onClick={() => window.confirm(`Stage the delete of ${spec.noun} ${spec.summary(row)}?`) && remove.mutate(target)}
                    >
                      Delete
                    </Button>
                  </Group>
                );
              },
            },
          ]}
        />
      ) : null}
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing?.row ? `Edit ${spec.noun} ${spec.summary(editing.row)}` : `New ${spec.noun}`}
      >
        {editing ? (
          <WriteForm
            spec={spec}
            gatewayId={gateway.id}
            row={editing.row}
            target={editing.target}
            onDone={(change) => {
              setEditing(null);
              setStaged(change);
            }}
          />
        ) : null}
      </Modal>
    </Stack>
  );
}

function WriteForm({
  spec,
  gatewayId,
  row,
  target,
  onDone,
}: {
  spec: KindSpec;
  gatewayId: string;
  row: Record<string, unknown> | null;
  target: string | null;
  onDone: (change: PendingChange) => void;
}) {
  const form = useForm<FormValues>({ initialValues: valuesOf(spec, row) });
  const submit = useApiForm(
    form,
    (values) => (target === null ? spec.create(gatewayId, bodyOf(spec, values)) : spec.update(gatewayId, target, bodyOf(spec, values))),
    { invalidate: [['firewall', 'pending']], onSuccess: onDone },
  );
  return (
    <form onSubmit={submit.onSubmit} noValidate aria-label={`${row ? 'Edit' : 'New'} ${spec.noun}`}>
      <Stack>
        {spec.fields.map((f) => {
          const disabled = row !== null && f.fixed === true;
          if (f.type === 'flag') return <Checkbox key={f.key} label={f.label} {...form.getInputProps(f.key, { type: 'checkbox' })} />;
          if (f.type === 'int') return <NumberInput key={f.key} label={f.label} description={f.description} disabled={disabled} {...form.getInputProps(f.key)} />;
          return <TextInput key={f.key} label={f.label} description={f.description} disabled={disabled} {...form.getInputProps(f.key)} />;
        })}
        <ProblemAlert problem={submit.problem} />
        <Group>
          <Button type="submit" loading={submit.pending}>
            Stage {row ? 'change' : spec.noun}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
