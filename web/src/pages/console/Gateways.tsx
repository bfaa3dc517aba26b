/**
 * Gateways: the list (vendor and its maturity tier; the name opens the gateway's live views) with a connection test per row, and "Add gateway" that tests before it saves. When the
 * test fails on the certificate (PFS003) the page shows the certificate the gateway presented and asks
 * "Trust this certificate?"; trusting pins its SHA-256 fingerprint and tests again.
 */
import { Alert, Anchor, Badge, Button, Code, Group, Modal, PasswordInput, Select, Stack, Switch, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { Gateway, GatewayTest } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { toProblem, useAction } from '../../lib/forms';
import { keys, nameOf, optionsOf, useGateways, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { MaturityBadge, useVendors } from './Gateway';

export function GatewaysPage() {
  const me = useMe();
  const gateways = useGateways();
  const sites = useSites();
  const vendors = useVendors();
  const [adding, setAdding] = useState(false);
  const [results, setResults] = useState<Record<string, GatewayTest>>({});
  const test = useAction(
    (id: string) => must(api.POST('/api/v1/firewall/gateways/{id}/test', { params: { path: { id } }, body: {} })),
    { onSuccess: (r, id) => setResults((all) => ({ ...all, [id]: r })) },
  );
  const remove = useAction((id: string) => must(api.DELETE('/api/v1/firewall/gateways/{id}', { params: { path: { id } } })), {
    invalidate: [keys.gateways],
  });
  const mayAdd = can(me.data, 'gateway.manage_topology');
  return (
    <Page title="Gateways" actions={mayAdd ? <Button onClick={() => setAdding(true)}>Add gateway</Button> : null}>
      <ProblemAlert problem={test.problem ?? remove.problem} />
      <Loaded query={gateways}>
        {(data) => (
          <DataTable<Gateway>
            caption="Firewalls Portcullis manages"
            rows={data.items}
            rowKey={(g) => g.id}
            empty="No gateways yet. Add one to start managing a firewall."
            columns={[
              {
                header: 'Name',
                cell: (g) => (
                  <Anchor component={Link} to={`/admin/gateways/${g.id}`}>
                    {g.name}
                  </Anchor>
                ),
              },
              { header: 'Site', cell: (g) => nameOf(sites.data?.items, g.site_id, (s) => s.name) },
              {
                header: 'Vendor',
                cell: (g) => {
                  const vendor = vendors.data?.items.find((v) => v.id === g.vendor);
                  return (
                    <Group gap={6} wrap="nowrap">
                      {vendor?.name ?? g.vendor}
                      <MaturityBadge vendor={vendor} />
                    </Group>
                  );
                },
              },
              { header: 'URL', cell: (g) => <Code>{g.url}</Code> },
              { header: 'Certificate', cell: (g) => trustOf(g) },
              {
                header: 'Status',
                cell: (g) => {
                  const r = results[g.id];
                  if (!r) return <Text size="sm" c="dimmed">not tested</Text>;
                  return r.ok ? (
                    <Badge color="green">online · {r.version}</Badge>
                  ) : (
                    <Badge color="red" title={r.error?.message}>
                      offline · {r.error?.code}
                    </Badge>
                  );
                },
              },
              {
                header: 'Actions',
                cell: (g) =>
                  can(me.data, 'gateway.manage_topology', g.site_id) ? (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" variant="light" onClick={() => test.mutate(g.id)} aria-label={`Test gateway ${g.name}`}>
                        Test
                      </Button>
                      <Button
                        size="xs"
                        color="red"
                        variant="subtle"
                        aria-label={`Delete gateway ${g.name}`}
                        onClick={() => window.confirm(`Delete gateway ${g.name}?`) && remove.mutate(g.id)}
                      >
                        Delete
                      </Button>
                    </Group>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
      {Object.entries(results)
        .filter(([, r]) => !r.ok && r.error)
        .map(([id, r]) => (
          <Alert key={id} color="red" title={`${nameOf(gateways.data?.items, id, (g) => g.name)}: ${r.error?.code}`}>
            {r.error?.message}
          </Alert>
        ))}
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add gateway" size="lg">
        <AddGateway sites={optionsOf(sites.data?.items, (s) => s.name)} onDone={() => setAdding(false)} />
      </Modal>
    </Page>
  );
}

function trustOf(g: Gateway) {
  if (g.fingerprint_sha256) return <Text size="xs" ff="monospace" title={g.fingerprint_sha256}>pinned {g.fingerprint_sha256.slice(0, 11)}…</Text>;
  if (g.ca_pem) return 'own CA';
  return g.verify_ssl ? 'system CAs' : <Badge color="red">not verified</Badge>;
}

/** Every credential field a vendor's shape may list (GET /api/v1/firewall/vendors), with its label. */
const CREDENTIAL_LABELS: Record<string, string> = {
  api_key: 'API key',
  api_secret: 'API secret',
  username: 'Username',
  password: 'Password',
  ssh_private_key: 'SSH private key (PEM)',
};
type CredentialValues = { api_key: string; api_secret: string; username: string; password: string; ssh_private_key: string };

/** The credential inputs of a vendor's shape; secrets are password inputs, the SSH key a text area. */
function CredentialFields({ fields, input }: { fields: readonly string[]; input: (field: keyof CredentialValues) => object }) {
  return (
    <>
      {fields.map((field) => {
        const label = CREDENTIAL_LABELS[field] ?? field;
        const props = input(field as keyof CredentialValues);
        if (field === 'username') return <TextInput key={field} label={label} required autoComplete="off" {...props} />;
        if (field === 'ssh_private_key') {
          return <Textarea key={field} label={label} description="Stored encrypted; never shown again" required autosize minRows={3} maxRows={8} ff="monospace" {...props} />;
        }
        return <PasswordInput key={field} label={label} description="Stored encrypted; never shown again" required autoComplete="new-password" {...props} />;
      })}
    </>
  );
}

function AddGateway({ sites, onDone }: { sites: { value: string; label: string }[]; onDone: () => void }) {
  const vendors = useVendors();
  const form = useForm({
    initialValues: {
      name: '',
      site_id: sites[0]?.value ?? '',
      vendor: '',
      url: 'https://',
      api_key: '',
      api_secret: '',
      username: '',
      password: '',
      ssh_private_key: '',
      verify_ssl: true,
      ca_pem: '',
      fingerprint_sha256: '',
    },
    validate: {
      name: (v) => (v.trim() ? null : 'Name the gateway'),
      site_id: (v) => (v ? null : 'Pick a site'),
      url: (v) => (/^https?:\/\/.+/.test(v) ? null : 'An http(s):// URL of the firewall'),
    },
  });
  const vendorList = vendors.data?.items ?? [];
  const vendor = vendorList.find((v) => v.id === form.getValues().vendor) ?? vendorList[0];
  const fields = (vendor?.credentials.fields ?? []) as (keyof CredentialValues)[];
  const [tested, setTested] = useState<GatewayTest | null>(null);
  const [problem, setProblem] = useState<ReturnType<typeof toProblem> | null>(null);
  const [busy, setBusy] = useState(false);
  const connection = () => {
    const v = form.getValues();
    return {
      vendor: vendor?.id ?? v.vendor,
      url: v.url.trim(),
      // Only the chosen vendor's credential fields: the API refuses another shape's field by name.
      ...Object.fromEntries(fields.map((field) => [field, v[field]])),
      verify_ssl: v.verify_ssl,
      ca_pem: v.ca_pem.trim() || null,
      fingerprint_sha256: v.fingerprint_sha256.trim() || null,
    };
  };
  const showError = (err: unknown) => {
    const p = toProblem(err);
    const field = p.fieldIn(Object.keys(form.getValues()));
    if (field) form.setFieldError(field, p.message);
    else setProblem(p);
  };
  const runTest = async () => {
    if (form.validate().hasErrors) return;
    const blank = fields.find((field) => !form.getValues()[field].trim());
    if (blank) {
      form.setFieldError(blank, `The ${CREDENTIAL_LABELS[blank] ?? blank} of ${vendor?.name ?? 'the vendor'}`);
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      setTested(await must(api.POST('/api/v1/firewall/gateways/test', { body: connection() })));
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  };
  const trust = async (fingerprint: string) => {
    form.setFieldValue('fingerprint_sha256', fingerprint);
    setBusy(true);
    try {
      setTested(await must(api.POST('/api/v1/firewall/gateways/test', { body: { ...connection(), fingerprint_sha256: fingerprint } })));
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  };
  const save = useAction(
    () => must(api.POST('/api/v1/firewall/gateways', { body: { name: form.getValues().name.trim(), site_id: form.getValues().site_id, ...connection() } })),
    { invalidate: [keys.gateways], onSuccess: onDone },
  );
  // Any change to the connection invalidates the last test: saving needs a passing test of what is saved.
  form.watch('url', () => setTested(null));
  form.watch('vendor', () => setTested(null));
  form.watch('api_key', () => setTested(null));
  form.watch('api_secret', () => setTested(null));
  form.watch('username', () => setTested(null));
  form.watch('password', () => setTested(null));
  form.watch('ssh_private_key', () => setTested(null));
  return (
    <form
      noValidate
      onSubmit={form.onSubmit(() => {
        save.mutate(undefined, { onError: showError });
      })}
    >
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <Select label="Site" data={sites} required allowDeselect={false} {...form.getInputProps('site_id')} />
        <Select
          label="Vendor"
          data={vendorList.map((v) => ({ value: v.id, label: `${v.name} (${v.api}, ${v.maturity})` }))}
          allowDeselect={false}
          {...form.getInputProps('vendor')}
          value={vendor?.id ?? null}
        />
        <TextInput label="URL" description={`The ${vendor?.name ?? 'firewall'} management address, e.g. https://fw.example.net`} required {...form.getInputProps('url')} />
        <CredentialFields fields={fields} input={(field) => form.getInputProps(field)} />
        <Switch label="Verify the certificate" {...form.getInputProps('verify_ssl', { type: 'checkbox' })} />
        <Textarea label="CA certificate (PEM, optional)" autosize minRows={2} maxRows={6} {...form.getInputProps('ca_pem')} />
        <TextInput label="Pinned certificate fingerprint (SHA-256, optional)" ff="monospace" {...form.getInputProps('fingerprint_sha256')} />
        {tested?.ok ? (
          <Alert color="green" title="Connection works" role="status">
            {tested.version} · API {tested.api_version}
          </Alert>
        ) : null}
        {tested && !tested.ok && tested.error ? (
          <Alert color="red" title={`Test failed: ${tested.error.code}`} role="alert">
            {tested.error.message}
          </Alert>
        ) : null}
        {tested?.certificate ? (
          <Alert color="yellow" title="Trust this certificate?" role="alert">
            <Stack gap={4}>
              <Text size="sm">The gateway presented this certificate. Trust it only if the fingerprint matches the one on the firewall (System › Cert Manager).</Text>
              <Text size="sm">Subject: {tested.certificate.subject}</Text>
              <Text size="sm">Issuer: {tested.certificate.issuer}{tested.certificate.self_signed ? ' (self-signed)' : ''}</Text>
              <Text size="sm">Valid until: {new Date(tested.certificate.valid_to).toLocaleDateString()}</Text>
              <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }} data-testid="presented-fingerprint">
                {tested.certificate.fingerprint_sha256}
              </Text>
              <Group>
                <Button size="sm" onClick={() => void trust(tested.certificate?.fingerprint_sha256 ?? '')} loading={busy}>
                  Trust and pin this certificate
                </Button>
              </Group>
            </Stack>
          </Alert>
        ) : null}
        <ProblemAlert problem={problem} />
        <Group>
          <Button variant="light" onClick={() => void runTest()} loading={busy}>
            Test connection
          </Button>
          <Button type="submit" disabled={!tested?.ok} loading={save.isPending}>
            Save gateway
          </Button>
        </Group>
        {!tested?.ok ? <Text size="xs" c="dimmed">Saving is possible once the connection test passes.</Text> : null}
      </Stack>
    </form>
  );
}
