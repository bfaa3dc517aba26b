/**
 * Pending changes (live writes staged for review): the list with filters, one change's review (redacted payload,
 * the semantic preview when the server computed one, the lock-out verdict, the outcome of an apply), apply /
 * discard / revert, and "apply all pending" per gateway (one device apply). Staging a firewall rule here offers
 * the lock-out override the write routes take; apply itself only takes `confirmed` (deletes, reboot, halt).
 */
import { Alert, Badge, Button, Checkbox, Code, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { PendingChange, PendingStatus } from '../../api/changes-types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { LIVE } from '../../lib/live';
import { nameOf, optionsOf, useGateways } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';

/** Under the `firewall` prefix, so a refresh of firewall data on a firewall event (applied, failed) reaches it. */
const pendingKey = ['firewall', 'pending'] as const;

const STATUS_COLOR: Record<PendingStatus, string> = {
  pending: 'blue',
  applying: 'yellow',
  applied: 'green',
  failed: 'red',
  failed_verification: 'orange',
  discarded: 'gray',
  reverted: 'grape',
};
const STATUSES = Object.keys(STATUS_COLOR) as PendingStatus[];

export function StatusBadge({ change }: { change: PendingChange }) {
  const code = change.error ? ` · ${change.error.vendor_code ?? change.error.code}` : '';
  return (
    <Badge color={STATUS_COLOR[change.status]} variant="light" data-testid={`status-${change.id}`}>
      {change.status.replace('_', ' ')}
      {code}
    </Badge>
  );
}

const targetOf = (c: PendingChange) => `${c.target_type.replace(/_/g, ' ')} ${c.target_vendor_id ?? ''}`.trim();

export function ChangesPage() {
  const me = useMe();
  const gateways = useGateways();
  const [status, setStatus] = useState<PendingStatus | null>('pending');
  const [deviceId, setDeviceId] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [staging, setStaging] = useState(false);
  const list = useQuery({
    queryKey: [...pendingKey, status, deviceId],
    ...LIVE,
    queryFn: () =>
      must(
        api.GET('/api/v1/firewall/pending', {
          params: { query: { limit: 200, ...(status ? { status } : {}), ...(deviceId ? { device_id: deviceId } : {}) } },
        }),
      ),
  });
  const gatewayName = (id: string) => nameOf(gateways.data?.items, id, (g) => g.name);
  const mayWrite = can(me.data, 'firewall.manage_rules');
  return (
    <Page title="Pending changes" actions={mayWrite ? <Button onClick={() => setStaging(true)}>Stage a firewall rule</Button> : null}>
      <Group align="end">
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={STATUSES.map((s) => ({ value: s, label: s.replace('_', ' ') }))}
          value={status}
          onChange={(v) => setStatus(v)}
        />
        <Select label="Gateway" placeholder="Any gateway" clearable data={optionsOf(gateways.data?.items, (g) => g.name)} value={deviceId} onChange={setDeviceId} />
      </Group>
      <Loaded query={list}>
        {(data) => (
          <>
            {mayWrite ? <BatchApply changes={data.items} gatewayName={gatewayName} /> : null}
            <DataTable<PendingChange>
              caption="Live writes staged for review, newest first"
              rows={data.items}
              rowKey={(c) => c.id}
              empty="No changes match. Writes staged on a gateway wait here for review."
              columns={[
                { header: 'Staged', cell: (c) => formatTime(c.created_at) },
                { header: 'Gateway', cell: (c) => gatewayName(c.device_id) },
                { header: 'Change', cell: (c) => `${c.operation} ${targetOf(c)}` },
                { header: 'Status', cell: (c) => <StatusBadge change={c} /> },
                {
                  header: 'Review',
                  cell: (c) => (
                    <Button size="xs" variant="light" onClick={() => setOpen(c.id)} aria-label={`Review ${c.operation} ${targetOf(c)} on ${gatewayName(c.device_id)}`}>
                      Review
                    </Button>
                  ),
                },
              ]}
            />
          </>
        )}
      </Loaded>
      <Modal opened={open !== null} onClose={() => setOpen(null)} title="Review change" size="xl">
        {open ? <ChangeReview id={open} gatewayName={gatewayName} mayWrite={mayWrite} onReverted={setOpen} /> : null}
      </Modal>
      <Modal opened={staging} onClose={() => setStaging(false)} title="Stage a firewall rule" size="lg">
        <StageRule gateways={optionsOf(gateways.data?.items, (g) => g.name)} onDone={() => setStaging(false)} />
      </Modal>
    </Page>
  );
}

/** "Apply all pending" per gateway: the server applies them with one device apply, all or none. */
function BatchApply({ changes, gatewayName }: { changes: PendingChange[]; gatewayName: (id: string) => string }) {
  const [confirmed, setConfirmed] = useState(false);
  const apply = useAction(
    (ids: string[]) => must(api.POST('/api/v1/firewall/pending/apply', { params: { query: { confirmed } }, body: { ids } })),
    { invalidate: [pendingKey] },
  );
  const byGateway = new Map<string, string[]>();
  for (const c of changes.filter((c) => c.status === 'pending')) byGateway.set(c.device_id, [...(byGateway.get(c.device_id) ?? []), c.id]);
  if (byGateway.size === 0) return null;
  const needsConfirmation = changes.some((c) => c.status === 'pending' && c.requires_confirmation);
  return (
    <Stack gap="xs">
      <Group>
        {[...byGateway].map(([gateway, ids]) => (
          <Button key={gateway} variant="light" loading={apply.isPending} onClick={() => apply.mutate(ids)}>
            Apply {ids.length} pending on {gatewayName(gateway)}
          </Button>
        ))}
      </Group>
      {needsConfirmation ? (
        <Checkbox
          label="Confirm the deletes, reboots and halts among them"
          checked={confirmed}
          onChange={(e) => setConfirmed(e.currentTarget.checked)}
          error={apply.problem?.field === 'confirmed' ? apply.problem.message : undefined}
          aria-invalid={apply.problem?.field === 'confirmed'}
        />
      ) : null}
      {apply.problem && apply.problem.field !== 'confirmed' ? <ProblemAlert problem={apply.problem} /> : null}
      {apply.data ? (
        <Text size="sm" role="status">
          Applied together: {apply.data.items.map((c) => c.status).join(', ')}
        </Text>
      ) : null}
    </Stack>
  );
}

function ChangeReview({
  id,
  gatewayName,
  mayWrite,
  onReverted,
}: {
  id: string;
  gatewayName: (id: string) => string;
  mayWrite: boolean;
  onReverted: (id: string) => void;
}) {
  const change = useQuery({
    queryKey: [...pendingKey, 'one', id],
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/firewall/pending/{id}', { params: { path: { id } } })),
  });
  const [confirmed, setConfirmed] = useState(false);
  const path = { params: { path: { id } } };
  const apply = useAction(() => must(api.POST('/api/v1/firewall/pending/{id}/apply', { ...path, params: { ...path.params, query: { confirmed } } })), {
    invalidate: [pendingKey],
  });
  const discard = useAction(() => must(api.POST('/api/v1/firewall/pending/{id}/discard', path)), { invalidate: [pendingKey] });
  const revert = useAction(() => must(api.POST('/api/v1/firewall/pending/{id}/revert', path)), {
    invalidate: [pendingKey],
    onSuccess: (staged) => onReverted(staged.id),
  });
  const problem = [apply.problem, discard.problem, revert.problem].find((p) => p !== null) ?? null;
  return (
    <Loaded query={change}>
      {(c) => (
        <Stack gap="sm">
          <Group gap="sm">
            <Text fw={600}>
              {c.operation} {targetOf(c)} on {gatewayName(c.device_id)}
            </Text>
            <StatusBadge change={c} />
          </Group>
          <Text size="sm" c="dimmed">
            Staged {formatTime(c.created_at)}
            {c.applied_at ? ` · applied ${formatTime(c.applied_at)}` : ''}
            {c.reverts_id ? ` · reverts ${c.reverts_id.slice(0, 8)}` : ''}
          </Text>
          <Outcome change={c} />
          <Preview preview={c.preview} />
          {c.override_lockout ? (
            <Alert color="orange" title="Lock-out check overridden">
              {c.override_reason}
            </Alert>
          ) : null}
          <Title order={3} size="h5">
            Payload (secrets redacted)
          </Title>
          <Code block data-testid="payload">
            {JSON.stringify(c.payload, null, 2)}
          </Code>
          {mayWrite ? (
            <Stack gap="xs">
              {c.status === 'pending' && c.requires_confirmation ? (
                <Checkbox
                  label={`Confirmed: ${c.operation} on the gateway`}
                  checked={confirmed}
                  onChange={(e) => setConfirmed(e.currentTarget.checked)}
                  error={apply.problem?.field === 'confirmed' ? apply.problem.message : undefined}
                  aria-invalid={apply.problem?.field === 'confirmed'}
                />
              ) : null}
              {problem && problem.field !== 'confirmed' ? <ProblemAlert problem={problem} /> : null}
              <Group>
                {c.status === 'pending' ? (
                  <>
                    <Button onClick={() => apply.mutate(undefined)} loading={apply.isPending}>
                      Apply change
                    </Button>
                    <Button color="red" variant="light" onClick={() => discard.mutate(undefined)} loading={discard.isPending}>
                      Discard change
                    </Button>
                  </>
                ) : null}
                {c.status === 'applied' ? (
                  <Button variant="light" onClick={() => revert.mutate(undefined)} loading={revert.isPending}>
                    Stage a revert
                  </Button>
                ) : null}
              </Group>
            </Stack>
          ) : null}
        </Stack>
      )}
    </Loaded>
  );
}

interface Difference {
  field: string;
  expected: unknown;
  actual: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** What an apply did: the vendor's error code, or what the read-back found different. */
export function Outcome({ change }: { change: PendingChange }) {
  const verification = isRecord(change.verification) ? change.verification : null;
  const differences = Array.isArray(verification?.differences) ? (verification.differences as Difference[]) : [];
  const stillPending = Array.isArray(verification?.pending_subsystems) ? (verification.pending_subsystems as string[]) : [];
  return (
    <>
      {change.error ? (
        <Alert color="red" title={`${change.error.code}${change.error.vendor_code ? ` (${change.error.vendor_code})` : ''}`} role="alert">
          {change.error.message}
        </Alert>
      ) : null}
      {differences.length > 0 ? (
        <DataTable<Difference>
          caption="What the read-back found different"
          rows={differences}
          rowKey={(d) => d.field}
          empty=""
          columns={[
            { header: 'Field', cell: (d) => d.field },
            { header: 'Expected', cell: (d) => <Code>{show(d.expected)}</Code> },
            { header: 'On the device', cell: (d) => <Code>{show(d.actual)}</Code> },
          ]}
        />
      ) : null}
      {stillPending.length > 0 ? <Text size="sm">Subsystems still waiting for an apply: {stillPending.join(', ')}</Text> : null}
      {verification && 'restored' in verification ? (
        <Text size="sm">Before-image {verification.restored ? 'restored' : 'NOT fully restored — check the device'}.</Text>
      ) : null}
    </>
  );
}

const LOCKOUT: Record<string, { color: string; text: string }> = {
  safe: { color: 'green', text: 'the management path stays open' },
  cut: { color: 'red', text: 'this change cuts the management path' },
  unknown: { color: 'yellow', text: 'whether the management path stays open depends on run-time contents' },
};

/** The semantic preview: newly passing / newly blocked regions with the deciding rules before and after. */
export function Preview({ preview }: { preview: unknown }) {
  if (!isRecord(preview)) {
    return (
      <Text size="sm" c="dimmed">
        No semantic preview for this kind of change.
      </Text>
    );
  }
  if (preview.available !== true) {
    return (
      <Alert color="gray" title="No semantic preview">
        {typeof preview.reason === 'string' ? preview.reason : 'The server computed none.'}
      </Alert>
    );
  }
  const lockout = LOCKOUT[String(preview.lockout)] ?? LOCKOUT.unknown;
  const regions = Object.values(preview)
    .filter(Array.isArray)
    .flat()
    .filter((r): r is Record<string, unknown> => isRecord(r) && typeof r.change === 'string');
  return (
    <Stack gap="xs">
      <Title order={3} size="h5">
        Semantic preview
      </Title>
      <Badge color={lockout?.color} variant="light">
        Lock-out check: {lockout?.text}
      </Badge>
      {Array.isArray(preview.widens)
        ? preview.widens.filter(isRecord).map((w) => (
            <Alert key={String(w.alias)} color="orange" title={`This change widens what ${String(w.label)} opens`}>
              An address on alias {String(w.alias)} reaches {String(w.region_count)} more region(s) after this change than
              before.
            </Alert>
          ))
        : null}
      {regions.length === 0 ? (
        <Text size="sm">The change passes and blocks exactly what the gateway does today.</Text>
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table verticalSpacing="xs">
            <Table.Caption>Traffic whose verdict changes</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                {['Change', 'Where', 'From', 'To', 'Before', 'After'].map((h) => (
                  <Table.Th key={h} scope="col">
                    {h}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {regions.map((r, i) => (
                <Table.Tr key={i}>
                  <Table.Td>
                    <Badge color={r.change === 'newly-pass' ? 'green' : r.change === 'newly-block' ? 'red' : 'gray'} variant="light">
                      {String(r.change)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {show(r.interface)} {show(r.direction)} {Array.isArray(r.protocols) ? r.protocols.join(',') : ''}
                  </Table.Td>
                  <Table.Td>{addressText(r.source, r.sourcePorts)}</Table.Td>
                  <Table.Td>{addressText(r.destination, r.destinationPorts)}</Table.Td>
                  <Table.Td>{sideText(r.before)}</Table.Td>
                  <Table.Td>{sideText(r.after)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

function addressText(addresses: unknown, ports: unknown): string {
  const a = Array.isArray(addresses) ? addresses.join(', ') : 'any';
  return Array.isArray(ports) ? `${a} port ${ports.join(',')}` : a;
}

/** A verdict and the rule that gave it (`Side` of the policy diff). */
function sideText(side: unknown): string {
  if (!isRecord(side)) return '—';
  const rule = isRecord(side.rule) ? `${show(side.rule.tab)} #${show(side.rule.position)} ${show(side.rule.descr)}` : 'default';
  return `${show(side.verdict)} (${rule})`;
}

/** Stages one firewall rule on a gateway (the live-write route without force). */
function StageRule({ gateways, onDone }: { gateways: { value: string; label: string }[]; onDone: () => void }) {
  const form = useForm({
    initialValues: {
      gateway_id: gateways[0]?.value ?? '',
      action: 'allow',
      interface: 'lan',
      protocol: 'tcp',
      source_address: 'any',
      dest_address: 'any',
      dest_port: '',
      description: '',
      override_lockout: false,
      override_reason: '',
    },
    validate: { gateway_id: (v) => (v ? null : 'Pick a gateway'), interface: (v) => (v.trim() ? null : 'The interface, e.g. lan') },
  });
  const submit = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/firewall/gateways/{id}/firewall-rules', {
          params: {
            path: { id: v.gateway_id },
            query: v.override_lockout ? { override_lockout: true, override_reason: v.override_reason } : {},
          },
          body: {
            action: v.action as 'allow' | 'deny' | 'reject',
            interface: v.interface.trim(),
            protocol: v.protocol as 'any' | 'tcp' | 'udp' | 'tcp/udp' | 'icmp',
            source_address: v.source_address.trim(),
            dest_address: v.dest_address.trim(),
            dest_port: v.dest_port.trim() || null,
            ...(v.description.trim() ? { description: v.description.trim() } : {}),
          },
        }),
      ),
    { invalidate: [pendingKey], onSuccess: onDone },
  );
  return (
    <form noValidate onSubmit={submit.onSubmit}>
      <Stack>
        <Select label="Gateway" data={gateways} required allowDeselect={false} {...form.getInputProps('gateway_id')} />
        <Select label="Action" data={['allow', 'deny', 'reject']} allowDeselect={false} {...form.getInputProps('action')} />
        <TextInput label="Interface" required {...form.getInputProps('interface')} />
        <Select label="Protocol" data={['any', 'tcp', 'udp', 'tcp/udp', 'icmp']} allowDeselect={false} {...form.getInputProps('protocol')} />
        <TextInput label="Source address" {...form.getInputProps('source_address')} />
        <TextInput label="Destination address" {...form.getInputProps('dest_address')} />
        <TextInput label="Destination port" description="A port, range or alias; empty for any" {...form.getInputProps('dest_port')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Checkbox
          label="Override the lock-out check"
          description="Stage it even if the preview says it cuts the management path"
          {...form.getInputProps('override_lockout', { type: 'checkbox' })}
        />
        {form.getValues().override_lockout ? <TextInput label="Override reason" required {...form.getInputProps('override_reason')} /> : null}
        <ProblemAlert problem={submit.problem} />
        <Group>
          <Button type="submit" loading={submit.pending}>
            Stage rule
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
